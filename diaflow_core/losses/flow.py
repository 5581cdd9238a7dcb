"""Flow regressor loss: multi-scale end-point error on body pixels + cross-entropy on visibility."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from diaflow_core.errors import ConfigError
from diaflow_core.ops.checks import ShapeError, check_flow, check_visibility
from diaflow_core.ops.resize import resize_flow_on_body
from diaflow_core.ops.visibility import NUM_VIS_CLASSES, resize_visibility

__all__ = ["FlowLossConfig", "end_point_error", "flow_loss"]


@dataclass(frozen=True)
class FlowLossConfig:
    """Weights of the flow regressor loss (recipe section ``flow_loss``).

    flow_weight: weight of the multi-scale EPE (measured in units of flow_unit pixels).
    vis_weight: weight of the visibility cross-entropy.
    level_weights: one weight per predicted scale (finest first); empty = equal weights.
    flow_unit: full-resolution pixels per unit, as the regressor's (20 at Market 128x64).
    vis_class_weights: optional cross-entropy class weights (visible, hidden, background).
    """

    flow_weight: float = 1.0
    vis_weight: float = 1.0
    level_weights: tuple[float, ...] = ()
    flow_unit: float = 20.0
    vis_class_weights: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.flow_unit <= 0 or self.flow_weight < 0 or self.vis_weight < 0:
            raise ConfigError(f"FlowLossConfig: weights must be >= 0 and flow_unit > 0, got {self}")
        if self.vis_class_weights and len(self.vis_class_weights) != NUM_VIS_CLASSES:
            raise ConfigError(f"FlowLossConfig: vis_class_weights needs {NUM_VIS_CLASSES} values")


def end_point_error(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, eps: float = 1e-9) -> torch.Tensor:
    """Mean Euclidean distance ||pred - target|| over mask pixels (0 when the mask is empty).

    Args:
        pred, target: (B, 2, H, W) flows in one unit.
        mask: (B, H, W) bool or {0, 1}.
    Returns:
        scalar in at least fp32 (float64 stays float64). ``eps`` inside the square root keeps the
        gradient finite at zero error.
    Convention: (x, y) channels; the unit is the caller's.
    """
    check_flow(pred, "pred")
    check_flow(target, "target")
    if pred.shape != target.shape or mask.shape != (pred.shape[0], *pred.shape[-2:]):
        raise ShapeError(
            f"pred {tuple(pred.shape)}, target {tuple(target.shape)} and mask {tuple(mask.shape)} disagree"
        )
    dt = _at_least_fp32(pred.dtype)
    err = ((pred.to(dt) - target.to(dt)).pow(2).sum(dim=1) + eps).sqrt()
    m = mask.to(dt)
    return (err * m).sum() / m.sum().clamp_min(1.0)


def flow_loss(
    flows: list[torch.Tensor],
    vis_logits: torch.Tensor,
    flow_gt: torch.Tensor,
    vis_gt: torch.Tensor,
    cfg: FlowLossConfig | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Total loss and its detached parts.

    Args:
        flows: predicted flows, any order of scales, each in pixels of its own grid (as
            FlowPrediction.flows).
        vis_logits: (B, 3, H, W) logits at full resolution.
        flow_gt: (B, 2, H, W) full-resolution ground-truth flow in pixels.
        vis_gt: (B, H, W) int64 ground-truth classes.
    Returns:
        (total, parts) with parts "epe_px" (full-resolution pixels, level-weighted mean over
        scales), "epe_px_<k>" per scale, "vis_ce", "vis_acc". total = flow_weight * epe / flow_unit
        + vis_weight * CE. Each level's target is resize_flow_on_body(flow_gt) (the mean over the body
        pixels of each cell) and its body mask
        resize_visibility(vis_gt) < 2 (visible and hidden body pixels); errors are scaled back to
        full-resolution pixels so all scales weigh alike.
    Convention: flows (x, y), backward target->source.
    """
    cfg = cfg or FlowLossConfig()
    check_flow(flow_gt, "flow_gt")
    check_visibility(vis_gt, "vis_gt")
    if not flows:
        raise ShapeError("flows must hold at least one prediction")
    if vis_logits.dim() != 4 or vis_logits.shape[1] != NUM_VIS_CLASSES or vis_logits.shape[-2:] != vis_gt.shape[-2:]:
        raise ShapeError(f"vis_logits {tuple(vis_logits.shape)} must be (B, 3, H, W) matching vis_gt")
    if cfg.level_weights and len(cfg.level_weights) != len(flows):
        raise ConfigError(f"level_weights has {len(cfg.level_weights)} values for {len(flows)} scales")
    weights = list(cfg.level_weights) or [1.0] * len(flows)
    big_h, big_w = flow_gt.shape[-2:]
    parts: dict[str, torch.Tensor] = {}
    dt = _at_least_fp32(flows[0].dtype)
    epe = flow_gt.new_zeros((), dtype=dt)
    for k, (pred, w) in enumerate(zip(flows, weights, strict=True)):
        size = (pred.shape[-2], pred.shape[-1])
        scale = flow_gt.new_tensor([big_w / size[1], big_h / size[0]], dtype=dt).view(1, 2, 1, 1)
        # Coarse targets average the body pixels only: the ground truth is 0 off the body, and a plain
        # area average would teach every silhouette cell a flow no body pixel has.
        target = resize_flow_on_body(flow_gt.to(dt), vis_gt < 2, size)
        body = resize_visibility(vis_gt, size) < 2
        # Back to full-resolution pixels, so coarse scales are not discounted by their grid.
        level_epe = end_point_error(pred.to(dt) * scale, target * scale, body)
        parts[f"epe_px_{k}"] = level_epe.detach()
        epe = epe + w * level_epe
    epe = epe / sum(weights) if sum(weights) > 0 else epe
    logits = vis_logits.to(_at_least_fp32(vis_logits.dtype))
    class_w = logits.new_tensor(cfg.vis_class_weights) if cfg.vis_class_weights else None
    ce = F.cross_entropy(logits, vis_gt, weight=class_w)
    total = cfg.flow_weight * epe / cfg.flow_unit + cfg.vis_weight * ce
    parts["epe_px"] = epe.detach()
    parts["vis_ce"] = ce.detach()
    parts["vis_acc"] = (vis_logits.argmax(dim=1) == vis_gt).float().mean().detach()
    return total, parts


def _at_least_fp32(dtype: torch.dtype) -> torch.dtype:
    """Loss math in fp32 under autocast, but float64 kept for gradcheck."""
    return torch.promote_types(dtype, torch.float32)
