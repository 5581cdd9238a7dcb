"""``reid-augment reid-experiment`` (does augmentation help re-ID?) and ``reid-augment evaluate identity``
(do generated samples keep their identity?): thin wrappers over ``diaflow_core.reid.experiment``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from diaflow_core.errors import ConfigError

from .reid_cmd import _device, _load_recipe

__all__ = ["DEFAULT_RECIPE", "evaluate_identity", "reid_experiment"]

console = Console(stderr=True)
# The experiment's recipe in a source checkout (recipes/ is not part of the installed package).
DEFAULT_RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "reid_market1501.yaml"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.replace(" ", "").split(",") if s]
    except ValueError as exc:
        raise ConfigError(f"--seeds must be integers separated by commas, e.g. 0,1; got {text!r}") from exc
    if not seeds:
        raise ConfigError("--seeds is empty")
    return seeds


def _identity_table(title: str, scores: dict[str, Any]) -> Table:
    table = Table(title=title)
    for col in ("queries", "rank1", "rank5", "mAP", "cos same id", "cos other ids"):
        table.add_column(col, justify="right")
    for label, key in (("generated", "generated"), ("real (reference)", "real_reference")):
        s = scores[key]
        table.add_row(
            f"{label}: {s['num_query']}",
            _pct(s["rank1"]),
            _pct(s["rank5"]),
            _pct(s["mAP"]),
            f"{s['cos_same']:.3f}",
            f"{s['cos_other']:.3f}",
        )
    return table


def evaluate_identity(
    data: Annotated[Path, typer.Option(help="Market-1501 root: its bounding_box_train/ is the real gallery.")],
    generated: Annotated[Path, typer.Option(help="Augmented root written by `reid-augment augment` (manifest.csv).")],
    weights: Annotated[Path, typer.Option(help="reid.safetensors (with reid.json beside it).")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the scores to this JSON file.")] = None,
    unseen_only: Annotated[
        bool,
        typer.Option(help="Only identities the model was not trained on (its held-out ones), when there are any."),
    ] = True,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:N or auto.")] = "auto",
    batch_size: Annotated[int, typer.Option(help="Images per forward pass.")] = 128,
    threads: Annotated[int | None, typer.Option(help="torch CPU threads (default: torch's choice).")] = None,
) -> None:
    """Generated samples as queries against the real images of their identities (source left out):
    rank-1 / mAP and cosine similarity to the own identity vs to others, beside the same scores of real images."""
    import torch

    from diaflow_core.reid.experiment import identity_report

    if threads:
        torch.set_num_threads(threads)
    scores = identity_report(weights, data, generated, _device(device), batch_size, unseen_only=unseen_only)
    ids = "identities the model never trained on" if scores["unseen_ids"] else "training identities (seen)"
    Console().print(_identity_table(f"identity preservation: {scores['identities']} {ids}", scores))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(scores, indent=2, sort_keys=True))


def _summary_table(report: dict[str, Any]) -> Table:
    table = Table(title="re-ID augmentation experiment: query vs bounding_box_test (%)")
    for col in ("arm", "seeds", "rank-1 mean", "rank-1 std", "mAP mean", "mAP std", "per seed mAP"):
        table.add_column(col, justify="right")
    summary = report["summary"]
    rows = [("(a) baseline", summary["baseline"]), ("(b) augmented", summary["augmented"])]
    if "repeated" in summary:
        rows.append(("(c) control, sources repeated", summary["repeated"]))
    rows.append(("(b) - (a), paired", summary["difference"]))
    if "difference_control" in summary:
        rows.append(("(b) - (c), paired", summary["difference_control"]["augmented_minus_repeated"]))
        rows.append(("(c) - (a), paired", summary["difference_control"]["repeated_minus_baseline"]))
    for label, s in rows:
        per_seed = ", ".join(_pct(v) for v in s["mAP"]["values"])
        table.add_row(
            label,
            ",".join(str(x) for x in s["seeds"]),
            _pct(s["rank1"]["mean"]),
            _pct(s["rank1"]["std"]),
            _pct(s["mAP"]["mean"]),
            _pct(s["mAP"]["std"]),
            per_seed,
        )
    return table


def reid_experiment(
    data: Annotated[Path, typer.Option(help="Market-1501 root (train, query, bounding_box_test).")],
    augmented: Annotated[Path, typer.Option(help="Augmented root written by `reid-augment augment`.")],
    out: Annotated[Path, typer.Option(help="Experiment folder: OUT/seed{S}/{baseline,augmented}/ runs.")],
    seeds: Annotated[str, typer.Option(help="Seeds, comma separated; both arms use each.")] = "0,1",
    epochs: Annotated[int | None, typer.Option(help="Epochs (default: the recipe's).")] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:N or auto.")] = "auto",
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the report to this JSON file.")] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML recipe of ReidTrainConfig fields (default: recipes/reid_market1501.yaml).")
    ] = None,
    arms: Annotated[
        str,
        typer.Option(
            help="Arms to run now: baseline,augmented (or one of them); add 'repeated' for the control arm (c): "
            "each generated sample replaced by another copy of its source image (same steps, real pixels)."
        ),
    ] = "baseline,augmented",
    select: Annotated[
        str, typer.Option(help="Checkpoint: best_val (best held-out-training-id mAP) or last.")
    ] = "best_val",
    identity: Annotated[bool, typer.Option(help="Identity preservation with each seed's arm-a model.")] = True,
    val_fraction: Annotated[float | None, typer.Option(help="Share of training ids held out (recipe's).")] = None,
    workers: Annotated[int | None, typer.Option(help="Data loader worker processes.")] = None,
    max_generated: Annotated[
        int | None,
        typer.Option(
            help="Arms b/c: at most M generated images among each identity's K per batch, at arm a's step count "
            "(default: generated images drawn like real ones, more steps)."
        ),
    ] = None,
    generated_smoothing: Annotated[
        float | None,
        typer.Option(
            help="Arms b/c: label smoothing of the CE for generated images, 0..1 (1 = uniform, LSRO); "
            "default: the recipe's label_smoothing, as for real images."
        ),
    ] = None,
    threads: Annotated[int | None, typer.Option(help="torch CPU threads (default: torch's choice).")] = None,
    batch_size: Annotated[int, typer.Option(help="Images per forward pass in evaluation.")] = 128,
    time_budget: Annotated[
        float | None, typer.Option(help="Seconds: skip an arm that the speed so far says would not fit.")
    ] = None,
    summarize_only: Annotated[
        bool, typer.Option(help="Train nothing: gather the finished arms under OUT into the report.")
    ] = False,
) -> None:
    """Train the same re-ID recipe with the same seeds on (a) bounding_box_train and (b) it plus the generated
    samples; report query-vs-test rank-1 / mAP per seed, mean, std and the paired difference b - a."""
    import torch

    from diaflow_core.reid import ReidTrainConfig
    from diaflow_core.reid.experiment import run_augmentation_experiment, summarize_experiment

    seed_list = _seeds(seeds)
    if summarize_only:
        report = summarize_experiment(out, seed_list)
    else:
        if threads:
            torch.set_num_threads(threads)
        recipe = config if config is not None else DEFAULT_RECIPE
        if not recipe.is_file():
            raise ConfigError(f"recipe {recipe} not found; pass --config")
        fields = _load_recipe(recipe)
        options = {
            "epochs": epochs,
            "val_fraction": val_fraction,
            "workers": workers,
            "max_generated": max_generated,
            "generated_smoothing": generated_smoothing,
        }
        fields.update({k: v for k, v in options.items() if v is not None})
        cfg = ReidTrainConfig.from_dict(fields)
        arm_list = [a.strip() for a in arms.split(",") if a.strip()]

        def on_event(event: dict[str, Any]) -> None:
            kind, tag = event["event"], f"seed {event.get('seed')} {event.get('arm')}"
            if kind == "arm_start":
                console.print(f"[bold]{tag}[/]: {event['images']} training images")
            elif kind == "start":
                console.print(
                    f"{tag}: {event['images']} images ({event['extra_images']} generated), {event['classes']} ids, "
                    f"{event['iters_per_epoch']} it/epoch, val {event['val_query']} q / {event['val_gallery']} g, "
                    f"triplet: {event.get('triplet_backend')}"
                )
            elif kind == "epoch":
                val = f" val rank1 {event['val_rank1']:.3f} mAP {event['val_mAP']:.3f}" if "val_mAP" in event else ""
                console.print(
                    f"{tag} epoch {event['epoch']}: loss {event['loss']:.3f} acc {event['acc']:.3f} "
                    f"{event['time_s']:.1f}s{val}"
                )
            elif kind == "test":
                console.print(f"{tag} TEST: rank1 {_pct(event['rank1'])} mAP {_pct(event['mAP'])}")
            elif kind == "identity":
                g, r = event["generated"], event["real_reference"]
                console.print(
                    f"{tag} identity: generated rank1 {_pct(g['rank1'])} mAP {_pct(g['mAP'])} "
                    f"(real {_pct(r['rank1'])} / {_pct(r['mAP'])})"
                )
            elif kind in ("arm_reused", "arm_skipped"):
                console.print(f"{tag}: {kind.removeprefix('arm_')} {event.get('reason', '')}")

        report = run_augmentation_experiment(
            data, augmented, out, seed_list, cfg, _device(device), on_event,
            arms=arm_list, select=select, identity=identity, time_budget_s=time_budget,
            batch_size=batch_size, json_path=json_out,
        )  # fmt: skip
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report, indent=2, sort_keys=True))
    Console().print(_summary_table(report))
    for entry in report["identity"]:
        if "generated" in entry:
            ids = "held-out" if entry.get("unseen_ids") else "seen"
            Console().print(_identity_table(f"seed {entry['seed']}: identity, {entry['identities']} {ids} ids", entry))
    goal = report["goal"]
    state = "complete" if report["complete"] else "INCOMPLETE"
    gain = "-" if goal["gain_mAP_points"] is None else f"{goal['gain_mAP_points']:+.2f}"
    console.print(f"{state}; mAP gain b - a: {gain} points (goal >= {goal['mAP_points']:.0f})")
