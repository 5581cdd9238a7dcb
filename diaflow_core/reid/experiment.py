"""Does pose-transfer augmentation help re-ID? The paired two-arm experiment of issue 7 (plus a control arm).

Protocol (one re-ID recipe, one seed list; both arms share every seed):

- arm ``baseline`` (a): train on ``bounding_box_train``;
- arm ``augmented`` (b): the same training images plus the generated samples of an augmented root
  (files ``<stem>_gNNN.jpg``, pid and camera from the name, source image from ``manifest.csv``);
- optional control arm ``repeated`` (c): the training images plus, for every generated sample, another copy of
  its SOURCE image. Arm b has more images per epoch, so more steps at the same epoch count; (c) has exactly
  b's images per identity and steps, with real pixels only (the random flip / crop / erasing still vary the
  copies), so b - c isolates what the generated pixels add beyond longer training;
- with ``val_fraction > 0`` the trainer holds out a share of the TRAINING identities (the split is a
  function of the seed, so both arms of a seed hold out the same ones; generated samples of held-out
  identities are dropped from arm b). Validation on them is the only thing that picks a checkpoint
  (``select="best_val"``: the validated epoch with the best val mAP; ``"last"``: the final epoch);
- the TEST split (``query/`` against ``bounding_box_test/``, Market protocol, junk excluded) is touched
  once per arm, for the final numbers of the selected checkpoint;
- identity preservation of the generated images, with each seed's arm-a model: generated images of the
  held-out identities (never trained on by that model) are queries against the real images of those
  identities, their own source image left out; the same score for the REAL images (each against the
  others, itself left out) is the reference it should approach. Without held-out identities every
  training identity is used and the score is marked ``unseen_ids: false`` (optimistic: the model saw them).

Run folder: ``OUT/seed{S}/{arm}/`` is a re-ID run folder (see ``trainer.py``) plus ``arm.json`` (this
arm's result, written last: an arm with an ``arm.json`` of the same config and data is reused, not
retrained; an arm without one continues from its last epoch checkpoint when its ``resume.json`` shows the same
config and data, so a long CPU run may be stopped and resumed across sessions). ``summarize_experiment(OUT)``
gathers every ``arm.json`` into the report: per seed, mean and sample std over seeds, and the paired difference
b - a. Metrics are fractions in [0, 1].
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import shutil
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from diaflow_core.fileio import replace_text

from ..errors import DataError
from .api import evaluate_reid
from .identity import identity_preservation
from .model import ReidNet
from .records import ReidRecord, market_records, parse_pid_camera, trainable, validation_split
from .trainer import ReidTrainConfig, train_reid
from .weights import load_reid_model, read_reid_meta, save_reid_weights

__all__ = [
    "ARMS",
    "DEFAULT_ARMS",
    "EXPERIMENT_FORMAT",
    "GOAL_MAP_POINTS",
    "generated_fingerprint",
    "generated_records",
    "identity_report",
    "identity_scores",
    "manifest_reader",
    "repeat_sources",
    "run_augmentation_experiment",
    "summarize_experiment",
]

ARMS: tuple[str, ...] = ("baseline", "augmented", "repeated")  # (a), (b), control (c)
DEFAULT_ARMS: tuple[str, ...] = ("baseline", "augmented")  # the experiment proper; (c) on request
ARM_LABELS = {
    "baseline": "(a) bounding_box_train",
    "augmented": "(b) bounding_box_train + generated samples of its images",
    "repeated": "(c) control: bounding_box_train + one more copy of the source image per generated sample",
}
EXPERIMENT_FORMAT = "diaflow-reid-experiment"
EXPERIMENT_VERSION = 1
GOAL_MAP_POINTS = 2.0  # issue 7: the augmented arm should gain at least 2 mAP points
SELECT_MODES = ("best_val", "last")
_GENERATED_RE = re.compile(r"^(?P<source>.+)_g(?P<index>\d{3})$")

Progress = Callable[[dict[str, Any]], None]


# --------------------------------------------------------------------------------------------- records


def manifest_reader(path: Path) -> csv.DictReader:
    """A reader over the complete rows of a reid-augment manifest (a torn last line, no newline, is left out);
    DataError when it lacks the 'generated' and 'source' columns."""
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    reader = csv.DictReader(io.StringIO(text))
    if not {"generated", "source"} <= set(reader.fieldnames or ()):
        raise DataError(f"{path}: not a reid-augment manifest (no 'generated' and 'source' columns)")
    return reader


def _read_manifest_rows(path: Path) -> list[dict[str, str]]:
    """(generated, source) rows of a reid-augment manifest."""
    return [row for row in manifest_reader(path) if row.get("generated")]


def generated_records(augmented_root: str | Path) -> list[ReidRecord]:
    """The generated samples of an augmented root, sorted by name, originals left out.

    With ``manifest.csv`` (what ``reid-augment augment`` writes): its rows whose file exists, ``source`` =
    the name of the image each was rendered from. Without one: every ``<stem>_gNNN.<ext>`` file of
    ``bounding_box_train/`` (or of the root itself), source ``<stem>.<ext>``. pid and camera always come
    from the generated file's Market name.
    """
    root = Path(augmented_root)
    if not root.is_dir():
        raise DataError(f"{root}: augmented root not found")
    records: list[ReidRecord] = []
    manifest = root / "manifest.csv"
    if manifest.is_file():
        for row in _read_manifest_rows(manifest):
            path = root / row["generated"]
            if path.is_file():
                pid, cam = parse_pid_camera(path.name)
                records.append(ReidRecord(path, pid, cam, Path(row["source"]).name))
    else:
        folder = root / "bounding_box_train" if (root / "bounding_box_train").is_dir() else root
        for path in folder.iterdir():
            m = _GENERATED_RE.match(path.stem)
            if m is None or not path.is_file() or path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
                continue
            pid, cam = parse_pid_camera(path.name)
            records.append(ReidRecord(path, pid, cam, m.group("source") + path.suffix))
    if not records:
        raise DataError(f"{root}: no generated samples found (manifest.csv rows or <stem>_gNNN.jpg files)")
    records.sort(key=lambda r: r.name)
    return records


def _check_sources(generated: Sequence[ReidRecord], train: Sequence[ReidRecord]) -> None:
    """Generated samples must come from training images: anything else would leak test identities."""
    names = {r.name for r in train}
    foreign = [g for g in generated if g.source not in names]
    if foreign:
        g = foreign[0]
        raise DataError(
            f"{len(foreign)} generated samples were not rendered from bounding_box_train images "
            f"(e.g. {g.name} from {g.source!r}): arm b may only add samples of training images"
        )


def repeat_sources(generated: Sequence[ReidRecord], train: Sequence[ReidRecord]) -> list[ReidRecord]:
    """Arm (c)'s extra records: for each generated sample, its source training image (same pid and camera
    as that image), so the control arm has arm b's image count per identity with real pixels only. Each copy
    keeps ``source`` set, so that a cap on generated images per batch (``max_generated``) treats it as one."""
    _check_sources(generated, train)
    by_name = {r.name: r for r in train}
    return [replace(by_name[g.source], source=g.source) for g in generated]


# ------------------------------------------------------------------------------------ identity check


def identity_scores(
    model: nn.Module,
    generated: Sequence[ReidRecord],
    real: Sequence[ReidRecord],
    device: str | torch.device = "cpu",
    batch_size: int = 128,
    flip: bool = True,
) -> dict[str, Any]:
    """Generated images (of the identities in ``real``) as queries against the real images, source left
    out; and the real images against each other, self left out, as the reference (``real_reference``)."""
    ids = {r.pid for r in real}
    queries = [g for g in generated if g.pid in ids]
    if not queries:
        raise DataError("no generated sample belongs to an identity of the real gallery")
    gen = identity_preservation(model, queries, real, device=device, batch_size=batch_size, flip=flip)
    selves = [ReidRecord(r.path, r.pid, r.camera, source=r.name) for r in real]
    ref = identity_preservation(model, selves, real, device=device, batch_size=batch_size, flip=flip)
    return {
        "generated": gen,
        "real_reference": ref,
        "identities": len({q.pid for q in queries}),
        "gallery_images": len(real),
        "rule": "every real image of the identity matches (no same-camera rule); the source / self is left out",
    }


def identity_report(
    weights: str | Path,
    market_root: str | Path,
    augmented_root: str | Path,
    device: str | torch.device = "cpu",
    batch_size: int = 128,
    flip: bool = True,
    unseen_only: bool = True,
) -> dict[str, Any]:
    """Identity preservation of the generated samples of ``augmented_root``, seen by trained re-ID weights.

    The gallery is ``bounding_box_train`` of ``market_root`` (the generated samples are of training
    identities). ``unseen_only``: when the weights' sidecar shows training identities the model was not
    trained on (its held-out validation identities), only those are used.
    """
    model = load_reid_model(weights, device)
    train = trainable(market_records(market_root, "train"))
    generated = generated_records(augmented_root)
    seen = {int(p) for p in read_reid_meta(weights).get("pids", [])}
    unseen = [r for r in train if r.pid not in seen]
    unseen_ids = {r.pid for r in unseen}
    use_unseen = unseen_only and any(g.pid in unseen_ids for g in generated)
    real = unseen if use_unseen else train
    out = identity_scores(model, generated, real, device, batch_size, flip)
    out.update({"unseen_ids": use_unseen, "weights": str(weights), "generated_total": len(generated)})
    return out


# ------------------------------------------------------------------------------------------ one arm


def _arm_dir(out_dir: Path, seed: int, arm: str) -> Path:
    return out_dir / f"seed{seed}" / arm


def _write_json(path: Path, data: dict[str, Any]) -> None:
    replace_text(path, json.dumps(data, indent=2, sort_keys=True))


def _resume_history(arm_dir: Path, key: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The validation rows of an unfinished arm that may continue (its resume.json matches ``key`` and its
    checkpoint reads), up to the checkpoint's epoch; None when it must start clean."""
    try:
        saved = json.loads((arm_dir / "resume.json").read_text())
        saved["config"] = ReidTrainConfig.normalized(saved.get("config") or {})
        if saved != json.loads(json.dumps(key)):
            return None
        done = int(torch.load(arm_dir / "checkpoint.pt", map_location="cpu", weights_only=True)["epoch"])
    except Exception:  # noqa: BLE001 - missing, torn or foreign files: start clean
        return None
    rows: dict[int, dict[str, Any]] = {}
    stats = arm_dir / "stats.jsonl"
    for line in stats.read_text().splitlines() if stats.is_file() else []:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line
        if "val_mAP" in row and int(row["epoch"]) <= done:
            rows[int(row["epoch"])] = {k: row[k] for k in ("epoch", "val_rank1", "val_rank5", "val_mAP")}
    return [rows[e] for e in sorted(rows)]


def _select_weights(arm_dir: Path, cfg: ReidTrainConfig, final: Path, best_epoch: int | None) -> Path:
    """The weights of the validated-best epoch (from the copy of its checkpoint), else the final ones."""
    best_ckpt = arm_dir / "best_checkpoint.pt"
    if best_epoch is None or best_epoch == cfg.epochs or not best_ckpt.is_file():
        best_ckpt.unlink(missing_ok=True)
        return final
    meta = read_reid_meta(final)
    state = torch.load(best_ckpt, map_location="cpu", weights_only=True)
    model = ReidNet(int(meta["num_classes"]), replace(cfg.model_config(), pretrained=None))
    model.load_state_dict(state["model"])
    extra = {k: v for k, v in meta.items() if k not in ("format", "format_version", "num_classes", "feature_dim")}
    extra.pop("model", None)
    path = save_reid_weights(model, arm_dir / "reid_best.safetensors", {**extra, "epoch": best_epoch})
    best_ckpt.unlink()
    return path


def _run_arm(
    seed: int,
    arm: str,
    cfg: ReidTrainConfig,
    train: list[ReidRecord],
    generated: list[ReidRecord],
    arm_dir: Path,
    device: str | torch.device,
    select: str,
    identity: bool,
    batch_size: int,
    market_root: Path,
    fingerprint: dict[str, Any],
    generated_hash: str,
    emit: Progress,
) -> dict[str, Any]:
    extra: list[ReidRecord] | None = None
    if arm == "augmented":
        extra = generated
    elif arm == "repeated":
        extra = repeat_sources(generated, train)
    history: list[dict[str, Any]] = []
    best: dict[str, Any] = {}
    info: dict[str, Any] = {}

    def on_event(event: dict[str, Any]) -> None:
        if event["event"] == "start":
            info.update(event)
        elif event["event"] == "epoch" and "val_mAP" in event:
            row = {k: event[k] for k in ("epoch", "val_rank1", "val_rank5", "val_mAP")}
            history.append(row)
            if select == "best_val" and event["val_mAP"] > best.get("val_mAP", -1.0):
                best.clear()
                best.update(row)
                if event["epoch"] < cfg.epochs:  # the checkpoint just written holds this epoch
                    shutil.copyfile(arm_dir / "checkpoint.pt", arm_dir / "best_checkpoint.pt")
        emit({**event, "seed": seed, "arm": arm})

    resume_key = {"config": cfg.to_dict(), "fingerprint": fingerprint}
    previous = _resume_history(arm_dir, resume_key)
    if previous is None:  # nothing to continue, or a run of another config / data: start clean
        if arm_dir.exists():
            shutil.rmtree(arm_dir)
        _write_json(arm_dir / "resume.json", resume_key)
    else:  # an unfinished arm of this config and data (e.g. an earlier session): continue from its checkpoint
        for row in previous:
            history.append(row)
            if select == "best_val" and row["val_mAP"] > best.get("val_mAP", -1.0):
                best.clear()
                best.update(row)  # its best_checkpoint.pt copy, when earlier than the last epoch, is on disk
        emit({"event": "arm_resumed", "seed": seed, "arm": arm, "validated_epochs": [r["epoch"] for r in previous]})
    t0 = time.perf_counter()
    final = train_reid(cfg, train, arm_dir, device, extra, on_event, resume=previous is not None)
    train_s = time.perf_counter() - t0
    weights = _select_weights(arm_dir, cfg, final, best.get("epoch"))
    selected_epoch = int(best["epoch"]) if best else cfg.epochs
    t1 = time.perf_counter()
    test = evaluate_reid(weights, market_root, device, batch_size)  # the one look at the test split
    emit({"event": "test", "seed": seed, "arm": arm, **test})
    result: dict[str, Any] = {
        "seed": seed,
        "arm": arm,
        "arm_label": ARM_LABELS[arm],
        "config": cfg.to_dict(),
        "fingerprint": fingerprint,
        "select": select,
        "selected_epoch": selected_epoch,
        "val_selected": best or (history[-1] if history else None),
        "val_history": history,
        "test": {k: test[k] for k in ("rank1", "rank5", "rank10", "mAP", "num_query", "num_gallery")},
        "train_images": info.get("images"),
        "extra_images": info.get("extra_images"),
        "classes": info.get("classes"),
        "iters_per_epoch": info.get("iters_per_epoch"),
        "val_query": info.get("val_query"),
        "val_gallery": info.get("val_gallery"),
        "triplet_backend": info.get("triplet_backend"),
        "weights": str(weights.relative_to(arm_dir.parent.parent)),
        "train_s": round(train_s, 1),
        "device": str(device),
        "torch": torch.__version__,
    }
    if identity and arm == "baseline":
        result["identity"] = _arm_identity(weights, cfg, train, generated, generated_hash, device, batch_size)
        emit({"event": "identity", "seed": seed, "arm": arm, **result["identity"]})
    result["eval_s"] = round(time.perf_counter() - t1, 1)
    _write_json(arm_dir / "arm.json", result)
    return result


def generated_fingerprint(generated: Sequence[ReidRecord]) -> str:
    """A short hash of a set of generated samples (names, sources, file sizes): two augmented roots with as
    many samples but other pixels (other weights, poses, ``--views``) differ, so their arms are not mixed up."""
    h = hashlib.sha256()
    for r in sorted(generated, key=lambda r: r.name):
        h.update(f"{r.name}\t{r.source}\t{r.path.stat().st_size}\n".encode())
    return h.hexdigest()[:16]


def _arm_identity(
    weights: Path,
    cfg: ReidTrainConfig,
    train: list[ReidRecord],
    generated: list[ReidRecord],
    generated_hash: str,
    device: str | torch.device,
    batch_size: int,
) -> dict[str, Any]:
    """Identity scores of ``generated`` with an arm-a model, tagged with the samples' fingerprint."""
    split = validation_split(trainable(train), cfg.val_fraction, cfg.seed)
    real = split.gallery or trainable(train)
    try:
        scores = identity_scores(load_reid_model(weights, device), generated, real, device, batch_size)
    except DataError as exc:
        return {"skipped": str(exc), "generated_hash": generated_hash}
    scores["unseen_ids"] = bool(split.gallery)
    scores["generated_hash"] = generated_hash
    return scores


def _load_arm(arm_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((arm_dir / "arm.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _reusable(old: dict[str, Any], cfg: ReidTrainConfig, select: str, fingerprint: dict[str, Any]) -> bool:
    same = ReidTrainConfig.normalized(old.get("config") or {}) == cfg.to_dict()
    return same and old.get("select") == select and old.get("fingerprint") == fingerprint


# ------------------------------------------------------------------------------------------- driver


def run_augmentation_experiment(
    market_root: str | Path,
    augmented_root: str | Path,
    out_dir: str | Path,
    seeds: Sequence[int],
    cfg: ReidTrainConfig,
    device: str | torch.device = "cpu",
    progress: Progress | None = None,
    *,
    arms: Sequence[str] = DEFAULT_ARMS,
    select: str = "best_val",
    identity: bool = True,
    time_budget_s: float | None = None,
    batch_size: int = 128,
    json_path: str | Path | None = None,
) -> dict[str, Any]:
    """Train and evaluate ``arms`` (default (a) and (b); ``repeated`` adds the control (c)) for every seed
    (``cfg.seed`` is replaced by each), in the order seed 0 a, b, c, seed 1 a, ...; return
    ``summarize_experiment(out_dir, seeds)``.

    Finished arms of the same config and data are reused. ``time_budget_s``: an arm is skipped (and
    reported under ``skipped``) when the time per image-epoch of the arms trained so far says it would not
    end in the budget. The report is rewritten after every arm (to ``json_path`` too when given), so an
    interrupted run keeps what it finished. ``progress`` receives the trainer's events tagged with
    ``seed`` and ``arm``, plus ``arm_start`` / ``arm_reused`` / ``arm_skipped`` / ``test`` / ``identity``.
    """
    t_start = time.perf_counter()
    emit: Progress = progress or (lambda event: None)
    market_root, out_dir = Path(market_root), Path(out_dir)
    unknown = [a for a in arms if a not in ARMS]
    if unknown or not arms:
        raise DataError(f"unknown arms {unknown or list(arms)}; choose from {', '.join(ARMS)}")
    if select not in SELECT_MODES:
        raise DataError(f"select must be one of {SELECT_MODES}, got {select!r}")
    if not seeds or len(set(seeds)) != len(seeds):
        raise DataError(f"seeds must be a non-empty list without repeats, got {list(seeds)}")
    train = market_records(market_root, "train")
    generated = generated_records(augmented_root)
    _check_sources(generated, train)
    generated_hash = generated_fingerprint(generated)
    out_dir.mkdir(parents=True, exist_ok=True)
    skipped: list[dict[str, Any]] = []
    rate: list[float] = []  # seconds per (image x epoch) of the arms trained in this call

    def report() -> dict[str, Any]:
        summary = summarize_experiment(out_dir, seeds)
        summary["skipped"] = skipped
        summary["market_root"], summary["augmented_root"] = str(market_root), str(augmented_root)
        _write_json(out_dir / "experiment.json", summary)
        if json_path is not None:
            _write_json(Path(json_path), summary)
        return summary

    for seed in seeds:
        for arm in ARMS:
            if arm not in arms:
                continue
            # the settings for generated samples mean nothing without them: arm (a) stays the plain run
            plain = {"max_generated": None, "generated_smoothing": None} if arm == "baseline" else {}
            seed_cfg = replace(cfg, seed=int(seed), **plain)
            arm_dir = _arm_dir(out_dir, int(seed), arm)
            fingerprint: dict[str, Any] = {
                "train_images": len(train),
                "generated_images": 0 if arm == "baseline" else len(generated),  # (c): as many source copies
            }
            if arm != "baseline":
                fingerprint["generated_hash"] = generated_hash
            old = _load_arm(arm_dir)
            if old is not None and _reusable(old, seed_cfg, select, fingerprint):
                emit({"event": "arm_reused", "seed": seed, "arm": arm})
                if identity and arm == "baseline" and old.get("identity", {}).get("generated_hash") != generated_hash:
                    # a reused arm a judges THESE samples (its arm.json may hold another set's scores)
                    weights = arm_dir.parent.parent / old["weights"]
                    old["identity"] = _arm_identity(
                        weights, seed_cfg, train, generated, generated_hash, device, batch_size
                    )
                    emit({"event": "identity", "seed": seed, "arm": arm, **old["identity"]})
                    _write_json(arm_dir / "arm.json", old)
                    report()
                continue
            images = len(trainable(train)) + fingerprint["generated_images"]
            if time_budget_s is not None and rate:
                needed = statistics.mean(rate) * images * seed_cfg.epochs
                left = time_budget_s - (time.perf_counter() - t_start)
                if needed > left:
                    reason = f"time budget: needs ~{needed:.0f} s, {left:.0f} s left"
                    skipped.append({"seed": seed, "arm": arm, "reason": reason})
                    emit({"event": "arm_skipped", "seed": seed, "arm": arm, "reason": reason})
                    continue
            emit({"event": "arm_start", "seed": seed, "arm": arm, "images": images})
            t0 = time.perf_counter()
            result = _run_arm(
                int(seed), arm, seed_cfg, train, generated, arm_dir, device, select, identity,
                batch_size, market_root, fingerprint, generated_hash, emit,
            )  # fmt: skip
            rate.append((time.perf_counter() - t0) / max(1, (result["train_images"] or images) * seed_cfg.epochs))
            report()
    return report()


# ------------------------------------------------------------------------------------------ summary


def _stats(values: list[float]) -> dict[str, Any]:
    return {
        "mean": statistics.fmean(values) if values else None,
        "std": statistics.stdev(values) if len(values) >= 2 else None,  # sample std over seeds
        "n": len(values),
        "values": values,
    }


def summarize_experiment(out_dir: str | Path, seeds: Sequence[int] | None = None) -> dict[str, Any]:
    """The report from every ``seed*/<arm>/arm.json`` under ``out_dir`` (only ``seeds`` when given).

    ``summary``: per arm, rank1 / mAP over seeds (mean, sample std, values); ``difference``: b - a over
    the seeds that have both arms (paired); with control runs also ``difference_control`` (b - c, c - a).
    ``complete``: every asked seed has arms (a) and (b).
    """
    out_dir = Path(out_dir)
    runs: list[dict[str, Any]] = []
    for path in sorted(out_dir.glob("seed*/*/arm.json")):
        try:
            run = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DataError(f"cannot read {path}: {exc}") from exc
        if run.get("arm") in ARMS and (seeds is None or run.get("seed") in set(seeds)):
            runs.append(run)
    runs.sort(key=lambda r: (r["seed"], ARMS.index(r["arm"])))
    by = {(r["seed"], r["arm"]): r for r in runs}
    found_seeds = sorted({r["seed"] for r in runs})
    summary: dict[str, Any] = {}
    for arm in ARMS:
        arm_runs = [by[(s, arm)] for s in found_seeds if (s, arm) in by]
        if arm_runs or arm in DEFAULT_ARMS:
            summary[arm] = {m: _stats([r["test"][m] for r in arm_runs]) for m in ("rank1", "mAP")}
            summary[arm]["seeds"] = [r["seed"] for r in arm_runs]

    def paired_difference(arm: str, other: str) -> dict[str, Any]:
        both = [s for s in found_seeds if (s, arm) in by and (s, other) in by]
        out = {m: _stats([by[(s, arm)]["test"][m] - by[(s, other)]["test"][m] for s in both]) for m in ("rank1", "mAP")}
        return {**out, "seeds": both}

    summary["difference"] = paired_difference("augmented", "baseline")
    if "repeated" in summary:  # the control: generated pixels vs more steps on real ones
        summary["difference_control"] = {
            "augmented_minus_repeated": paired_difference("augmented", "repeated"),
            "repeated_minus_baseline": paired_difference("repeated", "baseline"),
        }
    gain = summary["difference"]["mAP"]["mean"]
    identity = [{"seed": r["seed"], **r["identity"]} for r in runs if r["arm"] == "baseline" and "identity" in r]
    configs = {json.dumps({k: v for k, v in r["config"].items() if k != "seed"}, sort_keys=True) for r in runs}
    wanted = list(seeds) if seeds is not None else found_seeds
    return {
        "format": EXPERIMENT_FORMAT,
        "format_version": EXPERIMENT_VERSION,
        "arms": dict(ARM_LABELS),
        "protocol": {
            "train": "bounding_box_train (pid > 0); arm b adds the generated samples, under their own pid",
            "validation": "held-out TRAINING identities (val_fraction, split by seed); picks the checkpoint",
            "test": "query vs bounding_box_test, Market-1501 protocol (junk and same-id same-camera excluded)",
            "identity": "arm-a model; generated samples of held-out training ids vs their real images, "
            "source left out; real images vs each other as the reference",
            "metrics": "fractions in [0, 1]; std = sample std over seeds; difference = b - a per seed",
        },
        "seeds": wanted,
        "complete": all((s, a) in by for s in wanted for a in DEFAULT_ARMS),
        "same_config_across_runs": len(configs) <= 1,
        "runs": runs,
        "identity": identity,
        "summary": summary,
        "goal": {
            "mAP_points": GOAL_MAP_POINTS,
            "gain_mAP_points": None if gain is None else 100.0 * gain,
            "met": None if gain is None or not math.isfinite(gain) else 100.0 * gain >= GOAL_MAP_POINTS,
        },
    }
