"""Validate CSG JSON against ``schema/csg-1.schema.json`` plus graph rules, with exact error paths.

Stdlib only: a small interpreter for the JSON Schema keywords the CSG schema uses (type, enum,
pattern, min/max, items, properties, required, additionalProperties, oneOf, $ref), then the rules a
schema cannot say (unique ids, edges pointing at existing nodes, x0 < x1...). Errors raise
``CSGError`` whose text starts with the path: ``nodes[2].texture.color: expected a string, got 3``.
"""
from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import CSGError
from .vocabulary import CAUSAL_RELATIONS, COMPARATIVE_RELATIONS, SPATIAL_RELATIONS

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "csg-1.schema.json"
MAX_ERRORS = 5

_TYPE_WORDS = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false",
               "object": "an object", "array": "a list", "null": "null"}


@lru_cache(maxsize=1)
def load_schema() -> dict:
    """The CSG JSON Schema (format 1) as a dict."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def _is_type(v: Any, t: str) -> bool:
    if t == "string":
        return isinstance(v, str)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "null":
        return v is None
    return False


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


class _Checker:
    def __init__(self, root: dict):
        self.root = root
        self.errors: list[tuple[str, str]] = []

    def resolve(self, ref: str) -> dict:
        if not ref.startswith("#/"):
            raise CSGError(f"unsupported $ref {ref!r} in the CSG schema.", field="schema")
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    def check(self, v: Any, s: dict, path: str) -> bool:
        """Append errors for ``v`` at ``path``; return True when it is valid."""
        if len(self.errors) >= MAX_ERRORS:
            return False
        if "$ref" in s:
            return self.check(v, self.resolve(s["$ref"]), path)
        if "oneOf" in s:
            return self._one_of(v, s["oneOf"], path)
        if "enum" in s:
            if not any(v == o and type(v) is type(o) for o in s["enum"]):
                opts = ", ".join(json.dumps(o) for o in s["enum"])
                self.errors.append((path, f"expected one of {opts}, got {_short(v)}"))
                return False
        t = s.get("type")
        if t is not None:
            if not _is_type(v, t):
                extra = " (finite)" if t == "number" and isinstance(v, float) else ""
                self.errors.append((path, f"expected {_TYPE_WORDS.get(t, t)}{extra}, got {_short(v)}"))
                return False
        ok = True
        if isinstance(v, str):
            if "minLength" in s and len(v) < s["minLength"]:
                self.errors.append((path, f"expected at least {s['minLength']} character(s), got {len(v)}"))
                ok = False
            if "maxLength" in s and len(v) > s["maxLength"]:
                self.errors.append((path, f"expected at most {s['maxLength']} characters, got {len(v)}"))
                ok = False
            if "pattern" in s and not re.search(s["pattern"], v):
                desc = s.get("description") or f"text matching {s['pattern']}"
                self.errors.append((path, f"expected {desc}, got {_short(v)}"))
                ok = False
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if "minimum" in s and v < s["minimum"]:
                self.errors.append((path, f"expected a value >= {s['minimum']}, got {_short(v)}"))
                ok = False
            if "maximum" in s and v > s["maximum"]:
                self.errors.append((path, f"expected a value <= {s['maximum']}, got {_short(v)}"))
                ok = False
        if isinstance(v, list):
            if "minItems" in s and len(v) < s["minItems"]:
                self.errors.append((path, f"expected at least {s['minItems']} item(s), got {len(v)}"))
                ok = False
            elif "maxItems" in s and len(v) > s["maxItems"]:
                self.errors.append((path, f"expected at most {s['maxItems']} items, got {len(v)}"))
                ok = False
            elif "items" in s:
                for i, item in enumerate(v):
                    ok = self.check(item, s["items"], _join(path, i)) and ok
        if isinstance(v, dict):
            for key in s.get("required", []):
                if key not in v:
                    self.errors.append((_join(path, key), "is required but missing"))
                    ok = False
            props = s.get("properties", {})
            extra = s.get("additionalProperties", True)
            for key, item in v.items():
                if not isinstance(key, str):
                    self.errors.append((path, f"expected string keys, got {_short(key)}"))
                    ok = False
                    continue
                if key in props:
                    ok = self.check(item, props[key], _join(path, key)) and ok
                elif extra is False:
                    allowed = ", ".join(props)
                    self.errors.append((_join(path, key), f"unknown field; expected one of {allowed}"))
                    ok = False
                elif isinstance(extra, dict):
                    ok = self.check(item, extra, _join(path, key)) and ok
        return ok

    def _one_of(self, v: Any, options: list, path: str) -> bool:
        best: list | None = None
        for opt in options:
            sub = _Checker(self.root)
            if sub.check(v, opt, path):
                return True
            if best is None or (opt.get("type") != "null" and v is not None):
                best = sub.errors
        # report the non-null branch's reason: it is the one the user meant
        if v is not None and best:
            self.errors.extend(best[: MAX_ERRORS - len(self.errors)])
        else:
            self.errors.append((path, "expected null or a valid value"))
        return False


def _graph_errors(d: dict) -> list[tuple[str, str]]:
    errs: list[tuple[str, str]] = []
    ids: dict[str, int] = {}
    prompt_len = len(d.get("prompt", "") or "")
    for i, n in enumerate(d["nodes"]):
        p = f"nodes[{i}]"
        if n["id"] in ids:
            errs.append((f"{p}.id", f"duplicate node id {n['id']!r} (also nodes[{ids[n['id']]}])"))
        ids.setdefault(n["id"], i)
        hop, explicit = n.get("hop", 0), n.get("explicit", True)
        if explicit and hop != 0:
            errs.append((f"{p}.hop", f"expected 0 for an explicit node, got {hop}"))
        if not explicit and hop < 1:
            errs.append((f"{p}.hop", f"expected 1 or more for an implied node (explicit=false), got {hop}"))
        if n.get("count", 1) == 0 and not n.get("negated", False):
            errs.append((f"{p}.count", "expected >= 1 (0 only with negated=true)"))
        box = n.get("box")
        if box is not None:
            if not box[0] < box[2]:
                errs.append((f"{p}.box", f"expected x0 < x1, got {box[0]} and {box[2]}"))
            if not box[1] < box[3]:
                errs.append((f"{p}.box", f"expected y0 < y1, got {box[1]} and {box[3]}"))
        span = n.get("span")
        if span is not None and not (0 <= span[0] <= span[1] <= max(prompt_len, 0)):
            errs.append((f"{p}.span", f"expected 0 <= start <= end <= len(prompt)={prompt_len}, got {span}"))
    for i, n in enumerate(d["nodes"]):
        sup = (n.get("physics") or {}).get("support")
        if sup is not None and sup not in ids:
            errs.append((f"nodes[{i}].physics.support", f"expected a node id, got {sup!r}"))
    allowed = {"spatial": SPATIAL_RELATIONS, "causal": CAUSAL_RELATIONS, "comparative": COMPARATIVE_RELATIONS}
    for i, e in enumerate(d["edges"]):
        p = f"edges[{i}]"
        for key in ("src", "dst"):
            if e[key] not in ids:
                errs.append((f"{p}.{key}", f"expected a node id, got {e[key]!r}"))
        rels = allowed.get(e["kind"])
        if rels is not None and e["relation"] not in rels:
            errs.append((f"{p}.relation", f"expected one of {', '.join(rels)} for a {e['kind']} edge, "
                                          f"got {e['relation']!r}"))
        third = (e.get("attrs") or {}).get("third")
        if third is not None and third not in ids:
            errs.append((f"{p}.attrs.third", f"expected a node id, got {third!r}"))
    cids: dict[str, int] = {}
    for i, c in enumerate(d["constraints"]):
        p = f"constraints[{i}]"
        if c["id"] in cids:
            errs.append((f"{p}.id", f"duplicate constraint id {c['id']!r} (also constraints[{cids[c['id']]}])"))
        cids.setdefault(c["id"], i)
        if c["subject"] not in ids:
            errs.append((f"{p}.subject", f"expected a node id, got {c['subject']!r}"))
        if c.get("object") is not None and c["object"] not in ids:
            errs.append((f"{p}.object", f"expected a node id, got {c['object']!r}"))
    return errs


def errors_of(d: Any) -> list[str]:
    """All problems (up to a few) as ``"path: what was expected"`` strings; [] when valid."""
    checker = _Checker(load_schema())
    if not checker.check(d, load_schema(), ""):
        return [f"{p or '(top level)'}: {m}" for p, m in checker.errors]
    return [f"{p}: {m}" for p, m in _graph_errors(d)[:MAX_ERRORS]]


def validate_dict(d: Any) -> None:
    """Raise ``CSGError`` naming the first bad path (and up to a few more) unless ``d`` is a valid CSG."""
    errs = errors_of(d)
    if errs:
        more = f" (and {len(errs) - 1} more: {'; '.join(errs[1:])})" if len(errs) > 1 else ""
        raise CSGError(errs[0] + more, fix="see docs/csg.md or lina_nodes/csg/schema/csg-1.schema.json.")
