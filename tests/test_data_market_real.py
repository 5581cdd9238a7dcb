"""The real Market-1501 subset in ../shared/data (skipped when absent): counts, names, annotations, pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from diaflow_core.data import (
    MarketRoot,
    PoseTransferPairs,
    parse_market_name,
    present_pairs,
    read_annotations,
    read_pairs,
    torchreid_parse,
)
from diaflow_core.pose import body_mask

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def market(market_root: Path) -> MarketRoot:
    return MarketRoot(market_root)


@pytest.fixture(scope="module")
def annotations(market: MarketRoot) -> dict[str, dict[str, np.ndarray]]:
    out = {}
    for split in ("train", "test"):
        poses, report = read_annotations(market.annotation_csv(split), on_error="raise")
        assert report.skipped == 0
        out[split] = poses
    assert (len(out["train"]), len(out["test"])) == (12_936, 19_732)
    return out


def test_counts(market: MarketRoot):
    train = market.images("train")
    assert len(train) == 9_399
    assert len({r.name.pid for r in train}) == 730
    assert len(market.images("test")) == 11_345
    assert len(market.images("query")) == 2_912


@pytest.mark.parametrize("split", ["train", "test"])
def test_every_image_annotated(market: MarketRoot, annotations, split: str):
    names = [r.name.name for r in market.images(split)]
    missing = [n for n in names if n not in annotations[split]]
    assert missing == []


@pytest.mark.parametrize("split", ["train", "test", "query"])
def test_names_torchreid_compatible(market: MarketRoot, split: str):
    for r in market.images(split):
        pid, cam = torchreid_parse(r.path)
        assert (pid, cam) == (r.name.pid, r.name.camera)
        assert 1 <= cam <= 6
        assert pid == -1 or 0 <= pid <= 1501
        if split != "test":
            assert pid > 0  # no junk or distractors outside the gallery


def test_test_pairs_present(market: MarketRoot):
    pairs = read_pairs(market.pairs_csv())
    assert len(pairs) == 12_000
    kept, skipped = present_pairs(pairs, {r.name.name for r in market.images("test")})
    assert (len(kept), skipped) == (7_483, 4_517)
    assert all(parse_market_name(a).pid == parse_market_name(b).pid for a, b in kept)


def test_pair_datasets_on_real_data(market: MarketRoot, annotations):
    test = PoseTransferPairs(market, annotations["test"], split="test")
    assert len(test) == 7_483
    train = PoseTransferPairs(market, annotations["train"], split="train")
    val = PoseTransferPairs(market, annotations["train"], split="val")
    assert not {n[:4] for n in train.names} & {n[:4] for n in val.names}
    for ds in (test, train, val):
        s = ds[0]
        assert s["src"].shape == (3, 128, 64) and -1 <= float(s["src"].min()) < float(s["src"].max()) <= 1
        kp = s["tgt_kp"].numpy()
        ok = ~np.isnan(kp).any(axis=1)
        assert ((kp[ok] >= -1) & (kp[ok] <= [64, 128])).all()  # in the crop's pixel frame, (x, y) order
        assert body_mask(kp).mean() > 0.1
