"""Epoch-aware sampling that survives persistent DataLoader workers.

Datasets here re-draw partners per epoch (`set_epoch`), but persistent workers hold their own copy of the
dataset, so calling `set_epoch` in the main process would not reach them. Samplers run in the main process,
so the sampler encodes the epoch into each index (epoch * N + i) and `EpochEncoded` decodes it in the worker.
It also shards across ranks, so it replaces DistributedSampler.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import torch
from torch.utils.data import Dataset, Sampler

from .common import rank, world_size

__all__ = ["EpochSampler", "EpochEncoded"]


class _EpochDataset(Protocol):
    def __len__(self) -> int: ...
    def __getitem__(self, i: int) -> Any: ...
    def set_epoch(self, epoch: int) -> None: ...


class EpochSampler(Sampler[int]):
    """Shuffled (seed + epoch) permutation of range(n), this rank's equal share, indices offset by epoch * n."""

    def __init__(self, n: int, seed: int = 0, shuffle: bool = True) -> None:
        if n <= 0:
            raise ValueError("EpochSampler needs a non-empty dataset")
        self.n, self.seed, self.shuffle, self.epoch = n, seed, shuffle, 0
        self.rank, self.world = rank(), world_size()

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n // self.world

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + 7919 * self.epoch)
            order = torch.randperm(self.n, generator=g)
        else:
            order = torch.arange(self.n)
        mine = order[self.rank : len(self) * self.world : self.world]
        base = self.epoch * self.n
        return iter((base + mine).tolist())


class EpochEncoded(Dataset[Any]):
    """Wraps a dataset with `set_epoch`; index epoch * n + i -> dataset[i] as drawn in that epoch."""

    def __init__(self, dataset: _EpochDataset) -> None:
        self.dataset, self.n = dataset, len(dataset)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, j: int) -> Any:
        epoch, i = divmod(int(j), self.n)
        self.dataset.set_epoch(epoch)
        return self.dataset[i]
