"""PixelWarper: blend identity, warped source, shapes, bad input."""

from __future__ import annotations

import pytest
import torch

from diaflow_core.models import PixelWarper, PixelWarperConfig
from diaflow_core.ops import ShapeError, warp

TINY = PixelWarperConfig(levels=2, ch_min=4, ch_max=8)


def test_forward_backward(device: str) -> None:
    torch.manual_seed(0)
    net = PixelWarper(TINY).to(device)
    x1 = torch.rand(2, 3, 32, 16, device=device) * 2 - 1
    gen = (torch.rand(2, 3, 32, 16, device=device) * 2 - 1).requires_grad_()
    flow = torch.randn(2, 2, 32, 16, device=device) * 2
    vis = torch.randint(0, 3, (2, 32, 16), device=device)
    out, z, x_w = net(x1, gen, flow, vis)
    assert out.shape == x1.shape and z.shape == (2, 1, 32, 16) and x_w.shape == x1.shape
    assert (z > 0).all() and (z < 1).all()
    torch.testing.assert_close(x_w, warp(x1, flow))
    torch.testing.assert_close(out, z * x_w + (1 - z) * gen)
    out.mean().backward()
    assert gen.grad is not None and all(p.grad is not None for p in net.parameters())


def test_fresh_net_starts_near_the_generator() -> None:
    torch.manual_seed(0)
    x1, gen = torch.rand(2, 3, 32, 16) * 2 - 1, torch.rand(2, 3, 32, 16) * 2 - 1
    flow, vis = torch.randn(2, 2, 32, 16) * 3, torch.randint(0, 3, (2, 32, 16))
    for gate in (-3.0, 0.0):
        net = PixelWarper(PixelWarperConfig(levels=2, ch_min=4, ch_max=8, gate_init=gate))
        out, z, x_w = net(x1, gen, flow, vis)
        w = torch.sigmoid(torch.tensor(gate))
        torch.testing.assert_close(z, torch.full_like(z, float(w)))  # the same weight everywhere
        torch.testing.assert_close(out, w * x_w + (1 - w) * gen)
    net = PixelWarper(TINY)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(2):  # the zero head is not a dead end: the gate learns to follow the target
        opt.zero_grad()
        out, z, x_w = net(x1, gen, flow, vis)
        (out - x_w).abs().mean().backward()
        opt.step()
    assert net(x1, gen, flow, vis)[1].mean() > torch.sigmoid(torch.tensor(TINY.gate_init))


def test_zero_flow_warps_to_source() -> None:
    net = PixelWarper(TINY).eval()
    x1 = torch.rand(1, 3, 16, 8)
    _, _, x_w = net(x1, torch.zeros_like(x1), torch.zeros(1, 2, 16, 8), torch.zeros(1, 16, 8, dtype=torch.long))
    torch.testing.assert_close(x_w, x1, atol=1e-5, rtol=1e-5)


def test_bad_input() -> None:
    net = PixelWarper(TINY)
    x1 = torch.rand(1, 3, 16, 8)
    with pytest.raises(ShapeError):
        net(x1, x1[..., :4], torch.zeros(1, 2, 16, 8), torch.zeros(1, 16, 8, dtype=torch.long))
    with pytest.raises(ShapeError):
        net(x1, x1, torch.zeros(1, 2, 16, 8), torch.zeros(1, 16, 8))
