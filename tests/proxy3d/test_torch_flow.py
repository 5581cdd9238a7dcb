"""Parity of the PyTorch (dense) proxy-body flow ground truth with the numpy one, on varied synthetic poses."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import SIZE, arm_across, back_view, frontal, make_pose, walking

from diaflow_core.errors import ConfigError, DataError
from diaflow_core.proxy3d import (
    NUM_PARTS,
    compute_flow_batch,
    compute_flow_batch_torch,
    flow_between_bodies,
    flow_between_bodies_torch,
    lift_pair,
)

CUDA = pytest.param(
    "cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: GPU parity not checked")
)


def _profile() -> np.ndarray:
    """Side view facing +x: shoulders and hips nearly overlap, one eye and one ear."""
    return make_pose({
        0: (41, 13), 1: (32, 24), 2: (30, 25), 3: (31, 45), 4: (33, 62), 5: (35, 25), 6: (36, 45), 7: (38, 62),
        8: (31, 60), 9: (33, 88), 10: (31, 114), 11: (34, 60), 12: (36, 88), 13: (34, 114), 14: (38, 10), 16: (31, 11),
    })  # fmt: skip


def _varied(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` poses at 128x64: a base pose (front, back, side, walking, arm across) jittered, scaled, rotated,
    sometimes mirrored, shifted partly out of the frame, with joints dropped."""
    bases = [frontal(), back_view(), _profile(), walking(), arm_across()]
    centre = np.array([32.0, 64.0], dtype=np.float32)
    out = []
    for i in range(n):
        kp = bases[i % len(bases)] + rng.normal(0, 2.0, size=(18, 2)).astype(np.float32)
        a = rng.uniform(-0.3, 0.3)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], dtype=np.float32)
        kp = (kp - centre) @ rot.T * rng.uniform(0.75, 1.15) + centre
        if rng.random() < 0.3:
            kp[:, 0] = 63.0 - kp[:, 0]  # mirrored coordinates, labels kept
        if rng.random() < 0.25:
            kp = kp + rng.uniform([-30, -45], [30, 45]).astype(np.float32)  # partly out of frame
        kp[rng.choice(18, size=rng.integers(0, 4), replace=False)] = np.nan
        out.append(kp)
    return np.stack(out).astype(np.float32)


def _pairs(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Random pairs plus fixed corner cases: identity, an empty target, an empty source."""
    rng = np.random.default_rng(seed)
    src, tgt = _varied(rng, n), _varied(rng, n)
    tgt[0] = src[0]
    tgt[1] = np.nan
    src[2] = np.nan
    return src, tgt


def _check_parity(ref: tuple[np.ndarray, np.ndarray], got: tuple[torch.Tensor, torch.Tensor]) -> None:
    flow_np, vis_np = ref
    flow, vis = got[0].cpu().numpy(), got[1].cpu().numpy()
    assert flow.shape == flow_np.shape and flow.dtype == np.float32
    assert vis.shape == vis_np.shape and vis.dtype == np.uint8
    agree = vis == vis_np
    assert agree.mean() >= 0.999, f"visibility agrees on {agree.mean():.5%} of pixels"
    body = agree & (vis_np < 2)
    assert body.sum() > 1000
    diff = np.abs(flow - flow_np).max(axis=1)[body]
    assert diff.max() <= 1e-3, f"max flow difference {diff.max():.3g} px"
    assert np.all(flow.transpose(1, 0, 2, 3)[:, vis == 2] == 0)
    if got[0].device.type == "cpu":  # same float32 ops in the same order: exactly the numpy result
        assert np.array_equal(vis, vis_np) and np.array_equal(flow, flow_np)


@pytest.mark.parametrize("device", ["cpu", CUDA])
def test_parity_128x64(device: str) -> None:
    src, tgt = _pairs(0, 36)
    got = compute_flow_batch_torch(src, tgt, SIZE, device=device)
    assert got[0].device.type == device and got[1].device.type == device
    _check_parity(compute_flow_batch(src, tgt, SIZE), got)


@pytest.mark.parametrize("device", ["cpu", CUDA])
def test_parity_other_size_and_widths(device: str) -> None:
    # 96x72: another aspect ratio (catches H/W mix-ups); the poses shrink and move right to fit it.
    rng = np.random.default_rng(1)
    src, tgt = (0.75 * p + np.float32(12.0) for p in _pairs(1, 20))
    src_w = rng.uniform(0.7, 1.6, size=(20, NUM_PARTS)).astype(np.float32)
    tgt_w = rng.uniform(0.7, 1.6, size=(20, NUM_PARTS)).astype(np.float32)
    got = compute_flow_batch_torch(src, tgt, (96, 72), device=device, src_widths=src_w, tgt_widths=tgt_w)
    _check_parity(compute_flow_batch(src, tgt, (96, 72), src_widths=src_w, tgt_widths=tgt_w), got)


def test_bodies_entry_point_and_chunking_do_not_change_the_result() -> None:
    src, tgt = _pairs(2, 10)
    src_body, tgt_body = lift_pair(src, tgt, SIZE)
    whole = flow_between_bodies_torch(src_body, tgt_body, SIZE, chunk=64)
    for a, b in zip(whole, flow_between_bodies_torch(src_body, tgt_body, SIZE, chunk=3), strict=True):
        assert torch.equal(a, b)
    _check_parity(flow_between_bodies(src_body, tgt_body, SIZE), whole)


def test_identity_and_empty_poses() -> None:
    empty = np.full((18, 2), np.nan, dtype=np.float32)
    src = np.stack([frontal(), frontal(), empty])
    tgt = np.stack([frontal(), empty, frontal()])
    flow, vis = compute_flow_batch_torch(src, tgt, SIZE)
    body = vis[0] < 2
    assert body.sum() > 1500 and torch.all(vis[0][body] == 0) and flow[0].abs().max() < 1e-3
    assert torch.all(vis[1] == 2) and torch.all(flow[1] == 0)
    assert torch.all(vis[2][vis[2] < 2] == 1) and (vis[2] < 2).sum() > 1500  # a guessed source: all hidden


def test_bad_inputs_raise() -> None:
    kp = np.stack([frontal()] * 2)
    with pytest.raises(DataError):
        compute_flow_batch_torch(kp[:, :17], kp)
    with pytest.raises(DataError):
        compute_flow_batch_torch(kp[:1], kp)  # batch sizes differ
    with pytest.raises(DataError):
        compute_flow_batch_torch(kp, kp[0])  # a single target pose is not a batch
    with pytest.raises(DataError):
        compute_flow_batch_torch(kp, kp, size=(0, 64))
    with pytest.raises(DataError):
        compute_flow_batch_torch(kp, kp, src_widths=np.ones(3))
    src_body, tgt_body = lift_pair(kp, kp, SIZE)
    with pytest.raises(DataError):
        flow_between_bodies_torch(src_body.select(0), tgt_body, SIZE)
    with pytest.raises(ConfigError):
        flow_between_bodies_torch(src_body, tgt_body, SIZE, chunk=0)
