"""Image-informed fitting: part widths of the proxy body fitted to a person mask.

Convention: ``mask`` (H, W) float in [0, 1] (or bool) at the keypoints' resolution; keypoints (18, 2)
(x, y) pixels, NaN = missing; the result is (P,) float32 radius multipliers (1 = the config's radii)
for ``lift_pose`` / ``compute_flow(src_widths=...)``.

Method: the parts are tied into groups that clothing and build change together (torso; head and
neck; arms; legs and feet). Each round tries a ladder of multipliers per group, with the other
groups held, renders all the candidate silhouettes in one batch and keeps, per group, the
multiplier whose silhouette agrees with the thresholded mask on the most pixels. Masks that are
nearly empty or nearly full (the segmenter failed) leave the widths at 1.
"""

from __future__ import annotations

import numpy as np

from diaflow_core.errors import DataError
from diaflow_core.proxy3d.config import DEFAULT_CONFIG, NUM_PARTS, ProxyBodyConfig
from diaflow_core.proxy3d.lift import check_poses, lift_pose
from diaflow_core.proxy3d.render import render_hits

__all__ = ["WIDTH_GROUPS", "fit_widths", "mask_is_usable"]

WIDTH_GROUPS: tuple[tuple[int, ...], ...] = ((0,), (1, 2), (3, 4, 5, 6), (7, 8, 9, 10, 11, 12))
_LADDER = np.array([0.7, 0.8, 0.9, 1.0, 1.12, 1.25, 1.4, 1.6], dtype=np.float32)


def mask_is_usable(mask: np.ndarray, lo: float = 0.08, hi: float = 0.8) -> bool:
    """A mask covering less than ``lo`` or more than ``hi`` of the crop is a segmentation failure."""
    frac = float((np.asarray(mask) > 0.5).mean())
    return lo <= frac <= hi


def fit_widths(
    mask: np.ndarray,
    kp: np.ndarray,
    cfg: ProxyBodyConfig | None = None,
    rounds: int = 2,
    threshold: float = 0.5,
    spill_weight: float = 3.0,
) -> np.ndarray:
    """Fit per-part radius multipliers so the proxy body's silhouette matches ``mask``.

    Args:
        mask: (H, W) person mask (probabilities or bool).
        kp: (18, 2) keypoints of the same image.
        cfg: proxy-body configuration.
        rounds: coordinate-search rounds over the groups.
        threshold: mask probability counted as person.
        spill_weight: cost of a silhouette pixel outside the mask relative to the gain of one inside
            (above 1 counters masks that bleed into the background).
    Returns:
        (P,) float32 multipliers within ``cfg.width_range`` (all 1 for an unusable mask).

    Convention: module docstring.
    """
    cfg = cfg or DEFAULT_CONFIG
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise DataError(f"fit_widths: mask must be (H, W), got {mask.shape}")
    kp1, single = check_poses(kp)
    if not single:
        raise DataError(f"fit_widths: expected one pose (18, 2), got {np.asarray(kp).shape}")
    widths = np.ones(NUM_PARTS, dtype=np.float32)
    prob = mask.astype(np.float32)
    if not mask_is_usable(prob):
        return widths
    h, w = mask.shape
    fg_flat = (prob > threshold).reshape(-1).astype(np.float32)
    ladder = _LADDER[(_LADDER >= cfg.width_range[0]) & (_LADDER <= cfg.width_range[1])]
    n_c = len(ladder)
    for _ in range(rounds):
        cand = np.repeat(widths[None], len(WIDTH_GROUPS) * n_c, axis=0)
        for g, parts in enumerate(WIDTH_GROUPS):
            cand[g * n_c : (g + 1) * n_c, list(parts)] = ladder[:, None]
        body = lift_pose(np.repeat(kp1, cand.shape[0], axis=0), (h, w), cfg, widths=cand)
        pix, _, _ = render_hits(body, (h, w))
        b = pix // (h * w)
        tp = np.bincount(b, weights=fg_flat[pix % (h * w)], minlength=cand.shape[0])
        area = np.bincount(b, minlength=cand.shape[0])
        score = ((1.0 + spill_weight) * tp - spill_weight * area).reshape(len(WIDTH_GROUPS), n_c)
        best = ladder[np.argmax(score, axis=1)]
        new = widths.copy()
        for g, parts in enumerate(WIDTH_GROUPS):
            new[list(parts)] = best[g]
        if np.allclose(new, widths):
            break
        widths = new
    return widths.astype(np.float32)
