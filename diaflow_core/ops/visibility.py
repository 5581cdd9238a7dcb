"""Visibility maps: resizing with priority and one-hot encoding.

Convention: visibility is (B, H, W) int64 with classes 0 = visible in the source, 1 = hidden
(self-occluded or out of frame; its flow is still meaningful), 2 = background.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from diaflow_core.ops.checks import check_visibility
from diaflow_core.ops.resize import _check_size

__all__ = ["NUM_VIS_CLASSES", "one_hot_visibility", "resize_visibility"]

NUM_VIS_CLASSES = 3


def resize_visibility(vis: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize a visibility map to ``size`` = (h, w) by a minimum over each output cell.

    The class order is the priority: one visible pixel in a cell makes it visible, else one hidden
    pixel makes it hidden, else it is background. Cells are those of adaptive pooling (exact
    s x s blocks for an integer factor); growing a map repeats values (nearest).

    Args:
        vis: (B, H, W) integer classes.
        size: target (h, w).
    Returns:
        (B, h, w) int64.

    Convention: cell boundaries as area resizing (align_corners=False pixel centres).
    """
    check_visibility(vis)
    h, w = _check_size(size)
    if tuple(vis.shape[-2:]) == (h, w):
        return vis.long()
    # Pooling kernels want floats; classes 0..2 are exact in any float type.
    neg = -vis.to(torch.float32).unsqueeze(1)
    out = -F.adaptive_max_pool2d(neg, (h, w))
    return out.squeeze(1).round().long()


def one_hot_visibility(vis: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(B, H, W) classes -> (B, 3, H, W) one-hot in ``dtype`` (channel k = class k).

    A value outside 0..2 gives an all-zero column; no range check here, since reading the values
    back would force a device sync on every call.
    """
    check_visibility(vis)
    classes = torch.arange(NUM_VIS_CLASSES, device=vis.device).view(1, NUM_VIS_CLASSES, 1, 1)
    return (vis.unsqueeze(1) == classes).to(dtype)
