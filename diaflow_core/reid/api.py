"""High-level entry points: evaluate trained weights on a Market-1501 root."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..errors import DataError
from .evaluate import market_scores
from .features import extract_features
from .records import market_records
from .weights import load_reid_model


def evaluate_reid(
    weights: str | Path,
    market_root: str | Path,
    device: str | torch.device = "cpu",
    batch_size: int = 128,
    flip: bool = True,
    metric: str = "cosine",
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """``query/`` against ``bounding_box_test/`` under the Market-1501 protocol.

    Junk gallery images (pid -1) are not even embedded: the protocol never counts them. Returns
    rank1 / rank5 / rank10 / mAP (fractions in [0, 1]) and the query / gallery / skipped counts.
    """
    model = load_reid_model(weights, device)
    size = model.config.size
    query = market_records(market_root, "query")
    gallery = [r for r in market_records(market_root, "test") if r.pid != -1]
    if not query or not gallery:
        raise DataError(f"{market_root}: empty query or gallery")
    qf = extract_features(model, [r.path for r in query], size, batch_size, device, flip, progress)
    gf = extract_features(model, [r.path for r in gallery], size, batch_size, device, flip, progress)
    s = market_scores(
        qf,
        [r.pid for r in query],
        [r.camera for r in query],
        gf,
        [r.pid for r in gallery],
        [r.camera for r in gallery],
        metric=metric,
    )
    return {
        "rank1": s.rank(1),
        "rank5": s.rank(5),
        "rank10": s.rank(10),
        "mAP": s.mAP,
        "num_query": len(query),
        "num_gallery": len(gallery),
        "num_valid_query": s.num_valid,
        "num_skipped_query": s.num_skipped,
        "flip": flip,
        "metric": metric,
        "weights": str(weights),
    }
