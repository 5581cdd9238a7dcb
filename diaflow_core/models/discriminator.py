"""PatchGAN discriminator (pix2pix NLayerDiscriminator) on concat(x1, p2, image)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from diaflow_core.errors import ConfigError
from diaflow_core.ops.checks import ShapeError, check_image_like

__all__ = ["DiscriminatorConfig", "PatchDiscriminator"]


@dataclass(frozen=True)
class DiscriminatorConfig:
    """PatchGAN shape (recipe section ``discriminator``). Defaults: pix2pix n_layers=3, ndf=64."""

    ndf: int = 64
    n_layers: int = 3  # stride-2 convs; then one stride-1 conv and the 1-channel output conv
    pose_channels: int = 18
    image_channels: int = 3

    def __post_init__(self) -> None:
        if min(self.ndf, self.n_layers, self.pose_channels, self.image_channels) < 1:
            raise ConfigError(f"DiscriminatorConfig: sizes must be positive, got {self}")


class PatchDiscriminator(nn.Module):
    """(x1, p2, image) -> patch logits (B, 1, h, w); 4x4 convs, LeakyReLU 0.2.

    As pix2pix: no BN after the first conv (BN on raw inputs would erase the real/fake statistics)
    nor after the output conv; channels ndf * min(2**k, 8). At 128x64: (B, 1, 14, 6), 70x70
    receptive field. Logits: losses.gan applies the sigmoid / hinge.
    """

    def __init__(self, cfg: DiscriminatorConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or DiscriminatorConfig()
        in_ch = 2 * cfg.image_channels + cfg.pose_channels
        layers: list[nn.Module] = [nn.Conv2d(in_ch, cfg.ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        c = cfg.ndf
        for n in range(1, cfg.n_layers + 1):
            c_next = cfg.ndf * min(2**n, 8)
            stride = 2 if n < cfg.n_layers else 1
            layers += [
                nn.Conv2d(c, c_next, 4, stride, 1, bias=False),
                nn.BatchNorm2d(c_next),
                nn.LeakyReLU(0.2),
            ]
            c = c_next
        layers.append(nn.Conv2d(c, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x1: torch.Tensor, p2: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        for name, t, ch in (
            ("x1", x1, cfg.image_channels),
            ("p2", p2, cfg.pose_channels),
            ("image", image, cfg.image_channels),
        ):
            check_image_like(t, name)
            if t.shape[1] != ch:
                raise ShapeError(f"{name} must have {ch} channels, got {tuple(t.shape)}")
        if not (x1.shape[0] == p2.shape[0] == image.shape[0]) or not (
            x1.shape[-2:] == p2.shape[-2:] == image.shape[-2:]
        ):
            raise ShapeError("x1, p2 and image must share batch size and (H, W)")
        dtype = image.dtype
        return self.net(torch.cat((x1.to(dtype), p2.to(dtype), image), dim=1))
