"""The demo: people in a frame -> crops -> poses -> re-posed samples in a small Market-style folder.

Input is a frame the user names, or the generated street scene (``scene.py``) when none is named: no
dataset and no network needed. On the generated scene the true boxes and poses are known: the detector's
boxes are matched against them (reported), and a figure the pose backend cannot read falls back to its
known pose, so the demo always has something to show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from diaflow_core.data.images import read_image
from diaflow_core.errors import DataError
from diaflow_core.fileio import replace_bytes

from .augment import AugmentConfig, AugmentEvent, AugmentSummary, Transfer, run_augment
from .detect import Detector, crop_person, nms
from .fsio import encode_image, publish_bytes
from .pose_backends.base import PoseBackend
from .pose_bank import load_pose_bank
from .scene import street_scene
from .targets import TargetPool, pool_from_bank
from .track import box_iou_matrix

__all__ = ["DemoSummary", "run_demo"]


@dataclass(frozen=True)
class DemoSummary:
    frame: Path  # the input frame with the boxes used, as written to the output
    people: int  # crops made
    detected: int  # of those, found by the detector
    known_poses: int  # crops whose pose came from the scene generator (backend found none)
    augment: AugmentSummary


class _WithKnownPoses:
    """A backend that falls back to known poses (by file name) where the real one finds nobody."""

    def __init__(self, primary: PoseBackend, known: dict[str, np.ndarray]) -> None:
        self.primary = primary
        self.known = known
        self.name = primary.name
        self.used_known = 0

    def estimate(self, images: Sequence[np.ndarray], names: Sequence[str]) -> list[np.ndarray | None]:
        out = self.primary.estimate(images, names)
        for i, name in enumerate(names):
            if out[i] is None and name in self.known:
                out[i] = self.known[name].copy()
                self.used_known += 1
        return out


def run_demo(
    out: Path,
    transfer: Transfer,
    backend: PoseBackend,
    detector: Detector,
    image: Path | None = None,
    targets: TargetPool | None = None,
    per_image: int = 4,
    max_people: int = 6,
    min_height: float = 80.0,
    flow_label: str = "learned",
    seed: int = 0,
    on_event: Callable[[AugmentEvent], None] | None = None,
) -> DemoSummary:
    """Crop people from ``image`` (default: the generated scene), re-pose each into ``per_image`` target
    poses (default: the shipped bank) and write ``out/`` as a small Market-1501 root with a manifest and
    ``preview.png``. Crops are named ``PPPP_c1s1_000001_00.jpg`` with one pid per person."""
    known: dict[str, np.ndarray] = {}
    if image is None:
        frame, people = street_scene(load_pose_bank(), seed=seed)
        found = detector.detect(frame)
        detected = int((box_iou_matrix([p.box for p in people], [d.box for d in found]) > 0.3).any(axis=1).sum())
        boxes = [p.box for p in people]
        poses: list[np.ndarray | None] = [p.pose for p in people]
        frame_name = "scene.jpg"
    else:
        frame = read_image(image)
        found = [d for d in nms(detector.detect(frame)) if d.height >= min_height]
        found = sorted(found, key=lambda d: -d.score)[:max_people]
        if not found:
            raise DataError(f"{image}: the {detector.name} detector found no person taller than {min_height:.0f} px")
        detected = len(found)
        boxes = [d.box for d in sorted(found, key=lambda d: d.box[0])]
        poses = [None] * len(boxes)
        frame_name = f"{image.stem}.jpg"
    crops_dir = out / "crops"
    for n, (box, pose) in enumerate(zip(boxes, poses, strict=True), start=1):
        crop, transform = crop_person(frame, box)
        name = f"{n:04d}_c1s1_000001_00.jpg"
        publish_bytes(crops_dir / name, encode_image(crop))
        if pose is not None:
            known[name] = transform.to_crop(pose)
    shown = frame.copy()
    for box in boxes:
        cv2.rectangle(shown, (int(box[0]), int(box[1])), (int(box[2]), int(box[3])), (255, 220, 0), 2)
    frame_path = out / frame_name
    replace_bytes(frame_path, encode_image(shown))  # the annotated frame pictures this run: replaced each time

    poser = _WithKnownPoses(backend, known)
    config = AugmentConfig(
        source=crops_dir, out=out, per_image=per_image, originals="copy", seed=seed, flow_label=flow_label,
        batch_size=max(1, per_image * len(boxes)),
    )  # fmt: skip
    summary = run_augment(config, transfer, poser, targets or pool_from_bank(load_pose_bank()), on_event)
    return DemoSummary(frame_path, len(boxes), detected, poser.used_known, summary)
