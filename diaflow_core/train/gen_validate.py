"""Validation for the image stages: SSIM / masked SSIM / L1 on fixed held-out pairs, plus a picture grid."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import torch

from ..evaluation.transfer import to_uint8
from ..metrics.ssim import masked_ssim, ssim
from ..pose import body_mask

if TYPE_CHECKING:
    from ..infer import PoseTransfer

__all__ = ["validate_pose_transfer", "validate_pose_transfers", "validate_transfer"]


@torch.no_grad()
def validate_transfer(
    generate: Callable[[dict[str, Any]], torch.Tensor],
    batches: list[dict[str, Any]],
    device: torch.device,
    grid_path: Path | None = None,
    grid_rows: int = 8,
) -> dict[str, float]:
    """Run `generate` on each batch; SSIM is scikit-image's default 7x7 window on uint8 RGB (the test's setting),
    the mask comes from the target keypoints as in the test protocol."""
    ssim_sum, mssim_sum, l1_sum, n = 0.0, 0.0, 0.0, 0
    rows: list[np.ndarray] = []
    for raw in batches:
        b = {k: (v.to(device) if torch.is_tensor(v) else v) for k, v in raw.items()}
        out = generate(b).clamp(-1, 1)
        # SSIM where the images are: on a GPU the CPU stays free for the loaders (session 15: with the SSIM on
        # the CPU, each validation took ~100 s beside two other training runs on the lent 16-core machine)
        fake, real = to_uint8(out), to_uint8(b["tgt"])
        masks = np.stack([body_mask(np.asarray(kp), size=tuple(fake.shape[1:3])) for kp in raw["tgt_kp"]])
        ssim_sum += float(ssim(fake, real).sum())
        mssim_sum += float(masked_ssim(fake, real, masks).sum())
        fake, real, src = fake.cpu(), real.cpu(), to_uint8(b["src"]).cpu()
        l1_sum += float((out - b["tgt"]).abs().mean(dim=(1, 2, 3)).sum())
        n += out.shape[0]
        for i in range(min(out.shape[0], grid_rows - len(rows))):
            rows.append(np.concatenate([src[i].numpy(), real[i].numpy(), fake[i].numpy()], axis=1))
    if grid_path is not None and rows:
        grid_path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(grid_path), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))
    d = max(n, 1)
    return {"ssim": ssim_sum / d, "masked_ssim": mssim_sum / d, "l1": l1_sum / d, "pairs": float(n)}


def validate_pose_transfer(
    model: PoseTransfer, batches: list[dict[str, Any]], device: torch.device, grid_path: Path | None = None
) -> dict[str, float]:
    """`validate_transfer` through the inference path users run (`PoseTransfer.transfer`: precision, mirror
    averaging, pixel warp), for scripts that compare weights or flow sources outside a training run."""
    return validate_transfer(
        lambda b: model.transfer(b["src"], b["src_kp"], b["tgt_kp"]).to(device), batches, device, grid_path
    )


def validate_pose_transfers(
    models: Mapping[str, PoseTransfer], batches: list[dict[str, Any]], device: torch.device
) -> dict[str, dict[str, float]]:
    """`validate_pose_transfer` for each named model in turn, each printed with its wall time as it finishes
    (the scripts that compare generators, flow sources or inference options run minutes per model)."""
    out = {}
    for name, model in models.items():
        t0 = time.time()
        out[name] = validate_pose_transfer(model, batches, device)
        print(name, {k: round(v, 4) for k, v in out[name].items()}, f"{time.time() - t0:.0f} s", flush=True)
    return out
