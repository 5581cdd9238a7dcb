"""Orthographic rendering of proxy bodies: per pixel the nearest hit (part, intrinsic coords, depth).

Convention: pixel (row i, column j) is the ray through image point (x, y) = (j, i), along +z; the
nearest hit is the smallest z. Only pixels inside a part's 2D bounding box are tested against that
part, so the work is about the body's area, not H x W x parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from diaflow_core.errors import DataError
from diaflow_core.proxy3d.body import Body3D
from diaflow_core.proxy3d.config import NUM_PARTS
from diaflow_core.proxy3d.geometry import (
    GROUP_NAMES,
    PART_GROUP,
    PartTable,
    cast_depth,
    encode_hits,
    pack_parts,
)

__all__ = ["RenderResult", "nearest_depth", "render", "render_hits"]


@dataclass(frozen=True)
class RenderResult:
    """Maps of shape (B, H, W): ``part`` int8 (-1 = background), ``t``, ``q1``, ``q2`` float32
    intrinsic coordinates (0 on background), ``depth`` float32 (+inf on background)."""

    part: np.ndarray
    t: np.ndarray
    q1: np.ndarray
    q2: np.ndarray
    depth: np.ndarray

    @property
    def hit(self) -> np.ndarray:
        return self.part >= 0

    @property
    def angle(self) -> np.ndarray:
        """Angle around the bone, radians, 0 = the body's forward side (e1)."""
        return np.arctan2(self.q2, self.q1).astype(np.float32)


def _check_size(size: Sequence[int]) -> tuple[int, int]:
    if len(size) != 2 or int(size[0]) <= 0 or int(size[1]) <= 0:
        raise DataError(f"size: expected (H, W) with positive entries, got {tuple(size)}")
    return int(size[0]), int(size[1])


def _grid_candidates(tab: PartTable, h: int, w: int, parts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (pixel, part) pair with the pixel inside the box of one of the flat ``parts``:
    (flat part, x, y) int arrays, grouped by part."""
    box = tab.box[parts]
    x0 = np.maximum(np.ceil(box[:, 0]), 0).astype(np.int64)
    x1 = np.minimum(np.floor(box[:, 1]), w - 1).astype(np.int64)
    y0 = np.maximum(np.ceil(box[:, 2]), 0).astype(np.int64)
    y1 = np.minimum(np.floor(box[:, 3]), h - 1).astype(np.int64)
    nx = np.maximum(x1 - x0 + 1, 0)
    ny = np.maximum(y1 - y0 + 1, 0)
    cnt = nx * ny
    k = np.repeat(np.arange(box.shape[0]), cnt)
    start = np.cumsum(cnt) - cnt
    local = np.arange(k.shape[0]) - start[k]
    ly, lx = np.divmod(local, nx[k])
    return parts[k], x0[k] + lx, y0[k] + ly


def render_hits(
    body: Body3D, size: Sequence[int], tab: PartTable | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat render: (pixel index into B*H*W, flat part index b*P+p, depth) for every hit pixel."""
    h, w = _check_size(size)
    tab = tab or pack_parts(body)
    flat_group = np.tile(PART_GROUP, body.batch_size)
    chunks = []
    for gi, name in enumerate(GROUP_NAMES):
        parts = np.flatnonzero((flat_group == gi) & tab.ok)
        pidx, xi, yi = _grid_candidates(tab, h, w, parts)
        depth = cast_depth(tab, pidx, xi.astype(np.float32), yi.astype(np.float32), name)
        keep = np.isfinite(depth)
        chunks.append((pidx[keep], ((pidx[keep] // NUM_PARTS) * h + yi[keep]) * w + xi[keep], depth[keep]))
    pidx, pix, depth = (np.concatenate(c) for c in zip(*chunks, strict=True))
    zbuf = np.full(body.batch_size * h * w, np.inf, dtype=np.float32)
    np.minimum.at(zbuf, pix, depth)
    win = depth <= zbuf[pix]
    owner = np.full(zbuf.shape[0], -1, dtype=np.int64)
    owner[pix[win]] = pidx[win]  # ties: any one of the equally near parts
    hit = np.flatnonzero(owner >= 0)
    return hit, owner[hit], zbuf[hit]


def render(body: Body3D, size: Sequence[int] = (128, 64)) -> RenderResult:
    """Render a body batch orthographically.

    Args:
        body: lifted bodies (batch B).
        size: (H, W) of the image.
    Returns:
        ``RenderResult`` with (B, H, W) maps.

    Convention: module docstring; intrinsic coordinates as in ``geometry``.
    """
    h, w = _check_size(size)
    tab = pack_parts(body)
    pix, pflat, depth = render_hits(body, (h, w), tab)
    xi = (pix % w).astype(np.float32)
    yi = ((pix // w) % h).astype(np.float32)
    t, q1, q2 = encode_hits(tab, pflat, xi, yi, depth)
    n = body.batch_size * h * w
    part = np.full(n, -1, dtype=np.int8)
    part[pix] = pflat % NUM_PARTS
    maps = []
    for v in (t, q1, q2):
        m = np.zeros(n, dtype=np.float32)
        m[pix] = v
        maps.append(m.reshape(-1, h, w))
    zmap = np.full(n, np.inf, dtype=np.float32)
    zmap[pix] = depth
    shape = (body.batch_size, h, w)
    return RenderResult(part.reshape(shape), maps[0], maps[1], maps[2], zmap.reshape(shape))


def _box_bits(tab: PartTable, bsz: int, h: int, w: int) -> np.ndarray:
    """(B, H, W) uint16: bit p set where part p's box, grown by half a pixel, covers the pixel, so any
    point that rounds to the pixel and lies in the box is flagged."""
    bits = np.zeros((bsz, h, w), dtype=np.uint16)
    box = tab.box
    x0 = np.clip(np.floor(box[:, 0] - 0.5), 0, w).astype(np.int64)
    x1 = np.clip(np.ceil(box[:, 1] + 0.5), -1, w - 1).astype(np.int64) + 1
    y0 = np.clip(np.floor(box[:, 2] - 0.5), 0, h).astype(np.int64)
    y1 = np.clip(np.ceil(box[:, 3] + 0.5), -1, h - 1).astype(np.int64) + 1
    for f in np.flatnonzero(tab.ok & (x1 > x0) & (y1 > y0)):
        bits[f // NUM_PARTS, y0[f] : y1[f], x0[f] : x1[f]] |= np.uint16(1 << int(f % NUM_PARTS))
    return bits


def nearest_depth(tab: PartTable, bidx: np.ndarray, x: np.ndarray, y: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """Nearest surface depth at arbitrary in-frame image points (x, y) of bodies ``bidx``; +inf off
    the body.

    Shapes: bidx int (N,), x, y float32 (N,) -> (N,) float32; ``size`` = (H, W) of the frame the
    points lie in (-0.5 <= x <= W - 0.5, likewise y).
    """
    h, w = _check_size(size)
    n = x.shape[0]
    bsz = tab.box.shape[0] // NUM_PARTS
    bits = _box_bits(tab, bsz, h, w)
    xi = np.clip(np.rint(x), 0, w - 1).astype(np.int64)
    yi = np.clip(np.rint(y), 0, h - 1).astype(np.int64)
    q_bits = bits[bidx, yi, xi]
    out = np.full(n, np.inf, dtype=np.float32)
    for gi, name in enumerate(GROUP_NAMES):
        cols = np.flatnonzero(PART_GROUP == gi)
        inside = (q_bits[:, None] >> cols.astype(np.uint16)) & np.uint16(1)
        qi, c = np.nonzero(inside)
        if qi.size:
            depth = cast_depth(tab, bidx[qi] * NUM_PARTS + cols[c], x[qi], y[qi], name)
            np.minimum.at(out, qi, depth)
    return out
