"""Adversarial losses on discriminator logits: vanilla (BCE with logits, the paper's), lsgan, hinge."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from diaflow_core.errors import ConfigError

__all__ = ["GAN_KINDS", "d_loss", "g_loss"]

GAN_KINDS = ("vanilla", "lsgan", "hinge")


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, kind: str = "vanilla") -> torch.Tensor:
    """Discriminator loss, mean over patches; real -> 1, fake -> 0 (hinge: margins +-1).

    Returns 0.5 * (loss_real + loss_fake) for vanilla and lsgan (pix2pix halves D's objective),
    loss_real + loss_fake for hinge. Computed in fp32. Pass fake logits of a detached image.
    """
    real, fake = real_logits.float(), fake_logits.float()
    if kind == "vanilla":
        return 0.5 * (
            F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
        )
    if kind == "lsgan":
        return 0.5 * ((real - 1).pow(2).mean() + fake.pow(2).mean())
    if kind == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    raise ConfigError(f"GAN kind must be one of {GAN_KINDS}, got {kind!r}")


def g_loss(fake_logits: torch.Tensor, kind: str = "vanilla") -> torch.Tensor:
    """Generator loss: make D call the fakes real (non-saturating BCE for vanilla)."""
    fake = fake_logits.float()
    if kind == "vanilla":
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    if kind == "lsgan":
        return (fake - 1).pow(2).mean()
    if kind == "hinge":
        return -fake.mean()
    raise ConfigError(f"GAN kind must be one of {GAN_KINDS}, got {kind!r}")
