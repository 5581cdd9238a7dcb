"""Pictures for people: the contact sheet of sources and their samples, and the pose bank's skeletons.

Convention: images are uint8 RGB ``(H, W, 3)``; cells are Market-sized (128 x 64) unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from diaflow_core.pose import draw_pose

from .pose_bank import PoseBank

__all__ = ["bank_sheet", "contact_sheet"]

_GAP = 4
_BG = (24, 24, 24)


def _fit_cell(img: np.ndarray, cell: tuple[int, int]) -> np.ndarray:
    h, w = cell
    if img.shape[:2] == (h, w):
        return img
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)


def _label(img: np.ndarray, text: str, y: int, x: int = 3, scale: float = 0.35) -> None:
    cv2.putText(img, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 2, cv2.LINE_AA)
    cv2.putText(img, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)


def contact_sheet(
    rows: Sequence[tuple[np.ndarray, Sequence[np.ndarray]]],
    cell: tuple[int, int] = (128, 64),
    labels: Sequence[str] | None = None,
) -> np.ndarray:
    """One row per source: the source, a gap, then its samples; each cell resized to ``cell`` (H, W)."""
    if not rows:
        canvas = np.full((cell[0], cell[1] * 3, 3), _BG, np.uint8)
        _label(canvas, "no samples", cell[0] // 2)
        return canvas
    h, w = cell
    ncols = max(len(samples) for _, samples in rows)
    width = _GAP + w + 3 * _GAP + ncols * (w + _GAP)
    canvas = np.full((_GAP + len(rows) * (h + _GAP), width, 3), _BG, np.uint8)
    for r, (src, samples) in enumerate(rows):
        y = _GAP + r * (h + _GAP)
        canvas[y : y + h, _GAP : _GAP + w] = _fit_cell(src, cell)
        if labels is not None:
            _label(canvas, labels[r], y + 10, _GAP + 2, 0.3)
        x0 = _GAP + w + 3 * _GAP
        for c, img in enumerate(samples):
            x = x0 + c * (w + _GAP)
            canvas[y : y + h, x : x + w] = _fit_cell(img, cell)
    return canvas


def bank_sheet(bank: PoseBank, columns: int = 12, scale: int = 2) -> np.ndarray:
    """Every bank pose drawn on a dark cell, grouped by view, labelled with view and cluster size."""
    h, w = bank.size
    ch, cw = h * scale, w * scale
    order = sorted(range(len(bank)), key=lambda i: (bank.views[i], -int(bank.counts[i])))
    rows = (len(order) + columns - 1) // columns
    canvas = np.full((_GAP + rows * (ch + _GAP), _GAP + columns * (cw + _GAP), 3), _BG, np.uint8)
    for n, i in enumerate(order):
        y = _GAP + (n // columns) * (ch + _GAP)
        x = _GAP + (n % columns) * (cw + _GAP)
        tile = np.full((ch, cw, 3), (48, 48, 56), np.uint8)
        tile = draw_pose(tile, bank.poses[i] * scale, joint_radius=2, thickness=2)
        _label(tile, f"{i} {bank.views[i]}", 12)
        _label(tile, f"n={int(bank.counts[i])}", ch - 6)
        canvas[y : y + ch, x : x + cw] = tile
    return canvas
