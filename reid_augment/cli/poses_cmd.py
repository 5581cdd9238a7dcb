"""``reid-augment poses build`` and ``reid-augment poses show``: the target-pose bank."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from diaflow_core.data.annotations import read_annotations
from diaflow_core.errors import DataError
from diaflow_core.fileio import replace_bytes
from reid_augment.fsio import encode_image
from reid_augment.pose_bank import build_pose_bank, load_pose_bank, save_pose_bank
from reid_augment.preview import bank_sheet

__all__ = ["poses_build", "poses_show"]

console = Console(stderr=True)


def poses_build(
    source: Annotated[
        Path, typer.Argument(help="A keypoint CSV, or a dataset root holding market-annotation-train.csv.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Bank file to write (.npz).")],
    clusters: Annotated[int, typer.Option(help="Clusters over all views (front / back / side).")] = 48,
    seed: Annotated[int, typer.Option(help="k-means seed.")] = 0,
    force: Annotated[bool, typer.Option(help="Replace OUT when it exists.")] = False,
) -> None:
    """Cluster a dataset's annotated poses into a pose bank (keypoints only, no images)."""
    csv = source / "market-annotation-train.csv" if source.is_dir() else source
    if out.exists() and not force:
        raise DataError(f"{out}: exists; pass --force to replace it")
    poses, report = read_annotations(csv, on_error="skip")
    bank = build_pose_bank(
        poses.values(), clusters=clusters, seed=seed, source=f"{csv.name} ({report.rows} poses, seed {seed})"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    save_pose_bank(bank, out)
    views = {v: bank.views.count(v) for v in sorted(set(bank.views))}
    console.print(f"{len(bank)} poses ({views}) from {report.rows} rows of {csv}; {report.skipped} bad rows skipped")
    typer.echo(f"pose bank written to {out}")


def poses_show(
    out: Annotated[Path, typer.Option("--out", "-o", help="PNG to write.")] = Path("pose_bank.png"),
    bank: Annotated[Path | None, typer.Option(help="Bank file (default: the shipped bank).")] = None,
    columns: Annotated[int, typer.Option(help="Skeletons per row.")] = 12,
) -> None:
    """Draw every pose of a bank (skeletons grouped by view, with cluster sizes) into a PNG."""
    pose_bank = load_pose_bank(bank)
    replace_bytes(out, encode_image(bank_sheet(pose_bank, columns=columns), ".png"))
    typer.echo(f"{len(pose_bank)} poses drawn to {out}")
