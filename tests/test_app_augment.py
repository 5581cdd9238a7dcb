"""The augment pipeline end to end on generated fixtures: names, layout, manifest, resume, no overwrite."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from app_fixtures import CopyDouble, make_crops, make_market_root, person_crop

from diaflow_core.data.market import TORCHREID_PATTERN, torchreid_parse
from diaflow_core.errors import DataError
from reid_augment.augment import SETTINGS_FILE, AugmentConfig, run_augment
from reid_augment.manifest import MANIFEST_COLUMNS, decode_pose, read_manifest
from reid_augment.pose_backends import AnnotationsBackend
from reid_augment.pose_bank import load_pose_bank, pose_view
from reid_augment.targets import pool_from_bank


def _run(src: Path, out: Path, transfer=None, **kw):
    csvs = sorted(src.glob("*annotation*.csv")) or sorted((src / "bounding_box_train").glob("*.csv"))
    backend = AnnotationsBackend.from_csv(csvs)
    config = AugmentConfig(source=src, out=out, flow_label="test", **kw)
    events = []
    summary = run_augment(config, transfer or CopyDouble(), backend, pool_from_bank(load_pose_bank()), events.append)
    return summary, events


def test_market_root_drop_in(tmp_path: Path) -> None:
    root = make_market_root(tmp_path / "market", n_train=6)
    out = tmp_path / "out"
    summary, events = _run(root, out, per_image=3, batch_size=4)
    assert summary.images_in == 6 and summary.generated == 18 and not summary.skipped
    train = sorted(p.name for p in (out / "bounding_box_train").iterdir())
    generated = [n for n in train if "_g" in n]
    assert len(generated) == 18 and len(train) == 24
    for name in generated:  # pid and camera as torchreid reads them equal the source's
        stem = name.rsplit("_g", 1)[0]
        assert torchreid_parse(out / "bounding_box_train" / name) == torchreid_parse(stem + ".jpg")
        assert TORCHREID_PATTERN.search(name)
    for split in ("query", "bounding_box_test"):
        assert sorted(p.name for p in (out / split).iterdir()) == sorted(p.name for p in (root / split).iterdir())
        assert all((out / split / p.name).read_bytes() == p.read_bytes() for p in (root / split).iterdir())
    rows = read_manifest(out / "manifest.csv")
    assert len(rows) == 18 and tuple(rows[0]) == MANIFEST_COLUMNS
    assert {r["flow"] for r in rows} == {"test"} and {r["weights_hash"] for r in rows} == {"test-double"}
    assert all(r["pose_origin"].startswith("bank:") for r in rows)
    kp = decode_pose(rows[0]["target_pose"])
    assert kp.shape == (18, 2) and np.isfinite(kp[1]).all()
    assert (out / "preview.png").stat().st_size > 0
    assert [e.stage for e in events if e.kind == "start"] == ["originals", "generate"]
    assert sum(e.advance for e in events if e.stage == "generate" and e.kind == "advance") == 18


def test_resume_after_interruption_no_duplicates(tmp_path: Path) -> None:
    src = tmp_path / "crops"
    make_crops(src, 10)
    out = tmp_path / "out"
    failing = CopyDouble(fail_on_call=3)  # batches 1 and 2 land, the third call dies
    with pytest.raises(RuntimeError, match="injected"):
        _run(src, out, failing, per_image=2, batch_size=4)
    first = read_manifest(out / "manifest.csv")
    assert len(first) == 8
    # Simulate a death between writing images and their manifest rows: drop the last 3 rows.
    lines = (out / "manifest.csv").read_text().splitlines(keepends=True)
    (out / "manifest.csv").write_text("".join(lines[:-3]) + lines[-3][:10])  # and a torn line
    kept = {r["generated"]: (out / r["generated"]).stat().st_mtime_ns for r in first}
    again = CopyDouble()
    summary, _ = _run(src, out, again, per_image=2, batch_size=4)
    assert summary.done_before == 5 and summary.recovered == 3 and summary.generated == 12
    assert again.images == 12  # recovered files were not regenerated
    rows = read_manifest(out / "manifest.csv")
    names = [r["generated"] for r in rows]
    assert len(names) == 20 and len(set(names)) == 20
    assert all((out / n).stat().st_mtime_ns == t for n, t in kept.items())
    # A third run has nothing left to do.
    third, _ = _run(src, out, CopyDouble(), per_image=2, batch_size=4)
    assert third.generated == 0 and third.done_before == 20 and len(read_manifest(out / "manifest.csv")) == 20


def test_never_overwrites_and_grows_with_per_image(tmp_path: Path) -> None:
    src = tmp_path / "crops"
    make_crops(src, 4)
    out = tmp_path / "out"
    squatter = out / "bounding_box_train" / "0001_c1s1_000000_01_g001.jpg"
    squatter.parent.mkdir(parents=True)
    squatter.write_bytes(b"not ours")
    original = out / "bounding_box_train" / "0002_c2s1_000001_01.jpg"
    original.write_bytes(b"user's file")
    summary, _ = _run(src, out, per_image=2)
    assert squatter.read_bytes() == b"not ours" and original.read_bytes() == b"user's file"
    assert summary.originals_present == 1 and summary.recovered == 1
    first = {r["generated"]: r["target_pose"] for r in read_manifest(out / "manifest.csv")}
    more, _ = _run(src, out, per_image=3)
    assert more.generated == 4 and more.done_before == 8
    rows = read_manifest(out / "manifest.csv")
    assert all(first[r["generated"]] == r["target_pose"] for r in rows if r["generated"] in first)


def test_identity_folders_and_per_id_layout(tmp_path: Path) -> None:
    src = tmp_path / "ids"
    make_crops(src / "alice", 2, csv=False)
    from shutil import copyfile

    (src / "bob").mkdir()
    copyfile(next((src / "alice").iterdir()), src / "bob" / "photo.jpg")
    out = tmp_path / "out"

    class KnownPose:  # TEST DOUBLE backend: no CSV here, every crop gets a drawn figure's pose
        name = "known"

        def estimate(self, images, names):
            return [person_crop(0, 0)[1] for _ in images]

    config = AugmentConfig(source=src, out=out, per_image=2, layout="per-id", flow_label="test")
    summary = run_augment(config, CopyDouble(), KnownPose(), pool_from_bank(load_pose_bank()))
    assert summary.generated == 6
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["alice", "bob"]
    alice = sorted(p.name for p in (out / "alice").iterdir())
    bob = sorted(p.name for p in (out / "bob").iterdir())
    # Non-numeric folders: pids 1, 2 in name order; names that do not carry that pid are renamed.
    assert alice == [
        "0001_c1s1_000000_01.jpg", "0001_c1s1_000000_01_g000.jpg", "0001_c1s1_000000_01_g001.jpg",
        "0001_c2s1_000000_00.jpg", "0001_c2s1_000000_00_g000.jpg", "0001_c2s1_000000_00_g001.jpg",
    ]  # fmt: skip
    assert bob[0] == "0002_c1s1_000000_00.jpg" and len(bob) == 3
    assert all(torchreid_parse(n)[0] == 2 for n in bob)


def test_bad_inputs_are_skipped_with_reasons(tmp_path: Path) -> None:
    src = tmp_path / "crops"
    make_crops(src, 4)
    (src / "0009_c1s1_000009_01.jpg").write_bytes(b"broken jpeg")
    (src / "holiday.jpg").write_bytes(b"x")
    (src / "-1_c1s1_000001_01.jpg").write_bytes(b"x")
    summary, events = _run(src, tmp_path / "out", per_image=1)
    assert summary.generated == 4
    assert summary.skipped["unreadable image"] == 1
    assert summary.skipped["junk or distractor id"] == 1
    assert any("not a Market-1501 name" in r for r in summary.skipped)
    assert any(e.kind == "skip" and e.path is not None and e.path.name == "holiday.jpg" for e in events)


def test_dataset_poses_exclude_own_identity(tmp_path: Path) -> None:
    src = tmp_path / "crops"
    make_crops(src, 6, ids=3)
    out = tmp_path / "out"
    config = AugmentConfig(source=src, out=out, per_image=2, flow_label="test")
    backend = AnnotationsBackend.from_csv([src / "market-annotation-train.csv"])
    summary = run_augment(config, CopyDouble(), backend, None)
    assert summary.generated == 12
    for row in read_manifest(out / "manifest.csv"):
        origin = row["pose_origin"]
        assert origin.startswith("dataset:") and not origin.split(":", 1)[1].startswith(f"{int(row['pid']):04d}_")


def test_views_same_keeps_the_source_view_class(tmp_path: Path) -> None:
    root = make_market_root(tmp_path / "market", n_train=6)
    backend = AnnotationsBackend.from_csv(sorted(root.glob("*annotation*.csv")))
    summary, _ = _run(root, tmp_path / "out", per_image=3, views="same", originals="none")
    assert summary.generated == 18
    for row in read_manifest(tmp_path / "out" / "manifest.csv"):
        source_view = pose_view(backend.poses[Path(row["source"]).name])
        assert row["pose_origin"].endswith("/" + source_view), (row["source"], row["pose_origin"])


def test_rerun_with_other_settings_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "crops"
    make_crops(src, 3)
    out = tmp_path / "out"
    _run(src, out, per_image=1, originals="none")
    recorded = json.loads((out / SETTINGS_FILE).read_text())
    assert recorded["views"] == "same" and recorded["seed"] == 0 and recorded["weights_hash"] == "test-double"
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    for change, field in (({"views": "any"}, "views"), ({"seed": 1}, "seed")):
        with pytest.raises(DataError, match=f"{SETTINGS_FILE}.*{field}"):
            _run(src, out, per_image=2, originals="none", **change)
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before  # nothing written
    summary, _ = _run(src, out, per_image=2, originals="none")  # the folder's own settings: it grows
    assert summary.generated == 3 and summary.done_before == 3


def test_config_validation(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="per-image"):
        AugmentConfig(source=tmp_path, out=tmp_path, per_image=0)
    with pytest.raises(DataError, match="--views"):
        AugmentConfig(source=tmp_path, out=tmp_path, views="sideways")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="source folder not found"):
        config = AugmentConfig(source=tmp_path / "absent", out=tmp_path / "out")
        run_augment(config, CopyDouble(), AnnotationsBackend({}), pool_from_bank(load_pose_bank()))


def test_manifest_is_valid_csv(tmp_path: Path) -> None:
    src = tmp_path / "crops"
    make_crops(src, 2)
    _run(src, tmp_path / "out", per_image=1)
    with (tmp_path / "out" / "manifest.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(MANIFEST_COLUMNS) and all(len(r) == len(MANIFEST_COLUMNS) for r in rows)
