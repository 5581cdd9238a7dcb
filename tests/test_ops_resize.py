"""resize_flow: value scaling, the pixel-centre coordinate map, bad input, gradcheck."""

from __future__ import annotations

import pytest
import torch

from diaflow_core.ops import ShapeError, resize_flow, resize_flow_on_body, warp


def _affine_flow(h: int, w: int, a: float, b: float, c: float, d: float, device: str) -> torch.Tensor:
    """F_x = a x + b, F_y = c y + d on an (h, w) grid."""
    ys, xs = torch.meshgrid(torch.arange(h, device=device), torch.arange(w, device=device), indexing="ij")
    return torch.stack((a * xs + b, c * ys + d)).float().unsqueeze(0)


def test_constant_flow_scales(device: str) -> None:
    flow = torch.ones(2, 2, 16, 8, device=device) * torch.tensor([4.0, -6.0], device=device).view(1, 2, 1, 1)
    down = resize_flow(flow, (8, 4))
    assert down.shape == (2, 2, 8, 4)
    torch.testing.assert_close(down[:, 0], torch.full_like(down[:, 0], 2.0))
    torch.testing.assert_close(down[:, 1], torch.full_like(down[:, 1], -3.0))
    up = resize_flow(down, (16, 8))
    torch.testing.assert_close(up, flow)
    aniso = resize_flow(flow, (4, 4))  # y by 4, x by 2
    torch.testing.assert_close(aniso[0, :, 0, 0], torch.tensor([2.0, -1.5], device=device))


def test_same_size_is_identity() -> None:
    flow = torch.randn(1, 2, 8, 4)
    assert resize_flow(flow, (8, 4)) is flow


@pytest.mark.parametrize("mode", ["area", "bilinear"])
def test_affine_flow_follows_pixel_centres(device: str, mode: str) -> None:
    """Resizing keeps the physical source point: x_s = (x + 0.5) / s - 0.5 on both ends."""
    a, b, c, d, s = 0.1, 1.5, -0.05, 2.0, 2
    flow = _affine_flow(16, 8, a, b, c, d, device)
    small = resize_flow(flow, (8, 4), mode=mode)
    ys, xs = torch.meshgrid(
        torch.arange(8, device=device).float(), torch.arange(4, device=device).float(), indexing="ij"
    )
    # Level pixel -> full-res coordinate -> source -> back to the level grid.
    ux, uy = s * (xs + 0.5) - 0.5, s * (ys + 0.5) - 0.5
    sx, sy = ux + a * ux + b, uy + c * uy + d
    ref = torch.stack(((sx + 0.5) / s - 0.5 - xs, (sy + 0.5) / s - 0.5 - ys)).unsqueeze(0)
    if mode == "bilinear":  # border cells clamp; compare the interior
        torch.testing.assert_close(small[..., 1:-1, 1:-1], ref[..., 1:-1, 1:-1], atol=1e-5, rtol=1e-5)
    else:
        torch.testing.assert_close(small, ref, atol=1e-5, rtol=1e-5)


def test_warp_commutes_with_downsampling(device: str) -> None:
    """A 2-px shift at full resolution is a 1-px shift at half resolution."""
    x = torch.randn(1, 3, 8, 8, device=device)
    flow = torch.zeros(1, 2, 16, 16, device=device)
    flow[:, 0] = 2.0
    out = warp(x, resize_flow(flow, (8, 8)))
    torch.testing.assert_close(out[..., :-1], x[..., 1:], atol=1e-5, rtol=1e-5)


def test_bad_input() -> None:
    with pytest.raises(ShapeError):
        resize_flow(torch.zeros(1, 3, 8, 8), (4, 4))
    with pytest.raises(ShapeError):
        resize_flow(torch.zeros(1, 2, 8, 8), (4, 0))
    with pytest.raises(ShapeError):
        resize_flow(torch.zeros(1, 2, 8, 8), (4, 4), mode="nearest")


@pytest.mark.parametrize("mode", ["area", "bilinear"])
def test_gradcheck(device: str, mode: str) -> None:
    flow = torch.randn(1, 2, 8, 6, dtype=torch.float64, device=device, requires_grad=True)
    size = (4, 3) if mode == "area" else (12, 9)
    assert torch.autograd.gradcheck(lambda f: resize_flow(f, size, mode=mode), (flow,))


def test_resize_flow_on_body_averages_body_pixels_only() -> None:
    """A 2x2 cell with two body pixels of flow (4, 2) and two background zeros: the plain area mean halves
    the flow, the body mean keeps it (then both rescale to the half grid); body-free cells are 0."""
    flow = torch.zeros(1, 2, 4, 4)
    body = torch.zeros(1, 4, 4, dtype=torch.bool)
    flow[0, 0, 0, :2], flow[0, 1, 0, :2] = 4.0, 2.0
    body[0, 0, :2] = True
    out = resize_flow_on_body(flow, body, (2, 2))
    torch.testing.assert_close(out[0, :, 0, 0], torch.tensor([2.0, 1.0]))  # (4, 2) px on a half grid
    torch.testing.assert_close(resize_flow(flow, (2, 2))[0, :, 0, 0], torch.tensor([1.0, 0.5]))
    assert out[0, :, 1, 1].abs().sum() == 0 and out[0, :, 0, 1].abs().sum() == 0
    assert resize_flow_on_body(flow, body, (4, 4)) is flow
    with pytest.raises(ShapeError):
        resize_flow_on_body(flow, body, (8, 8))
    with pytest.raises(ShapeError):
        resize_flow_on_body(flow, body[:, :2], (2, 2))
