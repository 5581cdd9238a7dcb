"""PSNR and L1 on uint8 images: known values and scikit-image agreement."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from diaflow_core.metrics import l1, psnr


def test_psnr_known_value_and_skimage() -> None:
    a = np.full((2, 16, 8, 3), 100, np.uint8)
    b = a + np.uint8(10)
    assert psnr(a, b)[0].item() == pytest.approx(10 * math.log10(255**2 / 100.0))
    rng = np.random.default_rng(1)
    c = rng.integers(0, 256, (3, 16, 8, 3), dtype=np.uint8)
    d = rng.integers(0, 256, (3, 16, 8, 3), dtype=np.uint8)
    ref = [peak_signal_noise_ratio(x, y, data_range=255) for x, y in zip(c, d, strict=True)]
    np.testing.assert_allclose(psnr(c, d).numpy(), ref, rtol=1e-12)


def test_psnr_identical_is_inf() -> None:
    a = np.zeros((1, 8, 8, 3), np.uint8)
    assert math.isinf(psnr(a, a).item())


def test_l1_known_value() -> None:
    a = np.zeros((1, 8, 8, 3), np.uint8)
    b = np.full((1, 8, 8, 3), 51, np.uint8)
    assert l1(a, b).item() == pytest.approx(0.2)
    assert l1(b, b).item() == 0.0
    with pytest.raises(ValueError):
        l1(a, b[:, :4])
