"""What to augment: a Market-1501 root, a ``<pid>/`` folder tree, or a folder of Market-named crops.

Each source image gets an output folder and a stem under which its original and its samples are written.
In the ``market`` layout every stem parses with torchreid's ``([-\\d]+)_c(\\d)`` rule: Market-named files
keep their name; other files are renamed ``PPPP_cCs1_NNNNNN_00`` (camera 1 when unknown).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from diaflow_core.data.generic import read_identity_folders
from diaflow_core.data.market import IMAGE_EXTENSIONS, MarketRoot, parse_market_name
from diaflow_core.errors import DataError

__all__ = ["Layout", "SourceImage", "SourceSet", "discover_sources"]

Layout = Literal["market", "per-id"]
_CARRY_SPLITS = ("query", "bounding_box_test")


@dataclass(frozen=True)
class SourceImage:
    """One image to re-pose."""

    path: Path
    pid: int
    camera: int
    out_dir: str  # relative to the output root
    stem: str  # output file stem of the original; samples are <stem>_gNNN

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower() or ".jpg"


@dataclass(frozen=True)
class SourceSet:
    """Images to augment, files to carry over untouched, keypoint CSVs found, files left out and why."""

    kind: Literal["market", "identity-folders", "crops"]
    images: tuple[SourceImage, ...]
    carry: tuple[tuple[Path, str], ...] = ()  # (file, destination relative to the output root)
    annotation_csvs: tuple[Path, ...] = ()
    rejected: tuple[tuple[Path, str], ...] = field(default=())


def _images_in(folder: Path) -> list[Path]:
    with os.scandir(folder) as it:
        return sorted(Path(e.path) for e in it if e.is_file() and e.name.lower().endswith(IMAGE_EXTENSIONS))


def _market_stem(name: str) -> str:
    base = Path(name).name
    for ext in IMAGE_EXTENSIONS:  # official names may end in .jpg.jpg
        while base.lower().endswith(ext):
            base = base[: -len(ext)]
    return base


def _from_market(root: Path, layout: Layout) -> SourceSet:
    market = MarketRoot(root)
    images = tuple(
        SourceImage(
            path=r.path,
            pid=r.name.pid,
            camera=r.name.camera,
            out_dir="bounding_box_train" if layout == "market" else f"{r.name.pid:04d}",
            stem=_market_stem(r.name.name),
        )
        for r in market.images("train")
    )
    carry: list[tuple[Path, str]] = []
    if layout == "market":
        for split in _CARRY_SPLITS:
            folder = root / split
            if folder.is_dir():
                carry += [(p, f"{split}/{p.name}") for p in _images_in(folder)]
    csvs = tuple(p for p in sorted(root.glob("*annotation*.csv")) if p.is_file())
    return SourceSet("market", images, tuple(carry), csvs)


def _from_identity_folders(root: Path, layout: Layout) -> SourceSet:
    images: list[SourceImage] = []
    counters: dict[int, int] = {}
    records = read_identity_folders(root)
    # Named (non-numeric) folders are numbered from 0; shift to 1 so no one becomes Market's pid 0 (distractor).
    shift = 0 if all(r.identity.lstrip("-").isdigit() for r in records) else 1
    for rec in records:
        rec = replace(rec, pid=rec.pid + shift)
        camera = rec.camera if rec.camera > 0 else 1
        try:
            parsed = parse_market_name(rec.path.name)
            keep = parsed.pid == rec.pid
        except DataError:
            keep = False
        if keep:
            stem = _market_stem(rec.path.name)
        else:
            n = counters.get(rec.pid, 0)
            counters[rec.pid] = n + 1
            stem = f"{rec.pid:04d}_c{camera}s1_{n:06d}_00"
        out_dir = "bounding_box_train" if layout == "market" else rec.identity
        images.append(SourceImage(rec.path, rec.pid, camera, out_dir, stem))
    csvs = tuple(p for p in sorted(root.glob("*annotation*.csv")) if p.is_file())
    return SourceSet("identity-folders", tuple(images), (), csvs)


def _from_crops(root: Path, layout: Layout) -> SourceSet:
    images: list[SourceImage] = []
    rejected: list[tuple[Path, str]] = []
    for p in _images_in(root):
        try:
            name = parse_market_name(p.name)
        except DataError:
            rejected.append((p, "not a Market-1501 name (PPPP_cCsS_FFFFFF_BB.jpg)"))
            continue
        if name.pid <= 0:
            rejected.append((p, "junk or distractor id"))
            continue
        out_dir = "bounding_box_train" if layout == "market" else f"{name.pid:04d}"
        images.append(SourceImage(p, name.pid, name.camera, out_dir, _market_stem(p.name)))
    if not images:
        raise DataError(f"{root}: no Market-named crops found (PPPP_cCsS_FFFFFF_BB.jpg)")
    csvs = tuple(p for p in sorted(root.glob("*annotation*.csv")) if p.is_file())
    return SourceSet("crops", tuple(images), (), csvs, tuple(rejected))


def discover_sources(source: str | os.PathLike[str], layout: Layout = "market") -> SourceSet:
    """Find what to augment under ``source`` (see the module doc); DataError naming the folder otherwise."""
    root = Path(source)
    if layout not in ("market", "per-id"):
        raise DataError(f"unknown layout {layout!r}; expected 'market' or 'per-id'")
    if not root.is_dir():
        raise DataError(f"{root}: source folder not found")
    if (root / "bounding_box_train").is_dir():
        return _from_market(root, layout)
    if any(p.is_dir() and not p.name.startswith(".") for p in root.iterdir()):
        return _from_identity_folders(root, layout)
    if _images_in(root):
        return _from_crops(root, layout)
    raise DataError(f"{root}: not a Market-1501 root (bounding_box_train/), a <pid>/ folder tree, or a folder of crops")
