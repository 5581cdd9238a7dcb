"""PK identity batch sampler: every batch holds P identities with K images each, so batch-hard
triplet mining always finds positives and negatives.

Each epoch every identity's images are shuffled and cut into groups of K (identities with fewer than
K images are filled by drawing with replacement); random groups of P identities then form batches
until fewer than P identities have groups left. The batch order is a pure function of (seed, epoch),
so every rank of a process group computes the same list and takes its own slice: it works under
torch.distributed without a separate DistributedSampler. Call ``set_epoch`` each epoch.

With ``generated`` flags and a cap ``max_generated`` = m, an identity that has generated samples gets the
same number of groups as its real images alone would give (so an epoch has the steps of a run without the
samples), each group holding K - m real images and m generated ones: a fixed share of the batch, at the
compute of the real-only run. Without a cap, generated samples are drawn like real ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler

from ..errors import ConfigError


def _real_and_generated(idx: Sequence[int], flags: Sequence[bool]) -> tuple[list[int], list[int]]:
    """An identity's (real, generated) indices; one with generated samples only has them count as real."""
    real = [i for i in idx if not flags[i]]
    return (real, [i for i in idx if flags[i]]) if real else (list(idx), [])


class PKBatchSampler(Sampler[list[int]]):
    def __init__(
        self,
        labels: Sequence[int],
        p: int,
        k: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        generated: Sequence[bool] | None = None,
        max_generated: int | None = None,
    ) -> None:
        if p < 2 or k < 2:
            raise ConfigError(f"PK sampling needs P >= 2 and K >= 2 (got P={p}, K={k})")
        if max_generated is not None and not 0 <= max_generated < k:
            raise ConfigError(f"max_generated must be in 0..K-1 = {k - 1}, got {max_generated}")
        if generated is not None and len(generated) != len(labels):
            raise ConfigError(f"{len(generated)} generated flags for {len(labels)} labels")
        if not 0 <= rank < world_size:
            raise ConfigError(f"rank {rank} outside world size {world_size}")
        self.p, self.k, self.seed, self.rank, self.world_size = p, k, seed, rank, world_size
        groups: dict[int, list[int]] = defaultdict(list)
        for index, label in enumerate(labels):
            groups[int(label)].append(index)
        self._ids = sorted(groups)
        self._indices = [groups[i] for i in self._ids]
        self.max_generated = max_generated if generated is not None else None
        flags = list(generated) if generated is not None else [False] * len(labels)
        self._split = [_real_and_generated(idx, flags) for idx in self._indices]
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
        for idx, (real, gen) in zip(self._indices, self._split, strict=True):
            if self.max_generated is None or not gen:
                chunks.append(self._groups(idx if self.max_generated is None else real, self.k, g))
                continue
            n_real = self.k - self.max_generated
            groups = self._groups(real, self.k, g)  # as many groups as a real-only run, K - m real in each
            fakes = [gen[j] for j in torch.randperm(len(gen), generator=g).tolist()]
            chunks.append([
                grp[:n_real] + [fakes[(n * self.max_generated + j) % len(fakes)] for j in range(self.max_generated)]
                for n, grp in enumerate(groups)
            ])  # fmt: skip
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

    @staticmethod
    def _groups(idx: Sequence[int], k: int, g: torch.Generator) -> list[list[int]]:
        """``idx`` shuffled and cut into groups of k; fewer than k are drawn with replacement (one group)."""
        if len(idx) < k:
            pick = torch.randint(len(idx), (k,), generator=g).tolist()
        else:
            pick = torch.randperm(len(idx), generator=g).tolist()
        seq = [idx[j] for j in pick]
        return [seq[i : i + k] for i in range(0, len(seq) - k + 1, k)]

    def __iter__(self) -> Iterator[list[int]]:
        yield from self._all_batches()[self.rank :: self.world_size]

    def __len__(self) -> int:
        return len(self._all_batches()) // self.world_size
