"""Benchmarks: throughput ratios measured in one run, and model cost (parameters, FLOPs).

Cases (``CASES``): proxy, flow, generator, train, flow_train, reid, data, flops. Each returns ``BenchResult``
rows; timed rows hold the median rate over the repeats and the ratio to their case's baseline row, timed
interleaved in the same run. ``run_benchmarks(BenchSettings(...), only=[...])`` runs them; the CLI is
``reid-augment bench``.
"""

from __future__ import annotations

from .core import BenchResult, BenchSettings, Timing, bench_environment, measure, resolve_market_root
from .data import bench_data
from .flow_train import bench_flow_train
from .networks import DESIGN_GFLOP_PER_IMAGE, bench_flops, bench_flow, bench_generator, bench_train, count_flops
from .proxy import bench_proxy, load_poses, proxy_call, proxy_timings
from .reid import bench_reid
from .runner import CASES, bench_report, run_benchmarks, write_bench_json

__all__ = [
    "CASES",
    "DESIGN_GFLOP_PER_IMAGE",
    "BenchResult",
    "BenchSettings",
    "Timing",
    "bench_data",
    "bench_environment",
    "bench_flops",
    "bench_flow",
    "bench_flow_train",
    "bench_generator",
    "bench_proxy",
    "bench_reid",
    "bench_report",
    "bench_train",
    "count_flops",
    "load_poses",
    "measure",
    "proxy_call",
    "proxy_timings",
    "resolve_market_root",
    "run_benchmarks",
    "write_bench_json",
]
