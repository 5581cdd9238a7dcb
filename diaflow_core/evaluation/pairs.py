"""The Market-1501 pose-transfer test pairs that can be evaluated here.

Convention: the standard ``market-pairs-test.csv`` lists 12,000 ``from,to`` pairs of TEST images; a pair is
evaluated when both images are present in ``bounding_box_test/`` (``query/`` images are drawn from that
folder, so it adds none: 7,483 pairs on the shared subset). Keypoints come from
``market-annotation-test.csv``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from diaflow_core.data import MarketRoot, present_pairs, read_annotations, read_pairs
from diaflow_core.errors import DataError

__all__ = ["TestPairs", "load_test_pairs"]


@dataclass(frozen=True)
class TestPairs:
    """Evaluable pairs, how many the CSV lists, and the test keypoints."""

    pairs: tuple[tuple[str, str], ...]
    listed: int
    annotations: dict[str, np.ndarray]
    pairs_csv: str
    image_folder: str


def load_test_pairs(market_root: str | os.PathLike[str]) -> TestPairs:
    """Read the test pairs and annotations; keep pairs with both images and both poses present."""
    root = MarketRoot(market_root)
    folder = root.folder("test")
    if not folder.is_dir():
        raise DataError(f"{folder}: Market-1501 test folder not found")
    listed = read_pairs(root.pairs_csv())
    names = {r.name.name for r in root.images("test")}
    kept, _ = present_pairs(listed, names)
    annotations, _ = read_annotations(root.annotation_csv("test"), on_error="skip")
    kept = [(a, b) for a, b in kept if a in annotations and b in annotations]
    if not kept:
        raise DataError(f"{root.pairs_csv()}: no pair has both images in {folder} and both poses annotated")
    return TestPairs(tuple(kept), len(listed), annotations, str(root.pairs_csv()), str(folder))
