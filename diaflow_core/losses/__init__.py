"""Losses: L1, SSIM, perceptual (VGG19 / re-ID features / none), GAN (vanilla, lsgan, hinge), flow regression."""

from __future__ import annotations

from diaflow_core.losses.flow import FlowLossConfig, end_point_error, flow_loss
from diaflow_core.losses.gan import GAN_KINDS, d_loss, g_loss
from diaflow_core.losses.perceptual import (
    DEFAULT_VGG_LAYERS,
    PERCEPTUAL_BACKENDS,
    VGG19_LAYERS,
    VGG19_WEIGHTS_FILE,
    PerceptualConfig,
    PerceptualLoss,
    default_vgg19_weights_path,
    load_vgg19_features,
)
from diaflow_core.losses.pixel import l1, ssim_loss

__all__ = [
    "DEFAULT_VGG_LAYERS",
    "GAN_KINDS",
    "PERCEPTUAL_BACKENDS",
    "VGG19_LAYERS",
    "VGG19_WEIGHTS_FILE",
    "FlowLossConfig",
    "PerceptualConfig",
    "PerceptualLoss",
    "d_loss",
    "default_vgg19_weights_path",
    "end_point_error",
    "flow_loss",
    "g_loss",
    "l1",
    "load_vgg19_features",
    "ssim_loss",
]
