"""Networks: flow regressor, dual-path generator (and ablations), pixel warper, PatchGAN discriminator."""

from __future__ import annotations

from diaflow_core.models.blocks import (
    Down,
    OutputHead,
    ResBlock,
    Up,
    conv_bn,
    conv_bn_relu,
    count_parameters,
    level_channels,
)
from diaflow_core.models.discriminator import DiscriminatorConfig, PatchDiscriminator
from diaflow_core.models.feature_warp import VIS_MODES, FeatureWarp
from diaflow_core.models.flow_net import FlowPrediction, FlowRegressor, FlowRegressorConfig
from diaflow_core.models.generator import DualPathGenerator, GeneratorConfig, UNetGenerator, build_generator
from diaflow_core.models.pixel_warp import PixelWarper, PixelWarperConfig
from diaflow_core.models.unet import ResUNet

__all__ = [
    "VIS_MODES",
    "DiscriminatorConfig",
    "Down",
    "DualPathGenerator",
    "FeatureWarp",
    "FlowPrediction",
    "FlowRegressor",
    "FlowRegressorConfig",
    "GeneratorConfig",
    "OutputHead",
    "PatchDiscriminator",
    "PixelWarper",
    "PixelWarperConfig",
    "ResBlock",
    "ResUNet",
    "UNetGenerator",
    "Up",
    "build_generator",
    "conv_bn",
    "conv_bn_relu",
    "count_parameters",
    "level_channels",
]
