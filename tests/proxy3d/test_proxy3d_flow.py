"""Property tests of the intrinsic flow / visibility ground truth (DESIGN.md section 2 conventions)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SIZE, arm_across, back_view, frontal, walking
from hypothesis import example, given, settings
from hypothesis import strategies as st

from diaflow_core.errors import DataError
from diaflow_core.proxy3d import (
    NUM_PARTS,
    compute_flow,
    compute_flow_batch,
    decode_points,
    flow_between_bodies,
    lift_pair,
    render,
)

H, W = SIZE


def _body(vis: np.ndarray) -> np.ndarray:
    return vis < 2


def test_shapes_and_dtypes(pose_frontal: np.ndarray) -> None:
    flow, vis = compute_flow(pose_frontal, pose_frontal)
    assert flow.shape == (2, H, W) and flow.dtype == np.float32
    assert vis.shape == (H, W) and vis.dtype == np.uint8
    assert set(np.unique(vis)) <= {0, 1, 2}
    assert np.all(flow[:, vis == 2] == 0)
    assert np.isfinite(flow).all()


def test_identical_poses_zero_flow_all_visible(pose_frontal: np.ndarray) -> None:
    flow, vis = compute_flow(pose_frontal, pose_frontal)
    body = _body(vis)
    assert body.sum() > 1500  # a person covers a good part of a 128x64 crop
    assert np.abs(flow).max() < 1e-3
    assert np.all(vis[body] == 0)


@settings(max_examples=15, deadline=None)
@given(
    dx=st.floats(-8, 8, allow_nan=False),
    dy=st.floats(-6, 6, allow_nan=False),
    jitter_seed=st.integers(0, 2**16),
)
@example(dx=0.0, dy=1.0928601059235774, jitter_seed=31461)  # one grazing pixel, below
def test_shift_gives_minus_shift_flow(dx: float, dy: float, jitter_seed: int) -> None:
    # Target = source moved by +d: target pixel u shows the point that sits at u - d in the source,
    # so the backward flow is F = -d on every body pixel, and everything is visible, up to pixels whose
    # centre lies within float32 error of a nearer limb's silhouette: there the target's ray misses the limb
    # and the source's ray through the same point hits it (found by Hypothesis: 1 of 2062 pixels, a torso
    # point ~0.005 px from an arm's edge, where moving the ray by 0.01 px switches the nearest depth from
    # -3.5 to -8.3).
    rng = np.random.default_rng(jitter_seed)
    centre = np.array([32.0, 64.0], dtype=np.float32)
    src = 0.85 * (frontal() - centre) + centre  # smaller, so the moved body stays inside the frame
    src = src + rng.uniform(-1.5, 1.5, size=(18, 2)).astype(np.float32)
    tgt = src + np.array([dx, dy], dtype=np.float32)
    flow, vis = compute_flow(src, tgt)
    body = _body(vis)
    assert body.sum() > 1000
    np.testing.assert_allclose(flow[0][body], -dx, atol=2e-3)
    np.testing.assert_allclose(flow[1][body], -dy, atol=2e-3)
    assert np.count_nonzero(vis[body] != 0) <= 2, "a pure shift hid more than the odd grazing pixel"


def test_facing_away_target_is_mostly_hidden(pose_frontal: np.ndarray, pose_back: np.ndarray) -> None:
    _, vis = compute_flow(pose_frontal, pose_back)
    body = _body(vis)
    assert body.sum() > 1500
    assert (vis[body] == 1).mean() > 0.8
    # ... and the reverse pair too (source seen from behind, target from the front).
    _, vis2 = compute_flow(pose_back, pose_frontal)
    assert (vis2[_body(vis2)] == 1).mean() > 0.8


def test_arm_in_front_of_torso_hides_the_torso_behind_it(pose_arm_across: np.ndarray) -> None:
    src_body, tgt_body = lift_pair(pose_arm_across, frontal(), SIZE)
    flow, vis = flow_between_bodies(src_body, tgt_body, SIZE)
    flow, vis = flow[0], vis[0]
    src_part = render(src_body, SIZE).part[0]
    tgt_part = render(tgt_body, SIZE).part[0]
    ys, xs = np.nonzero(tgt_part == 0)  # target torso pixels
    u = np.clip(np.rint(xs + flow[0, ys, xs]).astype(int), 0, W - 1)
    v = np.clip(np.rint(ys + flow[1, ys, xs]).astype(int), 0, H - 1)
    seen_part = src_part[v, u]
    under_arm = np.isin(seen_part, (3, 4))
    assert under_arm.sum() > 50  # the forearm really covers a patch of the chest in the source
    assert (vis[ys[under_arm], xs[under_arm]] == 1).mean() > 0.9
    free = seen_part == 0
    assert (vis[ys[free], xs[free]] == 0).mean() > 0.95


def test_source_joints_out_of_frame_make_their_parts_hidden(pose_frontal: np.ndarray) -> None:
    src = pose_frontal + np.array([0.0, 45.0], dtype=np.float32)  # knees and ankles leave the frame
    assert np.nanmax(src[:, 1]) > H
    src_body, tgt_body = lift_pair(src, pose_frontal, SIZE)
    flow, vis = flow_between_bodies(src_body, tgt_body, SIZE)
    part = render(tgt_body, SIZE).part[0]
    shins = np.isin(part, (8, 10))
    assert shins.sum() > 100
    assert np.all(vis[0][shins] == 1)
    # The intrinsic flow still says where they would be: 45 px further down.
    np.testing.assert_allclose(flow[0, 1][shins], 45.0, atol=1e-2)
    assert np.all(vis[0][part == 0] == 0)


def test_missing_joints_drop_target_parts_and_hide_source_guesses(pose_frontal: np.ndarray) -> None:
    tgt = pose_frontal.copy()
    tgt[7] = np.nan  # left wrist missing in the target: no left forearm there
    _, tgt_body = lift_pair(pose_frontal, tgt, SIZE)
    assert not tgt_body.present[0, 6]
    assert not np.any(render(tgt_body, SIZE).part[0] == 6)

    src = pose_frontal.copy()
    src[7] = np.nan  # ... missing in the source: guessed there, so never "visible"
    src_body, tgt_body = lift_pair(src, pose_frontal, SIZE)
    assert src_body.present[0].all() and src_body.imputed[0, 6] and not src_body.imputed[0, 3]
    _, vis = flow_between_bodies(src_body, tgt_body, SIZE)
    forearm = render(tgt_body, SIZE).part[0] == 6
    assert forearm.sum() > 20
    assert np.all(vis[0][forearm] == 1)


def _intrinsic_error(src_kp: np.ndarray, tgt_kp: np.ndarray) -> np.ndarray:
    """For class-0 target pixels: sample the source's intrinsic maps at u + F(u) (bilinear over those of
    the four neighbours that lie on the target pixel's part: coordinates of different parts do not
    mix), decode that body point on the TARGET body and return its distance to u in pixels (inf when
    no neighbour is on the part)."""
    src_body, tgt_body = lift_pair(src_kp, tgt_kp, SIZE)
    flow, vis = flow_between_bodies(src_body, tgt_body, SIZE)
    rs, rt = render(src_body, SIZE), render(tgt_body, SIZE)
    ys, xs = np.nonzero(vis[0] == 0)
    u = xs + flow[0, 0, ys, xs]
    v = ys + flow[0, 1, ys, xs]
    part = rt.part[0, ys, xs].astype(np.int64)
    x0 = np.clip(np.floor(u).astype(int), 0, W - 2)
    y0 = np.clip(np.floor(v).astype(int), 0, H - 2)
    fx = np.clip(u - x0, 0, 1)
    fy = np.clip(v - y0, 0, 1)
    corners = [(y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1)]
    wts = [(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy]
    wts = [wt * (rs.part[0][c] == part) for wt, c in zip(wts, corners, strict=True)]
    total = np.maximum(sum(wts), 1e-12)
    coords = [sum(wt * m[c] for wt, c in zip(wts, corners, strict=True)) / total for m in (rs.t[0], rs.q1[0], rs.q2[0])]
    pts = decode_points(tgt_body, np.zeros_like(part), part, *coords)
    err = np.hypot(pts[:, 0] - xs, pts[:, 1] - ys)
    return np.where(sum(wts) > 0, err, np.inf)


@pytest.mark.parametrize("pair", ["walking", "arm", "shift"])
def test_warped_source_intrinsic_map_matches_target(pair: str) -> None:
    src, tgt = {
        "walking": (frontal(), walking()),
        "arm": (arm_across(), walking()),
        "shift": (walking(), walking() + np.array([3.3, -2.6], dtype=np.float32)),
    }[pair]
    err = _intrinsic_error(src, tgt)
    assert err.size > 1000
    assert (err < 1.0).mean() >= 0.95


def test_batch_matches_single() -> None:
    pairs = [(frontal(), walking()), (arm_across(), frontal()), (frontal(), back_view())]
    src = np.stack([p[0] for p in pairs])
    tgt = np.stack([p[1] for p in pairs])
    flow_b, vis_b = compute_flow_batch(src, tgt, SIZE)
    assert flow_b.shape == (3, 2, H, W) and vis_b.shape == (3, H, W)
    for i, (s, t) in enumerate(pairs):
        f, v = compute_flow(s, t, SIZE)
        np.testing.assert_array_equal(v, vis_b[i])
        np.testing.assert_allclose(f, flow_b[i], atol=1e-4)


def test_widths_are_shared_with_the_target_by_default(pose_frontal: np.ndarray) -> None:
    wide = np.full(NUM_PARTS, 1.4, dtype=np.float32)
    _, vis_default = compute_flow(pose_frontal, pose_frontal)
    _, vis_wide = compute_flow(pose_frontal, pose_frontal, src_widths=wide)
    assert _body(vis_wide).sum() > 1.2 * _body(vis_default).sum()
    # Identity keeps its build: same widths on both sides -> still all visible, zero flow.
    assert np.all(vis_wide[_body(vis_wide)] == 0)
    # A thinner target body (explicit tgt_widths) shows only points the source also shows.
    _, vis_thin = compute_flow(pose_frontal, pose_frontal, src_widths=wide, tgt_widths=np.ones(NUM_PARTS))
    assert _body(vis_thin).sum() == _body(vis_default).sum()


def test_other_image_sizes(pose_frontal: np.ndarray) -> None:
    big = pose_frontal * 2.0
    flow, vis = compute_flow(big, big, size=(256, 128))
    assert flow.shape == (2, 256, 128) and _body(vis).sum() > 4 * 1500


def test_bad_inputs_raise(pose_frontal: np.ndarray) -> None:
    with pytest.raises(DataError):
        compute_flow(pose_frontal[:17], pose_frontal)
    with pytest.raises(DataError):
        compute_flow_batch(pose_frontal[None], np.stack([pose_frontal] * 2))
    with pytest.raises(DataError):
        compute_flow(pose_frontal, pose_frontal, src_widths=np.ones(3))
    with pytest.raises(DataError):
        compute_flow(pose_frontal, pose_frontal, size=(0, 64))


def test_empty_poses_give_background(pose_frontal: np.ndarray) -> None:
    empty = np.full((18, 2), np.nan, dtype=np.float32)
    flow, vis = compute_flow(pose_frontal, empty)
    assert np.all(vis == 2) and np.all(flow == 0)
    flow, vis = compute_flow(empty, pose_frontal)  # a source guessed from nothing: all hidden
    body = _body(vis)
    assert body.sum() > 1500 and np.all(vis[body] == 1) and np.isfinite(flow).all()
