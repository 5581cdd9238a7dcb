"""Keep the generated samples that still look like their own identity to a re-ID network.

A pose-transferred sample that a re-ID model takes for somebody else teaches the re-ID model a wrong label.
Its score here is the **identity margin**: cosine similarity of its (flip-averaged, L2-normalised) feature to
the centroid of its own identity's real images, minus the highest cosine similarity to the centroid of any
other identity. A margin > 0 means its nearest identity is its own. The sample's source image is left out of
its own centroid when the identity has other real images, so a sample is not rewarded for copying its input.

The scoring network should be a teacher trained on the same training split (e.g. the baseline arm of
`reid-augment reid-experiment`); it has seen these identities, which is what a filter wants: the question is
whether the generator kept the person, not whether the model generalises.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from diaflow_core.fileio import csv_text, replace_text

from ..errors import DataError
from .experiment import manifest_reader
from .features import extract_features
from .records import ReidRecord
from .transforms import read_rgb

__all__ = ["SampleScore", "identity_margins", "select_samples", "write_selection", "SKIP_FILES"]

# Files of an augmented root that describe the run, not the dataset: rewritten (manifest) or not carried.
SKIP_FILES = ("manifest.csv", "preview.png", "selection.json")


@dataclass(frozen=True)
class SampleScore:
    name: str  # file name of the generated sample
    pid: int
    margin: float  # own - best_other; nan when unscored
    own: float  # cosine to the own identity's centroid
    best_other: float  # highest cosine to another identity's centroid
    best_other_pid: int
    problem: str = ""  # why it was not scored (unreadable file, no real image of its identity)


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def _readable(path: Path) -> str:
    try:
        read_rgb(path)
    except Exception as exc:  # noqa: BLE001 - any decoder error is a bad file, reported by name
        return f"unreadable: {exc}"
    return ""


def identity_margins(
    model: nn.Module,
    generated: Sequence[ReidRecord],
    real: Sequence[ReidRecord],
    device: str | torch.device = "cpu",
    batch_size: int = 128,
    flip: bool = True,
) -> list[SampleScore]:
    """One SampleScore per generated record, in order. ``real``: identity images (pid > 0 are used)."""
    real = [r for r in real if r.pid > 0]
    if len({r.pid for r in real}) < 2:
        raise DataError("identity margins need real images of at least two identities")
    size = model.config.size  # type: ignore[union-attr]
    rf = _unit(extract_features(model, [r.path for r in real], size, batch_size, device, flip).double())
    pids = sorted({r.pid for r in real})
    col = {p: i for i, p in enumerate(pids)}
    r_cols = torch.tensor([col[r.pid] for r in real])
    sums = torch.zeros(len(pids), rf.shape[1], dtype=torch.float64).index_add_(0, r_cols, rf)
    counts = torch.bincount(r_cols, minlength=len(pids))
    centroids = _unit(sums)
    by_name = {r.name: i for i, r in enumerate(real)}

    problems = [_readable(g.path) if g.pid in col else f"no real image of identity {g.pid}" for g in generated]
    ok = [i for i, p in enumerate(problems) if not p]
    gf = _unit(extract_features(model, [generated[i].path for i in ok], size, batch_size, device, flip).double())
    sims = gf @ centroids.T  # (n_ok, n_ids)

    out: list[SampleScore | None] = [None] * len(generated)
    for row, i in enumerate(ok):
        g = generated[i]
        c = col[g.pid]
        src = by_name.get(g.source or "")
        if src is not None and real[src].pid == g.pid and counts[c] > 1:  # leave the source out of its centroid
            own_vec = _unit((sums[c] - rf[src])[None])[0]
            own = float(gf[row] @ own_vec)
        else:
            own = float(sims[row, c])
        others = sims[row].clone()
        others[c] = -float("inf")
        j = int(others.argmax())
        out[i] = SampleScore(g.name, g.pid, own - float(others[j]), own, float(others[j]), pids[j])
    for i, p in enumerate(problems):
        if p:
            g = generated[i]
            out[i] = SampleScore(g.name, g.pid, float("nan"), float("nan"), float("nan"), 0, p)
    return [s for s in out if s is not None]


def select_samples(
    scores: Sequence[SampleScore], min_margin: float | None = 0.0, keep_fraction: float | None = None
) -> np.ndarray:
    """Boolean keep mask: scored samples with margin >= ``min_margin`` (None: no threshold) and, with
    ``keep_fraction``, among the best that fraction of all scored samples (ties broken by name)."""
    if keep_fraction is not None and not 0.0 < keep_fraction <= 1.0:
        raise DataError(f"keep_fraction must be in (0, 1], got {keep_fraction}")
    margins = np.array([s.margin for s in scores], dtype=np.float64)
    keep = ~np.isnan(margins)
    if min_margin is not None:
        keep &= np.nan_to_num(margins, nan=-np.inf) >= min_margin
    if keep_fraction is not None:
        scored = np.flatnonzero(~np.isnan(margins))
        n_keep = int(round(keep_fraction * len(scored)))
        order = sorted(scored, key=lambda i: (-margins[i], scores[i].name))
        top = np.zeros(len(scores), dtype=bool)
        top[order[:n_keep]] = True
        keep &= top
    return keep


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)  # same file system: no extra disk, no re-encoding
    except OSError:
        shutil.copy2(src, dst)


def _json_row(score: SampleScore, kept: bool) -> dict[str, Any]:
    row = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in asdict(score).items()}
    return {**row, "kept": kept}


def write_selection(
    augmented_root: str | Path,
    out_root: str | Path,
    generated: Sequence[ReidRecord],
    scores: Sequence[SampleScore],
    keep: np.ndarray,
    settings: dict[str, Any],
) -> dict[str, Any]:
    """A new augmented root: the kept samples and every other dataset file of ``augmented_root`` (originals,
    other splits) hard-linked (copied across file systems), its manifest reduced to the kept rows plus an
    ``id_margin`` column, and ``selection.json`` (settings, counts, every score). Refuses a non-empty
    ``out_root`` so nothing already written is overwritten."""
    src_root, dst_root = Path(augmented_root).resolve(), Path(out_root).resolve()
    if dst_root == src_root or src_root in dst_root.parents:
        raise DataError(f"{out_root}: the selection must go to a new folder outside {augmented_root}")
    if dst_root.exists() and any(dst_root.iterdir()):
        raise DataError(f"{out_root}: folder exists and is not empty; choose a new --out")
    if not (len(generated) == len(scores) == len(keep)):
        raise DataError("generated, scores and keep must have the same length")
    dropped = {g.path.resolve() for g, k in zip(generated, keep, strict=True) if not k}
    for path in sorted(src_root.rglob("*")):
        if not path.is_file() or path.resolve() in dropped or path.parent == src_root and path.name in SKIP_FILES:
            continue
        if any(part.startswith(".") for part in path.relative_to(src_root).parts):
            continue  # temporaries of an interrupted run
        _link_or_copy(path, dst_root / path.relative_to(src_root))

    margin_of = {s.name: s.margin for s in scores}
    kept_names = {g.name for g, k in zip(generated, keep, strict=True) if k}
    manifest = src_root / "manifest.csv"
    if manifest.is_file():
        reader = manifest_reader(manifest)
        fields = [*(reader.fieldnames or []), "id_margin"]
        kept_rows = (
            {**row, "id_margin": f"{margin_of[name]:.4f}"}
            for row in reader
            if (name := Path(row.get("generated") or "").name) in kept_names
        )
        replace_text(dst_root / "manifest.csv", csv_text(kept_rows, fields))

    margins = np.array([s.margin for s in scores if not s.problem], dtype=np.float64)
    quantiles = (
        {f"q{int(q * 100):02d}": float(np.quantile(margins, q)) for q in (0.1, 0.25, 0.5, 0.75, 0.9)}
        if margins.size
        else {}
    )
    summary = {
        "format": "diaflow-sample-selection",
        "format_version": 1,
        "augmented_root": str(augmented_root),
        "settings": settings,
        "samples": len(scores),
        "scored": int(margins.size),
        "kept": int(keep.sum()),
        "dropped": int(len(keep) - keep.sum()),
        "problems": [{"name": s.name, "problem": s.problem} for s in scores if s.problem],
        "margin": {"mean": float(margins.mean()) if margins.size else None, **quantiles},
        "own_nearest": float((margins > 0).mean()) if margins.size else None,
        "scores": [_json_row(s, bool(k)) for s, k in zip(scores, keep, strict=True)],
    }
    replace_text(dst_root / "selection.json", json.dumps(summary, indent=1))
    return summary
