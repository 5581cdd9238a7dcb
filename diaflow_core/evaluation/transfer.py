"""Evaluate a pose-transfer method on test pairs: per-pair SSIM (two settings), masked SSIM, PSNR, L1, and
FID / Inception Score / LPIPS when their weight files are given.

Convention: a method maps a batch dict to generated images float ``(B, 3, H, W)`` in [-1, 1]. The batch has
``src``, ``tgt`` float ``(B, 3, H, W)`` in [-1, 1] on the evaluation device, ``src_kp``, ``tgt_kp`` float32
CPU tensors ``(B, 18, 2)`` (x, y) pixels NaN-missing, and ``src_name``, ``tgt_name`` lists. Outputs are
rounded to uint8 (``(x + 1) * 127.5``, clipped) before the paired metrics, as images saved to disk would
be; targets are the uint8 files as decoded. The masked SSIM multiplies both images by
``diaflow_core.pose.body_mask`` of the TARGET keypoints.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from diaflow_core.data import read_image
from diaflow_core.errors import BackendUnavailable, DataError, WeightsError
from diaflow_core.metrics import (
    FID,
    GAUSSIAN,
    LPIPS,
    SKIMAGE_DEFAULT,
    FeatureStats,
    InceptionFeatures,
    InceptionScore,
    l1,
    load_inception,
    load_lpips,
    masked_ssim,
    psnr,
    ssim,
)
from diaflow_core.pose import body_mask

__all__ = [
    "PAIRED_METRICS",
    "Method",
    "NetworkMetrics",
    "TransferMetricsConfig",
    "TransferReport",
    "evaluate_transfer",
    "prepare_network_metrics",
    "to_uint8",
]

Method = Callable[[dict[str, Any]], torch.Tensor]
Progress = Callable[[int, int], None]

PAIRED_METRICS = ("ssim", "ssim_gaussian", "masked_ssim", "masked_ssim_gaussian", "psnr", "l1")


@dataclass(frozen=True)
class TransferMetricsConfig:
    """What the evaluation measures beyond the paired metrics, and the mask and sample settings."""

    inception_weights: Path | None = None  # torchvision inception_v3 state dict: FID and IS
    alexnet_weights: Path | None = None  # torchvision alexnet state dict: LPIPS backbone
    lpips_weights: Path | None = None  # LPIPS v0.1 alex.pth linear layers
    fid_real_stats: Path | None = None  # .npz cache of the training-set Inception statistics
    fid_real_limit: int | None = None  # use only the first N training images for the real statistics
    image_size: tuple[int, int] = (128, 64)
    mask_limb_width: float = 8.0
    mask_joint_radius: float = 4.0
    mask_close_kernel: int = 5
    keep_samples: int = 8  # generated images kept for the grid (first pairs)

    def describe(self) -> dict[str, Any]:
        return {
            "ssim": "skimage default: " + SKIMAGE_DEFAULT.describe(),
            "ssim_gaussian": GAUSSIAN.describe(),
            "masked_ssim": (
                "both images x body_mask(target kp, limb_width="
                f"{self.mask_limb_width:g}, joint_radius={self.mask_joint_radius:g}, "
                f"close_kernel={self.mask_close_kernel}), then SSIM (skimage default; *_gaussian: sigma 1.5)"
            ),
            "psnr": "dB, data range 255, MSE over pixels and channels",
            "l1": "mean |a - b| / 255",
            "images": f"uint8 RGB {self.image_size[0]}x{self.image_size[1]}; outputs rounded from [-1, 1]",
            "fid": "InceptionV3 (torchvision) pool3, real statistics from bounding_box_train",
            "lpips": "v0.1 AlexNet, generated vs target, mean over pairs",
            "inception_score": "InceptionV3 (torchvision) logits, 10 splits",
        }


@dataclass
class NetworkMetrics:
    """Loaded metric networks shared by several evaluated methods, and what could not be loaded."""

    inception: InceptionFeatures | None = None
    real_stats: FeatureStats | None = None
    lpips: LPIPS | None = None
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TransferReport:
    """One method's results: means, per-pair values (in pair order), skipped metrics and timing."""

    method: str
    pairs: tuple[tuple[str, str], ...]
    means: dict[str, float]
    per_pair: dict[str, np.ndarray]
    skipped: dict[str, str]
    wall_s: float
    samples: np.ndarray  # uint8 (K, H, W, 3): outputs for the first K pairs

    @property
    def count(self) -> int:
        return len(self.pairs)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float ``(B, 3, H, W)`` in [-1, 1] -> uint8 ``(B, H, W, 3)`` (rounded, clipped), same device."""
    if images.dim() != 4 or images.shape[1] != 3:
        raise DataError(f"expected generated images (B, 3, H, W), got {tuple(images.shape)}")
    x = ((images.detach().float() + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 1).contiguous()


def _real_statistics(
    inception: InceptionFeatures,
    market_root: Path,
    config: TransferMetricsConfig,
    batch_size: int,
    device: torch.device,
) -> FeatureStats:
    cache = config.fid_real_stats
    if cache is not None and Path(cache).is_file():
        return FeatureStats.load(cache)
    from diaflow_core.data import MarketRoot, image_to_tensor

    records = MarketRoot(market_root).images("train")
    if config.fid_real_limit is not None:
        records = records[: config.fid_real_limit]
    if len(records) < 2:
        raise DataError(f"{market_root}: FID needs training images for the real statistics")
    stats = FeatureStats()
    for i in range(0, len(records), batch_size):
        chunk = records[i : i + batch_size]
        x = torch.stack([image_to_tensor(read_image(r.path, config.image_size)) for r in chunk]).to(device)
        stats.update(inception(x)[0])
    if cache is not None:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        stats.save(cache)
    return stats


def prepare_network_metrics(
    config: TransferMetricsConfig,
    market_root: str | os.PathLike[str],
    device: str | torch.device = "cpu",
    batch_size: int = 32,
) -> NetworkMetrics:
    """Load Inception (+ real training statistics) and LPIPS when their files are given; else say why not."""
    out = NetworkMetrics()
    dev = torch.device(device)
    if config.inception_weights is None:
        reason = "no InceptionV3 weights given (--inception-weights); they cannot be downloaded here"
        out.skipped.update(fid=reason, inception_score=reason)
    else:
        try:
            out.inception = load_inception(config.inception_weights, dev)
            out.real_stats = _real_statistics(out.inception, Path(market_root), config, batch_size, dev)
        except (WeightsError, BackendUnavailable, DataError) as exc:
            out.inception, out.real_stats = None, None
            out.skipped.update(fid=str(exc), inception_score=str(exc))
    if config.alexnet_weights is None or config.lpips_weights is None:
        out.skipped["lpips"] = (
            "LPIPS needs both torchvision AlexNet weights (--alexnet-weights) and the LPIPS v0.1 linear "
            "layers (--lpips-weights); they cannot be downloaded here"
        )
    else:
        try:
            out.lpips = load_lpips(config.alexnet_weights, config.lpips_weights, dev)
        except (WeightsError, BackendUnavailable) as exc:
            out.skipped["lpips"] = str(exc)
    return out


def _load_batch(
    chunk: Sequence[tuple[str, str]],
    folder: Path,
    annotations: dict[str, np.ndarray],
    size: tuple[int, int],
    device: torch.device,
) -> tuple[dict[str, Any], np.ndarray]:
    srcs, tgts, skps, tkps = [], [], [], []
    for a, b in chunk:
        for name in (a, b):
            if name not in annotations:
                raise DataError(f"no keypoints for {name} in the test annotations")
        srcs.append(read_image(folder / a))
        tgts.append(read_image(folder / b))
        skps.append(annotations[a])
        tkps.append(annotations[b])
    src_u8, tgt_u8 = np.stack(srcs), np.stack(tgts)
    if src_u8.shape[1:3] != size or tgt_u8.shape[1:3] != size:
        raise DataError(f"test images must be {size[0]}x{size[1]}, got {src_u8.shape[1:3]} / {tgt_u8.shape[1:3]}")

    def model_tensor(u8: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(u8).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0).to(device)

    batch = {
        "src": model_tensor(src_u8),
        "tgt": model_tensor(tgt_u8),
        "src_kp": torch.from_numpy(np.stack(skps).astype(np.float32)),
        "tgt_kp": torch.from_numpy(np.stack(tkps).astype(np.float32)),
        "src_name": [a for a, _ in chunk],
        "tgt_name": [b for _, b in chunk],
    }
    return batch, tgt_u8


def evaluate_transfer(
    method: Method,
    pairs: Sequence[tuple[str, str]],
    market_root: str | os.PathLike[str],
    annotations: dict[str, np.ndarray],
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    limit: int | None = None,
    progress: Progress | None = None,
    config: TransferMetricsConfig = TransferMetricsConfig(),
    networks: NetworkMetrics | None = None,
    name: str = "method",
) -> TransferReport:
    """Run ``method`` on the pairs (images from ``market_root/bounding_box_test``) and measure it.

    Args:
        method: batch dict -> generated images ``(B, 3, H, W)`` in [-1, 1] (module docstring).
        pairs: ``(source, target)`` names; ``limit`` keeps the first N.
        annotations: ``{name: (18, 2)}`` keypoints (NaN-missing) covering every name.
        batch_size, device: batching and the device of ``src`` / ``tgt`` and the metrics.
        progress: called as ``progress(done_pairs, total_pairs)`` after each batch.
        config: network-metric weight files and the mask settings.
        networks: already loaded metric networks (``prepare_network_metrics``), shared across methods;
            built here from ``config`` when None.
        name: the method's name in the report.
    Returns:
        ``TransferReport`` with means over pairs (FID / IS are set-level numbers).
    """
    if batch_size < 1:
        raise DataError(f"batch_size must be >= 1, got {batch_size}")
    todo = list(pairs)[: limit if limit is not None else None]
    if not todo:
        raise DataError("no pairs to evaluate")
    dev = torch.device(device)
    folder = Path(market_root) / "bounding_box_test"
    nets = networks if networks is not None else prepare_network_metrics(config, market_root, dev, batch_size)
    size = tuple(config.image_size)
    fid, iscore = None, None
    inception = nets.inception
    if inception is not None:
        iscore = InceptionScore(lambda x: inception(x)[1])
        if nets.real_stats is not None:
            fid = FID(lambda x: inception(x)[0], real=nets.real_stats)
    values: dict[str, list[torch.Tensor]] = {k: [] for k in PAIRED_METRICS}
    if nets.lpips is not None:
        values["lpips"] = []
    samples: list[np.ndarray] = []
    t0 = time.perf_counter()
    done = 0
    for i in range(0, len(todo), batch_size):
        chunk = todo[i : i + batch_size]
        batch, tgt_u8 = _load_batch(chunk, folder, annotations, size, dev)  # type: ignore[arg-type]
        with torch.no_grad():
            out = method(batch)
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != tuple(batch["tgt"].shape):
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise DataError(f"method {name!r} returned {got}, expected {tuple(batch['tgt'].shape)}")
        out = out.to(dev)
        gen_u8 = to_uint8(out)
        tgt_t = torch.from_numpy(tgt_u8).to(dev)
        masks = np.stack(
            [
                body_mask(kp, size, config.mask_limb_width, config.mask_joint_radius, config.mask_close_kernel)
                for kp in batch["tgt_kp"].numpy()
            ]
        )
        mask_t = torch.from_numpy(masks).to(dev)
        values["ssim"].append(ssim(gen_u8, tgt_t, SKIMAGE_DEFAULT).cpu())
        values["ssim_gaussian"].append(ssim(gen_u8, tgt_t, GAUSSIAN).cpu())
        values["masked_ssim"].append(masked_ssim(gen_u8, tgt_t, mask_t, SKIMAGE_DEFAULT).cpu())
        values["masked_ssim_gaussian"].append(masked_ssim(gen_u8, tgt_t, mask_t, GAUSSIAN).cpu())
        values["psnr"].append(psnr(gen_u8, tgt_t).cpu())
        values["l1"].append(l1(gen_u8, tgt_t).cpu())
        gen_f = gen_u8.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)  # the rounded images, as saved
        if nets.lpips is not None:
            values["lpips"].append(nets.lpips(gen_f, batch["tgt"]).double().cpu())
        if fid is not None:
            fid.update(gen_f, real=False)
        if iscore is not None:
            iscore.update(gen_f)
        if len(samples) < config.keep_samples:
            samples.extend(gen_u8[: config.keep_samples - len(samples)].cpu().numpy())
        done += len(chunk)
        if progress is not None:
            progress(done, len(todo))
    per_pair = {k: torch.cat(v).numpy() for k, v in values.items()}
    means = {k: float(np.mean(v)) for k, v in per_pair.items()}
    skipped = dict(nets.skipped)
    if fid is not None:
        if fid.fake.count >= 2:
            means["fid"] = fid.compute()
        else:
            skipped["fid"] = "FID needs at least 2 generated images"
    if iscore is not None:
        if done >= 10:
            means["inception_score"], means["inception_score_std"] = iscore.compute()
        else:
            skipped["inception_score"] = "the Inception Score needs at least 10 generated images (10 splits)"
    h, w = size
    sample_arr = np.stack(samples) if samples else np.zeros((0, h, w, 3), np.uint8)
    return TransferReport(
        method=name,
        pairs=tuple(todo),
        means=means,
        per_pair=per_pair,
        skipped=skipped,
        wall_s=time.perf_counter() - t0,
        samples=sample_arr,
    )
