"""Clips to process: videos, folders of frames and single frames, each with a camera and a sequence.

A folder whose frame names all carry Market-1501's ``cCsS_FFFFFF`` fields (``c1s1_002301.jpg``) is split into
one clip per camera and sequence, in frame-number order; any other folder is one clip in name order.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from diaflow_core.data.images import read_image
from diaflow_core.data.market import IMAGE_EXTENSIONS
from diaflow_core.errors import ConfigError

from .targets import VIDEO_EXTENSIONS
from .video import iter_frames

__all__ = ["Clip", "discover_clips", "video_frame_count"]

_FRAME_NAME = re.compile(r"c(\d)s(\d)_(\d{1,6})")  # Market-1501 frame names: c1s1_002301.jpg


@dataclass(frozen=True)
class Clip:
    """One camera's frames in time order; ``key`` identifies it across reruns."""

    key: str
    label: str
    camera: int
    sequence: int
    kind: str  # "video" | "frames"
    path: Path
    frames: tuple[tuple[int, Path], ...] = ()  # (frame number, file) for "frames"

    def iter_frames(self, step: int) -> Iterator[tuple[int, np.ndarray]]:
        if self.kind == "video":
            yield from iter_frames(self.path, step)
            return
        for number, path in self.frames:
            yield number, read_image(path)


def _is_image(p: Path) -> bool:
    return p.suffix.lower() in IMAGE_EXTENSIONS


def _frame_clips(folder: Path, files: Sequence[Path], camera: int | None, fallback: int | None) -> list[Clip]:
    """Frames grouped by the camera/sequence in their Market names, else one clip in name order."""
    parsed = [(_FRAME_NAME.search(p.stem), p) for p in files]
    if all(m is not None for m, _ in parsed):
        groups: dict[tuple[int, int], list[tuple[int, Path]]] = {}
        for m, p in parsed:
            assert m is not None
            groups.setdefault((int(m.group(1)), int(m.group(2))), []).append((int(m.group(3)), p))
        return [
            Clip(
                f"{folder.resolve()}#c{c}s{s}",
                f"{folder.name}/c{c}s{s}",
                camera or c,
                s,
                "frames",
                folder,
                tuple(sorted(frames)),
            )
            for (c, s), frames in sorted(groups.items())
        ]
    cam = camera or fallback
    if cam is None:
        raise ConfigError(f"{folder}: more than 9 inputs: give their cameras with --camera")
    return [Clip(str(folder.resolve()), folder.name, cam, 1, "frames", folder, tuple(enumerate(sorted(files))))]


def discover_clips(inputs: Sequence[Path], cameras: Sequence[int] = ()) -> tuple[list[Clip], list[tuple[str, str]]]:
    """Clips of ``inputs`` (videos, frame folders, single frames) and the inputs refused, with why.

    Camera numbers: ``cameras`` gives one per input; otherwise a Market frame name's own camera, else the
    input's position (1, 2, ...). Market's naming has one digit for the camera, so 1..9.
    """
    if cameras and len(cameras) != len(inputs):
        raise ConfigError(f"--camera given {len(cameras)} times for {len(inputs)} inputs: give it once per input")
    for c in cameras:
        if not 1 <= c <= 9:
            raise ConfigError(f"camera numbers must be 1..9 (Market-1501 names have one digit), got {c}")
    clips: list[Clip] = []
    refused: list[tuple[str, str]] = []
    for i, raw in enumerate(inputs):
        path = Path(raw)
        cam = cameras[i] if cameras else None
        fallback = i + 1 if i < 9 else None
        try:
            if path.is_dir():
                files = sorted(p for p in path.iterdir() if p.is_file() and _is_image(p))
                videos = [p for p in path.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS]
                if videos:
                    refused.append((str(path), f"holds {len(videos)} video(s): name them as inputs themselves"))
                if files:
                    clips += _frame_clips(path, files, cam, fallback)
                elif not videos:
                    refused.append((str(path), "no frames (images) in this folder"))
            elif not path.is_file():
                refused.append((str(path), "not found"))
            elif _is_image(path):
                clip = _frame_clips(path.parent, [path], cam, fallback)[0]
                clips.append(Clip(str(path.resolve()), path.name, clip.camera, clip.sequence, "frames",
                                  path.parent, clip.frames))  # fmt: skip
            elif path.suffix.lower() in VIDEO_EXTENSIONS:
                camera = cam or fallback
                if camera is None:
                    raise ConfigError(f"{path}: more than 9 inputs: give their cameras with --camera")
                clips.append(Clip(str(path.resolve()), path.name, camera, 1, "video", path))
            else:
                refused.append((str(path), f"neither a video ({', '.join(VIDEO_EXTENSIONS)}) nor an image"))
        except ConfigError as e:
            refused.append((str(path), str(e)))
    return clips, refused


def video_frame_count(path: Path, step: int) -> int | None:
    """Frames ``iter_frames(path, step)`` should yield, from the container's count; None when unknown."""
    cap = cv2.VideoCapture(os.fspath(path))
    try:
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
    finally:
        cap.release()
    return (n + step - 1) // step if n > 0 else None
