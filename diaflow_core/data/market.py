"""Market-1501 file names and folder layout.

Convention: names are ``PPPP_cCsS_FFFFFF_BB.jpg`` (person id, camera 1-6, sequence, frame, box);
pid -1 marks junk boxes, pid 0 distractors. A few official names end in ``.jpg.jpg``; they are kept as is.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from diaflow_core.errors import DataError

__all__ = [
    "IMAGE_EXTENSIONS",
    "MARKET_SPLITS",
    "TORCHREID_PATTERN",
    "MarketName",
    "MarketRecord",
    "MarketRoot",
    "parse_market_name",
    "torchreid_parse",
]

# Split name -> folder under the Market root.
MARKET_SPLITS: dict[str, str] = {
    "train": "bounding_box_train",
    "test": "bounding_box_test",
    "query": "query",
}
# Annotation CSV per split (query images are drawn from bounding_box_test).
_ANNOTATION_CSV = {
    "train": "market-annotation-train.csv",
    "test": "market-annotation-test.csv",
    "query": "market-annotation-test.csv",
}
_PAIRS_CSV = "market-pairs-test.csv"

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")

# What torchreid / fast-reid use to read pid and camera: re.search over the WHOLE path.
TORCHREID_PATTERN = re.compile(r"([-\d]+)_c(\d)")

_NAME = re.compile(r"^(-1|\d+)_c(\d)s(\d+)_(\d+)_(\d+)(?:\.(?:jpe?g|png|bmp))+$", re.IGNORECASE)


@dataclass(frozen=True)
class MarketName:
    """A parsed Market-1501 file name."""

    pid: int
    camera: int
    sequence: int
    frame: int
    box: int
    name: str

    @property
    def is_junk(self) -> bool:
        return self.pid == -1

    @property
    def is_distractor(self) -> bool:
        return self.pid == 0


@dataclass(frozen=True)
class MarketRecord:
    """One image of a Market split."""

    path: Path
    name: MarketName


def parse_market_name(name: str | os.PathLike[str]) -> MarketName:
    """Parse a Market-1501 file name (a path's base name is used); DataError when it does not fit."""
    base = Path(name).name
    m = _NAME.match(base)
    if m is None:
        raise DataError(f"{name}: not a Market-1501 name (expected PPPP_cCsS_FFFFFF_BB.jpg)")
    pid, cam, seq, frame, box = (int(g) for g in m.groups())
    return MarketName(pid=pid, camera=cam, sequence=seq, frame=frame, box=box, name=base)


def torchreid_parse(path: str | os.PathLike[str]) -> tuple[int, int]:
    """``(pid, camera)`` exactly as torchreid's Market reader reads them (first match in the whole path)."""
    m = TORCHREID_PATTERN.search(str(path))
    if m is None:
        raise DataError(f"{path}: torchreid cannot parse a pid and camera from this path")
    return int(m.group(1)), int(m.group(2))


class MarketRoot:
    """A Market-1501 folder: ``bounding_box_train/``, ``bounding_box_test/``, ``query/`` and the CSVs."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataError(f"{self.root}: Market-1501 root not found")

    def folder(self, split: str) -> Path:
        if split not in MARKET_SPLITS:
            raise DataError(f"unknown Market split {split!r}; expected one of {sorted(MARKET_SPLITS)}")
        return self.root / MARKET_SPLITS[split]

    def images(self, split: str) -> list[MarketRecord]:
        """All images of a split (junk and distractors included), sorted by file name."""
        folder = self.folder(split)
        if not folder.is_dir():
            raise DataError(f"{folder}: Market-1501 {split} folder not found")
        records = []
        with os.scandir(folder) as it:
            for entry in it:
                if entry.is_file() and entry.name.lower().endswith(IMAGE_EXTENSIONS):
                    records.append(MarketRecord(path=Path(entry.path), name=parse_market_name(entry.name)))
        records.sort(key=lambda r: r.name.name)
        return records

    def annotation_csv(self, split: str) -> Path:
        """The keypoint CSV covering a split (may not exist)."""
        self.folder(split)
        return self.root / _ANNOTATION_CSV[split]

    def pairs_csv(self) -> Path:
        """The standard pose-transfer test pairs (may not exist)."""
        return self.root / _PAIRS_CSV
