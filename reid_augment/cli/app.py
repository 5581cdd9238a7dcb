"""The `reid-augment` Typer application: registers one sub-app per command group."""

from __future__ import annotations

import os
import sys
import tempfile

import typer

# Offline guards before any third-party import that may phone home.
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", os.path.join(tempfile.gettempdir(), "diaflow_yolo_cfg"))

from diaflow_core import __version__  # noqa: E402
from diaflow_core.errors import DiaflowError  # noqa: E402

from . import (  # noqa: E402
    augment_cmd,
    bench_cmd,
    eval_cmd,
    flow_cmd,
    flow_eval_cmd,
    info,
    poses_cmd,
    prepare_cmd,
    reid_cmd,
    reid_experiment_cmd,
    repose_cmd,
    select_cmd,
    train_cmd,
    weights_cmd,
)

app = typer.Typer(
    name="reid-augment",
    help="Person re-ID data augmentation by pose transfer (dense intrinsic appearance flow).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"reid-augment {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    if debug:
        os.environ["DIAFLOW_DEBUG"] = "1"


app.command("info", help="Versions, device, usable pose backends, weights found, data roots.")(info.info)

train_app = typer.Typer(help="Train a model stage from a YAML recipe.", no_args_is_help=True)
train_app.command("flow")(train_cmd.train_flow)
train_app.command("generator")(train_cmd.train_generator)
train_app.command("reid")(reid_cmd.train_reid)
app.add_typer(train_app, name="train")

evaluate_app = typer.Typer(help="Measure a model on the standard protocol.", no_args_is_help=True)
evaluate_app.command("reid")(reid_cmd.evaluate_reid)
evaluate_app.command("identity")(reid_experiment_cmd.evaluate_identity)
evaluate_app.command("flow")(flow_eval_cmd.evaluate_flow)
evaluate_app.command("transfer")(eval_cmd.evaluate_transfer)
app.add_typer(evaluate_app, name="evaluate")

app.command("augment", help="Write pose-transferred samples of every identity into a re-ID dataset folder.")(
    augment_cmd.augment
)
app.command("demo", help="The main job on an embedded scene: no dataset, no network.")(augment_cmd.demo)
app.command("prepare", help="Your own footage -> a Market-style training root: tracked people, crops, keypoints.")(
    prepare_cmd.prepare
)
app.command("repose", help="Tracklets in new motion: every identity re-posed through a driving clip's poses.")(
    repose_cmd.repose
)
app.command(
    "reid-experiment", help="Does the augmentation help re-ID? Same recipe and seeds with and without the samples."
)(reid_experiment_cmd.reid_experiment)

app.command("select", help="Keep the generated samples a re-ID teacher still recognises as their own identity.")(
    select_cmd.select_samples_cmd
)

flow_app = typer.Typer(help="Proxy-body flow ground truth and the flow regressor.", no_args_is_help=True)
flow_app.command("show")(flow_cmd.flow_show)
app.add_typer(flow_app, name="flow")

poses_app = typer.Typer(help="Target-pose banks.", no_args_is_help=True)
poses_app.command("build")(poses_cmd.poses_build)
poses_app.command("show")(poses_cmd.poses_show)
app.add_typer(poses_app, name="poses")

app.command("bench", help="Throughput ratios against a baseline measured in the same run; params and GFLOPs.")(
    bench_cmd.bench
)

weights_app = typer.Typer(help="Manage model weights.", no_args_is_help=True)
weights_app.command("export")(weights_cmd.export)
app.add_typer(weights_app, name="weights")


def main() -> None:
    """Console entry point: library errors become one red line and exit code 1."""
    try:
        app()
    except DiaflowError as exc:
        if os.environ.get("DIAFLOW_DEBUG"):
            raise
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
