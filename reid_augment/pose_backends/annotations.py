"""Poses read from a dataset's keypoint CSV (the Market-1501 pose-transfer annotations)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from diaflow_core.data.annotations import read_annotations
from diaflow_core.errors import DataError

__all__ = ["AnnotationsBackend"]


class AnnotationsBackend:
    """Looks each image up by file name; None when the CSV has no row for it.

    Convention: the CSV's coordinates are pixels of the image file as stored (Market crops: 128 x 64).
    """

    name = "annotations"

    def __init__(self, poses: Mapping[str, np.ndarray], description: str = "") -> None:
        self.poses = dict(poses)
        self.description = description

    @classmethod
    def from_csv(cls, paths: Iterable[str | os.PathLike[str]]) -> AnnotationsBackend:
        """Merge one or more CSVs (malformed rows are skipped; an absent file raises DataError)."""
        poses: dict[str, np.ndarray] = {}
        names = []
        for p in paths:
            found, _ = read_annotations(p, on_error="skip")
            for k, v in found.items():
                poses.setdefault(k, v)
            names.append(Path(p).name)
        if not names:
            raise DataError("annotations backend: no keypoint CSV given or found next to the images")
        return cls(poses, ", ".join(names))

    def estimate(self, images: Sequence[np.ndarray], names: Sequence[str]) -> list[np.ndarray | None]:
        out: list[np.ndarray | None] = []
        for name in names:
            kp = self.poses.get(Path(name).name)
            out.append(None if kp is None else kp.copy())
        return out
