"""``reid-augment flow show``: the proxy-body flow ground truth of one image pair, as a picture."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import cv2
import numpy as np
import typer
from rich.console import Console

from diaflow_core.data.annotations import read_annotations
from diaflow_core.data.images import read_image
from diaflow_core.errors import DataError
from diaflow_core.proxy3d import MaskCache, fit_widths
from diaflow_core.proxy3d.figure import pair_figure

__all__ = ["find_keypoints", "flow_show"]

console = Console(stderr=True)


def find_keypoints(image: Path, annotations: Path | None) -> np.ndarray:
    """The image's (18, 2) keypoints from ``annotations``, or else from the Market CSVs
    (``market-annotation-*.csv``) in the folder above the image's folder."""
    csvs = [annotations] if annotations is not None else sorted(image.parent.parent.glob("market-annotation-*.csv"))
    if not csvs:
        raise DataError(f"{image}: no --annotations given and no market-annotation-*.csv in {image.parent.parent}")
    for csv in csvs:
        poses, _ = read_annotations(csv, on_error="skip")
        if image.name in poses:
            return poses[image.name]
    raise DataError(f"{image.name}: not found in {', '.join(str(c) for c in csvs)}")


def flow_show(
    src: Annotated[Path, typer.Argument(help="Source image (the appearance).")],
    tgt: Annotated[Path, typer.Argument(help="Target image (the pose).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="PNG to write.")] = Path("pair.png"),
    annotations: Annotated[
        Path | None,
        typer.Option(help="Keypoint CSV (default: the Market CSVs next to the images' parent folder)."),
    ] = None,
    fit: Annotated[bool, typer.Option(help="Fit part widths to a person mask of the source (mediapipe).")] = False,
    mask_cache: Annotated[Path, typer.Option(help="Folder caching person masks (with --fit).")] = Path(
        "runs/proxy_masks"
    ),
    zoom: Annotated[int, typer.Option(min=1, max=8, help="Enlarge the picture by this factor.")] = 2,
) -> None:
    """Draw source, target, both proxy bodies, the flow, the visibility and the warped source."""
    src_img, tgt_img = read_image(src), read_image(tgt)
    if src_img.shape != tgt_img.shape:
        raise DataError(f"images differ in size: {src_img.shape[:2]} vs {tgt_img.shape[:2]}")
    src_kp, tgt_kp = find_keypoints(src, annotations), find_keypoints(tgt, annotations)
    widths = fit_widths(MaskCache(mask_cache).get(src, src_img), src_kp) if fit else None
    fig = pair_figure(src_img, tgt_img, src_kp, tgt_kp, src_widths=widths)
    pic = cv2.resize(fig.picture, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), pic[:, :, ::-1]):
        raise DataError(f"{out}: cannot write the picture")
    counts = np.bincount(fig.vis.ravel(), minlength=3)
    body = fig.vis < 2
    mean_flow = float(np.hypot(*fig.flow[:, body]).mean()) if body.any() else 0.0
    console.print(
        f"yaw src {fig.yaw_deg[0]:.0f} / tgt {fig.yaw_deg[1]:.0f} deg, scale {fig.scale[0]:.1f} / "
        f"{fig.scale[1]:.1f} px; pixels visible {counts[0]}, hidden {counts[1]}, background {counts[2]}; "
        f"mean |flow| on body {mean_flow:.1f} px"
        + ("" if widths is None else f"; widths {np.round(widths, 2).tolist()}")
    )
    typer.echo(f"picture written to {out}")
