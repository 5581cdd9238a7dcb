"""Lift 2D OpenPose-18 poses to the 3D proxy body (vectorised over a batch).

Convention: input keypoints (18, 2) or (B, 18, 2) float, (x, y) pixels, NaN = missing; output camera
space as in ``body.py`` (pixels, z away from the camera, the neck at z = 0).

Rules (DESIGN.md section 3):
- scale s (pixels per torso unit) = a high quantile of (2D bone length / 3D proportion) over the
  visible bones, since foreshortening only shortens a bone;
- yaw psi from the left-right order of shoulders and hips (their width against the expected width
  gives cos psi), the face joints when that is ambiguous (nose or eyes: facing the camera; ears only:
  facing away), and nose offset / one-sided ears and eyes for the sign of sin psi; the side turned
  away lies deeper (shoulders and hips at z = -+ width/2 * sin psi);
- limb depth |dz| = sqrt(L^2 - l^2) with one sign rule: upper arm, forearm and thigh go forward
  (the way the body faces), the shin goes backward (knees bend back), the hips lie behind the neck;
  an elbow or wrist that would sit inside the torso is moved onto the torso's front (forward side).
- ``complete=True`` (used for SOURCE bodies): missing joints are guessed (limbs hang straight down,
  a torso from the template proportions) so every part exists; parts that rest on a guessed joint
  are flagged ``imputed`` and never count as visible.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from diaflow_core.errors import DataError
from diaflow_core.proxy3d.body import Body3D
from diaflow_core.proxy3d.config import DEFAULT_CONFIG, NUM_PARTS, ProxyBodyConfig

__all__ = ["check_poses", "check_widths", "lift_pose"]

NOSE, NECK, RSHO, RELB, RWRI, LSHO, LELB, LWRI = 0, 1, 2, 3, 4, 5, 6, 7
RHIP, RKNE, RANK, LHIP, LKNE, LANK, REYE, LEYE, REAR, LEAR = 8, 9, 10, 11, 12, 13, 14, 15, 16, 17
_FACE = (NOSE, REYE, LEYE, REAR, LEAR)
_UP = np.array([0.0, -1.0, 0.0], dtype=np.float32)
_DOWN = -_UP


def check_poses(kp: np.ndarray, name: str = "kp") -> tuple[np.ndarray, bool]:
    """(18, 2) or (B, 18, 2) -> ((B, 18, 2) float32 copy, was_single). Raises DataError otherwise."""
    kp = np.asarray(kp)
    if kp.shape[-2:] != (18, 2) or kp.ndim not in (2, 3):
        raise DataError(f"{name}: expected keypoints of shape (18, 2) or (B, 18, 2), got {kp.shape}")
    single = kp.ndim == 2
    out = np.array(kp, dtype=np.float32).reshape(-1, 18, 2)
    out[~np.isfinite(out).all(-1)] = np.nan
    return out, single


def check_widths(widths: np.ndarray | None, batch: int, cfg: ProxyBodyConfig, name: str = "widths") -> np.ndarray:
    """Per-part radius multipliers -> (B, P) float32 clipped to ``cfg.width_range`` (None -> ones)."""
    if widths is None:
        return np.ones((batch, NUM_PARTS), dtype=np.float32)
    w = np.asarray(widths, dtype=np.float32)
    if w.shape == (NUM_PARTS,):
        w = np.broadcast_to(w, (batch, NUM_PARTS))
    if w.shape != (batch, NUM_PARTS):
        raise DataError(f"{name}: expected shape ({NUM_PARTS},) or ({batch}, {NUM_PARTS}), got {w.shape}")
    if not np.isfinite(w).all():
        raise DataError(f"{name}: contains NaN or inf")
    return np.clip(w, *cfg.width_range).astype(np.float32)


@functools.lru_cache(maxsize=32)
def _radii(cfg: ProxyBodyConfig) -> np.ndarray:
    return cfg.part_radii()


def _len(v: np.ndarray) -> np.ndarray:
    return np.sqrt((v * v).sum(-1))


def _norm(v: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    return v / np.maximum(_len(v), eps)[..., None]


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)


def _zero_nan(v: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(v), v, np.float32(0.0))


def _perp(v: np.ndarray, axis_unit: np.ndarray) -> np.ndarray:
    return v - (v * axis_unit).sum(-1, keepdims=True) * axis_unit


def _foreshortening(length3d: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    l2d = _len(b - a)
    return np.sqrt(np.maximum(length3d * length3d - l2d * l2d, 0.0))


def _estimate_scale(kp: np.ndarray, ok: np.ndarray, cfg: ProxyBodyConfig, size: tuple[int, int]) -> np.ndarray:
    mid_hip = 0.5 * (kp[:, RHIP] + kp[:, LHIP])
    bones = [
        (kp[:, NECK], mid_hip, 1.0),
        (kp[:, RHIP], kp[:, RKNE], cfg.thigh),
        (kp[:, LHIP], kp[:, LKNE], cfg.thigh),
        (kp[:, RKNE], kp[:, RANK], cfg.shin),
        (kp[:, LKNE], kp[:, LANK], cfg.shin),
        (kp[:, RSHO], kp[:, RELB], cfg.upper_arm),
        (kp[:, LSHO], kp[:, LELB], cfg.upper_arm),
        (kp[:, RELB], kp[:, RWRI], cfg.forearm),
        (kp[:, LELB], kp[:, LWRI], cfg.forearm),
        (kp[:, RSHO], kp[:, LSHO], cfg.shoulder_width),
        (kp[:, RHIP], kp[:, LHIP], cfg.hip_width),
    ]
    ratios = np.stack([_len(b - a) / ref for a, b, ref in bones], axis=1)
    ratios[~(ratios > 0.5)] = np.nan  # NaN (missing) and degenerate zero-length bones
    srt = np.sort(ratios, axis=1)  # NaN sort last
    n = np.isfinite(srt).sum(1)
    idx = np.clip(np.floor(cfg.scale_quantile * (n - 1) + 0.5).astype(np.int64), 0, srt.shape[1] - 1)
    s = np.take_along_axis(srt, idx[:, None], axis=1)[:, 0]
    # No bone at all: the ear distance, else a typical Market framing (torso ~ 0.3 of the height).
    ears = _len(kp[:, REAR] - kp[:, LEAR]) / (2.0 * cfg.head_radii[0])
    fallback = np.where(np.isfinite(ears) & (ears > 1.0), ears, size[0] / 3.4)
    return np.where(n > 0, s, fallback).astype(np.float32)


def _estimate_yaw(kp: np.ndarray, ok: np.ndarray, s: np.ndarray, lat2: np.ndarray, cfg: ProxyBodyConfig):
    """cos, sin of the yaw (0 = facing the camera, +pi/2 = facing +x)."""
    cs = ((kp[:, LSHO] - kp[:, RSHO]) * lat2).sum(-1) / (s * cfg.shoulder_width)
    ch = ((kp[:, LHIP] - kp[:, RHIP]) * lat2).sum(-1) / (s * cfg.hip_width)
    w_s, w_h = np.isfinite(cs).astype(np.float32), 0.6 * np.isfinite(ch)
    wsum = w_s + w_h
    c = (_zero_nan(cs) * w_s + _zero_nan(ch) * w_h) / np.maximum(wsum, 1e-6)
    c = np.clip(c / cfg.frontal_cos, -1.0, 1.0)
    front = ok[:, NOSE] | ok[:, REYE] | ok[:, LEYE]
    back = ~front & (ok[:, REAR] | ok[:, LEAR])
    face = front.astype(np.float32) - back.astype(np.float32)
    # Shoulders and hips decide when clearly turned one way; the face decides near profile.
    weak = (np.abs(c) < cfg.profile_cos) | (wsum == 0)
    c = np.where(weak & (face != 0), face * np.maximum(np.abs(c), 0.05), c)
    c = np.where(wsum == 0, face * 0.9, c)
    # sin sign: the nose lies toward the facing side of the neck; one-sided ears / eyes face the camera.
    vote = np.zeros_like(c)
    nose_dx = (kp[:, NOSE, 0] - kp[:, NECK, 0]) / (0.25 * s)
    vote += np.where(np.isfinite(nose_dx), np.clip(nose_dx, -1.0, 1.0), 0.0)
    vote += ok[:, REAR].astype(np.float32) - ok[:, LEAR]
    vote += 0.5 * (ok[:, REYE].astype(np.float32) - ok[:, LEYE])
    sn = np.where(vote >= 0, 1.0, -1.0) * np.sqrt(np.maximum(1.0 - c * c, 0.0))
    return c.astype(np.float32), sn.astype(np.float32)


def _push_out_of_torso(p3, radius, o, d, e1, e2, ra, rb, k, front):
    """Move points (..., 3) found inside the torso (inflated by ``radius``) along z onto its front
    (``front`` True) or back surface; cross-section frozen at the point's t (the torso axis is near
    upright, so t hardly changes along a ray)."""
    l2 = np.maximum((d * d).sum(-1), 1e-6)
    w = p3 - o
    t = (w * d).sum(-1) / l2
    s = 1.0 + k * np.clip(t, 0.0, 1.0)
    a_in = ra * s + radius
    b_in = rb * s + radius
    c1 = (w * e1).sum(-1) / b_in
    c2 = (w * e2).sum(-1) / a_in
    inside = (t >= 0) & (t <= 1) & (c1 * c1 + c2 * c2 < 1.0)
    g1 = e1[..., 2] / b_in
    g2 = e2[..., 2] / a_in
    qa = np.maximum(g1 * g1 + g2 * g2, 1e-9)
    qb = c1 * g1 + c2 * g2
    qc = c1 * c1 + c2 * c2 - 1.0
    root = np.sqrt(np.maximum(qb * qb - qa * qc, 0.0))
    dz = np.where(front, -qb - root, -qb + root) / qa
    out = p3.copy()
    out[..., 2] = np.where(inside & np.isfinite(dz), p3[..., 2] + dz, p3[..., 2])
    return out


def _frame(axis: np.ndarray, forward: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """e1 = forward made perpendicular to the bone (blended toward 'down' when the bone points
    forward, so the frame stays defined), e2 = e1 x axis_unit."""
    a = _norm(axis)
    f = _perp(forward, a)
    fn = _len(f)[..., None]
    g = _perp(np.broadcast_to(_DOWN, axis.shape), a)
    blend = np.clip(1.0 - fn / 0.3, 0.0, 1.0)
    e1 = _norm(f + blend * g)
    e2 = _norm(_cross(e1, a))
    return e1.astype(np.float32), e2.astype(np.float32)


def lift_pose(
    kp: np.ndarray,
    size: Sequence[int] = (128, 64),
    cfg: ProxyBodyConfig | None = None,
    widths: np.ndarray | None = None,
    complete: bool | np.ndarray = False,
) -> Body3D:
    """Lift 2D poses to proxy bodies.

    Args:
        kp: (18, 2) or (B, 18, 2) keypoints, (x, y) pixels, NaN = missing.
        size: (H, W) of the image (used only to frame a body guessed from nothing).
        cfg: proportions and radii (default ``ProxyBodyConfig()``).
        widths: per-part radius multipliers, (P,) or (B, P); 1 = the config's radii.
        complete: guess missing joints so every part exists (source bodies), flagging those parts;
            a bool, or (B,) bools to decide per pose.
    Returns:
        ``Body3D`` with batch dimension B (1 for a single pose).

    Convention: module docstring.
    """
    cfg = cfg or DEFAULT_CONFIG
    kp, _ = check_poses(kp)
    h, w = int(size[0]), int(size[1])
    bsz = kp.shape[0]
    wid = check_widths(widths, bsz, cfg)
    comp = np.broadcast_to(np.asarray(complete, dtype=bool), (bsz,))
    ok = np.isfinite(kp).all(-1)
    guessed = np.zeros((bsz, 18), dtype=bool)

    # Neck from the shoulders when missing.
    mid_sho = 0.5 * (kp[:, RSHO] + kp[:, LSHO])
    fill = ~ok[:, NECK] & ok[:, RSHO] & ok[:, LSHO]
    kp[fill, NECK] = mid_sho[fill]
    ok[fill, NECK] = True

    s = _estimate_scale(kp, ok, cfg, (h, w))
    hip_any = ok[:, RHIP] | ok[:, LHIP]
    if comp.any():
        # A torso from nothing: template proportions around whatever joints are known.
        for b in np.flatnonzero(~ok[:, NECK] & comp):
            if hip_any[b]:
                kp[b, NECK] = np.nanmean(kp[b, [RHIP, LHIP]], axis=0) - np.array([0.0, s[b]], np.float32)
            elif ok[b].any():
                kp[b, NECK] = (np.mean(kp[b, ok[b], 0]), np.min(kp[b, ok[b], 1]) + 0.5 * s[b])
            else:
                kp[b, NECK] = (0.5 * w, 0.08 * h + 0.5 * s[b])
            guessed[b, NECK] = True
        ok[comp, NECK] = True
        for b in np.flatnonzero(~hip_any & comp):
            half = 0.5 * cfg.hip_width * s[b]
            kp[b, RHIP] = kp[b, NECK] + np.array([-half, s[b]], np.float32)
            kp[b, LHIP] = kp[b, NECK] + np.array([half, s[b]], np.float32)
            guessed[b, [RHIP, LHIP]] = True
            ok[b, [RHIP, LHIP]] = True
        hip_any = ok[:, RHIP] | ok[:, LHIP]
    torso_ok = ok[:, NECK] & hip_any

    # Torso axis in 2D (for the lateral direction), from the neck to the (mean of the) hips.
    hip_mean = np.where(
        (ok[:, RHIP] & ok[:, LHIP])[:, None],
        0.5 * (kp[:, RHIP] + kp[:, LHIP]),
        np.where(ok[:, RHIP][:, None], kp[:, RHIP], kp[:, LHIP]),
    )
    ax2 = np.where(torso_ok[:, None], hip_mean - kp[:, NECK], np.array([0.0, 1.0], np.float32))
    ax2 = _norm(_zero_nan(ax2))
    lat2 = np.stack([ax2[:, 1], -ax2[:, 0]], axis=1)  # +x for an upright torso
    cos_y, sin_y = _estimate_yaw(kp, ok, s, lat2, cfg)
    forward = np.stack([sin_y, np.zeros_like(sin_y), -cos_y], axis=1)
    left3 = np.concatenate([cos_y[:, None] * lat2, sin_y[:, None]], axis=1)
    sgn_f = np.where(cos_y >= 0, -1.0, 1.0).astype(np.float32)  # z sign of "forward"

    j3 = np.concatenate([kp, np.full((bsz, 18, 1), np.nan, np.float32)], axis=2)
    j3[:, NECK, 2] = 0.0
    # Hips: a missing one mirrors the other across the torso axis; mid-hip depth from foreshortening.
    half_h = 0.5 * cfg.hip_width * s
    lone_r = ok[:, RHIP] & ~ok[:, LHIP]
    lone_l = ok[:, LHIP] & ~ok[:, RHIP]
    mid2 = np.where(lone_r[:, None], kp[:, RHIP] + half_h[:, None] * left3[:, :2], hip_mean)
    mid2 = np.where(lone_l[:, None], kp[:, LHIP] - half_h[:, None] * left3[:, :2], mid2)
    dz_t = _foreshortening(s, kp[:, NECK], mid2)
    mid3 = np.concatenate([mid2, (-sgn_f * dz_t)[:, None]], axis=1)
    half_s = 0.5 * cfg.shoulder_width * s
    neck3 = j3[:, NECK].copy()
    for jr, jl, centre, half in ((RSHO, LSHO, neck3, half_s), (RHIP, LHIP, mid3, half_h)):
        for j, sign in ((jr, -1.0), (jl, 1.0)):
            # A missing shoulder / hip is derived from a known torso (not a guess: it follows from it).
            derived = centre + sign * half[:, None] * left3
            j3[:, j, :2] = np.where(ok[:, j][:, None], kp[:, j], derived[:, :2])
            j3[:, j, 2] = np.where(ok[:, j], _zero_nan(derived[:, 2]), derived[:, 2])
            j3[~(ok[:, j] | torso_ok), j] = np.nan
            guessed[:, j] |= ~ok[:, j] & torso_ok & guessed[:, NECK]

    # Torso frame and radii (needed before the arms, which must not sink into it).
    radii = _radii(cfg)
    t_axis = (mid3 - neck3) * (1.0 + cfg.torso_bottom_extend)
    # e2 = the person's left made perpendicular to the axis; e1 = axis x e2 is then their forward.
    t_unit = _norm(t_axis)
    t_e2 = _norm(_perp(left3, t_unit)).astype(np.float32)
    t_e1 = _cross(t_unit, t_e2).astype(np.float32)
    t_ra = radii[0, 0] * s * wid[:, 0]
    t_rb = cfg.torso_depth_ratio * t_ra
    t_k = radii[0, 1] / radii[0, 0] - 1.0

    # Limb chains: |dz| from foreshortening, one sign rule; guessed joints hang straight down.
    chains = (
        (RSHO, RELB, cfg.upper_arm, sgn_f, 3),
        (RELB, RWRI, cfg.forearm, sgn_f, 4),
        (LSHO, LELB, cfg.upper_arm, sgn_f, 5),
        (LELB, LWRI, cfg.forearm, sgn_f, 6),
        (RHIP, RKNE, cfg.thigh, sgn_f, 7),
        (RKNE, RANK, cfg.shin, -sgn_f, 8),
        (LHIP, LKNE, cfg.thigh, sgn_f, 9),
        (LKNE, LANK, cfg.shin, -sgn_f, 10),
    )
    # Two levels (arms and legs together): shoulders/hips -> elbows/knees -> wrists/ankles.
    is_arm = np.array([True, True, False, False])
    r_end = np.stack([radii[p, 1] * s * wid[:, p] for p in (3, 5, 7, 9)], axis=1)
    for level in (0, 1):
        sel = chains[level::2]
        par = [c[0] for c in sel]
        chi = [c[1] for c in sel]
        length_px = np.array([c[2] for c in sel], np.float32)[None, :] * s[:, None]
        sign = np.stack([c[3] for c in sel], axis=1)
        pj = j3[:, par]
        if comp.any():
            miss = ~ok[:, chi] & comp[:, None]
            down = pj[..., :2] + length_px[..., None] * _DOWN[:2]
            j3[:, chi, :2] = np.where(miss[..., None], down, j3[:, chi, :2])
            guessed[:, chi] |= miss
        cj = j3[:, chi]
        cj[..., 2] = pj[..., 2] + sign * _foreshortening(length_px, pj[..., :2], cj[..., :2])
        # Elbows / wrists inside the torso go onto its front (or back when the arm is behind it).
        sho = j3[:, [RSHO, LSHO]]
        front = (
            -forward[:, None, 2] + 0.5 * (neck3[:, None, 2] - sho[..., 2]) / np.maximum(half_s, 1e-6)[:, None]
        ) >= 0
        r_limb = r_end[:, :2] if level == 0 else np.stack([radii[p, 1] * s * wid[:, p] for p in (4, 6)], axis=1)
        pushed = _push_out_of_torso(
            cj[:, is_arm], r_limb, neck3[:, None], t_axis[:, None], t_e1[:, None], t_e2[:, None],
            t_ra[:, None], t_rb[:, None], t_k, front,
        )  # fmt: skip
        cj[:, is_arm] = np.where(torso_ok[:, None, None], pushed, cj[:, is_arm])
        j3[:, chi] = cj

    # Head centre: each present face joint, minus its canonical offset in the head frame, votes.
    hs = np.array(cfg.head_radii, np.float32)
    eye_up = -cfg.head_above_eyes
    offsets = {
        NOSE: (0.9 * hs[1], 0.0, eye_up - 0.08),
        REYE: (0.8 * hs[1], -0.08, eye_up),
        LEYE: (0.8 * hs[1], 0.08, eye_up),
        REAR: (-0.05, -hs[0], eye_up),
        LEAR: (-0.05, hs[0], eye_up),
    }
    face = list(offsets)
    coef = np.array([offsets[j] for j in face], np.float32)  # (5, 3): forward, left, up
    off = s[:, None, None] * (
        coef[None, :, 0:1] * forward[:, None] + coef[None, :, 1:2] * left3[:, None] + coef[None, :, 2:3] * _UP
    )
    good = ok[:, face]
    votes = np.where(good[..., None], kp[:, face] - off[..., :2], np.float32(0.0))
    acc = votes.sum(1)
    cnt = good.sum(1).astype(np.float32)
    head_ok = cnt > 0
    centre2 = acc / np.maximum(cnt, 1.0)[:, None]
    if comp.any():
        guess = neck3[:, :2] + (0.45 * s)[:, None] * _UP[:2]
        centre2 = np.where(head_ok[:, None], centre2, guess)
        guessed[:, NOSE] = ~head_ok & comp
        head_ok = head_ok | comp
    centre3 = np.concatenate([centre2, neck3[:, 2:3]], axis=1)
    up_h = _norm(0.5 * _norm(centre3 - neck3) + 0.5 * _UP)
    up_h = np.where(ok[:, NECK][:, None] & np.isfinite(up_h).all(1, keepdims=True), up_h, _UP)
    hh = hs[2] * s * wid[:, 1]

    # Assemble the parts.
    org = np.full((bsz, NUM_PARTS, 3), np.nan, np.float32)
    axs = np.full((bsz, NUM_PARTS, 3), np.nan, np.float32)
    r1 = radii[:, 0][None, :] * s[:, None] * wid
    r2 = r1.copy()
    taper = np.broadcast_to(radii[:, 1] / radii[:, 0] - 1.0, (bsz, NUM_PARTS)).astype(np.float32).copy()
    org[:, 0], axs[:, 0] = neck3, t_axis
    r1[:, 0], r2[:, 0] = t_rb, t_ra
    org[:, 1] = centre3 - hh[:, None] * up_h
    axs[:, 1] = 2.0 * hh[:, None] * up_h
    r1[:, 1] = hs[1] * s * wid[:, 1]
    r2[:, 1] = hs[0] * s * wid[:, 1]
    taper[:, 1] = 0.0
    org[:, 2], axs[:, 2] = neck3, centre3 - neck3
    for parent, child, _, _, part in chains:
        org[:, part] = j3[:, parent]
        axs[:, part] = j3[:, child] - j3[:, parent]
    for ank, part in ((RANK, 11), (LANK, 12)):
        org[:, part] = j3[:, ank]
        axs[:, part] = s[:, None] * (cfg.foot_length * forward + cfg.foot_drop * _DOWN)

    e1 = np.empty_like(org)
    e2 = np.empty_like(org)
    e1[:, 1:], e2[:, 1:] = _frame(_zero_nan(axs[:, 1:]), forward[:, None, :])
    e1[:, 0], e2[:, 0] = t_e1, t_e2

    jok = np.isfinite(j3).all(-1)
    present = np.zeros((bsz, NUM_PARTS), dtype=bool)
    present[:, 0] = torso_ok
    present[:, 1] = head_ok
    present[:, 2] = head_ok & ok[:, NECK]
    for parent, child, _, _, part in chains:
        present[:, part] = jok[:, parent] & jok[:, child]
    present[:, 11] = jok[:, RANK]
    present[:, 12] = jok[:, LANK]
    present &= np.isfinite(org).all(-1) & np.isfinite(axs).all(-1)

    imputed = np.zeros_like(present)
    if comp.any():
        imputed[:, 0] = guessed[:, NECK] | (guessed[:, RHIP] & guessed[:, LHIP])
        imputed[:, 1] = guessed[:, NOSE]
        imputed[:, 2] = guessed[:, NOSE]
        for parent, child, _, _, part in chains:
            imputed[:, part] = guessed[:, child] | guessed[:, parent]
        imputed[:, 11] = guessed[:, RANK]
        imputed[:, 12] = guessed[:, LANK]
    yaw = np.arctan2(sin_y, cos_y).astype(np.float32)
    return Body3D(
        joints=j3.astype(np.float32),
        origin=_zero_nan(org).astype(np.float32),
        axis=_zero_nan(axs).astype(np.float32),
        e1=e1.astype(np.float32),
        e2=e2.astype(np.float32),
        rad1=r1.astype(np.float32),
        rad2=r2.astype(np.float32),
        taper=taper,
        present=present,
        imputed=imputed & present,
        scale=s.astype(np.float32),
        yaw=yaw,
    )
