"""Data loading: Market-1501 ``PoseTransferPairs`` training samples per second, 0 loader workers vs N.

Each repeat opens a fresh loader iterator (workers start), lets ``max(warmup, 1)`` batches pass untimed
(worker start-up, first decode), then times ``loader_batches`` batches of ``loader_batch`` samples with
the training collate (joint flip). Skipped, with the reason, when the Market-1501 folder is absent.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from torch.utils.data import DataLoader, RandomSampler

from .core import BenchResult, BenchSettings, rate_rows, resolve_market_root, skipped_row
from .proxy import SIZE

__all__ = ["bench_data"]


def bench_data(s: BenchSettings, device: torch.device) -> list[BenchResult]:
    """``device`` is unused: loading runs on the CPU (the signature is that of every case)."""
    from ..data.pairs_dataset import PoseTransferPairs
    from ..errors import DiaflowError
    from ..train.generator import PairCollate

    unit = "samples/s"
    root = resolve_market_root(s.market_root)
    variants = {"workers0": 0, f"workers{s.workers}": s.workers}
    settings: dict[str, Any] = {
        "root": str(root),
        "batch": s.loader_batch,
        "batches_per_repeat": s.loader_batches,
        "size": list(SIZE),
    }
    if not (root / "bounding_box_train").is_dir():
        reason = f"Market-1501 not found at {root} (set DIAFLOW_MARKET or --data)"
        return [skipped_row("data", v, unit, reason, settings) for v in variants]
    try:
        dataset = PoseTransferPairs(root, split="train", size=SIZE)
    except (DiaflowError, OSError) as exc:
        return [skipped_row("data", v, unit, f"cannot read {root}: {exc}", settings) for v in variants]
    settings["samples"] = len(dataset)
    loaders = {
        name: DataLoader(
            dataset,
            batch_size=s.loader_batch,
            sampler=RandomSampler(dataset, generator=torch.Generator().manual_seed(0)),
            num_workers=w,
            collate_fn=PairCollate(0.5, SIZE[1]),
            drop_last=True,
        )
        for name, w in variants.items()
    }
    rates: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for r in range(s.repeats):
        for name in names if r % 2 == 0 else reversed(names):
            it = iter(loaders[name])
            for _ in range(max(s.warmup, 1)):
                next(it)
            t0 = time.perf_counter()
            n = sum(len(next(it)["src"]) for _ in range(s.loader_batches))
            rates[name].append(n / (time.perf_counter() - t0))
            del it  # shuts the workers down
    return rate_rows("data", unit, rates, "workers0", settings)
