"""The checkerboard score: the exact Nyquist share of a period-2 pattern, little for smooth images, input checks."""

from __future__ import annotations

import numpy as np
import pytest

from diaflow_core.metrics import checkerboard_score


def _grey(a: np.ndarray) -> np.ndarray:
    return np.repeat(a[..., None], 3, axis=-1).astype(np.uint8)


def test_checkerboard_share_is_exact_and_a_smooth_ramp_scores_near_zero() -> None:
    yy, xx = np.mgrid[:32, :16]
    board = _grey(128 + 60 * (((yy + xx) % 2) * 2 - 1))  # mean 128: the DC bin holds the rest
    ramp = _grey(40 + 6 * yy)
    s = checkerboard_score(np.stack([board, ramp])).numpy()
    # the alternating part (amplitude 60) and the mean (128) are the only two bins of the board
    assert s[0] == pytest.approx(60 / (60 + 128), rel=1e-9)
    assert s[1] < 0.02


def test_score_rises_with_added_checkerboard_and_black_is_zero() -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(60, 190, (32, 16)).astype(np.float64)
    base = (base + np.roll(base, 1, 0) + np.roll(base, 1, 1) + np.roll(base, (1, 1), (0, 1))) / 4  # low-pass
    yy, xx = np.mgrid[:32, :16]
    cb = ((yy + xx) % 2) * 2 - 1
    imgs = np.stack([_grey(np.clip(base + a * cb, 0, 255)) for a in (0, 4, 12)])
    s = checkerboard_score(imgs).numpy()
    assert s[0] < s[1] < s[2]
    assert checkerboard_score(np.zeros((8, 8, 3), np.uint8)).item() == 0.0


def test_input_checks_name_the_problem() -> None:
    with pytest.raises(ValueError, match="uint8"):
        checkerboard_score(np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="even"):
        checkerboard_score(np.zeros((2, 9, 8, 3), np.uint8))
