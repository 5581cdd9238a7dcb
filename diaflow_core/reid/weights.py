"""Re-ID weights on disk: ``NAME.safetensors`` (tensors only) beside ``NAME.json`` (model config,
class count, training config). Loading never unpickles anything."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from ..errors import WeightsError
from .model import ReidNet, ReidNetConfig

FORMAT = "diaflow-reid"
FORMAT_VERSION = 1


def sidecar_path(weights_path: str | Path) -> Path:
    return Path(weights_path).with_suffix(".json")


def save_reid_weights(model: ReidNet, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write the weights and their JSON sidecar; returns the weights path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path))
    # The backbone weights are inside the file now: a reload must not look for the ImageNet file.
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "num_classes": model.num_classes,
        "feature_dim": model.feature_dim,
        "model": replace(model.config, pretrained=None).to_dict(),
        **(extra or {}),
    }
    sidecar_path(path).write_text(json.dumps(meta, indent=2, sort_keys=True))
    return path


def read_reid_meta(weights_path: str | Path) -> dict[str, Any]:
    side = sidecar_path(weights_path)
    if not side.is_file():
        raise WeightsError(f"re-ID weights metadata not found: {side} (expected beside {weights_path})")
    try:
        meta = json.loads(side.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise WeightsError(f"cannot read {side}: {exc}") from exc
    if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise WeightsError(f"{side}: not a {FORMAT} v{FORMAT_VERSION} file")
    return meta


def load_reid_model(weights_path: str | Path, device: str | torch.device = "cpu") -> ReidNet:
    """Rebuild a ReidNet from its safetensors weights and JSON sidecar, in eval mode."""
    weights_path = Path(weights_path)
    if not weights_path.is_file():
        raise WeightsError(f"re-ID weights not found: {weights_path}")
    meta = read_reid_meta(weights_path)
    model = ReidNet(int(meta["num_classes"]), ReidNetConfig.from_dict(meta["model"]))
    try:
        state = load_file(str(weights_path))
        model.load_state_dict(state, strict=True)
    except Exception as exc:  # header errors, missing / mis-shaped tensors
        raise WeightsError(f"{weights_path} does not fit the model in {sidecar_path(weights_path)}: {exc}") from exc
    return model.to(device).eval()
