"""Backward flow -> sampling grid, and warping with it.

Convention (whole module): flow is (B, 2, H, W), channel 0 = x, channel 1 = y, in pixels of the
TARGET grid, backward target->source: target pixel u takes its value from source location
u + F(u). Pixel i's centre has coordinate i; grid_sample runs with align_corners=False, so the
normalised coordinate is x_n = (2 x + 1) / W - 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from diaflow_core.ops.checks import ShapeError, check_flow, check_image_like

__all__ = ["flow_to_grid", "warp"]

_MODES = ("bilinear", "nearest", "bicubic")
_PADDINGS = ("zeros", "border", "reflection")


def flow_to_grid(flow: torch.Tensor) -> torch.Tensor:
    """Turn a backward flow into a grid_sample grid.

    Args:
        flow: (B, 2, H, W) float, pixels, (x, y) order.
    Returns:
        (B, H, W, 2) grid in [-1, 1] coordinates (x first), same dtype as ``flow``.

    Convention: align_corners=False, x_n = (2 (x + F_x) + 1) / W - 1; y likewise with H.
    """
    check_flow(flow)
    _, _, h, w = flow.shape
    ys = torch.arange(h, device=flow.device, dtype=flow.dtype)
    xs = torch.arange(w, device=flow.device, dtype=flow.dtype)
    gx = (2.0 * (xs.view(1, 1, w) + flow[:, 0]) + 1.0) / w - 1.0
    gy = (2.0 * (ys.view(1, h, 1) + flow[:, 1]) + 1.0) / h - 1.0
    return torch.stack((gx, gy), dim=-1)


def warp(
    x: torch.Tensor,
    flow: torch.Tensor,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
) -> torch.Tensor:
    """Sample ``x`` (the source) at u + flow(u) for every target pixel u.

    Args:
        x: (B, C, H, W) source image or features.
        flow: (B, 2, H, W) backward flow in pixels, same H, W as ``x``.
        mode: grid_sample interpolation ("bilinear", "nearest", "bicubic").
        padding_mode: what lies outside the source ("zeros", "border", "reflection").
    Returns:
        (B, C, H, W) warped tensor, dtype of ``x``.

    Convention: (x, y) channel order, pixels, align_corners=False. Sampling always runs in (at least)
    fp32 and the result is cast back to x's dtype: a bf16 grid has 8 mantissa bits, so near the image edge
    (normalised coordinate ~1) its step is 2^-7, a quarter pixel at 64 columns and half a pixel at 128 rows,
    and samples would land that far off (and cross the zero-padding border) under autocast.
    """
    check_image_like(x, "x")
    check_flow(flow)
    if x.shape[0] != flow.shape[0] or x.shape[-2:] != flow.shape[-2:]:
        raise ShapeError(
            f"x {tuple(x.shape)} and flow {tuple(flow.shape)} must share batch size and (H, W); "
            "resize the flow with resize_flow first"
        )
    if mode not in _MODES:
        raise ShapeError(f"mode must be one of {_MODES}, got {mode!r}")
    if padding_mode not in _PADDINGS:
        raise ShapeError(f"padding_mode must be one of {_PADDINGS}, got {padding_mode!r}")
    dtype = torch.promote_types(torch.promote_types(flow.dtype, x.dtype), torch.float32)
    grid = flow_to_grid(flow.to(dtype))
    with torch.autocast(x.device.type, enabled=False):  # autocast would cast both back down
        out = F.grid_sample(x.to(dtype), grid, mode=mode, padding_mode=padding_mode, align_corners=False)
    return out.to(x.dtype)
