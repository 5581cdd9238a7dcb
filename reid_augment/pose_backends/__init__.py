"""Pose estimation backends: keypoint CSVs, MediaPipe, YOLO-pose (optional), MMPose (optional)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from diaflow_core.errors import ConfigError

from .annotations import AnnotationsBackend
from .base import PoseBackend

__all__ = ["BACKENDS", "AnnotationsBackend", "PoseBackend", "make_pose_backend", "pose_backend_for"]

BACKENDS: tuple[str, ...] = ("annotations", "mediapipe", "yolo", "mmpose")


def make_pose_backend(name: str, **options: Any) -> PoseBackend:
    """Build a backend by name; heavy imports happen here, only for the backend asked for.

    Options: ``annotations``: ``csvs`` (paths); ``mediapipe``: ``min_height``, ``min_visibility``;
    ``yolo``: ``weights``, ``device``; ``mmpose``: ``config``, ``checkpoint``, ``device``.
    """
    if name == "annotations":
        return AnnotationsBackend.from_csv(options.get("csvs", ()))
    if name == "mediapipe":
        from .mediapipe_backend import MediapipeBackend

        return MediapipeBackend(**{k: v for k, v in options.items() if k in ("min_height", "min_visibility")})
    if name == "yolo":
        from .yolo import YoloBackend

        return YoloBackend(**{k: v for k, v in options.items() if k in ("weights", "device")})
    if name == "mmpose":
        from .mmpose_backend import MmposeBackend

        return MmposeBackend(**{k: v for k, v in options.items() if k in ("config", "checkpoint", "device")})
    raise ConfigError(f"unknown pose backend {name!r}; expected one of {', '.join(BACKENDS)}")


def pose_backend_for(name: str, csvs: Sequence[Path], **options: Any) -> PoseBackend:
    """``--pose-backend``: ``auto`` = the dataset's keypoint CSVs when there are any, else mediapipe;
    ``annotations`` without a CSV is a ConfigError naming what to do."""
    if name == "auto":
        name = "annotations" if csvs else "mediapipe"
    if name == "annotations":
        if not csvs:
            raise ConfigError(
                "pose backend 'annotations': no keypoint CSV found beside the images "
                "(*annotation*.csv); pass --annotations FILE or use --pose-backend mediapipe"
            )
        return make_pose_backend("annotations", csvs=csvs)
    return make_pose_backend(name, **options)
