"""Image file I/O and the model tensor convention.

Convention: files -> numpy uint8 ``(H, W, 3)`` RGB; model tensors float32 ``(3, H, W)`` in [-1, 1], RGB.
Resizing keeps pixel centres: x' = (x + 0.5) * W' / W - 0.5 (same for y), see ``scale_keypoints``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import cv2
import numpy as np
import torch

from diaflow_core.errors import DataError

__all__ = ["image_to_tensor", "read_image", "resize_image", "scale_keypoints", "tensor_to_image"]


def read_image(path: str | os.PathLike[str], size: Sequence[int] | None = None) -> np.ndarray:
    """Decode an image file to uint8 RGB ``(H, W, 3)``, resized to ``size`` = (H, W) when given and different."""
    img = cv2.imread(os.fspath(path), cv2.IMREAD_COLOR)
    if img is None:
        raise DataError(f"{path}: cannot read the image (missing or not an image)")
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return img if size is None else resize_image(img, size)


def resize_image(img: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """Resize a ``(H, W, C)`` image to ``size`` = (H, W) (area filter when shrinking); no-op when equal."""
    h, w = int(size[0]), int(size[1])
    if img.ndim != 3 or h <= 0 or w <= 0:
        raise DataError(f"resize_image: expected an (H, W, C) image and a positive size, got {img.shape} {size}")
    if img.shape[:2] == (h, w):
        return img
    shrink = h < img.shape[0] and w < img.shape[1]
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def scale_keypoints(kp: np.ndarray, from_size: Sequence[int], to_size: Sequence[int]) -> np.ndarray:
    """Map (x, y) pixel keypoints ``(..., 2)`` from an image of ``from_size`` (H, W) to one of ``to_size``."""
    kp = np.asarray(kp, dtype=np.float32)
    if kp.shape[-1] != 2:
        raise DataError(f"scale_keypoints: expected (..., 2) keypoints, got {kp.shape}")
    sx = float(to_size[1]) / float(from_size[1])
    sy = float(to_size[0]) / float(from_size[0])
    return ((kp + 0.5) * np.array([sx, sy], dtype=np.float32) - 0.5).astype(np.float32)


def image_to_tensor(img: np.ndarray) -> torch.Tensor:
    """uint8 ``(H, W, 3)`` RGB -> float32 ``(3, H, W)`` in [-1, 1]."""
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise DataError(f"image_to_tensor: expected a uint8 (H, W, 3) image, got {img.dtype} {img.shape}")
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float().div_(127.5).sub_(1.0)


def tensor_to_image(t: torch.Tensor) -> np.ndarray:
    """float ``(3, H, W)`` in [-1, 1] -> uint8 ``(H, W, 3)`` RGB (clipped, rounded)."""
    if t.ndim != 3 or t.shape[0] != 3:
        raise DataError(f"tensor_to_image: expected a (3, H, W) tensor, got {tuple(t.shape)}")
    x = ((t.detach().float().cpu() + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
    return x.permute(1, 2, 0).contiguous().numpy()
