"""resize_visibility (min over cells: visible > hidden > background) and one_hot_visibility."""

from __future__ import annotations

import pytest
import torch

from diaflow_core.ops import ShapeError, one_hot_visibility, resize_visibility


def test_min_pool_priority(device: str) -> None:
    vis = torch.tensor(
        [[0, 2, 1, 2, 2, 2, 1, 0],
         [2, 2, 2, 2, 2, 2, 2, 1]],
        device=device,
    ).unsqueeze(0)  # fmt: skip
    out = resize_visibility(vis, (1, 4))
    assert out.dtype == torch.int64 and out.shape == (1, 1, 4)
    assert out.tolist() == [[[0, 1, 2, 0]]]


def test_non_integer_factor_and_upsampling(device: str) -> None:
    vis = torch.full((2, 6, 6), 2, device=device)
    vis[:, 4, 5] = 1
    vis[1, 0, 0] = 0
    out = resize_visibility(vis, (4, 4))
    assert out.shape == (2, 4, 4)
    assert out[0, 3, 3] == 1 and out[1, 0, 0] == 0 and out[0, 0, 0] == 2
    up = resize_visibility(torch.tensor([[[0, 1], [2, 0]]], device=device), (4, 4))
    assert up[0].tolist() == [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 0, 0], [2, 2, 0, 0]]


def test_same_size_keeps_values(device: str) -> None:
    vis = torch.randint(0, 3, (2, 5, 3), device=device)
    assert torch.equal(resize_visibility(vis, (5, 3)), vis)


def test_one_hot(device: str) -> None:
    vis = torch.tensor([[[0, 1, 2]]], device=device)
    oh = one_hot_visibility(vis, dtype=torch.float64)
    assert oh.shape == (1, 3, 1, 3) and oh.dtype == torch.float64
    assert oh[0, :, 0].tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert torch.equal(oh.sum(1), torch.ones(1, 1, 3, dtype=torch.float64, device=device))


@pytest.mark.parametrize("bad", [torch.zeros(1, 4, 4), torch.zeros(1, 1, 4, 4, dtype=torch.long)])
def test_bad_input(bad: torch.Tensor) -> None:
    with pytest.raises(ShapeError):
        resize_visibility(bad, (2, 2))
    with pytest.raises(ShapeError):
        one_hot_visibility(bad)


def test_bad_size() -> None:
    with pytest.raises(ShapeError):
        resize_visibility(torch.zeros(1, 4, 4, dtype=torch.long), (2,))  # type: ignore[arg-type]
