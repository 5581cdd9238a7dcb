"""Image loading and the re-ID train / test transforms (torchvision v2 on uint8 tensors).

Convention: images come out as float (3, H, W), RGB, normalised with ImageNet mean/std, which is
what torchvision backbones (and any ImageNet weights a user supplies) expect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset
from torchvision.io import ImageReadMode, decode_image
from torchvision.transforms import v2

from ..errors import DataError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class AugmentConfig:
    flip: bool = True
    pad_crop: int = 10  # pixels of padding before a random crop back to size; 0 = off
    erasing: float = 0.5  # random erasing probability (Zhong et al. 2020); 0 = off


def read_rgb(path: str | Path) -> Tensor:
    """uint8 (3, H, W) RGB; a missing or undecodable file is a DataError naming it."""
    try:
        return decode_image(str(path), mode=ImageReadMode.RGB)
    except (RuntimeError, OSError, ValueError) as exc:
        raise DataError(f"cannot read image {path}: {exc}") from exc


def eval_transform(size: tuple[int, int]) -> v2.Transform:
    return v2.Compose(
        [
            v2.Resize(list(size), antialias=True),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )


def train_transform(size: tuple[int, int], aug: AugmentConfig) -> v2.Transform:
    steps: list[v2.Transform] = [v2.Resize(list(size), antialias=True)]
    if aug.flip:
        steps.append(v2.RandomHorizontalFlip())
    if aug.pad_crop > 0:
        steps += [v2.Pad(aug.pad_crop), v2.RandomCrop(list(size))]
    steps += [v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    if aug.erasing > 0:
        # erase after normalising, filling with 0 = the mean colour, as in the BoT recipe
        steps.append(v2.RandomErasing(p=aug.erasing, value=0))
    return v2.Compose(steps)


class ImageDataset(Dataset[tuple[Tensor, int]]):
    """(image, label) pairs from paths and integer labels."""

    def __init__(self, paths: Sequence[Path], labels: Sequence[int], transform: v2.Transform) -> None:
        if len(paths) != len(labels):
            raise DataError(f"{len(paths)} paths but {len(labels)} labels")
        self.paths, self.labels, self.transform = list(paths), list(labels), transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        return self.transform(read_rgb(self.paths[index])), self.labels[index]
