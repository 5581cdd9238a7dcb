"""The manifest: one CSV row per generated file, appended as the run goes.

Rows are appended in batches, each batch flushed and fsync'ed, so an interruption loses at most the batch
being written; a torn last line (power cut mid-write) is ignored on reading and the next run completes it.
The manifest is also what a rerun reads to skip work already done.

Convention: ``target_pose`` is JSON ``[[x, y], ...]`` (18 joints, 0.1 px, ``null`` = missing) in the
generated image's pixels.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from diaflow_core.errors import DataError

__all__ = ["MANIFEST_COLUMNS", "ManifestWriter", "decode_pose", "encode_pose", "read_manifest"]

MANIFEST_COLUMNS: tuple[str, ...] = (
    "generated",  # path relative to the output root
    "source",  # the source image as given
    "pid",
    "camera",
    "index",  # sample number NNN of this source
    "target_pose",
    "pose_origin",  # where the target pose came from: bank:12/front, dataset:NAME, video:FILE#f40, ...
    "source_pose_backend",
    "flow",
    "weights_hash",
    "seed",
)


def encode_pose(kp: np.ndarray) -> str:
    """(18, 2) pose -> compact JSON; NaN joints -> null."""
    return json.dumps(
        [None if np.isnan(p).any() else [round(float(p[0]), 1), round(float(p[1]), 1)] for p in kp],
        separators=(",", ":"),
    )


def decode_pose(text: str) -> np.ndarray:
    """Inverse of ``encode_pose``."""
    joints = json.loads(text)
    return np.array([[np.nan, np.nan] if j is None else j for j in joints], dtype=np.float32)


def read_manifest(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """All complete rows of a manifest ([] when the file does not exist).

    A last line without its newline (a torn write) is dropped; a wrong header raises DataError.
    """
    path = Path(path)
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    if not text:
        return []
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != MANIFEST_COLUMNS:
        raise DataError(f"{path}: not a reid-augment manifest (header {reader.fieldnames})")
    return [row for row in reader if row.get("generated") and None not in row.values()]


class ManifestWriter:
    """Appends rows to ``path``; writes the header when the file is new, repairs a torn last line."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        if not new:
            read_manifest(self.path)  # header check
            self._trim_torn_line()
        self._file = self.path.open("a", encoding="utf-8", newline="")
        self._writer = csv.DictWriter(self._file, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        if new:
            self._writer.writeheader()
            self._sync()

    def _trim_torn_line(self) -> None:
        data = self.path.read_bytes()
        if not data.endswith(b"\n"):
            with self.path.open("r+b") as f:
                f.truncate(data.rfind(b"\n") + 1)

    def _sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())

    def append(self, rows: Iterable[Mapping[str, object]]) -> None:
        """Write ``rows`` (keys = ``MANIFEST_COLUMNS``) and make them durable before returning."""
        for row in rows:
            self._writer.writerow({k: row[k] for k in MANIFEST_COLUMNS})
        self._sync()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> ManifestWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
