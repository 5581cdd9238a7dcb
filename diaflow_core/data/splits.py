"""Deterministic train / validation split by identity (validation is carved out of TRAINING identities)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from diaflow_core.errors import ConfigError

__all__ = ["identity_uniform", "split_identities"]


def identity_uniform(pid: int, seed: int = 0) -> float:
    """A fixed pseudo-random number in [0, 1) for (seed, pid), the same on every machine and Python."""
    digest = hashlib.blake2b(f"{seed}:{pid}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def split_identities(pids: Iterable[int], val_fraction: float = 0.1, seed: int = 0) -> tuple[list[int], list[int]]:
    """Split identities into ``(train_pids, val_pids)``, both sorted and disjoint.

    Convention: an identity goes to validation iff ``identity_uniform(pid, seed) < val_fraction``, so its
    side does not depend on which other identities are present (the image folder and the annotation CSV
    cover different identity sets yet agree). The validation share is therefore ``val_fraction`` on
    average; when it comes out empty for a non-zero fraction and >= 2 identities, the identity with the
    smallest draw is moved to validation.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ConfigError(f"val_fraction must be in [0, 1), got {val_fraction}")
    unique = sorted({int(p) for p in pids})
    draws = {p: identity_uniform(p, seed) for p in unique}
    val = [p for p in unique if draws[p] < val_fraction]
    if not val and val_fraction > 0 and len(unique) >= 2:
        val = [min(unique, key=draws.__getitem__)]
    val_set = set(val)
    return [p for p in unique if p not in val_set], val
