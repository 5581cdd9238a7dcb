"""The flow regressor on test pose pairs, against the 3D proxy body's ground truth, with two baselines.

What is measured: for each pose pair (source keypoints, target keypoints) the proxy body
(``proxy3d.compute_flow_batch``, no image, default body widths) defines the ground-truth flow and visibility;
the regressor sees only the two pose heatmaps. The figures therefore say how well the network reproduces the
proxy body from poses alone, not how close either is to the true motion of the person (nothing here knows it).

Methods, all scored by ``FlowStats`` (EPE in pixels on ground-truth body pixels, classes 0 and 1; visibility
accuracy over all pixels; per-class IoU):

* ``model``: ``FlowRegressor.infer`` on disc heatmaps of radius ``radius``.
* ``zero_flow``: identity warp (flow 0 everywhere), so its EPE is the mean ground-truth flow magnitude on the
  body. Visibility: class 0 (visible) inside the body mask of the TARGET keypoints
  (``pose.body_mask``, the masked-SSIM mask: 8-px limbs, 4-px joint discs, 5x5 close), class 2 (background)
  outside, never class 1 (a 2D method has no notion of self-occlusion).
* ``affine_limb_flow``: ``proxy3d.affine_limb_flow`` (per-limb similarity / torso affine from the keypoints,
  no 3D); visibility as ``zero_flow``'s.
* ``gt_half_res``: not a method but a reference for the cost of resolution: the ground truth itself through a
  half-size grid (the mean over the body pixels of each cell, empty cells filled from their neighbours) and
  upsampled bilinearly back. A network predicting at half size and upsampling bilinearly (``stem_levels`` 1
  without ``refine``) would score about this if it were otherwise perfect (not a strict bound: other
  half-size fields could upsample a little better).

Convention: keypoints (18, 2) float32 (x, y) pixels, NaN missing; flow (B, 2, H, W) pixels, backward
target -> source; visibility 0 visible / 1 hidden / 2 background; size (H, W) = (128, 64) for Market.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from diaflow_core.data import MarketRoot, read_annotations, read_pairs
from diaflow_core.errors import DataError
from diaflow_core.evaluation.flow import FlowStats
from diaflow_core.models.flow_net import FlowRegressor
from diaflow_core.ops.resize import resize_flow, resize_flow_on_body
from diaflow_core.pose import body_mask, draw_pose, pose_heatmaps_torch
from diaflow_core.precision import autocast, resolve_precision
from diaflow_core.proxy3d import affine_limb_flow, compute_flow_batch
from diaflow_core.viz import flow_to_color, label_image, make_grid, visibility_to_color

__all__ = [
    "BASELINE_NAMES",
    "FLOW_GOAL",
    "PosePair",
    "TestPosePairs",
    "evaluate_flow_model",
    "flow_eval_picture",
    "goal_check",
    "load_test_pose_pairs",
]

PosePair = tuple[np.ndarray, np.ndarray]
BASELINE_NAMES = ("zero_flow", "affine_limb_flow", "gt_half_res")
# The target for the regressor on the test pairs.
FLOW_GOAL = {"epe_max": 1.5, "vis_accuracy_min": 0.93}


@dataclass(frozen=True)
class TestPosePairs:
    """The standard test pairs whose two poses are annotated (images are not needed)."""

    names: tuple[tuple[str, str], ...]
    poses: tuple[PosePair, ...]
    listed: int
    pairs_csv: str
    annotations_csv: str


def load_test_pose_pairs(market_root: str | os.PathLike[str]) -> TestPosePairs:
    """``market-pairs-test.csv`` pairs with both names in ``market-annotation-test.csv`` (in file order)."""
    root = MarketRoot(market_root)
    listed = read_pairs(root.pairs_csv())
    csv = root.annotation_csv("test")
    poses, _ = read_annotations(csv, on_error="skip")
    kept = tuple((a, b) for a, b in listed if a in poses and b in poses)
    if not kept:
        raise DataError(f"{root.pairs_csv()}: no pair has both poses in {csv}")
    return TestPosePairs(
        kept, tuple((poses[a], poses[b]) for a, b in kept), len(listed), str(root.pairs_csv()), str(csv)
    )


def _stack(pairs: Sequence[PosePair]) -> tuple[np.ndarray, np.ndarray]:
    src = np.stack([np.asarray(s, np.float32) for s, _ in pairs])
    tgt = np.stack([np.asarray(t, np.float32) for _, t in pairs])
    if src.shape[1:] != (18, 2) or tgt.shape[1:] != (18, 2):
        raise DataError(f"evaluate_flow_model: poses must be (18, 2), got {src.shape[1:]} and {tgt.shape[1:]}")
    return src, tgt


def _one_hot(classes: torch.Tensor) -> torch.Tensor:
    """(B, H, W) int classes -> (B, 3, H, W) float 'logits' whose argmax is the class (for FlowStats)."""
    return torch.nn.functional.one_hot(classes.long(), 3).permute(0, 3, 1, 2).float()


def _half_res_reference(flow_gt: torch.Tensor, vis_gt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The ground truth through a half-size grid and back: (flow, visibility scores).

    Flow: the mean over the body pixels of each half-size cell, cells without body filled from their body
    neighbours (so upsampling never mixes in the background's zeros), then bilinear back. Visibility: its
    one-hot maps area-averaged and upsampled the same way."""
    size = (flow_gt.shape[-2], flow_gt.shape[-1])
    half = (size[0] // 2, size[1] // 2)
    body = vis_gt < 2
    low = resize_flow_on_body(flow_gt, body, half)
    have = F.adaptive_max_pool2d(body.float().unsqueeze(1), half)
    for _ in range(2):  # two rings of empty cells are all bilinear upsampling can reach
        num = F.avg_pool2d(low * have, 3, 1, 1, count_include_pad=False)
        den = F.avg_pool2d(have, 3, 1, 1, count_include_pad=False)
        low = torch.where(have > 0, low, num / den.clamp_min(1e-12))
        have = torch.maximum(have, (den > 0).float())
    flow = resize_flow(low, size, mode="bilinear")
    scores = F.interpolate(F.interpolate(_one_hot(vis_gt), size=half, mode="area"), size=size, mode="bilinear")
    return flow, scores


def _mask_visibility(tgt: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """Baseline visibility: 0 inside the target keypoints' body mask, 2 outside."""
    vis = np.stack([np.where(body_mask(t, size), 0, 2) for t in tgt])
    return torch.from_numpy(vis.astype(np.int64))


@torch.no_grad()
def _model_predict(
    model: FlowRegressor,
    src: np.ndarray,
    tgt: np.ndarray,
    size: tuple[int, int],
    radius: float,
    device: torch.device,
    precision: str = "fp32",
) -> tuple[torch.Tensor, torch.Tensor]:
    p1 = pose_heatmaps_torch(torch.from_numpy(src).to(device), size, radius)
    p2 = pose_heatmaps_torch(torch.from_numpy(tgt).to(device), size, radius)
    with autocast(device, precision):
        flow, vis = model.infer(p1, p2)
    return flow.float().cpu(), vis.cpu()


def evaluate_flow_model(
    model: FlowRegressor,
    pairs: Sequence[PosePair],
    batch_size: int = 64,
    device: str | torch.device = "cpu",
    progress: Callable[[int, int], None] | None = None,
    *,
    size: tuple[int, int] = (128, 64),
    radius: float = 4.0,
    baselines: bool = True,
    precision: str = "auto",
) -> dict[str, Any]:
    """Score ``model`` (and the baselines) on pose pairs against the proxy body's ground truth.

    Args:
        model: the regressor (put in eval mode and moved to ``device`` here).
        pairs: (source keypoints, target keypoints), each (18, 2).
        batch_size: pairs per batch (ground truth, network and baselines alike).
        device: where the network runs; the proxy body and the baselines run on the CPU (numpy).
        progress: called as ``progress(done, total)`` after each batch.
        size: (H, W) of the images the poses live in.
        radius: pose heatmap disc radius the regressor was trained with (``data.heatmap_radius``).
        baselines: also score ``zero_flow``, ``affine_limb_flow`` and the ``gt_half_res`` reference.
        precision: the network's precision (``diaflow_core.precision``: auto, fp32, bf16).
    Returns:
        The model's ``FlowStats`` summary at the top level (``epe``, ``epe_visible``, ``epe_hidden``,
        ``vis_accuracy``, ``iou_visible``, ``iou_hidden``, ``iou_background``, ``pairs``), plus
        ``ground_truth`` (fractions of pixels per class, mean |flow| on the body), ``baselines`` (name -> the
        same summary), ``seconds`` (per part: ground truth, model, each baseline) and ``pairs_per_s`` (model).
    """
    if not pairs:
        raise DataError("evaluate_flow_model: no pairs")
    if batch_size < 1:
        raise DataError(f"evaluate_flow_model: batch_size must be >= 1, got {batch_size}")
    dev = torch.device(device)
    model = model.to(dev).eval()
    h, w = int(size[0]), int(size[1])
    stats = FlowStats()
    base_stats = {name: FlowStats() for name in (BASELINE_NAMES if baselines else ())}
    seconds = {"ground_truth": 0.0, "model": 0.0, **{name: 0.0 for name in base_stats}}
    counts = np.zeros(3, np.float64)
    flow_mag_sum = 0.0
    total = len(pairs)
    for i in range(0, total, batch_size):
        src, tgt = _stack(pairs[i : i + batch_size])
        t0 = time.perf_counter()
        flow_np, vis_np = compute_flow_batch(src, tgt, size=(h, w))
        flow_gt, vis_gt = torch.from_numpy(flow_np).float(), torch.from_numpy(vis_np.astype(np.int64))
        seconds["ground_truth"] += time.perf_counter() - t0
        counts += np.bincount(vis_np.ravel(), minlength=3)[:3]
        flow_mag_sum += float(torch.linalg.vector_norm(flow_gt, dim=1)[vis_gt < 2].sum())

        t0 = time.perf_counter()
        flow, vis = _model_predict(model, src, tgt, (h, w), radius, dev, precision)
        seconds["model"] += time.perf_counter() - t0
        stats.update(flow, _one_hot(vis), flow_gt, vis_gt)

        if base_stats:
            t0 = time.perf_counter()
            mask_vis = _one_hot(_mask_visibility(tgt, (h, w)))
            mask_s = time.perf_counter() - t0
            for name, st in base_stats.items():
                t0 = time.perf_counter()
                scores = mask_vis
                if name == "zero_flow":
                    pred = torch.zeros_like(flow_gt)
                elif name == "gt_half_res":
                    pred, scores = _half_res_reference(flow_gt, vis_gt)
                else:
                    pred = torch.from_numpy(
                        np.stack([affine_limb_flow(s, t, (h, w)) for s, t in zip(src, tgt, strict=True)])
                    )
                st.update(pred, scores, flow_gt, vis_gt)
                seconds[name] += time.perf_counter() - t0 + (mask_s if scores is mask_vis else 0.0)
        if progress is not None:
            progress(min(i + batch_size, total), total)

    out: dict[str, Any] = dict(stats.summary())
    out["pairs"] = stats.pairs
    body = counts[0] + counts[1]
    out["ground_truth"] = {
        "fraction_visible": float(counts[0] / counts.sum()),
        "fraction_hidden": float(counts[1] / counts.sum()),
        "fraction_background": float(counts[2] / counts.sum()),
        "mean_flow_px": flow_mag_sum / body if body else float("nan"),
    }
    out["baselines"] = {name: {**st.summary(), "pairs": st.pairs} for name, st in base_stats.items()}
    out["seconds"] = seconds
    out["pairs_per_s"] = stats.pairs / seconds["model"] if seconds["model"] > 0 else float("nan")
    out["precision"] = resolve_precision(precision, dev)
    return out


def goal_check(result: dict[str, Any], goal: dict[str, float] | None = None) -> dict[str, Any]:
    """Whether the model's ``epe`` and ``vis_accuracy`` meet ``goal`` (default ``FLOW_GOAL``)."""
    goal = dict(goal or FLOW_GOAL)
    epe_ok = bool(result["epe"] <= goal["epe_max"])
    vis_ok = bool(result["vis_accuracy"] >= goal["vis_accuracy_min"])
    return {**goal, "epe_met": epe_ok, "vis_accuracy_met": vis_ok, "met": epe_ok and vis_ok}


def flow_eval_picture(
    model: FlowRegressor,
    pairs: Sequence[PosePair],
    device: str | torch.device = "cpu",
    *,
    size: tuple[int, int] = (128, 64),
    radius: float = 4.0,
    zoom: int = 2,
) -> np.ndarray:
    """Rows of [source skeleton, target skeleton, GT flow, predicted flow, GT visibility, predicted visibility].

    Skeletons are drawn on black; no photograph is used, so the picture can be committed. In each row both flows
    share one colour scale (the larger of the two maxima on their bodies) and are black off their own body
    (GT: classes 0/1; prediction: predicted classes 0/1). Returns (H', W', 3) uint8 RGB with a caption strip
    over every tile.
    """
    if not pairs:
        raise DataError("flow_eval_picture: no pairs")
    h, w = int(size[0]), int(size[1])
    src, tgt = _stack(pairs)
    flow_gt, vis_gt = compute_flow_batch(src, tgt, size=(h, w))
    flow, vis = _model_predict(model.to(torch.device(device)).eval(), src, tgt, (h, w), radius, torch.device(device))
    flow_np, vis_np = flow.numpy(), vis.numpy()
    tiles = []
    black = np.zeros((h, w, 3), np.uint8)
    for k in range(len(src)):
        body_gt, body_pr = vis_gt[k] < 2, vis_np[k] < 2
        mags = [np.hypot(*f[:, m]).max() if m.any() else 0.0 for f, m in ((flow_gt[k], body_gt), (flow_np[k], body_pr))]
        norm = max(max(mags), 1.0)
        row = [
            ("source", draw_pose(black, src[k])),
            ("target", draw_pose(black, tgt[k])),
            ("GT flow", flow_to_color(flow_gt[k], norm, body_gt)),
            ("pred flow", flow_to_color(flow_np[k], norm, body_pr)),
            ("GT vis", visibility_to_color(vis_gt[k])),
            ("pred vis", visibility_to_color(vis_np[k])),
        ]
        for text, img in row:
            big = np.repeat(np.repeat(img, zoom, axis=0), zoom, axis=1)
            tiles.append(label_image(big, text, height=8 + 6 * zoom))
    return make_grid(tiles, ncols=6)
