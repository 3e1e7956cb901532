"""Errors a user can cause and fix. Messages name the field and the fix."""
from __future__ import annotations


class LinaError(ValueError):
    """Base class of LINA's user-facing errors (a ValueError, so callers may catch either)."""

    def __init__(self, message: str, *, field: str | None = None, fix: str | None = None):
        self.field = field
        self.fix = fix
        text = message
        if field and not message.startswith(field):
            text = f"{field}: {message}"
        if fix:
            text = f"{text} Fix: {fix}"
        super().__init__(text)


class ScheduleError(LinaError):
    """Bad settings for a sigma schedule, or a model the scheduler cannot handle."""


class CSGError(LinaError):
    """Malformed or inconsistent Causal Scene Graph."""


class WeightsError(LinaError):
    """Missing, corrupted or incompatible weights file."""


class PhysWorldError(LinaError):
    """Bad PhysWorld scene, dataset or judge input."""
