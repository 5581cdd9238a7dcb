"""The lifted 3D proxy body: one frame per part, batched.

Convention: camera space in PIXELS, x right, y down, z away from the camera (right-handed);
orthographic projection drops z, so a 3D point (x, y, z) lands on image point (x, y) with pixel
centre i at coordinate i. Smaller z is nearer. Every array has a leading batch dimension B; parts
follow ``config.PARTS``.

Each part is a primitive in a frame that moves with its bone: ``origin`` (start joint), ``axis``
(start -> end, its length is the bone length), unit vectors ``e1`` (the body's forward direction made
perpendicular to the axis) and ``e2`` (completing the frame), radii ``rad1`` along e1 and ``rad2``
along e2 at the start, scaled by ``1 + taper * t`` along the bone (t in [0, 1]). The head is an
ellipsoid spanning the axis (bottom -> top) with half-axes rad1, rad2 and |axis| / 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from diaflow_core.errors import DataError
from diaflow_core.proxy3d.config import NUM_PARTS

__all__ = ["Body3D"]


@dataclass(frozen=True)
class Body3D:
    """A batch of lifted bodies (arrays, no behaviour beyond shape checks).

    Fields (B = batch, P = NUM_PARTS): ``joints`` (B, 18, 3) float32, NaN where neither annotated nor
    derived; ``origin``/``axis``/``e1``/``e2`` (B, P, 3) float32; ``rad1``/``rad2``/``taper`` (B, P)
    float32; ``present`` (B, P) bool (the part exists); ``imputed`` (B, P) bool (the part rests on a
    guessed joint: never counted as visible); ``scale`` (B,) pixels per torso unit; ``yaw`` (B,)
    radians, 0 = facing the camera, +pi/2 = facing +x (the person's right side toward the camera).
    """

    joints: np.ndarray
    origin: np.ndarray
    axis: np.ndarray
    e1: np.ndarray
    e2: np.ndarray
    rad1: np.ndarray
    rad2: np.ndarray
    taper: np.ndarray
    present: np.ndarray
    imputed: np.ndarray
    scale: np.ndarray
    yaw: np.ndarray

    def __post_init__(self) -> None:
        b = self.scale.shape[0]
        want = {
            "joints": (b, 18, 3),
            "origin": (b, NUM_PARTS, 3),
            "axis": (b, NUM_PARTS, 3),
            "e1": (b, NUM_PARTS, 3),
            "e2": (b, NUM_PARTS, 3),
            "rad1": (b, NUM_PARTS),
            "rad2": (b, NUM_PARTS),
            "taper": (b, NUM_PARTS),
            "present": (b, NUM_PARTS),
            "imputed": (b, NUM_PARTS),
            "yaw": (b,),
        }
        for name, shape in want.items():
            got = getattr(self, name).shape
            if got != shape:
                raise DataError(f"Body3D.{name}: expected shape {shape}, got {got}")

    @property
    def batch_size(self) -> int:
        return int(self.scale.shape[0])

    def select(self, index: int | slice) -> Body3D:
        """The bodies at a batch index (as a batch of one) or slice."""
        sl = index if isinstance(index, slice) else slice(index, index + 1)
        return Body3D(**{k: getattr(self, k)[sl] for k in self.__dataclass_fields__})
