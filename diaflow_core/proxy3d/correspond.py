"""Intrinsic 3D appearance flow and visibility between two proxy bodies.

Convention (DESIGN.md section 2): flow (B, 2, H, W) float32, channel 0 = x, 1 = y, pixels, BACKWARD
target -> source: target pixel u takes its appearance from source location u + F(u). Visibility
(B, H, W) uint8: 0 = the body point seen at u is visible in the source, 1 = it exists but is hidden
in the source (self-occlusion, out of frame, or resting on a guessed source joint), 2 = background.
F is the intrinsic flow on classes 0 and 1 (where the point WOULD project) and zero on class 2.
So a target that is the source moved by +d has F = -d on the body.

Per target pixel: the target render gives (part, t, q1, q2); the same intrinsic point on the source
body projects to u'; class 0 when u' is in the frame, the source part is not guessed, and no source
surface lies more than ``cfg.depth_tol`` pixels in front of it along the ray through u'.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from diaflow_core.errors import DataError
from diaflow_core.proxy3d.body import Body3D
from diaflow_core.proxy3d.config import DEFAULT_CONFIG, NUM_PARTS, ProxyBodyConfig
from diaflow_core.proxy3d.geometry import decode_points, encode_hits, pack_parts
from diaflow_core.proxy3d.lift import check_poses, check_widths, lift_pose
from diaflow_core.proxy3d.render import _check_size, nearest_depth, render_hits

__all__ = ["compute_flow", "compute_flow_batch", "flow_between_bodies", "lift_pair"]


def lift_pair(
    src_kp: np.ndarray,
    tgt_kp: np.ndarray,
    size: Sequence[int] = (128, 64),
    cfg: ProxyBodyConfig | None = None,
    src_widths: np.ndarray | None = None,
    tgt_widths: np.ndarray | None = None,
) -> tuple[Body3D, Body3D]:
    """Lift a batch of pairs: the source completed (missing joints guessed and flagged), the target
    as annotated; the target takes the SOURCE widths unless given its own (identity keeps its build)."""
    src, _ = check_poses(src_kp, "src_kp")
    tgt, _ = check_poses(tgt_kp, "tgt_kp")
    if src.shape != tgt.shape:
        raise DataError(f"src_kp and tgt_kp: batch sizes differ ({src.shape[0]} vs {tgt.shape[0]})")
    cfg = cfg or DEFAULT_CONFIG
    b = src.shape[0]
    sw = check_widths(src_widths, b, cfg, "src_widths")
    tw = sw if tgt_widths is None else check_widths(tgt_widths, b, cfg, "tgt_widths")
    # One lift for both sides (fewer, larger array ops); only the source is completed.
    both = lift_pose(
        np.concatenate([src, tgt]), size, cfg, widths=np.concatenate([sw, tw]), complete=np.arange(2 * b) < b
    )
    return both.select(slice(0, b)), both.select(slice(b, 2 * b))


def flow_between_bodies(
    src_body: Body3D, tgt_body: Body3D, size: Sequence[int] = (128, 64), cfg: ProxyBodyConfig | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Flow (B, 2, H, W) float32 and visibility (B, H, W) uint8 from lifted bodies (module docstring)."""
    cfg = cfg or DEFAULT_CONFIG
    h, w = _check_size(size)
    bsz = tgt_body.batch_size
    if src_body.batch_size != bsz:
        raise DataError(f"bodies: batch sizes differ ({src_body.batch_size} vs {bsz})")
    tgt_tab = pack_parts(tgt_body)
    pix, pflat, depth = render_hits(tgt_body, (h, w), tgt_tab)
    xi = (pix % w).astype(np.float32)
    yi = ((pix // w) % h).astype(np.float32)
    t, q1, q2 = encode_hits(tgt_tab, pflat, xi, yi, depth)
    bidx, part = pflat // NUM_PARTS, pflat % NUM_PARTS
    p_src = decode_points(src_body, bidx, part, t, q1, q2)
    fx = p_src[:, 0] - xi
    fy = p_src[:, 1] - yi
    in_frame = (p_src[:, 0] >= -0.5) & (p_src[:, 0] <= w - 0.5) & (p_src[:, 1] >= -0.5) & (p_src[:, 1] <= h - 0.5)
    vis_pts = np.ones(pix.shape[0], dtype=np.uint8)
    cand = np.flatnonzero(in_frame & ~src_body.imputed[bidx, part])
    if cand.size:
        zmin = nearest_depth(pack_parts(src_body), bidx[cand], p_src[cand, 0], p_src[cand, 1], (h, w))
        seen = p_src[cand, 2] <= zmin + np.float32(cfg.depth_tol)
        vis_pts[cand[seen]] = 0
    flow = np.zeros((bsz, 2, h * w), dtype=np.float32)
    b_pix = pix // (h * w)
    in_img = pix % (h * w)
    flow[b_pix, 0, in_img] = fx
    flow[b_pix, 1, in_img] = fy
    vis = np.full(bsz * h * w, 2, dtype=np.uint8)
    vis[pix] = vis_pts
    return flow.reshape(bsz, 2, h, w), vis.reshape(bsz, h, w)


def compute_flow_batch(
    src_kp: np.ndarray,
    tgt_kp: np.ndarray,
    size: Sequence[int] = (128, 64),
    cfg: ProxyBodyConfig | None = None,
    src_widths: np.ndarray | None = None,
    tgt_widths: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Ground-truth flow and visibility for a batch of pose pairs.

    Args:
        src_kp, tgt_kp: (B, 18, 2) keypoints, (x, y) pixels, NaN = missing.
        size: (H, W) of the images.
        cfg: proxy-body configuration (default ``ProxyBodyConfig()``).
        src_widths: per-part radius multipliers of the source person, (P,) or (B, P) (e.g. from
            ``fit_widths``); the target uses them too unless ``tgt_widths`` is given.
    Returns:
        flow (B, 2, H, W) float32 and visibility (B, H, W) uint8.

    Convention: module docstring (backward flow, pixels, (x, y); V in {0, 1, 2}).
    """
    src_body, tgt_body = lift_batch_pair(src_kp, tgt_kp, size, cfg, src_widths, tgt_widths, "compute_flow_batch")
    return flow_between_bodies(src_body, tgt_body, size, cfg)


def lift_batch_pair(
    src_kp: np.ndarray,
    tgt_kp: np.ndarray,
    size: Sequence[int],
    cfg: ProxyBodyConfig | None,
    src_widths: np.ndarray | None,
    tgt_widths: np.ndarray | None,
    caller: str,
) -> tuple[Body3D, Body3D]:
    """The batch entry points' checks (DataError naming ``caller``), then ``lift_pair``."""
    src, _ = check_poses(src_kp, "src_kp")
    if src.ndim != 3 or np.asarray(tgt_kp).ndim != 3:
        raise DataError(f"{caller}: expected (B, 18, 2) keypoints")
    return lift_pair(src_kp, tgt_kp, size, cfg, src_widths, tgt_widths)


def compute_flow(
    src_kp: np.ndarray,
    tgt_kp: np.ndarray,
    size: Sequence[int] = (128, 64),
    cfg: ProxyBodyConfig | None = None,
    src_widths: np.ndarray | None = None,
    tgt_widths: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One pair: (18, 2) keypoints each -> flow (2, H, W) float32, visibility (H, W) uint8.

    Convention: as ``compute_flow_batch``; widths (P,) multipliers.
    """
    for name, kp in (("src_kp", src_kp), ("tgt_kp", tgt_kp)):
        if np.asarray(kp).shape != (18, 2):
            raise DataError(f"{name}: expected (18, 2) keypoints, got {np.asarray(kp).shape}")
    flow, vis = compute_flow_batch(
        np.asarray(src_kp)[None], np.asarray(tgt_kp)[None], size, cfg, src_widths, tgt_widths
    )
    return flow[0], vis[0]
