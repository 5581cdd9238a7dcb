"""Whole-file replacement that a crash cannot tear.

Convention: the new content goes to a hidden temporary file in the target's folder (same file system, so the
final rename is atomic), is flushed to disk, then ``os.replace``-d over the target. Readers see the old file
or the new one, never a mix; on any failure the temporary file is removed and the old file is left as it was.
The published file gets the usual ``0666 & ~umask`` mode (``mkstemp`` would leave it private).

Reports, checkpoints, recipes and manifests are *replaced* this way; dataset images, which must never
overwrite anything, are *published* with ``reid_augment.fsio.publish_bytes`` instead.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

__all__ = ["FILE_MODE", "atomic_replace", "csv_text", "replace_bytes", "replace_text", "report_json"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()


@contextmanager
def atomic_replace(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; on a clean exit it is synced and renamed over ``path``.

    Use it for writers that want a file name (``torch.save``, ``safetensors``' ``save_file``, ``np.savez``).
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def replace_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically (creating its folder); returns the path."""
    with atomic_replace(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def replace_text(path: str | os.PathLike[str], text: str) -> Path:
    """Replace ``path`` with UTF-8 ``text`` atomically (creating its folder); returns the path."""
    return replace_bytes(path, text.encode("utf-8"))


def report_json(result: object, path: str | os.PathLike[str] | None = None) -> str:
    """``result`` as indented JSON: printed, and written atomically to ``path`` when given (the analysis
    scripts' report); returns the text."""
    text = json.dumps(result, indent=1)
    print(text, flush=True)
    if path is not None:
        replace_text(path, text + "\n")
    return text


def csv_text(rows: Iterable[Mapping[str, object]], fields: Sequence[str]) -> str:
    """CSV text with a header row of ``fields``; keys a row has beyond them are ignored, missing ones left empty.

    Small tables (manifests, track lists) are rebuilt whole and then ``replace_text``-ed, so a reader never
    sees a half-written row.
    """
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(fields), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
