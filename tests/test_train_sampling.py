"""EpochSampler + EpochEncoded: partners re-drawn per epoch even with persistent workers."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

from diaflow_core.train.sampling import EpochEncoded, EpochSampler


class _Echo:
    """Returns (epoch it was asked in, index)."""

    def __init__(self, n: int) -> None:
        self.n, self.epoch = n, 0

    def __len__(self) -> int:
        return self.n

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, i: int) -> tuple[int, int]:
        return self.epoch, i


def test_sampler_is_a_permutation_per_epoch_and_differs() -> None:
    s = EpochSampler(10, seed=1)
    e0 = list(s)
    s.set_epoch(1)
    e1 = list(s)
    assert sorted(e0) == list(range(10))
    assert sorted(j - 10 for j in e1) == list(range(10))
    assert [j - 10 for j in e1] != e0


def test_epoch_reaches_persistent_workers() -> None:
    ds = EpochEncoded(_Echo(6))
    sampler = EpochSampler(6, shuffle=False)
    loader = DataLoader(ds, batch_size=3, sampler=sampler, num_workers=2, persistent_workers=True)
    seen = []
    for epoch in range(3):
        sampler.set_epoch(epoch)
        for ep, idx in loader:
            seen.append((epoch, ep.tolist(), idx.tolist()))
    for epoch, eps, idxs in seen:
        assert eps == [epoch] * 3
        assert all(0 <= i < 6 for i in idxs)
    assert torch.tensor([i for *_, idxs in seen for i in idxs]).bincount().tolist() == [3] * 6
