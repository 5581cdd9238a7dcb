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


def test_cap_on_generated_images_keeps_the_real_only_step_count() -> None:
    real = [i for i, n in enumerate([4, 5, 9, 6, 8]) for _ in range(n)]
    fake = [i for i, n in enumerate([4, 5, 9, 6, 0]) for _ in range(n)]  # the last identity has none
    labels, flags = real + fake, [False] * len(real) + [True] * len(fake)
    plain = PKBatchSampler(real, 2, 4, seed=0)
    capped = PKBatchSampler(labels, 2, 4, seed=0, generated=flags, max_generated=1)
    uncapped = PKBatchSampler(labels, 2, 4, seed=0, generated=flags)
    assert len(capped) == len(plain) < len(uncapped)  # steps of the real-only run
    for batch in capped:
        per_id: dict[int, list[bool]] = {}
        for i in batch:
            per_id.setdefault(labels[i], []).append(flags[i])
        for pid, f in per_id.items():
            assert len(f) == 4 and sum(f) == (0 if pid == 4 else 1)  # K - m real + m generated
    # no cap: the same batches as before the flags existed
    assert list(PKBatchSampler(labels, 2, 4, seed=0, generated=flags)) == list(PKBatchSampler(labels, 2, 4, seed=0))
    with pytest.raises(ConfigError, match="max_generated"):
        PKBatchSampler(labels, 2, 4, generated=flags, max_generated=4)
    with pytest.raises(ConfigError, match="flags"):
        PKBatchSampler(labels, 2, 4, generated=flags[:-1], max_generated=1)


def test_identity_with_generated_images_only_counts_them_as_real() -> None:
    labels, flags = [0, 0, 0, 0, 1, 1, 1, 1], [False] * 4 + [True] * 4
    batches = list(PKBatchSampler(labels, 2, 4, seed=0, generated=flags, max_generated=1))
    assert len(batches) == 1 and sorted(batches[0]) == list(range(8))
