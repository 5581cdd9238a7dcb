"""Reading a user-supplied weights file for a metric network (no downloads, no pickle).

Convention: ``.safetensors`` files are read with safetensors; anything else with
``torch.load(..., weights_only=True)``. A ``{"state_dict": ...}`` or ``{"model": ...}`` wrapper is unwrapped.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from diaflow_core.errors import WeightsError

__all__ = ["read_state_dict"]


def read_state_dict(path: str | os.PathLike[str] | None, what: str) -> dict[str, torch.Tensor]:
    """Load a state dict of tensors from ``path``; WeightsError naming ``what`` and the file otherwise."""
    if path is None:
        raise WeightsError(f"{what}: no weights file given (these weights cannot be downloaded here)")
    p = Path(path)
    if not p.is_file():
        raise WeightsError(f"{what}: weights file not found: {p}")
    sd: Any
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file

            sd = load_file(str(p))
        else:
            sd = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad weights file
        raise WeightsError(f"{what}: cannot read weights file {p}: {exc}") from exc
    for key in ("state_dict", "model"):
        if isinstance(sd, dict) and isinstance(sd.get(key), dict):
            sd = sd[key]
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise WeightsError(f"{what}: {p} does not hold a state dict of tensors")
    return dict(sd)
