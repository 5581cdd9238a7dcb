"""The Market-1501 ranking protocol on hand-made cases whose CMC and mAP are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from diaflow_core.errors import DataError
from diaflow_core.reid import evaluate_market, market_scores, rank_scores


def _at_angles(degrees: list[float]) -> np.ndarray:
    """Unit 2D features: the further the angle from 0, the further from a query at angle 0."""
    rad = np.deg2rad(np.asarray(degrees, dtype=np.float64))
    return np.stack([np.cos(rad), np.sin(rad)], axis=1)


# Gallery in order of distance from every query (all queries sit at angle 0):
#   g0 pid 1 cam 1 | g1 pid 2 cam 2 | g2 pid -1 (junk) cam 2 | g3 pid 1 cam 2
#   g4 pid 0 (distractor) cam 3 | g5 pid 1 cam 3 | g6 pid 4 cam 1
G_PIDS = [1, 2, -1, 1, 0, 1, 4]
G_CAMS = [1, 2, 2, 2, 3, 3, 1]
GF = _at_angles([10, 20, 30, 40, 50, 60, 70])


def test_hand_made_protocol() -> None:
    # q0 pid 1 cam 1: g0 (same pid, same cam) and g2 (junk) are dropped; the rest ranks
    #    g1 x, g3 OK, g4 x (distractor kept), g5 OK, g6 x  -> hits at ranks 2, 4: AP = (1/2 + 2/4) / 2 = 0.5
    # q1 pid 1 cam 2: g3 (same pid, same cam) and g2 dropped; ranks g0 OK, g1 x, g4 x, g5 OK, g6 x
    #    -> hits at 1, 4: AP = (1/1 + 2/4) / 2 = 0.75
    # q2 pid 3 cam 1: no pid 3 in the gallery -> skipped
    # q3 pid 4 cam 1: its only gallery image g6 has the same camera -> skipped
    # CMC over the 2 valid queries: rank 1 = (0 + 1) / 2 = 0.5, rank >= 2 = 1; mAP = (0.5 + 0.75) / 2
    qf = _at_angles([0, 0, 0, 0])
    s = market_scores(qf, [1, 1, 3, 4], [1, 2, 1, 1], GF, G_PIDS, G_CAMS, max_rank=10)
    assert s.num_valid == 2 and s.num_skipped == 2
    np.testing.assert_allclose(s.cmc, [0.5] + [1.0] * 9)
    assert s.mAP == pytest.approx(0.625)
    cmc, mAP = evaluate_market(qf, [1, 1, 3, 4], [1, 2, 1, 1], GF, G_PIDS, G_CAMS, max_rank=10)
    np.testing.assert_allclose(cmc, s.cmc)
    assert mAP == pytest.approx(0.625)


def test_each_rule_changes_the_answer() -> None:
    qf = _at_angles([0])
    base = market_scores(qf, [1], [1], GF, G_PIDS, G_CAMS).mAP
    assert base == pytest.approx(0.5)
    # junk counted as a negative: kept ranks g1 x, g2 x, g3 OK, g4 x, g5 OK -> AP = (1/3 + 2/5) / 2
    as_negative = market_scores(qf, [1], [1], GF, [1, 2, 7, 1, 0, 1, 4], G_CAMS).mAP
    assert as_negative == pytest.approx((1 / 3 + 2 / 5) / 2)
    # a different camera for the query: g0 becomes a valid hit at rank 1 -> hits 1, 3 (g3 cam 2), 5 (g5)
    # ranks g0 OK, g1 x, g3 OK, g4 x, g5 OK: AP = (1 + 2/3 + 3/5) / 3
    other_cam = market_scores(qf, [1], [5], GF, G_PIDS, G_CAMS).mAP
    assert other_cam == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)


def test_cmc_is_padded_past_a_short_gallery() -> None:
    s = market_scores(_at_angles([0]), [1], [1], GF, G_PIDS, G_CAMS, max_rank=50)
    assert s.cmc.shape == (50,)
    assert s.cmc[0] == 0.0 and s.cmc[1:].min() == 1.0


def test_metrics_agree_and_features_are_normalised() -> None:
    qf = _at_angles([0, 0])
    cos = market_scores(qf, [1, 1], [1, 2], GF, G_PIDS, G_CAMS, metric="cosine")
    euc = market_scores(3.0 * qf, [1, 1], [1, 2], 0.1 * GF, G_PIDS, G_CAMS, metric="euclidean")
    np.testing.assert_allclose(cos.cmc, euc.cmc)
    assert cos.mAP == pytest.approx(euc.mAP)


def test_no_valid_query_is_an_error() -> None:
    with pytest.raises(DataError, match="no query"):
        market_scores(_at_angles([0]), [3], [1], GF, G_PIDS, G_CAMS)
    with pytest.raises(DataError, match="metric"):
        market_scores(_at_angles([0]), [1], [1], GF, G_PIDS, G_CAMS, metric="manhattan")


def _reference(dist: np.ndarray, qp, qc, gp, gc, max_rank: int) -> tuple[np.ndarray, float]:
    """A slow, literal implementation to compare against on random data."""
    cmcs, aps = [], []
    for i in range(dist.shape[0]):
        order = sorted(range(dist.shape[1]), key=lambda j: (dist[i, j], j))
        kept = [j for j in order if gp[j] != -1 and not (gp[j] == qp[i] and gc[j] == qc[i])]
        hits = [gp[j] == qp[i] for j in kept]
        if not any(hits):
            continue
        first = hits.index(True)
        cmcs.append([1.0 if r >= first else 0.0 for r in range(max_rank)])
        found, precisions = 0, []
        for r, h in enumerate(hits, start=1):
            if h:
                found += 1
                precisions.append(found / r)
        aps.append(sum(precisions) / len(precisions))
    return np.mean(cmcs, axis=0), float(np.mean(aps))


def test_matches_a_literal_reference_on_random_data() -> None:
    rng = np.random.default_rng(0)
    qf, gf = rng.normal(size=(20, 8)), rng.normal(size=(60, 8))
    qp, qc = rng.integers(1, 6, 20), rng.integers(1, 4, 20)
    gp, gc = rng.integers(-1, 6, 60), rng.integers(1, 4, 60)
    s = market_scores(qf, qp, qc, gf, gp, gc, max_rank=10)
    qn = qf / np.linalg.norm(qf, axis=1, keepdims=True)
    gn = gf / np.linalg.norm(gf, axis=1, keepdims=True)
    cmc, mAP = _reference(1 - qn @ gn.T, qp, qc, gp, gc, 10)
    np.testing.assert_allclose(s.cmc, cmc, atol=1e-12)
    assert math.isclose(s.mAP, mAP, rel_tol=1e-9)


def test_rank_scores_breaks_ties_by_gallery_order() -> None:
    dist = np.zeros((1, 3))
    s = rank_scores(dist, np.array([1]), np.array([2, 1, 1]), np.zeros((1, 3), bool), max_rank=3)
    # ranks x, OK, OK -> AP = (1/2 + 2/3) / 2
    assert s.mAP == pytest.approx((1 / 2 + 2 / 3) / 2)
    np.testing.assert_allclose(s.cmc, [0, 1, 1])
