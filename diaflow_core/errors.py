"""One exception family for the library; the CLI turns these into one-line messages."""

from __future__ import annotations


class DiaflowError(Exception):
    """Base of every error the library raises on purpose."""


class DataError(DiaflowError):
    """A data file is missing or malformed (the message names the file and the line)."""


class ConfigError(DiaflowError):
    """A recipe or an override does not fit the config schema."""


class WeightsError(DiaflowError):
    """Model weights are missing, unreadable or do not match the model."""


class BackendUnavailable(DiaflowError):
    """An optional backend (pose estimator, detector, metric network) cannot run here."""


class ShapeError(DiaflowError, ValueError):
    """A tensor or array has the wrong shape or dtype for an op (also a ValueError for callers that expect one)."""
