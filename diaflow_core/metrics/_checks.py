"""Shared input checks for the paired image metrics.

Convention: a batch of images is uint8 ``(B, H, W, 3)`` RGB (numpy or torch), the layout the published
pose-transfer numbers are computed on (uint8 128x64 crops); one image ``(H, W, 3)`` is accepted as B = 1.
Masks are bool ``(B, H, W)`` (or ``(H, W)``).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["as_mask_batch", "as_uint8_batch", "check_pair"]


def as_uint8_batch(x: np.ndarray | torch.Tensor, name: str) -> torch.Tensor:
    """uint8 ``(B, H, W, 3)`` or ``(H, W, 3)`` (numpy or torch) -> torch uint8 ``(B, H, W, 3)``."""
    t = x
    if isinstance(x, np.ndarray):
        # arrays from PIL are read-only, which torch.from_numpy warns about: copy those
        t = torch.from_numpy(np.ascontiguousarray(x) if x.flags.writeable else np.array(x))
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name}: expected a numpy array or a torch tensor, got {type(x).__name__}")
    if t.dtype != torch.uint8:
        raise ValueError(f"{name}: expected uint8 images (values 0..255), got dtype {t.dtype}")
    if t.dim() == 3:
        t = t.unsqueeze(0)
    if t.dim() != 4 or t.shape[-1] != 3:
        raise ValueError(f"{name}: expected (B, H, W, 3) or (H, W, 3) RGB images, got {tuple(t.shape)}")
    return t


def check_pair(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Both images as uint8 ``(B, H, W, 3)`` tensors of the same shape, on ``a``'s device."""
    ta, tb = as_uint8_batch(a, "a"), as_uint8_batch(b, "b")
    if ta.shape != tb.shape:
        raise ValueError(f"images differ in shape: {tuple(ta.shape)} vs {tuple(tb.shape)}")
    return ta, tb.to(ta.device)


def as_mask_batch(mask: np.ndarray | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """bool ``(B, H, W)`` or ``(H, W)`` -> bool ``(B, H, W)`` tensor on ``like``'s device, checked against ``like``."""
    m = torch.from_numpy(np.ascontiguousarray(mask)) if isinstance(mask, np.ndarray) else mask
    if m.dtype != torch.bool:
        raise ValueError(f"mask: expected a bool mask, got dtype {m.dtype}")
    if m.dim() == 2:
        m = m.unsqueeze(0)
    if m.dim() != 3 or m.shape != like.shape[:3]:
        raise ValueError(f"mask {tuple(m.shape)} does not fit images {tuple(like.shape)}: expected (B, H, W)")
    return m.to(like.device)
