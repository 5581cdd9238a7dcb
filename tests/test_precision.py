"""Precision policy (auto / fp32 / bf16) and what bf16 autocast does to the networks' outputs."""

from __future__ import annotations

import pytest
import torch

from diaflow_core.errors import ConfigError
from diaflow_core.infer import PoseTransfer
from diaflow_core.models.flow_net import FlowRegressor, FlowRegressorConfig
from diaflow_core.models.generator import GeneratorConfig, build_generator
from diaflow_core.pose import pose_heatmaps_torch
from diaflow_core.precision import autocast, cpu_bf16_fast, resolve_precision
from diaflow_core.train.flow_source import FlowSource, FlowSourceConfig


def test_resolve_precision(monkeypatch):
    assert resolve_precision("fp32", "cuda") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"
    assert resolve_precision("auto", "cuda") == "bf16"
    monkeypatch.setenv("DIAFLOW_CPU_BF16", "0")
    assert not cpu_bf16_fast() and resolve_precision("auto", "cpu") == "fp32"
    monkeypatch.setenv("DIAFLOW_CPU_BF16", "1")
    assert cpu_bf16_fast() and resolve_precision("auto", "cpu") == "bf16"
    with pytest.raises(ConfigError, match="precision must be one of"):
        resolve_precision("fp16", "cpu")


def test_cpu_detection_takes_amx_or_avx512_bf16(monkeypatch):
    """Without the override, either native bf16 feature (AMX tiles, AVX512-BF16) turns `auto` to bf16."""
    import diaflow_core.precision as prec

    monkeypatch.delenv("DIAFLOW_CPU_BF16", raising=False)
    for amx, avx in ((False, False), (True, False), (False, True), (True, True)):
        flags = {"_is_amx_tile_supported": amx, "_is_avx512_bf16_supported": avx}
        monkeypatch.setattr(prec, "_cpu_has", lambda name, flags=flags: flags[name])
        assert cpu_bf16_fast() == (amx or avx)
        assert resolve_precision("auto", "cpu") == ("bf16" if amx or avx else "fp32")


def test_autocast_context_sets_conv_dtype():
    conv = torch.nn.Conv2d(3, 4, 3)
    x = torch.rand(1, 3, 8, 8)
    with autocast("cpu", "bf16"):
        assert conv(x).dtype == torch.bfloat16
    with autocast("cpu", "fp32"):
        assert conv(x).dtype == torch.float32


def test_flow_heads_stay_fp32_under_bf16(standing_pose):
    torch.manual_seed(0)
    net = FlowRegressor(FlowRegressorConfig(ch_min=8, ch_max=16, levels=2)).eval()
    kp = torch.from_numpy(standing_pose)[None]
    p1 = pose_heatmaps_torch(kp, (128, 64), 4.0)
    p2 = pose_heatmaps_torch(kp + 3.0, (128, 64), 4.0)
    ref = net(p1, p2)
    with autocast("cpu", "bf16"):
        low = net(p1, p2)
    assert all(f.dtype == torch.float32 for f in low.flows) and low.vis_logits.dtype == torch.float32
    scale = ref.flows[0].abs().max().item()
    assert (low.flows[0] - ref.flows[0]).abs().max().item() <= 0.05 * scale + 1e-3


def test_pose_transfer_bf16_close_to_fp32(standing_pose):
    torch.manual_seed(0)
    gen = build_generator(GeneratorConfig(ch_min=8, ch_max=16)).eval().requires_grad_(False)
    flow = FlowSource(FlowSourceConfig(mode="analytic"), (128, 64), 4.0, torch.device("cpu"))
    models = {p: PoseTransfer(gen, flow, None, (128, 64), 4.0, torch.device("cpu"), "x", p) for p in ("fp32", "bf16")}
    assert models["bf16"].precision == "bf16" and models["fp32"].precision == "fp32"
    src = torch.rand(2, 3, 128, 64) * 2 - 1
    kp = torch.from_numpy(standing_pose).expand(2, 18, 2).clone()
    a, b = (models[p].transfer(src, kp, kp + 2.0) for p in ("fp32", "bf16"))
    assert b.dtype == torch.float32 and b.shape == a.shape
    diff = (a - b).abs()
    assert diff.mean().item() < 0.01 and diff.max().item() < 0.1  # images live in [-1, 1]
    assert not torch.equal(a, b)  # bf16 really ran
