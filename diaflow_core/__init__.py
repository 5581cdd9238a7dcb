"""diaflow_core: dense intrinsic appearance flow for human pose transfer (the model stack)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
