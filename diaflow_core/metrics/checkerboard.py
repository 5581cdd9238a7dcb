"""Checkerboard score: how much of an image's spectrum sits at the Nyquist frequencies (period-2 patterns).

Decoders that upsample (pixel shuffle, strided transposed convolutions) can leave a faint 2-pixel checkerboard
that SSIM penalises and a re-ID loss does not (docs/evaluation.md, session 12). This is a no-reference measure of
it, for comparing generators on the same inputs: the share of the 2D DFT magnitude of the grey image that lies on
the Nyquist row (vertical period 2) and column (horizontal period 2). Natural images put little there; a
+-1 alternating pattern puts all of its energy there.

Convention: images uint8 ``(B, H, W, 3)`` RGB (or one ``(H, W, 3)``), even H and W; grey = ITU-R 601 luma
(PIL's ``convert("L")`` weights). Scores are plain shares in [0, 1]; the docs quote them x 1e-3.
"""

from __future__ import annotations

import numpy as np
import torch

from diaflow_core.metrics._checks import as_uint8_batch

__all__ = ["checkerboard_score"]

_LUMA = (0.299, 0.587, 0.114)


def checkerboard_score(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Share of each image's DFT magnitude on the Nyquist row and column.

    Args:
        images: uint8 ``(B, H, W, 3)`` or ``(H, W, 3)`` RGB, H and W even.
    Returns:
        float64 ``(B,)`` tensor in [0, 1] (0 for an all-black image).
    """
    x = as_uint8_batch(images, "checkerboard_score")
    h, w = x.shape[1:3]
    if h % 2 or w % 2:
        raise ValueError(f"checkerboard_score: H and W must be even to have a Nyquist row and column, got {h}x{w}")
    grey = (x.to(torch.float64) * torch.tensor(_LUMA, dtype=torch.float64)).sum(-1)
    mag = torch.fft.fft2(grey).abs()
    # the Nyquist row and column cross at one bin: count it once
    nyq = mag[:, h // 2, :].sum(-1) + mag[:, :, w // 2].sum(-1) - mag[:, h // 2, w // 2]
    total = mag.sum(dim=(1, 2))
    return torch.where(total > 0, nyq / total.clamp_min(1e-12), torch.zeros_like(total))
