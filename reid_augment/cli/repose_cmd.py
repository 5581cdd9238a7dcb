"""``reid-augment repose``: every identity re-posed through a driving clip's poses, in order (tracklets)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from diaflow_core.errors import DataError
from diaflow_core.weights import DEFAULT_GENERATOR
from reid_augment.pose_backends import make_pose_backend, pose_backend_for
from reid_augment.repose import ReposeConfig, ReposeEvent, run_repose
from reid_augment.sources import discover_sources
from reid_augment.targets import VIDEO_EXTENSIONS, load_targets
from reid_augment.video import video_poses

from .augment_cmd import Backend, Flow, backend_options, transfer_model
from .common import FLIP_AVERAGE_HELP, GENERATOR_NAME_HELP, device_name

__all__ = ["repose"]

console = Console(stderr=True)


def _driving(spec: Path, backend_name: str, step: int, max_frames: int, options: dict) -> list:
    """(frame, pose) in time order: a video's frames with a person, or a pose file's poses in file order."""
    if spec.suffix.lower() in VIDEO_EXTENSIONS:
        backend = make_pose_backend("mediapipe" if backend_name in ("auto", "annotations") else backend_name, **options)
        poses = video_poses(spec, backend, step=step, max_frames=max_frames)
        if not poses:
            raise DataError(f"{spec}: no person pose found in the driving video with the {backend.name} backend")
        return poses
    pool = load_targets(os.fspath(spec))
    if pool is None or not pool.entries:
        raise DataError(f"{spec}: no driving pose")
    return [(i, e.kp) for i, e in enumerate(pool.entries[:max_frames])]


def repose(
    source: Annotated[
        Path, typer.Argument(help="What augment reads: a Market root, a <pid>/ tree, Market-named crops.")
    ],
    driving: Annotated[Path, typer.Option(help="Driving video (or pose file): its poses, in order.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: OUT/<pid>/ tracklets, OUT/<pid>.mp4.")],
    ids: Annotated[
        list[int] | None, typer.Option("--id", help="Identity to re-pose (repeatable; default: all).")
    ] = None,
    max_ids: Annotated[int | None, typer.Option(help="At most this many identities (lowest ids first).")] = None,
    step: Annotated[int, typer.Option(help="Driving video: every N-th frame.")] = 2,
    max_frames: Annotated[int, typer.Option(help="Driving frames used, from the start.")] = 48,
    pose_backend: Annotated[Backend, typer.Option(help="Source poses (auto: the dataset's CSV, else mediapipe).")] = (
        Backend.auto
    ),
    flow: Annotated[Flow, typer.Option(help="learned (flow network) or analytic (3D proxy).")] = Flow.learned,
    weights: Annotated[Path | None, typer.Option(help="Model weights (default: the ones shipped).")] = None,
    generator_name: Annotated[str, typer.Option(help=GENERATOR_NAME_HELP)] = DEFAULT_GENERATOR,
    flip_average: Annotated[bool, typer.Option(help=FLIP_AVERAGE_HELP)] = False,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:N or auto.")] = "auto",
    precision: Annotated[str, typer.Option(help="auto, fp32 or bf16.")] = "auto",
    batch_size: Annotated[int, typer.Option(help="Frames per transfer batch.")] = 16,
    video: Annotated[bool, typer.Option("--video/--no-video", help="Also write OUT/<pid>.mp4 previews.")] = True,
    fps: Annotated[float, typer.Option(help="Preview video frame rate.")] = 10.0,
    yolo_weights: Annotated[str, typer.Option(help="YOLO-pose weights file (yolo backend).")] = "yolo11n-pose.pt",
) -> None:
    """Re-pose every identity through a driving clip's poses, in their order: generated tracklets."""
    dev = device_name(device)
    opts = backend_options(dev, yolo_weights, None, None)
    found = discover_sources(source, "per-id")
    backend = pose_backend_for(pose_backend.value, list(found.annotation_csvs), **opts)
    frames = _driving(driving, pose_backend.value, step, max_frames, opts)
    transfer, flow_label = transfer_model(flow, weights, dev, True, precision, generator_name, flip_average)
    cfg = ReposeConfig(out=out, ids=tuple(ids or ()), max_ids=max_ids, batch_size=batch_size, video=video, fps=fps)
    console.print(f"driving: {driving.name}, {len(frames)} poses; source poses: {backend.name}; flow: {flow_label}")
    progress = Progress(
        TextColumn("[bold]repose"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("eta"),
        TimeRemainingColumn(), console=console,
    )  # fmt: skip
    with progress:
        task = progress.add_task("repose", total=None)

        def on_event(e: ReposeEvent) -> None:
            if e.kind == "start":
                progress.update(task, total=e.total)
            elif e.kind == "advance":
                progress.advance(task, e.total)

        summary = run_repose(source, cfg, transfer, backend, frames, driving.name, on_event)
    for what, why in summary.skipped:
        console.print(f"[yellow]skipped {what}: {why}[/]", soft_wrap=True)
    typer.echo(
        f"{summary.identities} identities re-posed ({summary.frames_written} frames written, "
        f"{summary.identities_done_before} done before) in {os.fspath(out)}"
    )
    if summary.identities + summary.identities_done_before == 0:
        raise typer.Exit(1)
