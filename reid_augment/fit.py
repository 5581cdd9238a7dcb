"""Fitting a target pose to the person being re-posed.

A bank or video pose belongs to someone else: other height, other leg length, other place in the frame.
Before transfer it is re-scaled to the SOURCE person's body (torso and legs separately, so the person's own
proportions survive) and placed on the source's ground line and horizontal centre.

Convention: poses are float32 ``(18, 2)`` (x, y) pixels, NaN = missing (``diaflow_core.pose``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from diaflow_core.errors import DataError
from diaflow_core.pose import (
    pose_bbox,
    pose_center_x,
    pose_ground_y,
    pose_leg_length,
    pose_torso_length,
    visible,
)

__all__ = ["canonical_pose", "fit_pose", "keep_inside", "usable_pose"]

_NECK, _R_HIP, _L_HIP = 1, 8, 11
_LEGS = ((8, 9, 10), (11, 12, 13))  # (hip, knee, ankle): knees and ankles follow the leg ratio


def _mid_hip(kp: np.ndarray) -> np.ndarray:
    hips = kp[[_R_HIP, _L_HIP]]
    ok = ~np.isnan(hips).any(axis=1)
    return hips[ok].mean(axis=0) if ok.any() else np.full(2, np.nan, np.float32)


def usable_pose(kp: np.ndarray, min_torso: float = 6.0) -> str | None:
    """None when ``kp`` can drive or receive a transfer, else the reason (neck and a hip are needed)."""
    kp = np.asarray(kp, dtype=np.float32)
    if kp.shape != (18, 2):
        return f"pose has shape {kp.shape}, expected (18, 2)"
    if np.isnan(kp[_NECK]).any() or np.isnan(_mid_hip(kp)).any():
        return "pose incomplete (needs the neck and a hip)"
    if not pose_torso_length(kp) >= min_torso:
        return f"pose too small (torso under {min_torso:.0f} px)"
    return None


def fit_pose(target: np.ndarray, source: np.ndarray, max_ratio: float = 1.25) -> np.ndarray:
    """Re-scale and place ``target`` onto the body of ``source``; returns a new float32 ``(18, 2)``.

    Convention: the whole pose scales by the torso ratio s_t = torso(source) / torso(target) about the
    mid-hip, then each leg's knee and ankle about its hip so the legs get the leg ratio
    s_l = leg(source) / leg(target), clamped to ``[s_t / max_ratio, s_t * max_ratio]`` so a
    foreshortened leg cannot distort the body (s_l = s_t when either pose lacks a complete leg). Then the
    lowest ankle goes to the source's ground line (the mid-hip height when either pose lacks ankles) and the
    body centre (``pose_center_x``) to the source's.
    """
    t = np.asarray(target, dtype=np.float32)
    s = np.asarray(source, dtype=np.float32)
    for what, kp in (("target", t), ("source", s)):
        reason = usable_pose(kp)
        if reason is not None:
            raise DataError(f"fit_pose: {what} {reason}")
    s_t = pose_torso_length(s) / pose_torso_length(t)
    s_l = pose_leg_length(s) / pose_leg_length(t)
    if not np.isfinite(s_l):
        s_l = s_t
    s_l = float(np.clip(s_l, s_t / max_ratio, s_t * max_ratio))
    hip_t = _mid_hip(t)
    out = hip_t + (t - hip_t) * np.float32(s_t)
    for hip, knee, ankle in _LEGS:  # each leg re-scaled about its own hip (the mid-hip when it is missing)
        pivot = out[hip] if not np.isnan(out[hip]).any() else hip_t
        out[[knee, ankle]] = pivot + (out[[knee, ankle]] - pivot) * np.float32(s_l / s_t)
    dy = pose_ground_y(s) - pose_ground_y(out)
    if not np.isfinite(dy):
        dy = float(_mid_hip(s)[1] - _mid_hip(out)[1])
    dx = pose_center_x(s) - pose_center_x(out)
    return (out + np.array([dx, dy], dtype=np.float32)).astype(np.float32)


def keep_inside(kp: np.ndarray, size: Sequence[int], margin: float = 2.0, min_scale: float = 0.8) -> np.ndarray:
    """Shrink (about the feet) and shift a fitted pose so the head stays in the ``size`` (H, W) frame.

    Convention: a head above the top edge is brought ``margin`` px inside by scaling about the lowest
    joint; a pose wider than the frame is scaled down too; neither shrink goes below ``min_scale`` (beyond
    that, e.g. arms spread wide, joints are left outside: cutting them is better than a dwarf). Then a
    horizontal shift centres any overflow. Poses already inside come back unchanged.
    """
    kp = np.asarray(kp, dtype=np.float32)
    w = int(size[1])
    x0, y0, x1, y1 = pose_bbox(kp)
    scale = 1.0
    if y0 < margin and y1 - y0 > 1e-3:
        scale = min(scale, (y1 - margin) / (y1 - y0))
    if x1 - x0 > w - 1 - 2 * margin:
        scale = min(scale, (w - 1 - 2 * margin) / (x1 - x0))
    scale = max(scale, min_scale)
    anchor = np.array([pose_center_x(kp), y1], np.float32)
    out = (kp - anchor) * np.float32(scale) + anchor
    x0, _, x1, _ = pose_bbox(out)
    left, right = margin - x0, x1 - (w - 1 - margin)
    if left > 0 and right > 0:
        dx = (left - right) / 2
    else:
        dx = max(left, 0.0) - max(right, 0.0)
    out[:, 0] += np.float32(dx)
    return out.astype(np.float32)


def canonical_pose(kp: np.ndarray, size: Sequence[int] = (128, 64), fill: float = 0.84) -> np.ndarray:
    """Place any pose in a ``size`` (H, W) canvas: joint bbox height = ``fill`` * H, centred, feet near the
    bottom (5% margin). Used to store and draw poses from frames and videos at crop scale."""
    kp = np.asarray(kp, dtype=np.float32)
    if kp.shape != (18, 2) or not visible(kp).any():
        raise DataError(f"canonical_pose: expected an (18, 2) pose with a present joint, got {kp.shape}")
    h, w = int(size[0]), int(size[1])
    x0, y0, x1, y1 = pose_bbox(kp)
    scale = fill * h / max(y1 - y0, 1e-3)
    out = (kp - np.array([pose_center_x(kp), y1], np.float32)) * np.float32(scale)
    return (out + np.array([(w - 1) / 2.0, 0.95 * h], np.float32)).astype(np.float32)
