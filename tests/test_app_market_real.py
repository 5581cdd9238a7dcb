"""End to end on 20 real Market-1501 images (skipped when ../shared/data is absent)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from app_fixtures import CopyDouble

from diaflow_core.data.market import torchreid_parse
from reid_augment.augment import AugmentConfig, run_augment
from reid_augment.manifest import read_manifest
from reid_augment.pose_backends import pose_backend_for
from reid_augment.targets import load_targets

pytestmark = pytest.mark.data


def test_twenty_market_images(market_root: Path, tmp_path: Path) -> None:
    backend = pose_backend_for("auto", sorted(market_root.glob("*annotation*.csv")))
    assert backend.name == "annotations"
    out = tmp_path / "out"
    config = AugmentConfig(source=market_root, out=out, per_image=3, originals="link", limit=20, flow_label="test")
    first = replace(config, originals="none")  # query/gallery are carried once, by the rerun
    with pytest.raises(RuntimeError):
        run_augment(first, CopyDouble(fail_on_call=3), backend, load_targets("bank"))
    summary = run_augment(config, CopyDouble(), backend, load_targets("bank"))
    rows = read_manifest(out / "manifest.csv")
    names = [r["generated"] for r in rows]
    assert len(names) == len(set(names)) == 60 - 3 * sum(summary.skipped.values())
    assert summary.done_before == 32 and summary.images_in == 20
    for row in rows:  # pid and camera survive torchreid's parse of the generated path
        pid, cam = torchreid_parse(out / row["generated"])
        assert (pid, cam) == (int(row["pid"]), int(row["camera"]))
        assert 1 <= cam <= 6 and 0 <= pid <= 1501
    for split in ("query", "bounding_box_test"):
        assert len(list((out / split).iterdir())) == len(list((market_root / split).iterdir()))
    assert len([p for p in (out / "bounding_box_train").iterdir() if "_g" not in p.name]) == 20
