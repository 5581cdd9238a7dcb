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
# Precision "auto" means bf16 on CPUs with native bf16 (AMX, AVX512-BF16); tests pin it to fp32 so results
# do not depend on the CPU model (test_precision.py asks for bf16 explicitly).
os.environ.setdefault("DIAFLOW_CPU_BF16", "0")

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


# A standing person in a 128x64 crop, OpenPose-18 order, (x, y) pixels.
STANDING_POSE = [
    (32, 10),
    (32, 24),
    (22, 25),
    (19, 42),
    (18, 58),
    (42, 25),
    (45, 42),
    (46, 58),
    (26, 62),
    (26, 88),
    (26, 114),
    (38, 62),
    (38, 88),
    (38, 114),
    (30, 8),
    (34, 8),
    (27, 10),
    (37, 10),
]


def _draw_person(kp, rng):
    import cv2
    import numpy as np

    img = np.full((128, 64, 3), rng.integers(60, 200, 3), np.uint8)
    shirt = tuple(int(c) for c in rng.integers(0, 255, 3))
    trousers = tuple(int(c) for c in rng.integers(0, 255, 3))
    limbs = [
        (1, 2, shirt),
        (2, 3, shirt),
        (3, 4, shirt),
        (1, 5, shirt),
        (5, 6, shirt),
        (6, 7, shirt),
        (1, 8, shirt),
        (1, 11, shirt),
        (8, 9, trousers),
        (9, 10, trousers),
        (11, 12, trousers),
        (12, 13, trousers),
    ]
    for a, b, col in limbs:
        pa, pb = kp[a], kp[b]
        cv2.line(img, (int(pa[0]), int(pa[1])), (int(pb[0]), int(pb[1])), col, 7)
    cv2.circle(img, (int(kp[0][0]), int(kp[0][1])), 6, (200, 170, 150), -1)
    return img


@pytest.fixture()
def tiny_market(tmp_path):
    """A Market-1501-shaped folder of drawn people: 6 ids x 3 images in train, 3 ids x 2 in test, with keypoint
    CSVs (Market's y-list / x-list format) and a pairs CSV. Returns the root."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    root = tmp_path / "market"
    base = np.array(STANDING_POSE, np.float32)
    for split, csv_name, pids, per in (
        ("bounding_box_train", "market-annotation-train.csv", range(1, 7), 3),
        ("bounding_box_test", "market-annotation-test.csv", range(11, 14), 2),
    ):
        (root / split).mkdir(parents=True)
        lines = ["name:keypoints_y:keypoints_x"]
        for pid in pids:
            for k in range(per):
                kp = base + rng.normal(0, 2.0, base.shape).astype(np.float32)
                kp[:, 0] += rng.uniform(-4, 4)
                name = f"{pid:04d}_c{1 + k % 6}s1_{100 * k + pid:06d}_01.jpg"
                cv2.imwrite(str(root / split / name), _draw_person(kp, rng))
                ys = [int(round(v)) for v in kp[:, 1]]
                xs = [int(round(v)) for v in kp[:, 0]]
                lines.append(f"{name}: {ys}: {xs}")
        (root / csv_name).write_text("\n".join(lines) + "\n")
    test_names = sorted(p.name for p in (root / "bounding_box_test").iterdir())
    (root / "query").mkdir()
    pairs = ["from,to"] + [f"{a},{b}" for a, b in zip(test_names[::2], test_names[1::2], strict=False)]
    (root / "market-pairs-test.csv").write_text("\n".join(pairs) + "\n")
    return root


@pytest.fixture()
def standing_pose():
    """STANDING_POSE as a float32 (18, 2) numpy array."""
    import numpy as np

    return np.array(STANDING_POSE, np.float32)
