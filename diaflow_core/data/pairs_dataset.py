"""Torch datasets for pose transfer: image pairs (generator) and pose-only pairs (flow regressor).

Convention: samples are dicts; images float32 ``(3, H, W)`` in [-1, 1] RGB; keypoints float32 ``(18, 2)``
(x, y) pixels of the returned image size, NaN = missing. Random partners come from a generator seeded by
``(seed, epoch, index)``, so a sample depends only on those three numbers (any worker count, any order).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from diaflow_core.data.annotations import read_annotations
from diaflow_core.data.images import image_to_tensor, read_image, resize_image, scale_keypoints
from diaflow_core.data.market import MarketRoot, parse_market_name
from diaflow_core.data.pairs import present_pairs, read_pairs
from diaflow_core.data.splits import split_identities
from diaflow_core.errors import ConfigError, DataError

__all__ = ["PosePairs", "PoseTransferPairs"]

Annotations = Mapping[str, np.ndarray] | str | os.PathLike[str]


def _load_annotations(annotations: Annotations | None, default: Path) -> Mapping[str, np.ndarray]:
    if annotations is None:
        annotations = default
    if isinstance(annotations, str | os.PathLike):
        return read_annotations(annotations, on_error="raise")[0]
    return annotations


def _n_joints(kp: np.ndarray) -> int:
    return int((~np.isnan(np.asarray(kp)).any(axis=-1)).sum())


def _rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, epoch, index])


class _Groups:
    """Indices grouped by identity, to draw a partner of the same or of another identity."""

    def __init__(self, pids: np.ndarray) -> None:
        self.pids = pids
        groups: dict[int, list[int]] = defaultdict(list)
        for i, p in enumerate(pids.tolist()):
            groups[p].append(i)
        self.members = {p: np.asarray(m, dtype=np.int64) for p, m in groups.items()}
        self.pos = np.zeros(len(pids), dtype=np.int64)
        for m in self.members.values():
            self.pos[m] = np.arange(len(m))

    def group_size(self, i: int) -> int:
        return len(self.members[int(self.pids[i])])

    def same(self, i: int, rng: np.random.Generator) -> int:
        """Another index of i's identity (the group must hold >= 2)."""
        m = self.members[int(self.pids[i])]
        k = int(rng.integers(len(m) - 1))
        return int(m[k if k < self.pos[i] else k + 1])

    def other(self, i: int, rng: np.random.Generator) -> int:
        """An index of another identity (there must be >= 2 identities)."""
        while True:
            j = int(rng.integers(len(self.pids)))
            if self.pids[j] != self.pids[i]:
                return j


def _split_pids(pids: Sequence[int], split: str, val_fraction: float, seed: int) -> set[int]:
    train, val = split_identities(pids, val_fraction, seed)
    return set(train if split == "train" else val)


class PoseTransferPairs(Dataset[dict[str, Any]]):
    """Market-1501 image pairs for pose transfer.

    - ``split="train"``: one sample per source image of the training identities; its partner is another
      image of the same identity, re-drawn every epoch (``set_epoch``).
    - ``split="val"``: the same over the held-out training identities (``split_identities``), with one
      fixed partner per source.
    - ``split="test"``: the given pairs (default: ``market-pairs-test.csv``) whose two images are present
      in ``bounding_box_test`` and annotated; ``skipped`` counts the others.

    Train/val use images whose annotation has >= ``min_joints`` joints. ``cross_identity=True`` draws the
    partner from ANOTHER identity instead (the target is then a pose to reach, not a ground-truth image).
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | MarketRoot,
        annotations: Annotations | None = None,
        split: str = "train",
        pairs: Sequence[tuple[str, str]] | None = None,
        min_joints: int = 8,
        val_fraction: float = 0.1,
        seed: int = 0,
        cross_identity: bool = False,
        size: Sequence[int] = (128, 64),
    ) -> None:
        if split not in ("train", "val", "test"):
            raise ConfigError(f"PoseTransferPairs: split must be 'train', 'val' or 'test', got {split!r}")
        self.market = root if isinstance(root, MarketRoot) else MarketRoot(root)
        self.split = split
        self.size = (int(size[0]), int(size[1]))
        self.seed = int(seed)
        self.epoch = 0
        self.cross_identity = bool(cross_identity)
        self.skipped = 0
        folder_split = "test" if split == "test" else "train"
        ann = _load_annotations(annotations, self.market.annotation_csv(folder_split))
        records = self.market.images(folder_split)

        if split == "test":
            by_name = {r.name.name: r for r in records if r.name.name in ann}
            if pairs is None:
                pairs = read_pairs(self.market.pairs_csv())
            kept, self.skipped = present_pairs(pairs, by_name)
            names = sorted({n for pair in kept for n in pair})
            index = {n: i for i, n in enumerate(names)}
            self._pairs = np.array([(index[a], index[b]) for a, b in kept], dtype=np.int64).reshape(-1, 2)
            chosen = [by_name[n] for n in names]
        else:
            pids = [r.name.pid for r in records if r.name.pid > 0]
            keep = _split_pids(pids, split, val_fraction, self.seed)
            chosen = [
                r
                for r in records
                if r.name.pid in keep and r.name.name in ann and _n_joints(ann[r.name.name]) >= min_joints
            ]
        self._paths = [r.path for r in chosen]
        self._names = [r.name.name for r in chosen]
        self._kps = np.stack([np.asarray(ann[n], dtype=np.float32) for n in self._names]) if chosen else None
        self._groups = _Groups(np.array([r.name.pid for r in chosen], dtype=np.int64))

        if split != "test":
            if cross_identity:
                if len(self._groups.members) < 2:
                    raise DataError(f"{self.market.root}: {split} split needs >= 2 identities for cross pairs")
                self._sources = np.arange(len(chosen), dtype=np.int64)
            else:
                sizes = np.array([self._groups.group_size(i) for i in range(len(chosen))], dtype=np.int64)
                self._sources = np.flatnonzero(sizes >= 2)
            if split == "val":
                self._pairs = np.array(
                    [(s, self._partner(int(s), _rng(self.seed, 0, k))) for k, s in enumerate(self._sources)],
                    dtype=np.int64,
                ).reshape(-1, 2)
        if len(self) == 0:
            raise DataError(f"{self.market.root}: no {split} pairs (check annotations and min_joints)")

    @property
    def names(self) -> list[str]:
        """Names of the images this dataset draws from."""
        return list(self._names)

    def set_epoch(self, epoch: int) -> None:
        """Re-draw the training partners; call before each epoch's DataLoader iteration.

        DataLoader workers copy the dataset when they start: with ``persistent_workers=True`` they keep
        the old epoch, so leave it False (the default) or pairs repeat across epochs.
        """
        self.epoch = int(epoch)

    def _partner(self, s: int, rng: np.random.Generator) -> int:
        return self._groups.other(s, rng) if self.cross_identity else self._groups.same(s, rng)

    def __len__(self) -> int:
        return len(self._sources) if self.split == "train" else len(self._pairs)

    def pair_names(self, index: int) -> tuple[str, str]:
        s, t = self._pair(index)
        return self._names[s], self._names[t]

    def _pair(self, index: int) -> tuple[int, int]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} pairs")
        if self.split == "train":
            s = int(self._sources[index])
            return s, self._partner(s, _rng(self.seed, self.epoch, index))
        s, t = self._pairs[index]
        return int(s), int(t)

    def _load(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        img = read_image(self._paths[i])
        kp = self._kps[i]  # type: ignore[index]
        if img.shape[:2] != self.size:
            kp = scale_keypoints(kp, img.shape[:2], self.size)
            img = resize_image(img, self.size)
        return image_to_tensor(img), torch.from_numpy(np.array(kp, dtype=np.float32))

    def __getitem__(self, index: int) -> dict[str, Any]:
        s, t = self._pair(index)
        src, src_kp = self._load(s)
        tgt, tgt_kp = self._load(t)
        return {
            "src": src,
            "tgt": tgt,
            "src_kp": src_kp,
            "tgt_kp": tgt_kp,
            "src_name": self._names[s],
            "tgt_name": self._names[t],
        }


class PosePairs(Dataset[dict[str, Any]]):
    """Pose-only pairs for flow-regressor training, from an annotation dict.

    One sample per source pose; its partner is, with probability ``cross_fraction``, a pose of another
    identity, else another pose of the same identity (another identity when it has no second pose).
    ``split`` in {"train", "val", "all"}: identities from ``split_identities`` (same rule and seed as
    ``PoseTransferPairs``, so validation identities never leak). Identities come from ``pids``
    (name -> pid) or, by default, from Market-1501 names (junk and distractors dropped). ``names``
    optionally restricts the poses used (e.g. to the images present). Val partners are fixed (epoch 0).
    """

    def __init__(
        self,
        annotations: Annotations,
        split: str = "train",
        cross_fraction: float = 0.5,
        min_joints: int = 8,
        val_fraction: float = 0.1,
        seed: int = 0,
        pids: Mapping[str, int] | None = None,
        names: Sequence[str] | None = None,
    ) -> None:
        if split not in ("train", "val", "all"):
            raise ConfigError(f"PosePairs: split must be 'train', 'val' or 'all', got {split!r}")
        if not 0.0 <= cross_fraction <= 1.0:
            raise ConfigError(f"PosePairs: cross_fraction must be in [0, 1], got {cross_fraction}")
        ann = _load_annotations(annotations, Path())
        self.split = split
        self.cross_fraction = float(cross_fraction)
        self.seed = int(seed)
        self.epoch = 0
        wanted = set(names) if names is not None else None
        pid_of: dict[str, int] = {}
        for n in ann:
            if wanted is not None and n not in wanted:
                continue
            if pids is not None:
                if n in pids:
                    pid_of[n] = int(pids[n])
                continue
            pid = parse_market_name(n).pid
            if pid > 0:
                pid_of[n] = pid
        if split != "all":
            keep = _split_pids(list(pid_of.values()), split, val_fraction, self.seed)
            pid_of = {n: p for n, p in pid_of.items() if p in keep}
        self._names = sorted(n for n in pid_of if _n_joints(ann[n]) >= min_joints)
        if not self._names:
            raise DataError(f"PosePairs: no {split} poses with >= {min_joints} joints")
        self._kps = np.stack([np.asarray(ann[n], dtype=np.float32) for n in self._names])
        self._groups = _Groups(np.array([pid_of[n] for n in self._names], dtype=np.int64))
        self._multi_id = len(self._groups.members) >= 2
        if not self._multi_id and all(len(m) < 2 for m in self._groups.members.values()):
            raise DataError("PosePairs: a single pose cannot form a pair")

    def set_epoch(self, epoch: int) -> None:
        """Re-draw the partners (train/all; val stays fixed); same worker caveat as PoseTransferPairs."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self._names)

    def _pair(self, index: int) -> tuple[int, int, bool]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} poses")
        rng = _rng(self.seed, 0 if self.split == "val" else self.epoch, index)
        want_cross = rng.random() < self.cross_fraction
        can_same = self._groups.group_size(index) >= 2
        if self._multi_id and (want_cross or not can_same):
            return index, self._groups.other(index, rng), False
        return index, self._groups.same(index, rng), True

    def __getitem__(self, index: int) -> dict[str, Any]:
        s, t, same = self._pair(index)
        return {
            "src_kp": torch.from_numpy(self._kps[s].copy()),
            "tgt_kp": torch.from_numpy(self._kps[t].copy()),
            "src_name": self._names[s],
            "tgt_name": self._names[t],
            "same_identity": same,
        }
