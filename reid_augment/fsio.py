"""Atomic, never-overwriting file writes for dataset folders.

Convention: every write goes to a hidden temporary file in the destination folder, then is published under
its final name with ``os.link`` (which fails when the name exists, so an existing file is never replaced) or,
where hard links are not supported, ``os.replace`` after an existence check. A crash leaves at most a hidden
``.*.tmp`` file behind, never a half-written image.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from diaflow_core.errors import DataError
from diaflow_core.fileio import FILE_MODE

__all__ = ["OriginalsMode", "carry_file", "encode_image", "publish_bytes", "publish_file"]

OriginalsMode = Literal["copy", "link", "none"]


def _publish(tmp: str, dest: Path) -> bool:
    """Move ``tmp`` to ``dest`` unless ``dest`` exists; True when published."""
    os.chmod(tmp, FILE_MODE)  # mkstemp makes 0600 files; published files get the usual mode
    try:
        os.link(tmp, dest)
    except FileExistsError:
        return False
    except OSError:
        # No hard links here (some network and FAT file systems): check, then rename.
        if dest.exists():
            return False
        os.replace(tmp, dest)
        return True
    os.unlink(tmp)
    return True


def publish_bytes(dest: str | os.PathLike[str], data: bytes) -> bool:
    """Write ``data`` to ``dest`` atomically; False (nothing written) when ``dest`` already exists."""
    dest = Path(dest)
    if dest.exists():
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return _publish(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def encode_image(image: np.ndarray, suffix: str = ".jpg", quality: int = 95) -> bytes:
    """uint8 RGB ``(H, W, 3)`` -> encoded file bytes (format from ``suffix``)."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise DataError(f"encode_image: expected a uint8 (H, W, 3) image, got {image.dtype} {image.shape}")
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if suffix.lower() in (".jpg", ".jpeg") else []
    ok, buf = cv2.imencode(suffix, cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise DataError(f"encode_image: OpenCV cannot encode a {suffix} image")
    return buf.tobytes()


def carry_file(src: str | os.PathLike[str], dest: str | os.PathLike[str], mode: OriginalsMode) -> bool:
    """Put ``src`` at ``dest`` by copy or link; False when ``dest`` exists (kept) or mode is ``none``.

    Convention: ``link`` makes a hard link (same file system), else a symbolic link to the absolute source.
    """
    if mode == "none":
        return False
    src, dest = Path(src), Path(dest)
    if dest.exists() or dest.is_symlink():
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    if mode == "link":
        try:
            os.link(src, dest)
            return True
        except FileExistsError:
            return False
        except OSError:
            pass
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        if mode == "link":
            os.unlink(tmp)
            os.symlink(src.resolve(), tmp)
            if dest.exists() or dest.is_symlink():
                return False
            os.replace(tmp, dest)
            return True
        shutil.copyfile(src, tmp)
        return _publish(tmp, dest)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def publish_file(tmp: str | os.PathLike[str], dest: str | os.PathLike[str]) -> bool:
    """Publish a finished temporary file (in ``dest``'s folder) as ``dest``; False (``tmp`` left for the
    caller to remove) when ``dest`` already exists."""
    return _publish(os.fspath(tmp), Path(dest))
