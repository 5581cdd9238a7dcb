"""``reid-augment evaluate transfer``: pose-transfer quality on the Market-1501 test pairs (thin wrapper)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from diaflow_core.weights import DEFAULT_GENERATOR

from .common import FLIP_AVERAGE_HELP, GENERATOR_NAME_HELP, market_root
from .common import device_name as _device

console = Console(stderr=True)

_COLUMNS = (
    ("ssim", "SSIM", "{:.4f}"),
    ("ssim_gaussian", "SSIM g1.5", "{:.4f}"),
    ("masked_ssim", "mSSIM", "{:.4f}"),
    ("masked_ssim_gaussian", "mSSIM g1.5", "{:.4f}"),
    ("psnr", "PSNR", "{:.2f}"),
    ("l1", "L1", "{:.4f}"),
    ("lpips", "LPIPS", "{:.4f}"),
    ("fid", "FID", "{:.2f}"),
    ("inception_score", "IS", "{:.3f}"),
)


def _model_method(
    weights: Path | None,
    device: str,
    precision: str,
    generator_name: str = DEFAULT_GENERATOR,
    flip_average: bool = False,
) -> tuple[Any | None, dict[str, Any] | None, str | None]:
    """The trained model as a Method plus its weights' provenance, or None and why not."""
    try:
        from diaflow_core.infer import PoseTransfer
    except ImportError as exc:
        return None, None, f"model weights not available (diaflow_core.infer cannot be imported: {exc})"
    from diaflow_core.errors import DiaflowError

    try:
        model = PoseTransfer.load(
            weights, device=device, precision=precision, generator_name=generator_name, flip_average=flip_average
        )
    except (DiaflowError, OSError) as exc:
        if weights is not None or generator_name != DEFAULT_GENERATOR:
            raise  # asked for by path or by name: a missing file is an error, not a skipped row
        return None, None, f"model weights not available ({exc})"

    def method(batch: dict[str, Any]) -> Any:
        return model.transfer(batch["src"], batch["src_kp"], batch["tgt_kp"])

    return method, model.provenance, None


def _parse_variants(specs: list[str]) -> dict[str, Path]:
    """``NAME=FOLDER`` options -> {name: folder}; names must be new and not clash with the built-in methods."""
    from diaflow_core.errors import ConfigError
    from diaflow_core.evaluation.baselines import BASELINES

    out: dict[str, Path] = {}
    for spec in specs:
        name, sep, folder = spec.partition("=")
        name = name.strip()
        if not sep or not name or not folder:
            raise ConfigError(f"--variant {spec!r}: expected NAME=FOLDER (a folder of .safetensors weights)")
        if name in out or name == "model" or name in BASELINES:
            raise ConfigError(f"--variant {spec!r}: the name {name!r} is already taken")
        out[name] = Path(folder)
    return out


def _advance(progress: Progress, task: TaskID) -> Callable[[int, int], None]:
    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return update


def evaluate_transfer(
    data: Annotated[
        Path | None,
        typer.Option(help="Market-1501 root (default: $DIAFLOW_MARKET or ../shared/data/market1501)."),
    ] = None,
    weights: Annotated[
        Path | None, typer.Option(help="Trained model folder (default: the shipped weights, when present).")
    ] = None,
    generator_name: Annotated[
        str, typer.Option(help=f"{GENERATOR_NAME_HELP} The model's only: --variant folders use generator.")
    ] = DEFAULT_GENERATOR,
    variant: Annotated[
        list[str] | None,
        typer.Option(
            help="Also evaluate NAME=FOLDER, another trained variant's weights folder, in the same run (repeatable)."
        ),
    ] = None,
    baselines: Annotated[bool, typer.Option(help="Also evaluate copy_source and analytic_flow_warp.")] = True,
    limit: Annotated[int | None, typer.Option(help="Evaluate only the first N test pairs.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report to this JSON file.")] = None,
    grid: Annotated[Path | None, typer.Option(help="Write a PNG grid: source, target, each method.")] = None,
    inception_weights: Annotated[
        Path | None, typer.Option(help="torchvision inception_v3 state dict: enables FID and IS.")
    ] = None,
    alexnet_weights: Annotated[
        Path | None, typer.Option(help="torchvision alexnet state dict: the LPIPS backbone.")
    ] = None,
    lpips_weights: Annotated[
        Path | None, typer.Option(help="LPIPS v0.1 linear layers (alex.pth): enables LPIPS with --alexnet-weights.")
    ] = None,
    fid_stats: Annotated[
        Path | None, typer.Option(help="Cache (.npz) of the training-set Inception statistics for FID.")
    ] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:N or auto.")] = "auto",
    batch_size: Annotated[int, typer.Option(help="Pairs per batch.")] = 32,
    precision: Annotated[
        str,
        typer.Option(
            help="Model precision: auto (bf16 on CUDA and on CPUs with native bf16, else fp32), fp32 or bf16."
        ),
    ] = "auto",
    flip_average: Annotated[bool, typer.Option(help=f"Model and variants. {FLIP_AVERAGE_HELP}")] = False,
) -> None:
    """SSIM (skimage default and Gaussian), masked SSIM, PSNR, L1 (+ FID, IS, LPIPS with weights) on the test pairs."""
    from diaflow_core.errors import ConfigError
    from diaflow_core.evaluation import (
        TransferMetricsConfig,
        available_baselines,
        hardware_info,
        load_test_pairs,
        prepare_network_metrics,
        transfer_summary,
        write_grid,
        write_transfer_json,
    )
    from diaflow_core.evaluation import evaluate_transfer as run_evaluation
    from diaflow_core.precision import resolve_precision

    variants = _parse_variants(variant or [])  # before any loading: a typo fails in a second
    root = market_root(data)
    dev = _device(device)
    t0 = time.perf_counter()
    test = load_test_pairs(root)
    methods: dict[str, Any] = {}
    provenance: dict[str, dict[str, Any]] = {}
    skipped_methods: dict[str, str] = {}
    model, prov, why = _model_method(weights, dev, precision, generator_name, flip_average)
    if model is not None:
        methods["model"], provenance["model"] = model, prov or {}
    else:
        skipped_methods["model"] = str(why)
        console.print(f"[yellow]{why}[/]")
    for name, folder in variants.items():
        methods[name], prov, _ = _model_method(folder, dev, precision, flip_average=flip_average)  # errors raised
        provenance[name] = prov or {}
    if baselines:
        usable, not_usable = available_baselines()
        methods.update(usable)
        skipped_methods.update(not_usable)
    if not methods:
        raise ConfigError("nothing to evaluate: no model weights and --no-baselines")
    config = TransferMetricsConfig(
        inception_weights=inception_weights,
        alexnet_weights=alexnet_weights,
        lpips_weights=lpips_weights,
        fid_real_stats=fid_stats,
    )
    n = min(len(test.pairs), limit) if limit is not None else len(test.pairs)
    console.print(f"{n} of {test.listed} listed pairs ({len(test.pairs)} with both images) from {test.image_folder}")
    networks = prepare_network_metrics(config, root, dev, batch_size)
    for metric, reason in networks.skipped.items():
        console.print(f"[yellow]{metric} skipped: {reason}[/]")
    reports = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        for name, method in methods.items():
            task = progress.add_task(name, total=n)
            reports.append(
                run_evaluation(
                    method,
                    test.pairs,
                    root,
                    test.annotations,
                    batch_size=batch_size,
                    device=dev,
                    limit=limit,
                    progress=_advance(progress, task),
                    config=config,
                    networks=networks,
                    name=name,
                )
            )
    shown = [c for c in _COLUMNS if any(c[0] in r.means for r in reports)]
    table = Table(title=f"pose transfer on {n} Market-1501 test pairs")
    table.add_column("method")
    for _, label, _ in shown:
        table.add_column(label, justify="right")
    table.add_column("s", justify="right")
    for r in reports:
        cells = [fmt.format(r.means[k]) if k in r.means else "-" for k, _, fmt in shown]
        table.add_row(r.method, *cells, f"{r.wall_s:.0f}")
    Console().print(table)
    for name, reason in skipped_methods.items():
        console.print(f"{name}: not evaluated ({reason})")
    settings = {
        **config.describe(),
        "pairs_csv": test.pairs_csv,
        "pairs_listed": test.listed,
        "pairs_present": len(test.pairs),
        "limit": limit,
        "batch_size": batch_size,
        "weights": str(weights) if weights else None,
        "variants": {k: str(v) for k, v in variants.items()},
        "precision": resolve_precision(precision, dev),
        "flip_average": flip_average,
    }
    summary = transfer_summary(
        reports, "model" if "model" in methods else None, settings, skipped_methods, hardware_info(dev),
        time.perf_counter() - t0, provenance,
    )  # fmt: skip
    if json_out is not None:
        console.print(f"report: {write_transfer_json(json_out, summary)}")
    if grid is not None:
        console.print(f"grid: {write_grid(grid, root, reports)}")
