"""Finding people in full frames and cutting Market-style crops out of them.

Detectors: OpenCV's HOG people detector (always there, offline; best on upright pedestrians at least
~100 px tall) and ultralytics YOLO (optional extra, much better). Crops keep the person's aspect: the box
is widened or heightened to 2:1 (H:W) with a margin, then resized to 128 x 64.

Convention: boxes are ``(x0, y0, x1, y1)`` float pixels of the frame, x1/y1 exclusive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from diaflow_core.errors import ConfigError

__all__ = [
    "DETECTORS",
    "CropTransform",
    "Detection",
    "Detector",
    "HogDetector",
    "YoloDetector",
    "crop_person",
    "make_detector",
    "nms",
]

DETECTORS: tuple[str, ...] = ("hog", "yolo")


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]
    score: float

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


@runtime_checkable
class Detector(Protocol):
    name: str

    def detect(self, frame: np.ndarray) -> list[Detection]:
        """People in a uint8 RGB frame, best first."""
        ...


@dataclass(frozen=True)
class CropTransform:
    """Frame -> crop pixel mapping: crop = (frame - origin) * scale."""

    origin: tuple[float, float]
    scale: float

    def to_crop(self, kp: np.ndarray) -> np.ndarray:
        return ((np.asarray(kp, np.float32) - np.array(self.origin, np.float32)) * self.scale).astype(np.float32)

    def to_frame(self, kp: np.ndarray) -> np.ndarray:
        return (np.asarray(kp, np.float32) / self.scale + np.array(self.origin, np.float32)).astype(np.float32)


def nms(dets: Sequence[Detection], iou: float = 0.45) -> list[Detection]:
    """Greedy non-maximum suppression, highest score first."""
    kept: list[Detection] = []
    for d in sorted(dets, key=lambda d: -d.score):
        x0, y0, x1, y1 = d.box
        area = (x1 - x0) * (y1 - y0)
        ok = True
        for k in kept:
            a0, b0, a1, b1 = k.box
            inter = max(0.0, min(x1, a1) - max(x0, a0)) * max(0.0, min(y1, b1) - max(y0, b0))
            union = area + (a1 - a0) * (b1 - b0) - inter
            if union > 0 and inter / union > iou:
                ok = False
                break
        if ok:
            kept.append(d)
    return kept


class HogDetector:
    """OpenCV's default people detector (Dalal-Triggs HOG + linear SVM, 64 x 128 window).

    Small frames are upscaled so that people of ``min_height`` px reach the 128 px window.
    """

    name = "hog"

    def __init__(self, min_height: int = 96, threshold: float = 0.3, scale: float = 1.05) -> None:
        self.min_height = min_height
        self.threshold = threshold
        self.scale = scale
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def detect(self, frame: np.ndarray) -> list[Detection]:
        up = max(1.0, 128.0 / self.min_height)
        img = cv2.resize(frame, None, fx=up, fy=up, interpolation=cv2.INTER_LINEAR) if up > 1 else frame
        gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        rects, weights = self._hog.detectMultiScale(gray, winStride=(8, 8), padding=(16, 16), scale=self.scale)
        dets = [
            Detection((x / up, y / up, (x + w) / up, (y + h) / up), float(s))
            for (x, y, w, h), s in zip(np.asarray(rects).reshape(-1, 4), np.asarray(weights).reshape(-1), strict=True)
            if float(s) >= self.threshold
        ]
        return nms(dets)


class YoloDetector:
    """Person boxes from an ultralytics model (a pose or a detection model; class 0 = person)."""

    name = "yolo"

    def __init__(self, weights: str = "yolo11n-pose.pt", conf: float = 0.3, device: str = "cpu") -> None:
        from .pose_backends.yolo import load_yolo

        self._model = load_yolo(weights)
        self.conf = conf
        self.device = device

    def detect(self, frame: np.ndarray) -> list[Detection]:
        (res,) = self._model.predict(
            np.ascontiguousarray(frame[..., ::-1]), conf=self.conf, device=self.device, classes=[0], verbose=False
        )
        if res.boxes is None or len(res.boxes) == 0:
            return []
        boxes = res.boxes.xyxy.cpu().numpy()
        scores = res.boxes.conf.cpu().numpy()
        return sorted((Detection(tuple(map(float, b)), float(s)) for b, s in zip(boxes, scores, strict=True)),
                      key=lambda d: -d.score)  # fmt: skip


def make_detector(name: str, **options: object) -> Detector:
    if name == "hog":
        return HogDetector()
    if name == "yolo":
        return YoloDetector(**options)  # type: ignore[arg-type]
    raise ConfigError(f"unknown detector {name!r}; expected one of {', '.join(DETECTORS)}")


def crop_person(
    frame: np.ndarray, box: Sequence[float], size: Sequence[int] = (128, 64), margin: float = 0.08
) -> tuple[np.ndarray, CropTransform]:
    """Cut a ``size`` (H, W) crop around ``box``: margin added, grown to the crop's aspect, border replicated
    where it leaves the frame. Returns the crop and the frame->crop transform."""
    h, w = int(size[0]), int(size[1])
    x0, y0, x1, y1 = (float(v) for v in box)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    bh = (y1 - y0) * (1 + 2 * margin)
    bw = (x1 - x0) * (1 + 2 * margin)
    bh = max(bh, bw * h / w)
    scale = h / bh
    ox, oy = cx - (w / scale) / 2, cy - bh / 2
    m = np.array([[scale, 0, -ox * scale], [0, scale, -oy * scale]], np.float64)
    crop = cv2.warpAffine(frame, m, (w, h), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return crop, CropTransform((ox, oy), scale)
