"""Pure tensor ops: flow <-> grid, warping, flow and visibility resizing.

Convention: flow (B, 2, H, W), (x, y), pixels, backward target->source; align_corners=False.
"""

from __future__ import annotations

from diaflow_core.ops.checks import ShapeError
from diaflow_core.ops.grid import flow_to_grid, warp
from diaflow_core.ops.resize import resize_flow, resize_flow_on_body
from diaflow_core.ops.visibility import NUM_VIS_CLASSES, one_hot_visibility, resize_visibility

__all__ = [
    "NUM_VIS_CLASSES",
    "ShapeError",
    "flow_to_grid",
    "one_hot_visibility",
    "resize_flow",
    "resize_flow_on_body",
    "resize_visibility",
    "warp",
]
