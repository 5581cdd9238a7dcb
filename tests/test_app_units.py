"""Small pieces of reid_augment: fitting, the pose bank, target picks, manifest, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from app_fixtures import person_crop

from diaflow_core.data.annotations import write_annotations
from diaflow_core.errors import DataError
from diaflow_core.pose import FLIP_PERMUTATION18, flip_pose, pose_ground_y, pose_leg_length, pose_torso_length
from reid_augment.fit import canonical_pose, fit_pose, keep_inside, usable_pose
from reid_augment.fsio import carry_file, publish_bytes
from reid_augment.manifest import ManifestWriter, decode_pose, encode_pose, read_manifest
from reid_augment.pose_bank import VIEWS, build_pose_bank, load_pose_bank, pose_view, save_pose_bank
from reid_augment.targets import TargetPool, TargetPose, load_pose_file, pool_from_bank


def _pose(i: int) -> np.ndarray:
    return person_crop(i, 0)[1]


def test_fit_keeps_source_body_and_ground() -> None:
    src = _pose(0)
    tgt = canonical_pose(_pose(5), (256, 128)) * 0.5 + np.array([3.0, -10.0], np.float32)
    fitted = fit_pose(tgt, src)
    assert pose_torso_length(fitted) == pytest.approx(pose_torso_length(src), rel=1e-4)
    ratio = pose_leg_length(fitted) / pose_leg_length(src)
    assert 0.8 <= ratio <= 1.25
    assert pose_ground_y(fitted) == pytest.approx(pose_ground_y(src), abs=1e-3)
    with pytest.raises(DataError, match="target pose incomplete"):
        fit_pose(np.full((18, 2), np.nan, np.float32), src)


def test_fit_long_legged_source_gets_long_legs() -> None:
    tgt = _pose(3)
    src = tgt.copy()
    hip = np.nanmean(src[[8, 11]], axis=0)
    src[[9, 10, 12, 13]] = hip + (src[[9, 10, 12, 13]] - hip) * 1.15  # same torso, 15% longer legs
    fitted = fit_pose(tgt, src)
    assert pose_leg_length(fitted) == pytest.approx(pose_leg_length(src), rel=1e-4)
    assert pose_leg_length(fitted) / pose_leg_length(tgt) > 1.1


def test_keep_inside_brings_head_into_frame() -> None:
    kp = _pose(1).copy()
    kp[:, 1] -= 15  # head above the top edge
    inside = keep_inside(kp, (128, 64))
    assert np.nanmin(inside[:, 1]) >= 2.0 - 1e-3 or np.nanmin(inside[:, 1]) > np.nanmin(kp[:, 1])
    assert np.nanmax(inside[:, 1]) == pytest.approx(np.nanmax(kp[:, 1]), abs=1e-3)
    ok = _pose(1)
    assert np.allclose(keep_inside(ok, (128, 64)), ok, equal_nan=True)


def test_pose_view_and_flip() -> None:
    bank = load_pose_bank()
    front = bank.poses[bank.views.index("front")]
    assert pose_view(front) == "front"
    assert pose_view(flip_pose(front, 64)) == "front"  # a mirrored person still faces the camera
    assert pose_view(front[list(FLIP_PERMUTATION18)]) == "back"  # left/right labels swapped in place: seen from behind
    assert usable_pose(np.full((18, 2), np.nan)) is not None


def test_shipped_bank_covers_views_and_roundtrips(tmp_path: Path) -> None:
    bank = load_pose_bank()
    assert 30 <= len(bank) <= 64 and set(bank.views) == set(VIEWS)
    assert bank.size == (128, 64) and bank.poses.dtype == np.float32
    save_pose_bank(bank, tmp_path / "b.npz")
    again = load_pose_bank(tmp_path / "b.npz")
    assert again.views == bank.views and np.array_equal(again.poses, bank.poses, equal_nan=True)
    with pytest.raises(DataError, match="not a pose bank"):
        (tmp_path / "bad.npz").write_bytes(b"nope")
        load_pose_bank(tmp_path / "bad.npz")


def test_build_bank_keeps_every_view() -> None:
    bank = load_pose_bank()
    rng = np.random.default_rng(0)
    poses = []
    for i in range(len(bank)):
        for _ in range(40 if bank.views[i] != "side" else 4):  # side views rare
            poses.append(bank.poses[i] + rng.normal(0, 0.8, (18, 2)).astype(np.float32))
    built = build_pose_bank(poses, clusters=12, min_per_view=2, min_cluster=2)
    assert set(built.views) == set(VIEWS) and len(built) <= 12
    assert np.isfinite(built.poses[:, 1]).all()  # medoids have a neck


def test_pick_is_deterministic_prefix_stable_and_excludes_pid() -> None:
    pool = pool_from_bank(load_pose_bank())
    a = [t.origin for t in pool.pick("0001_c1s1_000001_00", 6, seed=3)]
    assert a == [t.origin for t in pool.pick("0001_c1s1_000001_00", 6, seed=3)]
    assert a[:4] == [t.origin for t in pool.pick("0001_c1s1_000001_00", 4, seed=3)]
    assert len(set(a)) == 6 and a != [t.origin for t in pool.pick("0001_c1s1_000001_00", 6, seed=4)]
    assert len({t.view for t in pool.pick("x", 3, seed=0)}) == 3  # one of each view first
    own = TargetPool([TargetPose(_pose(i), f"p{i}", None, pid=1 + i % 2) for i in range(6)], "test")
    assert all(t.pid == 2 for t in own.pick("x", 5, 0, exclude_pid=1))


def test_pick_view_policies() -> None:
    pool = pool_from_bank(load_pose_bank())
    stems = [f"0001_c1s1_{i:06d}_00" for i in range(20)]
    for view in VIEWS:
        same = [t.view for s in stems for t in pool.pick(s, 3, 0, source_view=view, views="same")]
        other = [t.view for s in stems for t in pool.pick(s, 3, 0, source_view=view, views="other")]
        assert set(same) == {view}
        assert set(other) == set(VIEWS) - {view}  # both other classes, taken in turn
    # "any" ignores the source's view and stays what it was (reruns of older runs pick the same poses).
    for s in stems[:5]:
        plain = [t.origin for t in pool.pick(s, 4, 1)]
        assert plain == [t.origin for t in pool.pick(s, 4, 1, source_view="back", views="any")]
    # prefix-stable within a policy; an unknown source view means every class
    a = [t.origin for t in pool.pick("x", 6, 2, source_view="front", views="same")]
    assert a[:3] == [t.origin for t in pool.pick("x", 3, 2, source_view="front", views="same")]
    assert len({t.view for t in pool.pick("x", 3, 0, source_view=None, views="same")}) == 3
    # a pool without the asked-for class falls back to what it has; repeats stay inside the class
    fronts = TargetPool([TargetPose(_pose(i), f"f{i}", "front") for i in range(2)], "fronts")
    assert {t.view for t in fronts.pick("x", 3, 0, source_view="back", views="same")} == {"front"}
    mixed = TargetPool([TargetPose(_pose(i), f"p{i}", ("front", "back")[i % 2]) for i in range(4)], "mixed")
    picked = mixed.pick("x", 5, 0, source_view="back", views="same")
    assert {t.view for t in picked} == {"back"} and len({t.origin for t in picked[:2]}) == 2
    with pytest.raises(DataError, match="view policy"):
        pool.pick("x", 1, 0, views="sideways")  # type: ignore[arg-type]


def test_pose_files(tmp_path: Path) -> None:
    poses = np.stack([_pose(i) for i in range(3)])
    np.save(tmp_path / "p.npy", poses)
    assert len(load_pose_file(tmp_path / "p.npy")) == 3
    (tmp_path / "p.json").write_text(
        json.dumps([[None if np.isnan(j).any() else j.tolist() for j in p] for p in poses])
    )
    assert load_pose_file(tmp_path / "p.json").entries[0].origin == "file:p.json#0"
    write_annotations(tmp_path / "k.csv", {f"000{i}_c1s1_000001_00.jpg": p for i, p in enumerate(poses, 1)})
    assert {t.pid for t in load_pose_file(tmp_path / "k.csv").entries} == {1, 2, 3}
    np.save(tmp_path / "bad.npy", np.zeros((3, 17, 2)))
    with pytest.raises(DataError, match="expected poses of shape"):
        load_pose_file(tmp_path / "bad.npy")


def test_manifest_roundtrip_and_torn_line(tmp_path: Path) -> None:
    kp = _pose(0)
    assert np.allclose(decode_pose(encode_pose(kp)), kp, atol=0.05, equal_nan=True)
    path = tmp_path / "manifest.csv"
    row = dict.fromkeys(
        ("generated", "source", "pid", "camera", "index", "target_pose", "pose_origin", "source_pose_backend",
         "flow", "weights_hash", "seed"), "x",
    )  # fmt: skip
    with ManifestWriter(path) as w:
        w.append([{**row, "generated": "a"}, {**row, "generated": "b"}])
    with path.open("a") as f:
        f.write("c,half a row")
    assert [r["generated"] for r in read_manifest(path)] == ["a", "b"]
    with ManifestWriter(path) as w:
        w.append([{**row, "generated": "d"}])
    assert [r["generated"] for r in read_manifest(path)] == ["a", "b", "d"]
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="not a reid-augment manifest"):
        read_manifest(tmp_path / "other.csv")


def test_publish_and_carry_never_overwrite(tmp_path: Path) -> None:
    dest = tmp_path / "d" / "x.jpg"
    assert publish_bytes(dest, b"one") and not publish_bytes(dest, b"two")
    assert dest.read_bytes() == b"one" and not list(dest.parent.glob(".*"))
    src = tmp_path / "src.jpg"
    src.write_bytes(b"data")
    assert carry_file(src, tmp_path / "c" / "copy.jpg", "copy")
    assert carry_file(src, tmp_path / "c" / "link.jpg", "link")
    assert not carry_file(src, tmp_path / "c" / "none.jpg", "none")
    assert not carry_file(tmp_path / "d" / "x.jpg", tmp_path / "c" / "copy.jpg", "copy")
    assert (tmp_path / "c" / "copy.jpg").read_bytes() == b"data" == (tmp_path / "c" / "link.jpg").read_bytes()
    assert not (tmp_path / "c" / "none.jpg").exists()
