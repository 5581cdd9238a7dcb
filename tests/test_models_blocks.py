"""Shared blocks and the residual U-Net trunk."""

from __future__ import annotations

import pytest
import torch

from diaflow_core.errors import ConfigError
from diaflow_core.models import Down, OutputHead, ResBlock, ResUNet, Up, conv_bn_relu, level_channels
from diaflow_core.ops import ShapeError


def test_level_channels() -> None:
    assert level_channels(5, 32, 128) == [32, 64, 96, 128, 128, 128]
    assert level_channels(4, 32, 128, offset=1) == [64, 96, 128, 128, 128]
    with pytest.raises(ConfigError):
        level_channels(0, 32, 128)
    with pytest.raises(ConfigError):
        level_channels(3, 64, 32)


def test_block_shapes(device: str) -> None:
    x = torch.randn(2, 6, 8, 4, device=device)
    assert ResBlock(6).to(device)(x).shape == x.shape
    assert ResBlock(6, skip_ch=10).to(device)(x, torch.randn(2, 10, 8, 4, device=device)).shape == x.shape
    assert Down(6, 9).to(device)(x).shape == (2, 9, 4, 2)
    assert Up(6, 5).to(device)(x).shape == (2, 5, 16, 8)
    assert conv_bn_relu(6, 3).to(device)(x).min() >= 0
    assert OutputHead(6, 3).to(device)(x).shape == (2, 3, 8, 4)


def test_resblock_skip_mismatch() -> None:
    x = torch.randn(1, 4, 4, 4)
    with pytest.raises(ShapeError):
        ResBlock(4)(x, x)
    with pytest.raises(ShapeError):
        ResBlock(4, skip_ch=4)(x)


def test_resblock_zero_residual_is_identity() -> None:
    block = ResBlock(4).eval()
    torch.nn.init.zeros_(block.body[-1].weight)  # BN scale 0: the residual branch vanishes
    x = torch.randn(1, 4, 4, 4)
    torch.testing.assert_close(block(x), x)


def test_resunet_outputs_finest_first(device: str) -> None:
    net = ResUNet([4, 6, 8], res_blocks=2, in_ch=5).to(device)
    outs = net(torch.randn(2, 5, 16, 8, device=device))
    assert [tuple(o.shape) for o in outs] == [(2, 4, 16, 8), (2, 6, 8, 4)]
    with pytest.raises(ShapeError):
        net(torch.randn(2, 5, 10, 8, device=device))
