"""Target poses: where they come from and which ones each source image gets.

A ``TargetPool`` holds candidate poses with their origin (for the manifest), view class and, when known,
the person they belong to (so a person is never driven by their own poses from the same dataset).
``pick`` is deterministic per (seed, source stem) and prefix-stable: asking for 6 samples after 4 were
made gives the same first 4, so reruns with a larger ``--per-image`` only add. Its view policy (``--views``)
trades diversity for identity: a re-ID teacher finds the source's identity nearest more often for samples
that keep the source's view class than for view changes (docs/reid_augmentation.md).
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from diaflow_core.data.annotations import read_annotations
from diaflow_core.data.market import parse_market_name
from diaflow_core.errors import DataError

from .fit import canonical_pose, usable_pose
from .pose_backends.base import PoseBackend
from .pose_bank import PoseBank, load_pose_bank, pose_view

__all__ = [
    "VIDEO_EXTENSIONS",
    "VIEW_POLICIES",
    "ViewPolicy",
    "TargetPool",
    "TargetPose",
    "folder_pose_pool",
    "load_pose_file",
    "load_targets",
    "pool_from_bank",
    "pool_from_poses",
]

# any: every view class in turn; same: only the source's view class; other: only the other view classes.
ViewPolicy = Literal["any", "same", "other"]
VIEW_POLICIES: tuple[str, ...] = get_args(ViewPolicy)

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".ts")


@dataclass(frozen=True)
class TargetPose:
    kp: np.ndarray  # (18, 2), any frame: it is fitted to the source person before use
    origin: str
    view: str | None = None
    pid: int | None = None


class TargetPool:
    """Candidate target poses; unusable ones (no neck or hip) are dropped on construction."""

    def __init__(self, entries: Sequence[TargetPose], description: str) -> None:
        self.entries = tuple(e for e in entries if usable_pose(e.kp) is None)
        self.description = description
        if not self.entries:
            raise DataError(f"{description}: no usable target pose (each needs a neck and a hip)")
        view_names = sorted({e.view for e in self.entries if e.view})
        self._view_names = tuple(view_names)
        self._views = np.array([view_names.index(e.view) if e.view else -1 for e in self.entries])
        self._n_views = len(view_names)
        self._pids = np.array([-(10**9) if e.pid is None else e.pid for e in self.entries])

    def __len__(self) -> int:
        return len(self.entries)

    def pick(
        self,
        stem: str,
        count: int,
        seed: int,
        exclude_pid: int | None = None,
        source_view: str | None = None,
        views: ViewPolicy = "any",
    ) -> list[TargetPose]:
        """``count`` poses for the source ``stem``: views in turn (random order), distinct poses while any
        are left, none of person ``exclude_pid``.

        ``views`` restricts the view classes taken in turn relative to ``source_view``: ``same`` keeps only
        the source's class, ``other`` only the rest. When the source's view is unknown, or the pool has no
        allowed pose of the classes asked for, every class is used (the pool decides, not the source).
        """
        if views not in VIEW_POLICIES:
            raise DataError(f"view policy must be one of {', '.join(VIEW_POLICIES)}, got {views!r}")
        rng = np.random.default_rng([seed, zlib.crc32(stem.encode())])
        allowed = self._pids != exclude_pid if exclude_pid is not None else np.ones(len(self.entries), bool)
        if not allowed.any():
            raise DataError(f"{self.description}: every target pose belongs to person {exclude_pid}")
        groups = [np.flatnonzero(allowed & (self._views == v)) for v in range(self._n_views)]
        everyone = np.flatnonzero(allowed)
        if views != "any" and source_view in self._view_names:
            own = self._view_names.index(source_view)
            wanted = [g for v, g in enumerate(groups) if (v == own) == (views == "same")]
            if any(len(g) for g in wanted):
                groups = wanted
                everyone = np.sort(np.concatenate(wanted))  # repeats stay within the classes asked for
        groups = [g for g in groups if len(g)] or [np.flatnonzero(allowed)]
        order = rng.permutation(len(groups))
        used: set[int] = set()
        out = []
        for n in range(count):
            group = groups[order[n % len(groups)]]
            taken = np.fromiter(used, dtype=np.int64, count=len(used))
            candidates = group
            for pool in (group, everyone):  # an unused pose of this view, else any unused one, else repeat
                rest = np.setdiff1d(pool, taken, assume_unique=True) if len(taken) else pool
                if len(rest):
                    candidates = rest
                    break
            i = int(candidates[rng.integers(len(candidates))])
            used.add(i)
            out.append(self.entries[i])
        return out


def pool_from_bank(bank: PoseBank, label: str = "bank") -> TargetPool:
    entries = [TargetPose(bank.poses[i], f"{label}:{i}/{bank.views[i]}", bank.views[i]) for i in range(len(bank))]
    return TargetPool(entries, f"pose bank ({len(bank)} poses{', ' + bank.source if bank.source else ''})")


def _pid_of(name: str) -> int | None:
    try:
        return parse_market_name(name).pid
    except DataError:
        return None


def pool_from_poses(poses: dict[str, np.ndarray], label: str, description: str) -> TargetPool:
    """Named poses (e.g. a keypoint CSV, or the source images' own poses) -> pool; Market names give pids."""
    entries = [TargetPose(kp, f"{label}:{name}", pose_view(kp), _pid_of(name)) for name, kp in poses.items()]
    return TargetPool(entries, description)


def load_pose_file(path: str | os.PathLike[str]) -> TargetPool:
    """A pose file: a pose bank ``.npz``, a keypoint CSV, an ``.npy``/``.npz`` array ``(N, 18, 2)`` or a JSON
    list of poses (``[[x, y] | null] * 18``). Array poses are placed on a Market-sized canvas."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: pose file not found")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        poses, report = read_annotations(path, on_error="skip")
        return pool_from_poses(poses, f"csv:{path.name}", f"{path} ({report.rows} poses)")
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            if "views" in z.files and "poses" in z.files:
                return pool_from_bank(load_pose_bank(path), f"bank[{path.name}]")
            key = "poses" if "poses" in z.files else z.files[0]
            arr = z[key]
    elif suffix == ".npy":
        arr = np.load(path, allow_pickle=False)
    elif suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            arr = np.array([[[np.nan, np.nan] if j is None else j for j in p] for p in data], dtype=np.float32)
        except (ValueError, TypeError) as e:
            raise DataError(f"{path}: expected a JSON list of poses ([[x, y] or null] * 18): {e}") from None
    else:
        raise DataError(f"{path}: unknown pose file type {suffix!r} (.npz, .npy, .json or .csv)")
    arr = np.asarray(arr, dtype=np.float32)
    if arr.ndim != 3 or arr.shape[1:] != (18, 2):
        raise DataError(f"{path}: expected poses of shape (N, 18, 2), got {arr.shape}")
    entries = []
    for i, kp in enumerate(arr):
        if usable_pose(kp) is None:
            entries.append(TargetPose(canonical_pose(kp), f"file:{path.name}#{i}", pose_view(kp)))
    return TargetPool(entries, f"{path} ({len(arr)} poses)")


def folder_pose_pool(path: str | os.PathLike[str], backend: PoseBackend, limit: int = 2000) -> TargetPool:
    """Poses of another dataset's images (a crops folder or a ``<pid>/`` tree), read with ``backend``."""
    from diaflow_core.data.images import read_image

    from .sources import discover_sources

    images = discover_sources(path).images[:limit]
    poses: dict[str, np.ndarray] = {}
    for start in range(0, len(images), 32):
        group = images[start : start + 32]
        found = backend.estimate([read_image(i.path) for i in group], [i.path.name for i in group])
        for img, kp in zip(group, found, strict=True):
            if kp is not None:
                poses[img.path.name] = kp
    return pool_from_poses(poses, f"images[{Path(path).name}]", f"{path} ({len(poses)} poses, {backend.name})")


def load_targets(
    spec: str,
    video_poses: Callable[[Path], TargetPool] | None = None,
    folder_poses: Callable[[Path], TargetPool] | None = None,
) -> TargetPool | None:
    """Resolve ``--poses``: ``bank`` (shipped), ``dataset`` (None: the caller pools the sources' own poses),
    a pose file, a video (``video_poses``), a Market root (its train annotations) or an image folder
    (``folder_poses``: poses estimated with the chosen backend)."""
    if spec == "bank":
        return pool_from_bank(load_pose_bank())
    if spec == "dataset":
        return None
    path = Path(spec)
    if path.is_dir():
        csv = path / "market-annotation-train.csv"
        if csv.is_file():
            return load_pose_file(csv)
        if folder_poses is None:
            raise DataError(f"{path}: a folder of images needs a pose backend to read poses from")
        return folder_poses(path)
    if path.suffix.lower() in VIDEO_EXTENSIONS:
        if not path.is_file():
            raise DataError(f"{path}: driving video not found")
        if video_poses is None:
            raise DataError(f"{path}: reading poses from a video needs a pose backend")
        return video_poses(path)
    if path.exists():
        return load_pose_file(path)
    raise DataError(
        f"--poses {spec!r}: not 'bank', 'dataset', an existing pose file (.npz/.npy/.json/.csv), video or folder"
    )
