"""Generators (full, ablations), FeatureWarp modes, channels_last and autocast."""

from __future__ import annotations

import pytest
import torch

from diaflow_core.errors import ConfigError
from diaflow_core.models import (
    DualPathGenerator,
    FeatureWarp,
    GeneratorConfig,
    UNetGenerator,
    build_generator,
)
from diaflow_core.ops import ShapeError, warp

TINY = {"levels": 3, "ch_min": 4, "ch_max": 8, "warp_levels": 2}


def _inputs(device: str, b: int = 2, h: int = 32, w: int = 16):
    g = torch.Generator().manual_seed(0)
    x1 = torch.rand(b, 3, h, w, generator=g) * 2 - 1
    p2 = torch.rand(b, 18, h, w, generator=g)
    flow = torch.randn(b, 2, h, w, generator=g) * 3
    vis = torch.randint(0, 3, (b, h, w), generator=g)
    return x1.to(device), p2.to(device), flow.to(device), vis.to(device)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"vis_mode": "none"},
        {"vis_mode": "residual"},
        {"use_flow": False},
        {"dual_encoder": False},
        {"warp_levels": 0},
    ],
)
def test_variants_forward_backward(device: str, overrides: dict) -> None:
    cfg = GeneratorConfig(**{**TINY, **overrides})
    net = build_generator(cfg).to(device)
    assert isinstance(net, DualPathGenerator if cfg.dual_encoder else UNetGenerator)
    x1, p2, flow, vis = _inputs(device)
    out = net(x1, p2, flow, vis)
    assert out.shape == x1.shape and out.abs().max() <= 1
    out.mean().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_flow_none_when_not_warping(device: str) -> None:
    x1, p2, _, _ = _inputs(device)
    net = build_generator(GeneratorConfig(**TINY, use_flow=False)).to(device)
    assert net(x1, p2).shape == x1.shape
    with pytest.raises(ShapeError):
        build_generator(GeneratorConfig(**TINY)).to(device)(x1, p2)


def test_bad_input_and_config() -> None:
    net = build_generator(GeneratorConfig(**TINY))
    x1, p2, flow, vis = _inputs("cpu")
    with pytest.raises(ShapeError):
        net(x1[:, :2], p2, flow, vis)
    with pytest.raises(ShapeError):
        net(x1, p2, flow[..., :8], vis)
    with pytest.raises(ShapeError):
        net(x1[..., :12], p2[..., :12], flow[..., :12], vis[..., :12])  # 12 not divisible by 8
    with pytest.raises(ConfigError):
        GeneratorConfig(vis_mode="soft")
    with pytest.raises(ConfigError):
        GeneratorConfig(levels=3, warp_levels=4)


def test_flow_changes_output_only_when_used() -> None:
    x1, p2, flow, vis = _inputs("cpu")
    for use_flow, changes in ((True, True), (False, False)):
        net = build_generator(GeneratorConfig(**TINY, use_flow=use_flow)).eval()
        a, b = net(x1, p2, flow, vis), net(x1, p2, flow + 2.0, vis)
        assert (not torch.allclose(a, b)) == changes


def test_feature_warp_none_is_plain_warp(device: str) -> None:
    fw = FeatureWarp(4, "none").to(device)
    feat = torch.randn(1, 4, 8, 4, device=device)
    flow = torch.zeros(1, 2, 16, 8, device=device)
    flow[:, 0] = 2.0  # 1 px at the feature's half resolution
    vis = torch.zeros(1, 16, 8, dtype=torch.long, device=device)
    out = fw(feat, flow, vis)
    torch.testing.assert_close(out, warp(feat, flow[:, :, ::2, ::2] / 2))
    torch.testing.assert_close(out[..., :-1], feat[..., 1:], atol=1e-5, rtol=1e-5)


def test_feature_warp_gate_ignores_background(device: str) -> None:
    """In "gate" mode, features warped onto background pixels cannot reach the output."""
    fw = FeatureWarp(4, "gate").to(device).eval()
    flow = torch.zeros(1, 2, 8, 4, device=device)
    vis = torch.full((1, 8, 4), 2, dtype=torch.long, device=device)
    a = fw(torch.randn(1, 4, 8, 4, device=device), flow, vis)
    b = fw(torch.randn(1, 4, 8, 4, device=device), flow, vis)
    torch.testing.assert_close(a, b)
    vis[:, 2, 2] = 0
    c = fw(torch.randn(1, 4, 8, 4, device=device), flow, vis)
    assert not torch.allclose(a, c)
    with pytest.raises(ConfigError):
        FeatureWarp(4, "soft")


def test_channels_last_matches(device: str) -> None:
    net = build_generator(GeneratorConfig(**TINY)).to(device).eval()
    x1, p2, flow, vis = _inputs(device)
    ref = net(x1, p2, flow, vis)
    net = net.to(memory_format=torch.channels_last)
    out = net(x1.to(memory_format=torch.channels_last), p2.to(memory_format=torch.channels_last), flow, vis)
    torch.testing.assert_close(out, ref, atol=1e-4, rtol=1e-4)


def test_autocast(device: str) -> None:
    dtype = torch.bfloat16 if device == "cpu" else torch.float16
    net = build_generator(GeneratorConfig(**TINY)).to(device)
    x1, p2, flow, vis = _inputs(device)
    with torch.autocast(device_type=device, dtype=dtype):
        out = net(x1, p2, flow, vis)
    assert torch.isfinite(out.float()).all()
    out.float().mean().backward()


def test_reference_size_smoke() -> None:
    net = build_generator(GeneratorConfig())
    x1, p2, flow, vis = _inputs("cpu", h=128, w=64)
    out = net(x1, p2, flow, vis)
    assert out.shape == (2, 3, 128, 64)
    out.mean().backward()
