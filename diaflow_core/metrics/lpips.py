"""LPIPS (Zhang et al. 2018), AlexNet variant v0.1, from user-supplied weight files.

Convention: images float ``(B, 3, H, W)`` in [-1, 1] RGB at their own size (128x64 for Market, no resize).
As in the reference implementation: a fixed scaling layer ((x - shift) / scale), five AlexNet ReLU outputs
(conv1..conv5), each unit-normalised over channels (eps 1e-10), squared difference, a learned 1x1
projection per layer (the LPIPS v0.1 ``alex.pth`` file: keys ``lin{k}.model.1.weight``, shape (1, C_k, 1, 1)),
spatial mean, sum over layers. Two files are needed: torchvision's AlexNet ImageNet weights (only the
``features.*`` part is used) and the LPIPS linear layers. Lower is better; identical images give 0.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import torch
from torch import nn

from diaflow_core.errors import WeightsError
from diaflow_core.metrics._weights import read_state_dict

__all__ = ["LPIPS", "alexnet_slices", "load_lpips"]

_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)
_ALEX_CUTS = ((0, 2), (2, 5), (5, 8), (8, 10), (10, 12))  # relu1 .. relu5 of torchvision alexnet.features
_ALEX_CHANNELS = (64, 192, 384, 256, 256)


def alexnet_slices(features: nn.Sequential) -> nn.ModuleList:
    """Cut torchvision ``alexnet().features`` into the five LPIPS stages."""
    return nn.ModuleList(nn.Sequential(*[features[i] for i in range(a, b)]) for a, b in _ALEX_CUTS)


class LPIPS(nn.Module):
    """Learned perceptual distance: ``forward(a, b) -> (B,)``.

    Args:
        stages: modules applied in sequence; each stage's output is one compared feature map.
        linear: one ``(1, C_k, 1, 1)`` weight per stage (non-negative in the released file).
    """

    shift: torch.Tensor
    scale: torch.Tensor

    def __init__(self, stages: Iterable[nn.Module], linear: Sequence[torch.Tensor]) -> None:
        super().__init__()
        stages = list(stages)
        if len(stages) != len(linear):
            raise ValueError(f"LPIPS: {len(stages)} stages but {len(linear)} linear layers")
        self.stages = nn.ModuleList(stages)
        for k, w in enumerate(linear):
            if w.dim() != 4 or w.shape[0] != 1 or w.shape[2:] != (1, 1):
                raise ValueError(f"LPIPS: linear layer {k} must be (1, C, 1, 1), got {tuple(w.shape)}")
            self.register_buffer(f"lin{k}", w.detach().float().clone())
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1))
        self.eval()

    @torch.no_grad()
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if a.shape != b.shape or a.dim() != 4 or a.shape[1] != 3:
            raise ValueError(
                f"LPIPS: expected two (B, 3, H, W) images in [-1, 1], got {tuple(a.shape)} {tuple(b.shape)}"
            )
        ha = (a.float() - self.shift) / self.scale
        hb = (b.float() - self.shift) / self.scale
        total = torch.zeros(a.shape[0], device=a.device)
        for k, stage in enumerate(self.stages):
            ha, hb = stage(ha), stage(hb)
            na = ha / (ha.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)
            nb = hb / (hb.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)
            w = getattr(self, f"lin{k}")
            if w.shape[1] != na.shape[1]:
                raise WeightsError(f"LPIPS: linear layer {k} has {w.shape[1]} channels, features {na.shape[1]}")
            total = total + ((na - nb).pow(2) * w).sum(dim=1).mean(dim=(1, 2))
        return total


def load_lpips(
    alexnet_path: str | os.PathLike[str] | None,
    linear_path: str | os.PathLike[str] | None,
    device: str | torch.device = "cpu",
) -> LPIPS:
    """LPIPS-Alex from torchvision AlexNet weights and the LPIPS v0.1 linear weights; WeightsError on a bad file."""
    from torchvision.models import alexnet

    feats_sd = read_state_dict(alexnet_path, "LPIPS AlexNet backbone (torchvision alexnet weights)")
    lin_sd = read_state_dict(linear_path, "LPIPS v0.1 linear layers (alex.pth)")
    net = alexnet(weights=None)
    sub = {k[len("features.") :]: v for k, v in feats_sd.items() if k.startswith("features.")}
    try:
        net.features.load_state_dict(sub, strict=True)
    except RuntimeError as exc:
        raise WeightsError(f"LPIPS: {alexnet_path} does not fit torchvision's alexnet features: {exc}") from exc
    linear = []
    for k, c in enumerate(_ALEX_CHANNELS):
        w = lin_sd.get(f"lin{k}.model.1.weight")
        if w is None or tuple(w.shape) != (1, c, 1, 1):
            raise WeightsError(f"LPIPS: {linear_path} lacks lin{k}.model.1.weight of shape (1, {c}, 1, 1)")
        linear.append(w)
    return LPIPS(alexnet_slices(net.features), linear).to(device)
