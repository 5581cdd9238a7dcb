"""``reid-augment train reid`` and ``reid-augment evaluate reid``: thin wrappers over diaflow_core.reid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from diaflow_core.errors import ConfigError

from .common import device_name as _device

console = Console(stderr=True)


def _size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise ConfigError(f"--size must look like 128x64 (H x W), got {text!r}") from exc
    return h, w


def _load_recipe(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read recipe {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a recipe must be a mapping of config fields")
    return dict(data.get("reid", data))  # either the fields themselves or under a "reid:" key


def train_reid(
    data: Annotated[Path, typer.Option(help="Market-1501 root (bounding_box_train/ is used).")],
    out: Annotated[Path, typer.Option(help="Run folder: weights, config, stats, checkpoint.")],
    epochs: Annotated[int | None, typer.Option(help="Epochs (default: the recipe's or 60).")] = None,
    extra: Annotated[
        Path | None,
        typer.Option(help="Folder of generated Market-named images added to training under their pid."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default 0).")] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:N or auto.")] = "auto",
    resume: Annotated[bool, typer.Option(help="Continue from OUT/checkpoint.pt when present.")] = False,
    config: Annotated[Path | None, typer.Option(help="YAML recipe of ReidTrainConfig fields.")] = None,
    backbone: Annotated[str | None, typer.Option(help="resnet18 or resnet50.")] = None,
    size: Annotated[str | None, typer.Option(help="Input size HxW, e.g. 128x64 or 256x128.")] = None,
    pretrained: Annotated[Path | None, typer.Option(help="torchvision ImageNet state dict for the backbone.")] = None,
    val_fraction: Annotated[
        float | None, typer.Option(help="Share of training identities held out for validation.")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Data loader worker processes.")] = None,
    threads: Annotated[int | None, typer.Option(help="torch CPU threads (default: torch's choice).")] = None,
) -> None:
    """Train the re-ID network (ResNet + BNNeck, CE + batch-hard triplet) on Market-1501."""
    import torch

    from diaflow_core.reid import ReidTrainConfig, folder_records, market_records
    from diaflow_core.reid import train_reid as run_training

    if threads:
        torch.set_num_threads(threads)
    fields = _load_recipe(config)
    options = {
        "epochs": epochs,
        "seed": seed,
        "backbone": backbone,
        "size": _size(size) if size else None,
        "pretrained": str(pretrained) if pretrained else None,
        "val_fraction": val_fraction,
        "workers": workers,
    }
    fields.update({k: v for k, v in options.items() if v is not None})
    cfg = ReidTrainConfig.from_dict(fields)
    train = market_records(data, "train")
    extra_records = None
    if extra is not None:
        folder = extra / "bounding_box_train" if (extra / "bounding_box_train").is_dir() else extra
        extra_records = folder_records(folder)

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("re-ID", total=None, info="")
        epoch_info: dict[str, Any] = {}

        def on_event(event: dict[str, Any]) -> None:
            kind = event["event"]
            if kind == "start":
                console.print(
                    f"{event['images']} images ({event['extra_images']} generated), {event['classes']} ids, "
                    f"{event['iters_per_epoch']} iterations/epoch, epochs {event['start_epoch'] + 1}..{event['epochs']}"
                )
                progress.update(task, total=event["iters_per_epoch"])
            elif kind == "iter":
                progress.update(
                    task,
                    completed=event["iter"],
                    description=f"epoch {event['epoch']}",
                    info=f"loss {event['loss']:.3f}",
                )
            elif kind == "epoch":
                epoch_info.update(event)
                val = f" val rank1 {event['val_rank1']:.3f} mAP {event['val_mAP']:.3f}" if "val_mAP" in event else ""
                progress.console.print(
                    f"epoch {event['epoch']}: loss {event['loss']:.3f} acc {event['acc']:.3f} "
                    f"lr {event['lr']:.2e} {event['time_s']:.0f}s{val}"
                )

        weights = run_training(cfg, train, out, _device(device), extra_records, on_event, resume)
    typer.echo(str(weights))


def evaluate_reid(
    data: Annotated[Path, typer.Option(help="Market-1501 root: query/ against bounding_box_test/.")],
    weights: Annotated[Path, typer.Option(help="reid.safetensors (with reid.json beside it).")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the scores to this JSON file.")] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:N or auto.")] = "auto",
    batch_size: Annotated[int, typer.Option(help="Images per forward pass.")] = 128,
    flip: Annotated[bool, typer.Option(help="Average features of each image and its mirror.")] = True,
    threads: Annotated[int | None, typer.Option(help="torch CPU threads (default: torch's choice).")] = None,
) -> None:
    """Market-1501 protocol (same-id same-camera and junk excluded): rank-1/5/10 and mAP."""
    import torch

    from diaflow_core.reid import evaluate_reid as run_evaluation

    if threads:
        torch.set_num_threads(threads)
    with Progress(
        TextColumn("features"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("features", total=None)
        scores = run_evaluation(
            weights, data, _device(device), batch_size, flip, progress=lambda n: progress.advance(task, n)
        )
    table = Table(title=f"re-ID on {data}")
    for key in ("rank1", "rank5", "rank10", "mAP"):
        table.add_column(key, justify="right")
    table.add_column("query / gallery", justify="right")
    table.add_row(
        *(f"{100 * scores[k]:.2f}" for k in ("rank1", "rank5", "rank10", "mAP")),
        f"{scores['num_query']} / {scores['num_gallery']}",
    )
    Console().print(table)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(scores, indent=2, sort_keys=True))
