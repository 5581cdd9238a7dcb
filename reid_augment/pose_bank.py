"""The pose bank: a few dozen representative target poses, keypoints only.

Built by k-means over normalised poses WITHIN each view class (front / back / side), so every view is
represented however rare it is in the data; each cluster is stored as its medoid: a real annotated pose
(with the body joints present), not an average, so no impossible skeletons are shipped.

Convention: ``poses`` are float32 ``(K, 18, 2)`` (x, y) pixels in a ``size`` = (H, W) canvas (Market crops:
128 x 64), NaN = missing; ``views`` index ``VIEWS``; the file is a plain ``.npz`` (no pickle).
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from diaflow_core.errors import DataError
from diaflow_core.fileio import replace_bytes
from diaflow_core.pose import pose_torso_length

from .fit import usable_pose

__all__ = [
    "VIEWS",
    "PoseBank",
    "build_pose_bank",
    "default_bank_path",
    "load_pose_bank",
    "pose_view",
    "save_pose_bank",
]

VIEWS: tuple[str, ...] = ("front", "back", "side")
_FORMAT = 1
_R_SHO, _L_SHO, _R_HIP, _L_HIP = 2, 5, 8, 11
_FACE = (0, 14, 15)  # nose, eyes
# Joints a medoid must have: neck, hips, knees, ankles (a target pose without legs is of little use).
_BODY = (1, 8, 9, 10, 11, 12, 13)


@dataclass(frozen=True)
class PoseBank:
    """Representative poses with their view class and cluster size."""

    poses: np.ndarray  # (K, 18, 2) float32
    views: tuple[str, ...]  # one of VIEWS per pose
    counts: np.ndarray  # (K,) int: training poses in each cluster
    size: tuple[int, int] = (128, 64)
    source: str = ""

    def __post_init__(self) -> None:
        if self.poses.ndim != 3 or self.poses.shape[1:] != (18, 2):
            raise DataError(f"PoseBank: poses must be (K, 18, 2), got {self.poses.shape}")
        if len(self.views) != len(self.poses) or len(self.counts) != len(self.poses):
            raise DataError("PoseBank: poses, views and counts differ in length")
        bad = set(self.views) - set(VIEWS)
        if bad:
            raise DataError(f"PoseBank: unknown view classes {sorted(bad)}; expected {VIEWS}")

    def __len__(self) -> int:
        return len(self.poses)


def pose_view(kp: np.ndarray, side_ratio: float = 0.3) -> str | None:
    """View class from 2D joints: ``front``, ``back``, ``side``, or None when undecidable.

    Convention: facing the camera puts the person's RIGHT shoulder on the image's LEFT (x_R < x_L). The
    shoulder (else hip) width signed as x_L - x_R, over the torso length: above ``side_ratio`` = front,
    below -``side_ratio`` = back, in between (or one shoulder and hip hidden) = side. Face joints break ties
    when the width is small but the sign disagrees with what the face says.
    """
    kp = np.asarray(kp, dtype=np.float32)
    torso = pose_torso_length(kp)
    if not np.isfinite(torso) or torso <= 0:
        return None
    for r, l in ((_R_SHO, _L_SHO), (_R_HIP, _L_HIP)):
        if not (np.isnan(kp[r]).any() or np.isnan(kp[l]).any()):
            width = float(kp[l, 0] - kp[r, 0]) / torso
            if width > side_ratio:
                return "front"
            if width < -side_ratio:
                return "back"
            return "side"
    return "side"


def _normalise(kp: np.ndarray) -> np.ndarray:
    """Mid-hip at the origin, torso length 1; flattened to (36,) with NaN for missing joints."""
    hips = kp[[_R_HIP, _L_HIP]]
    hip = np.nanmean(hips, axis=0)
    return ((kp - hip) / pose_torso_length(kp)).reshape(-1)


def _masked_kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 30) -> np.ndarray:
    """k-means on rows with NaN (distances over the coordinates both have); returns labels (N,)."""
    m = (~np.isnan(x)).astype(np.float64)
    xf = np.nan_to_num(x).astype(np.float64)
    n_present = np.maximum(m.sum(1), 1.0)

    def dist(c: np.ndarray) -> np.ndarray:
        d = (m * xf**2).sum(1)[:, None] - 2.0 * (m * xf) @ c.T + m @ (c**2).T
        return np.maximum(d, 0.0) / n_present[:, None]

    # k-means++ seeding on complete rows.
    complete = np.flatnonzero(m.all(1))
    pool = complete if len(complete) >= k else np.arange(len(x))
    centres = [xf[rng.choice(pool)]]
    for _ in range(1, k):
        d = dist(np.stack(centres)).min(1)[pool]
        p = d / d.sum() if d.sum() > 0 else None
        centres.append(xf[pool[rng.choice(len(pool), p=p)]])
    c = np.stack(centres)
    labels = np.zeros(len(x), dtype=np.int64)
    for _ in range(iters):
        d = dist(c)
        new = d.argmin(1)
        for j in range(k):
            members = new == j
            if not members.any():  # re-seed an empty cluster at the worst-fitted row
                far = int(d.min(1).argmax())
                new[far] = j
                members = new == j
            w = m[members].sum(0)
            c[j] = np.where(w > 0, (m[members] * xf[members]).sum(0) / np.maximum(w, 1), c[j])
        if (new == labels).all():
            break
        labels = new
    return labels


def _allocate(counts: dict[str, int], clusters: int, min_per_view: int) -> dict[str, int]:
    """Clusters per view, proportional to sqrt(count) (rare views get more than their share)."""
    present = {v: n for v, n in counts.items() if n > 0}
    root = {v: np.sqrt(n) for v, n in present.items()}
    total = sum(root.values())
    alloc = {v: int(min(present[v], max(min_per_view, round(clusters * r / total)))) for v, r in root.items()}
    while sum(alloc.values()) > clusters:  # rounding and the minimum may overshoot: trim the largest
        biggest = max(alloc, key=lambda v: alloc[v])
        if alloc[biggest] <= 1:
            break
        alloc[biggest] -= 1
    return alloc


def build_pose_bank(
    poses: Iterable[np.ndarray],
    clusters: int = 48,
    size: Sequence[int] = (128, 64),
    seed: int = 0,
    min_per_view: int = 6,
    min_cluster: int = 5,
    missing_cost: float = 0.05,
    source: str = "",
) -> PoseBank:
    """Cluster annotated poses (each ``(18, 2)`` in a ``size`` canvas) into a ``PoseBank``.

    Poses without a neck and a hip are ignored. Within each view class, k-means on normalised poses
    (mid-hip origin, torso length 1); each cluster is represented by its medoid among the members that have
    all body joints (neck, hips, knees, ankles), else by its member with the most joints. Clusters with
    fewer than ``min_cluster`` members are dropped (so the bank may hold slightly fewer than ``clusters``).
    """
    if clusters < len(VIEWS):
        raise DataError(f"build_pose_bank: need at least {len(VIEWS)} clusters, got {clusters}")
    kept = [np.asarray(p, np.float32) for p in poses]
    kept = [p for p in kept if p.shape == (18, 2) and usable_pose(p) is None]
    if len(kept) < clusters:
        raise DataError(f"build_pose_bank: {len(kept)} usable poses (neck and a hip), need >= {clusters}")
    by_view: dict[str, list[np.ndarray]] = {v: [] for v in VIEWS}
    for p in kept:
        by_view[pose_view(p) or "side"].append(p)
    alloc = _allocate({v: len(ps) for v, ps in by_view.items()}, clusters, min_per_view)
    rng = np.random.default_rng(seed)
    out_poses, out_views, out_counts = [], [], []
    for view in VIEWS:
        if view not in alloc:
            continue
        group = np.stack(by_view[view])
        x = np.stack([_normalise(p) for p in group])
        labels = _masked_kmeans(x, alloc[view], rng)
        full = ~np.isnan(group[:, list(_BODY)]).any(axis=(1, 2))
        for j in range(alloc[view]):
            idx = np.flatnonzero(labels == j)
            if len(idx) < min_cluster:  # outliers and annotation slips, not a pose worth shipping
                continue
            cand = idx[full[idx]] if full[idx].any() else idx
            with warnings.catch_warnings():  # a joint missing in every member: NaN centre, ignored
                warnings.simplefilter("ignore", RuntimeWarning)
                centre = np.nanmean(x[idx], axis=0)
            err = np.nanmean((x[cand] - centre) ** 2, axis=1)
            # Prefer complete skeletons: each missing body/arm joint costs like a small misfit.
            err = err + missing_cost * np.isnan(group[cand, :14, 0]).sum(1)
            out_poses.append(group[cand[int(np.nanargmin(err))]])
            out_views.append(view)
            out_counts.append(len(idx))
    return PoseBank(
        poses=np.stack(out_poses).astype(np.float32),
        views=tuple(out_views),
        counts=np.asarray(out_counts, dtype=np.int64),
        size=(int(size[0]), int(size[1])),
        source=source,
    )


def save_pose_bank(bank: PoseBank, path: str | os.PathLike[str]) -> None:
    """Write ``bank`` as a plain ``.npz`` (keypoints, view codes, counts, canvas size, a source note)."""

    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        format=np.int64(_FORMAT),
        poses=bank.poses.astype(np.float32),
        views=np.asarray([VIEWS.index(v) for v in bank.views], dtype=np.int8),
        counts=bank.counts.astype(np.int64),
        size=np.asarray(bank.size, dtype=np.int64),
        source=np.asarray(bank.source),
    )
    replace_bytes(path, buf.getvalue())  # a bank file is replaced as a whole, never half-written


def load_pose_bank(path: str | os.PathLike[str] | None = None) -> PoseBank:
    """Read a bank written by ``save_pose_bank``; ``None`` = the bank shipped in the package."""
    path = Path(path) if path is not None else default_bank_path()
    try:
        with np.load(path, allow_pickle=False) as z:
            if int(z["format"]) != _FORMAT:
                raise DataError(f"{path}: pose bank format {int(z['format'])}, this version reads {_FORMAT}")
            codes = z["views"].astype(int)
            return PoseBank(
                poses=z["poses"].astype(np.float32),
                views=tuple(VIEWS[c] for c in codes),
                counts=z["counts"].astype(np.int64),
                size=(int(z["size"][0]), int(z["size"][1])),
                source=str(z["source"]),
            )
    except FileNotFoundError:
        raise DataError(f"{path}: pose bank not found") from None
    except (KeyError, ValueError, IndexError, OSError) as e:
        raise DataError(f"{path}: not a pose bank file ({e})") from None


def default_bank_path() -> Path:
    """The shipped bank, ``reid_augment/assets/pose_bank.npz``."""
    return Path(str(resources.files("reid_augment") / "assets" / "pose_bank.npz"))
