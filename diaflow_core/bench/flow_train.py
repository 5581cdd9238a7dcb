"""One flow-regressor training step, as ``train.flow.train_flow`` runs it: pairs per second.

Why a case of its own: a lent GPU gives a session ~10 minutes of training, and the flow net's rate there
(~1,100 pairs/s at batch 64, fp32, session 11) is far below what its 3 GFLOP per pair would allow, so the
setting that trains fastest is worth a minute of measuring before a run. Rows, the baseline first:

- ``fp32``: batch ``flow_train_batch``, targets given (as the loader workers hand them over), contiguous;
- ``channels_last``: the module in NHWC (the recipe's ``channels_last: true``; heatmaps as made);
- ``bf16``: the trunk under bf16 autocast (the flow and visibility heads stay fp32, as in training);
- ``batch4x``: four times the batch, fp32 (fewer, larger kernels; the rate is per pair);
- ``device_targets``: fp32 plus the proxy-body targets rendered on the device each step
  (``data.targets: device``, what the GPU script uses); the CPU renderer is several times slower than numpy.

A step = heatmaps of both poses on the device, forward, multi-scale EPE + visibility CE in fp32, backward,
Adam, the weight-average update (``optim.ema_decay`` 0.998). Shapes from the shipped ``flow.json``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..losses.flow import flow_loss
from ..models.flow_net import FlowRegressor
from ..precision import autocast
from ..proxy3d import compute_flow_batch
from ..proxy3d.torch_flow import compute_flow_batch_torch
from ..train.common import make_ema
from ..train.flow import predict_flow
from .core import BenchResult, BenchSettings, measure, rate_rows, synchronizer
from .networks import _poses, _reference_configs
from .proxy import SIZE

__all__ = ["bench_flow_train"]

_RADIUS = 4.0
_EMA_DECAY = 0.998


def _step_fn(
    model: FlowRegressor,
    src: np.ndarray,
    tgt: np.ndarray,
    device: torch.device,
    precision: str = "fp32",
    device_targets: bool = False,
) -> Callable[[], int]:
    """A closure running one training step of ``model`` on the pairs (src, tgt); returns the pair count."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-5)  # small: the timed steps should not blow the weights up
    ema = make_ema(model, _EMA_DECAY)
    src_kp, tgt_kp = torch.as_tensor(src).to(device), torch.as_tensor(tgt).to(device)
    flow_np, vis_np = compute_flow_batch(src, tgt, size=SIZE)
    given = (torch.as_tensor(flow_np).to(device), torch.as_tensor(vis_np).long().to(device))
    model.train()

    def step() -> int:
        if device_targets:
            flow_gt, vis = compute_flow_batch_torch(src, tgt, size=SIZE, device=device)
            vis_gt = vis.long()
        else:
            flow_gt, vis_gt = given
        with autocast(device, precision):
            pred = predict_flow(model, src_kp, tgt_kp, SIZE, _RADIUS)
        loss, _ = flow_loss([f.float() for f in pred.flows], pred.vis_logits.float(), flow_gt, vis_gt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if ema is not None:
            ema.update_parameters(model)
        return len(src)

    return step


def bench_flow_train(s: BenchSettings, device: torch.device) -> list[BenchResult]:
    """Flow-regressor training steps (module docstring): pairs per second, ratios against ``fp32``."""
    flow_cfg = _reference_configs()[0]  # the shipped network's shape
    b = s.flow_train_batch
    src, tgt = (kp.numpy().astype(np.float32) for kp in _poses(s, 4 * b))
    torch.manual_seed(0)
    base = FlowRegressor(flow_cfg).to(device)

    def fresh() -> FlowRegressor:
        return copy.deepcopy(base)

    fns = {
        "fp32": _step_fn(fresh(), src[:b], tgt[:b], device),
        "channels_last": _step_fn(fresh().to(memory_format=torch.channels_last), src[:b], tgt[:b], device),
        "bf16": _step_fn(fresh(), src[:b], tgt[:b], device, precision="bf16"),
        "batch4x": _step_fn(fresh(), src, tgt, device),
        "device_targets": _step_fn(fresh(), src[:b], tgt[:b], device, device_targets=True),
    }
    notes = {"batch4x": f"batch {4 * b}", "device_targets": "+ proxy-body targets rendered on the device"}
    settings: dict[str, Any] = {
        "batch": b,
        "size": list(SIZE),
        "device": str(device),
        "model": "shipped flow.json shape, random init",
        "step": "heatmaps, forward, multi-scale EPE + visibility CE, backward, Adam, EMA 0.998",
    }
    timings = measure(fns, s.repeats, s.warmup, synchronizer(device))
    rates = {k: [t.rate() for t in v] for k, v in timings.items()}
    return rate_rows("flow_train", "pairs/s", rates, "fp32", settings, notes=notes)
