"""FlowRegressor: multi-scale outputs, units, bad input, real-size smoke run."""

from __future__ import annotations

import pytest
import torch

from diaflow_core.errors import ConfigError
from diaflow_core.models import FlowRegressor, FlowRegressorConfig
from diaflow_core.models.flow_net import joint_offset_hint
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


def test_joint_offset_hint_carries_each_joints_displacement_on_its_target_disc() -> None:
    """Two joints with known positions in both poses, one joint only in the target: each present joint's
    target disc holds (source - target) / unit, the lone joint's disc and the rest hold nothing."""
    from diaflow_core.pose import pose_heatmaps_torch

    nan = float("nan")
    src = torch.full((1, 18, 2), nan)
    tgt = torch.full((1, 18, 2), nan)
    src[0, 0], tgt[0, 0] = torch.tensor([10.0, 12.0]), torch.tensor([20.0, 20.0])  # moves (-10, -8)
    src[0, 5], tgt[0, 5] = torch.tensor([40.0, 90.0]), torch.tensor([30.0, 60.0])  # moves (+10, +30)
    tgt[0, 9] = torch.tensor([16.0, 100.0])  # missing in the source
    p1, p2 = pose_heatmaps_torch(src, (128, 64), 4.0), pose_heatmaps_torch(tgt, (128, 64), 4.0)
    hint = joint_offset_hint(p1, p2, flow_unit=20.0)
    assert hint.shape == (1, 3, 128, 64)
    torch.testing.assert_close(hint[0, :2, 20, 20], torch.tensor([-10.0, -8.0]) / 20)
    torch.testing.assert_close(hint[0, :2, 60, 30], torch.tensor([10.0, 30.0]) / 20)
    assert hint[0, 2, 60, 30] == 1 and hint[0, 2, 100, 16] == 0 and hint[0, :, 100, 16].abs().sum() == 0
    assert int(hint[0, 2].sum()) == int(p2[0, 0].sum() + p2[0, 5].sum())  # only the two discs are covered


def test_joint_hint_starts_as_the_plain_network_and_trains() -> None:
    """The hint's 1x1 conv starts at zero: weights of a network without it give the same outputs; its weight
    gets a gradient, so training can learn to use it."""
    torch.manual_seed(0)
    plain = FlowRegressor(TINY).eval()
    hinted = FlowRegressor(FlowRegressorConfig(**{**TINY.__dict__, "joint_hint": True})).eval()
    missing, unexpected = hinted.load_state_dict(plain.state_dict(), strict=False)
    assert unexpected == [] and missing == ["hint.weight"]
    p1, p2 = (torch.rand(2, 18, 32, 16) > 0.9).float(), (torch.rand(2, 18, 32, 16) > 0.9).float()
    a, b = plain(p1, p2), hinted(p1, p2)
    for fa, fb in zip(a.flows, b.flows, strict=True):
        torch.testing.assert_close(fb, fa)
    hinted.train()
    hinted(p1, p2).flows[0].abs().mean().backward()
    assert hinted.hint.weight.grad is not None and hinted.hint.weight.grad.abs().sum() > 0


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
