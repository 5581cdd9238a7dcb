"""``reid-augment augment`` and ``reid-augment demo``: validate, call the pipeline, render with rich."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from diaflow_core.errors import WeightsError
from diaflow_core.weights import DEFAULT_GENERATOR
from reid_augment.augment import AugmentConfig, Transfer, run_augment
from reid_augment.cli.augment_progress import augment_progress, summary_table
from reid_augment.pose_backends import make_pose_backend, pose_backend_for
from reid_augment.sources import discover_sources
from reid_augment.targets import folder_pose_pool, load_targets
from reid_augment.video import video_pose_pool

from .common import FLIP_AVERAGE_HELP, GENERATOR_NAME_HELP
from .common import device_name as _device

__all__ = ["augment", "backend_options", "demo", "transfer_model"]

console = Console(stderr=True)


class Flow(StrEnum):
    learned = "learned"
    analytic = "analytic"


class Layout(StrEnum):
    market = "market"
    per_id = "per-id"


class Originals(StrEnum):
    copy = "copy"
    link = "link"
    none = "none"


class Backend(StrEnum):
    auto = "auto"
    annotations = "annotations"
    mediapipe = "mediapipe"
    yolo = "yolo"
    mmpose = "mmpose"


class Views(StrEnum):
    any = "any"
    same = "same"
    other = "other"


class DetectorName(StrEnum):
    hog = "hog"
    yolo = "yolo"


def transfer_model(
    flow: Flow,
    weights: Path | None,
    device: str,
    generator: bool,
    precision: str = "auto",
    generator_name: str = DEFAULT_GENERATOR,
    flip_average: bool = False,
) -> tuple[Transfer, str]:
    """The pose-transfer model and the flow label for the manifest."""
    if not generator:
        from reid_augment.warp_transfer import ProxyWarpTransfer

        return ProxyWarpTransfer(), "analytic-warp"
    try:
        from diaflow_core.infer import PoseTransfer
    except ImportError as e:
        raise WeightsError(f"the pose-transfer model is not available in this build ({e})") from None
    model = PoseTransfer.load(
        weights,
        flow=flow.value,
        device=device,
        precision=precision,
        generator_name=generator_name,
        flip_average=flip_average,
    )
    return model, flow.value


def backend_options(device: str, yolo_weights: str, mmpose_config: str | None, mmpose_checkpoint: str | None):
    return {"device": device, "weights": yolo_weights, "config": mmpose_config, "checkpoint": mmpose_checkpoint}


def augment(
    source: Annotated[
        Path, typer.Argument(help="Market-1501 root, a <pid>/ folder tree, or a folder of Market-named crops.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output root (created; existing files are never replaced).")],
    per_image: Annotated[int, typer.Option("--per-image", "-k", help="Samples per source image.")] = 4,
    poses: Annotated[
        str,
        typer.Option(
            help="Target poses: 'bank' (shipped), 'dataset' (other people of SOURCE), a pose file "
            "(.npz bank / .npy / .json / keypoint .csv), a driving video, or another dataset folder."
        ),
    ] = "bank",  # fmt: skip
    pose_backend: Annotated[
        Backend, typer.Option(help="Source poses: auto = the dataset's keypoint CSV when present, else mediapipe.")
    ] = Backend.auto,
    annotations: Annotated[
        list[Path] | None, typer.Option(help="Keypoint CSV(s) for the annotations backend (default: found in SOURCE).")
    ] = None,
    flow: Annotated[
        Flow, typer.Option(help="Flow for the generator: learned (flow network) or analytic (3D proxy).")
    ] = Flow.learned,
    generator: Annotated[
        bool,
        typer.Option("--generator/--no-generator", help="--no-generator: analytic proxy-body warp only, no weights."),
    ] = True,
    weights: Annotated[Path | None, typer.Option(help="Model weights (default: the ones shipped).")] = None,
    generator_name: Annotated[str, typer.Option(help=GENERATOR_NAME_HELP)] = DEFAULT_GENERATOR,
    flip_average: Annotated[bool, typer.Option(help=FLIP_AVERAGE_HELP)] = False,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:N or auto.")] = "auto",
    precision: Annotated[
        str,
        typer.Option(
            help="Model precision: auto (bf16 on CUDA and on CPUs with native bf16, else fp32), fp32 or bf16."
        ),
    ] = "auto",
    batch_size: Annotated[int, typer.Option(help="Images per transfer batch.")] = 16,
    seed: Annotated[int, typer.Option(help="Seed of the target-pose choice.")] = 0,
    views: Annotated[
        Views,
        typer.Option(
            help="Target view classes (front / back / side) against the source's: same (new body poses, no turn "
            "around; keeps identity best), any (all three in turn), other (only view changes)."
        ),
    ] = Views.same,  # fmt: skip
    layout: Annotated[
        Layout, typer.Option(help="market: OUT is a Market-1501 root; per-id: OUT/<pid>/.")
    ] = Layout.market,
    originals: Annotated[
        Originals, typer.Option(help="Put the original images (and query/test) in OUT by copy, link, or not.")
    ] = Originals.copy,
    limit: Annotated[int | None, typer.Option(help="Only the first N source images (trials).")] = None,
    video_step: Annotated[int, typer.Option(help="Driving video: every N-th frame.")] = 2,
    yolo_weights: Annotated[str, typer.Option(help="YOLO-pose weights file (yolo backend).")] = "yolo11n-pose.pt",
    mmpose_config: Annotated[str | None, typer.Option(help="MMPose model config (mmpose backend).")] = None,
    mmpose_checkpoint: Annotated[str | None, typer.Option(help="MMPose checkpoint (mmpose backend).")] = None,
) -> None:
    """Re-pose every source image into K target poses; OUT is a drop-in re-ID dataset with a manifest."""
    dev = _device(device)
    found = discover_sources(source, layout.value)
    opts = backend_options(dev, yolo_weights, mmpose_config, mmpose_checkpoint)
    backend = pose_backend_for(pose_backend.value, list(annotations or found.annotation_csvs), **opts)
    # Videos and image folders need an image-based estimator even when sources use their CSV.
    image_backend = backend if backend.name != "annotations" else make_pose_backend("mediapipe")
    targets = load_targets(
        poses,
        video_poses=lambda p: video_pose_pool(p, image_backend, step=video_step),
        folder_poses=lambda p: folder_pose_pool(p, image_backend),
    )
    transfer, flow_label = transfer_model(flow, weights, dev, generator, precision, generator_name, flip_average)
    config = AugmentConfig(
        source=source, out=out, per_image=per_image, layout=layout.value, originals=originals.value,
        batch_size=batch_size, seed=seed, views=views.value, limit=limit, flow_label=flow_label,
    )  # fmt: skip
    console.print(
        f"source: {found.kind}, {len(found.images)} images; poses: "
        f"{'dataset' if targets is None else targets.description}; backend: {backend.name}; flow: {flow_label}"
        + (f"; precision: {transfer.precision}" if hasattr(transfer, "precision") else "")
    )
    with augment_progress(console) as on_event:
        summary = run_augment(config, transfer, backend, targets, on_event)
    console.print(summary_table(summary))


def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (a small Market-1501 root).")] = Path(
        "reid-augment-demo"
    ),
    image: Annotated[
        Path | None, typer.Option(help="A frame with people (default: a generated street scene; no data needed).")
    ] = None,
    per_image: Annotated[int, typer.Option("--per-image", "-k", help="Samples per person.")] = 4,
    poses: Annotated[str, typer.Option(help="Target poses (as for augment; default: the shipped bank).")] = "bank",
    detector: Annotated[DetectorName, typer.Option(help="Person detector for --image.")] = DetectorName.hog,
    pose_backend: Annotated[Backend, typer.Option(help="Pose estimator for the crops.")] = Backend.mediapipe,
    flow: Annotated[Flow, typer.Option(help="learned or analytic flow for the generator.")] = Flow.learned,
    weights: Annotated[Path | None, typer.Option(help="Model weights (default: the ones shipped).")] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:N or auto.")] = "auto",
    seed: Annotated[int, typer.Option(help="Scene and pose-choice seed.")] = 0,
    yolo_weights: Annotated[str, typer.Option(help="YOLO weights (yolo detector / backend).")] = "yolo11n-pose.pt",
) -> None:
    """Detect, crop, pose and re-pose the people of one frame; no dataset or network needed."""
    from reid_augment.demo import run_demo
    from reid_augment.detect import make_detector

    dev = _device(device)
    if pose_backend in (Backend.auto, Backend.annotations):
        pose_backend = Backend.mediapipe  # a frame has no keypoint CSV
    backend = make_pose_backend(pose_backend.value, **backend_options(dev, yolo_weights, None, None))
    det = make_detector(
        detector.value, **({"weights": yolo_weights, "device": dev} if detector == DetectorName.yolo else {})
    )
    try:
        transfer, flow_label = transfer_model(flow, weights, dev, True)
    except WeightsError as e:
        console.print(f"[yellow]no generator weights ({e}); showing the analytic proxy-body warp only[/]")
        transfer, flow_label = transfer_model(flow, weights, dev, False)
    targets = load_targets(
        poses, video_poses=lambda p: video_pose_pool(p, backend), folder_poses=lambda p: folder_pose_pool(p, backend)
    )
    with augment_progress(console) as on_event:
        result = run_demo(
            out, transfer, backend, det, image=image, targets=targets, per_image=per_image,
            flow_label=flow_label, seed=seed, on_event=on_event,
        )  # fmt: skip
    console.print(summary_table(result.augment))
    src = "generated street scene" if image is None else str(image)
    console.print(
        f"{result.people} people from the {src} ({result.detected} found by the {det.name} detector"
        + (f", {result.known_poses} poses taken from the scene generator" if result.known_poses else "")
        + ")"
    )
    typer.echo(f"demo written to {os.fspath(out)} (frame: {result.frame.name}, preview: preview.png)")
