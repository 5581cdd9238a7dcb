"""The per-limb affine baseline and silhouette fitting of part widths (synthetic masks)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SIZE, walking

from diaflow_core.errors import DataError
from diaflow_core.proxy3d import (
    NUM_PARTS,
    WIDTH_GROUPS,
    affine_limb_flow,
    fit_widths,
    lift_pose,
    mask_is_usable,
    render,
)


def test_affine_baseline_identity_and_shift(pose_frontal: np.ndarray) -> None:
    flow = affine_limb_flow(pose_frontal, pose_frontal, SIZE)
    assert flow.shape == (2, *SIZE) and flow.dtype == np.float32
    assert np.abs(flow).max() < 1e-4
    moved = pose_frontal + np.array([4.0, -3.0], np.float32)
    flow = affine_limb_flow(pose_frontal, moved, SIZE)
    np.testing.assert_allclose(flow[0], -4.0, atol=1e-4)
    np.testing.assert_allclose(flow[1], 3.0, atol=1e-4)
    with pytest.raises(DataError):
        affine_limb_flow(pose_frontal[:5], pose_frontal, SIZE)


@pytest.mark.parametrize("factor", [0.8, 1.25])
def test_fit_widths_recovers_a_rendered_build(factor: float) -> None:
    kp = walking()
    true = np.full(NUM_PARTS, factor, dtype=np.float32)
    mask = render(lift_pose(kp, SIZE, widths=true), SIZE).hit[0]
    got = fit_widths(mask.astype(np.float32), kp)
    assert got.shape == (NUM_PARTS,) and got.dtype == np.float32
    for parts in WIDTH_GROUPS:
        assert abs(float(got[parts[0]]) - factor) <= 0.13
        assert np.all(got[list(parts)] == got[parts[0]])  # tied within a group


def test_unusable_masks_leave_default_widths() -> None:
    kp = walking()
    assert not mask_is_usable(np.ones(SIZE)) and not mask_is_usable(np.zeros(SIZE))
    np.testing.assert_array_equal(fit_widths(np.ones(SIZE, np.float32), kp), np.ones(NUM_PARTS))
    with pytest.raises(DataError):
        fit_widths(np.ones((2, *SIZE)), kp)
