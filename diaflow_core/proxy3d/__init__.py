"""The 3D proxy body: lift 2D poses, render orthographically, and derive intrinsic appearance flow.

Convention: keypoints (18, 2) / (B, 18, 2) (x, y) pixels, NaN = missing; flow (2, H, W) / (B, 2, H, W)
float32 backward target -> source in pixels; visibility uint8 0 = visible in source, 1 = hidden in
source, 2 = background (DESIGN.md sections 2 and 3; details in ``correspond``).
"""

from __future__ import annotations

from diaflow_core.proxy3d.baseline import affine_limb_flow
from diaflow_core.proxy3d.body import Body3D
from diaflow_core.proxy3d.config import DEFAULT_CONFIG, NUM_PARTS, PARTS, ProxyBodyConfig
from diaflow_core.proxy3d.correspond import compute_flow, compute_flow_batch, flow_between_bodies, lift_pair
from diaflow_core.proxy3d.fit import WIDTH_GROUPS, fit_widths, mask_is_usable
from diaflow_core.proxy3d.geometry import decode_points, encode_hits
from diaflow_core.proxy3d.lift import lift_pose
from diaflow_core.proxy3d.render import RenderResult, nearest_depth, render
from diaflow_core.proxy3d.segment import MaskCache, PersonSegmenter
from diaflow_core.proxy3d.torch_flow import compute_flow_batch_torch, flow_between_bodies_torch

__all__ = [
    "DEFAULT_CONFIG",
    "NUM_PARTS",
    "PARTS",
    "WIDTH_GROUPS",
    "Body3D",
    "MaskCache",
    "PersonSegmenter",
    "ProxyBodyConfig",
    "RenderResult",
    "affine_limb_flow",
    "compute_flow",
    "compute_flow_batch",
    "compute_flow_batch_torch",
    "decode_points",
    "encode_hits",
    "fit_widths",
    "flow_between_bodies",
    "flow_between_bodies_torch",
    "lift_pair",
    "lift_pose",
    "mask_is_usable",
    "nearest_depth",
    "render",
]
