"""Pose-pair batches with proxy-body ground truth made on the fly (in DataLoader workers).

The proxy body renders a pair in about a millisecond, so targets are computed per batch in `collate` rather than
cached: every epoch sees fresh augmentations, and nothing has to be stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..proxy3d import compute_flow_batch
from .pose_augment import PoseAugConfig, augment_pose_pair, drop_joints

__all__ = ["FlowCollate"]


@dataclass
class FlowCollate:
    """Batch of pose pairs -> (src_kp, tgt_kp, flow, vis) tensors; augments when `aug` is given."""

    size: tuple[int, int]
    aug: PoseAugConfig | None
    seed: int = 0

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
        flow, vis = compute_flow_batch(src, tgt, size=self.size)
        return {
            "src_kp": torch.from_numpy(np.stack(in_src)),
            "tgt_kp": torch.from_numpy(np.stack(in_tgt)),
            "flow": torch.as_tensor(flow, dtype=torch.float32),
            "vis": torch.as_tensor(vis).long(),
        }
