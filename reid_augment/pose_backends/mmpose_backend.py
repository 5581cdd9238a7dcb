"""MMPose top-down adapter (optional): the whole crop is the person box, COCO-17 -> OpenPose-18.

mmpose needs mmcv compiled from source, so it is never a dependency; without it this backend raises
BackendUnavailable with the install steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from diaflow_core.errors import BackendUnavailable
from diaflow_core.pose import coco17_to_openpose18

__all__ = ["MmposeBackend"]

_INSTALL = (
    "mmpose is not installed. Install it yourself (pip install -U openmim && mim install mmengine "
    "'mmcv>=2.0' && pip install mmpose; mmcv compiles for ~15 min) and pass --mmpose-config and "
    "--mmpose-checkpoint for a COCO-17 top-down model"
)


class MmposeBackend:
    """Top-down inference on each crop with a user-supplied config and checkpoint."""

    name = "mmpose"

    def __init__(self, config: str | None = None, checkpoint: str | None = None, device: str = "cpu",
                 kp_threshold: float = 0.3) -> None:  # fmt: skip
        try:
            from mmpose.apis import inference_topdown, init_model
        except ImportError:
            raise BackendUnavailable(f"mmpose backend: {_INSTALL}") from None
        if not config or not checkpoint:
            raise BackendUnavailable("mmpose backend: pass a model config and a checkpoint file (no downloads)")
        self._infer = inference_topdown
        self._model: Any = init_model(config, checkpoint, device=device)
        self.kp_threshold = kp_threshold

    def estimate(self, images: Sequence[np.ndarray], names: Sequence[str]) -> list[np.ndarray | None]:
        out: list[np.ndarray | None] = []
        for img in images:
            h, w = img.shape[:2]
            results = self._infer(self._model, img[..., ::-1].copy(), np.array([[0, 0, w, h]], np.float32))
            if not results:
                out.append(None)
                continue
            inst = results[0].pred_instances
            out.append(coco17_to_openpose18(inst.keypoints[0], inst.keypoint_scores[0], self.kp_threshold))
        return out
