"""SSIM on uint8 RGB images, in the two settings the pose-transfer literature uses, plus its masked variant.

Convention: images uint8 ``(B, H, W, 3)`` RGB (or one ``(H, W, 3)``), values 0..255, compared as float64
without rescaling (data range 255), the way the published Market-1501 numbers are computed on 128x64 crops.
Colour is handled as scikit-image does with ``channel_axis=-1``: SSIM per channel, then the channel mean.
The mean of the SSIM map excludes a border of ``(win_size - 1) // 2`` pixels (skimage's crop), so only
"valid" windows count and the filter's border mode does not matter.

Two settings (``SSIMSettings``), both reproducing ``skimage.metrics.structural_similarity`` (to ~1e-7 in
float32, ~1e-15 in float64):

* ``SKIMAGE_DEFAULT``: skimage's defaults, a 7x7 uniform window with sample covariance (N / (N - 1)),
  ``structural_similarity(a, b, channel_axis=-1, data_range=255)``.
* ``GAUSSIAN``: Wang et al.'s original, a Gaussian window sigma 1.5 (truncated at 3.5 sigma: 11x11),
  population covariance, ``structural_similarity(a, b, channel_axis=-1, data_range=255,
  gaussian_weights=True, sigma=1.5, use_sample_covariance=False)``.

``masked_ssim`` multiplies BOTH images by a body mask (drawn from the target pose, see
``diaflow_core.pose.body_mask``) and then computes SSIM with the same settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from diaflow_core.metrics._checks import as_mask_batch, check_pair

__all__ = [
    "GAUSSIAN",
    "SKIMAGE_DEFAULT",
    "SSIMSettings",
    "masked_ssim",
    "ssim",
    "ssim_float",
    "ssim_skimage",
]

# Images per internal batch. On a CPU small chunks stay in cache and run fastest (~2-3 ms a pair, like
# skimage); on a GPU large ones fill the device.
_CHUNK_CPU = 4
_CHUNK_GPU = 1024


@dataclass(frozen=True)
class SSIMSettings:
    """One SSIM configuration (the fields mirror skimage's arguments)."""

    name: str
    gaussian_weights: bool = False
    win_size: int = 7
    sigma: float = 1.5
    truncate: float = 3.5
    use_sample_covariance: bool = True
    data_range: float = 255.0
    k1: float = 0.01
    k2: float = 0.03

    @property
    def window(self) -> int:
        """Window side in pixels (for the Gaussian: 2 * int(truncate * sigma + 0.5) + 1, as skimage)."""
        if self.gaussian_weights:
            return 2 * int(self.truncate * self.sigma + 0.5) + 1
        return self.win_size

    def skimage_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``skimage.metrics.structural_similarity`` giving the same number."""
        kw: dict[str, Any] = {"channel_axis": -1, "data_range": self.data_range, "K1": self.k1, "K2": self.k2}
        kw["use_sample_covariance"] = self.use_sample_covariance
        if self.gaussian_weights:
            kw.update(gaussian_weights=True, sigma=self.sigma)
        else:
            kw["win_size"] = self.win_size
        return kw

    def describe(self) -> str:
        """One line for reports."""
        if self.gaussian_weights:
            win = f"Gaussian sigma {self.sigma} ({self.window}x{self.window})"
        else:
            win = f"{self.win_size}x{self.win_size} uniform"
        cov = "sample" if self.use_sample_covariance else "population"
        return f"{win} window, {cov} covariance, data range {self.data_range:g}, per RGB channel then mean"


SKIMAGE_DEFAULT = SSIMSettings(name="skimage_default")
GAUSSIAN = SSIMSettings(name="gaussian_1.5", gaussian_weights=True, sigma=1.5, use_sample_covariance=False)


def _kernel_1d(settings: SSIMSettings, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    k = settings.window
    if k < 3 or k % 2 == 0:
        raise ValueError(f"SSIM window must be odd and >= 3, got {k}")
    if not settings.gaussian_weights:
        return torch.full((k,), 1.0 / k, dtype=dtype, device=device)
    r = k // 2
    x = torch.arange(-r, r + 1, dtype=torch.float64)
    w = torch.exp(-0.5 * (x / settings.sigma) ** 2)
    return (w / w.sum()).to(dtype=dtype, device=device)


def _filter_valid(z: torch.Tensor, kern: torch.Tensor) -> torch.Tensor:
    """Separable 'valid' correlation over the last two dims as a sum of shifted slices (cache-friendly on CPU)."""
    k = kern.numel()
    for dim in (-1, -2):
        n = z.shape[dim] - k + 1
        acc = z.narrow(dim, 0, n) * kern[0]
        for i in range(1, k):
            acc = acc + z.narrow(dim, i, n) * kern[i]
        z = acc
    return z


def _check_window(h: int, w: int, settings: SSIMSettings) -> None:
    k = settings.window
    if h < k or w < k:
        raise ValueError(f"images {(h, w)} are smaller than the {k}x{k} SSIM window")


def _ssim_map_mean(
    x: torch.Tensor, y: torch.Tensor, settings: SSIMSettings, centre: float, acc: torch.dtype
) -> torch.Tensor:
    """(B, C, H, W) float images -> (B,) mean SSIM (valid windows, channel mean), the mean accumulated in ``acc``."""
    kern = _kernel_1d(settings, x.dtype, x.device)
    # Centre the values: moments of x - centre lose far less to cancellation in float32; SSIM adds it back.
    fx, fy = x - centre, y - centre
    ux, uy, uxx, uyy, uxy = _filter_valid(torch.stack([fx, fy, fx * fx, fy * fy, fx * fy]), kern)
    n = kern.numel() ** 2
    cov_norm = n / (n - 1.0) if settings.use_sample_covariance else 1.0
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    ux, uy = ux + centre, uy + centre
    c1 = (settings.k1 * settings.data_range) ** 2
    c2 = (settings.k2 * settings.data_range) ** 2
    s = ((2.0 * ux * uy + c1) * (2.0 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return s.mean(dim=(2, 3), dtype=acc).mean(dim=1)


def ssim_float(x: torch.Tensor, y: torch.Tensor, settings: SSIMSettings = SKIMAGE_DEFAULT) -> torch.Tensor:
    """Mean SSIM per pair of float images on the 0..``data_range`` scale, differentiable (for losses).

    Args:
        x, y: float ``(B, C, H, W)`` of one shape, values on the data range's scale (0..255 here), H, W >= the
            window.
    Returns:
        ``(B,)`` in x's dtype: per-channel SSIM over the valid windows, then the channel mean, as ``ssim``
        computes it for uint8 images.
    """
    if x.shape != y.shape or x.dim() != 4:
        raise ValueError(f"expected two (B, C, H, W) tensors of one shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    _check_window(x.shape[-2], x.shape[-1], settings)
    return _ssim_map_mean(x, y, settings, settings.data_range / 2.0, x.dtype)


def _ssim_chunk(x: torch.Tensor, y: torch.Tensor, settings: SSIMSettings, dtype: torch.dtype) -> torch.Tensor:
    """x, y uint8 (B, H, W, 3) -> (B,) float64 mean SSIM (valid windows, channel mean)."""
    fx = x.permute(0, 3, 1, 2).to(dtype)
    fy = y.permute(0, 3, 1, 2).to(dtype)
    return _ssim_map_mean(fx, fy, settings, 128.0, torch.float64)


def ssim(
    a: np.ndarray | torch.Tensor,
    b: np.ndarray | torch.Tensor,
    settings: SSIMSettings = SKIMAGE_DEFAULT,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Mean SSIM per image pair, vectorised in torch (CPU or GPU), equal to skimage's ``structural_similarity``.

    Args:
        a, b: uint8 ``(B, H, W, 3)`` RGB (or ``(H, W, 3)``), numpy or torch; H, W >= the window.
        settings: ``SKIMAGE_DEFAULT`` (7x7 uniform) or ``GAUSSIAN`` (sigma 1.5), or your own.
        dtype: compute dtype; float32 (default, values centred at 128 first) matches skimage to ~1e-7,
            float64 to ~1e-15.
    Returns:
        float64 ``(B,)`` tensor on ``a``'s device.

    Convention: no rescaling of the uint8 values (data range 255); per-channel SSIM averaged over RGB;
    border of ``window // 2`` pixels excluded from the mean (skimage's crop).
    """
    x, y = check_pair(a, b)
    _check_window(x.shape[1], x.shape[2], settings)
    step = _CHUNK_CPU if x.device.type == "cpu" else _CHUNK_GPU
    out = [_ssim_chunk(x[i : i + step], y[i : i + step], settings, dtype) for i in range(0, x.shape[0], step)]
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.float64, device=x.device)


def masked_ssim(
    a: np.ndarray | torch.Tensor,
    b: np.ndarray | torch.Tensor,
    mask: np.ndarray | torch.Tensor,
    settings: SSIMSettings = SKIMAGE_DEFAULT,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """SSIM of ``a * mask`` against ``b * mask`` (both images zeroed off the mask), per pair.

    Args:
        a, b: uint8 ``(B, H, W, 3)`` RGB (generated, target).
        mask: bool ``(B, H, W)``: the body mask of the TARGET pose (``diaflow_core.pose.body_mask``).
        settings, dtype: as in ``ssim``.
    Returns:
        float ``(B,)`` tensor.

    Convention: the mask multiplies the uint8 images (still uint8, 0 off the body); the SSIM over the whole
    image follows, so the black background is part of the mean (as in the published masked-SSIM code).
    """
    x, y = check_pair(a, b)
    m = as_mask_batch(mask, x).unsqueeze(-1).to(torch.uint8)
    return ssim(x * m, y * m, settings=settings, dtype=dtype)


def ssim_skimage(
    a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor, settings: SSIMSettings = SKIMAGE_DEFAULT
) -> np.ndarray:
    """Reference: scikit-image's ``structural_similarity`` image by image (slow; for checks), float64 ``(B,)``."""
    from skimage.metrics import structural_similarity

    x, y = check_pair(a, b)
    xs, ys = x.cpu().numpy(), y.cpu().numpy()
    kw = settings.skimage_kwargs()
    return np.array([structural_similarity(p, q, **kw) for p, q in zip(xs, ys, strict=True)], dtype=np.float64)
