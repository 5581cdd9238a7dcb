"""Proxy-body flow ground truth throughput at 128x64: single-pair calls (baseline) vs batched calls, numpy and
PyTorch (``compute_flow_batch_torch`` on the bench device, the same pairs as the numpy batch).

Rates are pairs per CPU-second of this process (``time.process_time``): one thread's worth of work, robust
to other jobs sharing the machine; the wall-clock rate is kept in ``extra``. The exception is the PyTorch row on
a GPU, whose work is not CPU time: pairs per wall-second, timed after the CPU rows with the device synchronised.
Poses are the Market-1501 training annotations when present, else jittered synthetic poses.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ..proxy3d import compute_flow, compute_flow_batch, compute_flow_batch_torch
from .core import BenchResult, BenchSettings, Timing, measure, rate_rows, resolve_market_root, synchronizer

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


def proxy_call(
    src: np.ndarray, tgt: np.ndarray, batch: int | None, device: torch.device | None = None
) -> Callable[[], int]:
    """A call that computes the next pair (batch None) or the next ``batch`` pairs; returns the pairs done.
    With ``device``, the batch goes through ``compute_flow_batch_torch`` there (results left on the device)."""
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
        if device is None:
            compute_flow_batch(src[j : j + batch], tgt[j : j + batch], size=SIZE)
        else:
            compute_flow_batch_torch(src[j : j + batch], tgt[j : j + batch], size=SIZE, device=device)
        return min(batch, n)

    return batched


def proxy_timings(
    batches: list[int | None],
    seconds: float,
    repeats: int = 1,
    warmup: int = 1,
    n_poses: int = 2048,
    market_root: str | os.PathLike[str] | None = None,
    torch_device: torch.device | None = None,
) -> tuple[dict[str, list[Timing]], str]:
    """Timings keyed "single" / "batch{b}" (each repeat >= ``seconds`` CPU-s) and the pose source.

    ``torch_device``: also "torch_{type}", ``compute_flow_batch_torch`` on the pairs of the last batch size;
    interleaved with the others on a CPU, timed afterwards (wall clock, synchronised) on a GPU.
    """
    kp, what = load_poses(n_poses, market_root)
    half = len(kp) // 2
    src, tgt = kp[:half], kp[half:]
    fns = {("single" if b is None else f"batch{b}"): proxy_call(src, tgt, b) for b in batches}
    if torch_device is None:
        return measure(fns, repeats, warmup, min_seconds=seconds, clock="cpu"), what
    torch_fns = {f"torch_{torch_device.type}": proxy_call(src, tgt, batches[-1] or 1, torch_device)}
    if torch_device.type == "cpu":
        return measure(fns | torch_fns, repeats, warmup, min_seconds=seconds, clock="cpu"), what
    timings = measure(fns, repeats, warmup, min_seconds=seconds, clock="cpu")
    sync = synchronizer(torch_device)
    return timings | measure(torch_fns, repeats, warmup, sync, min_seconds=seconds, clock="wall"), what


def bench_proxy(s: BenchSettings, device: torch.device | None = None) -> list[BenchResult]:
    """Rows proxy/single (baseline), proxy/batch{b}, and proxy/torch_{device type} when ``device`` is given."""
    timings, what = proxy_timings(
        [None, s.proxy_batch],
        s.proxy_seconds,
        s.repeats,
        max(s.warmup, 1),
        n_poses=64 if s.quick else 2048,
        market_root=s.market_root,
        torch_device=device,
    )
    gpu_row = f"torch_{device.type}" if device is not None and device.type != "cpu" else None
    rates = {k: [t.rate("wall" if k == gpu_row else "cpu") for t in v] for k, v in timings.items()}
    extra = {k: {"wall_pairs_per_s": float(np.median([t.rate("wall") for t in v]))} for k, v in timings.items()}
    settings = {"size": list(SIZE), "batch": s.proxy_batch, "seconds_per_repeat": s.proxy_seconds, "poses": what}
    if device is not None:
        settings["torch_device"] = str(device)
    notes = {gpu_row: "pairs per wall-second on the GPU (ratio: one GPU vs one CPU core)"} if gpu_row else None
    rows = rate_rows("proxy", "pairs/CPU-s", rates, "single", settings, notes=notes, extra=extra)
    return [dataclasses.replace(r, unit="pairs/s") if r.name == f"proxy/{gpu_row}" else r for r in rows]
