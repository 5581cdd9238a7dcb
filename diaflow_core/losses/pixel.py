"""Pixel losses."""

from __future__ import annotations

import torch

from diaflow_core.metrics.ssim import SKIMAGE_DEFAULT, SSIMSettings, ssim_float
from diaflow_core.ops.checks import ShapeError

__all__ = ["l1", "ssim_loss"]


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


def ssim_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor | None = None,
    settings: SSIMSettings = SKIMAGE_DEFAULT,
) -> torch.Tensor:
    """1 - mean SSIM, the evaluation's SSIM made a loss (a structure term beside L1, as in image restoration).

    Args:
        pred, target: images (B, 3, H, W) in [-1, 1] (the generator's range), mapped to 0..255 as the metric
            sees them (before its rounding to uint8).
        mask: (B, 1, H, W) in [0, 1]: both images are multiplied by it first, as in the masked-SSIM metric
            (black off the body, which is part of the mean).
        settings: the metric's settings (default: scikit-image's 7x7 uniform window, the reported figure).
    Returns:
        scalar, float32 (computed in fp32 so it is safe under autocast).
    """
    if pred.shape != target.shape:
        raise ShapeError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must have one shape")
    x = (pred.float().clamp(-1.0, 1.0) + 1.0) * 127.5
    y = (target.float() + 1.0) * 127.5
    if mask is not None:
        m = mask.float()
        x, y = x * m, y * m
    return 1.0 - ssim_float(x, y, settings).mean()
