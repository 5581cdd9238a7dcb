"""Synthetic OpenPose-18 poses at 128x64 for the proxy-body tests (no real data needed)."""

from __future__ import annotations

import numpy as np
import pytest

SIZE = (128, 64)

# A frontal standing person: the RIGHT shoulder (index 2) on the image's left; torso 36 px.
_FRONTAL = {
    0: (32, 12), 1: (32, 24), 2: (16, 25), 3: (14, 45), 4: (13, 63), 5: (48, 25), 6: (50, 45), 7: (51, 63),
    8: (22, 60), 9: (22, 88), 10: (22, 114), 11: (42, 60), 12: (42, 88), 13: (42, 114),
    14: (29, 9), 15: (35, 9), 16: (26, 10), 17: (38, 10),
}  # fmt: skip


def make_pose(joints: dict[int, tuple[float, float]]) -> np.ndarray:
    kp = np.full((18, 2), np.nan, dtype=np.float32)
    for j, xy in joints.items():
        kp[j] = xy
    return kp


def frontal() -> np.ndarray:
    return make_pose(_FRONTAL)


def back_view() -> np.ndarray:
    """The same silhouette seen from behind: left/right labels swap sides, the face is gone."""
    swap = {2: 5, 3: 6, 4: 7, 5: 2, 6: 3, 7: 4, 8: 11, 9: 12, 10: 13, 11: 8, 12: 9, 13: 10, 16: 17, 17: 16}
    j = {swap.get(k, k): v for k, v in _FRONTAL.items() if k not in (0, 14, 15)}
    return make_pose(j)


def arm_across() -> np.ndarray:
    """Frontal, with the right forearm across the chest (elbow at the side, wrist mid-torso)."""
    j = dict(_FRONTAL)
    j[3] = (15, 42)
    j[4] = (34, 40)
    return make_pose(j)


def walking() -> np.ndarray:
    """Frontal-ish walking pose: one leg forward, arms swinging."""
    j = dict(_FRONTAL)
    j.update(
        {3: (12, 44), 4: (15, 61), 6: (53, 43), 7: (50, 60), 9: (19, 87), 10: (24, 113), 12: (45, 86), 13: (40, 112)}
    )
    return make_pose(j)


@pytest.fixture
def pose_frontal() -> np.ndarray:
    return frontal()


@pytest.fixture
def pose_back() -> np.ndarray:
    return back_view()


@pytest.fixture
def pose_arm_across() -> np.ndarray:
    return arm_across()


@pytest.fixture
def pose_walking() -> np.ndarray:
    return walking()
