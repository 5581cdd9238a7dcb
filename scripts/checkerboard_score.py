"""Mean checkerboard score (`diaflow_core.metrics.checkerboard_score`) of the images in one or more folders.

For comparing generators on the same inputs, e.g. the `augment` folders of two weight files made with one seed:

    python scripts/checkerboard_score.py out/aug_a out/aug_b [--limit 300] [--json report.json]

Images: *.jpg / *.png under each folder (recursive, `preview.png` left out), the first `--limit` in path order.
Printed and reported x 1e-3.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from diaflow_core.fileio import report_json
from diaflow_core.metrics import checkerboard_score


def folder_score(folder: Path, limit: int) -> tuple[float, int]:
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in {".jpg", ".png"} and p.name != "preview.png")
    files = files[:limit]
    if not files:
        raise SystemExit(f"{folder}: no .jpg / .png images")
    scores = [checkerboard_score(np.asarray(Image.open(f).convert("RGB"))).item() for f in files]
    return float(np.mean(scores)), len(files)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--limit", type=int, default=300)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    out = {}
    for d in args.folders:
        mean, n = folder_score(d, args.limit)
        out[str(d)] = {"checkerboard_x1e3": round(1e3 * mean, 3), "images": n}
        print(f"{d}: {1e3 * mean:.2f} x 1e-3 over {n} images", flush=True)
    report_json(out, args.json)


if __name__ == "__main__":
    main()
