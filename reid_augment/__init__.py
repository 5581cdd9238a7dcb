"""reid_augment: the application. Detection, pose backends, pose bank and fitting, the augment pipeline.

Names are imported on first use, so that ``reid-augment --help`` does not load torch and OpenCV.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "AugmentConfig",
    "AugmentEvent",
    "AugmentSummary",
    "PoseBank",
    "ProxyWarpTransfer",
    "TargetPool",
    "Transfer",
    "build_pose_bank",
    "discover_sources",
    "fit_pose",
    "load_pose_bank",
    "load_targets",
    "make_pose_backend",
    "run_augment",
    "run_demo",
]

_WHERE = {
    "AugmentConfig": "augment",
    "AugmentEvent": "augment",
    "AugmentSummary": "augment",
    "Transfer": "augment",
    "run_augment": "augment",
    "PoseBank": "pose_bank",
    "build_pose_bank": "pose_bank",
    "load_pose_bank": "pose_bank",
    "ProxyWarpTransfer": "warp_transfer",
    "TargetPool": "targets",
    "load_targets": "targets",
    "discover_sources": "sources",
    "fit_pose": "fit",
    "make_pose_backend": "pose_backends",
    "run_demo": "demo",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'reid_augment' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
