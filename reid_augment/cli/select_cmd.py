"""``reid-augment select``: keep the generated samples a re-ID teacher still recognises (thin wrapper over
``diaflow_core.reid.select``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from diaflow_core.errors import ConfigError

from .common import device_name as _device

__all__ = ["select_samples_cmd"]

console = Console(stderr=True)


def select_samples_cmd(
    augmented: Annotated[Path, typer.Argument(help="Augmented root written by `reid-augment augment`.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="New augmented root (must not exist or be empty).")],
    data: Annotated[
        Path, typer.Option(help="Dataset root whose bounding_box_train/ holds the real images of the identities.")
    ],
    weights: Annotated[Path, typer.Option(help="Re-ID teacher: reid.safetensors (with reid.json beside it).")],
    min_margin: Annotated[
        float | None,
        typer.Option(help="Keep samples whose identity margin is at least this (0: own identity is the nearest)."),
    ] = 0.0,
    no_min_margin: Annotated[bool, typer.Option("--no-min-margin", help="No margin threshold.")] = False,
    keep_fraction: Annotated[
        float | None, typer.Option(help="Also keep at most this share of the scored samples, the best first.")
    ] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:N or auto.")] = "auto",
    batch_size: Annotated[int, typer.Option(help="Images per forward pass.")] = 128,
    threads: Annotated[int | None, typer.Option(help="torch CPU threads (default: torch's choice).")] = None,
) -> None:
    """Score every generated sample by its identity margin under a re-ID teacher (cosine to its own
    identity's real images minus the best other identity's) and write the kept ones, linked not copied, with
    a reduced manifest and selection.json, to a new root that `reid-experiment --augmented` or any re-ID
    trainer reads."""
    import torch

    from diaflow_core.reid import load_reid_model, market_records, trainable
    from diaflow_core.reid.experiment import generated_records
    from diaflow_core.reid.select import identity_margins, select_samples, write_selection

    if threads:
        torch.set_num_threads(threads)
    if keep_fraction is not None and not 0.0 < keep_fraction <= 1.0:
        raise ConfigError(f"--keep-fraction must be in (0, 1], got {keep_fraction}")
    threshold = None if no_min_margin else min_margin
    if threshold is None and keep_fraction is None:
        raise ConfigError("--no-min-margin needs --keep-fraction (otherwise every sample would be kept)")
    dev = _device(device)
    generated = generated_records(augmented)
    real = trainable(market_records(data, "train"))
    model = load_reid_model(weights, dev)
    with console.status(f"scoring {len(generated)} samples against {len(real)} real images"):
        scores = identity_margins(model, generated, real, dev, batch_size)
    keep = select_samples(scores, threshold, keep_fraction)
    for s in scores:
        if s.problem:
            console.print(f"[yellow]skip {augmented / s.name}: {s.problem}[/]")
    settings = {"weights": str(weights), "data": str(data), "min_margin": threshold, "keep_fraction": keep_fraction}
    summary = write_selection(augmented, out, generated, scores, keep, settings)

    table = Table(title="sample selection by identity margin")
    table.add_column("item")
    table.add_column("value", justify="right")
    m = summary["margin"]
    table.add_row("samples / scored", f"{summary['samples']} / {summary['scored']}")
    table.add_row("kept / dropped", f"{summary['kept']} / {summary['dropped']}")
    if summary["scored"]:
        table.add_row("own identity nearest", f"{100 * summary['own_nearest']:.1f} %")
        table.add_row("margin mean / median", f"{m['mean']:.3f} / {m['q50']:.3f}")
        table.add_row("margin 10th / 90th pct", f"{m['q10']:.3f} / {m['q90']:.3f}")
    table.add_row("output", str(out))
    console.print(table)
