"""``reid-augment prepare``: tracking, clip discovery, the Market framing, the end-to-end run and its resume."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from app_fixtures import person_crop
from typer.testing import CliRunner

from diaflow_core.data.annotations import read_annotations
from diaflow_core.data.market import TORCHREID_PATTERN, parse_market_name
from diaflow_core.errors import ConfigError, DataError
from reid_augment.cli.app import app
from reid_augment.clips import discover_clips
from reid_augment.detect import Detection
from reid_augment.fit import canonical_pose
from reid_augment.prepare import PrepareConfig, market_frame, run_prepare
from reid_augment.sources import discover_sources
from reid_augment.track import IouTracker, color_signature, even_subset

SHARED = Path(os.environ.get("DIAFLOW_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))


def _box(x: float, y: float = 0.0, w: float = 20.0, h: float = 40.0) -> Detection:
    return Detection((x, y, x + w, y + h), 1.0)


def test_even_subset() -> None:
    assert even_subset(5, 10) == [0, 1, 2, 3, 4]
    assert even_subset(10, 3) == [0, 4, 9] or even_subset(10, 3) == [0, 5, 9]
    assert even_subset(0, 3) == [] and even_subset(4, 0) == []
    picked = even_subset(100, 16)
    assert len(picked) == 16 and picked[0] == 0 and picked[-1] == 99


def test_tracker_links_moving_boxes_and_ends_after_a_gap() -> None:
    tracker: IouTracker[int] = IouTracker(iou=0.3, max_gap=1, keep=4)
    ended = []
    for f in range(6):  # one box moving 4 px a frame, another still
        ended += tracker.update(f, [_box(4 * f), _box(200)], [f, 100 + f])
    ended += tracker.update(6, [_box(200)], [106])  # the mover is missed once: still alive
    assert ended == []
    ended += tracker.update(7, [_box(200)], [107])  # missed twice > max_gap: it ends
    assert [t.length for t in ended] == [6] and ended[0].first_frame == 0 and ended[0].last_frame == 5
    rest = tracker.finish()
    assert len(rest) == 1 and rest[0].length == 8 and rest[0].tid != ended[0].tid
    # thinning: 8 matches with keep=4 -> samples evenly strided, never more than 2 * keep
    assert len(rest[0].samples) <= 8 and [p for _, _, p in rest[0].samples][0] == 100


def test_tracker_thinning_keeps_even_samples() -> None:
    tracker: IouTracker[int] = IouTracker(keep=3)
    for f in range(20):
        tracker.update(f, [_box(f)], [f])
    (t,) = tracker.finish()
    kept = [p for _, _, p in t.samples]
    assert t.length == 20 and len(kept) < 6 and kept[0] == 0
    assert len(set(np.diff(kept).tolist())) == 1  # one stride


def test_tracker_appearance_gate_keeps_identities_when_people_cross() -> None:
    red, blue = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)

    def run(looks: bool) -> dict[int, list[int]]:
        tracker: IouTracker[int] = IouTracker(iou=0.2, max_gap=0, min_similarity=0.5)
        # red walks right, blue walks left; at frame 2 they meet and the boxes overlap most with the swap
        xs_red, xs_blue = [0, 8, 14, 20], [28, 20, 12, 8]
        for f in range(4):
            tracker.update(f, [_box(xs_red[f]), _box(xs_blue[f])], [0, 1], np.stack([red, blue]) if looks else None)
        return {t.tid: [p for _, _, p in t.samples] for t in tracker.finish()}

    gated = run(True)
    assert sorted(gated.values()) == [[0, 0, 0, 0], [1, 1, 1, 1]]  # each track sees one colour
    overlap_only = run(False)
    assert any(len(set(v)) > 1 for v in overlap_only.values())  # IoU alone swaps them


def test_tracker_rejects_bad_settings() -> None:
    with pytest.raises(ConfigError):
        IouTracker(iou=0.0)
    with pytest.raises(ConfigError):
        IouTracker(min_similarity=2.0)
    with pytest.raises(ValueError, match="one payload"):
        IouTracker().update(0, [_box(0)], [])


def test_color_signature() -> None:
    red = np.zeros((64, 32, 3), np.uint8)
    red[..., 0] = 220
    blue = np.zeros_like(red)
    blue[..., 2] = 220
    a, b = color_signature(red), color_signature(blue)
    assert abs(float(np.linalg.norm(a)) - 1) < 1e-5 and float(a @ color_signature(red.copy())) > 0.999
    assert float(a @ b) < 0.1


def test_market_frame() -> None:
    kp = canonical_pose(person_crop(0, 0)[1], (128, 64))  # joints span 0.84 H, lowest at 0.95 H
    x0, y0, x1, y1 = market_frame(kp, (128, 64))
    assert abs(y0) < 1.0 and abs(y1 - 128) < 1.0 and abs((x1 - x0) - 64) < 1.0
    legless = kp.copy()
    legless[[10, 13]] = np.nan
    assert market_frame(legless, (128, 64)) is None


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_discover_clips(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    for name in ("c1s1_000010.jpg", "c1s1_000005.jpg", "c3s1_000007.jpg"):
        _touch(frames / name)
    plain = tmp_path / "plain"
    for name in ("b.png", "a.png"):
        _touch(plain / name)
    video = _touch(tmp_path / "cam.mp4")
    (tmp_path / "empty").mkdir()
    clips, refused = discover_clips(
        [frames, plain, video, tmp_path / "missing.mp4", _touch(tmp_path / "notes.txt"), tmp_path / "empty"]
    )
    got = {c.label: (c.camera, c.sequence, c.kind, [n for n, _ in c.frames]) for c in clips}
    assert got == {
        "frames/c1s1": (1, 1, "frames", [5, 10]),  # grouped by camera, frame numbers from the names
        "frames/c3s1": (3, 1, "frames", [7]),
        "plain": (2, 1, "frames", [0, 1]),  # second input -> camera 2, name order
        "cam.mp4": (3, 1, "video", []),
    }
    assert [why for _, why in refused] == ["not found", refused[1][1], "no frames (images) in this folder"]
    assert "neither a video" in refused[1][1]
    clips, _ = discover_clips([plain, video], cameras=[5, 6])
    assert [c.camera for c in clips] == [5, 6]
    with pytest.raises(ConfigError, match="once per input"):
        discover_clips([plain, video], cameras=[5])
    with pytest.raises(ConfigError, match="1..9"):
        discover_clips([plain], cameras=[12])


# ---- end to end on a drawn clip ------------------------------------------------------------------------------


def _write_clip(path: Path, frames: int = 10) -> list[list[Detection]]:
    """Two drawn people (one walking right, one standing) and a passer-by seen twice; returns the true boxes."""
    a, b, c = person_crop(0, 1)[0], person_crop(3, 2)[0], person_crop(5, 3)[0]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 200))
    truth = []
    for f in range(frames):
        frame = np.full((200, 320, 3), 120, np.uint8)
        boxes = []
        for img, x, seen in ((a, 20 + 5 * f, True), (b, 220, True), (c, 140, f in (3, 4))):
            if seen:
                frame[40:168, x : x + 64] = img
                boxes.append(Detection((x + 8.0, 44.0, x + 56.0, 166.0), 1.0))
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        truth.append(boxes)
    writer.release()
    return truth


class ScriptedDetector:
    """TEST DOUBLE: returns the clip's true boxes, frame after frame."""

    name = "scripted"

    def __init__(self, boxes: list[list[Detection]]) -> None:
        self.boxes = boxes
        self.calls = 0

    def detect(self, frame: np.ndarray) -> list[Detection]:
        out = self.boxes[self.calls % len(self.boxes)]
        self.calls += 1
        return list(out)


class MiddlePose:
    """TEST DOUBLE backend: a standing pose over the middle two thirds of the crop, where ``prepare`` puts the
    detector's box (margin 0.25 on each side), so the Market reframing agrees with the box."""

    name = "middle"

    def estimate(self, images, names):
        out = []
        for im in images:
            h, w = im.shape[:2]
            kp = canonical_pose(person_crop(0, 0)[1], (round(h / 1.5), round(w / 1.5)))
            out.append(kp + np.array([w / 6, h / 6], np.float32))
        return out


def test_run_prepare_end_to_end_resume_and_bad_clip(tmp_path: Path) -> None:
    clip = tmp_path / "cam.avi"
    truth = _write_clip(clip)
    broken = _touch(tmp_path / "broken.mp4", b"not a video at all")
    out = tmp_path / "root"
    cfg = PrepareConfig(out=out, min_height=50, min_track=3, per_track=4)
    s = run_prepare([broken, clip], cfg, ScriptedDetector(truth), MiddlePose())
    assert s.clips_done == 1 and [w for w, _ in s.failed] == ["broken.mp4"] and "cannot" in s.failed[0][1]
    assert s.frames == 10 and s.tracks == 3 and s.short_tracks == 1 and s.identities == 2
    files = sorted(p.name for p in (out / "bounding_box_train").iterdir())
    assert len(files) == 8 == s.crops and s.with_pose == 8 and s.reframed == 8
    names = [parse_market_name(f) for f in files]
    assert {(n.pid, n.camera) for n in names} == {(1, 2), (2, 2)}  # second input -> camera 2
    assert all(TORCHREID_PATTERN.search(f) for f in files)
    # pid 1 = the walker (box index 1, left of the standing one), frames spread over the track: its 10 matches
    # were thinned to every other one (keep 4 -> at most 8 held), then 4 of those 5 picked evenly
    assert [(n.frame, n.box) for n in names if n.pid == 1] == [(0, 1), (2, 1), (6, 1), (8, 1)]
    poses, report = read_annotations(out / "market-annotation-train.csv")
    assert sorted(poses) == files and report.skipped == 0
    for kp in poses.values():
        assert np.nanmin(kp) >= -1 and np.nanmax(kp[:, 0]) <= 64 and np.nanmax(kp[:, 1]) <= 128
    img = cv2.imread(str(out / "bounding_box_train" / files[0]))
    assert img.shape == (128, 64, 3)
    state = json.loads((out / "prepare.json").read_text())
    assert state["next_pid"] == 3 and len(state["clips"]) == 1
    rows = (out / "tracks.csv").read_text().splitlines()
    assert len(rows) == 9 and rows[1].split(",")[-1] == "ok"
    found = discover_sources(out)  # what `augment OUT` reads: a Market root with its keypoint CSV
    assert (
        found.kind == "market"
        and len(found.images) == 8
        and [c.name for c in found.annotation_csvs] == ["market-annotation-train.csv"]
    )

    # rerun: the clip is done, nothing is rewritten
    stamps = {f: (out / "bounding_box_train" / f).stat().st_mtime_ns for f in files}
    events = []
    again = run_prepare([clip], cfg, ScriptedDetector(truth), MiddlePose(), on_event=events.append)
    assert again.clips_skipped == 1 and again.crops == 0
    assert [e.kind for e in events] == ["clip_skipped"]  # same settings: no note
    notes = []
    run_prepare([clip], replace(cfg, per_track=5), ScriptedDetector(truth), MiddlePose(), on_event=notes.append)
    assert [e.kind for e in notes] == ["note", "clip_skipped"]
    # an interrupted clip (crops written, state not) is redone into the same names, keeping the files
    (out / "prepare.json").unlink()
    redo = run_prepare([clip], cfg, ScriptedDetector(truth), MiddlePose(), cameras=[2])
    assert redo.clips_done == 1 and redo.crops == 0 and redo.crops_kept == 8
    assert {f: (out / "bounding_box_train" / f).stat().st_mtime_ns for f in files} == stamps
    assert len((out / "tracks.csv").read_text().splitlines()) == 9  # rows replaced, not doubled


class FailingDetector(ScriptedDetector):
    """TEST DOUBLE: the standing person leaves after frame 5; the detector breaks at frame 8."""

    def detect(self, frame: np.ndarray) -> list[Detection]:
        if self.calls == 8:
            raise DataError("detector broke")
        out = super().detect(frame)
        return out[:1] if self.calls > 6 else out


def test_a_clip_failing_half_way_keeps_its_ids(tmp_path: Path) -> None:
    clip = tmp_path / "cam.avi"
    truth = _write_clip(clip)
    out = tmp_path / "root"
    cfg = PrepareConfig(out=out, min_height=50, min_track=3, per_track=4, max_gap=0)
    s = run_prepare([clip], cfg, FailingDetector(truth), MiddlePose())
    assert s.failed == [("cam.avi", "detector broke")] and s.clips_done == 0 and s.identities == 1
    state = json.loads((out / "prepare.json").read_text())
    (entry,) = state["clips"].values()
    assert entry["partial"] == "detector broke" and state["next_pid"] == 2
    # the same footage again as another camera: new ids start after the partial clip's
    s = run_prepare([clip], cfg, ScriptedDetector(truth), MiddlePose(), cameras=[4])
    assert s.clips_skipped == 1 and s.clips_done == 0  # the partial clip is not redone
    copy = _touch(tmp_path / "cam4.avi", clip.read_bytes())
    s = run_prepare([copy], cfg, ScriptedDetector(truth), MiddlePose(), cameras=[4])
    pids = {parse_market_name(p.name).pid for p in (out / "bounding_box_train").glob("*_c4s1_*.jpg")}
    assert s.identities == 2 and pids == {2, 3}


class NoPose:
    """TEST DOUBLE backend: finds nobody."""

    name = "nopose"

    def estimate(self, images, names):
        return [None] * len(images)


def test_tracks_without_poses_are_dropped_unless_no_backend_runs(tmp_path: Path) -> None:
    clip = tmp_path / "cam.avi"
    truth = _write_clip(clip)
    cfg = PrepareConfig(out=tmp_path / "a", min_height=50, min_track=3, per_track=4)
    s = run_prepare([clip], cfg, ScriptedDetector(truth), NoPose())
    assert s.identities == 0 and s.no_pose_tracks == 2 and s.crops == 0
    assert not (tmp_path / "a" / "bounding_box_train").exists()
    s = run_prepare(
        [clip], PrepareConfig(out=tmp_path / "b", min_height=50, min_track=3), ScriptedDetector(truth), None
    )
    assert s.identities == 2 and s.with_pose == 0 and s.reframed == 0 and s.crops == 20


def test_cli_prepare_needs_a_usable_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["prepare", str(tmp_path / "none.mp4"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "none.mp4: not found" in " ".join(result.output.split())


@pytest.mark.skipif(
    not (SHARED / "video" / "street_small.mp4").is_file(), reason="real clip ../shared/data/video absent"
)
def test_cli_prepare_real_clip(tmp_path: Path) -> None:
    out = tmp_path / "root"
    args = ["prepare", str(SHARED / "video" / "street_small.mp4"), "--out", str(out), "--pose-backend", "none"]
    result = CliRunner().invoke(app, [*args, "--step", "2", "--min-track", "3"])
    assert result.exit_code == 0, result.output
    files = list((out / "bounding_box_train").iterdir())
    pids = {parse_market_name(p.name).pid for p in files}
    assert len(pids) >= 3 and all(TORCHREID_PATTERN.search(p.name) for p in files)
