"""Generic re-ID folders: ``<root>/<identity>/*.jpg|png``, one sub-folder per person."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from diaflow_core.data.market import IMAGE_EXTENSIONS, parse_market_name
from diaflow_core.errors import DataError

__all__ = ["GenericRecord", "read_identity_folders"]


@dataclass(frozen=True)
class GenericRecord:
    """One image of a generic re-ID folder."""

    path: Path
    pid: int
    camera: int  # -1 when the file name carries no Market-style camera
    identity: str  # the sub-folder name


def read_identity_folders(root: str | os.PathLike[str]) -> list[GenericRecord]:
    """Records of every image in ``<root>/<identity>/``, sorted by (identity, file name).

    Convention: when every identity folder name is an integer, pid = that integer; otherwise pids are
    0, 1, ... in sorted folder-name order. The camera is parsed from Market-1501 style file names, else -1.
    Files directly under root and deeper folders are ignored.
    """
    base = Path(root)
    if not base.is_dir():
        raise DataError(f"{base}: re-ID image folder not found")
    folders = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
    numeric = bool(folders) and all(p.name.lstrip("-").isdigit() for p in folders)
    records: list[GenericRecord] = []
    for rank, folder in enumerate(folders):
        pid = int(folder.name) if numeric else rank
        for f in sorted(folder.iterdir()):
            if not (f.is_file() and f.name.lower().endswith(IMAGE_EXTENSIONS)):
                continue
            try:
                camera = parse_market_name(f.name).camera
            except DataError:
                camera = -1
            records.append(GenericRecord(path=f, pid=pid, camera=camera, identity=folder.name))
    if not records:
        raise DataError(f"{base}: no images found in <root>/<identity>/*.jpg|png")
    return records
