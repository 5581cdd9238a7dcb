"""Dual-path generator (appearance encoder + pose encoder, warped skips) and its ablations."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from diaflow_core.errors import ConfigError
from diaflow_core.models.blocks import Down, OutputHead, ResBlock, Up, conv_bn, level_channels
from diaflow_core.models.feature_warp import VIS_MODES, FeatureWarp
from diaflow_core.models.unet import ResUNet, check_divisible
from diaflow_core.ops.checks import ShapeError, check_flow, check_image_like, check_visibility
from diaflow_core.ops.resize import resize_flow
from diaflow_core.ops.visibility import resize_visibility

__all__ = ["DualPathGenerator", "GeneratorConfig", "UNetGenerator", "build_generator"]


@dataclass(frozen=True)
class GeneratorConfig:
    """Generator shape (recipe section ``generator``). Defaults = the Market 128x64 reference.

    levels: encoder levels (5 at 128x64, 7 at 256x256); input H, W must divide by 2**levels.
    ch_min, ch_max: channels rise linearly in steps of ch_min, capped at ch_max (blocks.level_channels).
    warp_levels: how many of the finest levels get warped appearance skips; deeper ones stay unwarped.
    vis_mode: "gate" (paper), "none" (w/o visibility ablation), "residual" (soft variant).
    use_flow: False = the "w/o flow" ablation (dual encoder, no warping).
    dual_encoder: False = the "w/o dual encoder" ablation (one U-Net on concat(x1, p2)).
    """

    levels: int = 5
    ch_min: int = 32
    ch_max: int = 128
    warp_levels: int = 4
    vis_mode: str = "gate"
    use_flow: bool = True
    dual_encoder: bool = True
    res_blocks: int = 2
    pose_channels: int = 18
    image_channels: int = 3

    def __post_init__(self) -> None:
        if min(self.levels, self.ch_min, self.res_blocks, self.pose_channels, self.image_channels) < 1:
            raise ConfigError(f"GeneratorConfig: sizes must be positive, got {self}")
        if self.ch_max < self.ch_min:
            raise ConfigError(f"GeneratorConfig: ch_max {self.ch_max} < ch_min {self.ch_min}")
        if not 0 <= self.warp_levels <= self.levels:
            raise ConfigError(f"GeneratorConfig: warp_levels must lie in 0..{self.levels}")
        if self.vis_mode not in VIS_MODES:
            raise ConfigError(f"GeneratorConfig: vis_mode must be one of {VIS_MODES}, got {self.vis_mode!r}")


class DualPathGenerator(nn.Module):
    """x1 (B, 3, H, W) in [-1, 1], p2 (B, 18, H, W), flow (B, 2, H, W), vis (B, H, W) -> image (tanh).

    Two encoders of one shape: pose on p2, appearance on x1. Each level: ``res_blocks`` ResBlocks
    (each output is a skip) and a stride-2 conv. Appearance skips of the first ``warp_levels``
    levels pass through a FeatureWarp (F and V resized once per level); the appearance encoder
    itself continues on unwarped features. A 1x1 conv fuses both bottlenecks; the decoder mirrors
    the encoders (Up, then ResBlocks each fed concat(pose skip, appearance skip)); a 7x7 conv
    without BN and tanh give the image.

    Convention: flow is full-resolution, pixels, (x, y), backward target->source (x1 is the
    source); vis classes 0 visible, 1 hidden, 2 background. With use_flow=False, flow and vis are
    ignored and may be None.
    """

    def __init__(self, cfg: GeneratorConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or GeneratorConfig()
        if not cfg.dual_encoder:
            raise ConfigError("DualPathGenerator needs dual_encoder=True; use build_generator")
        self.channels = chs = level_channels(cfg.levels, cfg.ch_min, cfg.ch_max)
        self.pose_stem = conv_bn(cfg.pose_channels, chs[0], 1)
        self.app_stem = conv_bn(cfg.image_channels, chs[0], 1)
        self.pose_enc, self.app_enc = nn.ModuleList(), nn.ModuleList()
        self.pose_down, self.app_down = nn.ModuleList(), nn.ModuleList()
        self.warps = nn.ModuleList()
        self.up, self.dec = nn.ModuleList(), nn.ModuleList()
        for lvl in range(cfg.levels):
            c, c_next = chs[lvl], chs[lvl + 1]
            self.pose_enc.append(nn.ModuleList(ResBlock(c) for _ in range(cfg.res_blocks)))
            self.app_enc.append(nn.ModuleList(ResBlock(c) for _ in range(cfg.res_blocks)))
            self.pose_down.append(Down(c, c_next))
            self.app_down.append(Down(c, c_next))
            if cfg.use_flow and lvl < cfg.warp_levels:
                self.warps.append(nn.ModuleList(FeatureWarp(c, cfg.vis_mode) for _ in range(cfg.res_blocks)))
            self.up.append(Up(c_next, c))
            self.dec.append(nn.ModuleList(ResBlock(c, skip_ch=2 * c) for _ in range(cfg.res_blocks)))
        self.fuse = conv_bn(2 * chs[-1], chs[-1], 1)
        self.head = OutputHead(chs[0], cfg.image_channels)

    def forward(
        self,
        x1: torch.Tensor,
        p2: torch.Tensor,
        flow: torch.Tensor | None = None,
        vis: torch.Tensor | None = None,
    ) -> torch.Tensor:
        cfg = self.cfg
        _check_inputs(cfg, x1, p2)
        warping = cfg.use_flow and cfg.warp_levels > 0
        if warping:
            if flow is None or vis is None:
                raise ShapeError("this generator warps features: flow and vis are required")
            check_flow(flow)
            check_visibility(vis)
            if flow.shape[-2:] != x1.shape[-2:] or vis.shape[-2:] != x1.shape[-2:]:
                raise ShapeError(f"flow {tuple(flow.shape)} and vis {tuple(vis.shape)} must match x1 {tuple(x1.shape)}")
        hp = self.pose_stem(p2)
        ha = self.app_stem(x1)
        skips_p: list[torch.Tensor] = []
        skips_a: list[torch.Tensor] = []
        for lvl in range(cfg.levels):
            for block in self.pose_enc[lvl]:
                hp = block(hp)
                skips_p.append(hp)
            warp_here = warping and lvl < cfg.warp_levels
            if warp_here:
                size = (ha.shape[-2], ha.shape[-1])
                flow_l, vis_l = resize_flow(flow, size), resize_visibility(vis, size)
            for i, block in enumerate(self.app_enc[lvl]):
                ha = block(ha)
                skips_a.append(self.warps[lvl][i](ha, flow_l, vis_l) if warp_here else ha)
            hp, ha = self.pose_down[lvl](hp), self.app_down[lvl](ha)
        x = self.fuse(torch.cat((hp, ha), dim=1))
        for lvl in reversed(range(cfg.levels)):
            x = self.up[lvl](x)
            for block in reversed(self.dec[lvl]):
                x = block(x, torch.cat((skips_p.pop(), skips_a.pop()), dim=1))
        return torch.tanh(self.head(x))


class UNetGenerator(nn.Module):
    """The "w/o dual encoder" ablation: one residual U-Net on concat(x1, p2), same interface as
    DualPathGenerator (flow and vis are accepted and ignored), same channel schedule."""

    def __init__(self, cfg: GeneratorConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or GeneratorConfig(dual_encoder=False)
        chs = level_channels(cfg.levels, cfg.ch_min, cfg.ch_max)
        self.unet = ResUNet(chs, cfg.res_blocks, in_ch=cfg.image_channels + cfg.pose_channels)
        self.head = OutputHead(chs[0], cfg.image_channels)

    def forward(
        self,
        x1: torch.Tensor,
        p2: torch.Tensor,
        flow: torch.Tensor | None = None,
        vis: torch.Tensor | None = None,
    ) -> torch.Tensor:
        _check_inputs(self.cfg, x1, p2)
        return torch.tanh(self.head(self.unet(torch.cat((x1, p2), dim=1))[0]))


def build_generator(cfg: GeneratorConfig) -> nn.Module:
    """DualPathGenerator, or UNetGenerator when cfg.dual_encoder is False."""
    return DualPathGenerator(cfg) if cfg.dual_encoder else UNetGenerator(cfg)


def _check_inputs(cfg: GeneratorConfig, x1: torch.Tensor, p2: torch.Tensor) -> None:
    check_image_like(x1, "x1")
    check_image_like(p2, "p2")
    if x1.shape[1] != cfg.image_channels or p2.shape[1] != cfg.pose_channels:
        raise ShapeError(
            f"x1 must have {cfg.image_channels} and p2 {cfg.pose_channels} channels, "
            f"got {tuple(x1.shape)} and {tuple(p2.shape)}"
        )
    if x1.shape[0] != p2.shape[0] or x1.shape[-2:] != p2.shape[-2:]:
        raise ShapeError(f"x1 {tuple(x1.shape)} and p2 {tuple(p2.shape)} must share batch and size")
    check_divisible(x1, cfg.levels)
