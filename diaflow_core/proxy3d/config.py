"""Proxy-body configuration: part list, body proportions, radii and tolerances.

Convention: lengths and radii are in TORSO UNITS (the 3D distance neck -> mid-hip = 1); a lifted body
multiplies them by its scale ``s`` (pixels per torso unit). The defaults were read off the Market-1501
training annotations: limb lengths are about the 75th percentile of 2D bone length / torso length
(a higher percentile would call most standing legs foreshortened), widths the 90th percentile;
radii were set by eye against training crops (``docs/proxy_body.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from diaflow_core.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG",
    "KIND_CYLINDER",
    "KIND_ELLIPSOID",
    "NUM_PARTS",
    "PARTS",
    "PART_CAPS",
    "PART_KIND",
    "PART_ROUND_ENDS",
    "ProxyBodyConfig",
]

# Part order is part of the public contract (render maps store these indices; widths are per part).
PARTS: tuple[str, ...] = (
    "torso", "head", "neck",
    "r_upper_arm", "r_forearm", "l_upper_arm", "l_forearm",
    "r_thigh", "r_shin", "l_thigh", "l_shin",
    "r_foot", "l_foot",
)  # fmt: skip
NUM_PARTS = len(PARTS)

KIND_CYLINDER, KIND_ELLIPSOID = 0, 1
PART_KIND = np.array([KIND_CYLINDER, KIND_ELLIPSOID] + [KIND_CYLINDER] * (NUM_PARTS - 2), dtype=np.int8)
# Flat end caps (torso, neck) versus spherical ends (limbs, feet: tapered capsules).
PART_CAPS = np.array([1, 0, 1] + [0] * (NUM_PARTS - 3), dtype=bool)
PART_ROUND_ENDS = np.array([0, 0, 0] + [1] * (NUM_PARTS - 3), dtype=bool)


@dataclass(frozen=True)
class ProxyBodyConfig:
    """Everything that shapes the proxy body; immutable so a flow target is a pure function of it.

    Lengths (torso units): ``shoulder_width`` and ``hip_width`` are joint-to-joint; limb lengths are
    the unforeshortened 3D bone lengths used for ``|dz| = sqrt(L^2 - l^2)``.
    Radii (torso units): ``(start, end)`` along each bone (tapered capsules); the torso's are its
    half-widths at the neck and at the hip line, its depth is ``torso_depth_ratio`` times the width;
    the head is an ellipsoid ``head_radii`` = (half-width, half-depth, half-height).
    ``depth_tol`` (pixels): a mapped source point is visible when no surface lies more than this in
    front of it. ``frontal_cos``: a shoulder/hip width ratio (2D / expected) above this counts as
    squarely facing (or facing away from) the camera; the yaw estimate is too noisy near frontal to
    turn a torso by 20-30 degrees on a few pixels of width. ``scale_quantile``: which quantile of the
    per-bone scale estimates is the body scale (high, because foreshortening only ever shortens a bone).
    """

    shoulder_width: float = 0.90
    hip_width: float = 0.56
    upper_arm: float = 0.58
    forearm: float = 0.52
    thigh: float = 0.80
    shin: float = 0.80
    torso_radii: tuple[float, float] = (0.46, 0.42)
    torso_depth_ratio: float = 0.55
    torso_bottom_extend: float = 0.10
    head_radii: tuple[float, float, float] = (0.21, 0.24, 0.28)
    head_above_eyes: float = 0.03
    neck_radius: float = 0.12
    upper_arm_radii: tuple[float, float] = (0.12, 0.09)
    forearm_radii: tuple[float, float] = (0.09, 0.07)
    thigh_radii: tuple[float, float] = (0.16, 0.12)
    shin_radii: tuple[float, float] = (0.11, 0.08)
    foot_radii: tuple[float, float] = (0.08, 0.065)
    foot_length: float = 0.22
    foot_drop: float = 0.10
    scale_quantile: float = 0.75
    depth_tol: float = 1.0
    profile_cos: float = 0.35
    frontal_cos: float = 0.85
    width_range: tuple[float, float] = (0.6, 1.8)

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            vals = v if isinstance(v, tuple) else (v,)
            if not all(isinstance(x, int | float) and np.isfinite(x) for x in vals):
                raise ConfigError(f"ProxyBodyConfig.{f.name}: expected finite numbers, got {v!r}")
        if not 0.0 < self.scale_quantile <= 1.0:
            raise ConfigError(f"ProxyBodyConfig.scale_quantile: expected in (0, 1], got {self.scale_quantile}")
        if self.depth_tol < 0:
            raise ConfigError(f"ProxyBodyConfig.depth_tol: expected >= 0, got {self.depth_tol}")
        lo, hi = self.width_range
        if not 0 < lo <= 1.0 <= hi:
            raise ConfigError(f"ProxyBodyConfig.width_range: expected 0 < lo <= 1 <= hi, got {self.width_range}")

    def part_radii(self) -> np.ndarray:
        """(NUM_PARTS, 2) float32 start/end radii in torso units (head: half-width twice)."""
        r = np.array(
            [
                self.torso_radii,
                (self.head_radii[0], self.head_radii[0]),
                (self.neck_radius, self.neck_radius),
                self.upper_arm_radii,
                self.forearm_radii,
                self.upper_arm_radii,
                self.forearm_radii,
                self.thigh_radii,
                self.shin_radii,
                self.thigh_radii,
                self.shin_radii,
                self.foot_radii,
                self.foot_radii,
            ],
            dtype=np.float32,
        )
        if (r <= 0).any():
            raise ConfigError("ProxyBodyConfig: every radius must be positive")
        return r


DEFAULT_CONFIG = ProxyBodyConfig()
