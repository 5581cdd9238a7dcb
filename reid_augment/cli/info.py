"""`reid-augment info`: what this installation can do."""

from __future__ import annotations

import importlib
import importlib.metadata as md
import os
from pathlib import Path

from rich.console import Console
from rich.table import Table

from diaflow_core import __version__
from diaflow_core.weights import list_weights, read_meta

_PACKAGES = (
    "torch",
    "torchvision",
    "numpy",
    "opencv-python",
    "mediapipe",
    "albumentations",
    "typer",
    "safetensors",
    "scikit-image",
    "torchmetrics",
    "ultralytics",
    "mmpose",
)


def _numbers(figures: dict) -> str:
    """Figures of a weight file's sidecar, floats to 4 significant digits; paths and lists left out."""
    return ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in figures.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    )


def _version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "-"


def _backend_status() -> list[tuple[str, bool, str]]:
    rows: list[tuple[str, bool, str]] = [("annotations", True, "dataset keypoint CSV (always available)")]
    try:
        mp = importlib.import_module("mediapipe")
        model = Path(mp.__file__).parent / "modules" / "pose_landmark" / "pose_landmark_full.tflite"
        rows.append(
            (
                "mediapipe",
                model.is_file(),
                f"BlazePose full, {'shipped' if model.is_file() else 'model missing'}",
            )
        )
    except Exception as exc:  # an import failure is what we report, whatever its type
        rows.append(("mediapipe", False, f"not importable: {exc}"))
    try:
        importlib.import_module("ultralytics")
        rows.append(
            (
                "yolo",
                True,
                "ultralytics installed (AGPL-3.0); weights download on first use or --yolo-weights",
            )
        )
    except Exception:
        rows.append(("yolo", False, r"pip install 'diaflow\[yolo]' (AGPL-3.0)"))
    try:
        importlib.import_module("mmpose")
        rows.append(("mmpose", True, "installed"))
    except Exception:
        rows.append(("mmpose", False, "optional manual install (see README)"))
    return rows


def info() -> None:
    import torch

    con = Console()
    con.print(f"[bold]reid-augment[/] {__version__}")
    t = Table(title="packages", show_header=True)
    t.add_column("package")
    t.add_column("version")
    for p in _PACKAGES:
        t.add_row(p, _version(p))
    con.print(t)
    dev = "cuda: " + torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu only"
    con.print(f"torch device: {dev}; threads: {torch.get_num_threads()}")
    b = Table(title="pose backends")
    b.add_column("backend")
    b.add_column("usable")
    b.add_column("note")
    for name, ok, note in _backend_status():
        b.add_row(name, "yes" if ok else "no", note)
    con.print(b)
    w = Table(title="weights found")
    w.add_column("name")
    w.add_column("file")
    w.add_column("numbers")
    found = list_weights()
    for name, path in found.items():
        meta = read_meta(path)
        test = (meta.get("trained") or {}).get("test") or {}
        lines = [f"validation: {_numbers(meta.get('metrics', {}))}"] + ([f"test: {_numbers(test)}"] if test else [])
        w.add_row(name, str(path), "\n".join(lines))
    if not found:
        w.add_row("-", "none shipped or in $DIAFLOW_WEIGHTS", "")
    con.print(w)
    data_env = os.environ.get("DIAFLOW_DATA")
    roots = [Path(data_env)] if data_env else []
    roots.append(Path.cwd().parent / "shared" / "data")
    for r in roots:
        market = r / "market1501"
        status = "found" if (market / "bounding_box_train").is_dir() else "absent"
        con.print(f"data root {r}: market1501 {status}")
