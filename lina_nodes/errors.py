"""Errors a user can cause and fix. Messages name the field and the fix, and stay short.

A message may quote what the caller sent; ``short`` cuts such a quote, and every message is capped at
``MAX_MESSAGE`` characters, so a 10 MB input never becomes a 10 MB error kept in /history.
"""
from __future__ import annotations

MAX_MESSAGE = 2000
MAX_QUOTE = 120


def short(value, limit: int = MAX_QUOTE) -> str:
    """``value`` as text (``repr`` for non-strings), cut to ``limit`` characters with the length left out."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


class LinaError(ValueError):
    """Base class of LINA's user-facing errors (a ValueError, so callers may catch either)."""

    def __init__(self, message: str, *, field: str | None = None, fix: str | None = None):
        self.field = field
        self.fix = fix
        message = short(str(message), MAX_MESSAGE)
        text = message
        if field and not message.startswith(field):
            text = f"{short(field, 200)}: {message}"
        if fix:
            text = f"{text} Fix: {short(str(fix), 500)}"
        super().__init__(text)


class ScheduleError(LinaError):
    """Bad settings for a sigma schedule, or a model the scheduler cannot handle."""


class CSGError(LinaError):
    """Malformed or inconsistent Causal Scene Graph."""


class WeightsError(LinaError):
    """Missing, corrupted or incompatible weights file."""


class PhysWorldError(LinaError):
    """Bad PhysWorld scene, dataset or judge input."""
