"""Pure input bounds shared by the nodes and the core (no ComfyUI): strict JSON and finite numbers.

JSON from an API caller or an LLM reply is parsed with ``loads_strict``: size-bounded, no NaN /
Infinity (Python's ``json`` accepts them; JSON does not), a nesting bound instead of a RecursionError,
and errors that name the field (``csg_json.nodes[2].box[0]: NaN is not a number JSON allows``).
"""
from __future__ import annotations

import json
import math

from .errors import LinaError, short

MAX_JSON_CHARS = 5_000_000
MAX_DEPTH = 64


class _NonFinite:
    def __init__(self, token: str):
        self.token = token


def _reject_constant(token: str):
    return _NonFinite(token)


def _find(value, path: str, depth: int = 0):
    """(path, problem) of the first non-finite number or too-deep nesting in a parsed value, else None."""
    if depth > MAX_DEPTH:
        return path, f"is nested more than {MAX_DEPTH} levels deep."
    if isinstance(value, _NonFinite):
        return path, f"{value.token} is not a number JSON allows; use a finite number."
    if isinstance(value, dict):
        for k, v in value.items():
            hit = _find(v, f"{path}.{short(k, 40)}", depth + 1)
            if hit:
                return hit
    elif isinstance(value, list):
        for i, v in enumerate(value):
            hit = _find(v, f"{path}[{i}]", depth + 1)
            if hit:
                return hit
    return None


def loads_strict(text, field: str, error=LinaError, max_chars: int = MAX_JSON_CHARS):
    """``json.loads`` for untrusted text: bounded size and depth, NaN / Infinity refused naming the field."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise error("is not UTF-8 text.", field=field) from None
    if not isinstance(text, str):
        raise error(f"expected JSON text, got {type(text).__name__}.", field=field)
    if len(text) > max_chars:
        raise error(f"has {len(text)} characters; at most {max_chars} are accepted.", field=field)
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise error(f"is nested too deeply (at most {MAX_DEPTH} levels).", field=field) from None
    except ValueError as e:
        raise error(f"is not valid JSON ({short(str(e), 200)}).", field=field) from None
    hit = _find(data, field)
    if hit:
        raise error(hit[1], field=hit[0])
    return data


def require_finite(value, field: str, error=LinaError, lo: float | None = None, hi: float | None = None) -> float:
    """``float(value)``, refused naming the field when it is not a finite number in [lo, hi]."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise error(f"expected a number, got {short(value, 60)}.", field=field) from None
    if not math.isfinite(v):
        raise error(f"{v} is not allowed; use a finite number.", field=field)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise error(f"expected a number from {lo} to {hi}, got {v}.", field=field)
    return v
