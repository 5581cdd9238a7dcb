"""Lifting, rendering and intrinsic-coordinate round trips of the proxy body."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import SIZE, frontal, make_pose

from diaflow_core.errors import ConfigError, DataError
from diaflow_core.proxy3d import (
    NUM_PARTS,
    PARTS,
    Body3D,
    ProxyBodyConfig,
    decode_points,
    lift_pose,
    nearest_depth,
    render,
)
from diaflow_core.proxy3d.geometry import pack_parts


def _profile_facing_right() -> np.ndarray:
    """Person turned to face +x: shoulders nearly overlap, nose ahead of the neck, only the right ear."""
    return make_pose({
        0: (41, 13), 1: (32, 24), 2: (30, 25), 3: (31, 45), 4: (33, 62), 5: (35, 25), 6: (36, 45), 7: (38, 62),
        8: (31, 60), 9: (33, 88), 10: (31, 114), 11: (34, 60), 12: (36, 88), 13: (34, 114), 14: (38, 10), 16: (31, 11),
    })  # fmt: skip


def test_parts_table() -> None:
    assert len(PARTS) == NUM_PARTS == 13 and PARTS[0] == "torso" and PARTS[1] == "head"


def test_scale_and_yaw(pose_frontal: np.ndarray, pose_back: np.ndarray) -> None:
    body = lift_pose(np.stack([pose_frontal, pose_back, _profile_facing_right()]), SIZE)
    assert body.batch_size == 3
    np.testing.assert_allclose(body.scale[:2], 36.0, rtol=0.15)
    yaw = np.degrees(body.yaw)
    assert abs(yaw[0]) < 25
    assert abs(yaw[1]) > 155
    assert 50 < yaw[2] < 130  # facing +x: the right side toward the camera
    # The side turned away lies deeper: the right shoulder is nearer than the left.
    j = body.joints[2]
    assert j[2, 2] < j[5, 2]


def test_limb_depth_sign_rule(pose_frontal: np.ndarray) -> None:
    kp = pose_frontal.copy()
    kp[3] = (16, 35)  # a short (foreshortened) right upper arm: the elbow comes forward
    body = lift_pose(kp, SIZE)
    j = body.joints[0]
    assert j[3, 2] < j[2, 2] - 5  # toward the camera (smaller z) for a body facing it
    assert body.present[0].all() and not body.imputed[0].any()


def test_single_equals_batch(pose_frontal: np.ndarray, pose_walking: np.ndarray) -> None:
    both = lift_pose(np.stack([pose_frontal, pose_walking]), SIZE)
    one = lift_pose(pose_walking, SIZE)
    for f in dataclasses.fields(Body3D):
        np.testing.assert_allclose(getattr(both.select(1), f.name), getattr(one, f.name), atol=1e-5)


def test_render_maps(pose_frontal: np.ndarray) -> None:
    r = render(lift_pose(pose_frontal, SIZE), SIZE)
    assert r.part.shape == (1, *SIZE) and r.part.dtype == np.int8
    hit = r.hit[0]
    assert 1500 < hit.sum() < 0.6 * SIZE[0] * SIZE[1]
    assert np.isfinite(r.depth[0][hit]).all() and np.isinf(r.depth[0][~hit]).all()
    assert set(np.unique(r.part[0][hit])) == set(range(NUM_PARTS))
    assert np.all(np.abs(r.angle) <= np.pi + 1e-6)
    # Facing the camera, the torso shows its front: q1 (along the forward axis) is mostly positive.
    assert (r.q1[0][r.part[0] == 0] > 0).mean() > 0.9


def test_encode_decode_round_trip(pose_walking: np.ndarray) -> None:
    body = lift_pose(pose_walking, SIZE)
    r = render(body, SIZE)
    ys, xs = np.nonzero(r.hit[0])
    part = r.part[0, ys, xs].astype(np.int64)
    pts = decode_points(body, np.zeros_like(part), part, r.t[0, ys, xs], r.q1[0, ys, xs], r.q2[0, ys, xs])
    np.testing.assert_allclose(pts[:, 0], xs, atol=2e-3)
    np.testing.assert_allclose(pts[:, 1], ys, atol=2e-3)
    np.testing.assert_allclose(pts[:, 2], r.depth[0, ys, xs], atol=2e-3)


def test_nearest_depth_matches_render_at_pixel_centres(pose_walking: np.ndarray) -> None:
    body = lift_pose(pose_walking, SIZE)
    r = render(body, SIZE)
    ys, xs = np.mgrid[0 : SIZE[0], 0 : SIZE[1]]
    z = nearest_depth(pack_parts(body), np.zeros(xs.size, int), xs.ravel().astype(np.float32),
                      ys.ravel().astype(np.float32), SIZE)  # fmt: skip
    np.testing.assert_array_equal(np.isinf(z), ~r.hit[0].ravel())
    hit = r.hit[0].ravel()
    np.testing.assert_allclose(z[hit], r.depth[0].ravel()[hit], atol=1e-4)


def test_shape_and_config_errors() -> None:
    with pytest.raises(DataError):
        lift_pose(np.zeros((17, 2)), SIZE)
    with pytest.raises(DataError):
        lift_pose(frontal(), SIZE, widths=np.ones((2, NUM_PARTS)))
    body = lift_pose(frontal(), SIZE)
    with pytest.raises(DataError):
        dataclasses.replace(body, rad1=np.ones((1, 3), np.float32))
    with pytest.raises(ConfigError):
        ProxyBodyConfig(scale_quantile=0.0)
    with pytest.raises(ConfigError):
        ProxyBodyConfig(thigh_radii=(0.1, float("nan")))
    with pytest.raises(ConfigError):
        ProxyBodyConfig(upper_arm_radii=(0.1, -0.1)).part_radii()
