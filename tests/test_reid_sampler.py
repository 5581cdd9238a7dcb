"""PK identity batches: P identities x K images, reproducible, shardable across ranks."""

from __future__ import annotations

from collections import Counter

import pytest

from diaflow_core.errors import ConfigError
from diaflow_core.reid import PKBatchSampler

# 7 identities with 1 to 9 images: identity 0 has fewer than K (drawn with replacement)
LABELS = [i for i, n in enumerate([1, 4, 5, 9, 6, 4, 8]) for _ in range(n)]


def test_batches_hold_p_ids_times_k_images() -> None:
    s = PKBatchSampler(LABELS, p=3, k=4, seed=0)
    batches = list(s)
    assert len(batches) == len(s) > 0
    for batch in batches:
        assert len(batch) == 12
        counts = Counter(LABELS[i] for i in batch)
        assert len(counts) == 3 and set(counts.values()) == {4}


def test_reproducible_per_seed_and_epoch() -> None:
    a, b = PKBatchSampler(LABELS, 3, 4, seed=1), PKBatchSampler(LABELS, 3, 4, seed=1)
    assert list(a) == list(b)
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first


def test_ranks_take_disjoint_slices_of_one_order() -> None:
    full = list(PKBatchSampler(LABELS, 2, 2, seed=3))
    shards = [list(PKBatchSampler(LABELS, 2, 2, seed=3, rank=r, world_size=2)) for r in range(2)]
    assert len(shards[0]) == len(shards[1])
    assert shards[0] == full[0 : 2 * len(shards[0]) : 2]
    assert shards[1] == full[1 : 2 * len(shards[1]) : 2]


def test_bad_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        PKBatchSampler(LABELS, p=8, k=2)  # only 7 identities
    with pytest.raises(ConfigError):
        PKBatchSampler(LABELS, p=2, k=1)
    with pytest.raises(ConfigError):
        PKBatchSampler(LABELS, p=2, k=2, rank=2, world_size=2)
