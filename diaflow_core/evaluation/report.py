"""Writing transfer-evaluation results: a JSON report and a PNG grid of examples.

Convention: the JSON holds the primary method's ``ssim``, ``masked_ssim``, ``psnr`` and ``pairs`` at the top
level, every method under ``methods``, the metric settings, the hardware and the wall time; non-finite
numbers are written as null. The grid's columns are pairs; its rows: source, target, then one row per
method (uint8 RGB, a label strip on the left).
"""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from diaflow_core.data import read_image
from diaflow_core.errors import DataError
from diaflow_core.evaluation.transfer import TransferReport
from diaflow_core.fileio import replace_text

__all__ = ["hardware_info", "transfer_summary", "write_grid", "write_transfer_json"]

_LABEL_W = 120


def hardware_info(device: str | torch.device) -> dict[str, Any]:
    """CPU, thread count, torch version and the accelerator used."""
    dev = torch.device(device)
    info: dict[str, Any] = {
        "device": str(dev),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    if dev.type == "cuda" and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(dev)
    return info


def _clean(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    return x


def transfer_summary(
    reports: Sequence[TransferReport],
    primary: str | None = None,
    settings: Mapping[str, Any] | None = None,
    skipped_methods: Mapping[str, str] | None = None,
    hardware: Mapping[str, Any] | None = None,
    wall_s: float | None = None,
    weights: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The JSON-ready dict of a run (``primary`` defaults to the first report).

    ``weights``: per trained method, the provenance of its weights (``PoseTransfer.provenance``: files, variant,
    epochs, validation numbers, training time and hardware), written under that method as ``weights``.
    """
    if not reports:
        raise DataError("transfer_summary: no method was evaluated")
    by_name = {r.method: r for r in reports}
    main = by_name.get(primary or reports[0].method, reports[0])
    out: dict[str, Any] = {
        "primary": main.method,
        "pairs": main.count,
        "ssim": main.means.get("ssim"),
        "ssim_gaussian": main.means.get("ssim_gaussian"),
        "masked_ssim": main.means.get("masked_ssim"),
        "masked_ssim_gaussian": main.means.get("masked_ssim_gaussian"),
        "psnr": main.means.get("psnr"),
        "l1": main.means.get("l1"),
        "methods": {
            r.method: {
                **r.means,
                "pairs": r.count,
                "wall_s": r.wall_s,
                "skipped": dict(r.skipped),
                **({"weights": dict(weights[r.method])} if weights and r.method in weights else {}),
            }
            for r in reports
        },
        "skipped_methods": dict(skipped_methods or {}),
        "settings": dict(settings or {}),
        "hardware": dict(hardware or {}),
        "wall_time_s": wall_s,
    }
    return _clean(out)


def write_transfer_json(path: str | os.PathLike[str], summary: Mapping[str, Any]) -> Path:
    """Write ``summary`` (see ``transfer_summary``) as indented JSON; returns the path."""
    return replace_text(path, json.dumps(_clean(dict(summary)), indent=2, allow_nan=False) + "\n")


def _label(text: str, h: int) -> np.ndarray:
    strip = np.full((h, _LABEL_W, 3), 255, np.uint8)
    cv2.putText(strip, text[:18], (4, h // 2 + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return strip


def write_grid(
    path: str | os.PathLike[str],
    market_root: str | os.PathLike[str],
    reports: Sequence[TransferReport],
    columns: int = 8,
) -> Path:
    """PNG grid of the first ``columns`` pairs: rows source, target, then each report's outputs."""
    if not reports:
        raise DataError("write_grid: no method was evaluated")
    n = min([columns, len(reports[0].pairs)] + [len(r.samples) for r in reports])
    if n == 0:
        raise DataError("write_grid: the reports hold no sample images (keep_samples = 0?)")
    folder = Path(market_root) / "bounding_box_test"
    pairs = reports[0].pairs[:n]
    rows = [
        ("source", [read_image(folder / a) for a, _ in pairs]),
        ("target", [read_image(folder / b) for _, b in pairs]),
    ]
    rows += [(r.method, list(r.samples[:n])) for r in reports]
    h = rows[0][1][0].shape[0]
    lines = [np.concatenate([_label(name, h), *imgs], axis=1) for name, imgs in rows]
    grid = np.concatenate(lines, axis=0)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(p), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR)):
        raise DataError(f"{p}: cannot write the grid image")
    return p
