"""PK identity batch sampler: every batch holds P identities with K images each, so batch-hard
triplet mining always finds positives and negatives.

Each epoch every identity's images are shuffled and cut into groups of K (identities with fewer than
K images are filled by drawing with replacement); random groups of P identities then form batches
until fewer than P identities have groups left. The batch order is a pure function of (seed, epoch),
so every rank of a process group computes the same list and takes its own slice: it works under
torch.distributed without a separate DistributedSampler. Call ``set_epoch`` each epoch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler

from ..errors import ConfigError


class PKBatchSampler(Sampler[list[int]]):
    def __init__(
        self,
        labels: Sequence[int],
        p: int,
        k: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if p < 2 or k < 2:
            raise ConfigError(f"PK sampling needs P >= 2 and K >= 2 (got P={p}, K={k})")
        if not 0 <= rank < world_size:
            raise ConfigError(f"rank {rank} outside world size {world_size}")
        self.p, self.k, self.seed, self.rank, self.world_size = p, k, seed, rank, world_size
        groups: dict[int, list[int]] = defaultdict(list)
        for index, label in enumerate(labels):
            groups[int(label)].append(index)
        self._ids = sorted(groups)
        self._indices = [groups[i] for i in self._ids]
        if len(self._ids) < p:
            raise ConfigError(f"PK sampling needs at least P={p} identities, found {len(self._ids)}")
        self.epoch = 0
        self._cache: tuple[int, list[list[int]]] | None = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _all_batches(self) -> list[list[int]]:
        if self._cache is not None and self._cache[0] == self.epoch:
            return self._cache[1]
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        chunks: list[list[list[int]]] = []
        for idx in self._indices:
            if len(idx) < self.k:
                pick = torch.randint(len(idx), (self.k,), generator=g).tolist()
            else:
                pick = torch.randperm(len(idx), generator=g).tolist()
            seq = [idx[j] for j in pick]
            chunks.append([seq[i : i + self.k] for i in range(0, len(seq) - self.k + 1, self.k)])
        batches: list[list[int]] = []
        while True:
            alive = [i for i, c in enumerate(chunks) if c]
            if len(alive) < self.p:
                break
            chosen = torch.randperm(len(alive), generator=g)[: self.p].tolist()
            batch: list[int] = []
            for j in chosen:
                batch.extend(chunks[alive[j]].pop())
            batches.append(batch)
        usable = len(batches) - len(batches) % self.world_size  # equal step counts on every rank
        batches = batches[:usable]
        self._cache = (self.epoch, batches)
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        yield from self._all_batches()[self.rank :: self.world_size]

    def __len__(self) -> int:
        return len(self._all_batches()) // self.world_size
