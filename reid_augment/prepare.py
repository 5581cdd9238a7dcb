"""Custom surveillance footage -> a Market-1501-style training root: tracked people, crops, keypoints.

Input: the clips of ``clips.py`` (videos, folders of frames, single frames). Per clip: detect people in every
processed frame, link the boxes into tracks (``track.py``), and turn every track followed for at least
``min_track`` frames into one identity: up to ``per_track`` crops spread evenly over its frames, named
``PPPP_cCsS_FFFFFF_BB.jpg`` (track id, camera, sequence, frame, box index), each with its pose.

Output (``out/``): ``bounding_box_train/`` with the crops; ``market-annotation-train.csv`` (the keypoints,
pose-transfer CSV format) so that ``reid-augment augment out/`` and ``train generator`` with
``data.market_root=out`` read it like Market-1501; ``tracks.csv`` (one row per crop: clip, frame, box,
score, pose status); ``prepare.json`` (settings, clips done, the next free id).

Resumable and never overwriting: crops are published atomically and never replace a file; the CSVs and
``prepare.json`` are rewritten atomically after each clip. A rerun skips the clips ``prepare.json`` lists
and redoes an interrupted one, which yields the same names (the pipeline is deterministic), so its crops
already on disk are kept. Identities are per track: the same person in two clips, or leaving and coming
back, gets two ids (no cross-camera linking).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from diaflow_core import __version__
from diaflow_core.data.annotations import read_annotations, write_annotations
from diaflow_core.errors import ConfigError, DataError, DiaflowError
from diaflow_core.fileio import csv_text, replace_text
from diaflow_core.pose import pose_bbox, pose_center_x, visible

from .clips import Clip, discover_clips, video_frame_count
from .detect import Detection, Detector, crop_person
from .fit import usable_pose
from .fsio import encode_image, publish_bytes
from .pose_backends.base import PoseBackend
from .track import IouTracker, Track, color_signature, even_subset

__all__ = ["PrepareConfig", "PrepareEvent", "PrepareSummary", "market_frame", "run_prepare"]

_STATE = "prepare.json"
_TRACKS = "tracks.csv"
_ANNOTATIONS = "market-annotation-train.csv"
_TRAIN = "bounding_box_train"
_POSE_MARGIN = 0.25  # context around the box in the pose crop, room for reframing
_FILL, _FEET = 0.84, 0.95  # Market framing, as fit.canonical_pose
_HEAD, _ANKLES = (0, 14, 15, 16, 17), (10, 13)
_TRACK_FIELDS = ("name", "pid", "camera", "sequence", "frame", "clip", "x0", "y0", "x1", "y1", "score", "pose")


@dataclass(frozen=True)
class PrepareConfig:
    out: Path
    size: tuple[int, int] = (128, 64)  # crop (H, W): Market-1501's
    pose_scale: int = 2  # the pose estimator sees crops cut at this multiple of ``size`` (more detail)
    step: int = 1  # video: every step-th frame
    min_height: float = 80.0  # px in the frame; smaller people make blurry crops
    min_track: int = 4  # matched frames before a track becomes an identity
    per_track: int = 16  # crops written per identity, spread evenly over the track
    min_pose_fraction: float = 0.25  # share of a track's crops with a usable pose (when a pose backend runs)
    iou: float = 0.3  # box overlap that links two frames
    min_similarity: float = 0.9  # colour-histogram cosine that links two frames (measured on street_small.mp4:
    # the same person in consecutive frames >= 0.96 for 99 %, two people of one frame <= 0.92 for 99 %)
    max_gap: int = 3  # processed frames a track may go unmatched
    keep_cut: bool = False  # keep boxes touching the frame border (people partly out of view)
    start_pid: int = 1

    def __post_init__(self) -> None:
        if self.step < 1 or self.min_track < 1 or self.per_track < 1 or self.pose_scale < 1:
            raise ConfigError("prepare: step, min_track, per_track and pose_scale must be >= 1")
        if not 1 <= self.start_pid <= 9999:
            raise ConfigError(f"prepare: start_pid must be in 1..9999, got {self.start_pid}")


@dataclass(frozen=True)
class PrepareEvent:
    kind: str  # clip_start | frame | clip_done | clip_failed | clip_skipped | note
    clip: str
    total: int | None = None
    message: str = ""


@dataclass
class PrepareSummary:
    clips_done: int = 0
    clips_skipped: int = 0  # done by an earlier run
    frames: int = 0
    detections: int = 0
    dropped_small: int = 0
    dropped_cut: int = 0
    tracks: int = 0
    short_tracks: int = 0
    no_pose_tracks: int = 0  # long enough, but too few crops with a usable pose
    identities: int = 0
    crops: int = 0
    crops_kept: int = 0  # already on disk (resumed clip)
    with_pose: int = 0
    reframed: int = 0  # crops framed by their pose rather than the detector's box
    failed: list[tuple[str, str]] = field(default_factory=list)


# ---- state on disk -------------------------------------------------------------------------------------------


def _read_state(out: Path) -> dict:
    path = out / _STATE
    if not path.is_file():
        return {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(f"{path}: cannot read the run state ({e}); move it away to start afresh") from None
    if not isinstance(state, dict) or not isinstance(state.get("clips", {}), dict):
        raise DataError(f"{path}: not a prepare run state")
    return state


def _read_tracks(out: Path) -> list[dict[str, str]]:
    path = out / _TRACKS
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or tuple(reader.fieldnames) != _TRACK_FIELDS:
            raise DataError(f"{path}: unexpected header {reader.fieldnames}; expected {','.join(_TRACK_FIELDS)}")
        return list(reader)


# ---- one clip ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sample:
    crop: np.ndarray  # uint8 RGB around the box with a wide margin, at size * pose_scale: what the pose model sees
    box: tuple[float, float, float, float]  # the detector's box in ``crop``'s pixels
    index: int  # Market's box field: 1-based position of the box in its frame, left to right


def _sample(frame: np.ndarray, det: Detection, index: int, cfg: PrepareConfig) -> _Sample:
    size = (cfg.size[0] * cfg.pose_scale, cfg.size[1] * cfg.pose_scale)
    crop, t = crop_person(frame, det.box, size, margin=_POSE_MARGIN)
    (x0, y0), (x1, y1) = t.to_crop(np.array([det.box[:2], det.box[2:]], np.float32)).tolist()
    return _Sample(crop, (x0, y0, x1, y1), index)


def market_frame(kp: np.ndarray, size: Sequence[int]) -> tuple[float, float, float, float] | None:
    """The box that frames a full-body pose the way Market-1501's crops (and ``fit.canonical_pose``) do:
    joints span ``_FILL`` of the height, the lowest at ``_FEET`` of it, centred on the body, ``size``'s aspect.
    None unless a head joint and an ankle are present (else the joints' extent is not the body's)."""
    ok = visible(kp)
    if not (ok[list(_HEAD)].any() and ok[list(_ANKLES)].any()):
        return None
    _, y0, _, y1 = pose_bbox(kp)
    height = (y1 - y0) / _FILL
    if height < 8:
        return None
    top, cx = y1 - _FEET * height, pose_center_x(kp)
    half_w = height * size[1] / size[0] / 2
    return (cx - half_w, top, cx + half_w, top + height)


def _fits_box(frame_box: Sequence[float], det_box: Sequence[float]) -> bool:
    """A pose's Market frame agrees with the detector's box: height 0.5-1.25x of it, centre within it."""
    ratio = (frame_box[3] - frame_box[1]) / max(det_box[3] - det_box[1], 1e-6)
    cx = (frame_box[0] + frame_box[2]) / 2
    return 0.5 <= ratio <= 1.25 and det_box[0] <= cx <= det_box[2]


def _usable_dets(
    dets: Sequence[Detection], frame: np.ndarray, cfg: PrepareConfig, s: PrepareSummary
) -> list[Detection]:
    h, w = frame.shape[:2]
    kept = []
    for d in dets:
        x0, y0, x1, y1 = d.box
        if d.height < cfg.min_height:
            s.dropped_small += 1
        elif not cfg.keep_cut and (x0 <= 1 or y0 <= 1 or x1 >= w - 1 or y1 >= h - 1):
            s.dropped_cut += 1
        else:
            kept.append(d)
    return kept


def _write_track(
    track: Track[_Sample], pid: int, clip: Clip, cfg: PrepareConfig, backend: PoseBackend | None,
    rows: list[dict[str, str]], poses: dict[str, np.ndarray], s: PrepareSummary,
) -> bool:  # fmt: skip
    """Crops of one identity: evenly chosen samples, their poses, the files and rows. False (nothing
    written) when too few of them show a usable pose: detector false positives (bins, railings) rarely do."""
    picked = [track.samples[i] for i in even_subset(len(track.samples), cfg.per_track)]
    names = []
    for frame, _, sample in picked:
        if frame > 999999:
            raise DataError(f"{clip.label}: frame {frame} does not fit Market-1501's 6-digit frame field")
        names.append(f"{pid:04d}_c{clip.camera}s{clip.sequence}_{frame:06d}_{sample.index:02d}.jpg")
    found: list[np.ndarray | None] = [None] * len(picked)
    if backend is not None:
        found = backend.estimate([sample.crop for _, _, sample in picked], names)
    made = []
    for name, (frame, det, sample), kp in zip(names, picked, found, strict=True):
        # A full-body pose reframes the crop like Market's (detector boxes, HOG's above all, are loose).
        box = market_frame(kp, cfg.size) if kp is not None else None
        off = box is not None and not _fits_box(box, sample.box)
        if off:  # a pose far bigger, smaller or aside of the detected person is most likely someone else's
            box, kp = None, None
        small, t = crop_person(sample.crop, box or sample.box, cfg.size, margin=0.0 if box else 0.08)
        status = "none" if backend is None else "off the detected box" if off else "not found"
        if kp is not None:
            kp = np.round(t.to_crop(kp))  # whole pixels, as Market's CSVs
            why = usable_pose(kp)
            status, kp = ("ok", kp) if why is None else (why, None)
        made.append((name, frame, det, small, kp, status, box is not None))
    if backend is not None and sum(m[4] is not None for m in made) < cfg.min_pose_fraction * len(made):
        s.no_pose_tracks += 1
        return False
    for name, frame, det, small, kp, status, reframed in made:
        if publish_bytes(cfg.out / _TRAIN / name, encode_image(small)):
            s.crops += 1
        else:
            s.crops_kept += 1
        s.reframed += reframed
        if kp is not None:
            poses[name] = kp
            s.with_pose += 1
        x0, y0, x1, y1 = det.box
        rows.append({
            "name": name, "pid": str(pid), "camera": str(clip.camera), "sequence": str(clip.sequence),
            "frame": str(frame), "clip": clip.label, "x0": f"{x0:.1f}", "y0": f"{y0:.1f}", "x1": f"{x1:.1f}",
            "y1": f"{y1:.1f}", "score": f"{det.score:.3f}", "pose": status,
        })  # fmt: skip
    return True


@dataclass
class _ClipOutput:
    """What a clip has written so far: kept by the caller even when the clip fails half-way."""

    next_pid: int
    rows: list[dict[str, str]] = field(default_factory=list)
    poses: dict[str, np.ndarray] = field(default_factory=dict)


def _run_clip(
    clip: Clip, detector: Detector, backend: PoseBackend | None, cfg: PrepareConfig, acc: _ClipOutput,
    s: PrepareSummary, on_event: Callable[[PrepareEvent], None],
) -> None:  # fmt: skip
    tracker: IouTracker[_Sample] = IouTracker(cfg.iou, cfg.max_gap, cfg.per_track, cfg.min_similarity)

    def close(tracks: list[Track[_Sample]]) -> None:
        for t in sorted(tracks, key=lambda t: (t.first_frame, t.tid)):
            s.tracks += 1
            if t.length < cfg.min_track:
                s.short_tracks += 1
                continue
            if acc.next_pid > 9999:
                raise DataError(f"{clip.label}: more than 9,999 identities; Market-1501 ids have 4 digits")
            written = s.crops + s.crops_kept
            try:
                kept = _write_track(t, acc.next_pid, clip, cfg, backend, acc.rows, acc.poses, s)
            except BaseException:
                if s.crops + s.crops_kept > written:  # some crops of this id are on disk: the id is spent
                    acc.next_pid += 1
                raise
            if kept:
                s.identities += 1
                acc.next_pid += 1

    for frame_no, frame in clip.iter_frames(cfg.step):
        on_event(PrepareEvent("frame", clip.label))
        s.frames += 1
        raw = detector.detect(frame)
        s.detections += len(raw)
        dets = _usable_dets(raw, frame, cfg, s)
        dets = sorted(dets, key=lambda d: d.box[0])
        payloads = [_sample(frame, d, i + 1, cfg) for i, d in enumerate(dets)]
        looks = np.stack([color_signature(p.crop) for p in payloads]) if payloads else None
        close(tracker.update(frame_no, dets, payloads, looks))
    close(tracker.finish())


def run_prepare(
    inputs: Sequence[Path],
    cfg: PrepareConfig,
    detector: Detector,
    backend: PoseBackend | None,
    cameras: Sequence[int] = (),
    on_event: Callable[[PrepareEvent], None] | None = None,
) -> PrepareSummary:
    """Turn ``inputs`` into the training root ``cfg.out`` (see the module doc); resumes a previous run."""
    emit = on_event or (lambda e: None)
    clips, refused = discover_clips(inputs, cameras)
    s = PrepareSummary(failed=list(refused))
    out = cfg.out
    out.mkdir(parents=True, exist_ok=True)
    state = _read_state(out)
    done: dict[str, dict] = dict(state.get("clips", {}))
    next_pid = max(int(state.get("next_pid", cfg.start_pid)), cfg.start_pid)
    rows = _read_tracks(out)
    ann_path = out / _ANNOTATIONS
    poses: dict[str, np.ndarray] = read_annotations(ann_path)[0] if ann_path.is_file() else {}
    settings = {k: v for k, v in asdict(cfg).items() if k != "out"}
    settings.update(detector=detector.name, pose_backend=backend.name if backend is not None else "none")
    settings = json.loads(json.dumps(settings))  # as stored (tuples -> lists), so that the comparison holds
    if state.get("settings") and state["settings"] != settings:
        emit(PrepareEvent("note", "settings", message="settings differ from the earlier run's; the new ones "
                          "apply to the clips not done yet (each clip's own are in prepare.json)"))  # fmt: skip
    for clip in clips:
        if clip.key in done:
            s.clips_skipped += 1
            emit(PrepareEvent("clip_skipped", clip.label, message="done by an earlier run"))
            continue
        total = len(clip.frames) if clip.kind == "frames" else video_frame_count(clip.path, cfg.step)
        emit(PrepareEvent("clip_start", clip.label, total=total))
        before = (s.identities, s.crops + s.crops_kept)
        acc = _ClipOutput(next_pid)
        error = ""
        try:
            _run_clip(clip, detector, backend, cfg, acc, s, emit)
        except DiaflowError as e:
            error = str(e)
        except (OSError, cv2.error) as e:
            error = f"{type(e).__name__}: {e}"
        if error:
            s.failed.append((clip.label, error))
            emit(PrepareEvent("clip_failed", clip.label, message=error))
            if acc.next_pid == next_pid:
                continue  # no id spent: a rerun tries the clip again (and keeps any crop it wrote)
        # A clip that failed half-way keeps what it wrote (recorded as partial, not redone), so that its ids
        # are never handed out again.
        names = {r["name"] for r in acc.rows}
        rows = [r for r in rows if r["name"] not in names] + acc.rows
        poses.update(acc.poses)
        done[clip.key] = {
            "label": clip.label, "camera": clip.camera, "sequence": clip.sequence, "first_pid": next_pid,
            "identities": s.identities - before[0], "crops": s.crops + s.crops_kept - before[1], "settings": settings,
        }  # fmt: skip
        if error:
            done[clip.key]["partial"] = error
        next_pid = acc.next_pid
        # Order: the files the state points at first, the state last; a crash in between redoes this clip.
        write_annotations(ann_path, poses)
        replace_text(out / _TRACKS, csv_text(rows, _TRACK_FIELDS))
        state = {"version": __version__, "settings": settings, "clips": done, "next_pid": next_pid}
        replace_text(out / _STATE, json.dumps(state, indent=2, sort_keys=True) + "\n")
        if not error:
            s.clips_done += 1
            emit(PrepareEvent("clip_done", clip.label, message=f"{done[clip.key]['identities']} identities"))
    return s
