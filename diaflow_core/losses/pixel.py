"""Pixel losses."""

from __future__ import annotations

import torch

from diaflow_core.ops.checks import ShapeError

__all__ = ["l1"]


def l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean absolute error, optionally over a mask.

    Args:
        pred, target: tensors of one shape (images (B, C, H, W) in practice).
        mask: broadcastable to pred (e.g. (B, 1, H, W)), weights in [0, 1]; the mean is taken over
            the masked elements (sum |d| m / sum m), 0 when the mask is empty.
    Returns:
        scalar, float32 (computed in fp32 so it is safe under autocast).
    """
    if pred.shape != target.shape:
        raise ShapeError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must have one shape")
    diff = (pred.float() - target.float()).abs()
    if mask is None:
        return diff.mean()
    m = mask.float().expand_as(diff)
    return (diff * m).sum() / m.sum().clamp_min(1.0)
