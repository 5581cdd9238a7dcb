"""Transfer evaluation on a tiny generated Market-like folder, the report writers, the CLI, and real data."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import torch

from diaflow_core.data import read_image, write_annotations
from diaflow_core.errors import DataError
from diaflow_core.evaluation import (
    NetworkMetrics,
    TransferMetricsConfig,
    available_baselines,
    copy_source,
    evaluate_transfer,
    load_test_pairs,
    transfer_summary,
    write_grid,
    write_transfer_json,
)
from diaflow_core.metrics import LPIPS, SKIMAGE_DEFAULT, FeatureStats, ssim_skimage

NAMES = ["0001_c1s1_000100_01.jpg", "0001_c2s1_000200_01.jpg", "0002_c1s1_000300_01.jpg", "0002_c3s1_000400_01.jpg"]


def _pose(shift: float) -> np.ndarray:
    kp = np.array(
        [[32, 14], [32, 24], [24, 25], [20, 44], [20, 61], [40, 24], [44, 42], [46, 56], [28, 61], [28, 86],
         [28, 112], [38, 60], [38, 86], [38, 110], [30, 12], [34, 12], [27, 13], [37, 13]],
        dtype=np.float32,
    )  # fmt: skip
    kp[:, 0] += shift
    kp[17] = np.nan
    return kp


@pytest.fixture()
def tiny_root(tmp_path: Path) -> Path:
    root = tmp_path / "market"
    folder = root / "bounding_box_test"
    folder.mkdir(parents=True)
    (root / "bounding_box_train").mkdir()
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:128, 0:64]
    for i, name in enumerate(NAMES):
        base = 120 + 80 * np.sin(xx / (5.0 + i))[..., None] * np.cos(yy / 9.0)[..., None]
        img = np.clip(base + rng.normal(0, 15, (128, 64, 3)), 0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / name), img)
    write_annotations(root / "market-annotation-test.csv", {n: _pose(2.0 * i) for i, n in enumerate(NAMES)})
    pairs = [(NAMES[0], NAMES[1]), (NAMES[2], NAMES[3]), (NAMES[1], "0009_c1s1_000900_01.jpg"), (NAMES[3], NAMES[0])]
    (root / "market-pairs-test.csv").write_text("from,to\n" + "".join(f"{a},{b}\n" for a, b in pairs))
    return root


def test_load_test_pairs_keeps_present(tiny_root: Path) -> None:
    test = load_test_pairs(tiny_root)
    assert test.listed == 4 and len(test.pairs) == 3
    assert ("0001_c2s1_000200_01.jpg", "0009_c1s1_000900_01.jpg") not in test.pairs


def test_copy_source_matches_direct_metrics(tiny_root: Path) -> None:
    test = load_test_pairs(tiny_root)
    seen: list[tuple[int, int]] = []
    rep = evaluate_transfer(
        copy_source, test.pairs, tiny_root, test.annotations, batch_size=2, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(2, 3), (3, 3)]
    assert rep.count == 3 and rep.per_pair["ssim"].shape == (3,)
    folder = tiny_root / "bounding_box_test"
    src = np.stack([read_image(folder / a) for a, _ in test.pairs])
    tgt = np.stack([read_image(folder / b) for _, b in test.pairs])
    np.testing.assert_allclose(rep.per_pair["ssim"], ssim_skimage(src, tgt, SKIMAGE_DEFAULT), atol=1e-5)
    assert rep.means["ssim"] == pytest.approx(float(np.mean(rep.per_pair["ssim"])))
    assert set(rep.skipped) == {"fid", "inception_score", "lpips"}
    assert rep.samples.shape == (3, 128, 64, 3)
    np.testing.assert_array_equal(rep.samples[0], src[0])


def test_perfect_method_and_writers(tiny_root: Path, tmp_path: Path) -> None:
    test = load_test_pairs(tiny_root)

    def perfect(batch: dict[str, Any]) -> torch.Tensor:
        return batch["tgt"]

    rep = evaluate_transfer(perfect, test.pairs, tiny_root, test.annotations, batch_size=8, limit=2, name="perfect")
    assert rep.count == 2
    assert rep.means["ssim"] == pytest.approx(1.0) and rep.means["masked_ssim"] == pytest.approx(1.0)
    assert math.isinf(rep.means["psnr"]) and rep.means["l1"] == 0.0
    base = evaluate_transfer(copy_source, test.pairs, tiny_root, test.annotations, limit=2, name="copy_source")
    summary = transfer_summary([rep, base], primary="copy_source", settings=TransferMetricsConfig().describe())
    path = write_transfer_json(tmp_path / "out" / "r.json", summary)
    data = json.loads(path.read_text())
    assert data["primary"] == "copy_source" and data["pairs"] == 2
    assert data["methods"]["perfect"]["psnr"] is None  # +inf is written as null
    assert data["ssim"] == pytest.approx(base.means["ssim"])
    grid = cv2.imread(str(write_grid(tmp_path / "g.png", tiny_root, [rep, base])))
    assert grid.shape[0] == 4 * 128 and grid.shape[1] > 2 * 64


def test_bad_method_output(tiny_root: Path) -> None:
    test = load_test_pairs(tiny_root)
    with pytest.raises(DataError, match="returned"):
        evaluate_transfer(lambda b: b["src"][:, :, :10], test.pairs, tiny_root, test.annotations)
    with pytest.raises(DataError, match="no pairs"):
        evaluate_transfer(copy_source, [], tiny_root, test.annotations)


class _TinyInception(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 6, 5, 4)
        self.fc = torch.nn.Linear(6, 4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pool = torch.relu(self.conv(x)).mean(dim=(2, 3))
        return pool, self.fc(pool)


def test_network_metrics_injected(tiny_root: Path) -> None:
    test = load_test_pairs(tiny_root)
    net = _TinyInception()
    real = FeatureStats()
    real.update(net(torch.rand(20, 3, 128, 64) * 2 - 1)[0])
    lp = LPIPS([torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())], [torch.rand(1, 4, 1, 1)])
    nets = NetworkMetrics(inception=net, real_stats=real, lpips=lp)  # type: ignore[arg-type]
    rep = evaluate_transfer(copy_source, test.pairs, tiny_root, test.annotations, networks=nets)
    assert rep.means["fid"] >= 0 and rep.means["lpips"] > 0
    assert "inception_score" in rep.skipped  # 3 images < 10 splits


def test_analytic_baseline_runs(tiny_root: Path) -> None:
    usable, skipped = available_baselines()
    if "analytic_flow_warp" not in usable:
        pytest.skip(skipped["analytic_flow_warp"])
    test = load_test_pairs(tiny_root)
    rep = evaluate_transfer(usable["analytic_flow_warp"], test.pairs, tiny_root, test.annotations, name="analytic")
    assert np.isfinite(rep.per_pair["masked_ssim"]).all() and rep.samples.shape[0] == 3


def test_cli_function(tiny_root: Path, tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from reid_augment.cli.eval_cmd import evaluate_transfer as command

    app = typer.Typer()
    app.command()(command)
    out = tmp_path / "r.json"
    res = CliRunner().invoke(
        app, ["--data", str(tiny_root), "--weights", str(tmp_path / "none"), "--json", str(out), "--device", "cpu"]
    )
    assert res.exit_code != 0  # explicit weights that do not exist are an error, not a silent skip
    res = CliRunner().invoke(app, ["--data", str(tiny_root), "--generator-name", "generator_gone", "--device", "cpu"])
    assert res.exit_code != 0 and "generator_gone" in str(res.exception)  # so is a generator asked for by name
    res = CliRunner().invoke(app, ["--data", str(tiny_root), "--json", str(out), "--device", "cpu", "--limit", "2"])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["pairs"] == 2 and "copy_source" in data["methods"] and data["hardware"]["device"] == "cpu"


@pytest.mark.data
def test_real_market_pairs_and_copy_source(market_root: Path) -> None:
    test = load_test_pairs(market_root)
    assert test.listed == 12000 and len(test.pairs) == 7483
    rep = evaluate_transfer(copy_source, test.pairs, market_root, test.annotations, limit=24, batch_size=12)
    folder = market_root / "bounding_box_test"
    src = np.stack([read_image(folder / a) for a, _ in test.pairs[:24]])
    tgt = np.stack([read_image(folder / b) for _, b in test.pairs[:24]])
    np.testing.assert_allclose(rep.per_pair["ssim"], ssim_skimage(src, tgt), atol=1e-5)
    assert 0.0 < rep.means["ssim"] < rep.means["masked_ssim"] < 1.0


def _variant_folders(tmp_path: Path) -> tuple[Path, Path]:
    """Two weights folders from the shipped weights: as shipped, and the same plus a (random) pixel-warp net."""
    import shutil

    from diaflow_core.models.pixel_warp import PixelWarper, PixelWarperConfig
    from diaflow_core.train.common import save_safetensors
    from diaflow_core.weights import find_weights

    gen = find_weights("generator", required=False)
    if gen is None:
        pytest.skip("no shipped generator weights in this checkout")
    plain, full = tmp_path / "plain", tmp_path / "full"
    for folder in (plain, full):
        folder.mkdir()
        for name in ("generator", "flow"):
            src = gen.with_name(f"{name}.safetensors")
            shutil.copy(src, folder / src.name)
            shutil.copy(src.with_suffix(".json"), folder / f"{name}.json")
    cfg = PixelWarperConfig(ch_min=8, ch_max=16, levels=3, res_blocks=1)
    torch.manual_seed(0)
    save_safetensors(PixelWarper(cfg), full / "pixel_warp.safetensors")
    meta = {"model": cfg.__dict__, "recipe": {"stage": "pixel_warp", "variant": "full"}, "epoch": 3, "step": 7}
    meta["trained"] = {"hardware": "test", "train_seconds": {"cpu": 1}, "previous": {"big": "history"}}
    (full / "pixel_warp.json").write_text(json.dumps(meta))
    return plain, full


def test_cli_variants_in_one_run(tiny_root: Path, tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from reid_augment.cli.eval_cmd import evaluate_transfer as command

    plain, full = _variant_folders(tmp_path)
    app = typer.Typer()
    app.command()(command)
    out = tmp_path / "r.json"
    base = ["--data", str(tiny_root), "--json", str(out), "--device", "cpu", "--limit", "2", "--no-baselines"]
    res = CliRunner().invoke(
        app, [*base, "--weights", str(plain), "--variant", f"full={full}", "--variant", f"again={plain}"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert set(data["methods"]) == {"model", "full", "again"} and data["primary"] == "model"
    model, again, with_pw = data["methods"]["model"], data["methods"]["again"], data["methods"]["full"]
    assert model["ssim"] == again["ssim"]  # the same weights in one run give the same numbers
    assert with_pw["ssim"] != model["ssim"]  # the pixel-warp blend changes the output
    assert "pixel_warp" not in model["weights"] and model["weights"]["generator"]["file"].startswith(str(plain))
    pw = with_pw["weights"]["pixel_warp"]
    assert (
        pw["variant"] == "full"
        and pw["epoch"] == 3
        and pw["trained"] == {"hardware": "test", "train_seconds": {"cpu": 1}}
    )
    assert model["weights"]["flow"]["mode"] == "learned" and len(model["weights"]["flow"]["sha256"]) == 64
    assert data["settings"]["variants"] == {"full": str(full), "again": str(plain)}
    for bad in ("full", "model=" + str(full), f"copy_source={full}"):
        res = CliRunner().invoke(app, [*base, "--variant", bad])
        assert res.exit_code != 0 and "--variant" in str(res.exception or res.output)
    res = CliRunner().invoke(app, [*base, "--variant", f"gone={tmp_path / 'none'}"])
    assert res.exit_code != 0  # a variant folder that cannot be loaded is an error, never skipped
