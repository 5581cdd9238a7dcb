"""Shape checks shared by the tensor ops: one error type, messages that name the argument."""

from __future__ import annotations

import torch

from diaflow_core.errors import ShapeError

__all__ = ["ShapeError", "check_flow", "check_image_like", "check_visibility"]


def check_image_like(x: torch.Tensor, name: str = "x") -> None:
    """(B, C, H, W) floating tensor."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise ShapeError(f"{name} must be a (B, C, H, W) tensor, got {_describe(x)}")
    if not x.is_floating_point():
        raise ShapeError(f"{name} must be floating point, got {x.dtype}")


def check_flow(flow: torch.Tensor, name: str = "flow") -> None:
    """(B, 2, H, W) floating tensor."""
    check_image_like(flow, name)
    if flow.shape[1] != 2:
        raise ShapeError(f"{name} must have 2 channels (x, y), got shape {tuple(flow.shape)}")


def check_visibility(vis: torch.Tensor, name: str = "vis") -> None:
    """(B, H, W) integer tensor of classes 0 (visible), 1 (hidden), 2 (background)."""
    if not isinstance(vis, torch.Tensor) or vis.dim() != 3:
        raise ShapeError(f"{name} must be a (B, H, W) tensor, got {_describe(vis)}")
    if vis.is_floating_point() or vis.dtype == torch.bool:
        raise ShapeError(f"{name} must hold integer classes, got {vis.dtype}")


def _describe(x: object) -> str:
    if isinstance(x, torch.Tensor):
        return f"shape {tuple(x.shape)}"
    return type(x).__name__
