"""``reid-augment evaluate flow``: the flow regressor on the Market-1501 test pose pairs (thin wrapper).

The ground truth is the 3D proxy body's flow between the two poses; no image is read, and the picture holds
only skeletons and colour maps (Market images must never be committed).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .common import device_name as _device
from .common import market_root

__all__ = ["evaluate_flow"]

console = Console(stderr=True)

_COLUMNS = (
    ("epe", "EPE px", "{:.3f}"),
    ("epe_visible", "EPE vis", "{:.3f}"),
    ("epe_hidden", "EPE hid", "{:.3f}"),
    ("vis_accuracy", "vis acc", "{:.4f}"),
    ("iou_visible", "IoU vis", "{:.4f}"),
    ("iou_hidden", "IoU hid", "{:.4f}"),
    ("iou_background", "IoU bg", "{:.4f}"),
)


def _radius(weights: Path, given: float | None) -> float:
    """Heatmap radius: --radius, else the sidecar's data.heatmap_radius, else the Market default 4."""
    if given is not None:
        return given
    meta = weights.with_suffix(".json")
    if weights.suffix == ".safetensors" and meta.is_file():
        return float(json.loads(meta.read_text()).get("data", {}).get("heatmap_radius", 4.0))
    return 4.0


def evaluate_flow(
    data: Annotated[
        Path | None,
        typer.Option(help="Market-1501 root (default: $DIAFLOW_MARKET or ../shared/data/market1501)."),
    ] = None,
    weights: Annotated[
        Path | None,
        typer.Option(help="Flow regressor: .safetensors with its .json sidecar, or a training .pt (default: shipped)."),
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report to this JSON file.")] = None,
    picture: Annotated[
        Path | None, typer.Option(help="PNG: skeletons, GT / predicted flow and visibility for a few pairs.")
    ] = None,
    picture_rows: Annotated[int, typer.Option(min=1, max=32, help="Pairs (rows) in --picture.")] = 6,
    limit: Annotated[int | None, typer.Option(min=1, help="Evaluate only the first N test pairs.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Pairs per batch.")] = 64,
    baselines: Annotated[bool, typer.Option(help="Also score zero flow and the per-limb affine flow.")] = True,
    radius: Annotated[
        float | None, typer.Option(help="Pose heatmap radius (default: the weights' sidecar, else 4).")
    ] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:N or auto.")] = "auto",
    precision: Annotated[
        str,
        typer.Option(
            help="Network precision: auto (bf16 on CUDA and on CPUs with native bf16, else fp32), fp32 or bf16."
        ),
    ] = "auto",
) -> None:
    """EPE and visibility accuracy / IoU of the flow regressor against the proxy body, on the test pose pairs."""
    from diaflow_core.errors import DataError
    from diaflow_core.evaluation.flow_eval import (
        evaluate_flow_model,
        flow_eval_picture,
        goal_check,
        load_test_pose_pairs,
    )
    from diaflow_core.evaluation.report import hardware_info, write_transfer_json
    from diaflow_core.train.flow_source import load_flow_regressor
    from diaflow_core.weights import find_weights

    t_start = time.perf_counter()
    root = market_root(data)
    dev = _device(device)
    weights_path = weights if weights is not None else find_weights("flow")
    assert weights_path is not None
    model = load_flow_regressor(weights_path, dev)
    rad = _radius(weights_path, radius)
    test = load_test_pose_pairs(root)
    n = min(len(test.poses), limit) if limit is not None else len(test.poses)
    pairs = list(test.poses[:n])
    console.print(
        f"{n} of {test.listed} listed pairs ({len(test.poses)} with both poses annotated); weights {weights_path}"
    )
    with Progress(
        TextColumn("flow"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("flow", total=n)
        result = evaluate_flow_model(
            model,
            pairs,
            batch_size=batch_size,
            device=dev,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
            radius=rad,
            baselines=baselines,
            precision=precision,
        )

    table = Table(title=f"flow vs proxy-body ground truth, {n} Market-1501 test pose pairs")
    table.add_column("method", no_wrap=True)
    for _, label, _ in _COLUMNS:
        table.add_column(label, justify="right")
    table.add_column("s", justify="right")
    rows: list[tuple[str, dict[str, Any], float]] = [("model", result, result["seconds"]["model"])]
    rows += [(name, r, result["seconds"][name]) for name, r in result["baselines"].items()]
    for name, r, secs in rows:
        table.add_row(name, *[fmt.format(r[k]) for k, _, fmt in _COLUMNS], f"{secs:.0f}")
    out = Console()
    Console(width=max(out.width, 110)).print(table)  # readable when piped (80 columns by default)
    goal = goal_check(result)
    verdict = "[green]met[/]" if goal["met"] else "[red]not met[/]"
    console.print(
        f"goal EPE <= {goal['epe_max']} px and vis accuracy >= {goal['vis_accuracy_min']}: {verdict} "
        f"(EPE {result['epe']:.3f}, vis accuracy {result['vis_accuracy']:.4f}); "
        f"ground truth {result['seconds']['ground_truth']:.0f} s, model {result['pairs_per_s']:.0f} pairs/s"
    )

    if picture is not None:
        picks = sorted({round(k * (n - 1) / max(picture_rows - 1, 1)) for k in range(min(picture_rows, n))})
        pic = flow_eval_picture(model, [pairs[k] for k in picks], dev, radius=rad)
        import cv2

        picture.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(picture), cv2.cvtColor(pic, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9]):
            raise DataError(f"{picture}: cannot write the picture")
        console.print(f"picture: {picture} (pairs {', '.join(f'{a}->{b}' for a, b in (test.names[k] for k in picks))})")

    if json_out is not None:
        report = {
            **result,
            "goal": goal,
            "settings": {
                "ground_truth": "3D proxy body (diaflow_core.proxy3d.compute_flow_batch, default widths, no image)",
                "pairs_csv": test.pairs_csv,
                "annotations_csv": test.annotations_csv,
                "pairs_listed": test.listed,
                "pairs_annotated": len(test.poses),
                "limit": limit,
                "batch_size": batch_size,
                "heatmap_radius": rad,
                "size": [128, 64],
                "weights": str(weights_path),
                "baseline_visibility": "target keypoints' body_mask: inside 0 (visible), outside 2 (background)",
            },
            "hardware": hardware_info(dev),
            "wall_time_s": time.perf_counter() - t_start,
        }
        console.print(f"report: {write_transfer_json(json_out, report)}")
