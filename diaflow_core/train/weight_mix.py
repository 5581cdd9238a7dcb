"""Weight arithmetic between fine-tunes of one parent network (model soups, task arithmetic).

Each fine-tune moved the parent's weights by a task vector W_i - W_parent; W_parent + sum_i c_i (W_i - W_parent)
mixes them (c = 1/n: a uniform soup, Wortsman et al. 2022; c = 1 each: task addition, Ilharco et al. 2023).
Measured on the generators (docs/evaluation.md, session 12): adding the re-ID perceptual fine-tune's vector to
the L1 fine-tune's kept most of each gain. A single fine-tune with c > 1 extrapolates along its direction
(ExPO-style, Zheng et al. 2024): on the flow regressor (docs/flow_regressor.md, session 15) the weight-averaged
GPU fine-tune at c = 2 beat c = 1 on validation, the average lagging where the run was heading.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from ..weights import file_sha256

__all__ = ["mix_state_dicts", "mix_tag", "soup_record"]


def mix_state_dicts(
    parent: Mapping[str, torch.Tensor],
    models: Sequence[Mapping[str, torch.Tensor]],
    coeffs: Sequence[float],
) -> dict[str, torch.Tensor]:
    """W_parent + sum_i c_i (W_i - W_parent) in fp32 for floating tensors. Integer buffers (BatchNorm's
    num_batches_tracked) cannot be mixed and are taken from the first model."""
    if len(models) != len(coeffs) or not models:
        raise ValueError(f"{len(coeffs)} coefficient(s) for {len(models)} model(s): one per model, at least one")
    for i, m in enumerate(models):
        if set(m) != set(parent):
            diff = sorted(set(m) ^ set(parent))[:3]
            raise KeyError(f"model {i} and the parent hold different tensors (e.g. {diff}): not fine-tunes of one net")
    out = {}
    for k, p in parent.items():
        if not p.is_floating_point():
            out[k] = models[0][k].clone()
            continue
        w = p.float().clone()
        for m, c in zip(models, coeffs, strict=True):
            if m[k].shape != p.shape:
                raise ValueError(f"{k}: shape {tuple(m[k].shape)} against the parent's {tuple(p.shape)}")
            w += c * (m[k].float() - p.float())
        out[k] = w
    return out


def mix_tag(coeffs: Sequence[float]) -> str:
    """File-name tag of a mix: ``mix_1_0.5``."""
    return "mix_" + "_".join(f"{c:g}" for c in coeffs)


def soup_record(parent: Path, models: Sequence[Path], coeffs: Sequence[float]) -> dict[str, Any]:
    """Provenance of a mix for the weight file's sidecar: the input files with their hashes and the coefficients."""
    return {
        "parent": f"{parent} (sha256 {file_sha256(parent)})",
        "models": [f"{m} (sha256 {file_sha256(m)})" for m in models],
        "coefficients": [float(c) for c in coeffs],
    }
