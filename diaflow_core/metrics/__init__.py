"""Image metrics for pose transfer: SSIM (two settings) and masked SSIM, PSNR, L1, FID, IS, LPIPS;
plus a no-reference checkerboard score for decoder artifacts.

Paired metrics take uint8 ``(B, H, W, 3)`` RGB images; the network metrics take float ``(B, 3, H, W)`` in
[-1, 1] and need user-supplied weight files (nothing is downloaded). ``METRICS`` lists them all.
"""

from __future__ import annotations

from diaflow_core.metrics.checkerboard import checkerboard_score
from diaflow_core.metrics.fid import FID, FeatureStats, frechet_distance
from diaflow_core.metrics.inception import InceptionFeatures, load_inception
from diaflow_core.metrics.inception_score import InceptionScore, inception_score_from_logits
from diaflow_core.metrics.l1 import l1
from diaflow_core.metrics.lpips import LPIPS, load_lpips
from diaflow_core.metrics.psnr import psnr
from diaflow_core.metrics.registry import METRICS, MetricInfo
from diaflow_core.metrics.ssim import GAUSSIAN, SKIMAGE_DEFAULT, SSIMSettings, masked_ssim, ssim, ssim_skimage

__all__ = [
    "FID",
    "GAUSSIAN",
    "LPIPS",
    "METRICS",
    "SKIMAGE_DEFAULT",
    "FeatureStats",
    "InceptionFeatures",
    "InceptionScore",
    "MetricInfo",
    "SSIMSettings",
    "checkerboard_score",
    "frechet_distance",
    "inception_score_from_logits",
    "l1",
    "load_inception",
    "load_lpips",
    "masked_ssim",
    "psnr",
    "ssim",
    "ssim_skimage",
]
