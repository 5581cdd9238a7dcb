"""Flow regression module: (p1, p2) pose heatmaps -> multi-scale backward flow + 3-class visibility."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from diaflow_core.errors import ConfigError
from diaflow_core.models.blocks import Down, ResBlock, conv_bn, level_channels
from diaflow_core.models.unet import ResUNet, check_divisible
from diaflow_core.ops.checks import ShapeError, check_image_like
from diaflow_core.ops.resize import resize_flow
from diaflow_core.ops.visibility import NUM_VIS_CLASSES

__all__ = ["FlowPrediction", "FlowRegressor", "FlowRegressorConfig", "joint_offset_hint"]

HINT_CHANNELS = 3  # (dx, dy) in flow units and a coverage mask


def joint_offset_hint(p1: torch.Tensor, p2: torch.Tensor, flow_unit: float) -> torch.Tensor:
    """(B, 3, H, W) float32 from source / target heatmaps (B, J, H, W): on every target joint's disc the
    backward displacement (source joint - target joint) / ``flow_unit``, averaged where discs overlap, and a
    0/1 channel marking those pixels. Joints are the channels' centroids; a joint missing from either pose
    gives nothing. A disc clipped by the image border moves its centroid inwards (up to ~2 px at radius 4).
    """
    p1, p2 = p1.float(), p2.float()
    h, w = p1.shape[-2:]
    xs = torch.arange(w, device=p1.device, dtype=torch.float32)
    ys = torch.arange(h, device=p1.device, dtype=torch.float32)

    def centroids(p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mass = p.sum(dim=(2, 3))
        cx = (p.sum(dim=2) * xs).sum(dim=2) / mass.clamp_min(1e-6)
        cy = (p.sum(dim=3) * ys).sum(dim=2) / mass.clamp_min(1e-6)
        return torch.stack((cx, cy), dim=-1), mass > 0

    c1, ok1 = centroids(p1)
    c2, ok2 = centroids(p2)
    weight = p2 * (ok1 & ok2).to(p2.dtype)[..., None, None]  # (B, J, H, W)
    cover = weight.sum(dim=1, keepdim=True)
    hint = torch.einsum("bjhw,bjc->bchw", weight, (c1 - c2) / flow_unit) / cover.clamp_min(1.0)
    return torch.cat((hint, (cover > 0).float()), dim=1)


@dataclass(frozen=True)
class FlowRegressorConfig:
    """Flow regressor shape (recipe section ``flow_net``). Defaults = the Market reference (~4.9 M)."""

    pose_channels: int = 18  # per pose; the input is 2 x this
    ch_min: int = 32
    ch_max: int = 128
    levels: int = 4  # U-Net levels below the stem
    stem_levels: int = 1  # stride-2 stages before the U-Net: the finest prediction is at 1 / 2**stem_levels
    res_blocks: int = 2
    flow_unit: float = 20.0  # raw outputs are in units of this many full-resolution pixels
    # A full-resolution head that corrects the upsampled coarse flow and visibility from the stem's
    # full-resolution features: the half-size prediction, upsampled bilinearly, is coarse at the flow's
    # jumps between parts and at the silhouette (docs/flow_regressor.md).
    refine: bool = False
    # Joint-offset hint (`joint_offset_hint`): each target joint's disc carries the displacement to the same
    # joint in the source, so the net reads the flow at the joints instead of having to regress it from
    # where two discs sit. Derived from the same heatmaps (the input is still the two poses alone); its 1x1
    # conv starts at zero, so weights trained without it load and keep their outputs.
    joint_hint: bool = False

    def __post_init__(self) -> None:
        if min(self.pose_channels, self.ch_min, self.levels, self.res_blocks) < 1 or self.stem_levels < 0:
            raise ConfigError(f"FlowRegressorConfig: sizes must be positive, got {self}")
        if self.refine and self.stem_levels == 0:
            raise ConfigError("FlowRegressorConfig: refine needs stem_levels >= 1 (the U-Net ends at full size)")
        if self.ch_max < self.ch_min or self.flow_unit <= 0:
            raise ConfigError(f"FlowRegressorConfig: need ch_max >= ch_min and flow_unit > 0, got {self}")


class FlowPrediction(NamedTuple):
    """Output of FlowRegressor.

    flows: finest first. flows[0] is (B, 2, H, W) at the input size; flows[k] for k >= 1 is the
        prediction of decoder level k-1 at (H, W) / 2**(stem_levels + k - 1). Each is in pixels OF
        ITS OWN GRID (x, y order, backward target->source), comparable with
        ``resize_flow(F_gt, size)``. When stem_levels > 0, flows[0] is flows[1] upsampled bilinearly,
        plus the full-resolution head's correction when the config has ``refine``.
    vis_logits: (B, 3, H, W) logits of classes 0 visible, 1 hidden, 2 background.
    """

    flows: list[torch.Tensor]
    vis_logits: torch.Tensor


class FlowRegressor(nn.Module):
    """Residual U-Net from concat(p1, p2) heatmaps to flow at several scales and visibility logits.

    A stem (1x1 conv, then per stem level a ResBlock and a stride-2 conv) works at full resolution
    cheaply; the U-Net then runs from 1 / 2**stem_levels down. Each decoder level predicts a flow
    (ReLU + 3x3 conv); raw outputs times ``flow_unit`` are full-resolution pixels, divided by the
    level's scale to give pixels of the level grid. Visibility comes from the finest decoder level,
    upsampled bilinearly. With ``refine``, a full-resolution head adds a correction to both upsampled
    outputs, computed from the upsampled finest decoder features and the stem's full-resolution
    features; its output convs start at zero, so a trunk trained without it keeps its outputs.
    """

    def __init__(self, cfg: FlowRegressorConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or FlowRegressorConfig()
        chs = level_channels(cfg.stem_levels + cfg.levels, cfg.ch_min, cfg.ch_max)
        stem: list[nn.Module] = [conv_bn(2 * cfg.pose_channels, chs[0], 1)]
        for lvl in range(cfg.stem_levels):
            stem += [ResBlock(chs[lvl]), Down(chs[lvl], chs[lvl + 1])]
        self.stem = nn.Sequential(*stem)
        self.hint = nn.Conv2d(HINT_CHANNELS, chs[0], 1, bias=False) if cfg.joint_hint else None
        if self.hint is not None:
            nn.init.zeros_(self.hint.weight)
        unet_chs = chs[cfg.stem_levels :]
        self.unet = ResUNet(unet_chs, cfg.res_blocks)
        self.flow_heads = nn.ModuleList(nn.Sequential(nn.ReLU(), nn.Conv2d(c, 2, 3, padding=1)) for c in unet_chs[:-1])
        self.vis_head = nn.Sequential(nn.ReLU(), nn.Conv2d(unet_chs[0], NUM_VIS_CLASSES, 3, padding=1))
        self.refine = RefineHead(unet_chs[0], chs[0]) if cfg.refine else None

    def forward(self, p1: torch.Tensor, p2: torch.Tensor) -> FlowPrediction:
        """p1, p2: (B, pose_channels, H, W) heatmaps of the source and target pose."""
        cfg = self.cfg
        for name, p in (("p1", p1), ("p2", p2)):
            check_image_like(p, name)
            if p.shape[1] != cfg.pose_channels:
                raise ShapeError(f"{name} must have {cfg.pose_channels} channels, got {tuple(p.shape)}")
        if p1.shape != p2.shape:
            raise ShapeError(f"p1 {tuple(p1.shape)} and p2 {tuple(p2.shape)} must have one shape")
        check_divisible(p1, cfg.stem_levels + cfg.levels)
        size = p1.shape[-2:]
        x = torch.cat((p1, p2), dim=1)
        first_conv, first_bn = self.stem[0]  # the hint joins the heatmaps' 1x1 conv, before its BN
        x = first_conv(x)
        if self.hint is not None:
            x = x + self.hint(joint_offset_hint(p1, p2, cfg.flow_unit).to(x.dtype))
        x = first_bn(x)
        full_res: torch.Tensor | None = None
        for mod in self.stem[1:]:  # the input of the first Down = the stem's full-resolution features
            if full_res is None and isinstance(mod, Down):
                full_res = x
            x = mod(x)
        feats = self.unet(x)
        with torch.autocast(p1.device.type, enabled=False):  # flow in pixels needs more than bf16's 8 bits
            flows = [
                head(f.float()) * (cfg.flow_unit / 2 ** (cfg.stem_levels + k))
                for k, (head, f) in enumerate(zip(self.flow_heads, feats, strict=True))
            ]
            vis = self.vis_head(feats[0].float())
        if cfg.stem_levels > 0:
            full = resize_flow(flows[0], (size[0], size[1]), mode="bilinear")
            vis = F.interpolate(vis, size=size, mode="bilinear", align_corners=False)
            if self.refine is not None and full_res is not None:
                d_flow, d_vis = self.refine(feats[0], full_res)
                with torch.autocast(p1.device.type, enabled=False):
                    full = full + d_flow * cfg.flow_unit
                    vis = vis + d_vis
            flows = [full, *flows]
        return FlowPrediction(flows=flows, vis_logits=vis)

    @torch.no_grad()
    def infer(self, p1: torch.Tensor, p2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Full-resolution flow (B, 2, H, W) float32 and visibility classes (B, H, W) int64."""
        pred = self(p1, p2)
        return pred.flows[0].float(), pred.vis_logits.argmax(dim=1)


class RefineHead(nn.Module):
    """Full-resolution correction of the upsampled flow (in flow units) and visibility logits.

    The coarse features are reduced to ``c_full`` channels at their own size (cheap), upsampled, joined
    with the full-resolution stem features, then one conv + BN and one ResBlock; two zero-initialised
    3x3 output convs give (delta flow, delta logits).
    """

    def __init__(self, c_coarse: int, c_full: int) -> None:
        super().__init__()
        self.reduce = nn.Sequential(nn.ReLU(), *conv_bn(c_coarse, c_full, 1))
        self.fuse = nn.Sequential(nn.ReLU(), *conv_bn(2 * c_full, c_full, 3), ResBlock(c_full), nn.ReLU())
        self.flow = nn.Conv2d(c_full, 2, 3, padding=1)
        self.vis = nn.Conv2d(c_full, NUM_VIS_CLASSES, 3, padding=1)
        for conv in (self.flow, self.vis):
            nn.init.zeros_(conv.weight)
            nn.init.zeros_(conv.bias)

    def forward(self, coarse: torch.Tensor, full: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        up = F.interpolate(self.reduce(coarse), size=full.shape[-2:], mode="bilinear", align_corners=False)
        h = self.fuse(torch.cat((up, full), dim=1))
        with torch.autocast(h.device.type, enabled=False):  # output convs in fp32, as the other flow heads
            return self.flow(h.float()), self.vis(h.float())
