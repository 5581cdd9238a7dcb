"""Linking person boxes across the frames of one camera into tracks: one track = one identity.

An IoU tracker (boxes of consecutive processed frames matched by the Hungarian algorithm), as in the SORT
family minus the motion model: at surveillance frame rates a pedestrian's box moves a fraction of its width
between samples, so overlap links them. Where people cross, overlap alone swaps identities, so a match
also needs a similar look when appearance vectors are given (cosine of unit vectors, e.g. colour
histograms; the track keeps a running mean): the cost is (1 - IoU) + (1 - cosine), and pairs under
``iou`` or ``min_similarity`` never match. A track ends after ``max_gap`` processed frames without a match;
a person who leaves and comes back becomes a new track (no re-linking).

Memory stays bounded on long clips: a track keeps at most ``2 * keep`` samples, thinned evenly (every
other one dropped, doubling its stride) whenever that fills up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from diaflow_core.errors import ConfigError

from .detect import Detection

__all__ = ["IouTracker", "Track", "box_iou_matrix", "color_signature", "even_subset"]

T = TypeVar("T")


def box_iou_matrix(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> np.ndarray:
    """IoU of every box of ``a`` with every box of ``b`` (x0, y0, x1, y1), shape (len(a), len(b))."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float64)
    p = np.asarray(a, np.float64)[:, None, :]
    q = np.asarray(b, np.float64)[None, :, :]
    iw = np.clip(np.minimum(p[..., 2], q[..., 2]) - np.maximum(p[..., 0], q[..., 0]), 0, None)
    ih = np.clip(np.minimum(p[..., 3], q[..., 3]) - np.maximum(p[..., 1], q[..., 1]), 0, None)
    inter = iw * ih
    area = lambda r: (r[..., 2] - r[..., 0]) * (r[..., 3] - r[..., 1])  # noqa: E731
    union = area(p) + area(q) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def even_subset(n: int, k: int) -> list[int]:
    """``min(n, k)`` indices spread evenly over ``range(n)``, first and last included."""
    if k <= 0 or n <= 0:
        return []
    if n <= k:
        return list(range(n))
    return sorted({int(round(i)) for i in np.linspace(0, n - 1, k)})


@dataclass
class Track(Generic[T]):
    """One person followed through a clip; ``samples`` are the payloads kept (e.g. crops), thinned evenly."""

    tid: int
    first_frame: int
    last_frame: int
    last_box: tuple[float, float, float, float]
    feature: np.ndarray | None = None  # running mean of the unit appearance vectors, renormalised
    length: int = 0  # matched frames in all
    missed: int = 0  # processed frames since the last match
    samples: list[tuple[int, Detection, T]] = field(default_factory=list)
    stride: int = 1  # keep every stride-th match
    _seen: int = 0


class IouTracker(Generic[T]):
    """Streaming tracker: ``update`` once per processed frame, ``finish`` at the end of the clip.

    Both return the tracks that ended, oldest first; the caller decides which are long enough to keep.
    """

    def __init__(
        self, iou: float = 0.3, max_gap: int = 3, keep: int = 16, min_similarity: float = 0.0, momentum: float = 0.7
    ) -> None:
        if not 0.0 < iou <= 1.0:
            raise ConfigError(f"tracker IoU threshold must be in (0, 1], got {iou}")
        if not -1.0 <= min_similarity <= 1.0 or not 0.0 <= momentum < 1.0:
            raise ConfigError(
                f"tracker needs min_similarity in [-1, 1] and momentum in [0, 1), got {min_similarity}, {momentum}"
            )
        if max_gap < 0 or keep < 1:
            raise ConfigError(f"tracker needs max_gap >= 0 and keep >= 1, got {max_gap} and {keep}")
        self.iou = iou
        self.max_gap = max_gap
        self.keep = keep
        self.min_similarity = min_similarity
        self.momentum = momentum
        self._active: list[Track[T]] = []
        self._next_tid = 0

    def _add(self, track: Track[T], frame: int, det: Detection, payload: T, feature: np.ndarray | None) -> None:
        track.last_frame, track.last_box, track.missed = frame, det.box, 0
        if feature is not None:
            f = feature if track.feature is None else self.momentum * track.feature + (1 - self.momentum) * feature
            track.feature = f / max(float(np.linalg.norm(f)), 1e-12)
        track.length += 1
        if track._seen % track.stride == 0:
            track.samples.append((frame, det, payload))
            if len(track.samples) >= 2 * self.keep:  # thin: every other sample goes, the stride doubles
                track.samples = track.samples[::2]
                track.stride *= 2
        track._seen += 1

    def _similarity(self, n_dets: int, features: np.ndarray | None) -> np.ndarray:
        """Cosine of every live track's look with every detection's; 1 where either has none."""
        sim = np.ones((len(self._active), n_dets))
        if features is not None:
            for i, t in enumerate(self._active):
                if t.feature is not None:
                    sim[i] = features @ t.feature
        return sim

    def update(
        self, frame: int, dets: Sequence[Detection], payloads: Sequence[T], features: np.ndarray | None = None
    ) -> list[Track[T]]:
        """Match ``dets`` (one payload and, optionally, one unit appearance vector each: ``features`` (N, D))
        to the live tracks; returns the tracks that just ended."""
        if len(dets) != len(payloads) or (features is not None and len(features) != len(dets)):
            raise ValueError("one payload (and one feature row) per detection")
        iou = box_iou_matrix([t.last_box for t in self._active], [d.box for d in dets])
        sim = self._similarity(len(dets), features)
        ok = (iou >= self.iou) & (sim >= self.min_similarity)
        matched_t: set[int] = set()
        matched_d: set[int] = set()
        if ok.any():
            rows, cols = linear_sum_assignment(np.where(ok, (1.0 - iou) + (1.0 - sim), 1e6))
            for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
                if ok[r, c]:
                    self._add(self._active[r], frame, dets[c], payloads[c], None if features is None else features[c])
                    matched_t.add(r)
                    matched_d.add(c)
        ended: list[Track[T]] = []
        alive: list[Track[T]] = []
        for i, t in enumerate(self._active):
            if i not in matched_t:
                t.missed += 1
                if t.missed > self.max_gap:
                    ended.append(t)
                    continue
            alive.append(t)
        for j, d in enumerate(dets):
            if j not in matched_d:
                t = Track[T](self._next_tid, frame, frame, d.box)
                self._next_tid += 1
                self._add(t, frame, d, payloads[j], None if features is None else features[j])
                alive.append(t)
        self._active = alive
        return ended

    def finish(self) -> list[Track[T]]:
        """End every live track (the clip is over)."""
        ended, self._active = self._active, []
        return ended


def color_signature(crop: np.ndarray, bins: tuple[int, int, int] = (8, 4, 4)) -> np.ndarray:
    """A person crop's look as a unit vector: the square root of its HSV histogram over the crop's middle
    (the box's sides are mostly background), so that the cosine of two is their Bhattacharyya coefficient."""
    h, w = crop.shape[:2]
    mid = np.ascontiguousarray(crop[int(0.1 * h) : int(0.9 * h), int(0.25 * w) : int(0.75 * w)])
    hsv = cv2.cvtColor(mid, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, list(bins), [0, 180, 0, 256, 0, 256]).ravel()
    v = np.sqrt(hist / max(float(hist.sum()), 1.0))
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)
