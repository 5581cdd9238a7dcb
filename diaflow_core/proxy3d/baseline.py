"""A 2D baseline flow from keypoints alone: a per-limb affine warp (no 3D, no visibility).

Convention: keypoints (18, 2) (x, y) pixels, NaN = missing; the flow is (2, H, W) float32 backward
target -> source in pixels, like the proxy body's. Each target pixel belongs to the nearest body
segment (capsule distance: torso, head, upper/lower arms and legs, only segments present in both
poses); limbs move by the similarity that maps the target bone onto the source bone, the torso by the
least-squares affine map of its joints (neck, shoulders, hips), the head by the similarity of
neck -> face centre. Pixels with no segment keep zero flow.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from diaflow_core.errors import DataError

__all__ = ["affine_limb_flow"]

_LIMBS = ((2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (11, 12), (12, 13))
_TORSO = (1, 2, 5, 8, 11)
_FACE = (0, 14, 15, 16, 17)


def _similarity(a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray) -> np.ndarray:
    """2x3 matrix of the similarity taking segment a0->a1 (target) onto b0->b1 (source)."""
    da, db = a1 - a0, b1 - b0
    na = float(da @ da)
    if na < 1e-6:
        m = np.eye(2)
    else:
        c = (da @ db) / na
        s = (da[0] * db[1] - da[1] * db[0]) / na
        m = np.array([[c, -s], [s, c]])
    return np.concatenate([m, (b0 - m @ a0)[:, None]], axis=1)


def _affine(tgt: np.ndarray, src: np.ndarray) -> np.ndarray:
    """Least-squares 2x3 affine map tgt -> src (>= 3 points)."""
    x = np.concatenate([tgt, np.ones((len(tgt), 1))], axis=1)
    sol, *_ = np.linalg.lstsq(x, src, rcond=None)
    return sol.T


def _capsule_distance(px: np.ndarray, a: np.ndarray, b: np.ndarray, radius: float) -> np.ndarray:
    d = b - a
    t = np.clip(((px - a) @ d) / max(float(d @ d), 1e-6), 0.0, 1.0)
    return np.hypot(*(px - (a + t[:, None] * d)).T) - radius


def affine_limb_flow(src_kp: np.ndarray, tgt_kp: np.ndarray, size: Sequence[int] = (128, 64)) -> np.ndarray:
    """Per-limb affine backward flow (2, H, W) float32 from two poses (module docstring)."""
    src = np.asarray(src_kp, dtype=np.float64)
    tgt = np.asarray(tgt_kp, dtype=np.float64)
    if src.shape != (18, 2) or tgt.shape != (18, 2):
        raise DataError(f"affine_limb_flow: expected two (18, 2) poses, got {src.shape} and {tgt.shape}")
    h, w = int(size[0]), int(size[1])
    ok = np.isfinite(src).all(1) & np.isfinite(tgt).all(1)
    ys, xs = np.mgrid[0:h, 0:w]
    px = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64)
    okt = np.isfinite(tgt).all(1)
    hips = [j for j in (8, 11) if okt[j]]
    scale = np.hypot(*(tgt[1] - tgt[hips].mean(0))) if okt[1] and hips else 0.3 * h
    dists, mats = [], []
    for a, b in _LIMBS:
        if ok[a] and ok[b]:
            dists.append(_capsule_distance(px, tgt[a], tgt[b], 0.15 * scale))
            mats.append(_similarity(tgt[a], tgt[b], src[a], src[b]))
    torso = [j for j in _TORSO if ok[j]]
    if len(torso) >= 3 and ok[1] and any(ok[j] for j in (8, 11)):
        mid = tgt[[j for j in (8, 11) if ok[j]]].mean(0)
        dists.append(_capsule_distance(px, tgt[1], mid, 0.45 * scale))
        mats.append(_affine(tgt[torso], src[torso]))
    face = [j for j in _FACE if ok[j]]
    if face and ok[1]:
        ct, cs = tgt[face].mean(0), src[face].mean(0)
        dists.append(_capsule_distance(px, ct, ct, 0.3 * scale))
        mats.append(_similarity(tgt[1], ct, src[1], cs))
    flow = np.zeros((2, h * w), dtype=np.float32)
    if not mats:
        return flow.reshape(2, h, w)
    d = np.stack(dists)
    owner = np.argmin(d, axis=0)
    m = np.stack(mats)[owner]  # (N, 2, 3)
    mapped = np.einsum("nij,nj->ni", m[:, :, :2], px) + m[:, :, 2]
    flow[:] = (mapped - px).T
    return flow.reshape(2, h, w)
