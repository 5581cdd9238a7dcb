"""MediaPipe BlazePose (the legacy ``mp.solutions.pose`` graph its wheel ships), one person per crop.

Market crops are 128 x 64: BlazePose finds them far more reliably after upscaling and padding to a square
with a neutral border, as its detector was trained on larger, less tightly cropped people.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

import cv2
import numpy as np

from diaflow_core.errors import BackendUnavailable
from diaflow_core.pose import blazepose33_to_openpose18

__all__ = ["MediapipeBackend"]


class MediapipeBackend:
    """BlazePose (model_complexity=1, static images) -> OpenPose-18 in the crop's pixels."""

    name = "mediapipe"

    def __init__(
        self, min_height: int = 384, min_visibility: float = 0.5, min_confidence: float = 0.3,
        outside_margin: float = 0.15,
    ) -> None:  # fmt: skip
        self.outside_margin = outside_margin
        self.min_height = min_height
        self.min_visibility = min_visibility
        self.min_confidence = min_confidence
        self._pose = None

    def _model(self):  # noqa: ANN202 - mediapipe has no type stubs
        if self._pose is None:
            os.environ.setdefault("GLOG_minloglevel", "2")
            try:
                import mediapipe as mp
            except ImportError as e:
                raise BackendUnavailable(f"mediapipe pose backend: cannot import mediapipe ({e})") from None
            self._pose = mp.solutions.pose.Pose(
                static_image_mode=True, model_complexity=1, min_detection_confidence=self.min_confidence
            )
        return self._pose

    def _prepare(self, img: np.ndarray) -> tuple[np.ndarray, float, int, int]:
        """Upscale to ``min_height`` and pad to a square; returns (image, scale, pad_x, pad_y)."""
        h, w = img.shape[:2]
        s = max(1.0, self.min_height / h)
        big = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_CUBIC) if s > 1 else img
        bh, bw = big.shape[:2]
        side = max(bh, bw)
        px, py = (side - bw) // 2, (side - bh) // 2
        fill = [int(v) for v in np.median(big.reshape(-1, 3), axis=0)]
        sq = cv2.copyMakeBorder(big, py, side - bh - py, px, side - bw - px, cv2.BORDER_CONSTANT, value=fill)
        return np.ascontiguousarray(sq), s, px, py

    def estimate(self, images: Sequence[np.ndarray], names: Sequence[str]) -> list[np.ndarray | None]:
        model = self._model()
        out: list[np.ndarray | None] = []
        for img in images:
            sq, s, px, py = self._prepare(img)
            with warnings.catch_warnings():  # protobuf deprecation noise on every call
                warnings.simplefilter("ignore", UserWarning)
                res = model.process(sq)
            if res.pose_landmarks is None:
                out.append(None)
                continue
            lm = res.pose_landmarks.landmark
            side = sq.shape[0]
            xy = np.array([[p.x * side, p.y * side] for p in lm], dtype=np.float32)
            vis = np.array([p.visibility for p in lm], dtype=np.float32)
            xy = (xy - np.array([px, py], np.float32)) / np.float32(s)
            kp = blazepose33_to_openpose18(xy, vis, self.min_visibility)
            h, w = img.shape[:2]
            # Tight crops cut elbows and shoulders: joints a little outside are kept; far-off guesses are not.
            mx, my = self.outside_margin * w, self.outside_margin * h
            x, y = kp[:, 0], kp[:, 1]
            kp[(x < -mx) | (x > w - 1 + mx) | (y < -my) | (y > h - 1 + my)] = np.nan
            out.append(kp)
        return out

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None
