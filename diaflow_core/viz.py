"""Debug pictures as uint8 RGB numpy arrays: flow colour wheel, visibility, proxy-body parts, grids.

Convention: images are (H, W, 3) uint8 RGB; flow is (2, H, W) float (x, y) pixels; visibility is
(H, W) in {0, 1, 2}. Nothing here reads or writes files.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from diaflow_core.errors import DataError

__all__ = [
    "VIS_COLORS",
    "flow_to_color",
    "label_image",
    "make_grid",
    "parts_to_color",
    "visibility_to_color",
]

# visible in source: green, hidden in source: red, background: dark grey
VIS_COLORS = np.array([[40, 200, 60], [220, 50, 50], [30, 30, 30]], dtype=np.uint8)


def _colour_wheel() -> np.ndarray:
    """The Middlebury optical-flow wheel (Baker et al. 2011): 55 hues, RGB float in [0, 1]."""
    segs = ((15, (1, 0, 0), (1, 1, 0)), (6, (1, 1, 0), (0, 1, 0)), (4, (0, 1, 0), (0, 1, 1)),
            (11, (0, 1, 1), (0, 0, 1)), (13, (0, 0, 1), (1, 0, 1)), (6, (1, 0, 1), (1, 0, 0)))  # fmt: skip
    rows = []
    for n, a, b in segs:
        f = np.arange(n, dtype=np.float64)[:, None] / n
        rows.append((1 - f) * np.array(a) + f * np.array(b))
    return np.concatenate(rows, axis=0)


_WHEEL = _colour_wheel()


def flow_to_color(flow: np.ndarray, max_norm: float | None = None, mask: np.ndarray | None = None) -> np.ndarray:
    """Colour-code a flow: hue = direction, saturation = magnitude / ``max_norm``.

    Args:
        flow: (2, H, W) float, (x, y).
        max_norm: magnitude shown fully saturated (default: the largest in the flow, at least 1).
        mask: optional (H, W) bool; pixels outside are black.
    Returns:
        (H, W, 3) uint8 RGB.

    Convention: zero flow is white; the hue follows the Middlebury wheel (+x red, +y ~ green-yellow).
    """
    flow = np.asarray(flow, dtype=np.float64)
    if flow.ndim != 3 or flow.shape[0] != 2:
        raise DataError(f"flow_to_color: expected (2, H, W), got {flow.shape}")
    fx, fy = np.nan_to_num(flow[0]), np.nan_to_num(flow[1])
    mag = np.hypot(fx, fy)
    norm = max(float(mag.max()) if max_norm is None else float(max_norm), 1e-6)
    if max_norm is None:
        norm = max(norm, 1.0)
    rad = np.clip(mag / norm, 0.0, 1.0)
    ang = np.arctan2(-fy, -fx) / np.pi  # in [-1, 1]
    k = (ang + 1.0) / 2.0 * (len(_WHEEL) - 1)
    k0 = np.floor(k).astype(int)
    k1 = (k0 + 1) % len(_WHEEL)
    f = (k - k0)[..., None]
    col = (1 - f) * _WHEEL[k0] + f * _WHEEL[k1]
    col = 1.0 - rad[..., None] * (1.0 - col)
    out = np.round(255.0 * col).astype(np.uint8)
    if mask is not None:
        out[~np.asarray(mask, dtype=bool)] = 0
    return out


def visibility_to_color(vis: np.ndarray) -> np.ndarray:
    """(H, W) visibility in {0, 1, 2} -> (H, W, 3) uint8 (``VIS_COLORS``)."""
    vis = np.asarray(vis)
    if vis.ndim != 2:
        raise DataError(f"visibility_to_color: expected (H, W), got {vis.shape}")
    if vis.size and (vis.min() < 0 or vis.max() > 2):
        raise DataError("visibility_to_color: values must be 0, 1 or 2")
    return VIS_COLORS[vis.astype(np.int64)]


def parts_to_color(part: np.ndarray, shade: np.ndarray | None = None) -> np.ndarray:
    """Part-index map (H, W) int (-1 = background) -> (H, W, 3) uint8, one hue per part, optionally
    shaded by ``shade`` in [0, 1] (e.g. how much a pixel faces the body's front)."""
    part = np.asarray(part)
    if part.ndim != 2:
        raise DataError(f"parts_to_color: expected (H, W), got {part.shape}")
    n = int(max(part.max(), 0)) + 1
    hues = (np.arange(max(n, 13)) * 0.618034) % 1.0
    pal = np.stack([_hsv(h) for h in hues])
    out = np.zeros(part.shape + (3,), dtype=np.float64)
    on = part >= 0
    out[on] = pal[part[on]]
    if shade is not None:
        out *= (0.45 + 0.55 * np.clip(np.asarray(shade, dtype=np.float64), 0, 1))[..., None]
    return np.round(255 * out).astype(np.uint8)


def _hsv(h: float, s: float = 0.65, v: float = 0.95) -> np.ndarray:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    return np.array([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i])


def make_grid(images: Sequence[np.ndarray], ncols: int, pad: int = 2, fill: int = 255) -> np.ndarray:
    """Tile RGB (or grey) uint8 images of equal size into one (rows x ncols) image with padding."""
    if not images:
        raise DataError("make_grid: no images")
    if ncols < 1:
        raise DataError(f"make_grid: ncols must be >= 1, got {ncols}")
    ims = [np.repeat(np.asarray(im)[..., None], 3, axis=2) if np.asarray(im).ndim == 2 else np.asarray(im)
           for im in images]  # fmt: skip
    h, w = ims[0].shape[:2]
    for im in ims:
        if im.shape != (h, w, 3) or im.dtype != np.uint8:
            raise DataError(f"make_grid: expected uint8 images of shape {(h, w, 3)}, got {im.shape} {im.dtype}")
    nrows = (len(ims) + ncols - 1) // ncols
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, 3), fill, dtype=np.uint8)
    for i, im in enumerate(ims):
        r, c = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y : y + h, x : x + w] = im
    return out


def label_image(image: np.ndarray, text: str, height: int = 12) -> np.ndarray:
    """Stack a small white caption strip with ``text`` above an RGB uint8 image (OpenCV font)."""
    import cv2

    image = np.asarray(image)
    strip = np.full((height, image.shape[1], 3), 255, dtype=np.uint8)
    cv2.putText(strip, text, (1, height - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.28, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([strip, image], axis=0)
