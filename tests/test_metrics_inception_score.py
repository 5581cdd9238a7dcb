"""Inception Score from logits: the two limiting cases and the accumulator."""

from __future__ import annotations

import pytest
import torch

from diaflow_core.metrics import InceptionScore, inception_score_from_logits


def test_uniform_predictions_give_one() -> None:
    mean, std = inception_score_from_logits(torch.zeros(100, 7), splits=10)
    assert mean == pytest.approx(1.0) and std == pytest.approx(0.0, abs=1e-12)


def test_confident_balanced_predictions_give_class_count() -> None:
    logits = torch.full((50, 5), -1e4)
    logits[torch.arange(50), torch.arange(50) % 5] = 0.0
    mean, _ = inception_score_from_logits(logits, splits=10)
    assert mean == pytest.approx(5.0, rel=1e-6)


def test_accumulator_and_errors() -> None:
    head = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 4, 6))
    score = InceptionScore(head, splits=2)
    with pytest.raises(ValueError):
        score.compute()
    score.update(torch.rand(6, 3, 8, 4))
    mean, _ = score.compute()
    assert 1.0 <= mean <= 6.0
    with pytest.raises(ValueError):
        inception_score_from_logits(torch.zeros(3, 4), splits=10)
