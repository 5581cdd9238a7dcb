"""Stages 2 and 3: the pose-transfer generator (with PatchGAN), then the pixel-warping net with G frozen.

Each step: flow and visibility for the pair (frozen flow regressor on the device, or the analytic proxy body in
the loader), an explicit D phase, then a G phase with L1 + perceptual + GAN (GAN on after `gan_start_epoch`).
Validation SSIM on fixed pairs of held-out TRAINING identities picks `best.pt`; each validation writes a grid.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch.utils.data import DataLoader, default_collate

from ..data.pairs_dataset import PoseTransferPairs
from ..errors import ConfigError
from ..losses import PerceptualConfig, PerceptualLoss, d_loss, g_loss
from ..losses.pixel import l1, ssim_loss
from ..models.discriminator import DiscriminatorConfig, PatchDiscriminator
from ..models.generator import GeneratorConfig, build_generator
from ..models.pixel_warp import PixelWarper, PixelWarperConfig
from ..pose import body_mask, flip_pose, pose_heatmaps_torch
from .common import (
    RunDir,
    autocast_for,
    is_main,
    load_checkpoint,
    make_ema,
    save_checkpoint,
    scaled_lr,
    seed_everything,
    warmup_factor,
    world_size,
)
from .flow_source import FlowSource, FlowSourceConfig
from .gen_validate import validate_transfer
from .sampling import EpochEncoded, EpochSampler

__all__ = [
    "GenDataConfig",
    "GenLossConfig",
    "GenOptimConfig",
    "GenTrainConfig",
    "train_generator",
    "validation_batches",
]


@dataclass(frozen=True)
class GenDataConfig:
    market_root: str = "../shared/data/market1501"
    min_joints: int = 8
    val_fraction: float = 0.1
    size: tuple[int, int] = (128, 64)
    heatmap_radius: float = 4.0
    flip_prob: float = 0.5
    val_pairs: int = 256


@dataclass(frozen=True)
class GenLossConfig:
    perceptual: PerceptualConfig  # no default: every recipe chooses its feature backend explicitly
    l1_weight: float = 1.0
    perceptual_weight: float = 1.0
    gan_weight: float = 0.01
    gan_kind: Literal["vanilla", "lsgan", "hinge"] = "vanilla"
    gan_start_epoch: int = 2
    # > 0: add this weight x the L1 over the target's body mask (pose.body_mask, the masked-SSIM mask; mean over
    # the mask's pixels), so the person counts more than the background (PG2's pose-mask loss, normalised per mask).
    mask_l1_weight: float = 0.0
    # > 0: add this weight x (1 - SSIM) of the whole image / of both images times the target's body mask: the
    # evaluation's SSIM and masked SSIM (7x7 window) as losses (losses.pixel.ssim_loss).
    ssim_weight: float = 0.0
    mask_ssim_weight: float = 0.0

    @property
    def needs_mask(self) -> bool:
        return self.mask_l1_weight > 0 or self.mask_ssim_weight > 0


@dataclass(frozen=True)
class GenOptimConfig:
    lr_g: float = 2e-4
    lr_d: float = 2e-5
    betas: tuple[float, float] = (0.5, 0.999)
    batch_size: int = 8
    epochs: int = 30
    lr_step_epochs: int = 10
    lr_gamma: float = 0.5
    warmup_steps: int = 0  # linear lr ramp of both optimisers at the start of a run (common.warmup_factor)
    # > 0: validate, keep and export an exponential moving average of the trained net (common.make_ema); the
    # raw weights' validation is logged beside it as ``val_raw``.
    ema_decay: float = 0.0


@dataclass(frozen=True)
class GenTrainConfig:
    loss: GenLossConfig
    stage: Literal["generator", "pixel_warp"] = "generator"
    variant: str = "full"  # a label for reports: full / no_dual / no_flow / no_vis / no_pixel_warp
    data: GenDataConfig = field(default_factory=GenDataConfig)
    flow: FlowSourceConfig = field(default_factory=FlowSourceConfig)
    model: GeneratorConfig = field(default_factory=GeneratorConfig)
    pixel_warp: PixelWarperConfig = field(default_factory=PixelWarperConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    optim: GenOptimConfig = field(default_factory=GenOptimConfig)
    generator_weights: str | None = None  # pixel_warp stage: the frozen generator (checkpoint or safetensors)
    init_weights: str | None = None  # start the trained net from these safetensors (fresh optimiser)
    seed: int = 0
    num_workers: int = 2
    amp: bool = True
    channels_last: bool = True
    log_every: int = 50
    val_every_epochs: int = 1
    # the validation figure that picks best.pt: the test goal is on masked SSIM, which a loss aimed at the body
    # (loss.mask_l1_weight) or the GAN can raise while whole-image SSIM falls
    select_metric: Literal["ssim", "masked_ssim"] = "ssim"


class PairCollate:
    """Default collate plus a joint horizontal flip of both images and poses (keeps the pair consistent).

    ``mask_size`` (H, W): also a ``tgt_mask`` (B, 1, H, W) float, the body mask of the (flipped) target pose.
    """

    def __init__(self, flip_prob: float, width: int, mask_size: tuple[int, int] | None = None) -> None:
        self.flip_prob, self.width, self.mask_size = flip_prob, width, mask_size

    def __call__(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        flips = torch.rand(len(items)) < self.flip_prob
        for item, f in zip(items, flips.tolist(), strict=True):
            if f:
                for k in ("src", "tgt"):
                    item[k] = item[k].flip(-1)
                for k in ("src_kp", "tgt_kp"):
                    item[k] = torch.as_tensor(flip_pose(np.asarray(item[k]), self.width))
            if self.mask_size is not None:
                item["tgt_mask"] = torch.from_numpy(
                    body_mask(np.asarray(item["tgt_kp"]), self.mask_size)[None].astype(np.float32)
                )
        return default_collate(items)


def _load_generator_into(net: torch.nn.Module, path: str, key: str = "generator") -> None:
    """Weights from shipped safetensors or from a training checkpoint's `key` entry."""
    from .common import load_safetensors_into

    p = Path(path)
    if p.suffix == ".safetensors":
        load_safetensors_into(net, p)
    else:
        load_checkpoint(p, {key: net})


def _build_perceptual(cfg: PerceptualConfig) -> PerceptualLoss:
    """vgg19 / none straight from the recipe; reid loads the project's re-ID network from `weights_path`."""
    if cfg.backend != "reid":
        return PerceptualLoss.from_config(cfg)
    from ..reid.weights import load_reid_model

    if not cfg.weights_path:
        raise ConfigError("perceptual backend 'reid' needs weights_path: the re-ID network's safetensors file")
    return PerceptualLoss.from_config(cfg, load_reid_model(cfg.weights_path))


def _pair_options(cfg: GenTrainConfig) -> dict[str, Any]:
    """The split / filter options shared by the training and validation pair sets."""
    d = cfg.data
    return dict(min_joints=d.min_joints, val_fraction=d.val_fraction, seed=cfg.seed, size=d.size)


def validation_batches(cfg: GenTrainConfig, batch_size: int = 32) -> list[dict[str, Any]]:
    """The fixed validation pairs (held-out TRAINING identities, ``data.val_pairs`` spread evenly), batched."""
    val_set = PoseTransferPairs(cfg.data.market_root, split="val", **_pair_options(cfg))
    idx = np.linspace(0, len(val_set) - 1, min(cfg.data.val_pairs, len(val_set))).astype(int)
    return [default_collate([val_set[int(j)] for j in idx[i : i + batch_size]]) for i in range(0, len(idx), batch_size)]


def train_generator(
    cfg: GenTrainConfig,
    out_dir: str | os.PathLike[str],
    device: torch.device,
    resume: bool = False,
    progress: Callable[[dict[str, Any]], None] | None = None,
    time_budget_s: float | None = None,
) -> dict[str, Any]:
    seed_everything(cfg.seed)
    run = RunDir.create(out_dir, cfg, resume)
    size = cfg.data.size
    train_set = PoseTransferPairs(cfg.data.market_root, split="train", **_pair_options(cfg))
    sampler = EpochSampler(len(train_set), seed=cfg.seed)
    loader = DataLoader(
        EpochEncoded(train_set),
        batch_size=max(1, cfg.optim.batch_size // world_size()),
        sampler=sampler,
        drop_last=True,
        num_workers=cfg.num_workers,
        collate_fn=PairCollate(cfg.data.flip_prob, size[1], size if cfg.loss.needs_mask else None),
        persistent_workers=cfg.num_workers > 0,
        pin_memory=device.type == "cuda",
    )
    val_batches = validation_batches(cfg)

    flow_src = FlowSource(cfg.flow, size, cfg.data.heatmap_radius, device)
    gen = build_generator(cfg.model).to(device)
    mem = torch.channels_last if cfg.channels_last else torch.contiguous_format
    gen = gen.to(memory_format=mem)
    if cfg.stage == "pixel_warp":
        if not cfg.generator_weights:
            raise ConfigError("stage pixel_warp needs generator_weights (the trained, frozen generator)")
        _load_generator_into(gen, cfg.generator_weights)
        gen.eval().requires_grad_(False)
        net: torch.nn.Module = PixelWarper(cfg.pixel_warp).to(device).to(memory_format=mem)
    else:
        net = gen
    disc = PatchDiscriminator(cfg.discriminator).to(device).to(memory_format=mem)
    perceptual = _build_perceptual(cfg.loss.perceptual).to(device)
    opt_g = torch.optim.Adam(net.parameters(), lr=cfg.optim.lr_g, betas=cfg.optim.betas)
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.optim.lr_d, betas=cfg.optim.betas)
    sched_g = torch.optim.lr_scheduler.StepLR(opt_g, cfg.optim.lr_step_epochs, cfg.optim.lr_gamma)
    sched_d = torch.optim.lr_scheduler.StepLR(opt_d, cfg.optim.lr_step_epochs, cfg.optim.lr_gamma)
    modules = {
        "net": net,
        "disc": disc,
        "opt_g": opt_g,
        "opt_d": opt_d,
        "sched_g": sched_g,
        "sched_d": sched_d,
    }
    start_epoch, step, best = 0, 0, -math.inf
    if cfg.init_weights and not (resume and run.last.is_file()):
        _load_generator_into(net, cfg.init_weights, cfg.stage)
    ema = make_ema(net, cfg.optim.ema_decay)  # after init_weights, so the average starts from them
    if ema is not None:
        modules["ema"] = ema
    if resume and run.last.is_file():
        info = load_checkpoint(run.last, modules, device)
        start_epoch, step = info["epoch"], info["step"]
        extra = info["extra"]
        # checkpoints before select_metric stored their best SSIM as best_ssim; a resume that picks by another
        # figure starts its best over (scores of two figures do not compare)
        if extra.get("select_metric", "ssim") == cfg.select_metric:
            best = float(extra.get("best_score", extra.get("best_ssim", -math.inf)))
    net_ddp = torch.nn.parallel.DistributedDataParallel(net) if world_size() > 1 else net
    disc_ddp = torch.nn.parallel.DistributedDataParallel(disc) if world_size() > 1 else disc

    def forward(b: dict[str, torch.Tensor], model: torch.nn.Module | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(output, target heatmaps) of the trained net, or of ``model`` in its place (the average)."""
        model = net_ddp if model is None else model
        p2 = pose_heatmaps_torch(b["tgt_kp"], size, cfg.data.heatmap_radius).to(memory_format=mem)
        flow, vis = flow_src(b["src_kp"], b["tgt_kp"])
        if cfg.stage == "pixel_warp":
            with torch.no_grad():
                coarse = gen(b["src"], p2, flow, vis)
            out = model(b["src"], coarse.detach(), flow, vis)[0]
        else:
            out = model(b["src"], p2, flow, vis)
        return out, p2

    def generate(model: torch.nn.Module) -> Callable[[dict[str, torch.Tensor]], torch.Tensor]:
        def run_model(b: dict[str, torch.Tensor]) -> torch.Tensor:
            with autocast_for(device, cfg.amp):
                return forward(b, model)[0].float()

        return run_model

    t0, step0 = time.time(), step  # a resumed run's rate counts only its own steps
    best_stats: dict[str, float] = {}
    out_of_time = False
    for epoch in range(start_epoch, cfg.optim.epochs):
        sampler.set_epoch(epoch)
        use_gan = cfg.loss.gan_weight > 0 and epoch >= cfg.loss.gan_start_epoch
        for raw in loader:
            b = {k: (v.to(device, non_blocking=True) if torch.is_tensor(v) else v) for k, v in raw.items()}
            b["src"] = b["src"].contiguous(memory_format=mem)
            with autocast_for(device, cfg.amp):
                fake, p2 = forward(b)
            parts: dict[str, float] = {}
            warm = warmup_factor(step, cfg.optim.warmup_steps)
            if use_gan:
                with autocast_for(device, cfg.amp):
                    real_logits = disc_ddp(b["src"], p2, b["tgt"])
                    fake_logits = disc_ddp(b["src"], p2, fake.detach())
                loss_d = d_loss(real_logits.float(), fake_logits.float(), cfg.loss.gan_kind)
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                with scaled_lr(opt_d, warm):
                    opt_d.step()
                parts["d"] = loss_d.item()
            fake32 = fake.float()
            loss_l1 = l1(fake32, b["tgt"])
            loss = cfg.loss.l1_weight * loss_l1
            parts["l1"] = loss_l1.item()
            if cfg.loss.mask_l1_weight > 0:
                loss_m = l1(fake32, b["tgt"], b["tgt_mask"])
                loss = loss + cfg.loss.mask_l1_weight * loss_m
                parts["mask_l1"] = loss_m.item()
            if cfg.loss.ssim_weight > 0:
                loss_s = ssim_loss(fake32, b["tgt"])
                loss = loss + cfg.loss.ssim_weight * loss_s
                parts["ssim_loss"] = loss_s.item()
            if cfg.loss.mask_ssim_weight > 0:
                loss_ms = ssim_loss(fake32, b["tgt"], b["tgt_mask"])
                loss = loss + cfg.loss.mask_ssim_weight * loss_ms
                parts["mask_ssim_loss"] = loss_ms.item()
            if cfg.loss.perceptual_weight > 0 and cfg.loss.perceptual.backend != "none":
                with autocast_for(device, cfg.amp):
                    loss_p = perceptual(fake, b["tgt"]).float()
                loss = loss + cfg.loss.perceptual_weight * loss_p
                parts["perceptual"] = loss_p.item()
            if use_gan:
                with autocast_for(device, cfg.amp):
                    gl = g_loss(disc_ddp(b["src"], p2, fake).float(), cfg.loss.gan_kind)
                loss = loss + cfg.loss.gan_weight * gl
                parts["g_gan"] = gl.item()
            opt_g.zero_grad(set_to_none=True)
            loss.backward()
            with scaled_lr(opt_g, warm):
                opt_g.step()
            if ema is not None:
                ema.update_parameters(net)
            step += 1
            if step % cfg.log_every == 0:
                rec = {
                    "stage": cfg.stage,
                    "epoch": epoch,
                    "step": step,
                    "loss": loss.item(),
                    **parts,
                    "lr_g": opt_g.param_groups[0]["lr"] * warm,
                    "img_per_s": (step - step0) * cfg.optim.batch_size / max(time.time() - t0, 1e-6),
                }
                run.log(rec)
                if progress and is_main():
                    progress({**rec, "total_steps": len(loader) * cfg.optim.epochs})
            if time_budget_s is not None and time.time() - t0 > time_budget_s:
                out_of_time = True
                break
        sched_g.step()
        with warnings.catch_warnings():
            # before the GAN phase opt_d never steps; its schedule still follows the epochs
            warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step", category=UserWarning)
            sched_d.step()
        last = epoch + 1 == cfg.optim.epochs or out_of_time
        if is_main() and ((epoch + 1) % cfg.val_every_epochs == 0 or last):
            kept = net if ema is None else ema.module  # the weights best.pt keeps
            net.eval()
            kept.eval()
            stats = validate_transfer(generate(kept), val_batches, device, run.path / f"val_epoch{epoch + 1:03d}.png")
            raw = {} if ema is None else {"val_raw": validate_transfer(generate(net), val_batches, device, None)}
            net.train()
            run.log({"stage": cfg.stage, "epoch": epoch, "step": step, "val": stats, **raw})
            if progress:
                progress({"epoch": epoch, "step": step, "val": stats})
            if stats[cfg.select_metric] > best:
                best, best_stats = stats[cfg.select_metric], stats
                save_checkpoint(
                    run.best,
                    step=step,
                    epoch=epoch + 1,
                    cfg=cfg,
                    modules={cfg.stage: kept},
                    extra={"best_score": best, "select_metric": cfg.select_metric, "val": stats},
                )
            save_checkpoint(
                run.last,
                step=step,
                epoch=epoch + 1,
                cfg=cfg,
                modules=modules,
                extra={"best_score": best, "select_metric": cfg.select_metric},
            )
        if out_of_time:
            break
    return {
        "run": str(run.path),
        "select_metric": cfg.select_metric,
        "best_score": best,
        "best": best_stats,
        "steps": step,
        "seconds": time.time() - t0,
    }
