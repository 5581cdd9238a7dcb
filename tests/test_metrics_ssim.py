"""SSIM (both settings) and masked SSIM against scikit-image on random images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from diaflow_core.metrics import GAUSSIAN, SKIMAGE_DEFAULT, SSIMSettings, masked_ssim, ssim, ssim_skimage


def _pair(n: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # Smooth structure plus noise: local statistics vary like in photos (flat and busy regions).
    yy, xx = np.mgrid[0:128, 0:64]
    base = (127 + 100 * np.sin(xx / 7.0)[..., None] * np.cos(yy / 11.0)[..., None]).repeat(3, axis=2)
    a = np.clip(base[None] + rng.normal(0, 20, (n, 128, 64, 3)), 0, 255).astype(np.uint8)
    b = np.clip(a.astype(float) + rng.normal(0, 35, a.shape), 0, 255).astype(np.uint8)
    b[:, :20] = 0  # a flat black band, as in masked images
    return a, b


@pytest.mark.parametrize("settings", [SKIMAGE_DEFAULT, GAUSSIAN], ids=lambda s: s.name)
@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float64, 1e-10)])
def test_ssim_matches_skimage(settings: SSIMSettings, dtype: torch.dtype, tol: float) -> None:
    a, b = _pair()
    ours = ssim(a, b, settings, dtype=dtype).numpy()
    ref = ssim_skimage(a, b, settings)
    assert ours.shape == (4,)
    np.testing.assert_allclose(ours, ref, atol=tol, rtol=0)


def test_ssim_on_device(device: str) -> None:
    a, b = _pair(2)
    ours = ssim(torch.from_numpy(a).to(device), torch.from_numpy(b).to(device), GAUSSIAN)
    assert ours.device.type == torch.device(device).type
    np.testing.assert_allclose(ours.cpu().numpy(), ssim_skimage(a, b, GAUSSIAN), atol=1e-5)


def test_settings_are_the_documented_skimage_arguments() -> None:
    assert SKIMAGE_DEFAULT.window == 7 and SKIMAGE_DEFAULT.use_sample_covariance
    assert GAUSSIAN.window == 11 and not GAUSSIAN.use_sample_covariance
    kw = GAUSSIAN.skimage_kwargs()
    assert kw["gaussian_weights"] and kw["sigma"] == 1.5 and kw["data_range"] == 255 and kw["channel_axis"] == -1


def test_identical_images_give_one_and_single_image_accepted() -> None:
    a, _ = _pair(1)
    assert ssim(a[0], a[0]).item() == pytest.approx(1.0, abs=1e-6)


def test_masked_ssim_is_ssim_of_masked_images() -> None:
    a, b = _pair(3)
    mask = np.zeros((3, 128, 64), bool)
    mask[:, 30:100, 10:50] = True
    got = masked_ssim(a, b, mask).numpy()
    ref = ssim_skimage(a * mask[..., None], b * mask[..., None])
    np.testing.assert_allclose(got, ref, atol=1e-5)
    # Outside-mask content does not matter.
    b2 = b.copy()
    b2[:, :30] = 255
    np.testing.assert_allclose(masked_ssim(a, b2, mask).numpy(), got, atol=1e-12)


def test_bad_inputs() -> None:
    a, b = _pair(2)
    with pytest.raises(ValueError, match="uint8"):
        ssim(a.astype(np.float32), b)
    with pytest.raises(ValueError, match="differ in shape"):
        ssim(a, b[:1])
    with pytest.raises(ValueError, match=r"\(B, H, W, 3\)"):
        ssim(a[..., :1], b[..., :1])
    with pytest.raises(ValueError, match="smaller than"):
        ssim(a[:, :5, :5], b[:, :5, :5])
    with pytest.raises(ValueError, match="mask"):
        masked_ssim(a, b, np.ones((2, 10, 10), bool))
