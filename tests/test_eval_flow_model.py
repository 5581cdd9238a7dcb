"""`evaluate_flow_model` (regressor + baselines vs the proxy body on pose pairs) and `reid-augment evaluate flow`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from diaflow_core.config import to_dict
from diaflow_core.errors import DataError
from diaflow_core.evaluation.flow_eval import (
    BASELINE_NAMES,
    evaluate_flow_model,
    flow_eval_picture,
    goal_check,
    load_test_pose_pairs,
)
from diaflow_core.models.flow_net import FlowRegressor, FlowRegressorConfig
from diaflow_core.train.common import save_safetensors

TINY = FlowRegressorConfig(ch_min=8, ch_max=16, levels=2)
KEYS = ("epe", "epe_visible", "epe_hidden", "vis_accuracy", "iou_visible", "iou_hidden", "iou_background", "pairs")


@pytest.fixture()
def tiny_model() -> FlowRegressor:
    torch.manual_seed(0)
    return FlowRegressor(TINY)


@pytest.fixture()
def flow_weights(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "flow.safetensors"
    save_safetensors(FlowRegressor(TINY), path)
    path.with_suffix(".json").write_text(json.dumps({"model": to_dict(TINY), "data": {"heatmap_radius": 4.0}}))
    return path


def _pairs(pose: np.ndarray, n: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        tgt = pose + rng.normal(0, 2.0, pose.shape).astype(np.float32)
        tgt[:, 0] += rng.uniform(-4, 4)
        out.append((pose.copy(), tgt))
    return out


def test_keys_shapes_and_baselines(tiny_model: FlowRegressor, standing_pose: np.ndarray) -> None:
    calls: list[tuple[int, int]] = []
    res = evaluate_flow_model(
        tiny_model, _pairs(standing_pose, 5), batch_size=2, progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(2, 5), (4, 5), (5, 5)]
    for k in KEYS:
        assert k in res and math.isfinite(res[k]), k
    assert res["pairs"] == 5
    assert 0.0 <= res["vis_accuracy"] <= 1.0 and res["epe"] >= 0.0
    assert set(res["baselines"]) == set(BASELINE_NAMES)
    for name in BASELINE_NAMES:
        base = res["baselines"][name]
        assert base["pairs"] == 5 and math.isfinite(base["epe"]) and 0.0 <= base["vis_accuracy"] <= 1.0
    for name in ("zero_flow", "affine_limb_flow"):
        assert res["baselines"][name]["iou_hidden"] == 0.0  # the 2D baselines never predict "hidden"
    # the half-size bound loses only at part edges: far better than the 2D baselines, not exact
    bound = res["baselines"]["gt_half_res"]
    assert 0.0 < bound["epe"] < 0.5 * res["baselines"]["affine_limb_flow"]["epe"]
    assert bound["vis_accuracy"] > 0.9
    gt = res["ground_truth"]
    fractions = gt["fraction_visible"] + gt["fraction_hidden"] + gt["fraction_background"]
    assert fractions == pytest.approx(1.0)
    # zero flow's EPE is the mean ground-truth flow magnitude on the body
    assert res["baselines"]["zero_flow"]["epe"] == pytest.approx(gt["mean_flow_px"], rel=1e-5)
    assert set(res["seconds"]) == {"ground_truth", "model", *BASELINE_NAMES}

    no_base = evaluate_flow_model(tiny_model, _pairs(standing_pose, 2), batch_size=8, baselines=False)
    assert no_base["baselines"] == {} and no_base["pairs"] == 2


def test_identical_poses_give_zero_flow_epe_zero(tiny_model: FlowRegressor, standing_pose: np.ndarray) -> None:
    res = evaluate_flow_model(tiny_model, [(standing_pose, standing_pose)] * 3, batch_size=2)
    assert res["baselines"]["zero_flow"]["epe"] == pytest.approx(0.0, abs=1e-3)
    assert res["baselines"]["affine_limb_flow"]["epe"] == pytest.approx(0.0, abs=1e-3)


def test_known_shift(tiny_model: FlowRegressor, standing_pose: np.ndarray) -> None:
    """Target = source moved 3 px right: backward flow is -3 px in x everywhere on the body."""
    tgt = standing_pose.copy()
    tgt[:, 0] += 3.0
    res = evaluate_flow_model(tiny_model, [(standing_pose, tgt)])
    assert res["baselines"]["zero_flow"]["epe"] == pytest.approx(3.0, abs=1e-3)
    assert res["baselines"]["affine_limb_flow"]["epe"] == pytest.approx(0.0, abs=1e-3)


def test_bad_input(tiny_model: FlowRegressor, standing_pose: np.ndarray) -> None:
    with pytest.raises(DataError):
        evaluate_flow_model(tiny_model, [])
    with pytest.raises(DataError):
        evaluate_flow_model(tiny_model, [(standing_pose, standing_pose)], batch_size=0)
    with pytest.raises(DataError):
        evaluate_flow_model(tiny_model, [(standing_pose[:17], standing_pose[:17])])


def test_goal_check() -> None:
    assert goal_check({"epe": 1.2, "vis_accuracy": 0.95})["met"]
    miss = goal_check({"epe": 3.0, "vis_accuracy": 0.95})
    assert not miss["met"] and not miss["epe_met"] and miss["vis_accuracy_met"]


def test_picture(tiny_model: FlowRegressor, standing_pose: np.ndarray) -> None:
    pic = flow_eval_picture(tiny_model, _pairs(standing_pose, 3), zoom=1)
    assert pic.dtype == np.uint8 and pic.ndim == 3 and pic.shape[2] == 3
    # 3 rows of 6 tiles, each 128x64 plus a caption strip, padded by 2 px
    assert pic.shape[1] == 6 * (64 + 2) + 2 and pic.shape[0] > 3 * 128


def test_load_test_pose_pairs(tiny_market: Path) -> None:
    test = load_test_pose_pairs(tiny_market)
    assert test.listed == 3 and len(test.names) == 3 == len(test.poses)
    assert test.poses[0][0].shape == (18, 2)


def test_cli(tiny_market: Path, flow_weights: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from reid_augment.cli.app import app

    out, pic = tmp_path / "flow.json", tmp_path / "flow.png"
    args = ["evaluate", "flow", "--data", str(tiny_market), "--weights", str(flow_weights), "--device", "cpu"]
    res = CliRunner().invoke(app, [*args, "--json", str(out), "--picture", str(pic), "--limit", "2"])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["pairs"] == 2 and data["settings"]["pairs_listed"] == 3 and data["settings"]["pairs_annotated"] == 3
    for k in ("epe", "vis_accuracy", "iou_hidden", "baselines", "goal", "hardware", "wall_time_s", "seconds"):
        assert k in data, k
    assert set(data["baselines"]) == set(BASELINE_NAMES)
    assert data["settings"]["heatmap_radius"] == 4.0 and data["hardware"]["device"] == "cpu"
    assert pic.is_file() and pic.stat().st_size > 0

    missing = CliRunner().invoke(app, [*args[:2], "--data", str(tmp_path / "nowhere"), "--weights", str(flow_weights)])
    assert missing.exit_code != 0


@pytest.mark.data
def test_real_market_test_pose_pairs(market_root: Path) -> None:
    test = load_test_pose_pairs(market_root)
    assert test.listed == 12000 and len(test.poses) == 12000
