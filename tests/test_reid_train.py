"""A tiny end-to-end run on generated images: train, save, reload, evaluate, resume, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import typer
from torchvision.io import write_jpeg
from typer.testing import CliRunner

from diaflow_core.errors import ConfigError, WeightsError
from diaflow_core.reid import (
    ReidRecord,
    ReidTrainConfig,
    evaluate_reid,
    extract_features,
    folder_records,
    identity_preservation,
    load_reid_model,
    market_records,
    train_reid,
)
from reid_augment.cli import reid_cmd

TINY = {
    "size": (64, 32),
    "epochs": 2,
    "batch_p": 3,
    "batch_k": 2,
    "warmup_epochs": 1,
    "milestones": (1,),
    "workers": 0,
    "pad_crop": 4,
}


def _write_person(path: Path, pid: int, seed: int) -> None:
    """A 128x64 'person': identity-specific top and bottom colours plus per-image noise."""
    g = torch.Generator().manual_seed(pid * 1000 + seed)
    top = torch.tensor([(pid * 53) % 256, (pid * 97) % 256, (pid * 31) % 256], dtype=torch.float32)
    bottom = torch.tensor([(pid * 71) % 256, (pid * 13) % 256, (pid * 151) % 256], dtype=torch.float32)
    img = torch.empty(3, 128, 64)
    img[:, :64] = top[:, None, None]
    img[:, 64:] = bottom[:, None, None]
    img = (img + 25 * torch.randn(img.shape, generator=g)).clamp(0, 255).to(torch.uint8)
    write_jpeg(img, str(path), quality=90)


def _make_root(root: Path) -> Path:
    """Market-style root: 6 train ids, 4 test ids plus junk and a distractor, query = one per id/camera."""
    for folder in ("bounding_box_train", "bounding_box_test", "query"):
        (root / folder).mkdir(parents=True)
    for pid in range(1, 7):
        for cam in (1, 2):
            for i in range(3):
                _write_person(root / "bounding_box_train" / f"{pid:04d}_c{cam}s1_{i:06d}_00.jpg", pid, cam * 10 + i)
    for pid in range(11, 15):
        for cam in (1, 2, 3):
            for i in range(2):
                name = f"{pid:04d}_c{cam}s1_{i:06d}_00.jpg"
                _write_person(root / "bounding_box_test" / name, pid, cam * 10 + i)
            _write_person(root / "query" / f"{pid:04d}_c{cam}s1_000000_00.jpg", pid, cam * 10)
    _write_person(root / "bounding_box_test" / "-1_c1s1_000100_00.jpg", 99, 0)
    _write_person(root / "bounding_box_test" / "0000_c2s1_000200_00.jpg", 98, 0)
    return root


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_root(tmp_path_factory.mktemp("market_tiny"))


@pytest.fixture(scope="module")
def trained(tiny_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    torch.set_num_threads(1)
    events: list[dict] = []
    out = tmp_path_factory.mktemp("reid_run")
    cfg = ReidTrainConfig(**TINY)
    weights = train_reid(cfg, market_records(tiny_root, "train"), out, "cpu", callback=events.append)
    return weights, events


def test_training_writes_weights_stats_and_config(trained: tuple[Path, list[dict]]) -> None:
    weights, events = trained
    run = weights.parent
    assert weights.is_file() and weights.with_suffix(".json").is_file()
    stats = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    assert [s["epoch"] for s in stats] == [1, 2]
    assert all(s["loss"] > 0 and s["time_s"] > 0 for s in stats)
    assert json.loads((run / "config.json").read_text())["size"] == [64, 32]
    assert json.loads(weights.with_suffix(".json").read_text())["num_classes"] == 6
    assert [e["event"] for e in events if e["event"] != "iter"] == ["start", "epoch", "epoch", "done"]


def test_reloaded_weights_give_identical_features(trained: tuple[Path, list[dict]], tiny_root: Path) -> None:
    weights, _ = trained
    paths = [r.path for r in market_records(tiny_root, "query")][:5]
    a = extract_features(load_reid_model(weights), paths, (64, 32), batch_size=2)
    b = extract_features(load_reid_model(weights), paths, (64, 32), batch_size=5, flip=True)
    assert a.shape == (5, 512)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_evaluate_on_tiny_root(trained: tuple[Path, list[dict]], tiny_root: Path) -> None:
    scores = evaluate_reid(trained[0], tiny_root)
    assert scores["num_query"] == 12 and scores["num_gallery"] == 25  # 24 + distractor, junk dropped
    assert scores["num_skipped_query"] == 0
    assert 0.0 <= scores["mAP"] <= 1.0 and 0.0 <= scores["rank1"] <= scores["rank5"] <= scores["rank10"] <= 1.0


def test_identity_preservation_leaves_out_the_source(trained: tuple[Path, list[dict]], tiny_root: Path) -> None:
    model = load_reid_model(trained[0])
    gallery = market_records(tiny_root, "test")
    # "generated" samples: copies of gallery images, each naming itself as its source. With the source
    # left out, the score reflects the other images of the identity, not the copy itself.
    generated = [ReidRecord(r.path, r.pid, r.camera, source=r.name) for r in gallery if r.pid > 0][::4]
    scores = identity_preservation(model, generated, gallery)
    assert scores["num_query"] == len(generated) and scores["num_skipped"] == 0
    assert -1.0 <= scores["cos_other"] <= 1.0 and -1.0 <= scores["cos_same"] <= 1.0
    not_left_out = identity_preservation(model, [ReidRecord(g.path, g.pid, g.camera) for g in generated], gallery)
    assert not_left_out["rank1"] == 1.0  # the identical image is the nearest one
    assert scores["mAP"] <= not_left_out["mAP"]


def test_resume_continues_and_matches_an_uninterrupted_run(tiny_root: Path, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    train = market_records(tiny_root, "train")
    one = ReidTrainConfig(**{**TINY, "epochs": 1})
    train_reid(one, train, tmp_path / "resumed", "cpu")
    resumed = train_reid(ReidTrainConfig(**TINY), train, tmp_path / "resumed", "cpu", resume=True)
    lines = (tmp_path / "resumed" / "stats.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2]
    straight = train_reid(ReidTrainConfig(**TINY), train, tmp_path / "straight", "cpu")
    a, b = load_reid_model(resumed).state_dict(), load_reid_model(straight).state_dict()
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=key)
    with pytest.raises(ConfigError, match="lr"):
        train_reid(ReidTrainConfig(**{**TINY, "lr": 1e-3}), train, tmp_path / "resumed", "cpu", resume=True)


def test_extra_records_add_classes(tiny_root: Path, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    gen = tmp_path / "generated"
    gen.mkdir()
    for i in range(4):
        _write_person(gen / f"0001_c3s1_{i:06d}_00.jpg", 1, 100 + i)  # more of a known identity
        _write_person(gen / f"0042_c3s1_{i:06d}_00.jpg", 42, 100 + i)  # a new identity
    cfg = ReidTrainConfig(**{**TINY, "epochs": 1})
    weights = train_reid(cfg, market_records(tiny_root, "train"), tmp_path / "run", "cpu", folder_records(gen))
    meta = json.loads(weights.with_suffix(".json").read_text())
    assert meta["num_classes"] == 7 and meta["extra_images"] == 8 and 42 in meta["pids"]


def test_generated_smoothing_softens_the_ce_of_generated_samples_only() -> None:
    from diaflow_core.reid.trainer import ReidLoss

    torch.manual_seed(0)
    logits, labels = torch.randn(6, 5), torch.tensor([0, 1, 2, 3, 4, 0])
    out = {"logits": logits, "feature": torch.randn(6, 8)}
    generated = torch.tensor([False, True, False, True, False, False])
    plain = ReidLoss(ReidTrainConfig(**TINY))
    lsro = ReidLoss(ReidTrainConfig(**{**TINY, "generated_smoothing": 1.0}))
    expected_plain = torch.nn.functional.cross_entropy(logits, labels, label_smoothing=0.1)
    torch.testing.assert_close(plain(out, labels, generated)["ce"], expected_plain)  # unset: flags ignored
    torch.testing.assert_close(lsro(out, labels, torch.zeros(6, dtype=torch.bool))["ce"], expected_plain)
    logp = logits.log_softmax(1)
    per = -logp[torch.arange(6), labels] * 0.9 - logp.mean(1) * 0.1  # real: smoothing 0.1
    per[generated] = -logp[generated].mean(1)  # generated: the uniform target
    torch.testing.assert_close(lsro(out, labels, generated)["ce"], per.mean())
    with pytest.raises(ConfigError, match="generated_smoothing"):
        ReidTrainConfig(**{**TINY, "generated_smoothing": 1.5})


def test_generated_smoothing_reaches_the_generated_records(tiny_root: Path, tmp_path: Path) -> None:
    """The trainer flags each batch's generated images: the setting changes nothing on a run without them,
    nothing when equal to ``label_smoothing``, and the CE when it differs."""
    torch.set_num_threads(1)
    gen = tmp_path / "generated"
    gen.mkdir()
    for pid in range(1, 7):
        for i in range(2):
            _write_person(gen / f"{pid:04d}_c3s1_{i:06d}_00.jpg", pid, 200 + i)
    fake = [ReidRecord(r.path, r.pid, r.camera, source="x.jpg") for r in folder_records(gen)]
    train = market_records(tiny_root, "train")

    def ce(name: str, extra: list[ReidRecord] | None, smoothing: float | None) -> float:
        cfg = ReidTrainConfig(**{**TINY, "epochs": 1, "generated_smoothing": smoothing})
        train_reid(cfg, train, tmp_path / name, "cpu", extra)
        return json.loads((tmp_path / name / "stats.jsonl").read_text())["ce"]

    assert ce("real_on", None, 1.0) == pytest.approx(ce("real_off", None, None), abs=1e-6)
    base = ce("gen_off", fake, None)
    assert ce("gen_same", fake, 0.1) == pytest.approx(base, abs=1e-5)
    assert abs(ce("gen_lsro", fake, 1.0) - base) > 1e-3


def test_missing_weights_are_named(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="nope.safetensors"):
        load_reid_model(tmp_path / "nope.safetensors")


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("train")(reid_cmd.train_reid)
    app.command("evaluate")(reid_cmd.evaluate_reid)
    return app


def test_cli_evaluate_writes_json(trained: tuple[Path, list[dict]], tiny_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.json"
    args = ["evaluate", "--data", str(tiny_root), "--weights", str(trained[0]), "--json", str(out)]
    result = CliRunner().invoke(_cli(), [*args, "--device", "cpu"])
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())
    assert {"rank1", "rank5", "mAP"} <= set(scores) and scores["num_query"] == 12


def test_cli_train_with_a_recipe(tiny_root: Path, tmp_path: Path) -> None:
    recipe = tmp_path / "reid.yaml"
    recipe.write_text(
        "reid:\n" + "".join(f"  {k}: {list(v) if isinstance(v, tuple) else v}\n" for k, v in TINY.items())
    )
    args = ["train", "--data", str(tiny_root), "--out", str(tmp_path / "run"), "--config", str(recipe)]
    result = CliRunner().invoke(_cli(), [*args, "--epochs", "1", "--device", "cpu", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "reid.safetensors").is_file()
    bad = CliRunner().invoke(_cli(), [*args, "--epochs", "1", "--size", "128-64"])
    assert isinstance(bad.exception, ConfigError)


def test_validation_split_is_scored_each_epoch(tiny_root: Path, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    cfg = ReidTrainConfig(**{**TINY, "epochs": 1, "val_fraction": 0.4, "batch_p": 2})
    events: list[dict] = []
    train_reid(cfg, market_records(tiny_root, "train"), tmp_path / "run", "cpu", callback=events.append)
    start = next(e for e in events if e["event"] == "start")
    assert start["val_query"] > 0 and start["classes"] + start["val_gallery"] // 6 == 6
    stats = json.loads((tmp_path / "run" / "stats.jsonl").read_text())
    assert 0.0 <= stats["val_mAP"] <= 1.0 and 0.0 <= stats["val_rank1"] <= 1.0


def test_configs_recorded_before_a_field_existed_still_match(tiny_root: Path, tmp_path: Path) -> None:
    cfg = ReidTrainConfig(**TINY)
    old = cfg.to_dict()
    del old["max_generated"], old["generated_smoothing"]  # as written before the fields existed
    assert ReidTrainConfig.normalized(old) == cfg.to_dict()
    assert ReidTrainConfig.normalized({**old, "max_generated": 1}) != cfg.to_dict()
    assert ReidTrainConfig.normalized({"no_such_field": 1}) is None
    # a checkpoint of such a run resumes under today's config
    torch.set_num_threads(1)
    train = market_records(tiny_root, "train")
    train_reid(ReidTrainConfig(**{**TINY, "epochs": 1}), train, tmp_path / "run", "cpu")
    path = tmp_path / "run" / "checkpoint.pt"
    state = torch.load(path, map_location="cpu", weights_only=True)
    saved = json.loads(state["config"])
    del saved["max_generated"], saved["generated_smoothing"]
    state["config"] = json.dumps(saved, sort_keys=True)
    torch.save(state, path)
    train_reid(cfg, train, tmp_path / "run", "cpu", resume=True)
    lines = (tmp_path / "run" / "stats.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2]
