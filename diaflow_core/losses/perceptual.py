"""Perceptual loss: L1 between deep features of a frozen network (VGG19, a re-ID network, or none).

Weights are never downloaded: VGG19 is built with ``weights=None`` and its ImageNet state dict is
read from a given path or the torch hub cache; a missing file is a WeightsError naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

from diaflow_core.errors import ConfigError, WeightsError
from diaflow_core.ops.checks import ShapeError, check_image_like

__all__ = [
    "DEFAULT_VGG_LAYERS",
    "PERCEPTUAL_BACKENDS",
    "VGG19_LAYERS",
    "VGG19_WEIGHTS_FILE",
    "PerceptualConfig",
    "PerceptualLoss",
    "default_vgg19_weights_path",
    "load_vgg19_features",
]

PERCEPTUAL_BACKENDS = ("vgg19", "reid", "none")
VGG19_WEIGHTS_FILE = "vgg19-dcbb9e9d.pth"
# Index of each ReLU in torchvision's vgg19().features.
VGG19_LAYERS = {
    "relu1_1": 1, "relu1_2": 3,
    "relu2_1": 6, "relu2_2": 8,
    "relu3_1": 11, "relu3_2": 13, "relu3_3": 15, "relu3_4": 17,
    "relu4_1": 20, "relu4_2": 22, "relu4_3": 24, "relu4_4": 26,
    "relu5_1": 29, "relu5_2": 31, "relu5_3": 33, "relu5_4": 35,
}  # fmt: skip
DEFAULT_VGG_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)

FeatureFn = Callable[[torch.Tensor], Sequence[torch.Tensor]]


@dataclass(frozen=True)
class PerceptualConfig:
    """Recipe section ``perceptual``. layer_weights empty = 1/8 each (the reference code's choice).

    backend "reid" needs a feature network from the caller (PerceptualLoss.from_module); the
    recipe then names its graph nodes in ``layers``.
    """

    backend: str = "vgg19"
    weights_path: str | None = None
    layers: tuple[str, ...] = DEFAULT_VGG_LAYERS
    layer_weights: tuple[float, ...] = ()
    normalize: str = "imagenet"

    def __post_init__(self) -> None:
        if self.backend not in PERCEPTUAL_BACKENDS:
            raise ConfigError(f"perceptual backend must be one of {PERCEPTUAL_BACKENDS}, got {self.backend!r}")
        if self.layer_weights and len(self.layer_weights) != len(self.layers):
            raise ConfigError(f"{len(self.layer_weights)} layer_weights for {len(self.layers)} layers")
        if self.normalize not in ("imagenet", "none"):
            raise ConfigError(f"normalize must be 'imagenet' or 'none', got {self.normalize!r}")


def default_vgg19_weights_path() -> Path:
    """Where torchvision would cache the ImageNet VGG19 weights: <torch hub dir>/checkpoints/."""
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG19_WEIGHTS_FILE


def load_vgg19_features(weights_path: str | Path | None = None, last_layer: str = "relu5_1") -> nn.Sequential:
    """torchvision VGG19 ``features`` up to ``last_layer``, weights from a local file, frozen, eval.

    The file is torchvision's state dict (.pth, read with weights_only=True) or a .safetensors
    file, with "features.*" keys (full model) or bare feature keys.
    """
    if last_layer not in VGG19_LAYERS:
        raise ConfigError(f"unknown VGG19 layer {last_layer!r}; known: {sorted(VGG19_LAYERS)}")
    path = Path(weights_path).expanduser() if weights_path else default_vgg19_weights_path()
    if not path.is_file():
        raise WeightsError(
            f"VGG19 ImageNet weights not found at {path} (torchvision's {VGG19_WEIGHTS_FILE}); "
            "put the file there or pass weights_path, or choose perceptual backend 'reid' or 'none'"
        )
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable file is the same problem for the user
        raise WeightsError(f"cannot read VGG19 weights {path}: {exc}") from exc
    if not isinstance(state, dict):
        raise WeightsError(f"{path} does not hold a state dict")
    feats_state = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
    feats_state = feats_state or state
    last = VGG19_LAYERS[last_layer]
    features = _vgg19_features(last)
    needed = set(features.state_dict())
    missing = sorted(needed - set(feats_state))
    if missing:
        raise WeightsError(f"{path} lacks VGG19 feature weights {missing[:4]}...")
    try:
        features.load_state_dict({k: feats_state[k] for k in needed})
    except RuntimeError as exc:
        raise WeightsError(f"{path} does not match VGG19: {exc}") from exc
    for m in features:
        if isinstance(m, nn.ReLU):
            m.inplace = False  # the collected activations must survive the next layer
    return features.eval().requires_grad_(False)


def _vgg19_features(last: int = 36) -> nn.Sequential:
    """torchvision's VGG19 feature stack up to module index ``last``, with the same indices as
    vgg19().features; built from its layer list so that neither the unused deeper convs nor the
    120 M classifier parameters are created and randomly initialised."""
    import torchvision

    vgg = torchvision.models.vgg
    if not (hasattr(vgg, "make_layers") and hasattr(vgg, "cfgs")):
        return torchvision.models.vgg19(weights=None).features[: last + 1]
    prefix: list[int | str] = []
    n_modules = 0
    for v in vgg.cfgs["E"]:
        if n_modules > last:
            break
        prefix.append(v)
        n_modules += 1 if v == "M" else 2  # conv + ReLU
    return vgg.make_layers(prefix, batch_norm=False)[: last + 1]


class _SliceFeatures(nn.Module):
    """Run a Sequential and collect the outputs at the given indices."""

    def __init__(self, seq: nn.Sequential, indices: Sequence[int]) -> None:
        super().__init__()
        self.seq = seq
        self.indices = set(indices)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for i, layer in enumerate(self.seq):
            x = layer(x)
            if i in self.indices:
                out.append(x)
        return out


class _NodeFeatures(nn.Module):
    """A torchvision feature extractor (dict of nodes) returned as a list in the given order."""

    def __init__(self, extractor: nn.Module, names: Sequence[str]) -> None:
        super().__init__()
        self.extractor = extractor
        self.names = list(names)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = self.extractor(x)
        return [feats[n] for n in self.names]


class PerceptualLoss(nn.Module):
    """sum_l w_l * mean |phi_l(pred) - phi_l(target)| over a frozen feature network phi.

    Inputs are images (B, 3, H, W) in [-1, 1]; with normalize="imagenet" they are mapped to
    ImageNet mean/std first (what VGG19 and most re-ID backbones expect). Target features take no
    gradient. The feature network stays in eval mode (frozen BN statistics) whatever train() says.
    Backend "none" returns 0 (an explicit choice, never a silent fallback).
    """

    def __init__(
        self,
        backend: str = "vgg19",
        weights_path: str | Path | None = None,
        layers: Sequence[str] = DEFAULT_VGG_LAYERS,
        layer_weights: Sequence[float] | None = None,
        feature_fn: FeatureFn | None = None,
        normalize: str = "imagenet",
    ) -> None:
        super().__init__()
        cfg = PerceptualConfig(backend, None, tuple(layers), tuple(layer_weights or ()), normalize)
        self.backend = backend
        self.layers = list(layers)
        self.layer_weights = list(layer_weights) if layer_weights else [1.0 / 8] * len(self.layers)
        self.normalize = cfg.normalize
        self.features: nn.Module | FeatureFn | None
        if backend == "vgg19":
            unknown = [n for n in self.layers if n not in VGG19_LAYERS]
            if unknown:
                raise ConfigError(f"unknown VGG19 layers {unknown}; known: {sorted(VGG19_LAYERS)}")
            last = max(self.layers, key=VGG19_LAYERS.__getitem__)
            seq = load_vgg19_features(weights_path, last)
            self.features = _SliceFeatures(seq, [VGG19_LAYERS[n] for n in self.layers])
        elif backend == "reid":
            if feature_fn is None:
                raise ConfigError("perceptual backend 'reid' needs a feature network (PerceptualLoss.from_module)")
            self.features = feature_fn
        else:
            self.features = None
        if isinstance(self.features, nn.Module):
            self.features.eval().requires_grad_(False)
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    @classmethod
    def from_module(
        cls,
        module: nn.Module,
        layer_names: Sequence[str],
        layer_weights: Sequence[float] | None = None,
        normalize: str = "imagenet",
    ) -> PerceptualLoss:
        """Backend "reid": features of any network at the named graph nodes
        (torchvision.models.feature_extraction.create_feature_extractor; see get_graph_node_names)."""
        from torchvision.models.feature_extraction import create_feature_extractor

        try:
            extractor = create_feature_extractor(module, return_nodes=list(layer_names))
        except (ValueError, RuntimeError) as exc:
            raise ConfigError(f"cannot extract nodes {list(layer_names)} from {type(module).__name__}: {exc}") from exc
        return cls(
            backend="reid",
            layers=layer_names,
            layer_weights=layer_weights,
            feature_fn=_NodeFeatures(extractor, layer_names),
            normalize=normalize,
        )

    @classmethod
    def from_config(cls, cfg: PerceptualConfig, module: nn.Module | None = None) -> PerceptualLoss:
        """Build from a recipe section; ``module`` is the re-ID network for backend "reid"."""
        if cfg.backend == "reid":
            if module is None:
                raise ConfigError("perceptual backend 'reid' needs the re-ID feature network")
            return cls.from_module(module, cfg.layers, cfg.layer_weights or None, cfg.normalize)
        return cls(cfg.backend, cfg.weights_path, cfg.layers, cfg.layer_weights or None, normalize=cfg.normalize)

    def train(self, mode: bool = True) -> PerceptualLoss:
        super().train(mode)
        if isinstance(self.features, nn.Module):
            self.features.eval()
        return self

    def _prep(self, x: torch.Tensor) -> torch.Tensor:
        if self.normalize == "none":
            return x
        return ((x + 1) * 0.5 - self.mean.to(x.dtype)) / self.std.to(x.dtype)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        check_image_like(pred, "pred")
        if pred.shape != target.shape:
            raise ShapeError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must have one shape")
        if self.features is None:
            return pred.new_zeros((), dtype=torch.float32)
        f_pred = self.features(self._prep(pred))
        with torch.no_grad():
            f_target = self.features(self._prep(target))
        if len(f_pred) != len(self.layer_weights):
            raise ShapeError(f"feature network gave {len(f_pred)} maps for {len(self.layer_weights)} weights")
        loss = pred.new_zeros((), dtype=torch.float32)
        for w, a, b in zip(self.layer_weights, f_pred, f_target, strict=True):
            loss = loss + w * (a.float() - b.float()).abs().mean()
        return loss
