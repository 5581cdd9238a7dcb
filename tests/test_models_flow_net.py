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


def test_refine_head_starts_as_the_plain_network_and_then_corrects_it() -> None:
    """Zero-initialised output convs: a refine model with a plain model's trunk weights gives the same
    outputs; once its output convs move, only the full-resolution outputs change."""
    torch.manual_seed(0)
    plain = FlowRegressor(TINY).eval()
    ref = FlowRegressor(FlowRegressorConfig(**{**TINY.__dict__, "refine": True})).eval()
    missing, unexpected = ref.load_state_dict(plain.state_dict(), strict=False)
    assert unexpected == [] and missing and all(k.startswith("refine.") for k in missing)
    p1, p2 = torch.rand(2, 18, 32, 16), torch.rand(2, 18, 32, 16)
    a, b = plain(p1, p2), ref(p1, p2)
    for fa, fb in zip(a.flows, b.flows, strict=True):
        torch.testing.assert_close(fb, fa)
    torch.testing.assert_close(b.vis_logits, a.vis_logits)
    with torch.no_grad():
        ref.refine.flow.bias.fill_(0.1)  # +0.1 flow units = +2 px in x and y everywhere
        ref.refine.vis.bias.copy_(torch.tensor([0.0, 0.0, 1.0]))
    c = ref(p1, p2)
    torch.testing.assert_close(c.flows[0], a.flows[0] + 0.1 * TINY.flow_unit)
    for fa, fc in zip(a.flows[1:], c.flows[1:], strict=True):
        torch.testing.assert_close(fc, fa)
    torch.testing.assert_close(c.vis_logits[:, 2], a.vis_logits[:, 2] + 1.0)


def test_refine_head_trains() -> None:
    torch.manual_seed(0)
    net = FlowRegressor(FlowRegressorConfig(**{**TINY.__dict__, "refine": True}))
    pred = net(torch.rand(2, 18, 32, 16), torch.rand(2, 18, 32, 16))
    (pred.flows[0].abs().mean() + pred.vis_logits.mean()).backward()
    assert net.refine.flow.weight.grad.abs().sum() > 0 and net.refine.vis.weight.grad.abs().sum() > 0
    with pytest.raises(ConfigError, match="refine needs stem_levels"):
        FlowRegressorConfig(stem_levels=0, refine=True)


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
