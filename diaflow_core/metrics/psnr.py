"""Peak signal-to-noise ratio per image pair on uint8 RGB images.

Convention: images uint8 ``(B, H, W, 3)`` (or one ``(H, W, 3)``), data range 255; the MSE is taken over all
pixels and the three channels of each image (as ``skimage.metrics.peak_signal_noise_ratio`` with
``data_range=255``), PSNR = 10 log10(255^2 / MSE). Identical images give +inf.
"""

from __future__ import annotations

import numpy as np
import torch

from diaflow_core.metrics._checks import check_pair

__all__ = ["psnr"]


def psnr(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor, data_range: float = 255.0) -> torch.Tensor:
    """PSNR in dB per pair.

    Args:
        a, b: uint8 ``(B, H, W, 3)`` RGB images (numpy or torch).
        data_range: the value range (255 for uint8).
    Returns:
        float64 ``(B,)`` tensor on ``a``'s device; +inf where the two images are identical.
    """
    x, y = check_pair(a, b)
    diff = x.to(torch.float64) - y.to(torch.float64)
    mse = diff.pow(2).mean(dim=(1, 2, 3))
    return 10.0 * torch.log10(data_range**2 / mse)
