"""Re-ID feature network: a torchvision ResNet with last stride 1 and a BNNeck (Luo et al., "Bag of
Tricks", 2019). Triplet loss sees the pooled feature, the classifier sees it after BatchNorm; the BN
feature is what retrieval uses.

Convention: input (B, 3, H, W) RGB normalised with ImageNet mean/std (see ``transforms.py``);
the ResNet stages keep torchvision's names (``conv1`` .. ``layer4``) so feature extractors and the
perceptual loss can address them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torchvision import models

from ..errors import ConfigError, WeightsError
from ._config import config_from_dict, config_to_dict

BACKBONES = ("resnet18", "resnet50")
FEATURE_LAYERS = ("layer1", "layer2", "layer3", "layer4")


@dataclass(frozen=True)
class ReidNetConfig:
    backbone: str = "resnet18"
    size: tuple[int, int] = (128, 64)  # (H, W); (256, 128) is the usual full-size setting
    last_stride: int = 1  # 1 doubles the final map (8x4 at 256x128) for finer features
    pretrained: str | None = None  # path to a torchvision ImageNet state dict (.pth / .safetensors)

    def __post_init__(self) -> None:
        if self.backbone not in BACKBONES:
            raise ConfigError(f"backbone {self.backbone!r} not supported; choose one of {BACKBONES}")
        if len(self.size) != 2 or min(self.size) < 32:
            raise ConfigError(f"size {self.size!r} must be (H, W) with both >= 32")
        if self.last_stride not in (1, 2):
            raise ConfigError(f"last_stride must be 1 or 2, got {self.last_stride}")
        object.__setattr__(self, "size", (int(self.size[0]), int(self.size[1])))

    def to_dict(self) -> dict[str, Any]:
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReidNetConfig:
        return config_from_dict(cls, data)


def load_backbone_weights(resnet: nn.Module, path: str | Path) -> None:
    """Load a torchvision ResNet state dict (the ``fc`` head is ignored); never unpickles objects."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"pretrained backbone weights not found: {path}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt file, pickled objects, wrong format
        raise WeightsError(f"cannot read backbone weights {path}: {exc}") from exc
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: expected a state dict, got {type(state).__name__}")
    state = {k.removeprefix("module."): v for k, v in state.items() if not k.startswith("fc.")}
    try:
        missing, unexpected = resnet.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches (e.g. resnet50 weights for a resnet18)
        raise WeightsError(f"{path} does not fit the backbone: {str(exc)[:300]}") from exc
    missing = [k for k in missing if not k.startswith("fc.")]
    if missing or unexpected:
        raise WeightsError(
            f"{path} does not fit the backbone: missing {missing[:5]}, unexpected {list(unexpected)[:5]}"
        )


def _check_images(x: Tensor) -> None:
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"expected (B, 3, H, W) images, got {tuple(x.shape)}")


torch.fx.wrap("_check_images")  # a leaf call under FX tracing (create_feature_extractor)


class ReidNet(nn.Module):
    """ResNet + BNNeck. ``forward`` returns a dict in train mode and the BN feature in eval mode."""

    def __init__(self, num_classes: int, config: ReidNetConfig | None = None) -> None:
        super().__init__()
        if num_classes < 1:
            raise ConfigError(f"num_classes must be >= 1, got {num_classes}")
        self.config = config or ReidNetConfig()
        self.num_classes = num_classes
        resnet = getattr(models, self.config.backbone)(weights=None)
        if self.config.pretrained:
            load_backbone_weights(resnet, self.config.pretrained)
        if self.config.last_stride == 1:
            block = resnet.layer4[0]
            # BasicBlock strides in conv1, torchvision's Bottleneck (v1.5) in conv2.
            strided = block.conv2 if isinstance(block, models.resnet.Bottleneck) else block.conv1
            strided.stride = (1, 1)
            block.downsample[0].stride = (1, 1)
        self.conv1, self.bn1, self.relu, self.maxpool = resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = (
            resnet.layer1,
            resnet.layer2,
            resnet.layer3,
            resnet.layer4,
        )
        self.feature_dim: int = resnet.fc.in_features
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.bnneck = nn.BatchNorm1d(self.feature_dim)
        self.bnneck.bias.requires_grad_(False)  # a shift-free neck keeps the feature space centred
        self.classifier = nn.Linear(self.feature_dim, num_classes, bias=False)
        nn.init.constant_(self.bnneck.weight, 1.0)
        nn.init.constant_(self.bnneck.bias, 0.0)
        nn.init.normal_(self.classifier.weight, std=0.001)

    def feature_maps(self, x: Tensor) -> dict[str, Tensor]:
        """The four ResNet stage outputs (``layer1`` .. ``layer4``), e.g. for a perceptual loss."""
        _check_images(x)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        out: dict[str, Tensor] = {}
        for name in FEATURE_LAYERS:
            x = getattr(self, name)(x)
            out[name] = x
        return out

    def forward(self, x: Tensor) -> Tensor | dict[str, Tensor]:
        _check_images(x)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        feat = torch.flatten(self.pool(x), 1)
        bn_feat = self.bnneck(feat)
        if not self.training:
            return bn_feat
        return {"feature": feat, "bn_feature": bn_feat, "logits": self.classifier(bn_feat)}
