"""Re-ID image records (path, person id, camera) and how to list them from Market-style folders.

Convention: pid -1 is junk (never a match, never trained on), pid 0 is a distractor (a valid gallery
entry of no query identity), cameras count from 1. Generated samples carry the name of the real image
they were rendered from in ``source`` so evaluations can leave that image out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..data.market import MarketRoot
from ..data.splits import split_identities
from ..errors import DataError

# The pattern torchreid applies to Market names: "<pid>_c<camera>..."; pid may be -1 (junk).
_MARKET_RE = re.compile(r"^([-\d]+)_c(\d)")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass(frozen=True)
class ReidRecord:
    """One re-ID image; ``source`` names the real image a generated sample was made from."""

    path: Path
    pid: int
    camera: int
    source: str | None = None

    @property
    def name(self) -> str:
        return self.path.name


def parse_pid_camera(name: str) -> tuple[int, int]:
    """(pid, camera) from a Market-style file name such as ``0002_c1s1_000451_03.jpg``."""
    m = _MARKET_RE.match(Path(name).name)
    if m is None:
        raise DataError(f"{name}: not a Market-1501 style name (expected '<pid>_c<camera>...')")
    return int(m.group(1)), int(m.group(2))


def folder_records(folder: str | Path, source_of: dict[str, str] | None = None) -> list[ReidRecord]:
    """Every image of a folder of Market-named files, sorted by name (deterministic order).

    ``source_of`` maps a file name to the name of its source image (from a generation manifest).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: image folder not found")
    records = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in _IMAGE_SUFFIXES:
            continue
        pid, cam = parse_pid_camera(path.name)
        src = source_of.get(path.name) if source_of else None
        records.append(ReidRecord(path, pid, cam, src))
    if not records:
        raise DataError(f"{folder}: no images found")
    return records


def market_records(root: str | Path, split: str) -> list[ReidRecord]:
    """Records of one Market-1501 split ("train", "test" = gallery, "query"), junk included."""
    return as_records(MarketRoot(root).images(split))


def as_records(items: Iterable[Any]) -> list[ReidRecord]:
    """Normalise records of other modules (anything with ``.path`` and pid/camera or a Market name)."""
    out = []
    for item in items:
        if isinstance(item, ReidRecord):
            out.append(item)
            continue
        path = Path(item.path)
        # pid / camera on the item itself, on its parsed name (MarketRecord.name), or from the file name
        name = getattr(item, "name", None)
        holder = item if hasattr(item, "pid") else name if hasattr(name, "pid") else None
        if holder is not None:
            pid, cam = holder.pid, holder.camera
        else:
            pid, cam = parse_pid_camera(path.name)
        out.append(ReidRecord(path, int(pid), int(cam), getattr(item, "source", None)))
    return out


def trainable(records: Sequence[ReidRecord]) -> list[ReidRecord]:
    """Records a classifier may learn from: junk (-1) and distractors (0) have no identity."""
    return [r for r in records if r.pid > 0]


@dataclass(frozen=True)
class ValidationSplit:
    train: list[ReidRecord]
    query: list[ReidRecord]
    gallery: list[ReidRecord]


def validation_split(records: Sequence[ReidRecord], val_fraction: float, seed: int = 0) -> ValidationSplit:
    """Hold out a share of the training identities (``data.splits.split_identities``, the same split
    the rest of the project uses) as a small query/gallery set for checkpoint selection, so the real
    test split is never used for it.

    Like this project's ``query/``: one query per (identity, camera), drawn with ``seed``, for
    identities seen by two or more cameras; every held-out image stays in the gallery (the protocol
    drops same-camera matches, so a query never finds itself).
    """
    if val_fraction <= 0:
        return ValidationSplit(list(records), [], [])
    _, val_pids = split_identities((r.pid for r in records if r.pid > 0), val_fraction, seed)
    held = set(val_pids)
    train = [r for r in records if r.pid not in held]
    gallery = [r for r in records if r.pid in held]
    by_view: dict[tuple[int, int], list[ReidRecord]] = {}
    for r in gallery:
        by_view.setdefault((r.pid, r.camera), []).append(r)
    num_cams: dict[int, int] = {}
    for pid, _ in by_view:
        num_cams[pid] = num_cams.get(pid, 0) + 1
    g = torch.Generator().manual_seed(seed)
    query = [
        views[int(torch.randint(len(views), (1,), generator=g))]
        for (pid, _), views in sorted(by_view.items())
        if num_cams[pid] >= 2
    ]
    return ValidationSplit(train, query, gallery)
