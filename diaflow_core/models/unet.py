"""Residual U-Net trunk shared by the single-path generator, the pixel warper and the flow regressor."""

from __future__ import annotations

import torch
import torch.nn as nn

from diaflow_core.models.blocks import Down, ResBlock, Up, conv_bn
from diaflow_core.ops.checks import ShapeError, check_image_like

__all__ = ["ResUNet", "check_divisible"]


class ResUNet(nn.Module):
    """Encoder-decoder with one skip per residual block.

    ``channels`` = [c_0, ..., c_L] for L levels (c_L is the bottleneck). Level l: ``res_blocks``
    ResBlocks at c_l (each output kept as a skip), then Down(c_l, c_{l+1}). The decoder mirrors
    it: Up(c_{l+1}, c_l), then ``res_blocks`` ResBlocks each taking the matching skip (last in,
    first out). With ``in_ch`` set, a 1x1 conv + BN stem maps the input to c_0.

    ``forward`` returns the decoder output of every level, finest (level 0) first.
    """

    def __init__(self, channels: list[int], res_blocks: int = 2, in_ch: int | None = None) -> None:
        super().__init__()
        self.levels = len(channels) - 1
        self.res_blocks = res_blocks
        self.stem = conv_bn(in_ch, channels[0], 1) if in_ch is not None else nn.Identity()
        self.enc = nn.ModuleList()
        self.down = nn.ModuleList()
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for lvl in range(self.levels):
            c, c_next = channels[lvl], channels[lvl + 1]
            self.enc.append(nn.ModuleList(ResBlock(c) for _ in range(res_blocks)))
            self.down.append(Down(c, c_next))
            self.up.append(Up(c_next, c))
            self.dec.append(nn.ModuleList(ResBlock(c, skip_ch=c) for _ in range(res_blocks)))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        check_image_like(x)
        check_divisible(x, self.levels)
        x = self.stem(x)
        skips: list[torch.Tensor] = []
        for lvl in range(self.levels):
            for block in self.enc[lvl]:
                x = block(x)
                skips.append(x)
            x = self.down[lvl](x)
        outs: list[torch.Tensor] = []
        for lvl in reversed(range(self.levels)):
            x = self.up[lvl](x)
            for block in reversed(self.dec[lvl]):
                x = block(x, skips.pop())
            outs.append(x)
        return outs[::-1]


def check_divisible(x: torch.Tensor, levels: int) -> None:
    """H and W must halve ``levels`` times exactly."""
    m = 2**levels
    if x.shape[-2] % m or x.shape[-1] % m:
        raise ShapeError(f"input size {tuple(x.shape[-2:])} must be divisible by {m} for {levels} levels")
