"""Ultralytics YOLO-pose (optional extra, AGPL-3.0): 17 COCO joints -> OpenPose-18.

Weights: a local ``.pt`` path, a name ultralytics already has in its weights folder, or a ``.yaml`` model
definition (random weights: tests only). Nothing is downloaded: offline, an absent ``.pt`` is a clear
BackendUnavailable instead of a network wait.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from diaflow_core.errors import BackendUnavailable
from diaflow_core.pose import coco17_to_openpose18

__all__ = ["YoloBackend", "load_yolo"]

_INSTALL = "install the optional extra: pip install 'diaflow[yolo]' (ultralytics, AGPL-3.0)"


def _resolve_weights(weights: str) -> str:
    """A path that exists, or the ``.yaml`` name; BackendUnavailable instead of a download."""
    if weights.endswith((".yaml", ".yml")) or Path(weights).is_file():
        return weights
    try:
        from ultralytics.utils import SETTINGS

        cached = Path(SETTINGS.get("weights_dir", "")) / Path(weights).name
        if cached.is_file():
            return str(cached)
    except Exception:  # noqa: BLE001 - settings layout differs between versions; only a lookup
        pass
    raise BackendUnavailable(
        f"yolo: weights {weights!r} not found locally and downloads are off here; download "
        "yolo11n-pose.pt where there is internet and pass its path (e.g. --yolo-weights PATH)"
    )


def load_yolo(weights: str = "yolo11n-pose.pt") -> Any:
    """An ultralytics ``YOLO`` model, never downloading; BackendUnavailable when it cannot be had."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    try:
        from ultralytics import YOLO
    except ImportError:
        raise BackendUnavailable(f"yolo backend: ultralytics is not installed; {_INSTALL}") from None
    return YOLO(_resolve_weights(weights))


class YoloBackend:
    """The most confident person per crop (crops are upscaled by ultralytics' letterbox to ``imgsz``)."""

    name = "yolo"

    def __init__(
        self, weights: str = "yolo11n-pose.pt", conf: float = 0.25, kp_threshold: float = 0.3,
        imgsz: int = 320, device: str = "cpu",
    ) -> None:  # fmt: skip
        self.weights = weights
        self.conf = conf
        self.kp_threshold = kp_threshold
        self.imgsz = imgsz
        self.device = device
        self._model: Any = None

    def estimate(self, images: Sequence[np.ndarray], names: Sequence[str]) -> list[np.ndarray | None]:
        if self._model is None:
            self._model = load_yolo(self.weights)
        if not images:
            return []
        # ultralytics expects BGR numpy arrays.
        results = self._model.predict(
            [np.ascontiguousarray(im[..., ::-1]) for im in images],
            imgsz=self.imgsz, conf=self.conf, device=self.device, verbose=False,
        )  # fmt: skip
        return [self._best(r) for r in results]

    def _best(self, result: Any) -> np.ndarray | None:
        kps = getattr(result, "keypoints", None)
        if kps is None or kps.xy is None or len(kps.xy) == 0:
            return None
        xy = kps.xy.cpu().numpy().astype(np.float32)
        conf = kps.conf.cpu().numpy().astype(np.float32) if kps.conf is not None else np.ones(xy.shape[:2])
        boxes = result.boxes.conf.cpu().numpy() if result.boxes is not None else np.ones(len(xy))
        i = int(np.argmax(boxes))
        return coco17_to_openpose18(xy[i], conf[i], self.kp_threshold)
