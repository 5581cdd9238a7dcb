"""Input-side pose augmentation for the flow regressor: flip, jitter, scale/shift of the target, dropped joints.

The network only sees poses, so augmenting poses is cheap and widens what it has seen. Ground truth is rendered
from the augmented poses BEFORE joints are dropped: dropping then teaches the regressor to cope with missing
detections instead of teaching it to drop body parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..pose import flip_pose

__all__ = ["PoseAugConfig", "augment_pose_pair", "drop_joints"]


@dataclass(frozen=True)
class PoseAugConfig:
    flip_prob: float = 0.5
    jitter_px: float = 1.0
    scale_range: tuple[float, float] = (0.9, 1.1)
    shift_px: tuple[float, float] = (4.0, 6.0)  # max |dx|, |dy| applied to the target
    drop_prob: float = 0.05  # per joint, per pose, input side only


def _scale_shift(kp: np.ndarray, scale: float, dx: float, dy: float) -> np.ndarray:
    centre = np.nanmean(kp, axis=0)
    if not np.all(np.isfinite(centre)):
        return kp
    return ((kp - centre) * scale + centre + np.array([dx, dy], np.float32)).astype(np.float32)


def augment_pose_pair(
    src: np.ndarray, tgt: np.ndarray, cfg: PoseAugConfig, rng: np.random.Generator, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return augmented copies of (src, tgt) poses, (18, 2) (x, y) pixels, NaN = missing.

    Convention: a flip applies to both poses (the pair stays consistent); scale and shift apply to the target
    only, so the regressor sees targets that are not where the source stands.
    """
    if src.shape != (18, 2) or tgt.shape != (18, 2):
        raise ValueError(f"poses must be (18, 2), got {src.shape} and {tgt.shape}")
    s, t = src.astype(np.float32).copy(), tgt.astype(np.float32).copy()
    if rng.random() < cfg.flip_prob:
        s, t = flip_pose(s, width), flip_pose(t, width)
    if cfg.jitter_px > 0:
        s = s + rng.normal(0.0, cfg.jitter_px, s.shape).astype(np.float32)
        t = t + rng.normal(0.0, cfg.jitter_px, t.shape).astype(np.float32)
    lo, hi = cfg.scale_range
    t = _scale_shift(
        t,
        float(rng.uniform(lo, hi)),
        float(rng.uniform(-cfg.shift_px[0], cfg.shift_px[0])),
        float(rng.uniform(-cfg.shift_px[1], cfg.shift_px[1])),
    )
    return np.asarray(s, np.float32), np.asarray(t, np.float32)


def drop_joints(kp: np.ndarray, prob: float, rng: np.random.Generator) -> np.ndarray:
    """Mark each joint missing (NaN) with probability `prob`; never drops the neck, which anchors the body."""
    out = kp.copy()
    drop = rng.random(kp.shape[0]) < prob
    drop[1] = False
    out[drop] = np.nan
    return out
