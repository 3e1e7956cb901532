"""Constraints from explicit nodes and edges: each one a yes/no check of an image."""
from __future__ import annotations

from .model import CSG, Constraint, Node

SPATIAL_TO_CONSTRAINT = {
    "left_of": "left_of", "right_of": "right_of", "above": "above", "below": "below", "under": "below",
    "on": "on_top", "in": "inside", "inside": "inside", "in_front_of": "in_front_of", "behind": "behind",
    "near": "near", "next_to": "near", "close_to": "near", "far_from": "far", "between": "near",
}
SPATIAL_WORDS = {
    "left_of": "to the left of", "right_of": "to the right of", "above": "above", "below": "below",
    "on_top": "on top of", "inside": "inside", "in_front_of": "in front of", "behind": "behind",
    "near": "near", "far": "far from",
}


def the(node: Node) -> str:
    """"the red ball", "the 2 blue cubes"."""
    label = node.label()
    return label if node.negated else f"the {label}"


def fill_constraint(subject: str, obj: str | None, fill: float, cid: str, label: str) -> Constraint:
    """fill >= 0.9 -> at least; <= 0.1 -> at most; else a +-0.15 band around the value."""
    if fill >= 0.95:
        return Constraint(cid, "fill_at_least", subject, obj, {"value": 0.9},
                          f"Is {label} full (at least 90%)?")
    if fill <= 0.05:
        return Constraint(cid, "fill_at_most", subject, obj, {"value": 0.1}, f"Is {label} empty (at most 10%)?")
    lo, hi = round(max(0.0, fill - 0.15), 3), round(min(1.0, fill + 0.15), 3)
    return Constraint(cid, "fill_between", subject, obj, {"low": lo, "high": hi, "value": round(fill, 3)},
                      f"Is {label} filled to about {round(fill * 100)}% (between {round(lo * 100)}% and {round(hi * 100)}%)?")


def explicit_constraints(g: CSG, empty_words=("space", "empty space", "air", "emptiness", "gap", "nothing"),
                         mass_nouns=frozenset()) -> list[Constraint]:
    out: list[Constraint] = []

    def add(kind, subject, obj=None, params=None, text=""):
        out.append(Constraint(f"c{len(out)}", kind, subject, obj, dict(params or {}), text))

    by_id = {n.id: n for n in g.nodes}
    for n in g.nodes:
        if n.negated:
            add("absent", n.id, n.physics.get("of"), {}, f"Is there no {n.name} in the image?")
            continue
        label = n.label()
        article = "" if n.count != 1 or n.name in mass_nouns else ("an " if label[:1] in "aeiou" else "a ")
        add("present", n.id, None, {"count": n.count},
            f"{'Are' if n.count > 1 else 'Is'} there {article}{label}?")
        if n.texture.get("color"):
            add("color", n.id, None, {"color": n.texture["color"]}, f"Is the {n.name} {n.texture['color']}?")
        if n.texture.get("material"):
            add("material", n.id, None, {"material": n.texture["material"]}, f"Is the {n.name} {n.texture['material']}?")
        if n.count > 1:
            add("count", n.id, None, {"value": n.count}, f"Are there exactly {n.count} {n.name}s?")
        if n.physics.get("size"):
            add("size", n.id, None, {"size": n.physics["size"]}, f"Is the {n.name} {n.physics['size']}?")
    for e in g.edges:
        s, d = by_id[e.src], by_id[e.dst]
        neg = {"negate": True} if e.negated else {}
        nots = " not" if e.negated else ""
        if e.kind == "spatial":
            kind = SPATIAL_TO_CONSTRAINT.get(e.relation)
            if kind is None:
                continue
            params = dict(neg)
            if e.relation == "between" and e.attrs.get("third"):
                params["third"] = e.attrs["third"]
            be = "Are" if s.count > 1 else "Is"
            text = f"{be} {the(s)}{nots} {SPATIAL_WORDS[kind]} {the(d)}?"
            if e.relation == "between" and e.attrs.get("third") in by_id:
                text = f"Is {the(s)}{nots} between {the(d)} and {the(by_id[e.attrs['third']])}?"
            add(kind, s.id, d.id, params, text)
        elif e.kind == "action":
            add("action_direction", s.id, d.id, {"verb": e.relation, **neg},
                f"Is {the(s)} the one that{nots} {e.relation.replace('_', ' ')} {the(d)} (not the other way round)?")
        elif e.kind == "comparative":
            big, small = (s, d) if e.relation != "less_than" else (d, s)
            q = e.attrs.get("quantity", "amount")
            if q == "amount":
                text = f"Is there{nots} more {big.name} than {small.name}?"
            elif q == "count":
                text = f"Are there{nots} more {big.name}s than {small.name}s?"
            else:
                text = f"Is {the(big)}{nots} greater in {q} than {the(small)}?"
            add("more_than", big.id, small.id, {"quantity": q, **neg}, text)
            # more X than empty space in a container -> fill level
            empty = d if d.name in empty_words else (s if s.name in empty_words else None)
            if empty is not None and not e.negated:
                stuff = s if empty is d else d
                more_stuff = (e.relation == "more_than") == (empty is d)
                for c in g.edges:
                    if c.src == stuff.id and c.relation in ("in", "inside") and by_id[c.dst].kind == "container":
                        cont = by_id[c.dst]
                        if more_stuff:
                            add("fill_at_least", cont.id, stuff.id, {"value": 0.5},
                                f"Is {the(cont)} more than half full of {stuff.name}?")
                        else:
                            add("fill_at_most", cont.id, stuff.id, {"value": 0.5},
                                f"Is {the(cont)} less than half full of {stuff.name}?")
    return out
