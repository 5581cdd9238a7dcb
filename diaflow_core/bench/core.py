"""Benchmark plumbing: settings, results, an interleaved timer, the environment record.

Convention: every case reports rates (items per second, higher is better) as the median over ``repeats``;
variants of one case are timed interleaved (A B B A ...) inside one run, and each non-baseline row carries
``ratio = value / baseline value`` against the baseline row of the same case. Absolute figures on a shared
machine drift by tens of percent between runs; the ratios are what to compare.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import torch

from ..errors import ConfigError

__all__ = [
    "BenchResult",
    "BenchSettings",
    "Timing",
    "bench_environment",
    "measure",
    "rate_rows",
    "resolve_market_root",
    "skipped_row",
    "synchronizer",
]

Clock = Literal["wall", "cpu"]


@dataclass(frozen=True)
class BenchSettings:
    """What to run and how. ``quick=True`` is a smoke run: tiny batches, 1 repeat, no warm-up (``resolved()``)."""

    device: str = "cpu"  # cpu, cuda, cuda:N (the caller resolves "auto")
    threads: int | None = None  # torch intra-op threads for the run; None = leave torch's setting
    repeats: int = 5
    warmup: int = 1  # untimed calls per variant before the timed repeats
    compile: bool = False  # also time torch.compile variants (slow to compile)
    quick: bool = False
    batch: int = 32  # inference batch: flow regressor, generator
    train_batch: int = 8  # generator training step (G + D)
    flow_train_batch: int = 16  # flow-regressor training step (the CPU recipe's; the GPU script uses 64)
    reid_batch: int = 64  # re-ID training step: P x 4 images (the recipe's 16 x 4)
    proxy_batch: int = 32  # proxy body: pairs per batched call
    proxy_seconds: float = 1.0  # proxy body: CPU seconds per repeat (single calls are ~ms)
    loader_batch: int = 32  # data loading: samples per batch
    loader_batches: int = 8  # data loading: timed batches per repeat
    workers: int = 2  # data loading: the worker count compared with 0
    market_root: str | None = None  # None: $DIAFLOW_MARKET, else ../shared/data/market1501

    def __post_init__(self) -> None:
        sizes = (
            self.repeats,
            self.batch,
            self.train_batch,
            self.flow_train_batch,
            self.proxy_batch,
            self.loader_batch,
            self.loader_batches,
        )
        bad_reid = self.reid_batch < 8 or self.reid_batch % 4 != 0
        if min(sizes) < 1 or bad_reid or self.warmup < 0 or self.workers < 1 or self.proxy_seconds < 0:
            raise ConfigError(
                f"BenchSettings: sizes must be positive (warmup >= 0, workers >= 1, reid_batch a multiple of 4 >= 8),"
                f" got {self}"
            )
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"BenchSettings: threads must be >= 1, got {self.threads}")

    def resolved(self) -> BenchSettings:
        """The settings actually used: quick mode shrinks every size."""
        if not self.quick:
            return self
        return replace(
            self,
            repeats=1,
            warmup=0,
            batch=2,
            train_batch=2,
            flow_train_batch=2,
            reid_batch=8,
            proxy_batch=4,
            proxy_seconds=0.0,
            loader_batch=4,
            loader_batches=2,
        )


@dataclass(frozen=True)
class BenchResult:
    """One row. ``value`` is None when skipped (``skipped`` says why). ``baseline`` names the row this one is
    compared with (the baseline row names itself, ratio 1); rows without a comparison have baseline None."""

    case: str
    name: str
    unit: str
    value: float | None
    baseline: str | None = None
    ratio: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    samples: list[float] = field(default_factory=list)  # per-repeat values (the median is ``value``)
    extra: dict[str, Any] = field(default_factory=dict)  # secondary figures (e.g. wall-clock rate)
    note: str = ""
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Timing:
    """One timed repeat of one variant: items processed, wall and CPU (this process) seconds."""

    items: int
    wall_s: float
    cpu_s: float

    def rate(self, clock: Clock = "wall") -> float:
        return self.items / (self.wall_s if clock == "wall" else self.cpu_s)


def synchronizer(device: torch.device) -> Callable[[], None]:
    """A no-op on CPU; waits for the device's queued kernels on CUDA (so timers see finished work)."""
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return lambda: None


def measure(
    fns: Mapping[str, Callable[[], int]],
    repeats: int,
    warmup: int = 0,
    sync: Callable[[], None] = lambda: None,
    min_seconds: float = 0.0,
    clock: Clock = "wall",
) -> dict[str, list[Timing]]:
    """Time each ``fn`` (returns the items it processed) ``repeats`` times, variants interleaved.

    Each fn first runs ``warmup`` untimed calls. A repeat calls fn until ``min_seconds`` of ``clock`` have
    passed (at least once). Repeats alternate the variant order (A B, B A, ...) so that a drift in machine
    load falls on all variants alike.
    """
    if repeats < 1:
        raise ConfigError(f"measure: repeats must be >= 1, got {repeats}")
    for fn in fns.values():
        for _ in range(warmup):
            fn()
        sync()
    out: dict[str, list[Timing]] = {name: [] for name in fns}
    names = list(fns)
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            fn, items = fns[name], 0
            sync()
            w0, c0 = time.perf_counter(), time.process_time()
            while True:
                items += fn()
                sync()
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                spent = wall if clock == "wall" else cpu
                if spent >= min_seconds and wall > 0 and cpu > 0:
                    break
            out[name].append(Timing(items, wall, cpu))
    return out


def rate_rows(
    case: str,
    unit: str,
    rates: Mapping[str, Sequence[float]],
    baseline: str,
    settings: Mapping[str, Any],
    notes: Mapping[str, str] | None = None,
    extra: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[BenchResult]:
    """Rows ``case/variant`` from per-repeat rates: value = median, ratio = value / the baseline's value.

    ``extra["repeat_ratios"]``: the variant's rate over the baseline's in each repeat (timed side by side), whose
    spread shows how far the machine's load moved the ratio.
    """
    base_name = f"{case}/{baseline}"
    base = statistics.median(rates[baseline])
    rows = []
    for variant, samples in rates.items():
        value = statistics.median(samples)
        paired = [round(v / b, 4) for v, b in zip(samples, rates[baseline], strict=True)]
        rows.append(
            BenchResult(
                case=case,
                name=f"{case}/{variant}",
                unit=unit,
                value=value,
                baseline=base_name,
                ratio=value / base,
                settings=dict(settings),
                samples=[float(s) for s in samples],
                extra={**(extra or {}).get(variant, {}), "repeat_ratios": paired},
                note=(notes or {}).get(variant, ""),
            )
        )
    return rows


def skipped_row(case: str, variant: str, unit: str, reason: str, settings: Mapping[str, Any]) -> BenchResult:
    return BenchResult(case, f"{case}/{variant}", unit, None, settings=dict(settings), skipped=reason)


def resolve_market_root(explicit: str | os.PathLike[str] | None) -> Path:
    """The Market-1501 root: the explicit one, else $DIAFLOW_MARKET, else ../shared/data/market1501 (from the
    working directory, then from the source checkout)."""
    if explicit is not None:
        return Path(explicit)
    if os.environ.get("DIAFLOW_MARKET"):
        return Path(os.environ["DIAFLOW_MARKET"])
    here = Path("..") / "shared" / "data" / "market1501"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "market1501"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def bench_environment(device: torch.device) -> dict[str, Any]:
    """Date, CPU, core count, load average, torch threads and versions, GPU name on CUDA."""
    info: dict[str, Any] = {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "device": str(device),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    if hasattr(os, "getloadavg"):
        info["loadavg_1m_5m_15m"] = [round(x, 2) for x in os.getloadavg()]
    if device.type == "cuda" and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(device)
    return info
