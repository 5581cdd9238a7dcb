"""Mean absolute error per image pair on uint8 RGB images.

Convention: images uint8 ``(B, H, W, 3)`` (or one ``(H, W, 3)``); the error is reported on the [0, 1] scale
(|a - b| / 255 averaged over pixels and channels). The training loss works on [-1, 1] images: its L1 is
twice this number.
"""

from __future__ import annotations

import numpy as np
import torch

from diaflow_core.metrics._checks import check_pair

__all__ = ["l1"]


def l1(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Mean |a - b| / 255 per pair: float64 ``(B,)`` tensor in [0, 1] on ``a``'s device."""
    x, y = check_pair(a, b)
    return (x.to(torch.float64) - y.to(torch.float64)).abs().mean(dim=(1, 2, 3)) / 255.0
