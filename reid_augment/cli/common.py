"""Small helpers shared by the CLI commands: device names and the default Market-1501 root."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["FLIP_AVERAGE_HELP", "GENERATOR_NAME_HELP", "device_name", "market_root"]

DEFAULT_MARKET = Path("..") / "shared" / "data" / "market1501"

GENERATOR_NAME_HELP = (
    "Generator weights by name in the weights folder: generator (default: the identity-tuned and the SSIM-tuned "
    "generators added; its samples keep identity best) or generator_ssim (picked by validation SSIM: higher SSIM "
    "and masked SSIM, softer textures, less identity; docs/evaluation.md)."
)

FLIP_AVERAGE_HELP = (
    "Average each output with the mirrored person's output mirrored back: twice the compute, higher SSIM on the "
    "test pairs, but less identity in re-ID samples (docs/evaluation.md)."
)


def device_name(name: str) -> str:
    """'auto' -> 'cuda' when torch sees a GPU, else 'cpu'; other names pass through after a check."""
    from diaflow_core.train.common import resolve_device

    return str(resolve_device(name))


def market_root(data: Path | None) -> Path:
    """An explicit --data, else $DIAFLOW_MARKET, else $DIAFLOW_DATA/market1501, else ../shared/data/market1501."""
    if data is not None:
        return data
    if os.environ.get("DIAFLOW_MARKET"):
        return Path(os.environ["DIAFLOW_MARKET"])
    if os.environ.get("DIAFLOW_DATA"):
        return Path(os.environ["DIAFLOW_DATA"]) / "market1501"
    return DEFAULT_MARKET
