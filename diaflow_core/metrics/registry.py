"""A small registry of the image metrics: name -> callable + what it needs and which way is better.

Convention: ``paired`` metrics take uint8 ``(B, H, W, 3)`` RGB images (generated, target) and return
``(B,)``; ``masked`` ones also take a bool ``(B, H, W)`` target body mask; ``distribution`` metrics are
accumulators built from weight files (``make`` builds them) and give one number per image set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from diaflow_core.metrics.fid import FID
from diaflow_core.metrics.inception_score import InceptionScore
from diaflow_core.metrics.l1 import l1
from diaflow_core.metrics.lpips import load_lpips
from diaflow_core.metrics.psnr import psnr
from diaflow_core.metrics.ssim import GAUSSIAN, SKIMAGE_DEFAULT, masked_ssim, ssim

__all__ = ["METRICS", "MetricInfo"]


@dataclass(frozen=True)
class MetricInfo:
    """One registered metric."""

    name: str
    fn: Callable[..., Any]
    kind: Literal["paired", "masked", "distribution"]
    higher_is_better: bool
    description: str
    needs_weights: tuple[str, ...] = ()


METRICS: dict[str, MetricInfo] = {
    m.name: m
    for m in (
        MetricInfo("ssim", partial(ssim, settings=SKIMAGE_DEFAULT), "paired", True,
                   "SSIM, scikit-image default: " + SKIMAGE_DEFAULT.describe()),
        MetricInfo("ssim_gaussian", partial(ssim, settings=GAUSSIAN), "paired", True,
                   "SSIM, Gaussian: " + GAUSSIAN.describe()),
        MetricInfo("masked_ssim", partial(masked_ssim, settings=SKIMAGE_DEFAULT), "masked", True,
                   "SSIM of both images times the target body mask, scikit-image default window"),
        MetricInfo("masked_ssim_gaussian", partial(masked_ssim, settings=GAUSSIAN), "masked", True,
                   "SSIM of both images times the target body mask, Gaussian sigma 1.5 window"),
        MetricInfo("psnr", psnr, "paired", True, "PSNR in dB, data range 255, MSE over pixels and channels"),
        MetricInfo("l1", l1, "paired", False, "mean |a - b| on the [0, 1] scale"),
        MetricInfo("fid", FID, "distribution", False,
                   "Frechet distance of InceptionV3 pool3 features, real statistics from the training set",
                   ("inception",)),
        MetricInfo("inception_score", InceptionScore, "distribution", True,
                   "Inception Score (10 splits) of the generated images", ("inception",)),
        MetricInfo("lpips", load_lpips, "distribution", False,
                   "LPIPS v0.1 AlexNet distance to the target (mean over pairs)", ("alexnet", "lpips_linear")),
    )
}  # fmt: skip
