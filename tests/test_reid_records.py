"""Re-ID records from Market names, folders and other modules' records; the validation split."""

from __future__ import annotations

from pathlib import Path

import pytest

from diaflow_core.data.market import MarketRecord, parse_market_name
from diaflow_core.errors import DataError
from diaflow_core.reid import (
    ReidRecord,
    as_records,
    folder_records,
    market_records,
    parse_pid_camera,
    trainable,
    validation_split,
)


def test_parse_pid_camera() -> None:
    assert parse_pid_camera("0002_c1s1_000451_03.jpg") == (2, 1)
    assert parse_pid_camera("/x/-1_c6s2_000001_00.jpg") == (-1, 6)
    with pytest.raises(DataError, match="holiday.jpg"):
        parse_pid_camera("holiday.jpg")


def test_folder_and_conversion(tmp_path: Path) -> None:
    for name in ("0003_c2s1_000001_00.jpg", "0000_c1s1_000002_00.jpg", "-1_c1s1_000003_00.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    recs = folder_records(tmp_path, source_of={"0003_c2s1_000001_00.jpg": "0003_c1s1_000009_00.jpg"})
    assert [(r.pid, r.camera) for r in recs] == [(-1, 1), (0, 1), (3, 2)]
    assert recs[2].source == "0003_c1s1_000009_00.jpg"
    assert [r.pid for r in trainable(recs)] == [3]
    market = MarketRecord(Path("/d/0007_c4s1_000001_00.jpg"), parse_market_name("0007_c4s1_000001_00.jpg"))
    assert as_records([market]) == [ReidRecord(Path("/d/0007_c4s1_000001_00.jpg"), 7, 4)]
    with pytest.raises(DataError):
        folder_records(tmp_path / "absent")


def test_validation_split_holds_out_whole_identities() -> None:
    recs = [
        ReidRecord(Path(f"{pid:04d}_c{cam}s1_{i:06d}_00.jpg"), pid, cam)
        for pid in range(1, 41)
        for cam in (1, 2, 3)
        for i in range(2)
    ]
    split = validation_split(recs, 0.25, seed=0)
    train_ids, val_ids = {r.pid for r in split.train}, {r.pid for r in split.gallery}
    assert val_ids and not train_ids & val_ids and len(split.train) + len(split.gallery) == len(recs)
    assert len(split.query) == 3 * len(val_ids)  # one per (identity, camera)
    assert validation_split(recs, 0.25, seed=0) == split
    assert validation_split(recs, 0.0).train == recs


@pytest.mark.data
def test_real_market_counts(market_root: Path) -> None:
    train = market_records(market_root, "train")
    gallery = [r for r in market_records(market_root, "test") if r.pid != -1]
    query = market_records(market_root, "query")
    # DESIGN.md section 6: what torchreid reads from this subset
    assert (len(train), len({r.pid for r in train})) == (9399, 730)
    assert (len(query), len({r.pid for r in query})) == (2912, 712)
    assert len(gallery) == 9860
