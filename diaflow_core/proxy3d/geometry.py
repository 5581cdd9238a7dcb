"""Analytic ray casting against the part primitives, and intrinsic <-> 3D point conversion.

Convention: orthographic rays along +z through image points (x, y) (pixels, pixel centre i at i);
the nearest hit has the smallest z. Intrinsic coordinates of a surface point on part p are
``(t, q1, q2)``: t along the bone (0 at the start joint, 1 at the end; on a limb's spherical end cap
t runs on into [-1, 0) or (1, 2] as the overshoot in units of that cap's radius), and q = the offset
from the axis in units of the local radii along (e1, e2) (|q| = 1 on the side surface). The same
coordinates name the same body point in any pose, because every frame moves with its bone.

Everything is vectorised over a flat list of (query point, part) candidates; parts are addressed by a
flat index ``b * NUM_PARTS + p``.
"""

from __future__ import annotations

import numpy as np

from diaflow_core.proxy3d.body import Body3D
from diaflow_core.proxy3d.config import KIND_ELLIPSOID, NUM_PARTS, PART_CAPS, PART_KIND, PART_ROUND_ENDS

__all__ = ["GROUP_NAMES", "PART_GROUP", "PartTable", "cast_depth", "decode_points", "encode_hits", "pack_parts"]

# Primitive groups, each with its own (cheaper) kernel: capsules, flat-capped cylinders, ellipsoid.
GROUP_NAMES = ("round", "capped", "ellipsoid")
PART_GROUP = np.where(PART_ROUND_ENDS, 0, np.where(PART_KIND == KIND_ELLIPSOID, 2, 1)).astype(np.int8)

_BIG = np.float32(1e9)
# Rows of the packed parameter table (one column per flat part).
_ROWS = ("ox oy oz dx dy dz dxl dyl tb e1x e1y e1z e2x e2y e2z m0 m1 smb sig cc A tlo thi caps r0 r1 kq").split()
_R = {name: i for i, name in enumerate(_ROWS)}


class PartTable:
    """Per-part constants of a body batch, packed for gathering: ``prm`` (len(_ROWS), B*P) float32,
    integer bounding boxes ``box`` (B*P, 4) = x0, x1, y0, y1 (inclusive, unclipped floats) and ``ok``
    (B*P,) bool for parts that exist."""

    def __init__(self, prm: np.ndarray, box: np.ndarray, ok: np.ndarray) -> None:
        self.prm, self.box, self.ok = prm, box, ok

    def row(self, name: str) -> np.ndarray:
        return self.prm[_R[name]]


def pack_parts(body: Body3D) -> PartTable:
    """Pack a body batch into the flat parameter table the kernels gather from."""
    b = body.batch_size
    n = b * NUM_PARTS
    o = body.origin.reshape(n, 3).astype(np.float32)
    d = body.axis.reshape(n, 3).astype(np.float32)
    rad1 = body.rad1.reshape(n).astype(np.float32)
    rad2 = body.rad2.reshape(n).astype(np.float32)
    k = body.taper.reshape(n).astype(np.float32)
    ok = body.present.reshape(n) & np.isfinite(o).all(1) & np.isfinite(d).all(1)
    kind = np.tile(PART_KIND, b)
    ell = kind == KIND_ELLIPSOID
    caps = np.tile(PART_CAPS, b)
    rnd = np.tile(PART_ROUND_ENDS, b)
    l2 = np.maximum((d * d).sum(1), np.float32(1e-6))
    e1 = body.e1.reshape(n, 3) / rad1[:, None]
    e2 = body.e2.reshape(n, 3) / rad2[:, None]
    tb = d[:, 2] / l2
    # Quadric u1^2 + u2^2 + sig * m^2 - cc = 0 with m = m0 + m1 * t:
    # cylinder: m = 1 + k t (radius scale), sig = -1, cc = 0; ellipsoid: m = 2 t - 1, sig = +1, cc = 1.
    m0 = np.where(ell, -1.0, 1.0).astype(np.float32)
    m1 = np.where(ell, 2.0, k).astype(np.float32)
    sig = np.where(ell, 1.0, -1.0).astype(np.float32)
    cc = np.where(ell, 1.0, 0.0).astype(np.float32)
    mb = m1 * tb
    a = e1[:, 2] ** 2 + e2[:, 2] ** 2 + sig * mb * mb
    tlo = np.where(ell, -_BIG, 0.0).astype(np.float32)
    thi = np.where(ell, _BIG, 1.0).astype(np.float32)
    r0 = np.where(rnd, rad1, 0.0).astype(np.float32)
    r1 = np.where(rnd, rad1 * (1.0 + k), 0.0).astype(np.float32)
    kq = np.where(ell, 0.0, k).astype(np.float32)
    cols = dict(
        ox=o[:, 0], oy=o[:, 1], oz=o[:, 2], dx=d[:, 0], dy=d[:, 1], dz=d[:, 2],
        dxl=d[:, 0] / l2, dyl=d[:, 1] / l2, tb=tb,
        e1x=e1[:, 0], e1y=e1[:, 1], e1z=e1[:, 2], e2x=e2[:, 0], e2y=e2[:, 1], e2z=e2[:, 2],
        m0=m0, m1=m1, smb=sig * mb, sig=sig, cc=cc, A=a, tlo=tlo, thi=thi,
        caps=caps.astype(np.float32), r0=r0, r1=r1, kq=kq,
    )  # fmt: skip
    prm = np.stack([np.asarray(cols[name], dtype=np.float32) for name in _ROWS])
    prm[:, ~ok] = 0.0  # keeps NaN out of the arithmetic; such parts never become candidates
    # Conservative 2D boxes: both ends widened by the largest cross-section radius.
    rmax = np.maximum(rad1, rad2) * np.maximum(1.0, 1.0 + k)
    half = np.where(ell, np.maximum(rmax, 0.5 * np.sqrt(l2)), rmax)
    c0 = np.where(ell[:, None], o[:, :2] + 0.5 * d[:, :2], o[:, :2])
    c1 = np.where(ell[:, None], c0, o[:, :2] + d[:, :2])
    lo = np.minimum(c0, c1) - half[:, None]
    hi = np.maximum(c0, c1) + half[:, None]
    box = np.stack([lo[:, 0], hi[:, 0], lo[:, 1], hi[:, 1]], axis=1)
    box[~ok] = np.array([1.0, 0.0, 1.0, 0.0], dtype=np.float32)  # empty
    return PartTable(prm, box.astype(np.float32), ok)


_CHUNK = 16384  # candidates per block: keeps the ~20 temporaries in L2 cache
_ROUND_ROWS = [_R[n] for n in "ox oy oz dxl dyl tb e1x e1y e1z e2x e2y e2z m1 smb A thi r0 r1 dx dy dz".split()]
_CAP_ROWS = [_R[n] for n in "ox oy oz dxl dyl tb e1x e1y e1z e2x e2y e2z m1 smb A thi".split()]
_ELL_ROWS = [_R[n] for n in "ox oy oz dxl dyl tb e1x e1y e1z e2x e2y e2z A".split()]


def _side(g, wx, wy, ell: bool):
    """Entering root of the side quadric (relative to oz) and the coefficients reused by the caps."""
    ta = wx * g[3] + wy * g[4]
    u1a = wx * g[6] + wy * g[7]
    u2a = wx * g[9] + wy * g[10]
    u1b, u2b, tb = g[8], g[11], g[5]
    if ell:  # u1^2 + u2^2 + (2t - 1)^2 = 1
        ma = 2.0 * ta - 1.0
        bh = u1a * u1b + u2a * u2b + ma * (2.0 * tb)
        c = u1a * u1a + u2a * u2a + ma * ma - 1.0
        a = g[12]
    else:  # u1^2 + u2^2 = (1 + k t)^2
        ma = 1.0 + g[12] * ta
        bh = u1a * u1b + u2a * u2b + ma * g[13]
        c = u1a * u1a + u2a * u2a - ma * ma
        a = g[14]
    disc = bh * bh - a * c
    z = -(bh + np.sqrt(np.maximum(disc, 0.0))) / np.where(a > 1e-9, a, np.float32(1.0))
    if ell:
        ok = (disc >= 0) & (a > 1e-9)
    else:
        t = ta + tb * z
        ok = (disc >= 0) & (a > 1e-9) & (t >= 0) & (t <= g[15])
    return np.where(ok, z, np.float32(np.inf)), ta, u1a, u2a


def _depth_round(g, x, y):
    wx = x - g[0]
    wy = y - g[1]
    best = _side(g, wx, wy, ell=False)[0]
    r0, r1 = g[16], g[17]
    d0 = r0 * r0 - (wx * wx + wy * wy)
    z0 = -np.sqrt(np.maximum(d0, 0.0))
    best = np.where((d0 >= 0) & (z0 < best), z0, best)
    ex = wx - g[18]
    ey = wy - g[19]
    d1 = r1 * r1 - (ex * ex + ey * ey)
    z1 = g[20] - np.sqrt(np.maximum(d1, 0.0))
    best = np.where((d1 >= 0) & (z1 < best), z1, best)
    return best + g[2]


def _depth_capped(g, x, y):
    wx = x - g[0]
    wy = y - g[1]
    best, ta, u1a, u2a = _side(g, wx, wy, ell=False)
    tb = g[5]
    crosses = np.abs(tb) > 1e-9
    itb = np.float32(1.0) / np.where(crosses, tb, np.float32(1.0))
    for tc, lim2 in ((0.0, 1.0), (1.0, (1.0 + g[12]) ** 2)):
        zc = (tc - ta) * itb
        v1 = u1a + g[8] * zc
        v2 = u2a + g[11] * zc
        inside = crosses & (v1 * v1 + v2 * v2 <= lim2) & (zc < best)
        best = np.where(inside, zc, best)
    return best + g[2]


def _depth_ellipsoid(g, x, y):
    return _side(g, x - g[0], y - g[1], ell=True)[0] + g[2]


_KERNELS = {"round": (_ROUND_ROWS, _depth_round), "capped": (_CAP_ROWS, _depth_capped),
            "ellipsoid": (_ELL_ROWS, _depth_ellipsoid)}  # fmt: skip


def cast_depth(tab: PartTable, pidx: np.ndarray, x: np.ndarray, y: np.ndarray, group: str | None = None) -> np.ndarray:
    """Nearest hit depth z of the ray through (x, y) on flat part ``pidx``; +inf where it misses.

    Shapes: pidx int (N,), x, y float32 (N,) -> (N,) float32. ``group`` ("round", "capped",
    "ellipsoid") says that every candidate's part is of that primitive kind (faster); None sorts
    them out here.
    Convention: see the module docstring; the part's side surface, flat caps (torso, neck) and
    spherical ends (limbs, feet) are all tested and the nearest valid one wins.
    """
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    if group is None:
        out = np.full(pidx.shape[0], np.inf, dtype=np.float32)
        grp = PART_GROUP[pidx % NUM_PARTS]
        for gi, name in enumerate(GROUP_NAMES):
            sel = np.flatnonzero(grp == gi)
            if sel.size:
                out[sel] = cast_depth(tab, pidx[sel], x[sel], y[sel], name)
        return out
    rows, fn = _KERNELS[group]
    sub = tab.prm[rows]
    n = pidx.shape[0]
    out = np.empty(n, dtype=np.float32)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for i in range(0, n, _CHUNK):
            sl = slice(i, i + _CHUNK)
            out[sl] = fn(sub[:, pidx[sl]], x[sl], y[sl])
    return out


def encode_hits(
    tab: PartTable, pidx: np.ndarray, x: np.ndarray, y: np.ndarray, depth: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intrinsic coordinates (t, q1, q2) of surface points (x, y, depth) on flat parts ``pidx``.

    Shapes: all (N,) -> three (N,) float32. Convention: module docstring; on a spherical end the
    overshoot past the joint is stored in units of that end's radius, so decoding on a body whose
    bone has another length still lands on that body's end sphere.
    """
    g = tab.prm[:, pidx]
    r = _R
    wx = x - g[r["ox"]]
    wy = y - g[r["oy"]]
    wz = depth - g[r["oz"]]
    t = wx * g[r["dxl"]] + wy * g[r["dyl"]] + wz * g[r["tb"]]
    u1 = wx * g[r["e1x"]] + wy * g[r["e1y"]] + wz * g[r["e1z"]]
    u2 = wx * g[r["e2x"]] + wy * g[r["e2y"]] + wz * g[r["e2z"]]
    ell = g[r["sig"]] > 0
    tc = np.where(ell, t, np.clip(t, 0.0, 1.0))
    s = 1.0 + g[r["kq"]] * tc
    q1, q2 = u1 / s, u2 / s
    r0, r1 = g[r["r0"]], g[r["r1"]]
    length = np.sqrt(g[r["dx"]] ** 2 + g[r["dy"]] ** 2 + g[r["dz"]] ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        r_end = np.where(t < 0, r0, r1)
        over = np.where(r_end > 0, (t - tc) * length / np.where(r_end > 0, r_end, 1.0), 0.0)
    return (tc + over).astype(np.float32), q1.astype(np.float32), q2.astype(np.float32)


def decode_points(
    body: Body3D, bidx: np.ndarray, part: np.ndarray, t: np.ndarray, q1: np.ndarray, q2: np.ndarray
) -> np.ndarray:
    """3D points (N, 3) float32 on ``body`` named by intrinsic coordinates (part, t, q1, q2).

    Shapes: bidx, part int (N,); t, q1, q2 float (N,). Convention: module docstring (inverse of
    ``encode_hits`` on the same body; exact up to float rounding).
    """
    o = body.origin[bidx, part]
    d = body.axis[bidx, part]
    e1 = body.e1[bidx, part]
    e2 = body.e2[bidx, part]
    rad1 = body.rad1[bidx, part]
    rad2 = body.rad2[bidx, part]
    k = body.taper[bidx, part]
    ell = PART_KIND[part] == KIND_ELLIPSOID
    rnd = PART_ROUND_ENDS[part]
    tc = np.where(ell, t, np.clip(t, 0.0, 1.0))
    kq = np.where(ell, 0.0, k)
    s = 1.0 + kq * tc
    r_end = np.where(t < 0, rad1, rad1 * (1.0 + k))
    length = np.maximum(np.sqrt((d * d).sum(1)), 1e-6)
    over = np.where(rnd, (t - tc) * r_end, 0.0)
    p = o + (tc + over / length)[:, None] * d + (s * rad1 * q1)[:, None] * e1 + (s * rad2 * q2)[:, None] * e2
    return p.astype(np.float32)
