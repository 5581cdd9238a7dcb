"""Debug-picture helpers in diaflow_core.viz."""

from __future__ import annotations

import numpy as np
import pytest

from diaflow_core.errors import DataError
from diaflow_core.viz import VIS_COLORS, flow_to_color, label_image, make_grid, parts_to_color, visibility_to_color


def test_flow_to_color_zero_is_white_and_directions_differ() -> None:
    flow = np.zeros((2, 4, 8), np.float32)
    assert np.all(flow_to_color(flow) == 255)
    flow[0, :, :4] = 5.0  # +x
    flow[1, :, 4:] = 5.0  # +y
    col = flow_to_color(flow)
    assert col.shape == (4, 8, 3) and col.dtype == np.uint8
    assert not np.array_equal(col[0, 0], col[0, 7])
    assert np.all(flow_to_color(flow, mask=np.zeros((4, 8), bool)) == 0)
    with pytest.raises(DataError):
        flow_to_color(np.zeros((3, 4, 4)))


def test_visibility_and_parts_colours() -> None:
    vis = np.array([[0, 1, 2]], np.uint8)
    np.testing.assert_array_equal(visibility_to_color(vis)[0], VIS_COLORS)
    with pytest.raises(DataError):
        visibility_to_color(np.array([[3]]))
    part = np.array([[-1, 0, 12]], np.int8)
    col = parts_to_color(part, shade=np.ones((1, 3)))
    assert np.all(col[0, 0] == 0) and col[0, 1].sum() > 0 and not np.array_equal(col[0, 1], col[0, 2])


def test_make_grid_and_label() -> None:
    ims = [np.full((10, 6, 3), i * 40, np.uint8) for i in range(5)]
    g = make_grid(ims, ncols=3, pad=2)
    assert g.shape == (2 * 12 + 2, 3 * 8 + 2, 3)
    assert g[2, 2, 0] == 0 and g[2 + 12, 2, 0] == 120
    assert make_grid([np.zeros((10, 6), np.uint8)], 1).shape == (14, 10, 3)
    with pytest.raises(DataError):
        make_grid([ims[0], np.zeros((5, 5, 3), np.uint8)], 2)
    assert label_image(ims[0], "x").shape == (22, 6, 3)
