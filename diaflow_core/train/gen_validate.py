"""Validation for the image stages: SSIM / masked SSIM / L1 on fixed held-out pairs, plus a picture grid."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from ..data.images import tensor_to_image
from ..pose import body_mask

__all__ = ["validate_transfer"]


def _ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    from skimage.metrics import structural_similarity

    if mask is not None:
        a, b = a * mask[..., None], b * mask[..., None]
    return float(structural_similarity(a, b, channel_axis=2, data_range=255))


@torch.no_grad()
def validate_transfer(
    generate: Callable[[dict[str, Any]], torch.Tensor],
    batches: list[dict[str, Any]],
    device: torch.device,
    grid_path: Path | None = None,
    grid_rows: int = 8,
) -> dict[str, float]:
    """Run `generate` on each batch; SSIM uses scikit-image's default 7x7 window on uint8 RGB (the usual setting)."""
    ssim, mssim, l1, n = 0.0, 0.0, 0.0, 0
    rows: list[np.ndarray] = []
    for raw in batches:
        b = {k: (v.to(device) if torch.is_tensor(v) else v) for k, v in raw.items()}
        out = generate(b).clamp(-1, 1)
        l1 += float((out - b["tgt"]).abs().mean(dim=(1, 2, 3)).sum())
        for i in range(out.shape[0]):
            fake, real = tensor_to_image(out[i]), tensor_to_image(b["tgt"][i])
            mask = body_mask(np.asarray(raw["tgt_kp"][i]), size=fake.shape[:2]).astype(np.uint8)
            ssim += _ssim(fake, real)
            mssim += _ssim(fake, real, mask)
            n += 1
            if len(rows) < grid_rows:
                rows.append(np.concatenate([tensor_to_image(b["src"][i]), real, fake], axis=1))
    if grid_path is not None and rows:
        grid_path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(grid_path), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))
    return {"ssim": ssim / max(n, 1), "masked_ssim": mssim / max(n, 1), "l1": l1 / max(n, 1), "pairs": float(n)}
