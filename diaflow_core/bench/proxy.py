"""Proxy-body flow ground truth throughput at 128x64: single-pair calls (baseline) vs batched calls.

Rates are pairs per CPU-second of this process (``time.process_time``): one thread's worth of work, robust
to other jobs sharing the machine; the wall-clock rate is kept in ``extra``. Poses are the Market-1501
training annotations when present, else jittered synthetic poses.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..proxy3d import compute_flow, compute_flow_batch
from .core import BenchResult, BenchSettings, Timing, measure, rate_rows, resolve_market_root

__all__ = ["SIZE", "bench_proxy", "load_poses", "proxy_call", "proxy_timings"]

SIZE = (128, 64)

_BASE_POSE = np.array(
    [[32, 12], [32, 24], [16, 25], [14, 45], [13, 63], [48, 25], [50, 45], [51, 63], [22, 60],
     [22, 88], [22, 114], [42, 60], [42, 88], [42, 114], [29, 9], [35, 9], [26, 10], [38, 10]],
    np.float32,
)  # fmt: skip


def load_poses(n: int, market_root: str | os.PathLike[str] | None = None, seed: int = 0) -> tuple[np.ndarray, str]:
    """``n`` poses (n, 18, 2) at 128x64 and where they came from (Market training annotations, else synthetic)."""
    csv = resolve_market_root(market_root) / "market-annotation-train.csv"
    rng = np.random.default_rng(seed)
    if Path(csv).is_file():
        from ..data.annotations import read_annotations

        poses, _ = read_annotations(csv)
        kp = np.stack(list(poses.values()))
        return kp[rng.permutation(len(kp))[:n]], "Market-1501 train annotations"
    return _BASE_POSE + rng.normal(0, 3, size=(n, 18, 2)).astype(np.float32), "synthetic jittered poses"


def proxy_call(src: np.ndarray, tgt: np.ndarray, batch: int | None) -> Callable[[], int]:
    """A call that computes the next pair (batch None) or the next ``batch`` pairs; returns the pairs done."""
    n = len(src)
    state = {"i": 0}

    if batch is None:

        def single() -> int:
            j = state["i"] % n
            state["i"] += 1
            compute_flow(src[j], tgt[j], size=SIZE)
            return 1

        return single

    def batched() -> int:
        j = (state["i"] * batch) % max(n - batch, 1) if n > batch else 0
        state["i"] += 1
        compute_flow_batch(src[j : j + batch], tgt[j : j + batch], size=SIZE)
        return min(batch, n)

    return batched


def proxy_timings(
    batches: list[int | None],
    seconds: float,
    repeats: int = 1,
    warmup: int = 1,
    n_poses: int = 2048,
    market_root: str | os.PathLike[str] | None = None,
) -> tuple[dict[str, list[Timing]], str]:
    """Timings keyed "single" / "batch{b}" (each repeat >= ``seconds`` CPU-s) and the pose source."""
    kp, what = load_poses(n_poses, market_root)
    half = len(kp) // 2
    src, tgt = kp[:half], kp[half:]
    fns = {("single" if b is None else f"batch{b}"): proxy_call(src, tgt, b) for b in batches}
    return measure(fns, repeats, warmup, min_seconds=seconds, clock="cpu"), what


def bench_proxy(s: BenchSettings) -> list[BenchResult]:
    timings, what = proxy_timings(
        [None, s.proxy_batch],
        s.proxy_seconds,
        s.repeats,
        max(s.warmup, 1),
        n_poses=64 if s.quick else 2048,
        market_root=s.market_root,
    )
    rates = {k: [t.rate("cpu") for t in v] for k, v in timings.items()}
    extra = {k: {"wall_pairs_per_s": float(np.median([t.rate("wall") for t in v]))} for k, v in timings.items()}
    settings = {"size": list(SIZE), "batch": s.proxy_batch, "seconds_per_repeat": s.proxy_seconds, "poses": what}
    return rate_rows("proxy", "pairs/CPU-s", rates, "single", settings, extra=extra)
