"""Train the re-ID network: PK batches, cross-entropy with label smoothing on the BNNeck classifier
plus batch-hard triplet loss on the pooled feature (the "Bag of Tricks" recipe, Luo et al. 2019).

Run folder: ``config.json`` (resolved config), ``stats.jsonl`` (one line per epoch),
``checkpoint.pt`` (state dicts + primitives, rewritten every epoch, loaded with weights_only) and the
final ``reid.safetensors`` + ``reid.json``. Rank-aware: under torch.distributed every rank trains on
its slice of the PK batches (DDP), and only rank 0 writes.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from diaflow_core.fileio import atomic_replace

from ..errors import ConfigError, DataError, WeightsError
from ..precision import autocast
from ._config import config_from_dict, config_to_dict
from .evaluate import market_scores
from .features import extract_features
from .model import ReidNet, ReidNetConfig
from .records import ReidRecord, trainable, validation_split
from .sampler import PKBatchSampler
from .transforms import AugmentConfig, ImageDataset, train_transform
from .weights import save_reid_weights

TrainCallback = Callable[[dict[str, Any]], None]
CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class ReidTrainConfig:
    # model
    backbone: str = "resnet18"
    size: tuple[int, int] = (128, 64)  # (H, W)
    last_stride: int = 1
    pretrained: str | None = None  # torchvision ImageNet state dict; None trains from scratch
    # schedule (BoT uses 120 epochs, warm-up 10, steps at 40 / 70; this default is a shorter CPU-sized run)
    epochs: int = 60
    lr: float = 3.5e-4
    weight_decay: float = 5e-4
    warmup_epochs: int = 5
    warmup_factor: float = 0.1  # lr starts at lr * warmup_factor and rises linearly
    milestones: tuple[int, ...] = (30, 50)
    gamma: float = 0.1
    # batches and losses
    batch_p: int = 16
    batch_k: int = 4
    margin: float = 0.3
    label_smoothing: float = 0.1
    triplet_weight: float = 1.0
    ce_weight: float = 1.0
    # generated samples (extra records with a source): at most this many of each identity's K batch images,
    # at the step count of the real images alone (see PKBatchSampler); None draws them like real images
    max_generated: int | None = None
    # label smoothing of the CE for generated images (None: ``label_smoothing``, as for real ones). A sample
    # that looks like its identity only in part is a soft target, not a hard one; 1.0 is LSRO's uniform label
    # (Zheng et al. 2017). The triplet term is unchanged.
    generated_smoothing: float | None = None
    # augmentation
    flip: bool = True
    pad_crop: int = 10
    erasing: float = 0.5
    # run
    seed: int = 0
    workers: int = 2
    amp: bool = True  # bf16 autocast on CUDA and on CPUs with AMX or AVX512-BF16 (diaflow_core.precision)
    val_fraction: float = 0.0  # share of training identities held out for validation (0 = none)
    eval_every: int = 5  # validate every N epochs and at the end (when val_fraction > 0)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.lr <= 0 or self.batch_p < 2 or self.batch_k < 2:
            raise ConfigError("epochs >= 1, lr > 0, batch_p >= 2 and batch_k >= 2 are required")
        if self.max_generated is not None and not 0 <= self.max_generated < self.batch_k:
            raise ConfigError(f"max_generated must be in 0..batch_k-1, got {self.max_generated}")
        if self.generated_smoothing is not None and not 0.0 <= self.generated_smoothing <= 1.0:
            raise ConfigError(f"generated_smoothing must be in [0, 1], got {self.generated_smoothing}")
        if list(self.milestones) != sorted(self.milestones):
            raise ConfigError(f"milestones must increase: {self.milestones}")
        self.model_config()  # validates backbone / size / stride

    def model_config(self) -> ReidNetConfig:
        return ReidNetConfig(self.backbone, tuple(self.size), self.last_stride, self.pretrained)  # type: ignore[arg-type]

    def augment(self) -> AugmentConfig:
        return AugmentConfig(self.flip, self.pad_crop, self.erasing)

    def lr_factor(self, epoch: int) -> float:
        """Multiplier of ``lr`` during 0-based ``epoch``: linear warm-up, then steps."""
        if epoch < self.warmup_epochs:
            return self.warmup_factor + (1 - self.warmup_factor) * epoch / self.warmup_epochs
        return self.gamma ** sum(epoch >= m for m in self.milestones)

    def to_dict(self) -> dict[str, Any]:
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReidTrainConfig:
        return config_from_dict(cls, data)

    @classmethod
    def normalized(cls, data: dict[str, Any]) -> dict[str, Any] | None:
        """A recorded config as ``to_dict`` writes it today (fields added since take their defaults, which keep
        the old behaviour); None when it is not a valid config. Compare configs through this."""
        try:
            return cls.from_dict(data).to_dict()
        except (ConfigError, TypeError):
            return None


def _dist_info() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 7919 + epoch * 104729 + 1) % (2**31)


def batch_hard_triplet_loss(feature: torch.Tensor, labels: torch.Tensor, margin: float) -> torch.Tensor:
    """Batch-hard triplet loss (Hermans et al. 2017) on Euclidean distances, mean over anchors.

    FALLBACK ONLY: used by the trainer when pytorch-metric-learning is not installed (e.g. a bare GPU
    machine). It reproduces ``TripletMarginLoss(margin, distance=LpDistance(normalize_embeddings=False,
    p=2), reducer=MeanReducer())`` fed by ``BatchHardMiner(distance=<same>)``: per anchor the farthest
    positive (other than itself) and the nearest negative; anchors without a positive or a negative are
    dropped; the mean includes zero-loss triplets; no valid anchor gives a zero loss that still carries a
    gradient path. ``tests/test_reid_experiment.py`` checks value and gradient against the package.
    """
    if feature.ndim != 2 or labels.shape != feature.shape[:1]:
        raise ValueError(f"expected (N, D) features and (N,) labels, got {tuple(feature.shape)}, {tuple(labels.shape)}")
    dist = torch.cdist(feature, feature, p=2)
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=feature.device)
    pos, neg = same & ~eye, ~same
    keep = pos.any(1) & neg.any(1)
    if not bool(keep.any()):
        return (feature * 0).sum()
    with torch.no_grad():  # mining does not backpropagate, as in the package
        hardest_pos = dist.masked_fill(~pos, float("-inf")).argmax(1)
        hardest_neg = dist.masked_fill(~neg, float("inf")).argmin(1)
    anchors = torch.arange(len(labels), device=feature.device)[keep]
    ap = dist[anchors, hardest_pos[keep]]
    an = dist[anchors, hardest_neg[keep]]
    return torch.relu(ap - an + margin).mean()


class ReidLoss(nn.Module):
    """CE (label smoothing) on the logits + batch-hard triplet on the raw pooled feature.

    The triplet term uses pytorch-metric-learning when it is importable (imported here, not at module
    level) and ``batch_hard_triplet_loss`` otherwise; ``backend`` says which.
    """

    def __init__(self, cfg: ReidTrainConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.ce = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
        try:
            from pytorch_metric_learning import distances, losses, miners, reducers
        except ImportError:
            self.backend = "fallback"
            self.miner = None
            self.triplet = None
        else:
            self.backend = "pytorch-metric-learning"
            lp = distances.LpDistance(normalize_embeddings=False, p=2)
            self.miner = miners.BatchHardMiner(distance=lp)
            # MeanReducer averages over every mined triplet, zeros included (the BoT formulation)
            self.triplet = losses.TripletMarginLoss(margin=cfg.margin, distance=lp, reducer=reducers.MeanReducer())

    def forward(
        self, out: dict[str, torch.Tensor], labels: torch.Tensor, generated: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """``generated``: bool per sample; with ``generated_smoothing`` set, those samples' CE uses it."""
        feat = out["feature"].float()
        logits = out["logits"].float()
        if self.cfg.generated_smoothing is None or generated is None or not bool(generated.any()):
            ce = self.ce(logits, labels)
        else:
            real = F.cross_entropy(logits, labels, reduction="none", label_smoothing=self.cfg.label_smoothing)
            gen = F.cross_entropy(logits, labels, reduction="none", label_smoothing=self.cfg.generated_smoothing)
            ce = torch.where(generated, gen, real).mean()
        if self.triplet is not None and self.miner is not None:
            tri = self.triplet(feat, labels, self.miner(feat, labels))
        else:
            tri = batch_hard_triplet_loss(feat, labels, self.cfg.margin)
        total = self.cfg.ce_weight * ce + self.cfg.triplet_weight * tri
        return {"loss": total, "ce": ce, "triplet": tri}


def _validate(
    model: ReidNet,
    query: list[ReidRecord],
    gallery: list[ReidRecord],
    cfg: ReidTrainConfig,
    device: torch.device,
) -> dict[str, float]:
    qf = extract_features(model, [r.path for r in query], cfg.size, 128, device)
    gf = extract_features(model, [r.path for r in gallery], cfg.size, 128, device)
    s = market_scores(
        qf,
        [r.pid for r in query],
        [r.camera for r in query],
        gf,
        [r.pid for r in gallery],
        [r.camera for r in gallery],
    )
    return {"val_rank1": s.rank(1), "val_rank5": s.rank(5), "val_mAP": s.mAP}


def train_reid(
    cfg: ReidTrainConfig,
    train_records: Sequence[ReidRecord],
    out_dir: str | Path,
    device: str | torch.device = "cpu",
    extra_records: Sequence[ReidRecord] | None = None,
    callback: TrainCallback | None = None,
    resume: bool = False,
) -> Path:
    """Train on ``train_records`` (+ ``extra_records``, e.g. generated samples, under their own pid;
    a pid unseen in training becomes a new class) and return the path of the saved weights.

    ``resume`` continues from ``out_dir/checkpoint.pt`` when it exists (the config must match except
    for ``epochs``). Junk and distractor records (pid <= 0) are ignored.
    """
    out_dir = Path(out_dir)
    device = torch.device(device)
    rank, world = _dist_info()
    emit = callback if (callback is not None and rank == 0) else (lambda event: None)

    split = validation_split(trainable(train_records), cfg.val_fraction, cfg.seed)
    held_out = {r.pid for r in split.gallery}
    extra = [r for r in trainable(extra_records or []) if r.pid not in held_out]  # no leaks into validation
    records = split.train + extra
    if not records:
        raise DataError("no trainable records (every pid is junk or a distractor)")
    pids = sorted({r.pid for r in records})
    label_of = {pid: i for i, pid in enumerate(pids)}
    labels = [label_of[r.pid] for r in records]

    torch.manual_seed(cfg.seed)
    model = ReidNet(len(pids), cfg.model_config()).to(device)
    criterion = ReidLoss(cfg)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, cfg.lr_factor)
    generated = [r.source is not None for r in records]
    sampler = PKBatchSampler(labels, cfg.batch_p, cfg.batch_k, cfg.seed, rank, world, generated, cfg.max_generated)
    dataset = ImageDataset([r.path for r in records], labels, train_transform(cfg.size, cfg.augment()))
    # each batch's generated flags, looked up by its indices: the sampler yields the same (cached) batches each
    # time it is iterated in an epoch, so zipping it with the loader pairs them; the dataset stays (image, label)
    flags = torch.tensor(generated, dtype=torch.bool)

    ckpt_path = out_dir / "checkpoint.pt"
    start_epoch = 0
    if resume and ckpt_path.is_file():
        start_epoch = _load_checkpoint(ckpt_path, cfg, len(pids), model, optimizer, scheduler)
    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2, sort_keys=True))
    net: nn.Module = model
    if world > 1:
        ids = [device.index] if device.type == "cuda" else None
        net = nn.parallel.DistributedDataParallel(model, device_ids=ids)
    amp_ctx = partial(autocast, device, "auto" if cfg.amp else "fp32")

    emit(
        {
            "event": "start",
            "epochs": cfg.epochs,
            "start_epoch": start_epoch,
            "images": len(records),
            "extra_images": len(extra),
            "classes": len(pids),
            "iters_per_epoch": len(sampler),
            "val_query": len(split.query),
            "val_gallery": len(split.gallery),
            "triplet_backend": criterion.backend,
        }
    )
    for epoch in range(start_epoch, cfg.epochs):
        t0 = time.perf_counter()
        seed = _epoch_seed(cfg.seed, epoch)
        torch.manual_seed(seed)  # epoch-keyed RNG: a resumed run replays exactly what it missed
        sampler.set_epoch(epoch)
        loader = DataLoader(
            dataset,
            batch_sampler=sampler,
            num_workers=cfg.workers,
            pin_memory=device.type == "cuda",
            generator=torch.Generator().manual_seed(seed),
        )
        model.train()
        sums = {"loss": 0.0, "ce": 0.0, "triplet": 0.0, "acc": 0.0}
        n = 0
        for it, ((x, y), index) in enumerate(zip(loader, sampler, strict=True)):
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with amp_ctx():
                out = net(x)
            parts = criterion(out, y, flags[index].to(device))
            optimizer.zero_grad(set_to_none=True)
            parts["loss"].backward()
            optimizer.step()
            n += 1
            values = {key: float(parts[key].detach()) for key in ("loss", "ce", "triplet")}
            for key, value in values.items():
                sums[key] += value
            sums["acc"] += float((out["logits"].detach().argmax(1) == y).float().mean())
            if not math.isfinite(values["loss"]):
                raise DataError(f"loss became {values['loss']} at epoch {epoch + 1}, iteration {it + 1}")
            emit({"event": "iter", "epoch": epoch + 1, "iter": it + 1, "loss": values["loss"]})
        lr = optimizer.param_groups[0]["lr"]
        scheduler.step()
        stats: dict[str, Any] = {"epoch": epoch + 1, "lr": lr, **{k: v / max(n, 1) for k, v in sums.items()}}
        stats["time_s"] = time.perf_counter() - t0
        stats["images_per_s"] = n * cfg.batch_p * cfg.batch_k * world / stats["time_s"]
        last = epoch + 1 == cfg.epochs
        if split.query and rank == 0 and (last or (cfg.eval_every > 0 and (epoch + 1) % cfg.eval_every == 0)):
            stats.update(_validate(model, split.query, split.gallery, cfg, device))
        if rank == 0:
            with (out_dir / "stats.jsonl").open("a") as fh:
                fh.write(json.dumps(stats) + "\n")
            _save_checkpoint(ckpt_path, cfg, len(pids), epoch + 1, model, optimizer, scheduler)
        emit({"event": "epoch", **stats})

    weights = out_dir / "reid.safetensors"
    if rank == 0:
        save_reid_weights(
            model,
            weights,
            {"train": cfg.to_dict(), "pids": pids, "extra_images": len(extra), "train_images": len(records)},
        )
    if world > 1:
        dist.barrier()
    emit({"event": "done", "weights": str(weights)})
    return weights


def _save_checkpoint(
    path: Path,
    cfg: ReidTrainConfig,
    num_classes: int,
    epoch: int,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
) -> None:
    state = {
        "format_version": CHECKPOINT_VERSION,
        "config": json.dumps(cfg.to_dict(), sort_keys=True),
        "num_classes": num_classes,
        "epoch": epoch,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
    }
    with atomic_replace(path) as tmp:  # a crash mid-write never leaves a broken checkpoint
        torch.save(state, tmp)


def _load_checkpoint(
    path: Path,
    cfg: ReidTrainConfig,
    num_classes: int,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
) -> int:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(f"cannot read checkpoint {path}: {exc}") from exc
    if state.get("format_version") != CHECKPOINT_VERSION:
        raise WeightsError(f"{path}: checkpoint format {state.get('format_version')} is not {CHECKPOINT_VERSION}")
    saved = ReidTrainConfig.normalized(json.loads(state["config"])) or {}
    now = cfg.to_dict()
    diff = sorted(k for k in set(saved) | set(now) if k != "epochs" and saved.get(k) != now.get(k))
    if diff or state["num_classes"] != num_classes:
        raise ConfigError(f"cannot resume from {path}: config differs in {diff or ['number of classes']}")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    return int(state["epoch"])
