"""Tracklets in new motion: every identity of a dataset re-posed through the pose sequence of a driving clip.

``augment`` picks target poses independently per sample; video re-ID (tracklets, temporal models) wants the
poses in their order of time. For each identity: its source crop with the most complete pose (then the
longest torso), every driving pose fitted to that person (``fit.fit_pose``, ``fit.keep_inside``, as
``augment`` does), one transfer batch per chunk of frames, written as a tracklet:

- ``OUT/<pid>/PPPP_cCs<S>_FFFFFF_00.jpg``: the generated frames, F = the driving clip's frame number, C the
  source's camera, S = 9 (so they never collide with a real sequence of the same camera);
- ``OUT/<pid>.mp4`` (``video=True``): source | target pose | generated, side by side, at ``fps``;
- ``OUT/manifest.csv``: one row per frame (source, driving frame, target pose, weights hash).

Never overwriting: frames and videos are published atomically and never replace a file; an identity whose
frames are all on disk is skipped, so a rerun resumes.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from diaflow_core.data.images import image_to_tensor, read_image, scale_keypoints, tensor_to_image
from diaflow_core.errors import DataError
from diaflow_core.fileio import csv_text, replace_text
from diaflow_core.pose import draw_pose, pose_torso_length, visible

from .augment import Transfer
from .fit import fit_pose, keep_inside, usable_pose
from .fsio import encode_image, publish_bytes, publish_file
from .manifest import encode_pose
from .pose_backends.base import PoseBackend
from .sources import SourceImage, discover_sources

__all__ = ["ReposeConfig", "ReposeEvent", "ReposeSummary", "pick_source", "run_repose"]

_SEQUENCE = 9  # sequence field of generated tracklet frames
_FIELDS = ("generated", "source", "pid", "camera", "driving", "driving_frame", "target_pose", "weights_hash")


@dataclass(frozen=True)
class ReposeConfig:
    out: Path
    size: tuple[int, int] = (128, 64)
    ids: tuple[int, ...] = ()  # identities to re-pose; empty = all
    max_ids: int | None = None  # at most this many (first ids first)
    batch_size: int = 16
    video: bool = True
    fps: float = 10.0


@dataclass(frozen=True)
class ReposeEvent:
    kind: str  # start | advance | skip
    total: int = 0
    message: str = ""


@dataclass
class ReposeSummary:
    identities: int = 0
    frames_written: int = 0
    identities_done_before: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


def pick_source(candidates: Sequence[tuple[SourceImage, np.ndarray]]) -> int:
    """Index of the candidate ``(image, pose)`` with the most present joints, then the longest torso."""
    if not candidates:
        raise DataError("pick_source: no candidate")
    keys = [(int(visible(kp).sum()), float(pose_torso_length(kp))) for _, kp in candidates]
    return max(range(len(keys)), key=lambda i: keys[i])


def _frame_name(img: SourceImage, frame: int) -> str:
    return f"{img.pid:04d}_c{img.camera}s{_SEQUENCE}_{frame:06d}_00.jpg"


def _panel(src: np.ndarray, tgt: np.ndarray, gen: np.ndarray, scale: int = 2) -> np.ndarray:
    """source | target pose | generated, enlarged for viewing."""
    pose = draw_pose(np.full_like(src, 40), tgt)
    row = np.concatenate([src, pose, gen], axis=1)
    return cv2.resize(row, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)


def _write_video(dest: Path, frames: Sequence[np.ndarray], fps: float) -> bool:
    """Frames (uint8 RGB, one size) -> ``dest`` (mp4v), atomically; False when ``dest`` exists."""
    if dest.exists() or not frames:
        return False
    h, w = frames[0].shape[:2]
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".mp4", dir=dest.parent)
    os.close(fd)
    try:
        writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        if not writer.isOpened():
            raise DataError(f"{dest}: OpenCV cannot write an mp4v video here")
        for f in frames:
            writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
        writer.release()
        return publish_file(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _identity_sources(
    images: Sequence[SourceImage], backend: PoseBackend, cfg: ReposeConfig, summary: ReposeSummary
) -> dict[int, tuple[SourceImage, np.ndarray, np.ndarray]]:
    """Per identity, lowest ids first, up to ``cfg.max_ids`` of them: (image, resized uint8, pose in resized
    pixels) of its best crop. Identities without a usable pose are reported and do not count."""
    size = cfg.size
    by_pid: dict[int, list[SourceImage]] = {}
    for img in images:
        by_pid.setdefault(img.pid, []).append(img)
    chosen = {}
    for pid, imgs in sorted(by_pid.items()):
        if cfg.max_ids is not None and len(chosen) >= cfg.max_ids:
            break
        loaded, candidates = [], []
        for img in imgs:
            try:
                loaded.append((img, read_image(img.path)))
            except DataError as e:
                summary.skipped.append((str(img.path), str(e)))
        poses = backend.estimate([im for _, im in loaded], [img.path.name for img, _ in loaded]) if loaded else []
        for (img, im), kp in zip(loaded, poses, strict=True):
            if kp is None:
                continue
            kp = scale_keypoints(kp, im.shape[:2], size) if im.shape[:2] != size else kp
            if usable_pose(kp) is None:
                candidates.append((img, kp))
        if not candidates:
            summary.skipped.append((f"identity {pid}", f"no crop with a usable pose ({backend.name})"))
            continue
        img, kp = candidates[pick_source(candidates)]
        chosen[pid] = (img, read_image(img.path, size), kp)
    return chosen


def run_repose(
    source: str | os.PathLike[str],
    cfg: ReposeConfig,
    transfer: Transfer,
    backend: PoseBackend,
    driving: Sequence[tuple[int, np.ndarray]],
    driving_label: str,
    on_event: Callable[[ReposeEvent], None] | None = None,
) -> ReposeSummary:
    """Re-pose every (selected) identity of ``source`` through ``driving`` ((frame, pose) in time order)."""
    emit = on_event or (lambda e: None)
    if not driving:
        raise DataError(f"{driving_label}: no driving pose")
    summary = ReposeSummary()
    found = discover_sources(source, "per-id")
    images = [img for img in found.images if not cfg.ids or img.pid in cfg.ids]
    missing = sorted(set(cfg.ids) - {img.pid for img in images})
    summary.skipped += [(f"identity {pid}", f"not in {source}") for pid in missing]
    sources = _identity_sources(images, backend, cfg, summary)
    out = cfg.out
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, str]] = []
    manifest = out / "manifest.csv"
    if manifest.is_file():
        with manifest.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    emit(ReposeEvent("start", total=len(sources) * len(driving)))
    for pid, (img, src_img, src_kp) in sources.items():
        folder = out / f"{pid:04d}"
        names = [_frame_name(img, frame) for frame, _ in driving]
        if all((folder / n).is_file() for n in names):
            summary.identities_done_before += 1
            emit(ReposeEvent("advance", total=len(names)))
            continue
        targets = [keep_inside(fit_pose(kp, src_kp), cfg.size) for _, kp in driving]
        generated: list[np.ndarray] = []
        src = image_to_tensor(src_img)
        for i in range(0, len(targets), cfg.batch_size):
            chunk = targets[i : i + cfg.batch_size]
            with torch.inference_mode():
                out_t = transfer.transfer(
                    src.unsqueeze(0).expand(len(chunk), -1, -1, -1),
                    torch.from_numpy(np.repeat(src_kp[None], len(chunk), 0)),
                    torch.from_numpy(np.stack(chunk)),
                )
            generated += [tensor_to_image(t) for t in out_t]
            emit(ReposeEvent("advance", total=len(chunk)))
        done = {r["generated"] for r in rows}
        for name, (frame, _), tgt, gen in zip(names, driving, targets, generated, strict=True):
            if publish_bytes(folder / name, encode_image(gen)):
                summary.frames_written += 1
            rel = f"{pid:04d}/{name}"
            if rel not in done:
                rows.append({
                    "generated": rel, "source": str(img.path), "pid": str(pid), "camera": str(img.camera),
                    "driving": driving_label, "driving_frame": str(frame), "target_pose": encode_pose(tgt),
                    "weights_hash": transfer.weights_hash,
                })  # fmt: skip
        if cfg.video:
            panels = [_panel(src_img, t, g) for t, g in zip(targets, generated, strict=True)]
            _write_video(out / f"{pid:04d}.mp4", panels, cfg.fps)
        replace_text(manifest, csv_text(rows, _FIELDS))  # after each identity: a crash loses at most one
        summary.identities += 1
    return summary
