"""diaflow_core.data.market and .generic: Market-1501 names, folders, torchreid parsing, generic folders."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from diaflow_core.data import (
    MarketName,
    MarketRoot,
    parse_market_name,
    read_identity_folders,
    torchreid_parse,
)
from diaflow_core.errors import DataError


def test_parse_regular_name():
    n = parse_market_name("0002_c1s1_000451_03.jpg")
    assert n == MarketName(pid=2, camera=1, sequence=1, frame=451, box=3, name="0002_c1s1_000451_03.jpg")
    assert not n.is_junk and not n.is_distractor


def test_parse_junk_distractor_and_paths():
    junk = parse_market_name("-1_c1s1_000401_03.jpg")
    assert junk.pid == -1 and junk.is_junk and not junk.is_distractor and junk.frame == 401
    dis = parse_market_name(Path("/x/bounding_box_test/0000_c6s2_094618_02.jpg"))
    assert dis.pid == 0 and dis.is_distractor and dis.camera == 6 and dis.name == "0000_c6s2_094618_02.jpg"
    # a few official names carry a doubled extension
    assert parse_market_name("1488_c1s6_023021_02.jpg.jpg").pid == 1488


@pytest.mark.parametrize(
    "bad", ["0002_c1s1_000451.jpg", "abcd_c1s1_000451_03.jpg", "0002_c1s1_000451_03.txt", "0002c1s1_000451_03.jpg", ""]
)
def test_parse_malformed(bad):
    with pytest.raises(DataError, match="not a Market-1501 name"):
        parse_market_name(bad)


def test_torchreid_parse_known_values():
    assert torchreid_parse("/data/market/bounding_box_train/0002_c1s1_000451_03.jpg") == (2, 1)
    assert torchreid_parse("-1_c3s1_000401_03.jpg") == (-1, 3)
    with pytest.raises(DataError, match="torchreid"):
        torchreid_parse("/data/person7/img.jpg")


def _touch_image(path: Path, value: int = 100) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.full((8, 4, 3), value, np.uint8)
    assert cv2.imwrite(str(path), img)


def test_market_root_images(tmp_path: Path):
    names = ["0003_c2s1_000100_01.jpg", "-1_c1s1_000001_01.jpg", "0000_c1s1_000002_01.jpg", "0001_c1s1_000003_01.jpg"]
    for n in names:
        _touch_image(tmp_path / "bounding_box_test" / n)
    (tmp_path / "bounding_box_test" / "Thumbs.db").write_text("x")
    root = MarketRoot(tmp_path)
    recs = root.images("test")
    assert [r.name.name for r in recs] == sorted(names)
    assert [r.name.pid for r in recs] == [-1, 0, 1, 3]
    assert recs[0].path == tmp_path / "bounding_box_test" / recs[0].name.name
    assert root.annotation_csv("query").name == "market-annotation-test.csv"
    with pytest.raises(DataError, match="bounding_box_train"):
        root.images("train")
    with pytest.raises(DataError, match="unknown Market split"):
        root.images("gallery")


def test_market_root_missing_and_bad_name(tmp_path: Path):
    with pytest.raises(DataError, match="root not found"):
        MarketRoot(tmp_path / "nope")
    _touch_image(tmp_path / "query" / "person.jpg")
    with pytest.raises(DataError, match="person.jpg"):
        MarketRoot(tmp_path).images("query")


def test_generic_folders(tmp_path: Path):
    _touch_image(tmp_path / "12" / "0012_c4s1_000001_00.jpg")
    _touch_image(tmp_path / "12" / "b.png")
    _touch_image(tmp_path / "7" / "a.jpg")
    (tmp_path / "7" / "notes.txt").write_text("x")
    recs = read_identity_folders(tmp_path)
    assert [(r.identity, r.pid, r.camera, r.path.name) for r in recs] == [
        ("12", 12, 4, "0012_c4s1_000001_00.jpg"),
        ("12", 12, -1, "b.png"),
        ("7", 7, -1, "a.jpg"),
    ]


def test_generic_named_folders_and_errors(tmp_path: Path):
    _touch_image(tmp_path / "bob" / "1.jpg")
    _touch_image(tmp_path / "alice" / "1.jpg")
    recs = read_identity_folders(tmp_path)
    assert [(r.identity, r.pid) for r in recs] == [("alice", 0), ("bob", 1)]
    empty = tmp_path / "empty"
    (empty / "x").mkdir(parents=True)
    with pytest.raises(DataError, match="no images"):
        read_identity_folders(empty)
    with pytest.raises(DataError, match="not found"):
        read_identity_folders(tmp_path / "missing")
