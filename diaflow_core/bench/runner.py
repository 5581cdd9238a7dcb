"""The case registry and the run: pick cases, set threads, collect rows, build the JSON report."""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from diaflow_core.fileio import replace_text

from ..errors import ConfigError
from .core import BenchResult, BenchSettings, bench_environment
from .data import bench_data
from .flow_train import bench_flow_train
from .networks import bench_flops, bench_flow, bench_generator, bench_train
from .proxy import bench_proxy
from .reid import bench_reid

__all__ = ["CASES", "bench_report", "run_benchmarks", "write_bench_json"]

Case = Callable[[BenchSettings, torch.device], list[BenchResult]]

CASES: dict[str, tuple[Case, str]] = {
    "proxy": (bench_proxy, "proxy-body flow GT: single-pair calls vs batched, numpy and torch on the device"),
    "flow": (bench_flow, "flow regressor inference: eager vs channels_last vs bf16 (vs compile)"),
    "generator": (bench_generator, "PoseTransfer, shipped weights: eager vs channels_last vs bf16 (vs compile)"),
    "train": (bench_train, "one generator training step (G + D): fp32 vs channels_last vs bf16"),
    "flow_train": (
        bench_flow_train,
        "one flow-regressor training step: fp32 vs channels_last vs bf16 vs 4x batch vs device targets",
    ),
    "reid": (bench_reid, "one re-ID training step (ResNet-18 + BNNeck, CE + triplet): fp32 vs bf16"),
    "data": (bench_data, "PoseTransferPairs loading: 0 workers vs N"),
    "flops": (bench_flops, "parameters and GFLOP per image of flow regressor, generator, pixel warp"),
}


def _check_names(names: Sequence[str]) -> list[str]:
    for n in names:
        if n not in CASES:
            close = difflib.get_close_matches(n, list(CASES), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown benchmark {n!r}{hint}; cases: {', '.join(CASES)}")
    return [n for n in CASES if n in set(names)] if names else list(CASES)


def _device(name: str) -> torch.device:
    from ..train.common import resolve_device

    return resolve_device(name)


def run_benchmarks(
    settings: BenchSettings,
    only: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
) -> tuple[list[BenchResult], dict[str, Any]]:
    """Run the chosen cases (all when ``only`` is empty) in registry order: (rows, environment).

    ``settings.device`` may be "auto". Threads are set for the run and restored afterwards.
    """
    names = _check_names(only)
    s = settings.resolved()
    device = _device(s.device)
    old_threads = torch.get_num_threads()
    if s.threads is not None:
        torch.set_num_threads(s.threads)
    try:
        env = bench_environment(device)
        rows: list[BenchResult] = []
        for name in names:
            if progress is not None:
                progress(name)
            rows += CASES[name][0](s, device)
    finally:
        torch.set_num_threads(old_threads)
    return rows, env


def bench_report(rows: Sequence[BenchResult], settings: BenchSettings, env: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready: environment, the resolved settings, the rows."""
    return {
        "environment": env,
        "settings": asdict(settings.resolved()),
        "results": [r.to_dict() for r in rows],
    }


def write_bench_json(path: str | os.PathLike[str], report: dict[str, Any]) -> Path:
    return replace_text(path, json.dumps(report, indent=1) + "\n")
