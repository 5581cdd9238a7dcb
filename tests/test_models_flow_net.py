"""FlowRegressor: multi-scale outputs, units, bad input, real-size smoke run."""

from __future__ import annotations

import pytest
import torch

from diaflow_core.errors import ConfigError
from diaflow_core.models import FlowRegressor, FlowRegressorConfig
from diaflow_core.ops import ShapeError, resize_flow

TINY = FlowRegressorConfig(ch_min=4, ch_max=8, levels=2, stem_levels=1)


def test_tiny_forward_backward(device: str) -> None:
    torch.manual_seed(0)
    net = FlowRegressor(TINY).to(device)
    p1, p2 = torch.rand(2, 18, 32, 16, device=device), torch.rand(2, 18, 32, 16, device=device)
    pred = net(p1, p2)
    assert [tuple(f.shape) for f in pred.flows] == [(2, 2, 32, 16), (2, 2, 16, 8), (2, 2, 8, 4)]
    assert pred.vis_logits.shape == (2, 3, 32, 16)
    (sum(f.abs().mean() for f in pred.flows) + pred.vis_logits.mean()).backward()
    assert all(p.grad is not None for p in net.parameters())
    flow, vis = net.eval().infer(p1, p2)
    assert flow.dtype == torch.float32 and vis.dtype == torch.int64 and vis.shape == (2, 32, 16)


def test_flow_unit_scales_outputs() -> None:
    """Raw head outputs times flow_unit / scale: doubling flow_unit doubles every flow."""
    torch.manual_seed(0)
    a = FlowRegressor(TINY).eval()
    b = FlowRegressor(FlowRegressorConfig(**{**TINY.__dict__, "flow_unit": 40.0})).eval()
    b.load_state_dict(a.state_dict())
    p = torch.rand(1, 18, 32, 16)
    for fa, fb in zip(a(p, p).flows, b(p, p).flows, strict=True):
        torch.testing.assert_close(fb, 2 * fa)


def test_full_res_is_upsampled_half_res() -> None:
    net = FlowRegressor(TINY).eval()
    p = torch.rand(1, 18, 32, 16)
    flows = net(p, p).flows
    torch.testing.assert_close(flows[0], resize_flow(flows[1], (32, 16), mode="bilinear"))
    assert flows[0].abs().mean() > 1.5 * flows[1].abs().mean()  # values doubled with the grid


def test_bad_input() -> None:
    net = FlowRegressor(TINY)
    with pytest.raises(ShapeError):
        net(torch.rand(1, 17, 32, 16), torch.rand(1, 17, 32, 16))
    with pytest.raises(ShapeError):
        net(torch.rand(1, 18, 32, 16), torch.rand(1, 18, 16, 16))
    with pytest.raises(ShapeError):
        net(torch.rand(1, 18, 36, 16), torch.rand(1, 18, 36, 16))  # 36 not divisible by 8
    with pytest.raises(ConfigError):
        FlowRegressorConfig(flow_unit=0)


def test_reference_size_smoke() -> None:
    net = FlowRegressor()
    p1, p2 = torch.rand(2, 18, 128, 64), torch.rand(2, 18, 128, 64)
    pred = net(p1, p2)
    assert [f.shape[-2:] for f in pred.flows] == [(128, 64), (64, 32), (32, 16), (16, 8), (8, 4)]
    pred.flows[0].mean().backward()
