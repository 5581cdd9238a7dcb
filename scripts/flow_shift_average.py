"""Test-time averaging for the flow regressor over 1-2 px shifts of the input poses.

The net's stride-2 stem sees a pose shifted by an odd number of pixels on the other sampling phase, so its
answers differ a little; shifting both poses by d, predicting, and reading the flow back at x + d (a backward
flow is unchanged by a common shift) gives another estimate of the same field. Does their mean beat one pass?
Validation pairs of held-out TRAINING identities (the flow recipe's split), shipped weights unless given, fp32.

    python scripts/flow_shift_average.py [--pairs 256] [--weights flow.safetensors] [--json out.json]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from diaflow_core.config import load_recipe
from diaflow_core.fileio import report_json
from diaflow_core.pose import visible
from diaflow_core.proxy3d.correspond import flow_between_bodies, lift_pair
from diaflow_core.train.flow import FlowTrainConfig, predict_flow, validation_poses
from diaflow_core.train.flow_source import load_flow_regressor

SHIFTS = ((1, 0), (0, 1), (1, 1), (-1, 0), (0, -1), (-1, -1), (2, 0), (0, 2))


def shift_pose(kp: np.ndarray, d: tuple[int, int]) -> np.ndarray:
    """Poses (N, 18, 2) moved by d = (dx, dy) px; missing (NaN) joints stay missing."""
    out = kp.copy()
    out[visible(kp)] += np.asarray(d, np.float32)
    return out


def read_back(shifted: np.ndarray, fallback: np.ndarray, d: tuple[int, int]) -> np.ndarray:
    """A shifted pass's output ``(..., H, W)`` (a backward flow, an image) read back at x + d; the strip that left
    the frame keeps ``fallback``. Also used by generator_shift_average.py."""
    dx, dy = d
    h, w = shifted.shape[-2:]
    out = fallback.copy()
    out[..., max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)] = shifted[
        ..., max(0, dy) : h - max(0, -dy), max(0, dx) : w - max(0, -dx)
    ]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=256)
    ap.add_argument("--weights", type=Path, default=None, help="flow .safetensors (default: the shipped ones)")
    ap.add_argument("--recipe", default="recipes/market1501_flow.yaml")
    ap.add_argument("--data", default="../shared/data/market1501")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    cfg = load_recipe(FlowTrainConfig, args.recipe, [])
    size, radius = tuple(cfg.data.size), cfg.data.heatmap_radius
    src, tgt = validation_poses(replace(cfg.data, market_root=args.data), cfg.seed, args.pairs)
    n = len(src)
    gt, vis = flow_between_bodies(*lift_pair(src, tgt, size), size)
    body = vis < 2
    model = load_flow_regressor(args.weights, torch.device("cpu"))

    @torch.no_grad()
    def predict(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The regressor's flow for poses a -> b (the trainer's prediction path), in batches of 64."""
        flows = [
            predict_flow(model, torch.as_tensor(a[i : i + 64]), torch.as_tensor(b[i : i + 64]), size, radius).flows[0]
            for i in range(0, n, 64)
        ]
        return torch.cat(flows).float().numpy()

    def epe(flow: np.ndarray) -> float:
        return float(np.linalg.norm(flow - gt, axis=1)[body].mean())

    base = predict(src, tgt)
    out: dict = {"pairs": n, "epe_one_pass": epe(base), "shifts": []}
    total = base.copy()
    for k, d in enumerate(SHIFTS, start=2):
        one = read_back(predict(shift_pose(src, d), shift_pose(tgt, d)), base, d)
        total += one
        out["shifts"].append({"shift": list(d), "epe_alone": epe(one), "passes": k, "epe_mean": epe(total / k)})
        print(out["shifts"][-1], flush=True)
    report_json(out, args.json)


if __name__ == "__main__":
    main()
