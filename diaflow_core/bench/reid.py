"""Re-ID training step benchmark: the experiment's ResNet-18 + BNNeck recipe, fp32 against bf16 autocast.

What one step costs decides whether the re-ID experiment (two arms, tens of epochs) can run on a CPU at all.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch

from ..precision import autocast
from ..reid.model import ReidNet
from ..reid.trainer import ReidLoss, ReidTrainConfig
from .core import BenchResult, BenchSettings, measure, rate_rows, synchronizer
from .proxy import SIZE

__all__ = ["bench_reid"]

_CLASSES = 700  # about the training identities of Market-1501


def _step_fn(model: ReidNet, loss: ReidLoss, x: torch.Tensor, y: torch.Tensor, precision: str) -> Callable[[], int]:
    opt = torch.optim.Adam(model.parameters(), lr=3.5e-4, weight_decay=5e-4)

    def step() -> int:
        with autocast(x.device, precision):
            out = model(x)
        parts = loss(out, y)  # losses in fp32, as the trainer computes them
        opt.zero_grad(set_to_none=True)
        parts["loss"].backward()
        opt.step()
        return x.shape[0]

    return step


def bench_reid(s: BenchSettings, device: torch.device) -> list[BenchResult]:
    """One re-ID training step (forward, CE + batch-hard triplet, Adam) on random 128x64 images: images/s."""
    b = s.reid_batch
    cfg = ReidTrainConfig()
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(b, 3, *SIZE, generator=g) * 2 - 1).to(device)
    y = torch.arange(b // 4).repeat_interleave(4).to(device)  # P identities x K=4 images
    torch.manual_seed(0)
    model = ReidNet(_CLASSES, cfg.model_config()).to(device).train()
    loss = ReidLoss(cfg)
    fns = {
        "fp32": _step_fn(model, loss, x, y, "fp32"),
        "bf16": _step_fn(copy.deepcopy(model), loss, x, y, "bf16"),
    }
    settings = {"batch": b, "size": list(SIZE), "device": str(device), "backbone": cfg.backbone, "loss": loss.backend}
    timings = measure(fns, s.repeats, s.warmup, synchronizer(device))
    rates = {k: [t.rate() for t in v] for k, v in timings.items()}
    return rate_rows("reid", "img/s", rates, "fp32", settings)
