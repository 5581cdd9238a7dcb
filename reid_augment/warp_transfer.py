"""Pose transfer without any trained network: warp the source by the analytic proxy-body flow.

Used by ``--no-generator`` and by the demo when no weights are installed. Body pixels come from the source
through the 3D proxy body's flow; background pixels from the source with its person painted out. It shows
what the geometry does; the generator is what makes the result look like a photograph.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from diaflow_core.errors import BackendUnavailable
from diaflow_core.pose import body_mask

__all__ = ["ProxyWarpTransfer"]

_BACKGROUND = 2  # visibility class of off-body pixels


class ProxyWarpTransfer:
    """``transfer`` = warp(src, proxy flow) on the body, inpainted source elsewhere. No weights."""

    weights_hash = "none"
    flow = "analytic"

    def __init__(self) -> None:
        try:
            from diaflow_core.ops import warp
            from diaflow_core.proxy3d import compute_flow_batch
        except ImportError as e:
            raise BackendUnavailable(f"analytic warp needs diaflow_core.proxy3d.compute_flow_batch ({e})") from None
        self._flow = compute_flow_batch
        self._warp = warp

    @staticmethod
    def _background(src: torch.Tensor, src_kp: torch.Tensor) -> torch.Tensor:
        """The source with its person inpainted (Telea), per image."""
        out = []
        h, w = src.shape[-2:]
        for img, kp in zip(src, src_kp, strict=True):
            u8 = ((img.permute(1, 2, 0).cpu().numpy() + 1) * 127.5).clip(0, 255).astype(np.uint8)
            mask = body_mask(kp.cpu().numpy(), (h, w), limb_width=12, joint_radius=6, close_kernel=7)
            mask = cv2.dilate(mask.astype(np.uint8) * 255, np.ones((5, 5), np.uint8))
            filled = cv2.inpaint(np.ascontiguousarray(u8), mask, 5, cv2.INPAINT_TELEA)
            out.append(torch.from_numpy(filled).permute(2, 0, 1).float() / 127.5 - 1)
        return torch.stack(out).to(src.device)

    def transfer(self, src: torch.Tensor, src_kp: torch.Tensor, tgt_kp: torch.Tensor) -> torch.Tensor:
        size = tuple(src.shape[-2:])
        flow, vis = self._flow(src_kp.cpu().numpy(), tgt_kp.cpu().numpy(), size)
        flow = torch.as_tensor(flow, dtype=src.dtype, device=src.device)
        vis = torch.as_tensor(vis, device=src.device)
        warped = self._warp(src, flow)
        body = (vis != _BACKGROUND).unsqueeze(1)
        return torch.where(body, warped, self._background(src, src_kp)).clamp(-1, 1)
