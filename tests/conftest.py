"""Shared fixtures: device, the real-data root (skipped when absent), offline environment."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Offline guards for third-party libraries, set before anything imports them.
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="yolo_cfg_"))

REPO_ROOT = Path(__file__).resolve().parents[1]


def _data_root() -> Path:
    env = os.environ.get("DIAFLOW_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_root() -> Path:
    return _data_root()


@pytest.fixture(scope="session")
def market_root() -> Path:
    """The real Market-1501 subset; tests using it skip with a reason when it is absent."""
    root = Path(os.environ.get("DIAFLOW_MARKET", _data_root() / "market1501"))
    if not (root / "bounding_box_train").is_dir():
        pytest.skip(f"Market-1501 not found at {root} (set DIAFLOW_MARKET or DIAFLOW_DATA)")
    return root


def _devices() -> list[str]:
    import torch

    devs = ["cpu"]
    if torch.cuda.is_available():
        devs.append("cuda")
    return devs


@pytest.fixture(params=_devices())
def device(request: pytest.FixtureRequest) -> str:
    return request.param
