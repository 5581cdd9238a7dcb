"""Ranking metrics under the Market-1501 protocol: CMC and mAP.

Protocol (Zheng et al. 2015, as torchreid implements it): features are L2-normalised; for each query
the gallery entries with the same pid AND the same camera are removed (they are trivially easy
views of the same tracklet), and so is junk (pid -1). Distractors (pid 0) stay as negatives. A query
with no valid match left has no defined AP: it is skipped and counted. CMC at rank r = share of
queries with a true match within the first r; AP = mean of the precision at each true match's rank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..errors import DataError

ArrayLike = Tensor | np.ndarray


@dataclass(frozen=True)
class RankScores:
    cmc: np.ndarray  # (max_rank,) float64
    mAP: float
    num_valid: int  # queries that had at least one valid match
    num_skipped: int  # queries with none (left out of CMC and mAP)

    def rank(self, r: int) -> float:
        return float(self.cmc[r - 1])


def _np(x: ArrayLike) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, Tensor) else np.asarray(x)


def distance_matrix(qf: ArrayLike, gf: ArrayLike, metric: str = "cosine") -> np.ndarray:
    """(Q, G) distances between L2-normalised features; "euclidean" or "cosine" (1 - cos)."""
    q = torch.nn.functional.normalize(torch.as_tensor(_np(qf), dtype=torch.float32), dim=1)
    g = torch.nn.functional.normalize(torch.as_tensor(_np(gf), dtype=torch.float32), dim=1)
    if q.ndim != 2 or g.ndim != 2 or q.shape[1] != g.shape[1]:
        raise DataError(f"features must be (Q, D) and (G, D); got {tuple(q.shape)} and {tuple(g.shape)}")
    cos = q @ g.T
    if metric == "cosine":
        return (1.0 - cos).numpy()
    if metric == "euclidean":  # |a-b|^2 = 2 - 2 cos for unit vectors: same ranking, true distances
        return torch.sqrt(torch.clamp(2.0 - 2.0 * cos, min=0.0)).numpy()
    raise DataError(f"unknown distance metric {metric!r}; use 'cosine' or 'euclidean'")


def rank_scores(
    dist: np.ndarray, q_pids: np.ndarray, g_pids: np.ndarray, invalid: np.ndarray, max_rank: int = 50
) -> RankScores:
    """CMC / mAP from a distance matrix, with ``invalid[i, j]`` = gallery j does not count for query i.

    Ties are broken by gallery order (stable sort) so results are reproducible.
    """
    num_q, num_g = dist.shape
    if invalid.shape != dist.shape or len(q_pids) != num_q or len(g_pids) != num_g:
        raise DataError("distance matrix, pid arrays and validity mask disagree in shape")
    order = np.argsort(dist, axis=1, kind="stable")
    hits = g_pids[order] == q_pids[:, None]
    keep = ~np.take_along_axis(invalid, order, axis=1)
    cmc_sum = np.zeros(max_rank, dtype=np.float64)
    aps: list[float] = []
    for i in range(num_q):
        matches = hits[i][keep[i]]
        if not matches.any():
            continue
        first = int(np.argmax(matches))  # 0-based rank of the first true match
        if first < max_rank:
            cmc_sum[first:] += 1.0
        ranks = np.flatnonzero(matches) + 1.0  # 1-based ranks of all true matches
        aps.append(float(np.mean(np.arange(1, len(ranks) + 1) / ranks)))
    valid = len(aps)
    if valid == 0:
        raise DataError("no query has a valid match in the gallery: CMC and mAP are undefined")
    return RankScores(cmc_sum / valid, float(np.mean(aps)), valid, num_q - valid)


def market_scores(
    qf: ArrayLike,
    q_pids: ArrayLike,
    q_cams: ArrayLike,
    gf: ArrayLike,
    g_pids: ArrayLike,
    g_cams: ArrayLike,
    max_rank: int = 50,
    metric: str = "cosine",
) -> RankScores:
    """The Market-1501 protocol with the skipped-query count (see the module note)."""
    qp, qc, gp, gc = (_np(a).astype(np.int64) for a in (q_pids, q_cams, g_pids, g_cams))
    dist = distance_matrix(qf, gf, metric)
    invalid = ((qp[:, None] == gp[None, :]) & (qc[:, None] == gc[None, :])) | (gp[None, :] == -1)
    return rank_scores(dist, qp, gp, invalid, max_rank)


def evaluate_market(
    qf: ArrayLike,
    q_pids: ArrayLike,
    q_cams: ArrayLike,
    gf: ArrayLike,
    g_pids: ArrayLike,
    g_cams: ArrayLike,
    max_rank: int = 50,
    metric: str = "cosine",
) -> tuple[np.ndarray, float]:
    """(CMC array of length ``max_rank``, mAP) under the Market-1501 protocol."""
    s = market_scores(qf, q_pids, q_cams, gf, g_pids, g_cams, max_rank, metric)
    return s.cmc, s.mAP
