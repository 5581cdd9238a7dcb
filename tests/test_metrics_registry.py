"""The metric registry: every entry is described and the paired ones run."""

from __future__ import annotations

import numpy as np

from diaflow_core.metrics import METRICS


def test_registry_entries() -> None:
    assert {"ssim", "ssim_gaussian", "masked_ssim", "psnr", "l1", "fid", "inception_score", "lpips"} <= set(METRICS)
    a = np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    mask = np.ones((2, 16, 16), bool)
    for info in METRICS.values():
        assert info.description and info.name
        if info.kind == "paired":
            assert info.fn(a, a).shape == (2,)
        elif info.kind == "masked":
            assert np.allclose(info.fn(a, a, mask).numpy(), 1.0, atol=1e-6)
        else:
            assert info.needs_weights
