"""Pose-pair batches with proxy-body ground truth made on the fly.

The proxy body renders a pair in a few milliseconds, so targets are computed per batch rather than cached:
every epoch sees fresh augmentations, and nothing has to be stored. By default `collate` renders them with
numpy in the DataLoader workers; with ``targets=False`` it hands over the augmented keypoints instead and the
training loop renders them on its device (`targets_on_device`, the PyTorch renderer), which on a GPU removes
the workers' rendering from the critical path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..proxy3d import compute_flow_batch, compute_flow_batch_torch
from .pose_augment import PoseAugConfig, augment_pose_pair, drop_joints

__all__ = ["FlowCollate", "targets_on_device"]


@dataclass
class FlowCollate:
    """Batch of pose pairs -> (src_kp, tgt_kp, flow, vis) tensors; augments when `aug` is given.

    ``targets=False``: no rendering here; the batch carries ``gt_src_kp`` / ``gt_tgt_kp`` (the augmented poses
    before joints are dropped, which define the ground truth) for `targets_on_device`.
    """

    size: tuple[int, int]
    aug: PoseAugConfig | None
    seed: int = 0
    targets: bool = True

    def __call__(self, batch: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        # One generator per batch, seeded from torch's per-worker stream (itself seeded per epoch by the loader).
        rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,)).item()) + self.seed)
        srcs, tgts, in_src, in_tgt = [], [], [], []
        for item in batch:
            s, t = np.asarray(item["src_kp"], np.float32), np.asarray(item["tgt_kp"], np.float32)
            if self.aug is not None:
                s, t = augment_pose_pair(s, t, self.aug, rng, self.size[1])
            srcs.append(s)
            tgts.append(t)
            if self.aug is not None and self.aug.drop_prob > 0:
                in_src.append(drop_joints(s, self.aug.drop_prob, rng))
                in_tgt.append(drop_joints(t, self.aug.drop_prob, rng))
            else:
                in_src.append(s)
                in_tgt.append(t)
        src, tgt = np.stack(srcs), np.stack(tgts)
        out = {"src_kp": torch.from_numpy(np.stack(in_src)), "tgt_kp": torch.from_numpy(np.stack(in_tgt))}
        if not self.targets:
            return {**out, "gt_src_kp": torch.from_numpy(src), "gt_tgt_kp": torch.from_numpy(tgt)}
        flow, vis = compute_flow_batch(src, tgt, size=self.size)
        return {**out, "flow": torch.as_tensor(flow, dtype=torch.float32), "vis": torch.as_tensor(vis).long()}


def targets_on_device(
    batch: dict[str, torch.Tensor], size: tuple[int, int], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """(flow float32, vis int64) on ``device`` for a batch: rendered there from ``gt_*_kp`` when the collate
    left them, else the collate's own targets moved over."""
    if "gt_src_kp" in batch:
        flow, vis = compute_flow_batch_torch(
            batch["gt_src_kp"].numpy(), batch["gt_tgt_kp"].numpy(), size=size, device=device
        )
        return flow, vis.long()
    return batch["flow"].to(device, non_blocking=True), batch["vis"].to(device, non_blocking=True)
