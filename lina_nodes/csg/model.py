"""CSG v1 data model: typed, immutable-in-spirit dataclasses with a lossless JSON round trip.

The field names follow docs/csg_data_model.md (shared with PhysWorld): they may be
extended, never renamed or removed. ``CSG.from_dict`` / ``CSG.from_json`` validate against the
JSON Schema in ``schema/csg-1.schema.json`` (plus graph checks such as unknown node ids) and raise
``CSGError`` naming the exact path, e.g. ``nodes[2].texture.color: expected a string``.

Code that changes a graph builds a new one (``dataclasses.replace``); nothing mutates an input.
The kinds and relations live in ``vocabulary.py`` (re-exported here), so the validator needs
nothing from this module: ``model`` imports ``validate``, never the reverse.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import CSGError
from .validate import validate_dict
from .vocabulary import (  # noqa: F401  (re-exported: the model's public names)
    CAUSAL_RELATIONS, COMPARATIVE_RELATIONS, CONSTRAINT_KINDS, EDGE_KINDS, EXPLICIT_KINDS, IMPLIED_KINDS,
    NODE_KINDS, PHYSICS_KEYS, SCHEMA_VERSION, SIZES, SPATIAL_RELATIONS, TEXTURE_KEYS,
)

Box = tuple  # (x0, y0, x1, y1), normalised 0..1, origin top-left


@dataclass(frozen=True)
class Node:
    """An entity (explicit, hop 0) or an implied physical effect (hop >= 1)."""

    id: str
    name: str
    kind: str = "object"
    explicit: bool = True
    hop: int = 0
    count: int = 1
    texture: dict = field(default_factory=dict)
    physics: dict = field(default_factory=dict)
    box: tuple | None = None
    negated: bool = False
    span: tuple | None = None

    def to_dict(self) -> dict:
        return {
            "id": self.id, "name": self.name, "kind": self.kind, "explicit": self.explicit,
            "hop": self.hop, "count": self.count, "texture": dict(self.texture),
            "physics": dict(self.physics),
            "box": None if self.box is None else [float(v) for v in self.box],
            "negated": self.negated,
            "span": None if self.span is None else [int(v) for v in self.span],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Node":
        box = d.get("box")
        span = d.get("span")
        return cls(
            id=d["id"], name=d["name"], kind=d.get("kind", "object"),
            explicit=d.get("explicit", True), hop=d.get("hop", 0), count=d.get("count", 1),
            texture=dict(d.get("texture") or {}), physics=dict(d.get("physics") or {}),
            box=None if box is None else tuple(float(v) for v in box),
            negated=d.get("negated", False),
            span=None if span is None else tuple(int(v) for v in span),
        )

    def label(self) -> str:
        """Short readable phrase: "2 red balls", "reflection of ball_0"."""
        words = [w for w in (self.physics.get("size"), self.texture.get("color"),
                             self.texture.get("material")) if w]
        name = self.name + ("s" if self.count > 1 and not self.name.endswith("s") else "")
        head = " ".join(words + [name])
        if self.negated:
            return f"no {head}"
        return f"{self.count} {head}" if self.count > 1 else head


@dataclass(frozen=True)
class Edge:
    """A relation: spatial, causal (cause -> effect), action (agent -> patient) or comparative."""

    src: str
    dst: str
    kind: str
    relation: str
    negated: bool = False
    attrs: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"src": self.src, "dst": self.dst, "kind": self.kind, "relation": self.relation,
                "negated": self.negated, "attrs": dict(self.attrs)}

    @classmethod
    def from_dict(cls, d: dict) -> "Edge":
        return cls(src=d["src"], dst=d["dst"], kind=d["kind"], relation=d["relation"],
                   negated=d.get("negated", False), attrs=dict(d.get("attrs") or {}))


@dataclass(frozen=True)
class Constraint:
    """One yes/no check of an image, derived from the graph."""

    id: str
    kind: str
    subject: str
    object: str | None = None
    params: dict = field(default_factory=dict)
    text: str = ""

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "subject": self.subject, "object": self.object,
                "params": dict(self.params), "text": self.text}

    @classmethod
    def from_dict(cls, d: dict) -> "Constraint":
        return cls(id=d["id"], kind=d["kind"], subject=d["subject"], object=d.get("object"),
                   params=dict(d.get("params") or {}), text=d.get("text", ""))


@dataclass(frozen=True)
class CSG:
    """A Causal Scene Graph (format version ``SCHEMA_VERSION``)."""

    nodes: tuple = ()
    edges: tuple = ()
    constraints: tuple = ()
    prompt: str = ""
    meta: dict = field(default_factory=dict)
    version: str = SCHEMA_VERSION

    # ---- access -------------------------------------------------------------------------
    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise CSGError(f"no node with id {node_id!r}; the graph has {', '.join(self.ids()) or 'no nodes'}.",
                       field="node_id")

    def ids(self) -> list[str]:
        return [n.id for n in self.nodes]

    def explicit_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.explicit]

    def implied_nodes(self) -> list[Node]:
        return [n for n in self.nodes if not n.explicit]

    def edges_from(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.src == node_id]

    def edges_to(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.dst == node_id]

    def replaced(self, **changes: Any) -> "CSG":
        """A copy with some fields replaced (lists are stored as tuples)."""
        for key in ("nodes", "edges", "constraints"):
            if key in changes:
                changes[key] = tuple(changes[key])
        return replace(self, **changes)

    # ---- JSON ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "prompt": self.prompt,
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
            "constraints": [c.to_dict() for c in self.constraints],
            "meta": dict(self.meta),
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, sort_keys=False)

    @classmethod
    def from_dict(cls, d: Any, *, validate: bool = True) -> "CSG":
        if validate:
            validate_dict(d)
        return cls(
            version=d.get("version", SCHEMA_VERSION),
            prompt=d.get("prompt", ""),
            nodes=tuple(Node.from_dict(n) for n in d.get("nodes", [])),
            edges=tuple(Edge.from_dict(e) for e in d.get("edges", [])),
            constraints=tuple(Constraint.from_dict(c) for c in d.get("constraints", [])),
            meta=dict(d.get("meta") or {}),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> "CSG":
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as e:
                raise CSGError(f"the CSG JSON is not UTF-8 ({e}).", field="json") from e
        if not isinstance(text, str):
            raise CSGError(f"expected a JSON string, got {type(text).__name__}.", field="json")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise CSGError(f"not valid JSON ({e}).", field="json",
                           fix="paste the CSG JSON exactly as LINA CSG Parse outputs it.") from None
        return cls.from_dict(data)


def as_csg(value, field: str = "csg") -> CSG:
    """A CSG from a CSG, its JSON (strict: bounded, NaN / Infinity refused naming the field) or its dict."""
    if isinstance(value, CSG):
        return value
    if isinstance(value, (str, bytes)):
        from ..security import loads_strict

        return CSG.from_dict(loads_strict(value, field, CSGError))
    if isinstance(value, dict):
        return CSG.from_dict(value)
    raise CSGError(f"expected a LINA_CSG (or its JSON), got {type(value).__name__}.", field=field,
                   fix="connect the csg output of LINA CSG Parse or LINA CSG From JSON.")
