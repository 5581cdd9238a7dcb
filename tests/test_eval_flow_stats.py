"""Flow-regressor figures: EPE on body pixels only, visibility accuracy and IoU on hand-made maps."""

from __future__ import annotations

import pytest
import torch

from diaflow_core.evaluation.flow import FlowStats


def test_known_values() -> None:
    gt_flow = torch.zeros(1, 2, 2, 2)
    flow = torch.zeros(1, 2, 2, 2)
    flow[0, 0, 0, 0] = 3.0  # body pixel (class 0): error 3
    flow[0, :, 0, 1] = torch.tensor([3.0, 4.0])  # body pixel (class 1): error 5
    flow[0, 0, 1, 1] = 100.0  # background: ignored
    vis_gt = torch.tensor([[[0, 1], [2, 2]]])
    logits = torch.zeros(1, 3, 2, 2)
    pred = torch.tensor([[0, 0], [2, 2]])  # one mistake: hidden predicted visible
    logits.scatter_(1, pred[None, None], 1.0)
    s = FlowStats()
    s.update(flow, logits, gt_flow, vis_gt)
    out = s.summary()
    assert out["epe"] == pytest.approx(4.0)
    assert out["epe_visible"] == pytest.approx(3.0) and out["epe_hidden"] == pytest.approx(5.0)
    assert out["vis_accuracy"] == pytest.approx(0.75)
    assert out["iou_visible"] == pytest.approx(0.5) and out["iou_hidden"] == pytest.approx(0.0)
    assert out["iou_background"] == pytest.approx(1.0)
    assert out["pairs"] == 1


def test_accumulates_over_batches_exactly() -> None:
    torch.manual_seed(0)
    f, g = torch.randn(4, 2, 8, 4), torch.randn(4, 2, 8, 4)
    v = torch.randint(0, 3, (4, 8, 4))
    lg = torch.randn(4, 3, 8, 4)
    whole, parts = FlowStats(), FlowStats()
    whole.update(f, lg, g, v)
    parts.update(f[:1], lg[:1], g[:1], v[:1])
    parts.update(f[1:], lg[1:], g[1:], v[1:])
    for k, val in whole.summary().items():
        assert parts.summary()[k] == pytest.approx(val)


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError):
        FlowStats().update(
            torch.zeros(1, 2, 4, 4),
            torch.zeros(1, 3, 4, 4),
            torch.zeros(1, 2, 4, 3),
            torch.zeros(1, 4, 4, dtype=torch.long),
        )
