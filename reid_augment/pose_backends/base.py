"""The pose-estimator interface every backend implements.

Convention: ``estimate`` takes uint8 RGB images ``(H, W, 3)`` of any size (person crops) with their file
names, and returns per image an OpenPose-18 pose float32 ``(18, 2)`` in THAT image's (x, y) pixels with
NaN for missing joints, or None when no person was found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["PoseBackend"]


@runtime_checkable
class PoseBackend(Protocol):
    name: str

    def estimate(self, images: Sequence[np.ndarray], names: Sequence[str]) -> list[np.ndarray | None]: ...
