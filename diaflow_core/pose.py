"""2D pose: joint sets, conversions to OpenPose-18, heatmaps, body masks, flips, geometry, drawing.

Convention (everywhere in this module):
- a pose is float32 ``(18, 2)`` in OpenPose-18 order (``OPENPOSE18``), **(x, y) pixel coordinates**
  (x = column; the centre of pixel column i is x = i); batched poses are ``(N, 18, 2)``;
- a missing joint is NaN in both coordinates;
- image sizes are ``(H, W)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch

from diaflow_core.errors import DataError

__all__ = [
    "BLAZEPOSE33",
    "COCO17",
    "FLIP_PERMUTATION18",
    "LIMBS18",
    "LIMB_COLORS18",
    "MASK_LIMBS18",
    "NUM_JOINTS",
    "OPENPOSE18",
    "align_pose",
    "blazepose33_to_openpose18",
    "body_mask",
    "coco17_to_openpose18",
    "draw_pose",
    "flip_pose",
    "pose_bbox",
    "pose_center_x",
    "pose_ground_y",
    "pose_heatmaps",
    "pose_heatmaps_torch",
    "pose_leg_length",
    "pose_torso_length",
    "visible",
]

NUM_JOINTS = 18

OPENPOSE18: tuple[str, ...] = (
    "nose", "neck",
    "r_shoulder", "r_elbow", "r_wrist",
    "l_shoulder", "l_elbow", "l_wrist",
    "r_hip", "r_knee", "r_ankle",
    "l_hip", "l_knee", "l_ankle",
    "r_eye", "l_eye", "r_ear", "l_ear",
)  # fmt: skip

COCO17: tuple[str, ...] = (
    "nose", "l_eye", "r_eye", "l_ear", "r_ear",
    "l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist",
    "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle",
)  # fmt: skip

BLAZEPOSE33: tuple[str, ...] = (
    "nose",
    "l_eye_inner", "l_eye", "l_eye_outer", "r_eye_inner", "r_eye", "r_eye_outer",
    "l_ear", "r_ear", "mouth_left", "mouth_right",
    "l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist",
    "l_pinky", "r_pinky", "l_index", "r_index", "l_thumb", "r_thumb",
    "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle",
    "l_heel", "r_heel", "l_foot_index", "r_foot_index",
)  # fmt: skip

# The OpenPose skeleton (0-based), used for drawing.
LIMBS18: tuple[tuple[int, int], ...] = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7),
    (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
    (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)  # fmt: skip

# Limbs of the masked-SSIM body mask (the pose-transfer evaluation code's set): the skeleton plus
# neck-ears, hips-shoulders, hip-hip and ear-ear so that torso and head are filled.
MASK_LIMBS18: tuple[tuple[int, int], ...] = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7),
    (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
    (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
    (1, 16), (1, 17), (8, 11), (11, 5), (8, 2), (16, 17),
)  # fmt: skip

# OpenPose's limb palette (RGB), one colour per entry of LIMBS18.
LIMB_COLORS18: tuple[tuple[int, int, int], ...] = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170),
)  # fmt: skip

# new[i] = old[FLIP_PERMUTATION18[i]]: swaps every left joint with its right twin.
FLIP_PERMUTATION18: tuple[int, ...] = (0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16)

# OpenPose index -> COCO-17 index (the neck, index 1, has no COCO joint).
_FROM_COCO17: dict[int, int] = {
    0: 0, 2: 6, 3: 8, 4: 10, 5: 5, 6: 7, 7: 9, 8: 12, 9: 14, 10: 16,
    11: 11, 12: 13, 13: 15, 14: 2, 15: 1, 16: 4, 17: 3,
}  # fmt: skip
# OpenPose index -> BlazePose-33 index (eye centres, not inner/outer corners).
_FROM_BLAZEPOSE33: dict[int, int] = {
    0: 0, 2: 12, 3: 14, 4: 16, 5: 11, 6: 13, 7: 15, 8: 24, 9: 26, 10: 28,
    11: 23, 12: 25, 13: 27, 14: 5, 15: 2, 16: 8, 17: 7,
}  # fmt: skip
_NECK, _R_SHO, _L_SHO, _R_HIP, _L_HIP = 1, 2, 5, 8, 11
_R_LEG, _L_LEG = (8, 9, 10), (11, 12, 13)
_ANKLES = (10, 13)
_EPS = 1e-6  # keeps pixel centres exactly on a mask rectangle's edge inside


def _check_pose(kp: np.ndarray, name: str = "kp", batched: bool = False) -> np.ndarray:
    kp = np.asarray(kp)
    ok = kp.shape[-2:] == (NUM_JOINTS, 2) and (kp.ndim == 3 if batched else kp.ndim in (2, 3))
    if not ok:
        want = "(N, 18, 2)" if batched else "(18, 2) or (N, 18, 2)"
        raise DataError(f"{name}: expected a pose array of shape {want}, got {kp.shape}")
    return kp.astype(np.float32, copy=False)


def _check_size(size: Sequence[int]) -> tuple[int, int]:
    if len(size) != 2 or int(size[0]) <= 0 or int(size[1]) <= 0:
        raise DataError(f"size: expected (H, W) with positive entries, got {tuple(size)}")
    return int(size[0]), int(size[1])


def _convert(
    kp: np.ndarray, n_in: int, table: dict[int, int], scores: np.ndarray | None, threshold: float, what: str
) -> np.ndarray:
    kp = np.asarray(kp, dtype=np.float32)
    if kp.shape[-2:] != (n_in, 2) or kp.ndim not in (2, 3):
        raise DataError(f"{what}: expected keypoints of shape ({n_in}, 2) or (N, {n_in}, 2), got {kp.shape}")
    kp = kp.copy()
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float32)
        if scores.shape != kp.shape[:-1]:
            raise DataError(f"{what}: scores of shape {scores.shape} do not match keypoints {kp.shape}")
        kp[scores < threshold] = np.nan
    out = np.full(kp.shape[:-2] + (NUM_JOINTS, 2), np.nan, dtype=np.float32)
    for dst, src in table.items():
        out[..., dst, :] = kp[..., src, :]
    # The neck is the mid-shoulder point; NaN propagates when either shoulder is missing.
    out[..., _NECK, :] = 0.5 * (out[..., _R_SHO, :] + out[..., _L_SHO, :])
    # A joint with one NaN coordinate is missing in both.
    out[np.isnan(out).any(axis=-1)] = np.nan
    return out


def coco17_to_openpose18(kp17: np.ndarray, scores: np.ndarray | None = None, threshold: float = 0.3) -> np.ndarray:
    """COCO-17 keypoints ``(17, 2)`` or ``(N, 17, 2)`` (x, y pixels) -> OpenPose-18 ``(18, 2)`` / ``(N, 18, 2)``.

    Convention: joints with ``score < threshold`` (when scores ``(17,)``/``(N, 17)`` are given) become NaN;
    the neck is the mid-point of the two shoulders when both are present, else NaN.
    """
    return _convert(kp17, 17, _FROM_COCO17, scores, threshold, "coco17_to_openpose18")


def blazepose33_to_openpose18(
    kp33: np.ndarray, visibility: np.ndarray | None = None, threshold: float = 0.5
) -> np.ndarray:
    """BlazePose-33 keypoints ``(33, 2)`` or ``(N, 33, 2)`` in PIXELS -> OpenPose-18.

    Convention: mediapipe gives normalised coordinates; multiply by (W, H) before calling. Joints with
    ``visibility < threshold`` become NaN; eyes are the eye centres; the neck is mid-shoulders.
    """
    return _convert(kp33, 33, _FROM_BLAZEPOSE33, visibility, threshold, "blazepose33_to_openpose18")


def visible(kp: np.ndarray) -> np.ndarray:
    """Bool ``(18,)`` (or ``(N, 18)``): True where the joint is present (no NaN coordinate)."""
    kp = _check_pose(kp)
    return ~np.isnan(kp).any(axis=-1)


def pose_heatmaps(kp: np.ndarray, size: Sequence[int] = (128, 64), radius: float = 4.0) -> np.ndarray:
    """Binary disc heatmaps float32 ``(18, H, W)``.

    Convention: pixel (row r, column c) is 1 in channel j iff ``(c - x_j)^2 + (r - y_j)^2 <= radius^2``
    (float32 arithmetic, same as ``pose_heatmaps_torch``); a missing joint gives an all-zero channel.
    """
    kp = _check_pose(kp)
    if kp.ndim != 2:
        raise DataError(f"pose_heatmaps: expected one pose (18, 2), got {kp.shape}; use pose_heatmaps_torch")
    h, w = _check_size(size)
    ys = np.arange(h, dtype=np.float32)[None, :, None]
    xs = np.arange(w, dtype=np.float32)[None, None, :]
    dx = xs - kp[:, 0, None, None]
    dy = ys - kp[:, 1, None, None]
    r2 = np.float32(radius) * np.float32(radius)
    with np.errstate(invalid="ignore"):
        return ((dx * dx + dy * dy) <= r2).astype(np.float32)


def pose_heatmaps_torch(kp: torch.Tensor, size: Sequence[int] = (128, 64), radius: float = 4.0) -> torch.Tensor:
    """Batched binary disc heatmaps ``(B, 18, H, W)`` float32 on ``kp``'s device, equal to ``pose_heatmaps``.

    Convention: ``kp`` is ``(B, 18, 2)`` (x, y) pixels, NaN = missing (NaN compares False: zero channel).
    """
    if kp.ndim != 3 or tuple(kp.shape[1:]) != (NUM_JOINTS, 2):
        raise DataError(f"pose_heatmaps_torch: expected kp of shape (B, 18, 2), got {tuple(kp.shape)}")
    h, w = _check_size(size)
    kp = kp.to(torch.float32)
    ys = torch.arange(h, dtype=torch.float32, device=kp.device).view(1, 1, h, 1)
    xs = torch.arange(w, dtype=torch.float32, device=kp.device).view(1, 1, 1, w)
    dx = xs - kp[:, :, 0, None, None]
    dy = ys - kp[:, :, 1, None, None]
    r2 = float(np.float32(radius) * np.float32(radius))
    return (dx * dx + dy * dy <= r2).to(torch.float32)


def body_mask(
    kp: np.ndarray,
    size: Sequence[int] = (128, 64),
    limb_width: float = 8,
    joint_radius: float = 4,
    close_kernel: int = 5,
) -> np.ndarray:
    """Body mask bool ``(H, W)`` for masked SSIM, drawn from the TARGET pose.

    Convention (the pose-transfer evaluation code's mask, rasterised on pixel centres): each limb of
    ``MASK_LIMBS18`` with both ends present is the rectangle of points within ``limb_width / 2`` of its
    segment (edges included, as skimage.draw.polygon); each present joint the open disc
    ``distance < joint_radius`` (as skimage.draw.disk); then a morphological close (cv2 dilate then
    erode) with a ``close_kernel`` square (0 or 1: none).
    """
    kp = _check_pose(kp)
    if kp.ndim != 2:
        raise DataError(f"body_mask: expected one pose (18, 2), got {kp.shape}")
    h, w = _check_size(size)
    ok = visible(kp)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    mask = np.zeros((h, w), dtype=bool)
    half = 0.5 * float(limb_width)
    for a, b in MASK_LIMBS18:
        if not (ok[a] and ok[b]):
            continue
        pa, pb = kp[a].astype(np.float64), kp[b].astype(np.float64)
        d = pb - pa
        n = float(np.hypot(d[0], d[1]))
        if n < 1e-6:
            continue
        u = d / n
        along = (xs - pa[0]) * u[0] + (ys - pa[1]) * u[1]
        across = (xs - pa[0]) * -u[1] + (ys - pa[1]) * u[0]
        mask |= (along >= -_EPS) & (along <= n + _EPS) & (np.abs(across) <= half + _EPS)
    for j in np.flatnonzero(ok):
        mask |= (xs - kp[j, 0]) ** 2 + (ys - kp[j, 1]) ** 2 < float(joint_radius) ** 2
    mask = mask.astype(np.uint8)
    if close_kernel > 1:
        kernel = np.ones((close_kernel, close_kernel), np.uint8)
        mask = cv2.erode(cv2.dilate(mask, kernel), kernel)
    return mask.astype(bool)


def flip_pose(kp: np.ndarray | torch.Tensor, width: int) -> np.ndarray | torch.Tensor:
    """Mirror a pose ``(..., 18, 2)`` (numpy or torch) for a horizontally flipped image of ``width`` columns.

    Convention: x -> width - 1 - x (pixel centres), then left/right joints swap (``FLIP_PERMUTATION18``).
    """
    if tuple(kp.shape[-2:]) != (NUM_JOINTS, 2):
        raise DataError(f"flip_pose: expected a pose of shape (..., 18, 2), got {tuple(kp.shape)}")
    perm = list(FLIP_PERMUTATION18)
    if isinstance(kp, torch.Tensor):
        out_t = kp[..., perm, :].clone()
        out_t[..., 0] = (width - 1) - out_t[..., 0]
        return out_t
    out = np.array(kp, dtype=np.float32)[..., perm, :]
    out[..., 0] = (width - 1) - out[..., 0]
    return out


def draw_pose(image: np.ndarray, kp: np.ndarray, joint_radius: int = 2, thickness: int = 2) -> np.ndarray:
    """Skeleton preview: a copy of the uint8 RGB ``(H, W, 3)`` image with coloured limbs and white joints."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise DataError(f"draw_pose: expected a uint8 (H, W, 3) image, got {image.dtype} {image.shape}")
    kp = _check_pose(kp)
    if kp.ndim != 2:
        raise DataError(f"draw_pose: expected one pose (18, 2), got {kp.shape}")
    out = np.ascontiguousarray(image.copy())
    ok = visible(kp)
    shift = 4
    pts = np.round(np.nan_to_num(kp) * (1 << shift)).astype(np.int32)
    for (a, b), color in zip(LIMBS18, LIMB_COLORS18, strict=True):
        if ok[a] and ok[b]:
            cv2.line(out, tuple(pts[a].tolist()), tuple(pts[b].tolist()), color, thickness, cv2.LINE_AA, shift)
    for j in np.flatnonzero(ok):
        cv2.circle(out, tuple(pts[j].tolist()), joint_radius << shift, (255, 255, 255), -1, cv2.LINE_AA, shift)
    return out


# ---------------------------------------------------------------- geometry (fitting poses to a person)


def _one_pose(kp: np.ndarray, what: str) -> np.ndarray:
    kp = _check_pose(kp)
    if kp.ndim != 2:
        raise DataError(f"{what}: expected one pose (18, 2), got {kp.shape}")
    return kp


def pose_bbox(kp: np.ndarray) -> tuple[float, float, float, float]:
    """``(x0, y0, x1, y1)`` of the present joints; DataError when no joint is present."""
    kp = _one_pose(kp, "pose_bbox")
    ok = visible(kp)
    if not ok.any():
        raise DataError("pose_bbox: the pose has no present joint")
    p = kp[ok]
    return float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())


def _mid(kp: np.ndarray, a: int, b: int) -> np.ndarray:
    """Mid-point of joints a and b, or the one present, or NaN."""
    pa, pb = kp[a], kp[b]
    if np.isnan(pa).any():
        return pb.copy()
    if np.isnan(pb).any():
        return pa.copy()
    return 0.5 * (pa + pb)


def _mid_hip(kp: np.ndarray) -> np.ndarray:
    return _mid(kp, _R_HIP, _L_HIP)


def pose_torso_length(kp: np.ndarray) -> float:
    """Distance neck -> mid-hip in pixels (one hip suffices); NaN when the neck or both hips are missing."""
    kp = _one_pose(kp, "pose_torso_length")
    return float(np.hypot(*(_mid_hip(kp) - kp[_NECK])))


def pose_leg_length(kp: np.ndarray) -> float:
    """Mean over complete legs of hip->knee + knee->ankle (pixels); NaN when no leg is complete."""
    kp = _one_pose(kp, "pose_leg_length")
    lengths = []
    for hip, knee, ankle in (_R_LEG, _L_LEG):
        seg = kp[[hip, knee, ankle]]
        if not np.isnan(seg).any():
            lengths.append(np.hypot(*(seg[1] - seg[0])) + np.hypot(*(seg[2] - seg[1])))
    return float(np.mean(lengths)) if lengths else float("nan")


def pose_ground_y(kp: np.ndarray) -> float:
    """The ground line: largest y among present ankles; NaN when both ankles are missing."""
    kp = _one_pose(kp, "pose_ground_y")
    ys = kp[list(_ANKLES), 1]
    return float(np.nanmax(ys)) if not np.isnan(ys).all() else float("nan")


def pose_center_x(kp: np.ndarray) -> float:
    """Horizontal body centre: mid-hip x, else neck x, else the mean x of present joints (NaN if none)."""
    kp = _one_pose(kp, "pose_center_x")
    for p in (_mid_hip(kp), kp[_NECK]):
        if not np.isnan(p).any():
            return float(p[0])
    ok = visible(kp)
    return float(kp[ok, 0].mean()) if ok.any() else float("nan")


def align_pose(target: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Scale and shift the ``target`` pose so its body matches ``reference``'s (the person to re-pose).

    Convention: scale = reference / target torso length (the bbox height ratio when a torso is missing);
    then the horizontal centre (``pose_center_x``) and the ground line (``pose_ground_y``) are matched,
    or the mid-hip/neck height when either pose lacks ankles. Returns a new ``(18, 2)`` float32 pose.
    """
    t = _one_pose(target, "align_pose target")
    r = _one_pose(reference, "align_pose reference")
    if not visible(t).any() or not visible(r).any():
        raise DataError("align_pose: both poses need at least one present joint")
    scale = pose_torso_length(r) / pose_torso_length(t)
    if not np.isfinite(scale) or scale <= 0:
        (_, ty0, _, ty1), (_, ry0, _, ry1) = pose_bbox(t), pose_bbox(r)
        scale = (ry1 - ry0) / (ty1 - ty0) if ty1 > ty0 and ry1 > ry0 else 1.0
    out = t * np.float32(scale)
    dx = pose_center_x(r) - pose_center_x(out)
    dy = pose_ground_y(r) - pose_ground_y(out)
    if not np.isfinite(dy):
        anchors = [(_mid_hip(r), _mid_hip(out)), (r[_NECK], out[_NECK])]
        dy = next((float(a[1] - b[1]) for a, b in anchors if np.isfinite(a[1] - b[1])), float("nan"))
    if not np.isfinite(dy):
        dy = pose_bbox(r)[3] - pose_bbox(out)[3]
    return (out + np.array([dx, dy], dtype=np.float32)).astype(np.float32)
