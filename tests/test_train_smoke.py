"""End-to-end smoke runs of the training stages on the tiny drawn-people fixture: they run, log, checkpoint,
resume, and the validation figures are finite. Tiny widths keep each run to seconds on the CPU."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import yaml

from diaflow_core.config import apply_overrides, load_recipe, to_dict
from diaflow_core.losses import PerceptualConfig
from diaflow_core.models.flow_net import FlowRegressor, FlowRegressorConfig
from diaflow_core.train.common import save_safetensors
from diaflow_core.train.generator import GenLossConfig, GenTrainConfig, train_generator

TINY_GEN = [
    "model.ch_min=8",
    "model.ch_max=16",
    "pixel_warp.ch_min=8",
    "pixel_warp.ch_max=16",
    "discriminator.ndf=8",
    "optim.batch_size=4",
    "optim.epochs=3",
    "loss.gan_start_epoch=1",
    "num_workers=0",
    "log_every=1",
    "data.val_pairs=4",
    "channels_last=false",
]

# The flow stage at toy width on the tiny fixture (with data.market_root added per test).
TINY_FLOW = [
    "model.ch_min=8",
    "model.ch_max=16",
    "model.levels=2",
    "optim.batch_size=4",
    "num_workers=0",
    "data.val_pairs=8",
    "channels_last=false",
    "data.min_joints=4",
]


@pytest.fixture()
def flow_weights(tmp_path):
    torch.manual_seed(0)
    cfg = FlowRegressorConfig(ch_min=8, ch_max=16, levels=2)
    path = tmp_path / "flow.safetensors"
    save_safetensors(FlowRegressor(cfg), path)
    path.with_suffix(".json").write_text(json.dumps({"model": to_dict(cfg)}))
    return path


def _stats(run):
    return [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]


def test_generator_then_pixel_warp_stage(tiny_market, flow_weights, tmp_path):
    cfg = load_recipe(
        GenTrainConfig,
        "recipes/market1501_generator.yaml",
        [
            *TINY_GEN,
            f"data.market_root={tiny_market}",
            f"flow.weights={flow_weights}",
            "optim.warmup_steps=2",
            "select_metric=masked_ssim",
        ],
    )
    res = train_generator(cfg, tmp_path / "gen", torch.device("cpu"))
    assert math.isfinite(res["best_score"]) and res["steps"] > 0
    recs = _stats(tmp_path / "gen")
    lr_g = {r["step"]: r["lr_g"] for r in recs if "lr_g" in r}
    assert lr_g[1] == pytest.approx(cfg.optim.lr_g / 2) and lr_g[2] == pytest.approx(cfg.optim.lr_g)
    assert any("d" in r for r in recs), "the GAN phase switched on after gan_start_epoch"
    assert (tmp_path / "gen" / "checkpoints" / "best.pt").is_file()
    assert (tmp_path / "gen" / "recipe.resolved.yaml").is_file()
    assert list((tmp_path / "gen").glob("val_epoch*.png"))

    # resume: more epochs continue from the saved step count
    more = apply_overrides(cfg, ["optim.epochs=4"])
    first_recipe = (tmp_path / "gen" / "recipe.resolved.yaml").read_text()
    res2 = train_generator(more, tmp_path / "gen", torch.device("cpu"), resume=True)
    assert res2["steps"] > res["steps"]
    # the run keeps its own recipe; the resume's changed one lies beside it
    assert (tmp_path / "gen" / "recipe.resolved.yaml").read_text() == first_recipe
    resumed = yaml.safe_load((tmp_path / "gen" / "recipe.resumed-1.yaml").read_text())
    assert resumed["optim"]["epochs"] == 4 and yaml.safe_load(first_recipe)["optim"]["epochs"] != 4
    # select_metric=masked_ssim: best.pt holds the validation with the highest masked SSIM of both runs
    masked_vals = [r["val"]["masked_ssim"] for r in _stats(tmp_path / "gen") if "val" in r]
    assert len(masked_vals) >= 3
    best_extra = torch.load(tmp_path / "gen/checkpoints/best.pt", weights_only=True)["extra"]
    assert best_extra["select_metric"] == "masked_ssim" and res2["select_metric"] == "masked_ssim"
    assert best_extra["val"]["masked_ssim"] == max(masked_vals) == res2["best_score"]
    # a resume that picks by another figure starts its best over: its first validation is kept
    res_ssim = train_generator(
        apply_overrides(cfg, ["optim.epochs=5", "select_metric=ssim"]),
        tmp_path / "gen",
        torch.device("cpu"),
        resume=True,
    )
    last_val = [r["val"] for r in _stats(tmp_path / "gen") if "val" in r][-1]
    best_extra = torch.load(tmp_path / "gen/checkpoints/best.pt", weights_only=True)["extra"]
    assert (
        best_extra["select_metric"] == "ssim"
        and res_ssim["best_score"] == last_val["ssim"] == best_extra["val"]["ssim"]
    )

    pw = load_recipe(
        GenTrainConfig,
        "recipes/market1501_pixel_warp.yaml",
        [
            *TINY_GEN,
            f"data.market_root={tiny_market}",
            f"flow.weights={flow_weights}",
            f"generator_weights={tmp_path / 'gen' / 'checkpoints' / 'best.pt'}",
            "optim.epochs=1",
            "optim.ema_decay=0.5",
            "loss.mask_l1_weight=2.0",
            "loss.mask_ssim_weight=0.5",
            "loss.ssim_weight=0.5",
        ],
    )
    res3 = train_generator(pw, tmp_path / "pw", torch.device("cpu"))
    assert math.isfinite(res3["best_score"])
    # loss.mask_l1_weight: the body-mask L1 is added and logged (the mean over the mask's pixels)
    masked = [r["mask_l1"] for r in _stats(tmp_path / "pw") if "l1" in r]
    assert masked and all(math.isfinite(m) and m > 0 for m in masked)
    assert not any("mask_l1" in r for r in recs)  # off by default
    # loss.ssim_weight / loss.mask_ssim_weight: 1 - (masked) SSIM is added and logged, in (0, 2)
    for key in ("ssim_loss", "mask_ssim_loss"):
        got = [r[key] for r in _stats(tmp_path / "pw") if "l1" in r]
        assert got and all(0.0 < v < 2.0 for v in got), key
        assert not any(key in r for r in recs)
    # with optim.ema_decay the average is validated and kept in best.pt; the raw weights' figures are logged too
    vals = [r for r in _stats(tmp_path / "pw") if "val" in r]
    assert vals and all("val_raw" in r and math.isfinite(r["val_raw"]["ssim"]) for r in vals)
    last = torch.load(tmp_path / "pw/checkpoints/last.pt", weights_only=True)
    best = torch.load(tmp_path / "pw/checkpoints/best.pt", weights_only=True)
    assert int(last["state"]["ema"]["n_averaged"]) == res3["steps"]
    for k, v in best["state"]["pixel_warp"].items():
        torch.testing.assert_close(v, last["state"]["ema"][f"module.{k}"])
    assert any(not torch.equal(v, last["state"]["net"][k]) for k, v in best["state"]["pixel_warp"].items())


def test_pair_collate_masks_follow_the_flipped_target(tiny_market):
    """The body-mask loss's mask is drawn from the target pose as the batch has it (after the joint flip)."""
    import numpy as np

    from diaflow_core.data.pairs_dataset import PoseTransferPairs
    from diaflow_core.pose import body_mask
    from diaflow_core.train.generator import PairCollate

    ds = PoseTransferPairs(tiny_market, split="train")
    items = [ds[i] for i in range(2)]
    plain = PairCollate(0.0, 64, (128, 64))([dict(it) for it in items])
    flipped = PairCollate(1.0, 64, (128, 64))([dict(it) for it in items])
    assert "tgt_mask" not in PairCollate(0.0, 64)([dict(it) for it in items])
    for b in (plain, flipped):
        assert b["tgt_mask"].shape == (2, 1, 128, 64) and b["tgt_mask"].dtype == torch.float32
        for i in range(2):
            expected = body_mask(b["tgt_kp"][i].numpy(), (128, 64))
            np.testing.assert_array_equal(b["tgt_mask"][i, 0].numpy(), expected.astype(np.float32))
    assert plain["tgt_mask"].sum() > 0 and not torch.equal(plain["tgt_mask"], flipped["tgt_mask"])


@pytest.mark.parametrize(
    ("recipe", "switch"),
    [
        ("market1501_generator_no_dual.yaml", ("dual_encoder", False)),
        ("market1501_generator_no_flow.yaml", ("use_flow", False)),
        ("market1501_generator_no_vis.yaml", ("vis_mode", "none")),
    ],
)
def test_ablation_variants_train(tiny_market, flow_weights, tmp_path, recipe, switch):
    """The paper's ablations train from their recipes as they are, and the checkpoint records the variant."""
    cfg = load_recipe(
        GenTrainConfig,
        f"recipes/{recipe}",
        [*TINY_GEN, "optim.epochs=1", f"data.market_root={tiny_market}", f"flow.weights={flow_weights}"],
    )
    res = train_generator(cfg, tmp_path / "run", torch.device("cpu"))
    assert math.isfinite(res["best_score"]) and res["steps"] > 0
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "best.pt", map_location="cpu", weights_only=True)
    key, value = switch
    assert ckpt["config"]["model"][key] == value


def test_perceptual_backend_must_be_chosen():
    with pytest.raises(TypeError):
        GenLossConfig()  # type: ignore[call-arg]
    assert GenLossConfig(perceptual=PerceptualConfig(backend="none")).perceptual.backend == "none"


def test_export_and_pose_transfer(tiny_market, flow_weights, tmp_path, standing_pose):
    import shutil

    from diaflow_core.infer import PoseTransfer, export_weights

    cfg = load_recipe(
        GenTrainConfig,
        "recipes/market1501_generator.yaml",
        [*TINY_GEN, f"data.market_root={tiny_market}", f"flow.weights={flow_weights}", "optim.epochs=1"],
    )
    train_generator(cfg, tmp_path / "gen", torch.device("cpu"))
    folder = tmp_path / "weights"
    out = export_weights(tmp_path / "gen" / "checkpoints" / "best.pt", "generator", folder, half=True)
    assert out.is_file() and out.with_suffix(".json").is_file()
    shutil.copy(flow_weights, folder / "flow.safetensors")
    shutil.copy(flow_weights.with_suffix(".json"), folder / "flow.json")
    pt = PoseTransfer.load(folder, flow="learned")
    src = torch.rand(2, 3, 128, 64) * 2 - 1
    kp = torch.from_numpy(standing_pose).expand(2, 18, 2).clone()
    a = pt.transfer(src, kp, kp + 2.0)
    assert a.shape == (2, 3, 128, 64) and a.abs().max() <= 1.0
    assert torch.equal(a, pt.transfer(src, kp, kp + 2.0))  # eval mode: deterministic
    assert len(pt.weights_hash) == 12
    with pytest.raises(ValueError):
        pt.transfer(src[:, :, :64], kp, kp)
    # A second generator beside the first (as the shipped generator_ssim): picked by name, nothing else changes.
    from safetensors.torch import load_file, save_file

    from diaflow_core.errors import WeightsError

    tensors = {k: v + 0.05 if v.is_floating_point() else v for k, v in load_file(out).items()}
    save_file(tensors, folder / "generator_ssim.safetensors")
    shutil.copy(out.with_suffix(".json"), folder / "generator_ssim.json")
    other = PoseTransfer.load(folder, flow="learned", generator_name="generator_ssim")
    assert other.provenance["generator"]["file"] == str(folder / "generator_ssim.safetensors")
    assert other.provenance["flow"]["sha256"] == pt.provenance["flow"]["sha256"]
    assert other.weights_hash != pt.weights_hash and not torch.equal(other.transfer(src, kp, kp + 2.0), a)
    with pytest.raises(WeightsError, match="generator_best"):
        PoseTransfer.load(folder, generator_name="generator_best")


def test_flow_stage_trains_and_resumes(tiny_market, tmp_path):
    from diaflow_core.train.flow import FlowTrainConfig, train_flow

    over = [*TINY_FLOW, f"data.market_root={tiny_market}", "optim.epochs=2", "log_every=1", "optim.warmup_steps=3"]
    cfg = load_recipe(FlowTrainConfig, "recipes/market1501_flow.yaml", over)
    res = train_flow(cfg, tmp_path / "flow", torch.device("cpu"))
    assert math.isfinite(res["best_epe"]) and res["best"]["vis_accuracy"] > 0
    recs = _stats(tmp_path / "flow")
    assert any("epe_px" in r for r in recs) and any("val" in r for r in recs)
    # the lr ramps over the first 3 steps, then follows the epoch schedule
    lr = {r["step"]: r["lr"] for r in recs if "lr" in r}
    base = cfg.optim.lr
    assert lr[1] == pytest.approx(base / 3) and lr[2] == pytest.approx(2 * base / 3)
    assert lr[3] == pytest.approx(base) and cfg.optim.lr_step_epochs > 3, "no StepLR decay within these epochs"
    res2 = train_flow(apply_overrides(cfg, ["optim.epochs=3"]), tmp_path / "flow", torch.device("cpu"), resume=True)
    assert res2["steps"] > res["steps"]
    resumed = [r for r in _stats(tmp_path / "flow") if "lr" in r and r["step"] > res["steps"]]
    assert resumed and all(r["lr"] == pytest.approx(base) for r in resumed), "no second warm-up on resume"
    with pytest.raises(Exception, match="--resume"):
        train_flow(cfg, tmp_path / "flow", torch.device("cpu"))


def test_make_ema_averages_weights_and_batchnorm_statistics():
    from diaflow_core.errors import ConfigError
    from diaflow_core.train.common import make_ema

    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    assert make_ema(net, 0.0) is None
    with pytest.raises(ConfigError, match="ema_decay"):
        make_ema(net, 1.0)
    ema = make_ema(net, 0.75)
    w0, m0 = net[0].weight.detach().clone(), net[1].running_mean.clone()
    ema.update_parameters(net)  # the first update copies
    with torch.no_grad():
        net[0].weight.add_(1.0)
    net(torch.randn(8, 2))  # train mode: moves the running mean
    ema.update_parameters(net)
    torch.testing.assert_close(ema.module[0].weight, 0.75 * w0 + 0.25 * net[0].weight)
    torch.testing.assert_close(ema.module[1].running_mean, 0.75 * m0 + 0.25 * net[1].running_mean)


def test_flow_stage_with_ema_and_joint_hint_keeps_the_average(tiny_market, tmp_path):
    """optim.ema_decay: validation and best.pt use the averaged weights, the raw ones are logged as val_raw,
    last.pt carries the average so a resume continues it."""
    from diaflow_core.train.flow import FlowTrainConfig, train_flow

    over = [
        *TINY_FLOW,
        f"data.market_root={tiny_market}",
        "model.joint_hint=true",
        "optim.epochs=1",
        "optim.ema_decay=0.9",
    ]
    cfg = load_recipe(FlowTrainConfig, "recipes/market1501_flow.yaml", over)
    res = train_flow(cfg, tmp_path / "flow", torch.device("cpu"))
    vals = [r for r in _stats(tmp_path / "flow") if "val" in r]
    assert vals and all("val_raw" in r for r in vals) and vals[0]["val"]["epe"] != vals[0]["val_raw"]["epe"]
    last = torch.load(tmp_path / "flow/checkpoints/last.pt", weights_only=True)
    best = torch.load(tmp_path / "flow/checkpoints/best.pt", weights_only=True)
    avg = {k.removeprefix("module."): v for k, v in last["state"]["ema"].items() if k.startswith("module.")}
    assert int(last["state"]["ema"]["n_averaged"]) == res["steps"]
    for k, v in best["state"]["model"].items():
        torch.testing.assert_close(v, avg[k])
    assert any(not torch.equal(v, last["state"]["model"][k]) for k, v in avg.items())  # not the raw weights
    assert "hint.weight" in avg
    res2 = train_flow(apply_overrides(cfg, ["optim.epochs=2"]), tmp_path / "flow", torch.device("cpu"), resume=True)
    last2 = torch.load(tmp_path / "flow/checkpoints/last.pt", weights_only=True)
    assert int(last2["state"]["ema"]["n_averaged"]) == res2["steps"] > res["steps"]


def test_flow_refine_head_starts_from_plain_weights(tiny_market, tmp_path, standing_pose):
    """init_weights of a network without the refine head: the trunk loads, the head starts at zero
    correction (same outputs), and keys missing elsewhere are still refused."""
    from diaflow_core.errors import WeightsError
    from diaflow_core.train.common import load_safetensors_into

    torch.manual_seed(0)
    plain_cfg = FlowRegressorConfig(ch_min=8, ch_max=16, levels=2)
    plain = FlowRegressor(plain_cfg).eval()
    path = tmp_path / "plain.safetensors"
    save_safetensors(plain, path)
    refined = FlowRegressor(FlowRegressorConfig(ch_min=8, ch_max=16, levels=2, refine=True)).eval()
    fresh = load_safetensors_into(refined, path, missing_ok=("refine.",))
    assert fresh and all(k.startswith("refine.") for k in fresh)
    p1, p2 = torch.rand(1, 18, 32, 16), torch.rand(1, 18, 32, 16)
    torch.testing.assert_close(refined(p1, p2).flows[0], plain(p1, p2).flows[0])
    with pytest.raises(WeightsError, match="missing"):
        load_safetensors_into(FlowRegressor(FlowRegressorConfig(ch_min=8, ch_max=16, levels=2, refine=True)), path)
    with pytest.raises(WeightsError, match="missing"):  # a bigger trunk: missing keys outside the prefix
        load_safetensors_into(FlowRegressor(FlowRegressorConfig(ch_min=8, ch_max=16, levels=3)), path, ("refine.",))

    from diaflow_core.train.flow import FlowTrainConfig, train_flow

    over = [
        *TINY_FLOW,
        f"data.market_root={tiny_market}",
        "model.refine=true",
        f"init_weights={path}",
        "data.targets=device",  # the loop renders the targets (PyTorch renderer on the CPU here)
        "optim.epochs=1",
    ]
    cfg = load_recipe(FlowTrainConfig, "recipes/market1501_flow.yaml", over)
    train_flow(cfg, tmp_path / "run", torch.device("cpu"))
    init = [r for r in _stats(tmp_path / "run") if "init_weights" in r]
    assert init and init[0]["fresh_keys"] == len(fresh)

    # trainable=[refine.]: the trunk (BatchNorm statistics included) stays exactly as loaded, the head moves
    frozen_over = [*over, "trainable=[refine.]", "optim.lr=1e-2"]
    cfg = load_recipe(FlowTrainConfig, "recipes/market1501_flow.yaml", frozen_over)
    train_flow(cfg, tmp_path / "head", torch.device("cpu"))
    trained = torch.load(tmp_path / "head" / "checkpoints" / "last.pt", weights_only=True)["state"]["model"]
    before = plain.state_dict()
    for k, v in trained.items():
        if k.startswith("refine."):
            continue
        assert torch.equal(v, before[k]), k
    assert not torch.equal(trained["refine.flow.weight"], torch.zeros_like(trained["refine.flow.weight"]))
    # validation leaves the frozen modules in eval mode and the trainable ones in training mode
    from diaflow_core.train.flow import freeze_except, validate_flow
    from diaflow_core.train.flow_data import FlowCollate

    net = FlowRegressor(FlowRegressorConfig(ch_min=8, ch_max=16, levels=2, refine=True))
    freeze_except(net, ("refine.",))
    batch = FlowCollate((32, 16), None)([{"src_kp": standing_pose / 4, "tgt_kp": standing_pose / 4}])
    validate_flow(net, [batch], cfg.data.__class__(size=(32, 16)), torch.device("cpu"), amp=False)
    assert net.training and net.refine.training and not net.stem[0][1].training
    # resuming that run with a recipe whose model differs: a clear error naming the checkpoint
    with pytest.raises(WeightsError, match="does not fit the model built from the recipe"):
        plain_again = apply_overrides(cfg, ["model.refine=false", "trainable=[]"])
        train_flow(plain_again, tmp_path / "head", torch.device("cpu"), resume=True)
    with pytest.raises(Exception, match="no parameter name starts with"):
        train_flow(apply_overrides(cfg, ["trainable=[nothing.]"]), tmp_path / "none", torch.device("cpu"))


def test_flow_targets_rendered_on_the_device_equal_the_workers(standing_pose):
    """data.targets=device: the collate hands over the augmented poses and the loop renders them with the
    PyTorch renderer; the targets are those the numpy collate makes from the same draws."""
    from diaflow_core.train.flow import FlowDataConfig
    from diaflow_core.train.flow_data import FlowCollate, targets_on_device
    from diaflow_core.train.pose_augment import PoseAugConfig

    rng = np.random.default_rng(0)
    items = [
        {"src_kp": standing_pose, "tgt_kp": standing_pose + rng.normal(0, 3, standing_pose.shape).astype(np.float32)}
        for _ in range(6)
    ]
    aug = PoseAugConfig()
    torch.manual_seed(3)
    ref = FlowCollate((128, 64), aug, seed=1)(items)
    torch.manual_seed(3)
    lean = FlowCollate((128, 64), aug, seed=1, targets=False)(items)
    assert "flow" not in lean and lean["gt_src_kp"].shape == (6, 18, 2)
    torch.testing.assert_close(lean["src_kp"], ref["src_kp"], equal_nan=True)
    flow, vis = targets_on_device(lean, (128, 64), torch.device("cpu"))
    assert flow.dtype == torch.float32 and vis.dtype == torch.int64
    torch.testing.assert_close(vis, ref["vis"])
    torch.testing.assert_close(flow, ref["flow"], atol=1e-3, rtol=0)
    passed = targets_on_device(ref, (128, 64), torch.device("cpu"))
    assert passed[0] is ref["flow"] or torch.equal(passed[0], ref["flow"])
    with pytest.raises(Exception, match="data.targets"):
        FlowDataConfig(targets="gpu")


def test_train_flow_cli(tiny_market, tmp_path):
    from typer.testing import CliRunner

    from reid_augment.cli.app import app

    args = [
        "train",
        "flow",
        "-r",
        "recipes/market1501_flow.yaml",
        "-o",
        str(tmp_path / "run"),
        "--data",
        str(tiny_market),
        "--device",
        "cpu",
    ]
    for o in [
        "model.ch_min=8",
        "model.ch_max=16",
        "model.levels=2",
        "optim.batch_size=4",
        "optim.epochs=1",
        "num_workers=0",
        "data.val_pairs=4",
        "channels_last=false",
        "data.min_joints=4",
    ]:
        args += ["-s", o]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert '"best_epe"' in res.output and (tmp_path / "run" / "checkpoints" / "best.pt").is_file()
    bad = CliRunner().invoke(app, [*args[:10], "-s", "optim.lrr=1"])
    assert bad.exit_code != 0 and "did you mean 'lr'" in str(bad.exception)
