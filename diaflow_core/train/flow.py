"""Stage 1: train the flow regressor on Market-1501 training poses against proxy-body ground truth.

One readable loop: pose pairs -> (workers) augmentation + proxy-body targets -> heatmaps on the device ->
multi-scale EPE + visibility CE -> Adam. Validation pairs come from held-out TRAINING identities and are fixed,
so the checkpoint choice is stable; the best EPE is kept as `best.pt`.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from ..data.annotations import read_annotations
from ..data.pairs_dataset import PosePairs
from ..errors import ConfigError
from ..evaluation.flow import FlowStats
from ..losses.flow import FlowLossConfig, flow_loss
from ..models.flow_net import FlowPrediction, FlowRegressor, FlowRegressorConfig
from ..pose import pose_heatmaps_torch
from .common import (
    RunDir,
    autocast_for,
    is_main,
    load_checkpoint,
    load_safetensors_into,
    make_ema,
    save_checkpoint,
    scaled_lr,
    seed_everything,
    warmup_factor,
    world_size,
)
from .flow_data import FlowCollate, targets_on_device
from .pose_augment import PoseAugConfig
from .sampling import EpochEncoded, EpochSampler

__all__ = [
    "FlowDataConfig",
    "OptimConfig",
    "FlowTrainConfig",
    "freeze_except",
    "train_flow",
    "predict_flow",
    "validate_flow",
    "validation_batches",
    "validation_poses",
]


@dataclass(frozen=True)
class FlowDataConfig:
    market_root: str = "../shared/data/market1501"
    annotations: str = "market-annotation-train.csv"  # relative to market_root unless absolute
    val_fraction: float = 0.1
    cross_identity: float = 0.5
    min_joints: int = 8
    size: tuple[int, int] = (128, 64)
    heatmap_radius: float = 4.0
    val_pairs: int = 512
    # Where the proxy-body targets are rendered: "loader" (numpy, in the DataLoader workers) or "device"
    # (PyTorch, on the training device: use it on a GPU, where the workers' numpy rendering is the bottleneck;
    # on a CPU it is several times slower than "loader"). Both give the same targets bit for bit.
    targets: str = "loader"

    def __post_init__(self) -> None:
        if self.targets not in ("loader", "device"):
            raise ConfigError(f"data.targets: expected 'loader' or 'device', got {self.targets!r}")


@dataclass(frozen=True)
class OptimConfig:
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    batch_size: int = 8
    epochs: int = 30
    lr_step_epochs: int = 8
    lr_gamma: float = 0.5
    grad_clip: float = 0.0
    warmup_steps: int = 0  # linear lr ramp at the start of a run (common.warmup_factor)
    # > 0: validate, keep and export an exponential moving average of the weights (common.make_ema);
    # the raw weights' validation is logged beside it as ``val_raw``.
    ema_decay: float = 0.0


@dataclass(frozen=True)
class FlowTrainConfig:
    data: FlowDataConfig = field(default_factory=FlowDataConfig)
    augment: PoseAugConfig = field(default_factory=PoseAugConfig)
    model: FlowRegressorConfig = field(default_factory=FlowRegressorConfig)
    loss: FlowLossConfig = field(default_factory=FlowLossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    seed: int = 0
    num_workers: int = 2
    amp: bool = True
    channels_last: bool = True
    log_every: int = 50
    val_every_epochs: int = 1
    init_weights: str | None = None  # start from these safetensors (fresh optimiser), e.g. the shipped weights
    # Parameter-name prefixes to train; empty = all. Everything else is frozen, its BatchNorm statistics too:
    # ["refine."] fits a new refine head on a trained trunk, cheaply (no backward through the trunk).
    trainable: tuple[str, ...] = ()


def _annotation_path(cfg: FlowDataConfig) -> Path:
    p = Path(cfg.annotations)
    return p if p.is_absolute() else Path(cfg.market_root) / p


def _batches(val_set: PosePairs, cfg: FlowDataConfig) -> list[dict[str, torch.Tensor]]:
    collate = FlowCollate(cfg.size, None)  # no augmentation; proxy-body targets made here
    n = min(cfg.val_pairs, len(val_set))
    return [collate([val_set[j] for j in range(i, min(i + 64, n))]) for i in range(0, n, 64)]


def _val_set(cfg: FlowDataConfig, seed: int) -> PosePairs:
    poses, _ = read_annotations(_annotation_path(cfg), on_error="skip")
    return PosePairs(poses, "val", cfg.cross_identity, cfg.min_joints, cfg.val_fraction, seed)


def validation_batches(cfg: FlowTrainConfig) -> list[dict[str, torch.Tensor]]:
    """The trainer's validation batches (``data.val_pairs`` pairs of held-out training identities, 64 a batch,
    with their proxy-body targets), for scripts that score weight files the way training does."""
    return _batches(_val_set(cfg.data, cfg.seed), cfg.data)


def validation_poses(cfg: FlowDataConfig, seed: int, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Source and target poses (N, 18, 2) of the first ``n`` validation pairs (held-out training identities),
    the split and order the trainer validates on (``seed``: the recipe's)."""
    val = _val_set(cfg, seed)
    n = len(val) if n is None else min(n, len(val))
    pairs = [val[i] for i in range(n)]
    return tuple(np.stack([np.asarray(p[k], np.float32) for p in pairs]) for k in ("src_kp", "tgt_kp"))


def predict_flow(
    model: FlowRegressor, src_kp: torch.Tensor, tgt_kp: torch.Tensor, size: tuple[int, int], radius: float
) -> FlowPrediction:
    """Poses (B, 18, 2) -> flows per scale (finest first, pixels) and visibility logits; heatmaps on the device."""
    p1 = pose_heatmaps_torch(src_kp, size, radius)
    p2 = pose_heatmaps_torch(tgt_kp, size, radius)
    return model(p1, p2)


@torch.no_grad()
def validate_flow(
    model: FlowRegressor,
    batches: list[dict[str, torch.Tensor]],
    cfg: FlowDataConfig,
    device: torch.device,
    amp: bool,
) -> dict[str, float]:
    modes = [(m, m.training) for m in model.modules()]  # frozen parts stay in eval mode afterwards
    model.eval()
    stats = FlowStats()
    for b in batches:
        with autocast_for(device, amp):
            pred = predict_flow(model, b["src_kp"].to(device), b["tgt_kp"].to(device), cfg.size, cfg.heatmap_radius)
        stats.update(pred.flows[0].float(), pred.vis_logits.float(), b["flow"].to(device), b["vis"].to(device))
    for m, mode in modes:
        m.train(mode)
    return stats.summary()


def freeze_except(model: torch.nn.Module, prefixes: tuple[str, ...]) -> list[torch.nn.Parameter]:
    """Train only parameters whose name starts with one of ``prefixes`` (all when empty); modules holding
    only frozen parameters go to eval mode, so their BatchNorm statistics stay as loaded. Returns the
    trainable parameters; raises ConfigError when the prefixes select none."""
    model.train()
    if not prefixes:
        return list(model.parameters())
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith(prefixes))
    for m in model.modules():
        own = list(m.parameters(recurse=False))
        if own and not any(p.requires_grad for p in own):
            m.eval()
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ConfigError(f"trainable: no parameter name starts with any of {list(prefixes)}")
    return params


def train_flow(
    cfg: FlowTrainConfig,
    out_dir: str | os.PathLike[str],
    device: torch.device,
    resume: bool = False,
    progress: Callable[[dict[str, Any]], None] | None = None,
    time_budget_s: float | None = None,
) -> dict[str, Any]:
    """Train; returns the best validation figures and the run folder. Stops early (after saving) at the budget."""
    seed_everything(cfg.seed)
    run = RunDir.create(out_dir, cfg, resume)
    poses, _ = read_annotations(_annotation_path(cfg.data), on_error="skip")
    common = dict(
        cross_fraction=cfg.data.cross_identity,
        min_joints=cfg.data.min_joints,
        val_fraction=cfg.data.val_fraction,
        seed=cfg.seed,
    )
    train_set = PosePairs(poses, split="train", **common)
    val_set = PosePairs(poses, split="val", **common)
    sampler = EpochSampler(len(train_set), seed=cfg.seed)
    per_rank = max(1, cfg.optim.batch_size // world_size())
    loader = DataLoader(
        EpochEncoded(train_set),
        batch_size=per_rank,
        sampler=sampler,
        drop_last=True,
        num_workers=cfg.num_workers,
        collate_fn=FlowCollate(cfg.data.size, cfg.augment, cfg.seed, targets=cfg.data.targets == "loader"),
        persistent_workers=cfg.num_workers > 0,
        pin_memory=device.type == "cuda",
    )
    val_batches = _batches(val_set, cfg.data)

    model = FlowRegressor(cfg.model).to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    params = freeze_except(model, tuple(cfg.trainable))
    opt = torch.optim.Adam(params, lr=cfg.optim.lr, betas=cfg.optim.betas, weight_decay=cfg.optim.weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, cfg.optim.lr_step_epochs, cfg.optim.lr_gamma)
    start_epoch, step, best = 0, 0, math.inf
    if cfg.init_weights and not (resume and run.last.is_file()):
        # Weights of a network without the refine head or the joint hint start them at zero (flow_net).
        fresh = load_safetensors_into(model, Path(cfg.init_weights), missing_ok=("refine.", "hint."))
        if fresh:
            run.log({"stage": "flow", "init_weights": cfg.init_weights, "fresh_keys": len(fresh)})
    ema = make_ema(model, cfg.optim.ema_decay)  # after init_weights, so the average starts from them
    states = {"model": model, "opt": opt, "sched": sched, **({"ema": ema} if ema is not None else {})}  # last.pt
    if resume and run.last.is_file():
        info = load_checkpoint(run.last, states, device)
        start_epoch, step = info["epoch"], info["step"]
        best = float(info["extra"].get("best_epe", math.inf))
    ddp_model: torch.nn.Module = model
    if world_size() > 1:
        ddp_model = torch.nn.parallel.DistributedDataParallel(model)

    t0, step0 = time.time(), step  # a resumed run's rate counts only its own steps
    steps_per_epoch = len(loader)
    out_of_time = False
    best_stats: dict[str, float] = {}
    for epoch in range(start_epoch, cfg.optim.epochs):
        sampler.set_epoch(epoch)
        for batch in loader:
            src_kp, tgt_kp = batch["src_kp"].to(device), batch["tgt_kp"].to(device)
            flow_gt, vis_gt = targets_on_device(batch, cfg.data.size, device)  # type: ignore[arg-type]
            with autocast_for(device, cfg.amp):
                pred = predict_flow(
                    ddp_model,
                    src_kp,
                    tgt_kp,
                    cfg.data.size,  # type: ignore[arg-type]
                    cfg.data.heatmap_radius,
                )
            loss, parts = flow_loss([f.float() for f in pred.flows], pred.vis_logits.float(), flow_gt, vis_gt, cfg.loss)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.optim.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
            warm = warmup_factor(step, cfg.optim.warmup_steps)
            with scaled_lr(opt, warm):
                opt.step()
            if ema is not None:
                ema.update_parameters(model)
            step += 1
            if step % cfg.log_every == 0:
                rec = {
                    "stage": "flow",
                    "epoch": epoch,
                    "step": step,
                    "loss": loss.item(),
                    **{k: float(v) for k, v in parts.items()},
                    "lr": opt.param_groups[0]["lr"] * warm,
                    "pairs_per_s": (step - step0) * cfg.optim.batch_size / max(time.time() - t0, 1e-6),
                }
                run.log(rec)
                if progress and is_main():
                    progress({**rec, "total_steps": steps_per_epoch * cfg.optim.epochs})
            if time_budget_s is not None and time.time() - t0 > time_budget_s:
                out_of_time = True
                break
        sched.step()
        last_epoch = (epoch + 1 == cfg.optim.epochs) or out_of_time
        if is_main() and ((epoch + 1) % cfg.val_every_epochs == 0 or last_epoch):
            kept = model if ema is None else ema.module  # the weights that are checkpointed as "model" in best.pt
            stats = validate_flow(kept, val_batches, cfg.data, device, cfg.amp)
            raw = {} if ema is None else {"val_raw": validate_flow(model, val_batches, cfg.data, device, cfg.amp)}
            run.log({"stage": "flow", "epoch": epoch, "step": step, "val": stats, **raw})
            if progress:
                progress({"epoch": epoch, "step": step, "val": stats})
            if stats["epe"] < best:
                best, best_stats = stats["epe"], stats
                save_checkpoint(
                    run.best,
                    step=step,
                    epoch=epoch + 1,
                    cfg=cfg,
                    modules={"model": kept},
                    extra={"best_epe": best, "val": stats},
                )
            save_checkpoint(
                run.last,
                step=step,
                epoch=epoch + 1,
                cfg=cfg,
                modules=states,
                extra={"best_epe": best},
            )
        if out_of_time:
            break
    return {
        "run": str(run.path),
        "best_epe": best,
        "best": best_stats,
        "steps": step,
        "seconds": time.time() - t0,
    }
