"""The augmentation experiment (issue 7) end to end on a tiny fixture, its CLI, the identity CLI, the
triplet-loss fallback for machines without pytorch-metric-learning, and the GPU script's data packing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from diaflow_core.errors import DataError
from diaflow_core.reid import ReidRecord, ReidTrainConfig, load_reid_model, market_records
from diaflow_core.reid.experiment import (
    ARMS,
    DEFAULT_ARMS,
    _select_weights,
    generated_fingerprint,
    generated_records,
    repeat_sources,
    run_augmentation_experiment,
    summarize_experiment,
)
from diaflow_core.reid.trainer import ReidLoss, batch_hard_triplet_loss
from reid_augment.cli.app import app
from reid_augment.cli.reid_cmd import _load_recipe

REPO = Path(__file__).resolve().parents[1]
# What the GPU machine lacks (KINDS.md's package list): the code paths the GPU script uses must not need them.
MISSING_ON_GPU = ("mediapipe", "albumentations", "pytorch_metric_learning", "av", "ultralytics", "mmpose")

# Tiny and fast: 64x32 input, 1 epoch, PK 3 x 2, one held-out training identity per seed (val_fraction 0.2
# holds out pid 3 for seed 0 and pid 5 for seed 1 of tiny_market's six).
TINY = {
    "size": (64, 32),
    "epochs": 1,
    "batch_p": 3,
    "batch_k": 2,
    "warmup_epochs": 1,
    "milestones": (1,),
    "workers": 0,
    "pad_crop": 4,
    "val_fraction": 0.2,
    "eval_every": 1,
}


def _block(monkeypatch: pytest.MonkeyPatch, names: tuple[str, ...] = MISSING_ON_GPU) -> None:
    """Make ``import NAME`` fail as on a machine without the package (sys.modules[NAME] = None)."""
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


@pytest.fixture()
def market(tiny_market: Path) -> Path:
    """tiny_market with a query split (one image per test identity, a copy of its camera-1 gallery image, as
    in the real subset) and one junk gallery image."""
    test = tiny_market / "bounding_box_test"
    for path in sorted(test.glob("*_c1s1_*.jpg")):
        shutil.copy(path, tiny_market / "query" / path.name)
    shutil.copy(next(iter(sorted(test.iterdir()))), test / "-1_c3s1_000001_00.jpg")
    return tiny_market


@pytest.fixture()
def augmented(market: Path, tmp_path: Path) -> Path:
    """TEST FIXTURE, not generated samples: a fake augmented root whose 'generated' files are byte copies of
    the training images named <stem>_g000.jpg (no manifest: sources come from the names)."""
    root = tmp_path / "augmented"
    (root / "bounding_box_train").mkdir(parents=True)
    for path in sorted((market / "bounding_box_train").glob("*.jpg")):
        shutil.copy(path, root / "bounding_box_train" / f"{path.stem}_g000.jpg")
    return root


# ------------------------------------------------------------------------------ triplet loss fallback


def test_fallback_triplet_matches_pytorch_metric_learning() -> None:
    pml = pytest.importorskip("pytorch_metric_learning")
    from pytorch_metric_learning import distances, losses, miners, reducers

    lp = distances.LpDistance(normalize_embeddings=False, p=2)
    miner = miners.BatchHardMiner(distance=lp)
    loss = losses.TripletMarginLoss(margin=0.3, distance=lp, reducer=reducers.MeanReducer())
    for seed in range(6):
        g = torch.Generator().manual_seed(seed)
        feat = torch.randn(32, 24, generator=g, dtype=torch.float64, requires_grad=True)
        labels = torch.randint(0, 8, (32,), generator=g)
        labels[0] = 100  # an anchor without a positive: dropped by both
        ref = loss(feat, labels, miner(feat, labels))
        (ref_grad,) = torch.autograd.grad(ref, feat)
        ours = batch_hard_triplet_loss(feat, labels, 0.3)
        (our_grad,) = torch.autograd.grad(ours, feat)
        torch.testing.assert_close(ours, ref, msg=f"pml {pml.__version__}, seed {seed}")
        torch.testing.assert_close(our_grad, ref_grad)


def test_fallback_triplet_edge_cases() -> None:
    feat = torch.randn(4, 8, requires_grad=True)
    zero = batch_hard_triplet_loss(feat, torch.arange(4), 0.3)  # no positives at all
    assert float(zero.detach()) == 0.0 and zero.requires_grad
    one_id = batch_hard_triplet_loss(feat, torch.zeros(4, dtype=torch.long), 0.3)  # no negatives
    assert float(one_id.detach()) == 0.0
    same = torch.ones(4, 8, requires_grad=True)  # identical features: every triplet violates by the margin
    assert float(batch_hard_triplet_loss(same, torch.tensor([0, 0, 1, 1]), 0.3).detach()) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="labels"):
        batch_hard_triplet_loss(feat, torch.arange(3), 0.3)


def test_trainer_loss_falls_back_when_the_package_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = ReidTrainConfig(**TINY)
    g = torch.Generator().manual_seed(0)
    out = {"feature": torch.randn(12, 16, generator=g), "logits": torch.randn(12, 5, generator=g)}
    labels = torch.arange(12) % 5
    with monkeypatch.context() as m:
        _block(m, ("pytorch_metric_learning",))
        fallback = ReidLoss(cfg)
        assert fallback.backend == "fallback"
        parts = fallback(out, labels)
    assert torch.isfinite(parts["loss"]) and float(parts["triplet"]) >= 0
    if ReidLoss(cfg).backend == "pytorch-metric-learning":
        for key, value in ReidLoss(cfg)(out, labels).items():
            torch.testing.assert_close(parts[key], value, msg=key)


# ---------------------------------------------------------------------------------------- records


def test_generated_records_from_names_and_from_a_manifest(augmented: Path, market: Path) -> None:
    by_name = generated_records(augmented)
    assert len(by_name) == 18 and all(r.name.endswith("_g000.jpg") for r in by_name)
    first = by_name[0]
    assert first.source == first.name.replace("_g000", "") and first.pid == 1
    # a manifest wins: its rows (generated path relative to the root, source as given) and existing files only
    rows = ["generated,source,pid,camera,index"]
    src = market / "bounding_box_train"
    rows += [f"bounding_box_train/{r.name},{src / str(r.source)},{r.pid},{r.camera},0" for r in by_name]
    rows.append("bounding_box_train/0001_c1s1_000000_01_g007.jpg,x.jpg,1,1,7")  # listed but not on disk
    (augmented / "manifest.csv").write_text("\n".join(rows) + "\n" + "bounding_box_train/torn")
    from_manifest = generated_records(augmented)
    assert [(r.name, r.source, r.pid) for r in from_manifest] == [(r.name, r.source, r.pid) for r in by_name]
    (augmented / "manifest.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="manifest"):
        generated_records(augmented)


def test_generated_samples_must_come_from_training_images(market: Path, tmp_path: Path) -> None:
    root = tmp_path / "leaky" / "bounding_box_train"
    root.mkdir(parents=True)
    test_image = sorted((market / "bounding_box_test").glob("0011_*.jpg"))[0]
    shutil.copy(test_image, root / f"{test_image.stem}_g000.jpg")
    with pytest.raises(DataError, match="not rendered from bounding_box_train"):
        run_augmentation_experiment(market, root.parent, tmp_path / "exp", [0], ReidTrainConfig(**TINY))
    with pytest.raises(DataError, match="no generated samples"):
        generated_records(market)


# ------------------------------------------------------------------------------------- experiment


def test_experiment_end_to_end_with_gpu_machine_packages(
    market: Path, augmented: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both arms, two seeds, 1 epoch, with what the GPU machine lacks made unimportable."""
    torch.set_num_threads(1)
    _block(monkeypatch)
    out, json_path = tmp_path / "exp", tmp_path / "report.json"
    events: list[dict] = []
    report = run_augmentation_experiment(
        market, augmented, out, [0, 1], ReidTrainConfig(**TINY), "cpu", events.append, json_path=json_path
    )
    assert json.loads(json_path.read_text()) == json.loads(json.dumps(report))
    assert json.loads((out / "experiment.json").read_text())["complete"]
    assert {"format", "arms", "protocol", "seeds", "complete", "runs", "identity", "summary", "goal"} <= set(report)
    assert report["complete"] and report["same_config_across_runs"] and report["seeds"] == [0, 1]
    runs = {(r["seed"], r["arm"]): r for r in report["runs"]}
    assert set(runs) == {(s, a) for s in (0, 1) for a in DEFAULT_ARMS}  # the control arm only on request
    for seed in (0, 1):
        a, b = runs[(seed, "baseline")], runs[(seed, "augmented")]
        assert a["config"]["seed"] == b["config"]["seed"] == seed  # same seed in both arms
        assert {k: v for k, v in a["config"].items()} == {k: v for k, v in b["config"].items()}
        assert a["extra_images"] == 0 and b["extra_images"] == 15  # 5 trained ids x 3; held-out id's dropped
        assert a["val_query"] == b["val_query"] == 3 and a["classes"] == b["classes"] == 5
        assert a["triplet_backend"] == "fallback"
        assert a["selected_epoch"] == 1 and a["val_history"][0]["epoch"] == 1
        assert a["test"]["num_query"] == 3 and a["test"]["num_gallery"] == 6  # junk not embedded
        assert 0.0 <= a["test"]["mAP"] <= 1.0 and (out / a["weights"]).is_file()
    s = report["summary"]
    assert "repeated" not in s and "difference_control" not in s
    for arm in DEFAULT_ARMS:
        assert s[arm]["seeds"] == [0, 1] and s[arm]["mAP"]["n"] == 2 and s[arm]["mAP"]["std"] is not None
    diffs = [runs[(k, "augmented")]["test"]["mAP"] - runs[(k, "baseline")]["test"]["mAP"] for k in (0, 1)]
    assert s["difference"]["mAP"]["values"] == pytest.approx(diffs)
    assert report["goal"]["gain_mAP_points"] == pytest.approx(50.0 * sum(diffs))
    # identity preservation with each seed's arm-a model, on its held-out identity
    ident = {e["seed"]: e for e in report["identity"]}
    assert set(ident) == {0, 1} and all(e["unseen_ids"] and e["identities"] == 1 for e in ident.values())
    assert ident[0]["generated"]["num_query"] == 3 and ident[0]["real_reference"]["num_query"] == 3
    assert ident[0]["generated"]["num_skipped"] == 0  # the source is left out, two other images remain
    kinds = [e["event"] for e in events]
    assert kinds.count("arm_start") == 4 and kinds.count("test") == 4 and kinds.count("identity") == 2

    # a rerun reuses every finished arm; the summary alone reads the same folder
    again: list[dict] = []
    rerun = run_augmentation_experiment(market, augmented, out, [0, 1], ReidTrainConfig(**TINY), "cpu", again.append)
    assert [e["event"] for e in again] == ["arm_reused"] * 4 and rerun["summary"] == report["summary"]
    assert summarize_experiment(out, [0])["summary"]["baseline"]["seeds"] == [0]
    assert not summarize_experiment(out, [0, 7])["complete"]

    # best_val selection with an earlier epoch: the copied checkpoint becomes reid_best.safetensors
    arm_dir = out / "seed0" / "baseline"
    shutil.copyfile(arm_dir / "checkpoint.pt", arm_dir / "best_checkpoint.pt")
    cfg2 = replace(ReidTrainConfig(**TINY), epochs=2)
    best = _select_weights(arm_dir, cfg2, arm_dir / "reid.safetensors", 1)
    assert best.name == "reid_best.safetensors" and not (arm_dir / "best_checkpoint.pt").exists()
    assert json.loads(best.with_suffix(".json").read_text())["epoch"] == 1
    x = torch.randn(2, 3, 64, 32)
    torch.testing.assert_close(load_reid_model(best)(x), load_reid_model(arm_dir / "reid.safetensors")(x))


def test_other_samples_of_the_same_count_are_not_mixed_up(market: Path, augmented: Path, tmp_path: Path) -> None:
    """Another augmented root with as many samples (other weights or --views): arm b trains again, arm a is
    reused but judges the identity of the NEW samples (its arm.json held the old ones' scores)."""
    torch.set_num_threads(1)
    out = tmp_path / "exp"
    cfg = ReidTrainConfig(**TINY)
    first = run_augmentation_experiment(market, augmented, out, [0], cfg, "cpu")
    other = tmp_path / "augmented2" / "bounding_box_train"
    other.mkdir(parents=True)
    for path in sorted((augmented / "bounding_box_train").iterdir()):  # the same names, other pixels
        img = Image.open(path).convert("RGB")
        img.transpose(Image.Transpose.FLIP_TOP_BOTTOM).save(other / path.name, quality=60)
    assert generated_fingerprint(generated_records(other.parent)) != generated_fingerprint(generated_records(augmented))
    events: list[dict] = []
    second = run_augmentation_experiment(market, other.parent, out, [0], cfg, "cpu", events.append)
    kinds = [(e["event"], e.get("arm")) for e in events if e["event"] in ("arm_reused", "arm_start", "identity")]
    assert kinds == [("arm_reused", "baseline"), ("identity", "baseline"), ("arm_start", "augmented")]
    before, after = first["identity"][0], second["identity"][0]
    assert after["generated_hash"] != before["generated_hash"]
    assert after["generated"]["cos_same"] != pytest.approx(before["generated"]["cos_same"])  # upside-down samples
    stored = json.loads((out / "seed0" / "baseline" / "arm.json").read_text())
    assert stored["identity"]["generated_hash"] == after["generated_hash"]
    # and a rerun on the new root reuses everything, identity included
    again: list[dict] = []
    run_augmentation_experiment(market, other.parent, out, [0], cfg, "cpu", again.append)
    assert [e["event"] for e in again] == ["arm_reused", "arm_reused"]


def test_interrupted_arm_resumes_from_its_checkpoint(market: Path, augmented: Path, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    cfg = replace(ReidTrainConfig(**TINY), epochs=2)
    out = tmp_path / "exp"

    class Stop(Exception):
        pass

    def stop_after_epoch_1(event: dict) -> None:
        if event["event"] == "epoch" and event["epoch"] == 1:  # emitted after the epoch's checkpoint
            raise Stop

    run = dict(arms=["baseline"], identity=False)
    with pytest.raises(Stop):
        run_augmentation_experiment(market, augmented, out, [0], cfg, "cpu", stop_after_epoch_1, **run)
    arm_dir = out / "seed0" / "baseline"
    assert not (arm_dir / "arm.json").exists() and (arm_dir / "checkpoint.pt").is_file()

    events: list[dict] = []
    report = run_augmentation_experiment(market, augmented, out, [0], cfg, "cpu", events.append, **run)
    resumed = [e for e in events if e["event"] == "arm_resumed"]
    assert len(resumed) == 1 and resumed[0]["validated_epochs"] == [1]
    assert [e["start_epoch"] for e in events if e["event"] == "start"] == [1]  # only epoch 2 was trained
    assert [e["epoch"] for e in events if e["event"] == "epoch"] == [2]
    (row,) = report["runs"]
    assert [h["epoch"] for h in row["val_history"]] == [1, 2] and row["selected_epoch"] in (1, 2)
    epochs = [json.loads(x)["epoch"] for x in (arm_dir / "stats.jsonl").read_text().splitlines()]
    assert epochs == [1, 2]

    # another config in the same folder starts clean instead of continuing a foreign run
    (arm_dir / "arm.json").unlink()
    events.clear()
    run_augmentation_experiment(market, augmented, out, [0], replace(cfg, lr=1e-4), "cpu", events.append, **run)
    assert not [e for e in events if e["event"] == "arm_resumed"]
    assert [e["start_epoch"] for e in events if e["event"] == "start"] == [0]


def test_experiment_time_budget_and_bad_arguments(market: Path, augmented: Path, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    cfg = ReidTrainConfig(**TINY)
    with pytest.raises(DataError, match="arms"):
        run_augmentation_experiment(market, augmented, tmp_path / "x", [0], cfg, arms=["both"])
    with pytest.raises(DataError, match="seeds"):
        run_augmentation_experiment(market, augmented, tmp_path / "x", [0, 0], cfg)
    # the first arm always runs; the next one does not fit in a budget already spent
    report = run_augmentation_experiment(
        market, augmented, tmp_path / "b", [0], cfg, arms=["baseline"], identity=False, time_budget_s=1e-6
    )
    assert [r["arm"] for r in report["runs"]] == ["baseline"] and "identity" not in report["runs"][0]
    assert not report["complete"] and report["summary"]["difference"]["mAP"]["n"] == 0
    assert report["goal"]["met"] is None


# ------------------------------------------------------------------------------------------- CLI


def test_cli_experiment_identity_and_summary(market: Path, augmented: Path, tmp_path: Path) -> None:
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(
        "reid:\n" + "".join(f"  {k}: {list(v) if isinstance(v, tuple) else v}\n" for k, v in TINY.items())
    )
    out, report_path = tmp_path / "exp", tmp_path / "report.json"
    base = ["--data", str(market), "--augmented", str(augmented), "--out", str(out), "--config", str(recipe)]
    args = ["reid-experiment", *base, "--seeds", "0", "--arms", "baseline", "--epochs", "1", "--device", "cpu"]
    result = CliRunner().invoke(app, [*args, "--threads", "1", "--select", "last", "--json", str(report_path)])
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    assert [(r["seed"], r["arm"], r["select"]) for r in report["runs"]] == [(0, "baseline", "last")]
    assert not report["complete"]

    weights = out / report["runs"][0]["weights"]
    ident_path = tmp_path / "identity.json"
    ident_args = ["evaluate", "identity", "--data", str(market), "--generated", str(augmented)]
    result = CliRunner().invoke(
        app, [*ident_args, "--weights", str(weights), "--device", "cpu", "--json", str(ident_path)]
    )
    assert result.exit_code == 0, result.output
    ident = json.loads(ident_path.read_text())
    # the model held out pid 3 (seed 0): only its samples are scored, against its real images
    assert ident["unseen_ids"] and ident["identities"] == 1 and ident["generated"]["num_query"] == 3
    assert ident["generated"] == report["identity"][0]["generated"]
    result = CliRunner().invoke(
        app, [*ident_args, "--weights", str(weights), "--device", "cpu", "--json", str(ident_path), "--no-unseen-only"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(ident_path.read_text())["generated"]["num_query"] == 18

    summary_path = tmp_path / "summary.json"
    result = CliRunner().invoke(
        app, ["reid-experiment", *base, "--seeds", "0", "--summarize-only", "--json", str(summary_path)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(summary_path.read_text())["summary"] == report["summary"]
    bad = CliRunner().invoke(app, ["reid-experiment", *base, "--seeds", "0,x"])
    assert bad.exit_code != 0
    bad = CliRunner().invoke(app, ["reid-experiment", *base, "--seeds", "0", "--generated-smoothing", "2"])
    assert bad.exit_code != 0 and "generated_smoothing" in f"{bad.output}{bad.exception}"  # reaches the config


def test_recipe_is_complete_and_loads() -> None:
    import dataclasses

    fields = _load_recipe(REPO / "recipes" / "reid_market1501.yaml")
    assert set(fields) == {f.name for f in dataclasses.fields(ReidTrainConfig)}  # explicit: every field
    cfg = ReidTrainConfig.from_dict(fields)
    assert (cfg.backbone, cfg.size, cfg.epochs, cfg.milestones) == ("resnet18", (128, 64), 40, (25, 35))
    assert 0 < cfg.val_fraction < 1 and cfg.eval_every > 0  # checkpoint choice on held-out training ids


# ------------------------------------------------------------------------------------ GPU machine


def test_augment_annotations_backend_never_imports_mediapipe(
    market: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The GPU script's augment step (annotations backend, shipped generator) with mediapipe unimportable."""
    torch.set_num_threads(1)
    _block(monkeypatch)
    out = tmp_path / "aug"
    args = ["augment", str(market), "--out", str(out), "--per-image", "1", "--limit", "2"]
    result = CliRunner().invoke(
        app, [*args, "--pose-backend", "annotations", "--device", "cpu", "--batch-size", "256", "--originals", "none"]
    )
    assert result.exit_code == 0, result.output
    records = generated_records(out)
    train_names = {r.name for r in market_records(market, "train")}
    assert len(records) == 2 and all(isinstance(r, ReidRecord) and r.source in train_names for r in records)
    assert not (out / "query").exists()  # --originals none: only the samples


def test_cli_imports_without_the_packages_the_gpu_machine_lacks() -> None:
    code = (
        "import sys\n"
        f"for name in {MISSING_ON_GPU!r}: sys.modules[name] = None\n"
        "import reid_augment.cli.app, diaflow_core.reid.experiment, diaflow_core.reid.trainer\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


@pytest.mark.skipif(not all(shutil.which(t) for t in ("tar", "xz", "xargs")), reason="needs tar, xz, xargs")
def test_gpu_script_packs_and_unpacks_losslessly(market: Path, tmp_path: Path) -> None:
    script = REPO / "scripts" / "reid_experiment_gpu.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    env = {**os.environ, "MARKET": str(market), "PACK": str(tmp_path / "pack.tar.xz")}
    subprocess.run(["bash", str(script), "pack"], cwd=REPO, env=env, check=True, capture_output=True, timeout=120)
    dest = tmp_path / "unpacked"
    subprocess.run(["bash", str(script), "unpack", str(dest)], cwd=REPO, env=env, check=True, timeout=120)
    for split in ("bounding_box_train", "query", "bounding_box_test"):
        want = {p.name: p.read_bytes() for p in (market / split).iterdir() if not p.name.startswith("-1_")}
        got = {p.name: p.read_bytes() for p in (dest / split).iterdir()}
        assert got == want, split  # byte-identical; junk left out; query rebuilt from the gallery
    assert (dest / "market-annotation-train.csv").read_bytes() == (market / "market-annotation-train.csv").read_bytes()


def test_control_arm_repeats_the_sources(market: Path, augmented: Path, tmp_path: Path) -> None:
    """Arm (c): arm b's image count per identity, made of copies of the generated samples' source images."""
    train = market_records(market, "train")
    generated = generated_records(augmented)
    extra = repeat_sources(generated, train)
    assert len(extra) == len(generated)
    for g, r in zip(generated, extra, strict=True):
        assert r.name == g.source == r.source and r.pid == g.pid and r.path.parent.name == "bounding_box_train"
    torch.set_num_threads(1)
    out = tmp_path / "exp"
    cfg = ReidTrainConfig(**TINY)
    run = dict(identity=False)
    run_augmentation_experiment(market, augmented, out, [0], cfg, "cpu", arms=["baseline", "augmented"], **run)
    events: list[dict] = []
    report = run_augmentation_experiment(market, augmented, out, [0], cfg, "cpu", events.append, arms=list(ARMS), **run)
    assert [e["event"] for e in events if e["event"].startswith("arm_")] == ["arm_reused", "arm_reused", "arm_start"]
    runs = {r["arm"]: r for r in report["runs"]}
    assert runs["repeated"]["extra_images"] == runs["augmented"]["extra_images"] == 15  # held-out id dropped
    assert runs["repeated"]["iters_per_epoch"] == runs["augmented"]["iters_per_epoch"]
    control = report["summary"]["difference_control"]
    b_c = runs["augmented"]["test"]["mAP"] - runs["repeated"]["test"]["mAP"]
    c_a = runs["repeated"]["test"]["mAP"] - runs["baseline"]["test"]["mAP"]
    assert control["augmented_minus_repeated"]["mAP"]["values"] == pytest.approx([b_c])
    assert control["repeated_minus_baseline"]["mAP"]["values"] == pytest.approx([c_a])
    assert report["complete"] and report["summary"]["repeated"]["seeds"] == [0]


def test_capped_arm_has_the_baselines_steps(market: Path, augmented: Path, tmp_path: Path) -> None:
    """``max_generated``: arm b at arm a's step count, at most M generated images per identity and batch;
    arm a is the plain run (its recorded config has no cap and no ``generated_smoothing``), so an existing
    arm a is reused."""
    torch.set_num_threads(1)
    out = tmp_path / "exp"
    run = dict(identity=False, arms=["baseline"])
    run_augmentation_experiment(market, augmented, out, [0], ReidTrainConfig(**TINY), "cpu", **run)
    events: list[dict] = []
    capped = ReidTrainConfig(**{**TINY, "max_generated": 1, "generated_smoothing": 0.5})
    report = run_augmentation_experiment(
        market, augmented, out, [0], capped, "cpu", events.append, identity=False, arms=["baseline", "augmented"]
    )
    assert [e["event"] for e in events if e["event"].startswith("arm_")] == ["arm_reused", "arm_start"]
    runs = {r["arm"]: r for r in report["runs"]}
    assert runs["baseline"]["config"]["max_generated"] is None and runs["augmented"]["config"]["max_generated"] == 1
    assert runs["baseline"]["config"]["generated_smoothing"] is None  # arm a stays plain: reused above
    assert runs["augmented"]["config"]["generated_smoothing"] == 0.5
    assert runs["augmented"]["iters_per_epoch"] == runs["baseline"]["iters_per_epoch"]
    assert runs["augmented"]["extra_images"] == 15
