"""Reading videos frame by frame, and driving poses from a video.

OpenCV reads most files; PyAV is the fallback for codecs the OpenCV build lacks (H.264 in some builds).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from diaflow_core.errors import DataError

from .detect import Detector, crop_person
from .fit import canonical_pose, usable_pose
from .pose_backends.base import PoseBackend
from .pose_bank import pose_view
from .targets import TargetPool, TargetPose

__all__ = ["iter_frames", "video_pose_pool", "video_poses"]


def _iter_cv2(path: Path, step: int) -> Iterator[tuple[int, np.ndarray]]:
    cap = cv2.VideoCapture(os.fspath(path))
    try:
        if not cap.isOpened():
            return
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            if i % step == 0:
                yield i, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            i += 1
    finally:
        cap.release()


def _iter_av(path: Path, step: int) -> Iterator[tuple[int, np.ndarray]]:
    import av

    with av.open(os.fspath(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i % step == 0:
                yield i, frame.to_ndarray(format="rgb24")


def iter_frames(
    path: str | os.PathLike[str], step: int = 1, max_frames: int | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """``(frame index, uint8 RGB frame)`` for every ``step``-th frame, at most ``max_frames`` of them."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: video not found")
    if step < 1:
        raise DataError(f"{path}: frame step must be >= 1, got {step}")
    source = _iter_cv2(path, step)
    first = next(source, None)
    if first is None:
        try:
            source = _iter_av(path, step)
            first = next(source, None)
        except Exception as e:  # noqa: BLE001 - any decoder failure is the same "cannot read" for the user
            raise DataError(f"{path}: cannot decode the video ({e})") from None
        if first is None:
            raise DataError(f"{path}: no frames could be read")
    if max_frames is not None and max_frames < 1:
        return
    yield first
    n = 1
    for item in source:
        if max_frames is not None and n >= max_frames:
            return
        yield item
        n += 1


def video_poses(
    path: str | os.PathLike[str],
    backend: PoseBackend,
    detector: Detector | None = None,
    step: int = 2,
    max_frames: int | None = 150,
    size: tuple[int, int] = (128, 64),
    on_frame: Callable[[int], None] | None = None,
) -> list[tuple[int, np.ndarray]]:
    """``(frame index, pose)`` per frame where a person was found, each pose placed on a ``size`` canvas.

    With a ``detector`` the largest person is cropped first (crowded clips); without, the whole frame goes
    to the backend (one person, e.g. a driving clip). Frames without a usable pose are left out.
    """
    out = []
    for idx, frame in iter_frames(path, step, max_frames):
        if on_frame is not None:
            on_frame(idx)
        image = frame
        if detector is not None:
            dets = detector.detect(frame)
            if not dets:
                continue
            image = crop_person(frame, max(dets, key=lambda d: d.height).box, size)[0]
        (kp,) = backend.estimate([image], [f"{Path(path).name}#{idx}"])
        if kp is None or usable_pose(kp) is not None:
            continue
        out.append((idx, canonical_pose(kp, size)))
    return out


def video_pose_pool(path: str | os.PathLike[str], backend: PoseBackend, **options: object) -> TargetPool:
    """A target pool of the poses of a driving video (see ``video_poses``)."""
    name = Path(path).name
    poses = video_poses(path, backend, **options)  # type: ignore[arg-type]
    if not poses:
        raise DataError(f"{path}: no person pose found in the video with the {backend.name} backend")
    entries = [TargetPose(kp, f"video:{name}#f{idx}", pose_view(kp)) for idx, kp in poses]
    return TargetPool(entries, f"{path} ({len(entries)} frames with a pose)")
