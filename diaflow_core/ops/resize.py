"""Resizing a flow field to another grid, with its values rescaled.

Convention: flow (B, 2, H, W), (x, y) order, pixels of its own grid, backward target->source.
Going from size (H, W) to (h, w), s_x = W / w and s_y = H / h; a coordinate maps as
x_s = (x + 0.5) / s_x - 0.5 (pixel centres, as align_corners=False) and the flow VALUES divide by
(s_x, s_y). Area averaging and bilinear interpolation with align_corners=False both follow this
coordinate map, so a flow resized here still points at the same physical source location.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from diaflow_core.ops.checks import ShapeError, check_flow

__all__ = ["resize_flow_on_body", "resize_flow"]

_MODES = ("auto", "area", "bilinear")


def resize_flow(flow: torch.Tensor, size: tuple[int, int], mode: str = "auto") -> torch.Tensor:
    """Resize a backward flow to ``size`` = (h, w) and rescale its values.

    Args:
        flow: (B, 2, H, W) float, pixels.
        size: target (h, w).
        mode: "area" (average over each output cell), "bilinear" (align_corners=False) or "auto"
            (area when shrinking both axes, bilinear otherwise).
    Returns:
        (B, 2, h, w) flow in pixels of the new grid; the input itself when the size is unchanged.

    Convention: (x, y) order; x values divide by W / w, y values by H / h.
    """
    check_flow(flow)
    h, w = _check_size(size)
    if mode not in _MODES:
        raise ShapeError(f"mode must be one of {_MODES}, got {mode!r}")
    big_h, big_w = flow.shape[-2:]
    if (h, w) == (big_h, big_w):
        return flow
    if mode == "auto":
        mode = "area" if h <= big_h and w <= big_w else "bilinear"
    if mode == "area":
        out = F.adaptive_avg_pool2d(flow, (h, w))
    else:
        out = F.interpolate(flow, size=(h, w), mode="bilinear", align_corners=False)
    return _to_grid(out, (big_h, big_w))


def resize_flow_on_body(flow: torch.Tensor, body: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Shrink a flow that is defined on ``body`` pixels only: each output cell averages the body pixels
    in it (area cells, as ``resize_flow``), 0 where it holds none; values rescaled to the new grid.

    Why: the ground-truth flow is 0 off the body, so a plain area average pulls every cell on the
    silhouette toward 0, a value no body pixel has (at half size that alone is ~1.4 px of error when
    upsampled back, docs/flow_regressor.md).

    Args:
        flow: (B, 2, H, W) float, pixels. body: (B, H, W) bool (or {0, 1}). size: (h, w) <= (H, W).
    Returns:
        (B, 2, h, w); the input itself when the size is unchanged.
    """
    check_flow(flow)
    h, w = _check_size(size)
    big_h, big_w = flow.shape[-2:]
    if body.shape != (flow.shape[0], big_h, big_w):
        raise ShapeError(f"body {tuple(body.shape)} must be (B, H, W) of flow {tuple(flow.shape)}")
    if (h, w) == (big_h, big_w):
        return flow
    if h > big_h or w > big_w:
        raise ShapeError(f"resize_flow_on_body only shrinks: {(big_h, big_w)} -> {(h, w)}")
    m = body.to(flow.dtype).unsqueeze(1)
    num = F.adaptive_avg_pool2d(flow * m, (h, w))
    den = F.adaptive_avg_pool2d(m, (h, w))
    out = torch.where(den > 0, num / den.clamp_min(1e-12), torch.zeros_like(num))
    return _to_grid(out, (big_h, big_w))


def _to_grid(out: torch.Tensor, big: tuple[int, int]) -> torch.Tensor:
    """Flow values resized from a ``big`` (H, W) grid to ``out``'s: x scales by w / W, y by h / H."""
    h, w = out.shape[-2:]
    scale = torch.tensor([w / big[1], h / big[0]], device=out.device, dtype=out.dtype).view(1, 2, 1, 1)
    return out * scale


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    if len(size) != 2 or any(int(s) != s or s < 1 for s in size):
        raise ShapeError(f"size must be two positive ints (h, w), got {size!r}")
    return int(size[0]), int(size[1])
