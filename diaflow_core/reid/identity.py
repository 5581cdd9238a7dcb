"""How well generated samples keep their identity, seen by a re-ID network.

Each generated image is a query against the REAL gallery. The same-camera rule of the Market
protocol does not apply: a generated image is a new view, not a frame of a real tracklet, so every
real image of its identity counts as a match, except its own SOURCE image (the one it was rendered
from), which is removed from its gallery because matching it would only show that the generator
copies its input. Junk (pid -1) is removed; distractors (pid 0) stay as negatives.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import DataError
from .evaluate import distance_matrix, rank_scores
from .features import extract_features
from .records import ReidRecord


def _source_name(record: ReidRecord) -> str | None:
    return Path(record.source).name if record.source else None


def identity_preservation(
    model: nn.Module,
    generated_records: Sequence[ReidRecord],
    gallery_records: Sequence[ReidRecord],
    size: tuple[int, int] | None = None,
    device: str | torch.device = "cpu",
    batch_size: int = 128,
    flip: bool = True,
) -> dict[str, float]:
    """rank1 / mAP of generated images retrieving their identity in the real gallery, and the mean
    cosine similarity of each generated image to its own identity's gallery images (``cos_same``)
    versus other identities' (``cos_other``, pid > 0 only). Higher cos_same - cos_other = better kept.
    """
    if not generated_records or not gallery_records:
        raise DataError("identity preservation needs generated and gallery records")
    size = size or model.config.size  # type: ignore[union-attr]
    qf = extract_features(model, [r.path for r in generated_records], size, batch_size, device, flip)
    gf = extract_features(model, [r.path for r in gallery_records], size, batch_size, device, flip)
    q_pids = np.array([r.pid for r in generated_records], dtype=np.int64)
    g_pids = np.array([r.pid for r in gallery_records], dtype=np.int64)
    g_names = np.array([r.name for r in gallery_records])
    sources = np.array([_source_name(r) or "" for r in generated_records])
    is_source = g_names[None, :] == sources[:, None]
    invalid = is_source | (g_pids[None, :] == -1)
    dist = distance_matrix(qf, gf, "cosine")
    scores = rank_scores(dist, q_pids, g_pids, invalid)

    cos = 1.0 - dist
    same = (q_pids[:, None] == g_pids[None, :]) & ~invalid
    other = (q_pids[:, None] != g_pids[None, :]) & (g_pids[None, :] > 0)
    has_same = same.any(1)
    cos_same = (cos * same).sum(1)[has_same] / same.sum(1)[has_same]
    cos_other = (cos * other).sum(1) / np.maximum(other.sum(1), 1)
    return {
        "rank1": scores.rank(1),
        "rank5": scores.rank(5),
        "mAP": scores.mAP,
        "cos_same": float(cos_same.mean()) if has_same.any() else float("nan"),
        "cos_other": float(cos_other.mean()),
        "num_query": len(generated_records),
        "num_skipped": scores.num_skipped,
    }
