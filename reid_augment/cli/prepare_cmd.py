"""``reid-augment prepare``: custom footage -> a Market-style training root (tracked crops + keypoints)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from reid_augment.pose_backends import make_pose_backend
from reid_augment.prepare import PrepareConfig, PrepareEvent, PrepareSummary, run_prepare

from .augment_cmd import DetectorName, backend_options
from .common import device_name

__all__ = ["prepare"]

console = Console(stderr=True)


class PrepareBackend(StrEnum):
    mediapipe = "mediapipe"
    yolo = "yolo"
    mmpose = "mmpose"
    none = "none"


@contextmanager
def _progress() -> Iterator[Callable[[PrepareEvent], None]]:
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("eta"), TimeRemainingColumn(), console=console,
    )  # fmt: skip
    task: list[int] = []

    def on_event(e: PrepareEvent) -> None:
        if e.kind == "clip_start":
            task[:] = [progress.add_task(e.clip, total=e.total)]
        elif e.kind == "frame" and task:
            progress.advance(task[0])
        elif e.kind == "clip_failed":
            progress.console.print(f"[red]{e.clip}: {e.message}[/] (the other clips go on)")
        elif e.kind in ("clip_done", "clip_skipped", "note"):
            progress.console.print(f"{e.clip}: {e.message}")

    with progress:
        yield on_event


def _summary(s: PrepareSummary) -> Table:
    table = Table(title="prepare", show_header=False)
    for label, value in (
        ("clips done / skipped (earlier run) / failed", f"{s.clips_done} / {s.clips_skipped} / {len(s.failed)}"),
        ("frames read", s.frames),
        ("detections / too small / cut by the border", f"{s.detections} / {s.dropped_small} / {s.dropped_cut}"),
        ("tracks / too short / too few poses", f"{s.tracks} / {s.short_tracks} / {s.no_pose_tracks}"),
        ("identities", s.identities),
        ("crops written / already there", f"{s.crops} / {s.crops_kept}"),
        ("crops with a usable pose / framed by their pose", f"{s.with_pose} / {s.reframed}"),
    ):
        table.add_row(label, str(value))
    return table


def prepare(
    inputs: Annotated[
        list[Path],
        typer.Argument(help="Videos, folders of frames (Market frame names c1s1_002301.jpg group by camera), frames."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Training root to write (a rerun resumes it).")],
    camera: Annotated[
        list[int] | None, typer.Option(help="Camera number (1-9) of each input, in order; default: its position.")
    ] = None,
    detector: Annotated[DetectorName, typer.Option(help="Person detector.")] = DetectorName.hog,
    pose_backend: Annotated[
        PrepareBackend, typer.Option(help="Pose estimator for the crops (none: crops only, no keypoint CSV rows).")
    ] = PrepareBackend.mediapipe,
    step: Annotated[int, typer.Option(help="Videos: every N-th frame.")] = 1,
    min_height: Annotated[float, typer.Option(help="Smallest person height in frame pixels.")] = 80.0,
    min_track: Annotated[int, typer.Option(help="Frames a person must be followed to become an identity.")] = 4,
    per_track: Annotated[int, typer.Option(help="Crops per identity, spread evenly over its track.")] = 16,
    min_pose_fraction: Annotated[
        float, typer.Option(help="Share of an identity's crops that must show a usable pose (drops false positives).")
    ] = 0.25,
    iou: Annotated[float, typer.Option(help="Box overlap that links two processed frames.")] = 0.3,
    min_similarity: Annotated[
        float, typer.Option(help="Colour-histogram cosine (0-1) that links two processed frames; 0: overlap only.")
    ] = 0.9,
    max_gap: Annotated[int, typer.Option(help="Processed frames a track may miss before it ends.")] = 3,
    keep_cut: Annotated[bool, typer.Option(help="Keep people cut by the frame border.")] = False,
    start_pid: Annotated[int, typer.Option(help="First identity number (to append to an existing dataset).")] = 1,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:N or auto (yolo / mmpose).")] = "auto",
    yolo_weights: Annotated[str, typer.Option(help="YOLO weights (yolo detector / backend).")] = "yolo11n-pose.pt",
    mmpose_config: Annotated[str | None, typer.Option(help="MMPose model config (mmpose backend).")] = None,
    mmpose_checkpoint: Annotated[str | None, typer.Option(help="MMPose checkpoint (mmpose backend).")] = None,
) -> None:
    """Detect and track people in your own footage and write a Market-1501-style training root.

    One identity per track; crops named PPPP_cCsS_FFFFFF_BB.jpg in OUT/bounding_box_train, their keypoints in
    OUT/market-annotation-train.csv, every crop's source box in OUT/tracks.csv. Then: reid-augment augment OUT,
    or reid-augment train generator -s data.market_root=OUT.
    """
    from reid_augment.detect import make_detector

    dev = device_name(device)
    cfg = PrepareConfig(
        out=out, step=step, min_height=min_height, min_track=min_track, per_track=per_track,
        min_pose_fraction=min_pose_fraction, iou=iou, min_similarity=min_similarity, max_gap=max_gap,
        keep_cut=keep_cut, start_pid=start_pid,
    )  # fmt: skip
    det = make_detector(
        detector.value, **({"weights": yolo_weights, "device": dev} if detector == DetectorName.yolo else {})
    )
    backend = None
    if pose_backend != PrepareBackend.none:
        options = backend_options(dev, yolo_weights, mmpose_config, mmpose_checkpoint)
        backend = make_pose_backend(pose_backend.value, **options)
    with _progress() as on_event:
        summary = run_prepare(inputs, cfg, det, backend, cameras=camera or (), on_event=on_event)
    console.print(_summary(summary))
    for what, why in summary.failed:
        console.print(f"[yellow]not used: {what}: {why}[/]", soft_wrap=True)  # paths stay whole
    typer.echo(f"training root: {os.fspath(out)} ({summary.identities} new identities)")
    if summary.clips_done + summary.clips_skipped == 0 and summary.identities == 0:
        raise typer.Exit(1)
