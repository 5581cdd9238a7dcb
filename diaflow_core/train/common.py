"""Pieces every training stage shares: run folders, JSONL stats, checkpoints, rank awareness, devices.

Checkpoints hold tensors and primitives only (state dicts, config dict, step, format version), so they load with
`torch.load(weights_only=True)` and never unpickle code. Everything that writes is rank-0 only and atomic.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from ..config import dump_yaml, recipe_text, to_dict
from ..errors import ConfigError, WeightsError
from ..fileio import atomic_replace
from ..precision import autocast

__all__ = [
    "CHECKPOINT_FORMAT",
    "RunDir",
    "make_ema",
    "rank",
    "world_size",
    "is_main",
    "seed_everything",
    "resolve_device",
    "autocast_for",
    "warmup_factor",
    "scaled_lr",
    "save_checkpoint",
    "load_checkpoint",
    "save_safetensors",
    "load_safetensors_into",
]

CHECKPOINT_FORMAT = 1


def rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def is_main() -> bool:
    return rank() == 0


def seed_everything(seed: int) -> None:
    # Each rank gets its own stream so data augmentation differs across processes.
    s = seed + rank()
    random.seed(s)
    np.random.seed(s % (2**32))
    torch.manual_seed(s)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda asked for, but torch sees no CUDA device here")
    if dev.type == "cuda":
        # Fixed 128x64 inputs: let cuDNN pick the fastest kernels; TF32 is ample for these losses.
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return dev


def autocast_for(device: torch.device, enabled: bool) -> AbstractContextManager[Any]:
    """A recipe's `amp: true`: bf16 autocast on CUDA and on native-bf16 CPUs (`diaflow_core.precision`), else fp32."""
    return autocast(device, "auto" if enabled else "fp32")


def warmup_factor(step: int, warmup_steps: int) -> float:
    """Linear lr warm-up over the first ``warmup_steps`` optimiser steps of a run (step counts from 0).

    Why: a fresh Adam's first updates are about lr x sign(grad) on every weight at once. Started from trained
    weights (``init_weights``, fresh optimiser) at lr 1.5e-4, that took the flow net's validation EPE from 2.95
    to 5.5 px in 4 steps; ramping the lr lets the moment estimates settle first.
    """
    return 1.0 if warmup_steps <= 0 else min(1.0, (step + 1) / warmup_steps)


def make_ema(model: torch.nn.Module, decay: float) -> torch.optim.swa_utils.AveragedModel | None:
    """An exponential moving average of ``model``'s weights and BatchNorm statistics, or None for decay 0.

    Why: validation EPE of the flow net fell at every lr halving (3.37 -> 3.10 -> 3.00 px), a sign that the
    weights' step-to-step noise costs accuracy; an average over the last ~1 / (1 - decay) steps removes much
    of it without lowering the lr. Call ``ema.update_parameters(model)`` after each optimiser step (the first
    call copies the weights); validate and export ``ema.module``.
    """
    if not 0.0 <= decay < 1.0:
        raise ConfigError(f"optim.ema_decay must be in [0, 1), got {decay}")
    if decay == 0.0:
        return None
    avg = torch.optim.swa_utils.get_ema_multi_avg_fn(decay)
    return torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=avg, use_buffers=True)


@contextmanager
def scaled_lr(opt: torch.optim.Optimizer, factor: float) -> Iterator[None]:
    """Scale every group's lr by ``factor`` for the optimiser steps inside the block, then restore it.

    Stateless on purpose: the factor is a function of the checkpointed step, so it composes with the epoch
    StepLR (which never sees the scaled value) and a resumed run picks it up where it stopped.
    """
    saved = [g["lr"] for g in opt.param_groups]
    for g in opt.param_groups:
        g["lr"] = g["lr"] * factor
    try:
        yield
    finally:
        for g, lr in zip(opt.param_groups, saved, strict=True):
            g["lr"] = lr


@dataclass
class RunDir:
    """A run folder: resolved recipe (plus recipe.resumed-N.yaml for resumes that changed it), stats.jsonl,
    checkpoints/ (last + best)."""

    path: Path

    @classmethod
    def create(cls, path: str | os.PathLike[str], cfg: Any, resume: bool) -> RunDir:
        p = Path(path)
        if p.exists() and any(p.iterdir()) and not resume and (p / "checkpoints").exists():
            raise ConfigError(f"run folder {p} already holds a run: pass --resume to continue it or pick another --out")
        if is_main():
            p.mkdir(parents=True, exist_ok=True)
            first = p / "recipe.resolved.yaml"
            if not (resume and first.is_file()):
                dump_yaml(cfg, first)
            elif first.read_text() != recipe_text(cfg):
                # The run's own recipe stays (a resume may yet fail on a checkpoint that does not fit);
                # a resume with other settings (more epochs, a new lr) is kept beside it, numbered.
                n = 1 + len(list(p.glob("recipe.resumed-*.yaml")))
                dump_yaml(cfg, p / f"recipe.resumed-{n}.yaml")
        return cls(p)

    @property
    def last(self) -> Path:
        return self.path / "checkpoints" / "last.pt"

    @property
    def best(self) -> Path:
        return self.path / "checkpoints" / "best.pt"

    def log(self, record: Mapping[str, Any]) -> None:
        if not is_main():
            return
        rec = {"time": round(time.time(), 3), **record}
        with open(self.path / "stats.jsonl", "a") as fh:
            fh.write(json.dumps(rec) + "\n")
            fh.flush()


def save_checkpoint(
    path: Path,
    *,
    step: int,
    epoch: int,
    cfg: Any,
    modules: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Save state dicts of `modules` (models, optimisers, schedulers) plus primitives, atomically, rank 0 only."""
    if not is_main():
        return
    state = {
        "format": CHECKPOINT_FORMAT,
        "step": step,
        "epoch": epoch,
        "config": to_dict(cfg),
        "state": {k: _unwrap(m).state_dict() for k, m in modules.items()},
        "extra": dict(extra or {}),
    }
    with atomic_replace(path) as tmp:
        torch.save(state, tmp)


def _unwrap(m: Any) -> Any:
    return m.module if hasattr(m, "module") and isinstance(m, torch.nn.parallel.DistributedDataParallel) else m


def load_checkpoint(path: Path, modules: Mapping[str, Any], map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by save_checkpoint into `modules`; returns the primitives (step, epoch, extra)."""
    if not path.is_file():
        raise WeightsError(f"checkpoint not found: {path}")
    state = torch.load(path, map_location=map_location, weights_only=True)
    if state.get("format") != CHECKPOINT_FORMAT:
        raise WeightsError(f"{path}: checkpoint format {state.get('format')} != {CHECKPOINT_FORMAT}")
    for k, m in modules.items():
        if k not in state["state"]:
            raise WeightsError(f"{path}: no state for {k!r} (has {sorted(state['state'])})")
        try:
            _unwrap(m).load_state_dict(state["state"][k])
        except (RuntimeError, ValueError) as err:  # e.g. a run made before a recipe switched on model.refine
            made = state.get("config", {})
            made = {key: made[key] for key in ("model", "trainable") if key in made}
            first = " ".join(str(err).strip().splitlines()[:3])[:300]
            raise WeightsError(
                f"{path}: {k!r} does not fit the model built from the recipe; resume with the settings the run "
                f"was made with ({json.dumps(made)[:400]}). {first}"
            ) from err
    return {k: state[k] for k in ("step", "epoch", "config", "extra")}


def save_safetensors(
    model: torch.nn.Module, path: Path, metadata: Mapping[str, Any] | None = None, half: bool = False
) -> None:
    """Model weights for shipping: safetensors (no pickle), optionally fp16 for floating tensors."""
    from safetensors.torch import save_file

    sd = {}
    for k, v in _unwrap(model).state_dict().items():
        v = v.detach().cpu().contiguous()
        if half and v.is_floating_point():
            v = v.half()
        sd[k] = v
    with atomic_replace(path) as tmp:
        save_file(sd, str(tmp), metadata={k: json.dumps(v) for k, v in (metadata or {}).items()})


def load_safetensors_into(model: torch.nn.Module, path: Path, missing_ok: tuple[str, ...] = ()) -> list[str]:
    """Load safetensors weights (any float dtype) into `model`, casting to the model's dtypes.

    Keys must match exactly, except model keys under one of the ``missing_ok`` prefixes, which may be
    absent from the file (a module added to a trained network keeps its own initialisation). Returns
    the keys left at their initialisation.
    """
    from safetensors.torch import load_file

    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    sd = load_file(str(path))
    own = model.state_dict()
    missing = sorted(set(own) - set(sd))
    unexpected = sorted(set(sd) - set(own))
    not_ok = [k for k in missing if not k.startswith(missing_ok)]
    if not_ok or unexpected:
        raise WeightsError(f"{path}: does not match the model (missing {not_ok[:5]}, unexpected {unexpected[:5]})")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in sd.items()}, strict=not missing)
    return missing
