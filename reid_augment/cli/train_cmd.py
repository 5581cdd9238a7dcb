"""`reid-augment train flow|generator`: thin wrappers over diaflow_core.train."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from diaflow_core.config import apply_overrides, load_recipe
from diaflow_core.train.common import resolve_device

from .progress import console, training_progress

_RECIPE = typer.Option(..., "--recipe", "-r", exists=True, dir_okay=False, help="YAML training recipe.")
_OUT = typer.Option(..., "--out", "-o", help="Run folder (checkpoints, stats.jsonl, resolved recipe).")
_SET = typer.Option([], "--set", "-s", help="Recipe override key.path=value (repeatable).")
_DATA = typer.Option(None, "--data", help="Market-1501 root (overrides data.market_root).")
_DEVICE = typer.Option("auto", "--device", help="cpu, cuda, cuda:N or auto.")
_RESUME = typer.Option(False, "--resume", help="Continue the run in --out from its last checkpoint.")
_BUDGET = typer.Option(None, "--time-budget", help="Stop (after saving) once this many seconds have passed.")


def _overrides(overrides: list[str], data: Path | None) -> list[str]:
    return [*overrides, f"data.market_root={data}"] if data else list(overrides)


def _run(
    kind: str,
    recipe: Path,
    out: Path,
    data: Path | None,
    device: str,
    resume: bool,
    time_budget: float | None,
    overrides: list[str],
) -> None:
    """Load the recipe for `kind`, apply overrides, train with a progress bar, print the result as JSON."""
    if kind == "flow":
        from diaflow_core.train.flow import FlowTrainConfig as Cfg
        from diaflow_core.train.flow import train_flow as train
    else:
        from diaflow_core.train.generator import GenTrainConfig as Cfg  # type: ignore[assignment]
        from diaflow_core.train.generator import train_generator as train  # type: ignore[assignment]
    cfg = apply_overrides(load_recipe(Cfg, recipe), _overrides(overrides, data))
    title = "flow" if kind == "flow" else cfg.stage  # type: ignore[attr-defined]
    with training_progress(title) as cb:
        result = train(cfg, out, resolve_device(device), resume=resume, progress=cb, time_budget_s=time_budget)
    console.print_json(json.dumps(result))


def train_flow(
    recipe: Path = _RECIPE,
    out: Path = _OUT,
    data: Path | None = _DATA,
    device: str = _DEVICE,
    resume: bool = _RESUME,
    time_budget: float | None = _BUDGET,
    set_: list[str] = _SET,
) -> None:
    """Train the flow regressor on pose pairs with proxy-body ground truth."""
    _run("flow", recipe, out, data, device, resume, time_budget, set_)


def train_generator(
    recipe: Path = _RECIPE,
    out: Path = _OUT,
    data: Path | None = _DATA,
    device: str = _DEVICE,
    resume: bool = _RESUME,
    time_budget: float | None = _BUDGET,
    set_: list[str] = _SET,
) -> None:
    """Train the generator (stage: generator) or the pixel-warping net (stage: pixel_warp)."""
    _run("generator", recipe, out, data, device, resume, time_budget, set_)
