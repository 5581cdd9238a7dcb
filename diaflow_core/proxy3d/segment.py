"""Person masks for silhouette fitting: mediapipe selfie segmentation on upscaled crops, with a cache.

Convention: images are (H, W, 3) uint8 RGB; masks are (H, W) float32 probabilities in [0, 1] at the
image's own resolution. The selfie model is made for close-up people: a pedestrian crop is
upscaled (``upscale``) and centred on a square grey canvas first, which was clearly the best of the
variants tried on Market-1501 crops (``docs/proxy_body.md``). The model ships inside the mediapipe
wheel (legacy ``mp.solutions.selfie_segmentation``), so nothing is downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from diaflow_core.errors import BackendUnavailable, DataError

__all__ = ["MaskCache", "PersonSegmenter"]


class PersonSegmenter:
    """Wraps mediapipe's selfie segmentation (model 0, general) for pedestrian crops."""

    def __init__(self, upscale: int = 4, model_selection: int = 0) -> None:
        try:
            import mediapipe as mp
        except ImportError as e:  # pragma: no cover - mediapipe is a hard dependency here
            raise BackendUnavailable(f"mediapipe is not importable: {e}") from None
        try:
            self._seg = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=model_selection)
        except Exception as e:  # mediapipe raises plain RuntimeError / AttributeError
            raise BackendUnavailable(f"mediapipe selfie segmentation cannot start: {e}") from None
        self.upscale = int(upscale)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 RGB -> (H, W) float32 person probability."""
        import cv2

        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise DataError(f"PersonSegmenter: expected (H, W, 3) uint8 RGB, got {image.shape} {image.dtype}")
        h, w = image.shape[:2]
        big = cv2.resize(image, (w * self.upscale, h * self.upscale), interpolation=cv2.INTER_CUBIC)
        side = max(big.shape[:2])
        canvas = np.full((side, side, 3), 127, dtype=np.uint8)
        y0, x0 = (side - big.shape[0]) // 2, (side - big.shape[1]) // 2
        canvas[y0 : y0 + big.shape[0], x0 : x0 + big.shape[1]] = big
        prob = self._seg.process(canvas).segmentation_mask
        prob = prob[y0 : y0 + big.shape[0], x0 : x0 + big.shape[1]]
        return cv2.resize(prob, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)

    def close(self) -> None:
        self._seg.close()

    def __enter__(self) -> PersonSegmenter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MaskCache:
    """Masks on disk, one 8-bit PNG per image name under ``folder``, computed on first use."""

    def __init__(self, folder: str | os.PathLike[str], segmenter: PersonSegmenter | None = None) -> None:
        self.folder = Path(folder)
        self._segmenter = segmenter

    def path_for(self, image_path: str | os.PathLike[str]) -> Path:
        return self.folder / (Path(image_path).stem + ".png")

    def get(self, image_path: str | os.PathLike[str], image: np.ndarray | None = None) -> np.ndarray:
        """(H, W) float32 mask for ``image_path`` (RGB ``image`` may be passed to skip reading it)."""
        import cv2

        cached = self.path_for(image_path)
        if cached.is_file():
            m = cv2.imread(str(cached), cv2.IMREAD_GRAYSCALE)
            if m is None:
                raise DataError(f"{cached}: unreadable cached mask")
            return m.astype(np.float32) / 255.0
        if image is None:
            bgr = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
            if bgr is None:
                raise DataError(f"{image_path}: cannot read image")
            image = np.ascontiguousarray(bgr[:, :, ::-1])
        if self._segmenter is None:
            self._segmenter = PersonSegmenter()
        mask = self._segmenter(image)
        self.folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(cached), np.round(mask * 255.0).astype(np.uint8))
        return np.round(mask * 255.0) / 255.0
