"""Compute precision: when to run the networks under bf16 autocast.

On CUDA bf16 autocast needs no loss scaler and is the default. On CPUs with native bf16 instructions oneDNN
runs bf16 convolutions on them: AMX tiles (Intel Sapphire Rapids and later) or AVX512-BF16 (AMD Zen 4, Intel
Cooper Lake). `reid-augment bench` measured 1.86-1.94x faster inference and 1.77x faster generator training
steps than fp32 on an AMX CPU, and 2.11x (flow regressor) / 2.24x (generator) faster inference on an AMD EPYC
with AVX512-BF16 but no AMX (docs/benchmarks.md). Without either, bf16 is emulated and slower, so `auto` keeps
fp32 there. `DIAFLOW_CPU_BF16=0|1` overrides the CPU detection.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from typing import Any, Literal

import torch

from .errors import ConfigError

__all__ = ["Precision", "PRECISIONS", "cpu_bf16_fast", "resolve_precision", "autocast"]

Precision = Literal["auto", "fp32", "bf16"]
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16")


def cpu_bf16_fast() -> bool:
    """True when this CPU runs bf16 convolutions natively (AMX or AVX512-BF16), or when DIAFLOW_CPU_BF16=1 says
    so (``0`` says it does not)."""
    env = os.environ.get("DIAFLOW_CPU_BF16", "").strip()
    if env in ("0", "1"):
        return env == "1"
    return _cpu_has("_is_amx_tile_supported") or _cpu_has("_is_avx512_bf16_supported")


@cache
def _cpu_has(probe_name: str) -> bool:
    # Probed once per process: autocast() asks on every training step, the CPU does not change.
    probe = getattr(torch.cpu, probe_name, None)  # private in torch 2.x; absent = assume the feature is absent
    try:
        return bool(probe()) if probe is not None else False
    except Exception:  # noqa: BLE001 - a failing probe just means "do not rely on it"
        return False


def resolve_precision(precision: str, device: torch.device | str) -> Literal["fp32", "bf16"]:
    """`auto` -> bf16 on CUDA and on CPUs with native bf16 (``cpu_bf16_fast``), fp32 elsewhere; `fp32` / `bf16`
    are taken as asked."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision != "auto":
        return precision  # type: ignore[return-value]
    dev = torch.device(device)
    if dev.type == "cuda":
        return "bf16"
    return "bf16" if dev.type == "cpu" and cpu_bf16_fast() else "fp32"


def autocast(device: torch.device | str, precision: str) -> AbstractContextManager[Any]:
    """The autocast context for `precision` on `device` (a no-op for fp32 and for devices without bf16 autocast)."""
    dev = torch.device(device)
    if resolve_precision(precision, dev) == "bf16" and dev.type in ("cuda", "cpu"):
        return torch.autocast(dev.type, dtype=torch.bfloat16)
    return nullcontext()
