"""Where the generator gets its flow: the frozen, trained regressor (the paper's way) or the analytic proxy body.

Convention: returns flow (B, 2, H, W) float32 in pixels (backward, target -> source) and visibility classes
(B, H, W) int64 on the requested device.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from ..config import from_dict
from ..errors import WeightsError
from ..models.flow_net import FlowRegressor, FlowRegressorConfig
from ..pose import pose_heatmaps_torch
from ..weights import find_weights
from .common import load_checkpoint, load_safetensors_into

__all__ = ["FlowSourceConfig", "FlowSource", "load_flow_regressor"]


@dataclass(frozen=True)
class FlowSourceConfig:
    mode: Literal["learned", "analytic"] = "learned"
    weights: str | None = None  # safetensors (+ .json config) or a training checkpoint; None = shipped "flow"


def load_flow_regressor(weights: str | Path | None, device: torch.device | str = "cpu") -> FlowRegressor:
    """Rebuild the regressor from its sidecar config and load the weights (no pickle)."""
    path = Path(weights) if weights else find_weights("flow")
    assert path is not None
    if path.suffix == ".pt":
        state = torch.load(path, map_location="cpu", weights_only=True)
        model_cfg = from_dict(FlowRegressorConfig, state["config"]["model"], where=str(path))
        model = FlowRegressor(model_cfg)
        load_checkpoint(path, {"model": model})
    else:
        meta = path.with_suffix(".json")
        if not meta.is_file():
            raise WeightsError(f"{path}: no config sidecar {meta.name} beside it")
        model_cfg = from_dict(FlowRegressorConfig, json.loads(meta.read_text())["model"], where=str(meta))
        model = FlowRegressor(model_cfg)
        load_safetensors_into(model, path)
    return model.to(device).eval().requires_grad_(False)


class FlowSource:
    def __init__(self, cfg: FlowSourceConfig, size: tuple[int, int], radius: float, device: torch.device) -> None:
        self.cfg, self.size, self.radius, self.device = cfg, size, radius, device
        self.model = load_flow_regressor(cfg.weights, device) if cfg.mode == "learned" else None

    @torch.no_grad()
    def __call__(self, src_kp: torch.Tensor, tgt_kp: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.model is not None:
            p1 = pose_heatmaps_torch(src_kp.to(self.device), self.size, self.radius)
            p2 = pose_heatmaps_torch(tgt_kp.to(self.device), self.size, self.radius)
            return self.model.infer(p1, p2)
        from ..proxy3d import compute_flow_batch

        flow, vis = compute_flow_batch(np.asarray(src_kp.cpu()), np.asarray(tgt_kp.cpu()), size=self.size)
        return (
            torch.as_tensor(flow, dtype=torch.float32, device=self.device),
            torch.as_tensor(vis, device=self.device).long(),
        )
