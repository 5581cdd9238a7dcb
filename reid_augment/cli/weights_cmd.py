"""`reid-augment weights export`: a run's best checkpoint -> shippable safetensors + JSON sidecar."""

from __future__ import annotations

from pathlib import Path

import typer

from .progress import console

_PACKAGE_WEIGHTS = Path(__file__).resolve().parents[2] / "diaflow_core" / "weights"


def export(
    checkpoint: Path = typer.Argument(..., exists=True, dir_okay=False, help="A run's checkpoints/best.pt."),
    name: str = typer.Option(..., "--name", help="flow, generator or pixel_warp."),
    dest: Path = typer.Option(_PACKAGE_WEIGHTS, "--dest", help="Folder for <name>.safetensors and <name>.json."),
    half: bool = typer.Option(True, "--half/--full", help="Store floating tensors as fp16."),
) -> None:
    """Export weights (no pickle: safetensors) with the recipe and validation figures beside them."""
    from diaflow_core.infer import export_weights

    out = export_weights(checkpoint, name, dest, half=half)
    console.print(f"wrote {out} and {out.with_suffix('.json').name}")
