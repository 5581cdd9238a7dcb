"""Inception Score from classifier logits (Salimans et al. 2016).

Convention: logits float ``(N, C)`` (InceptionV3's fc output, see ``inception.py``); the N samples are cut
into ``splits`` consecutive parts (10 as in the original code); per part IS = exp(mean_x KL(p(y|x) || p(y)));
the result is the mean and standard deviation over parts. Higher is better.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["InceptionScore", "inception_score_from_logits"]


def inception_score_from_logits(logits: torch.Tensor, splits: int = 10) -> tuple[float, float]:
    """(mean, std) Inception Score of ``(N, C)`` logits over ``splits`` parts (N >= splits)."""
    if logits.dim() != 2:
        raise ValueError(f"inception_score: expected (N, C) logits, got {tuple(logits.shape)}")
    n = logits.shape[0]
    if splits < 1 or n < splits:
        raise ValueError(f"inception_score: need at least {splits} samples for {splits} splits, got {n}")
    logp = torch.log_softmax(logits.double(), dim=1)
    scores = []
    for part in torch.tensor_split(logp, splits, dim=0):
        p = part.exp()
        log_py = torch.logsumexp(part, dim=0) - torch.log(torch.tensor(float(part.shape[0]), dtype=part.dtype))
        kl = (p * (part - log_py)).sum(dim=1).mean()
        scores.append(kl.exp())
    s = torch.stack(scores)
    return float(s.mean()), float(s.std(unbiased=False))


class InceptionScore:
    """Accumulates logits of generated images; ``compute()`` gives (mean, std).

    Args:
        logits_fn: images float ``(B, 3, H, W)`` in [-1, 1] -> logits ``(B, C)``; for the standard metric
            ``lambda x: inception(x)[1]``.
        splits: parts of the sample (10).
    """

    def __init__(self, logits_fn: Callable[[torch.Tensor], torch.Tensor], splits: int = 10) -> None:
        self.logits_fn = logits_fn
        self.splits = splits
        self._logits: list[torch.Tensor] = []

    @torch.no_grad()
    def update(self, images: torch.Tensor) -> None:
        self._logits.append(self.logits_fn(images).detach().float().cpu())

    def compute(self) -> tuple[float, float]:
        if not self._logits:
            raise ValueError("InceptionScore: no images yet")
        return inception_score_from_logits(torch.cat(self._logits), self.splits)
