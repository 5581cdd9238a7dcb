"""Where the flow regressor's error is: EPE by the target pixel's proxy-body part, at silhouettes and part
boundaries, by flow magnitude; and what 2D per-limb similarity flows would give on the limbs if the part of
every pixel were known (an oracle, so an upper bound on what a "limb hypotheses" head could add).

Validation pairs of held-out TRAINING identities (the flow recipe's split), the shipped weights, fp32, CPU.

    python scripts/flow_error_by_part.py [--pairs 256] [--json out.json]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import binary_erosion, gaussian_filter

from diaflow_core.config import load_recipe
from diaflow_core.fileio import report_json
from diaflow_core.proxy3d import compute_flow_batch
from diaflow_core.proxy3d.config import PARTS
from diaflow_core.proxy3d.correspond import flow_between_bodies, lift_pair
from diaflow_core.proxy3d.render import render
from diaflow_core.train.flow import FlowTrainConfig, predict_flow, validation_poses
from diaflow_core.train.flow_source import load_flow_regressor

# part -> the bone (joint indices) whose 2D similarity moves it
LIMB_BONES = {
    "r_upper_arm": (2, 3), "r_forearm": (3, 4), "l_upper_arm": (5, 6), "l_forearm": (6, 7),
    "r_thigh": (8, 9), "r_shin": (9, 10), "l_thigh": (11, 12), "l_shin": (12, 13),
}  # fmt: skip


def similarity_flow(
    a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray, size: tuple[int, int]
) -> np.ndarray:
    """(2, H, W) backward flow of the 2D similarity taking target bone a0->a1 onto source bone b0->b1."""
    h, w = size
    ys, xs = np.mgrid[0:h, 0:w]
    px = np.stack([xs, ys]).astype(np.float64)
    da, db = a1 - a0, b1 - b0
    na = float(da @ da)
    c, s = (da @ db) / na, (da[0] * db[1] - da[1] * db[0]) / na
    m = np.array([[c, -s], [s, c]])
    return np.einsum("ij,jhw->ihw", m, px) + (b0 - m @ a0)[:, None, None] - px


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=256)
    ap.add_argument("--recipe", default="recipes/market1501_flow.yaml")
    ap.add_argument("--data", default="../shared/data/market1501")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    cfg = load_recipe(FlowTrainConfig, args.recipe, [])
    size, radius = tuple(cfg.data.size), cfg.data.heatmap_radius
    src, tgt = validation_poses(replace(cfg.data, market_root=args.data), cfg.seed, args.pairs)
    n = len(src)
    sb, tb = lift_pair(src, tgt, size)
    gt, vis = flow_between_bodies(sb, tb, size)
    part = render(tb, size).part
    model = load_flow_regressor(None, torch.device("cpu"))

    @torch.no_grad()
    def predict(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The regressor's flow for poses a -> b (the trainer's prediction path), in batches of 64."""
        flows = [
            predict_flow(model, torch.as_tensor(a[i : i + 64]), torch.as_tensor(b[i : i + 64]), size, radius).flows[0]
            for i in range(0, n, 64)
        ]
        return torch.cat(flows).float().numpy()

    pred = predict(src, tgt)
    err = np.linalg.norm(pred - gt, axis=1)
    body = vis < 2
    total = float(err[body].sum())
    out: dict = {"pairs": n, "epe": float(err[body].mean()), "parts": {}, "regions": {}, "flow_magnitude": {}}

    def row(m: np.ndarray) -> dict:
        return {
            "share_px": float(m.sum() / body.sum()),
            "epe": float(err[m].mean()),
            "share_error": float(err[m].sum() / total),
        }

    for p, name in enumerate(PARTS):
        m = (part == p) & body
        if m.any():
            out["parts"][name] = row(m)
    silhouette = np.stack([b & ~binary_erosion(b) for b in body])
    boundary = np.zeros_like(body)
    boundary[:, 1:] |= part[:, 1:] != part[:, :-1]
    boundary[:, :, 1:] |= part[:, :, 1:] != part[:, :, :-1]
    boundary &= body & ~silhouette
    for name, m in (
        ("silhouette", silhouette),
        ("part_boundary", boundary),
        ("interior", body & ~silhouette & ~boundary),
    ):
        out["regions"][name] = row(m)
    mag = np.linalg.norm(gt, axis=1)
    for lo, hi in ((0, 5), (5, 10), (10, 20), (20, 40), (40, 1e9)):
        m = body & (mag >= lo) & (mag < hi)
        if m.any():
            out["flow_magnitude"][f"{lo}-{hi:g}"] = row(m)
    # Oracle: limb pixels (by the proxy body's own part map) take their bone's 2D similarity flow.
    oracle = {}
    for parts in (("r_forearm", "l_forearm"), tuple(k for k in LIMB_BONES if "arm" in k), tuple(LIMB_BONES)):
        e = err.copy()
        for i in range(n):
            s, t = src[i].astype(np.float64), tgt[i].astype(np.float64)
            for name in parts:
                a, b = LIMB_BONES[name]
                m = part[i] == PARTS.index(name)
                if (
                    m.any()
                    and np.isfinite(s[[a, b]]).all()
                    and np.isfinite(t[[a, b]]).all()
                    and np.ptp(t[[a, b]], 0).any()
                ):
                    e[i][m] = np.linalg.norm(similarity_flow(t[a], t[b], s[a], s[b], size) - gt[i], axis=0)[m]
        oracle["+".join(parts)] = float(e[body].mean())
    out["oracle_limb_similarity_epe"] = oracle
    # Is the error smooth or pixel noise? Blurring the prediction would lower the EPE if it were noise.
    out["blurred_prediction_epe"] = {
        f"sigma_{sig:g}": float(np.linalg.norm(gaussian_filter(pred, (0, 0, sig, sig)) - gt, axis=1)[body].mean())
        for sig in (0.7, 1.5)
    }
    # The floor: identical source and target poses (ground truth zero on every body pixel).
    gt0, vis0 = compute_flow_batch(src, src, size=size)
    pred0 = predict(src, src)
    out["identical_pairs_epe"] = float(np.linalg.norm(pred0 - gt0, axis=1)[vis0 < 2].mean())
    per_pair = np.array([err[i][body[i]].mean() for i in range(n)])
    out["per_pair_epe_quantiles"] = dict(
        zip(("p10", "p50", "p90", "p99"), np.percentile(per_pair, [10, 50, 90, 99]).tolist(), strict=True)
    )
    report_json(out, args.json)


if __name__ == "__main__":
    main()
