"""LPIPS structure with tiny random stages, and loading the two weight files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from diaflow_core.errors import WeightsError
from diaflow_core.metrics import LPIPS, load_lpips


def _tiny() -> LPIPS:
    torch.manual_seed(0)
    stages = [nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU()), nn.Sequential(nn.Conv2d(4, 5, 3, 2), nn.ReLU())]
    return LPIPS(stages, [torch.rand(1, 4, 1, 1), torch.rand(1, 5, 1, 1)])


def test_identical_zero_symmetric_positive() -> None:
    m = _tiny()
    a, b = torch.rand(3, 3, 16, 8) * 2 - 1, torch.rand(3, 3, 16, 8) * 2 - 1
    assert torch.allclose(m(a, a), torch.zeros(3), atol=1e-7)
    d = m(a, b)
    assert d.shape == (3,) and (d > 0).all()
    assert torch.allclose(d, m(b, a), atol=1e-6)


def test_bad_linear_shape() -> None:
    with pytest.raises(ValueError):
        LPIPS([nn.Identity()], [torch.rand(4)])


def test_load_lpips_files(tmp_path: Path) -> None:
    from torchvision.models import alexnet

    with pytest.raises(WeightsError, match="no weights file"):
        load_lpips(None, None)
    feats = {f"features.{k}": v for k, v in alexnet(weights=None).features.state_dict().items()}
    torch.save(feats, tmp_path / "alex_features.pth")
    lin = {f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1) for k, c in enumerate((64, 192, 384, 256, 256))}
    torch.save(lin, tmp_path / "alex.pth")
    m = load_lpips(tmp_path / "alex_features.pth", tmp_path / "alex.pth")
    a = torch.rand(2, 3, 128, 64) * 2 - 1
    assert torch.allclose(m(a, a), torch.zeros(2), atol=1e-6)
    del lin["lin4.model.1.weight"]
    torch.save(lin, tmp_path / "short.pth")
    with pytest.raises(WeightsError, match="lin4"):
        load_lpips(tmp_path / "alex_features.pth", tmp_path / "short.pth")
