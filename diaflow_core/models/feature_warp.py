"""Flow-guided feature warping with visibility gating (one skip of the dual-path generator)."""

from __future__ import annotations

import torch
import torch.nn as nn

from diaflow_core.errors import ConfigError
from diaflow_core.models.blocks import conv_bn
from diaflow_core.ops.grid import warp
from diaflow_core.ops.resize import resize_flow
from diaflow_core.ops.visibility import NUM_VIS_CLASSES, one_hot_visibility, resize_visibility

__all__ = ["VIS_MODES", "FeatureWarp"]

VIS_MODES = ("gate", "none", "residual")


class FeatureWarp(nn.Module):
    """Warp source features to the target pose by F and combine them with the visibility V.

    Modes (x_w = warp(features, F) at the feature's resolution):
    - "gate" (the paper's): split x_w into a visible copy x_w * [V=0] and a hidden copy
      x_w * [V=1] (background zeroed in both), g = BN(conv1x1(relu([visible, hidden]))),
      out = b + BN(conv3x3(relu([b, g]))) with b = x_w * [V<2]. The two copies let the convs
      treat reliable (visible) and hallucination-needing (hidden) pixels differently.
    - "none": out = x_w, no parameters (the "w/o visibility" ablation).
    - "residual": a soft variant with no hard masks: the one-hot V (3 channels) joins x_w and one
      conv adds a correction, out = x_w + BN(conv3x3(relu([x_w, onehot(V)]))). Cheaper than "gate".

    Convention: flow (B, 2, H, W) backward target->source in pixels of its own grid, vis (B, H, W)
    int64; both are resized to the feature size here (resize_flow: area + value scaling;
    resize_visibility: visible wins), which is a no-op when the caller already did it.
    """

    def __init__(self, ch: int, mode: str = "gate") -> None:
        super().__init__()
        if mode not in VIS_MODES:
            raise ConfigError(f"vis_mode must be one of {VIS_MODES}, got {mode!r}")
        self.mode = mode
        if mode == "gate":
            self.split = nn.Sequential(nn.ReLU(), *conv_bn(2 * ch, ch, 1))
            self.fuse = nn.Sequential(nn.ReLU(), *conv_bn(2 * ch, ch, 3))
        elif mode == "residual":
            self.fuse = nn.Sequential(nn.ReLU(), *conv_bn(ch + NUM_VIS_CLASSES, ch, 3))

    def forward(self, feat: torch.Tensor, flow: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
        size = (feat.shape[-2], feat.shape[-1])
        flow = resize_flow(flow, size)
        x_w = warp(feat, flow)
        if self.mode == "none":
            return x_w
        vis = resize_visibility(vis, size)
        onehot = one_hot_visibility(vis, dtype=x_w.dtype)
        if self.mode == "residual":
            return x_w + self.fuse(torch.cat((x_w, onehot), dim=1))
        visible, hidden = x_w * onehot[:, 0:1], x_w * onehot[:, 1:2]
        base = visible + hidden
        gated = self.split(torch.cat((visible, hidden), dim=1))
        return base + self.fuse(torch.cat((base, gated), dim=1))
