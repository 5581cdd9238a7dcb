"""diaflow_core.pose: joint sets, conversions, heatmaps, masks, flips, geometry, drawing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from diaflow_core import pose as P
from diaflow_core.errors import DataError


def _standing(dx: float = 0.0, dy: float = 0.0, s: float = 1.0) -> np.ndarray:
    """A frontal person in a 128x64 crop (x, y), optionally scaled then shifted."""
    kp = np.array(
        [
            [32, 14], [32, 26], [22, 26], [19, 44], [18, 60], [42, 26], [45, 44], [46, 60],
            [26, 64], [26, 92], [26, 120], [38, 64], [38, 92], [38, 118], [30, 12], [34, 12],
            [27, 13], [37, 13],
        ],
        dtype=np.float32,
    )  # fmt: skip
    return kp * s + np.array([dx, dy], dtype=np.float32)


def test_joint_tables_consistent():
    assert len(P.OPENPOSE18) == 18 and len(P.COCO17) == 17 and len(P.BLAZEPOSE33) == 33
    assert len(P.LIMB_COLORS18) == len(P.LIMBS18)
    assert all(0 <= a < 18 and 0 <= b < 18 for a, b in P.MASK_LIMBS18)
    # the flip permutation swaps l_* and r_* names and is an involution
    for i, j in enumerate(P.FLIP_PERMUTATION18):
        a, b = P.OPENPOSE18[i], P.OPENPOSE18[j]
        assert a == b or {a[:2], b[:2]} == {"l_", "r_"} and a[2:] == b[2:]
        assert P.FLIP_PERMUTATION18[j] == i


def test_coco17_mapping_by_name():
    kp17 = np.stack([np.arange(17), 100 + np.arange(17)], axis=1).astype(np.float32)
    out = P.coco17_to_openpose18(kp17)
    assert out.shape == (18, 2) and out.dtype == np.float32
    for i, name in enumerate(P.OPENPOSE18):
        if name != "neck":
            np.testing.assert_array_equal(out[i], kp17[P.COCO17.index(name)])
    np.testing.assert_array_equal(out[1], 0.5 * (kp17[5] + kp17[6]))


def test_coco17_scores_threshold_and_batch():
    kp17 = np.random.default_rng(0).uniform(0, 60, (3, 17, 2)).astype(np.float32)
    scores = np.ones((3, 17), np.float32)
    scores[1, P.COCO17.index("l_shoulder")] = 0.1  # low score: l_shoulder and the neck go missing
    out = P.coco17_to_openpose18(kp17, scores, threshold=0.3)
    assert out.shape == (3, 18, 2)
    vis = P.visible(out)
    assert vis[0].all() and vis[2].all()
    assert not vis[1, P.OPENPOSE18.index("l_shoulder")] and not vis[1, 1]
    assert vis[1].sum() == 16


def test_coco17_bad_shapes():
    with pytest.raises(DataError, match=r"\(17, 2\)"):
        P.coco17_to_openpose18(np.zeros((18, 2)))
    with pytest.raises(DataError, match="scores"):
        P.coco17_to_openpose18(np.zeros((17, 2)), np.ones(16))


def test_blazepose33_mapping_by_name():
    kp33 = np.stack([np.arange(33), 200 + np.arange(33)], axis=1).astype(np.float32)
    vis = np.ones(33, np.float32)
    vis[P.BLAZEPOSE33.index("r_ear")] = 0.2
    out = P.blazepose33_to_openpose18(kp33, vis)
    for i, name in enumerate(P.OPENPOSE18):
        if name == "neck":
            np.testing.assert_array_equal(out[i], 0.5 * (kp33[11] + kp33[12]))
        elif name == "r_ear":
            assert np.isnan(out[i]).all()
        else:
            np.testing.assert_array_equal(out[i], kp33[P.BLAZEPOSE33.index(name)])
    with pytest.raises(DataError):
        P.blazepose33_to_openpose18(np.zeros((17, 2)))


def test_heatmap_disc_pixel_counts():
    kp = np.full((18, 2), np.nan, np.float32)
    kp[0] = (30, 60)  # interior: lattice points with x^2 + y^2 <= 16
    kp[1] = (0, 0)  # corner: the quarter disc
    kp[2] = (30.5, 60.5)  # half-pixel centre: 4 * (points with (i+.5)^2 + (j+.5)^2 <= 16, i, j >= 0)
    hm = P.pose_heatmaps(kp, (128, 64), radius=4.0)
    assert hm.shape == (18, 128, 64) and hm.dtype == np.float32
    assert hm[0].sum() == 49 and hm[0, 60, 30] == 1 and hm[0, 60, 34] == 1 and hm[0, 60, 35] == 0
    assert hm[1].sum() == 17
    assert hm[2].sum() == 52
    assert hm[3:].sum() == 0
    assert P.pose_heatmaps(kp, (128, 64), radius=1.0)[0].sum() == 5


def test_heatmap_torch_equals_numpy():
    rng = np.random.default_rng(1)
    kp = rng.uniform(-5, 70, (4, 18, 2)).astype(np.float32)
    kp[rng.random((4, 18)) < 0.3] = np.nan
    kp[0, :4] = [[0, 0], [63, 127], [10.5, 20.25], [31, 64]]
    ref = np.stack([P.pose_heatmaps(k, (128, 64), 4.0) for k in kp])
    got = P.pose_heatmaps_torch(torch.from_numpy(kp), (128, 64), 4.0)
    assert got.shape == (4, 18, 128, 64) and got.dtype == torch.float32
    np.testing.assert_array_equal(got.numpy(), ref)


def test_heatmap_torch_device(device):
    kp = torch.tensor(_standing())[None].to(device)
    got = P.pose_heatmaps_torch(kp, (128, 64), 4.0)
    assert got.device.type == device
    np.testing.assert_array_equal(got.cpu().numpy()[0], P.pose_heatmaps(_standing()))


def test_heatmap_bad_input():
    with pytest.raises(DataError):
        P.pose_heatmaps(np.zeros((17, 2)))
    with pytest.raises(DataError):
        P.pose_heatmaps(np.zeros((18, 2)), (0, 64))
    with pytest.raises(DataError, match=r"\(B, 18, 2\)"):
        P.pose_heatmaps_torch(torch.zeros(18, 2))


def test_body_mask_covers_limb():
    kp = np.full((18, 2), np.nan, np.float32)
    kp[8] = (10, 64)  # r_hip -> r_knee, a horizontal limb
    kp[9] = (50, 64)
    m = P.body_mask(kp, (128, 64))
    assert m.shape == (128, 64) and m.dtype == bool
    assert m[64, 10:51].all()  # the segment
    assert m[60:69, 30].all()  # centres within 4 px of the segment, edges included
    assert not m[59, 30] and not m[69, 30]
    assert not m[64, 56] and not m[:50].any()
    # 41 x 9 rectangle + 19 pixels of each end disc (|d| < 4) beyond the segment's ends
    raw = P.body_mask(kp, (128, 64), close_kernel=1)
    assert raw.sum() == 41 * 9 + 2 * 19
    assert (m >= raw).all()


def test_body_mask_close_fills_gaps_and_empty_pose():
    kp = _standing()
    open_mask = P.body_mask(kp, close_kernel=1)
    closed = P.body_mask(kp)
    assert (closed >= open_mask).all() and closed.sum() > open_mask.sum()
    assert closed[40, 32]  # torso centre, inside the shoulder-hip polygon
    assert not P.body_mask(np.full((18, 2), np.nan, np.float32)).any()
    with pytest.raises(DataError):
        P.body_mask(np.zeros((2, 18, 2)))


def test_flip_pose_numpy_and_torch():
    kp = _standing(dx=3.0)
    kp[4] = np.nan
    f = P.flip_pose(kp, 64)
    assert f.shape == (18, 2)
    ls, rs = P.OPENPOSE18.index("l_shoulder"), P.OPENPOSE18.index("r_shoulder")
    np.testing.assert_array_equal(f[ls], [63 - kp[rs, 0], kp[rs, 1]])
    assert np.isnan(f[P.OPENPOSE18.index("l_wrist")]).all()
    np.testing.assert_array_equal(P.flip_pose(f, 64), kp)
    t = torch.from_numpy(np.stack([kp, kp]))
    ft = P.flip_pose(t, 64)
    assert isinstance(ft, torch.Tensor) and ft.shape == (2, 18, 2)
    np.testing.assert_array_equal(ft[1].numpy(), f)
    with pytest.raises(DataError):
        P.flip_pose(np.zeros((17, 2)), 64)


def test_flip_matches_flipped_heatmaps():
    kp = _standing(dx=1.5)
    hm = P.pose_heatmaps(kp)
    hm_f = P.pose_heatmaps(P.flip_pose(kp, 64))
    np.testing.assert_array_equal(hm_f, hm[list(P.FLIP_PERMUTATION18)][:, :, ::-1])


def test_visible():
    kp = _standing()
    kp[3, 0] = np.nan
    v = P.visible(kp)
    assert v.shape == (18,) and v.dtype == bool and v.sum() == 17 and not v[3]


def test_draw_pose():
    img = np.zeros((128, 64, 3), np.uint8)
    out = P.draw_pose(img, _standing())
    assert out.shape == img.shape and out.dtype == np.uint8
    assert img.sum() == 0 and out[64, 26].any() and out[78, 26].any()  # joint and along the thigh
    assert not out[5, 60].any()
    with pytest.raises(DataError):
        P.draw_pose(img.astype(np.float32), _standing())


def test_geometry_known_values():
    kp = _standing()
    assert P.pose_torso_length(kp) == pytest.approx(np.hypot(0, 64 - 26))
    assert P.pose_leg_length(kp) == pytest.approx((28 + 28 + 28 + 26) / 2)
    assert P.pose_ground_y(kp) == 120
    assert P.pose_center_x(kp) == 32
    assert P.pose_bbox(kp) == (18, 12, 46, 120)
    kp[[10, 13]] = np.nan
    assert np.isnan(P.pose_ground_y(kp)) and np.isnan(P.pose_leg_length(kp))
    with pytest.raises(DataError):
        P.pose_bbox(np.full((18, 2), np.nan, np.float32))


def test_align_pose_recovers_scale_and_shift():
    ref = _standing(dx=-4, dy=-10, s=0.8)
    got = P.align_pose(_standing(), ref)
    np.testing.assert_allclose(got, ref, atol=1e-4)
    # without ankles the mid-hip anchors the height
    tgt = _standing(dx=7)
    tgt[[10, 13]] = np.nan
    got = P.align_pose(tgt, ref)
    np.testing.assert_allclose(got[:10], ref[:10], atol=1e-4)
