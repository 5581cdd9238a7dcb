"""Compute precision: when to run the networks under bf16 autocast.

On CUDA bf16 autocast needs no loss scaler and is the default. On CPUs with AMX tiles (Sapphire Rapids and
later) oneDNN runs bf16 convolutions on them: `reid-augment bench` measured 1.86-1.94x faster inference and
1.77x faster generator training steps than fp32 on such a CPU (docs/benchmarks.md). Without AMX, bf16 is emulated and
slower, so `auto` keeps fp32 there. `DIAFLOW_CPU_BF16=0|1` overrides the CPU detection.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache
from typing import Any, Literal

import torch

from .errors import ConfigError

__all__ = ["Precision", "PRECISIONS", "cpu_bf16_fast", "resolve_precision", "autocast"]

Precision = Literal["auto", "fp32", "bf16"]
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16")


def cpu_bf16_fast() -> bool:
    """True when this CPU runs bf16 convolutions natively (AMX), or when DIAFLOW_CPU_BF16=1 says so."""
    env = os.environ.get("DIAFLOW_CPU_BF16", "").strip()
    if env in ("0", "1"):
        return env == "1"
    return _cpu_has_amx()


@lru_cache(maxsize=1)
def _cpu_has_amx() -> bool:
    # Probed once per process: autocast() asks on every training step, the CPU does not change.
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)  # private in torch 2.x; absent = assume no AMX
    try:
        return bool(probe()) if probe is not None else False
    except Exception:  # noqa: BLE001 - a failing probe just means "do not rely on it"
        return False


def resolve_precision(precision: str, device: torch.device | str) -> Literal["fp32", "bf16"]:
    """`auto` -> bf16 on CUDA and on AMX CPUs, fp32 elsewhere; `fp32` / `bf16` are taken as asked."""
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
