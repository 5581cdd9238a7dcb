"""Shipped model weights (safetensors) and where to find user-supplied ones.

Shipped files live beside this module as `<name>.safetensors` with `<name>.json` (recipe, numbers, hash).
`DIAFLOW_WEIGHTS` (a folder) takes precedence, so users can drop in better weights without reinstalling.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..errors import WeightsError

__all__ = ["DEFAULT_GENERATOR", "weights_dirs", "find_weights", "list_weights", "file_sha256", "read_meta"]

_HERE = Path(__file__).resolve().parent
# The generator loaded unless another name is asked for (the identity-tuned one; generator_ssim ships beside it).
DEFAULT_GENERATOR = "generator"


def weights_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("DIAFLOW_WEIGHTS"):
        dirs.append(Path(os.environ["DIAFLOW_WEIGHTS"]))
    dirs.append(_HERE)
    return dirs


def find_weights(name: str, required: bool = True) -> Path | None:
    """Locate `<name>.safetensors` in the search folders (user folder first)."""
    for d in weights_dirs():
        p = d / f"{name}.safetensors"
        if p.is_file():
            return p
    if required:
        searched = ", ".join(str(d) for d in weights_dirs())
        raise WeightsError(f"no weights named {name!r}: looked for {name}.safetensors in {searched}")
    return None


def list_weights() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for d in reversed(weights_dirs()):
        if d.is_dir():
            for p in sorted(d.glob("*.safetensors")):
                found[p.stem] = p
    return found


def file_sha256(path: str | os.PathLike[str], length: int = 12) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:length]


def read_meta(weights_path: Path) -> dict[str, Any]:
    """The JSON sidecar (recipe + measured numbers); empty when absent."""
    meta = weights_path.with_suffix(".json")
    if not meta.is_file():
        return {}
    try:
        return json.loads(meta.read_text())
    except json.JSONDecodeError as exc:
        raise WeightsError(f"{meta}: unreadable metadata: {exc}") from exc
