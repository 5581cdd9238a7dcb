"""Batch feature extraction for retrieval (eval mode, no gradients)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from .transforms import eval_transform, read_rgb


@torch.inference_mode()
def extract_features(
    model: nn.Module,
    paths: Sequence[str | Path],
    size: tuple[int, int],
    batch_size: int = 64,
    device: str | torch.device = "cpu",
    flip: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Tensor:
    """(N, D) float32 features on the CPU, in the order of ``paths``.

    ``flip`` averages the features of each image and its mirror image (a common +0.5-1 point test-time
    gain for pedestrians, whose left/right views are equally likely). ``progress(n)`` is told how many
    images each finished batch held.
    """
    was_training = model.training
    model.eval()
    transform = eval_transform(size)
    out: list[Tensor] = []
    try:
        for start in range(0, len(paths), batch_size):
            chunk = paths[start : start + batch_size]
            x = torch.stack([transform(read_rgb(p)) for p in chunk]).to(device)
            f = model(x)
            if flip:
                f = (f + model(torch.flip(x, dims=[3]))) / 2
            out.append(f.float().cpu())
            if progress is not None:
                progress(len(chunk))
    finally:
        model.train(was_training)
    if not out:
        return torch.zeros(0, getattr(model, "feature_dim", 0))
    return torch.cat(out)
