"""Reference methods every trained model must beat, in the ``Method`` form of ``transfer.py``.

* ``copy_source``: the source image itself (the DESIGN.md section 6 baseline).
* ``analytic_flow_warp``: the source warped by the 3D proxy body's intrinsic flow (no network).
  Choice: pixels of class 0 (visible in the source) AND class 1 (hidden in the source) take the warped
  source, because the intrinsic flow still points where the hidden body point would project, which most
  often lies on the same garment; background pixels (class 2) keep the source image unchanged (the
  target's background is unknown, and Market crops of one person share a similar one), so outside the
  target body this baseline equals ``copy_source``. Bilinear sampling, zeros outside the source frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from diaflow_core.errors import BackendUnavailable

__all__ = ["BASELINES", "analytic_flow_warp", "available_baselines", "copy_source"]


def copy_source(batch: dict[str, Any]) -> torch.Tensor:
    """The source images ``(B, 3, H, W)`` unchanged."""
    return batch["src"].clone()


def _proxy_ops() -> tuple[Callable[..., Any], Callable[..., torch.Tensor]]:
    try:
        from diaflow_core.ops import warp
        from diaflow_core.proxy3d import compute_flow_batch
    except ImportError as exc:
        raise BackendUnavailable(f"the analytic proxy-body flow is unavailable: {exc}") from exc
    return compute_flow_batch, warp


def analytic_flow_warp(batch: dict[str, Any]) -> torch.Tensor:
    """Warp the source by ``proxy3d.compute_flow_batch`` flow; background from the source (module docstring)."""
    compute_flow_batch, warp = _proxy_ops()
    src = batch["src"]
    size = tuple(src.shape[-2:])
    flow, vis = compute_flow_batch(batch["src_kp"].cpu().numpy(), batch["tgt_kp"].cpu().numpy(), size)
    flow_t = torch.as_tensor(flow, dtype=src.dtype, device=src.device)
    body = torch.as_tensor(vis, device=src.device) < 2
    warped = warp(src, flow_t)
    return torch.where(body.unsqueeze(1), warped, src)


BASELINES: dict[str, Callable[[dict[str, Any]], torch.Tensor]] = {
    "copy_source": copy_source,
    "analytic_flow_warp": analytic_flow_warp,
}


def available_baselines() -> tuple[dict[str, Callable[[dict[str, Any]], torch.Tensor]], dict[str, str]]:
    """The baselines that can run here, and ``{name: reason}`` for those that cannot."""
    usable: dict[str, Callable[[dict[str, Any]], torch.Tensor]] = {"copy_source": copy_source}
    skipped: dict[str, str] = {}
    try:
        _proxy_ops()
        usable["analytic_flow_warp"] = analytic_flow_warp
    except BackendUnavailable as exc:
        skipped["analytic_flow_warp"] = str(exc)
    return usable, skipped
