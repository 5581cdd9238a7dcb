"""Pixel warping: blend the flow-warped source with the generator's output by a learned weight map."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from diaflow_core.errors import ConfigError
from diaflow_core.models.blocks import OutputHead, level_channels
from diaflow_core.models.unet import ResUNet
from diaflow_core.ops.checks import ShapeError, check_flow, check_image_like, check_visibility
from diaflow_core.ops.grid import warp
from diaflow_core.ops.visibility import NUM_VIS_CLASSES, one_hot_visibility

__all__ = ["PixelWarper", "PixelWarperConfig"]


@dataclass(frozen=True)
class PixelWarperConfig:
    """Pixel-warp U-Net shape (recipe section ``pixel_warp``). Defaults: Market reference (~5.0 M)."""

    levels: int = 5
    ch_min: int = 32
    ch_max: int = 128
    res_blocks: int = 2
    image_channels: int = 3
    flow_unit: float = 20.0  # the flow input is divided by this, to be O(1)
    # Initial logit of z: the head starts with zero weights and this bias, so a fresh net outputs
    # sigmoid(gate_init) * x_w + (1 - sigmoid) * generated (-3: 95 % the frozen generator) and training moves
    # away from the stage-2 result only where copying source pixels helps; 0 gives an even blend.
    gate_init: float = -3.0

    def __post_init__(self) -> None:
        if min(self.levels, self.ch_min, self.res_blocks, self.image_channels) < 1 or self.flow_unit <= 0:
            raise ConfigError(f"PixelWarperConfig: sizes must be positive, got {self}")
        if self.ch_max < self.ch_min:
            raise ConfigError(f"PixelWarperConfig: ch_max {self.ch_max} < ch_min {self.ch_min}")


class PixelWarper(nn.Module):
    """(x1, generated, flow, vis) -> (output, z, x_w).

    x_w = warp(x1, F) at full resolution; a residual U-Net on
    [x_w, generated, F / flow_unit, onehot(V)] predicts z = sigmoid(.) in (0, 1), (B, 1, H, W);
    output = z * x_w + (1 - z) * generated. z near 1 copies sharp source pixels where the flow is
    trustworthy (visible body), near 0 keeps the generator's synthesis (hidden parts, background).

    Convention: flow full-resolution pixels, (x, y), backward target->source; vis (B, H, W) int64
    classes 0 visible, 1 hidden, 2 background; images in [-1, 1]; warp padding is zeros.
    """

    def __init__(self, cfg: PixelWarperConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or PixelWarperConfig()
        in_ch = 2 * cfg.image_channels + 2 + NUM_VIS_CLASSES
        chs = level_channels(cfg.levels, cfg.ch_min, cfg.ch_max)
        self.unet = ResUNet(chs, cfg.res_blocks, in_ch=in_ch)
        self.head = OutputHead(chs[0], 1)
        conv = self.head[-1]
        assert isinstance(conv, nn.Conv2d) and conv.bias is not None
        nn.init.zeros_(conv.weight)
        nn.init.constant_(conv.bias, cfg.gate_init)

    def forward(
        self, x1: torch.Tensor, generated: torch.Tensor, flow: torch.Tensor, vis: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        check_image_like(x1, "x1")
        check_image_like(generated, "generated")
        check_flow(flow)
        check_visibility(vis)
        if x1.shape != generated.shape or x1.shape[-2:] != flow.shape[-2:] or x1.shape[-2:] != vis.shape[-2:]:
            raise ShapeError(
                f"x1 {tuple(x1.shape)}, generated {tuple(generated.shape)}, flow {tuple(flow.shape)} "
                f"and vis {tuple(vis.shape)} must share batch and size"
            )
        x_w = warp(x1, flow)
        dtype = generated.dtype
        inp = torch.cat(
            (
                x_w.to(dtype),
                generated,
                (flow / self.cfg.flow_unit).to(dtype),
                one_hot_visibility(vis, dtype=dtype),
            ),
            dim=1,
        )
        z = torch.sigmoid(self.head(self.unet(inp)[0]))
        output = z * x_w + (1 - z) * generated
        return output, z, x_w
