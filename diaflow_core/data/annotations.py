"""Keypoint annotation CSVs in the pose-transfer format.

Convention: header ``name:keypoints_y:keypoints_x``, then one row per image
``NAME: [y0, ..., y17]: [x0, ..., x17]`` with -1 = missing. In memory a pose is float32 ``(18, 2)``
in (x, y) order with NaN for a missing joint (see ``diaflow_core.pose``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from diaflow_core.errors import DataError
from diaflow_core.fileio import replace_text

__all__ = ["ANNOTATION_HEADER", "AnnotationReport", "RowProblem", "read_annotations", "write_annotations"]

ANNOTATION_HEADER = "name:keypoints_y:keypoints_x"
_ROW = re.compile(r"^\s*([^:\s]+)\s*:\s*\[([^\]]*)\]\s*:\s*\[([^\]]*)\]\s*$")
_MISSING = -1.0
_N = 18


@dataclass(frozen=True)
class RowProblem:
    """One malformed row: where and what."""

    file: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.problem}"


@dataclass(frozen=True)
class AnnotationReport:
    """What reading an annotation file found: rows kept and malformed rows skipped."""

    file: str
    rows: int
    problems: tuple[RowProblem, ...] = ()

    @property
    def skipped(self) -> int:
        return len(self.problems)


def _parse_list(text: str, what: str) -> np.ndarray:
    parts = [p for p in text.replace(",", " ").split()]
    if len(parts) != _N:
        raise ValueError(f"{what} has {len(parts)} values, expected {_N}")
    try:
        values = np.array([float(p) for p in parts], dtype=np.float32)
    except ValueError:
        raise ValueError(f"{what} has a non-numeric value") from None
    if not np.isfinite(values).all():
        raise ValueError(f"{what} has a non-finite value")
    return values


def _parse_row(line: str) -> tuple[str, np.ndarray]:
    m = _ROW.match(line)
    if m is None:
        raise ValueError("expected 'NAME: [y0, ..., y17]: [x0, ..., x17]'")
    ys = _parse_list(m.group(2), "the y list")
    xs = _parse_list(m.group(3), "the x list")
    kp = np.stack([xs, ys], axis=1)
    kp[(xs == _MISSING) | (ys == _MISSING)] = np.nan
    return m.group(1), kp


def read_annotations(
    csv_path: str | os.PathLike[str], on_error: Literal["raise", "skip"] = "raise"
) -> tuple[dict[str, np.ndarray], AnnotationReport]:
    """Read a keypoint CSV into ``{name: (18, 2) float32, NaN-missing}`` plus a report.

    ``on_error="raise"``: the first malformed row raises DataError naming file and line;
    ``"skip"``: malformed rows (and repeated names, the first wins) are left out and listed in the report.
    A missing file or a wrong header always raises.
    """
    if on_error not in ("raise", "skip"):
        raise DataError(f"read_annotations: on_error must be 'raise' or 'skip', got {on_error!r}")
    path = Path(csv_path)
    if not path.is_file():
        raise DataError(f"{path}: annotation file not found")
    poses: dict[str, np.ndarray] = {}
    first_line: dict[str, int] = {}
    problems: list[RowProblem] = []
    with path.open("r", encoding="utf-8") as f:
        header = f.readline().strip()
        if header.replace(" ", "") != ANNOTATION_HEADER:
            raise DataError(f"{path}:1: expected the header {ANNOTATION_HEADER!r}, got {header[:80]!r}")
        for lineno, line in enumerate(f, start=2):
            if not line.strip():
                continue
            try:
                name, kp = _parse_row(line)
                if name in poses:
                    raise ValueError(f"repeated name {name} (first at line {first_line[name]})")
            except ValueError as e:
                if on_error == "raise":
                    raise DataError(f"{path}:{lineno}: {e}") from None
                problems.append(RowProblem(str(path), lineno, str(e)))
                continue
            poses[name] = kp
            first_line[name] = lineno
    return poses, AnnotationReport(file=str(path), rows=len(poses), problems=tuple(problems))


def _format_values(values: np.ndarray) -> str:
    out = []
    for v in values.tolist():
        if v != v:  # NaN
            out.append("-1")
        elif float(v).is_integer():
            out.append(str(int(v)))
        else:
            out.append(repr(float(np.float32(v))))
    return "[" + ", ".join(out) + "]"


def write_annotations(path: str | os.PathLike[str], poses: Mapping[str, np.ndarray]) -> None:
    """Write ``{name: (18, 2) (x, y) NaN-missing}`` in the CSV format above, atomically (temp file, replace).

    Convention: rows keep the mapping's order; integral coordinates are written as integers.
    """
    path = Path(path)
    lines = [ANNOTATION_HEADER]
    for name, kp in poses.items():
        if not name or any(c in name for c in ":\n\r\t ,[]"):
            raise DataError(f"{path}: cannot write the image name {name!r} (no ':', spaces, ',' or brackets)")
        arr = np.asarray(kp, dtype=np.float32)
        if arr.shape != (_N, 2):
            raise DataError(f"{path}: pose for {name} has shape {arr.shape}, expected ({_N}, 2)")
        arr = np.where(np.isnan(arr).any(axis=1, keepdims=True), np.float32(np.nan), arr)
        lines.append(f"{name}: {_format_values(arr[:, 1])}: {_format_values(arr[:, 0])}")
    replace_text(path, "\n".join(lines) + "\n")
