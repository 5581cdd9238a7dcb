"""InceptionV3 pool3 features and logits for FID and the Inception Score, from a user-supplied weights file.

Convention: input images float ``(B, 3, H, W)`` in [-1, 1] RGB (the model convention); they are resized to
299x299 (bilinear, align_corners=False) and fed as they are: [-1, 1] is the input scaling the Google
Inception weights expect (torchvision's ``transform_input=True`` does the same from ImageNet-normalised
input). The network is torchvision's ``inception_v3(weights=None, aux_logits=True, init_weights=False)``
loaded from the user's state dict (e.g. torchvision's ``inception_v3_google-0cc3c7bd.pth``). Features are
the 2048-d average pool ("pool3"), logits the fc output. Note: FID from torchvision's weights is close to
but not identical with FID from the TF-Inception graph (pytorch-fid / torch-fidelity): compare numbers
computed with the same network only.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import nn

from diaflow_core.errors import WeightsError
from diaflow_core.metrics._weights import read_state_dict

__all__ = ["INCEPTION_SIZE", "InceptionFeatures", "load_inception"]

INCEPTION_SIZE = 299
_TRUNK = (
    "Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
    "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
    "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool",
)  # fmt: skip


class InceptionFeatures(nn.Module):
    """Wraps a torchvision Inception3: ``forward(x) -> (pool (B, 2048), logits (B, classes))``."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net.eval()

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"InceptionFeatures: expected (B, 3, H, W) images in [-1, 1], got {tuple(x.shape)}")
        h = F.interpolate(x.float(), size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", align_corners=False)
        for name in _TRUNK:
            h = self.net.get_submodule(name)(h)
        pool = torch.flatten(h, 1)
        return pool, self.net.get_submodule("fc")(pool)


def load_inception(path: str | os.PathLike[str] | None, device: str | torch.device = "cpu") -> InceptionFeatures:
    """Build InceptionV3 and load ``path``; WeightsError when the file is missing or does not fit."""
    from torchvision.models import inception_v3

    sd = read_state_dict(path, "InceptionV3 (FID / Inception Score)")
    fc = sd.get("fc.weight")
    classes = int(fc.shape[0]) if isinstance(fc, torch.Tensor) and fc.dim() == 2 else 1000
    net = inception_v3(weights=None, aux_logits=True, init_weights=False, num_classes=classes)
    result = net.load_state_dict(sd, strict=False)
    missing = [k for k in result.missing_keys if not k.startswith("AuxLogits.")]
    if missing or result.unexpected_keys:
        raise WeightsError(
            f"InceptionV3: {path} does not fit torchvision's inception_v3 "
            f"(missing {missing[:3]}..., unexpected {list(result.unexpected_keys)[:3]}...)"
        )
    return InceptionFeatures(net).to(device)
