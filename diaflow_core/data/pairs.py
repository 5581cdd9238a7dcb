"""Pose-transfer pair lists (``from,to`` CSV, e.g. the standard ``market-pairs-test.csv``)."""

from __future__ import annotations

import csv
import os
from collections.abc import Collection, Iterable
from pathlib import Path

from diaflow_core.errors import DataError

__all__ = ["present_pairs", "read_pairs"]


def read_pairs(csv_path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Read ``(source_name, target_name)`` pairs from a CSV with header ``from,to``; DataError names bad lines."""
    path = Path(csv_path)
    if not path.is_file():
        raise DataError(f"{path}: pairs file not found")
    pairs: list[tuple[str, str]] = []
    with path.open("r", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != ["from", "to"]:
            raise DataError(f"{path}:1: expected the header 'from,to', got {header!r}")
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != 2 or not row[0].strip() or not row[1].strip():
                raise DataError(f"{path}:{reader.line_num}: expected 'source,target', got {row!r}")
            pairs.append((row[0].strip(), row[1].strip()))
    return pairs


def present_pairs(
    pairs: Iterable[tuple[str, str]], available_names: Collection[str]
) -> tuple[list[tuple[str, str]], int]:
    """Keep the pairs whose two names are both in ``available_names``; returns ``(kept, n_skipped)``."""
    avail = available_names if isinstance(available_names, set | frozenset | dict) else set(available_names)
    kept: list[tuple[str, str]] = []
    skipped = 0
    for a, b in pairs:
        if a in avail and b in avail:
            kept.append((a, b))
        else:
            skipped += 1
    return kept, skipped
