"""Fréchet Inception Distance: feature statistics, the Fréchet distance, and an accumulating metric.

Convention: features are float ``(N, D)`` (InceptionV3 pool3, D = 2048, see ``inception.py``); statistics
are the mean and the unbiased covariance (``np.cov(rowvar=False)``), accumulated in float64; the distance is
||mu1 - mu2||^2 + Tr(S1 + S2 - 2 sqrtm(S1 S2)) with ``scipy.linalg.sqrtm`` (pytorch-fid's recipe: an eps
on the diagonals when the product is singular, the imaginary part dropped when negligible). The real
statistics of the Market protocol come from the TRAINING images (DESIGN.md section 2).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from diaflow_core.errors import DataError

__all__ = ["FID", "FeatureStats", "frechet_distance"]

FeatureFn = Callable[[torch.Tensor], torch.Tensor]


class FeatureStats:
    """Running mean and covariance of feature vectors (float64 sums; any batch sizes)."""

    def __init__(self, dim: int | None = None) -> None:
        self.count = 0
        self._sum: np.ndarray | None = None if dim is None else np.zeros(dim)
        self._outer: np.ndarray | None = None if dim is None else np.zeros((dim, dim))

    def update(self, feats: torch.Tensor | np.ndarray) -> None:
        """Add features ``(N, D)``."""
        f = feats.detach().double().cpu().numpy() if isinstance(feats, torch.Tensor) else np.asarray(feats, float)
        if f.ndim != 2:
            raise ValueError(f"FeatureStats.update: expected (N, D) features, got {f.shape}")
        if self._sum is None or self._outer is None:
            self._sum, self._outer = np.zeros(f.shape[1]), np.zeros((f.shape[1], f.shape[1]))
        if f.shape[1] != self._sum.shape[0]:
            raise ValueError(f"FeatureStats.update: feature size {f.shape[1]} != {self._sum.shape[0]}")
        self.count += f.shape[0]
        self._sum += f.sum(axis=0)
        self._outer += f.T @ f

    @property
    def mean(self) -> np.ndarray:
        if self._sum is None or self.count == 0:
            raise ValueError("FeatureStats: no features yet")
        return self._sum / self.count

    @property
    def cov(self) -> np.ndarray:
        """Unbiased covariance ``(D, D)`` (needs at least 2 samples)."""
        if self._outer is None or self.count < 2:
            raise ValueError("FeatureStats: the covariance needs at least 2 feature vectors")
        mu = self.mean
        return (self._outer - self.count * np.outer(mu, mu)) / (self.count - 1)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write mean, covariance and count to an ``.npz`` file."""
        np.savez(Path(path), mu=self.mean, sigma=self.cov, count=np.array(self.count))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FeatureStats:
        """Read statistics written by ``save`` (no pickle)."""
        try:
            with np.load(Path(path), allow_pickle=False) as z:
                mu, sigma, count = z["mu"], z["sigma"], int(z["count"])
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(f"{path}: not a feature-statistics file ({exc})") from exc
        out = cls()
        out.count = count
        out._sum = mu * count
        out._outer = sigma * (count - 1) + count * np.outer(mu, mu)
        return out


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6
) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    Args:
        mu1, mu2: means ``(D,)``; sigma1, sigma2: covariances ``(D, D)``.
        eps: added to both diagonals when sqrtm of the product is not finite.
    Returns:
        The squared Fréchet (2-Wasserstein) distance, a float >= 0 (up to rounding).
    """
    from scipy import linalg

    mu1, mu2 = np.atleast_1d(np.asarray(mu1, float)), np.atleast_1d(np.asarray(mu2, float))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, float)), np.atleast_2d(np.asarray(sigma2, float))
    d = mu1.shape[0]
    if mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(f"frechet_distance: shapes differ: {mu1.shape} {s1.shape} vs {mu2.shape} {s2.shape}")
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(s1 @ s2, disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(d) * eps
        covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"frechet_distance: sqrtm has a large imaginary part {np.abs(covmean.imag).max():.3g}")
        covmean = covmean.real
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))


class FID:
    """Accumulates real and generated features; ``compute()`` gives the FID.

    Args:
        feature_fn: images float ``(B, 3, H, W)`` in [-1, 1] -> features ``(B, D)``; for the standard metric
            ``lambda x: inception(x)[0]`` with ``inception = load_inception(path)``. Any network works
            (the tests inject a tiny random one).
        real: precomputed real statistics (e.g. ``FeatureStats.load`` of the training set), optional.
    """

    def __init__(self, feature_fn: FeatureFn, real: FeatureStats | None = None) -> None:
        self.feature_fn = feature_fn
        self.real = real if real is not None else FeatureStats()
        self.fake = FeatureStats()

    @torch.no_grad()
    def update(self, images: torch.Tensor, real: bool) -> None:
        """Add a batch of images ``(B, 3, H, W)`` in [-1, 1] to the real or the generated side."""
        (self.real if real else self.fake).update(self.feature_fn(images))

    def compute(self) -> float:
        return frechet_distance(self.real.mean, self.real.cov, self.fake.mean, self.fake.cov)
