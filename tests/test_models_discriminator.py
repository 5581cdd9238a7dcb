"""PatchDiscriminator: patch grid size, gradients, bad input."""

from __future__ import annotations

import pytest
import torch

from diaflow_core.models import DiscriminatorConfig, PatchDiscriminator
from diaflow_core.ops import ShapeError


def test_patch_shape(device: str) -> None:
    net = PatchDiscriminator(DiscriminatorConfig(ndf=8)).to(device)
    x1, img = torch.rand(2, 3, 128, 64, device=device), torch.rand(2, 3, 128, 64, device=device)
    img.requires_grad_()
    logits = net(x1, torch.rand(2, 18, 128, 64, device=device), img)
    assert logits.shape == (2, 1, 14, 6)
    logits.mean().backward()
    assert img.grad is not None and img.grad.abs().sum() > 0


def test_bad_input() -> None:
    net = PatchDiscriminator(DiscriminatorConfig(ndf=8))
    with pytest.raises(ShapeError):
        net(torch.rand(1, 3, 64, 32), torch.rand(1, 17, 64, 32), torch.rand(1, 3, 64, 32))
    with pytest.raises(ShapeError):
        net(torch.rand(1, 3, 64, 32), torch.rand(1, 18, 64, 32), torch.rand(1, 3, 32, 32))
