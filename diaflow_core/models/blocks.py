"""Shared building blocks: conv-bn-relu, pre-activation residual block, stride-2 Down, pixel-shuffle Up.

Blocks are pre-activation (ReLU -> conv -> BN): a block's output is not rectified, so residual
sums stay signed and the next block rectifies its own input. BatchNorm follows every conv except
the networks' output convs (their heads live in the model files).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from diaflow_core.errors import ConfigError
from diaflow_core.ops.checks import ShapeError

__all__ = [
    "Down",
    "OutputHead",
    "ResBlock",
    "Up",
    "conv_bn",
    "conv_bn_relu",
    "count_parameters",
    "level_channels",
]


def conv_bn(c_in: int, c_out: int, kernel_size: int = 3, stride: int = 1) -> nn.Sequential:
    """Conv (no bias: BN has one) + BN, 'same' padding for odd kernels."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(c_out),
    )


def conv_bn_relu(c_in: int, c_out: int, kernel_size: int = 3, stride: int = 1) -> nn.Sequential:
    """Conv + BN + ReLU."""
    return nn.Sequential(*conv_bn(c_in, c_out, kernel_size, stride), nn.ReLU())


class ResBlock(nn.Module):
    """Pre-activation residual block with an optional skip input.

    Without skip: y = x + BN(conv3x3(relu(x))).
    With skip s (skip_ch channels): a = BN(conv1x1(relu(s))) maps s to ch channels, then
    y = x + BN(conv3x3(relu([x, a]))). This is how decoder levels take U-Net skips.
    """

    def __init__(self, ch: int, skip_ch: int = 0) -> None:
        super().__init__()
        self.skip = nn.Sequential(nn.ReLU(), *conv_bn(skip_ch, ch, 1)) if skip_ch > 0 else None
        body_in = 2 * ch if skip_ch > 0 else ch
        self.body = nn.Sequential(nn.ReLU(), *conv_bn(body_in, ch, 3))

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        if self.skip is None:
            if skip is not None:
                raise ShapeError("this ResBlock was built without a skip input")
            return x + self.body(x)
        if skip is None:
            raise ShapeError("this ResBlock needs a skip input")
        return x + self.body(torch.cat((x, self.skip(skip)), dim=1))


class Down(nn.Sequential):
    """ReLU + stride-2 3x3 conv + BN: halves H and W."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(nn.ReLU(), *conv_bn(c_in, c_out, 3, stride=2))


class Up(nn.Sequential):
    """ReLU + 3x3 conv to 4 c_out + PixelShuffle(2) + BN: doubles H and W without checkerboard-prone
    transposed convs."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(c_in, 4 * c_out, 3, padding=1, bias=False),
            nn.PixelShuffle(2),
            nn.BatchNorm2d(c_out),
        )


class OutputHead(nn.Sequential):
    """ReLU + reflect-padded conv with bias and no BN: the last conv of a network."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int = 7) -> None:
        super().__init__(
            nn.ReLU(),
            nn.ReflectionPad2d(kernel_size // 2),
            nn.Conv2d(c_in, c_out, kernel_size, bias=True),
        )


def level_channels(levels: int, ch_min: int, ch_max: int, offset: int = 0) -> list[int]:
    """Channels of levels 0..levels (the last one is the bottleneck).

    Linear rise in steps of ch_min, capped: c_l = min(ch_min * (l + 1 + offset), ch_max). For
    (5, 32, 128): [32, 64, 96, 128, 128, 128]. ``offset`` skips levels handled by a stem.
    """
    if levels < 1 or ch_min < 1 or ch_max < ch_min or offset < 0:
        raise ConfigError(f"bad channel schedule: levels={levels}, ch_min={ch_min}, ch_max={ch_max}")
    return [min(ch_min * (lvl + 1 + offset), ch_max) for lvl in range(levels + 1)]


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (all, or only those with requires_grad)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
