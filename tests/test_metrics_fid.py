"""FID math without real weights: Fréchet distance cases, statistics, a tiny injected feature network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from diaflow_core.errors import WeightsError
from diaflow_core.metrics import FID, FeatureStats, frechet_distance, load_inception


def test_identical_statistics_give_zero() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6))
    mu, sigma = x.mean(0), np.cov(x, rowvar=False)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-8)


def test_known_gaussian_case() -> None:
    # Diagonal covariances: FD = |mu1 - mu2|^2 + sum (sqrt(s1) - sqrt(s2))^2.
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = 1.0 + 4.0 + (1.0 + 1.0 + 4.0)
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expected, rel=1e-9)
    # A rotation of both covariances changes nothing.
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))
    got = frechet_distance(q @ mu1, q @ np.diag(s1) @ q.T, q @ mu2, q @ np.diag(s2) @ q.T)
    assert got == pytest.approx(expected, rel=1e-7)


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))


def test_feature_stats_match_numpy_and_roundtrip(tmp_path: Path) -> None:
    x = np.random.default_rng(2).normal(size=(50, 4))
    st = FeatureStats()
    st.update(torch.from_numpy(x[:17]))
    st.update(x[17:])
    np.testing.assert_allclose(st.mean, x.mean(0), atol=1e-12)
    np.testing.assert_allclose(st.cov, np.cov(x, rowvar=False), atol=1e-12)
    st.save(tmp_path / "s.npz")
    back = FeatureStats.load(tmp_path / "s.npz")
    assert back.count == 50
    np.testing.assert_allclose(back.cov, st.cov, atol=1e-12)


def test_fid_with_tiny_random_network() -> None:
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(3, 8, 3, 2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    images = torch.rand(40, 3, 32, 16) * 2 - 1
    fid = FID(net)
    fid.update(images, real=True)
    fid.update(images, real=False)
    assert fid.compute() == pytest.approx(0.0, abs=1e-6)
    other = FID(net, real=fid.real)
    other.update((images * 0.3).clamp(-1, 1), real=False)
    assert other.compute() > 1e-4


def test_inception_weights_errors(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="no weights file"):
        load_inception(None)
    with pytest.raises(WeightsError, match="not found"):
        load_inception(tmp_path / "missing.pth")
    bad = tmp_path / "bad.pth"
    torch.save({"conv.weight": torch.zeros(1)}, bad)
    with pytest.raises(WeightsError, match="does not fit"):
        load_inception(bad)
