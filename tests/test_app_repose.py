"""``reid-augment repose``: tracklets through a driving pose sequence, their files, manifest, resume."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest
from app_fixtures import CopyDouble, make_crops, person_crop
from typer.testing import CliRunner

from diaflow_core.data.market import TORCHREID_PATTERN, parse_market_name
from diaflow_core.errors import DataError
from reid_augment.cli.app import app
from reid_augment.manifest import decode_pose
from reid_augment.pose_backends import AnnotationsBackend
from reid_augment.repose import ReposeConfig, pick_source, run_repose
from reid_augment.sources import SourceImage


def _driving(n: int = 5) -> list[tuple[int, np.ndarray]]:
    return [(2 * i, person_crop(i, 0)[1]) for i in range(n)]  # every other frame of a clip


def test_pick_source_prefers_complete_then_taller_poses() -> None:
    kp = person_crop(0, 0)[1]
    partial = kp.copy()
    partial[[10, 13]] = np.nan
    taller = kp.copy()
    taller[:, 1] = (kp[:, 1] - kp[1, 1]) * 1.2 + kp[1, 1]
    img = SourceImage(Path("a.jpg"), 1, 1, "0001", "a")
    assert pick_source([(img, partial), (img, kp)]) == 1
    assert pick_source([(img, kp), (img, taller)]) == 1
    with pytest.raises(DataError):
        pick_source([])


def test_run_repose_writes_tracklets_manifest_video_and_resumes(tmp_path: Path) -> None:
    src = tmp_path / "crops"
    poses = make_crops(src, 6, ids=3)
    poses_backend = AnnotationsBackend(poses)
    out = tmp_path / "out"
    transfer = CopyDouble()
    cfg = ReposeConfig(out=out, ids=(1, 3, 7), batch_size=2)
    s = run_repose(src, cfg, transfer, poses_backend, _driving(), "walk.mp4")
    assert s.identities == 2 and s.frames_written == 10 and transfer.images == 10
    assert s.skipped == [("identity 7", f"not in {src}")]
    for pid in (1, 3):
        files = sorted((out / f"{pid:04d}").iterdir())
        names = [parse_market_name(f.name) for f in files]
        assert [n.frame for n in names] == [0, 2, 4, 6, 8] and {(n.pid, n.sequence) for n in names} == {(pid, 9)}
        assert all(TORCHREID_PATTERN.search(f.name) for f in files)
        cap = cv2.VideoCapture(str(out / f"{pid:04d}.mp4"))
        count = 0
        while cap.read()[0]:
            count += 1
        cap.release()
        assert count == 5
    with (out / "manifest.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 10 and {r["driving"] for r in rows} == {"walk.mp4"}
    assert {r["weights_hash"] for r in rows} == {"test-double"}
    # targets are the driving poses fitted to the source person: same ground line as the source pose
    row = rows[0]
    tgt, src_kp = decode_pose(row["target_pose"]), poses[Path(row["source"]).name]
    assert abs(np.nanmax(tgt[:, 1]) - np.nanmax(src_kp[:, 1])) < 3.0

    # rerun: everything on disk, nothing transferred again, the manifest is not doubled
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.jpg")}
    again = run_repose(src, cfg, CopyDouble(), poses_backend, _driving(), "walk.mp4")
    assert again.identities == 0 and again.identities_done_before == 2
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.jpg")} == before
    # one frame lost: the identity is redone, the other frames kept, one written
    lost = out / "0001" / "0001_c1s9_000004_00.jpg"
    lost.unlink()
    redo = run_repose(src, cfg, CopyDouble(), poses_backend, _driving(), "walk.mp4")
    assert redo.identities == 1 and redo.frames_written == 1 and lost.is_file()
    assert len((out / "manifest.csv").read_text().splitlines()) == 11


def test_repose_max_ids_counts_only_identities_with_a_pose(tmp_path: Path) -> None:
    src = tmp_path / "crops"
    poses = make_crops(src, 6, ids=3)
    known = {k: v for k, v in poses.items() if not k.startswith("0001_")}  # identity 1 has no pose
    s = run_repose(src, ReposeConfig(out=tmp_path / "o", max_ids=1, video=False), CopyDouble(),
                   AnnotationsBackend(known), _driving(2), "d")  # fmt: skip
    assert s.identities == 1 and (tmp_path / "o" / "0002").is_dir() and not (tmp_path / "o" / "0002.mp4").exists()
    assert s.skipped[0][0] == "identity 1" and "no crop with a usable pose" in s.skipped[0][1]
    with pytest.raises(DataError, match="no driving pose"):
        run_repose(src, ReposeConfig(out=tmp_path / "p"), CopyDouble(), AnnotationsBackend(known), [], "d")


def test_cli_repose_with_a_pose_file_and_analytic_flow(tmp_path: Path) -> None:
    src = tmp_path / "crops"
    make_crops(src, 4, ids=2)
    driving = tmp_path / "poses.npy"
    np.save(driving, np.stack([kp for _, kp in _driving(3)]))
    out = tmp_path / "out"
    args = ["repose", str(src), "--driving", str(driving), "--out", str(out), "--flow", "analytic"]
    result = CliRunner().invoke(app, [*args, "--device", "cpu", "--no-video", "--id", "2"])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (out / "0002").iterdir())
    assert files == [f"0002_c2s9_{i:06d}_00.jpg" for i in range(3)] and not (out / "0001").exists()
