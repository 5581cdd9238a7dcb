"""Pose augmentation for the flow regressor: consistent flips, target-only scale/shift, dropped joints."""

from __future__ import annotations

import numpy as np
import pytest

from diaflow_core.train.pose_augment import PoseAugConfig, augment_pose_pair, drop_joints


def _pose(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    kp = np.stack([rng.uniform(10, 54, 18), rng.uniform(10, 118, 18)], 1).astype(np.float32)
    kp[16] = np.nan
    return kp


def test_identity_config_changes_nothing() -> None:
    cfg = PoseAugConfig(flip_prob=0.0, jitter_px=0.0, scale_range=(1.0, 1.0), shift_px=(0.0, 0.0), drop_prob=0.0)
    s, t = _pose(0), _pose(1)
    s2, t2 = augment_pose_pair(s, t, cfg, np.random.default_rng(0), 64)
    np.testing.assert_allclose(s2, s, equal_nan=True)
    np.testing.assert_allclose(t2, t, atol=1e-5, equal_nan=True)


def test_flip_applies_to_both_and_swaps_sides() -> None:
    cfg = PoseAugConfig(flip_prob=1.0, jitter_px=0.0, scale_range=(1.0, 1.0), shift_px=(0.0, 0.0))
    s, t = _pose(0), _pose(1)
    s2, t2 = augment_pose_pair(s, t, cfg, np.random.default_rng(0), 64)
    # right shoulder (2) of the flipped pose = mirrored left shoulder (5) of the original
    assert s2[2, 0] == pytest.approx(63 - s[5, 0]) and s2[2, 1] == pytest.approx(s[5, 1])
    assert t2[2, 0] == pytest.approx(63 - t[5, 0], abs=1e-4)


def test_shift_moves_only_the_target() -> None:
    cfg = PoseAugConfig(flip_prob=0.0, jitter_px=0.0, scale_range=(1.0, 1.0), shift_px=(5.0, 5.0))
    s, t = _pose(0), _pose(1)
    s2, t2 = augment_pose_pair(s, t, cfg, np.random.default_rng(3), 64)
    np.testing.assert_allclose(s2, s, equal_nan=True)
    d = t2 - t
    ok = np.isfinite(d[:, 0])
    assert np.allclose(d[ok], d[ok][0], atol=1e-4) and np.abs(d[ok][0]).max() > 0  # one rigid shift


def test_drop_joints_keeps_neck_and_marks_nan() -> None:
    kp = _pose(0)
    out = drop_joints(kp, 1.0, np.random.default_rng(0))
    assert np.isfinite(out[1]).all()
    assert np.isnan(np.delete(out, 1, axis=0)).all()
    assert np.isfinite(kp[0]).all()  # input untouched


def test_bad_shape_raises() -> None:
    with pytest.raises(ValueError):
        augment_pose_pair(np.zeros((17, 2)), np.zeros((18, 2)), PoseAugConfig(), np.random.default_rng(0), 64)
