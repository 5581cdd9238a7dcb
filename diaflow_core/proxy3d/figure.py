"""One pair as a debugging picture: images, both proxy bodies, flow, visibility, warped source.

Convention: images (H, W, 3) uint8 RGB of one size; keypoints (18, 2) (x, y) pixels in that image;
the picture is uint8 RGB, one labelled tile per panel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from diaflow_core.errors import DataError
from diaflow_core.ops import warp
from diaflow_core.pose import draw_pose
from diaflow_core.proxy3d.config import ProxyBodyConfig
from diaflow_core.proxy3d.correspond import flow_between_bodies, lift_pair
from diaflow_core.proxy3d.render import render
from diaflow_core.viz import flow_to_color, label_image, make_grid, parts_to_color, visibility_to_color

__all__ = ["PairFigure", "pair_figure"]


@dataclass(frozen=True)
class PairFigure:
    """The picture and what went into it: flow (2, H, W), visibility (H, W), the warped source
    (H, W, 3) uint8, yaw (degrees) and scale (pixels per torso unit) of source and target."""

    picture: np.ndarray
    flow: np.ndarray
    vis: np.ndarray
    warped: np.ndarray
    yaw_deg: tuple[float, float]
    scale: tuple[float, float]


def pair_figure(
    src_img: np.ndarray,
    tgt_img: np.ndarray,
    src_kp: np.ndarray,
    tgt_kp: np.ndarray,
    src_widths: np.ndarray | None = None,
    cfg: ProxyBodyConfig | None = None,
) -> PairFigure:
    """Compute the proxy-body flow for one pair and lay out: source, target (with skeletons), source
    body, target body (parts, brighter = facing forward), flow (colour wheel, body only), visibility
    (green visible / red hidden / grey background), source warped by the flow (background black)."""
    src_img, tgt_img = np.asarray(src_img), np.asarray(tgt_img)
    if src_img.shape != tgt_img.shape or src_img.ndim != 3 or src_img.dtype != np.uint8:
        raise DataError(f"pair_figure: expected two uint8 RGB images of one size, got {src_img.shape}, {tgt_img.shape}")
    size = src_img.shape[:2]
    src_body, tgt_body = lift_pair(src_kp, tgt_kp, size, cfg, src_widths=src_widths)
    flow, vis = flow_between_bodies(src_body, tgt_body, size, cfg)
    flow, vis = flow[0], vis[0]
    rs, rt = render(src_body, size), render(tgt_body, size)
    x = torch.from_numpy(src_img.transpose(2, 0, 1)[None].astype(np.float32))
    warped = warp(x, torch.from_numpy(flow[None]), padding_mode="border")[0].numpy().transpose(1, 2, 0)
    warped = warped.clip(0, 255).round().astype(np.uint8)
    warped[vis == 2] = 0
    tiles = [
        ("source", draw_pose(src_img.copy(), src_kp)),
        ("target", draw_pose(tgt_img.copy(), tgt_kp)),
        ("src body", parts_to_color(rs.part[0], (rs.q1[0] + 1) / 2)),
        ("tgt body", parts_to_color(rt.part[0], (rt.q1[0] + 1) / 2)),
        ("flow", flow_to_color(flow, mask=vis < 2)),
        ("visibility", visibility_to_color(vis)),
        ("warped src", warped),
    ]
    picture = make_grid([label_image(t, name) for name, t in tiles], ncols=len(tiles))
    return PairFigure(
        picture=picture,
        flow=flow,
        vis=vis,
        warped=warped,
        yaw_deg=(float(np.degrees(src_body.yaw[0])), float(np.degrees(tgt_body.yaw[0]))),
        scale=(float(src_body.scale[0]), float(tgt_body.scale[0])),
    )
