"""flow_to_grid and warp: shapes, bad input, identity, 1-px shifts, gradcheck, dtype handling."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from diaflow_core.errors import DiaflowError
from diaflow_core.ops import ShapeError, flow_to_grid, warp


def test_zero_flow_grid_is_identity_grid(device: str) -> None:
    flow = torch.zeros(2, 2, 6, 4, device=device)
    grid = flow_to_grid(flow)
    assert grid.shape == (2, 6, 4, 2)
    theta = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]], device=device).expand(2, 2, 3)
    ref = F.affine_grid(theta, [2, 1, 6, 4], align_corners=False)
    torch.testing.assert_close(grid, ref)


def test_zero_flow_warp_is_identity(device: str) -> None:
    x = torch.randn(2, 5, 8, 6, device=device)
    out = warp(x, torch.zeros(2, 2, 8, 6, device=device))
    torch.testing.assert_close(out, x, atol=1e-5, rtol=1e-5)


def test_one_pixel_shifts(device: str) -> None:
    x = torch.randn(1, 3, 5, 7, device=device)
    flow = torch.zeros(1, 2, 5, 7, device=device)
    flow[:, 0] = 1.0  # target u takes source u + (1, 0)
    out = warp(x, flow)
    torch.testing.assert_close(out[..., :-1], x[..., 1:], atol=1e-5, rtol=1e-5)
    assert out[..., -1].abs().max() == 0  # sampled from outside: zeros padding
    flow = torch.zeros(1, 2, 5, 7, device=device)
    flow[:, 1] = -1.0  # target u takes source u - (0, 1)
    out = warp(x, flow, padding_mode="border")
    torch.testing.assert_close(out[..., 1:, :], x[..., :-1, :], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out[..., 0, :], x[..., 0, :], atol=1e-5, rtol=1e-5)


def test_half_pixel_shift_averages(device: str) -> None:
    x = torch.arange(6.0, device=device).view(1, 1, 1, 6).expand(1, 1, 2, 6).contiguous()
    flow = torch.zeros(1, 2, 2, 6, device=device)
    flow[:, 0] = 0.5
    out = warp(x, flow)
    torch.testing.assert_close(out[0, 0, 0, :-1], torch.arange(5.0, device=device) + 0.5)


@pytest.mark.parametrize(
    ("x_shape", "flow_shape"),
    [((2, 3, 8, 6), (2, 3, 8, 6)), ((2, 3, 8, 6), (2, 2, 8, 5)), ((2, 3, 8, 6), (1, 2, 8, 6)), ((3, 8, 6), (2, 8, 6))],
)
def test_bad_shapes(x_shape: tuple[int, ...], flow_shape: tuple[int, ...]) -> None:
    with pytest.raises(ShapeError):
        warp(torch.zeros(x_shape), torch.zeros(flow_shape))


def test_bad_dtype_and_mode() -> None:
    with pytest.raises(ShapeError):
        flow_to_grid(torch.zeros(1, 2, 4, 4, dtype=torch.long))
    with pytest.raises(DiaflowError):
        warp(torch.zeros(1, 1, 4, 4), torch.zeros(1, 2, 4, 4), mode="cubic")
    with pytest.raises(ValueError):  # ShapeError is a ValueError too
        warp(torch.zeros(1, 1, 4, 4), torch.zeros(1, 2, 4, 4), padding_mode="wrap")


def test_gradcheck(device: str) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 2, 5, 4, generator=g, dtype=torch.float64).to(device).requires_grad_()
    # Fractional flow away from integer kinks, where bilinear sampling is smooth.
    flow = (torch.rand(1, 2, 5, 4, generator=g, dtype=torch.float64) * 0.8 + 0.1).to(device)
    flow.requires_grad_()
    assert torch.autograd.gradcheck(lambda a, f: warp(a, f, padding_mode="border"), (x, flow))
    assert torch.autograd.gradcheck(flow_to_grid, (flow,))


def test_mixed_dtype_and_channels_last(device: str) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, 128, 64, generator=g).to(device)
    flow = (torch.randn(2, 2, 128, 64, generator=g) * 3).to(device)
    ref = warp(x, flow)
    out_cl = warp(x.to(memory_format=torch.channels_last), flow)
    torch.testing.assert_close(out_cl, ref, atol=1e-5, rtol=1e-5)
    xb = x.bfloat16()
    out_bf16 = warp(xb, flow)  # fp32 flow, bf16 features: as under autocast
    assert out_bf16.dtype == torch.bfloat16
    # Sampled in fp32 at the exact positions: only the bf16 rounding of the input and of the output remains.
    torch.testing.assert_close(out_bf16, warp(xb.float(), flow).bfloat16(), atol=0, rtol=0)
    with torch.autocast(device, dtype=torch.bfloat16):
        out_ac = warp(xb, flow)
    torch.testing.assert_close(out_ac, out_bf16, atol=0, rtol=0)  # autocast does not move the samples
