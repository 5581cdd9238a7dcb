"""Flow-regressor figures against proxy-body ground truth: EPE on body pixels and visibility accuracy / IoU.

Convention: flows (B, 2, H, W) in pixels, visibility (B, H, W) with 0 visible, 1 hidden, 2 background. EPE is
averaged over pixels whose GROUND-TRUTH class is 0 or 1 (the flow is undefined on background).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["FlowStats", "flow_batch_sums"]

_CLASSES = ("visible", "hidden", "background")


def flow_batch_sums(
    flow: torch.Tensor, vis_logits: torch.Tensor, flow_gt: torch.Tensor, vis_gt: torch.Tensor
) -> dict[str, float]:
    """Sums (not means) for one batch, so batches of any size accumulate exactly."""
    if flow.shape != flow_gt.shape or flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"flow {tuple(flow.shape)} and target {tuple(flow_gt.shape)} must both be (B, 2, H, W)")
    if vis_logits.shape[1] != 3 or vis_logits.shape[2:] != vis_gt.shape[1:]:
        raise ValueError(f"visibility logits {tuple(vis_logits.shape)} do not fit target {tuple(vis_gt.shape)}")
    epe = torch.linalg.vector_norm(flow.float() - flow_gt.float(), dim=1)
    pred = vis_logits.argmax(1)
    out: dict[str, float] = {
        "epe_sum": float(epe[vis_gt < 2].sum()),
        "body_px": float((vis_gt < 2).sum()),
        "correct": float((pred == vis_gt).sum()),
        "px": float(vis_gt.numel()),
    }
    for c, name in enumerate(_CLASSES):
        gt_c, pr_c = vis_gt == c, pred == c
        out[f"inter_{name}"] = float((gt_c & pr_c).sum())
        out[f"union_{name}"] = float((gt_c | pr_c).sum())
        if c < 2:
            out[f"epe_sum_{name}"] = float(epe[gt_c].sum())
            out[f"px_{name}"] = float(gt_c.sum())
    return out


@dataclass
class FlowStats:
    """Accumulates `flow_batch_sums` over batches; `summary()` gives the reported figures."""

    sums: dict[str, float] = field(default_factory=dict)
    pairs: int = 0

    def update(self, flow: torch.Tensor, vis_logits: torch.Tensor, flow_gt: torch.Tensor, vis_gt: torch.Tensor) -> None:
        for k, v in flow_batch_sums(flow, vis_logits, flow_gt, vis_gt).items():
            self.sums[k] = self.sums.get(k, 0.0) + v
        self.pairs += flow.shape[0]

    def summary(self) -> dict[str, float]:
        s = self.sums

        def ratio(a: str, b: str) -> float:
            return s.get(a, 0.0) / s[b] if s.get(b) else float("nan")

        out = {
            "pairs": float(self.pairs),
            "epe": ratio("epe_sum", "body_px"),
            "epe_visible": ratio("epe_sum_visible", "px_visible"),
            "epe_hidden": ratio("epe_sum_hidden", "px_hidden"),
            "vis_accuracy": ratio("correct", "px"),
        }
        for name in _CLASSES:
            out[f"iou_{name}"] = ratio(f"inter_{name}", f"union_{name}")
        return out
