"""Layout solver: a box for every (non-negated) node, consistent with its relations.

Normalised image coordinates, origin top-left, boxes [x0, y0, x1, y1]. Deterministic for a given
seed (the seed only moves the starting slots a little). Explicit nodes are placed first (default
sizes by kind, side hints, then a few passes over the spatial edges); implied nodes are derived
from their causes: a reflection mirrored and clipped to its surface, a shadow on the far side of
the light, a contact strip where an object meets its support, a fill region at the container's
bottom, an occlusion where front and back overlap, a refraction/splash/ripple at the liquid.
"""
from __future__ import annotations

import random

from .model import CSG

EPS = 0.01
GAP = 0.02
DEFAULT_SIZE = {  # (width, height)
    "object": (0.16, 0.16), "agent": (0.2, 0.3), "surface": (0.55, 0.22), "medium": (0.5, 0.25),
    "light": (0.1, 0.1), "container": (0.18, 0.24), "region": (1.0, 0.35),
}
NAMED_SIZE = {
    "mirror": (0.3, 0.45), "floor": (1.0, 0.3), "ground": (1.0, 0.3), "polished floor": (1.0, 0.3),
    "wall": (1.0, 0.6), "sky": (1.0, 0.35), "table": (0.55, 0.25), "shelf": (0.5, 0.08), "window": (0.3, 0.35),
    "sun": (0.12, 0.12), "moon": (0.1, 0.1), "lake": (1.0, 0.35), "sea": (1.0, 0.35), "ocean": (1.0, 0.35),
    "pond": (0.6, 0.25), "puddle": (0.35, 0.1), "beach": (1.0, 0.35), "sand": (1.0, 0.3), "grass": (1.0, 0.3),
    "water": (0.8, 0.3), "road": (1.0, 0.25), "bed": (0.5, 0.25), "desk": (0.5, 0.25),
}
SIZE_SCALE = {"small": 0.65, "medium": 1.0, "large": 1.45}
TOP_KINDS = {"sky", "sun", "moon", "ceiling", "cloud", "star"}
BOTTOM_NAMES = {"floor", "ground", "polished floor", "beach", "sand", "grass", "road", "lake", "sea", "ocean",
                "pond", "water", "lawn", "field", "carpet", "rug", "street", "snow", "dirt", "mud"}
VERTICAL_SURFACES = {"wall", "door", "window", "board", "screen", "fridge", "canvas", "mirror wall", "brick wall"}
VERTICAL_REFLECTORS_RELS = {"in_front_of", "near", "next_to", "close_to", "left_of", "right_of"}


def _clip(v: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return lo if v < lo else hi if v > hi else v


class Box:
    __slots__ = ("x0", "y0", "x1", "y1")

    def __init__(self, x0, y0, x1, y1):
        self.x0, self.y0, self.x1, self.y1 = x0, y0, x1, y1

    @property
    def w(self):
        return self.x1 - self.x0

    @property
    def h(self):
        return self.y1 - self.y0

    @property
    def cx(self):
        return (self.x0 + self.x1) / 2

    @property
    def cy(self):
        return (self.y0 + self.y1) / 2

    def move_to(self, cx=None, cy=None, bottom=None):
        w, h = self.w, self.h
        if cx is not None:
            self.x0 = _clip(cx - w / 2, 0.0, 1.0 - w)
            self.x1 = self.x0 + w
        if cy is not None:
            self.y0 = _clip(cy - h / 2, 0.0, 1.0 - h)
            self.y1 = self.y0 + h
        if bottom is not None:
            self.y0 = _clip(bottom - h, 0.0, 1.0 - h)
            self.y1 = self.y0 + h

    def shrink_into(self, outer: "Box", frac: float = 0.6, bottom: bool = True):
        w = min(self.w, outer.w * frac)
        h = min(self.h, outer.h * frac)
        cx = _clip(self.cx, outer.x0 + w / 2, outer.x1 - w / 2)
        self.x0, self.x1 = cx - w / 2, cx + w / 2
        if bottom:
            self.y1 = outer.y1 - outer.h * 0.05
            self.y0 = self.y1 - h
        else:
            self.y0, self.y1 = outer.cy - h / 2, outer.cy + h / 2

    def tup(self):
        x0, y0, x1, y1 = (_clip(v) for v in (self.x0, self.y0, self.x1, self.y1))
        if x1 - x0 < EPS:
            x0, x1 = min(x0, 1 - EPS), min(x0, 1 - EPS) + EPS
        if y1 - y0 < EPS:
            y0, y1 = min(y0, 1 - EPS), min(y0, 1 - EPS) + EPS
        return (round(x0, 4), round(y0, 4), round(x1, 4), round(y1, 4))

    def intersect(self, o: "Box"):
        b = Box(max(self.x0, o.x0), max(self.y0, o.y0), min(self.x1, o.x1), min(self.y1, o.y1))
        return b if b.w > 0 and b.h > 0 else None


def _initial(g: CSG, rng: random.Random) -> dict:
    boxes: dict[str, Box] = {}
    explicit = [n for n in g.nodes if n.explicit and not n.negated and n.kind not in
                ("reflection", "shadow", "contact", "fill", "splash", "refraction", "ripple", "occlusion")]
    movable = [n for n in explicit if n.kind not in ("region",) and n.name not in BOTTOM_NAMES
               and n.name not in TOP_KINDS]
    k = max(1, len(movable))
    slot = {n.id: i for i, n in enumerate(movable)}
    for n in explicit:
        w, h = NAMED_SIZE.get(n.name, DEFAULT_SIZE.get(n.kind, (0.16, 0.16)))
        s = SIZE_SCALE.get(n.physics.get("size", "medium"), 1.0)
        if n.count > 1 and n.kind not in ("region", "surface", "medium"):
            w = min(0.9, w * min(n.count, 4) * 0.7)
        w, h = min(1.0, w * s), min(1.0, h * s)
        if n.name in TOP_KINDS or n.kind == "light":
            cx, cy = 0.15 + 0.7 * rng.random(), 0.12
        elif n.name in BOTTOM_NAMES or n.kind == "region":
            cx, cy = 0.5, 1.0 - h / 2
        else:
            cx = (slot.get(n.id, 0) + 0.5) / k + rng.uniform(-0.03, 0.03)
            cy = 0.62 + rng.uniform(-0.03, 0.03)
        b = Box(0, 0, w, h)
        b.move_to(cx=cx, cy=cy)
        side = n.physics.get("side")
        if side == "left":
            b.move_to(cx=0.2)
        elif side == "right":
            b.move_to(cx=0.8)
        elif side in ("top", "above"):
            b.move_to(cy=0.15)
        elif side == "bottom":
            b.move_to(cy=0.85)
        elif side == "center":
            b.move_to(cx=0.5)
        elif side == "background":
            b.move_to(cy=0.4)
        boxes[n.id] = b
    return boxes


def _room_above(b: Box, need: float) -> None:
    """Move b down so that something of height ``need`` fits above it."""
    if b.y0 - GAP < need:
        b.move_to(cy=min(1 - b.h / 2, need + GAP + b.h / 2))


def _room_below(b: Box, need: float) -> None:
    if 1.0 - b.y1 - GAP < need:
        b.move_to(cy=max(b.h / 2, 1.0 - need - GAP - b.h / 2))


def _layout_relation(e) -> str:
    """The relation the layout solves: "near the edge of X" (``place: edge``) sits on X at its border."""
    return "at_edge" if e.relation in ("near", "close_to") and (e.attrs or {}).get("place") == "edge" else e.relation


def _apply_edge(rel: str, a: Box, b: Box, third: Box | None, b_kind: str = "", b_name: str = "",
                vertical: bool = False) -> None:
    if rel == "on" and b_name in VERTICAL_SURFACES:
        rel = "inside"  # a mirror on the wall hangs in the wall's area
    if rel == "left_of" and a.x1 > b.x0 - GAP:
        if b.x0 - GAP - a.w >= 0:
            a.move_to(cx=b.x0 - GAP - a.w / 2)
        else:
            b.move_to(cx=min(1 - b.w / 2, a.x1 + GAP + b.w / 2))
            a.move_to(cx=b.x0 - GAP - a.w / 2)
    elif rel == "right_of" and a.x0 < b.x1 + GAP:
        if b.x1 + GAP + a.w <= 1:
            a.move_to(cx=b.x1 + GAP + a.w / 2)
        else:
            b.move_to(cx=max(b.w / 2, a.x0 - GAP - b.w / 2))
            a.move_to(cx=b.x1 + GAP + a.w / 2)
    elif rel == "at_edge":   # "near the edge of a mirror": on it, at the nearer side edge, overhanging a quarter
        if a.w > b.w * 0.9:
            s = b.w * 0.9 / a.w
            a.x1, a.y0 = a.x0 + a.w * s, a.y1 - a.h * s
        cx = b.x1 - 0.25 * a.w if a.cx >= b.cx else b.x0 + 0.25 * a.w
        a.move_to(cx=_clip(cx, a.w / 2, 1 - a.w / 2), bottom=b.y0 + 0.005)
        if a.y1 > b.y0 + 0.01:
            b.move_to(cy=b.cy + (a.y1 - b.y0))
    elif rel == "on":
        if a.w > b.w * 0.9:
            s = b.w * 0.9 / a.w
            a.x1 = a.x0 + a.w * s
            a.y0 = a.y1 - a.h * s
        a.move_to(cx=_clip(a.cx, b.x0 + a.w / 2, b.x1 - a.w / 2), bottom=b.y0 + 0.005)
        if a.y1 > b.y0 + 0.01:  # no room above: move the support down
            b.move_to(cy=b.cy + (a.y1 - b.y0))
    elif rel == "above" and a.y1 > b.y0 - GAP:
        _room_above(b, min(a.h, 0.6))
        a.move_to(cx=b.cx, bottom=b.y0 - GAP)
    elif rel == "under" and b_kind == "surface" and b.w >= a.w:
        # under a table: inside its lower part, between the legs
        if a.h > 0.75 * b.h:
            s = 0.75 * b.h / a.h
            a.x1, a.y0 = a.x0 + a.w * s, a.y1 - a.h * s
        a.move_to(cx=_clip(a.cx, b.x0 + a.w / 2, b.x1 - a.w / 2), bottom=b.y1)
    elif rel in ("below", "under") and a.y0 < b.y1 + (GAP if rel == "below" else 0.0) - 1e-9:
        _room_below(b, min(a.h, 0.6))
        a.move_to(cx=b.cx, cy=min(1 - a.h / 2, b.y1 + GAP + a.h / 2))
    elif rel in ("in", "inside"):
        if not (a.x0 >= b.x0 and a.x1 <= b.x1 and a.y0 >= b.y0 and a.y1 <= b.y1):
            a.shrink_into(b, 0.7 if b.w < 0.5 else 0.5)
    elif rel == "in_front_of":
        a.move_to(cx=_clip(b.cx + 0.25 * b.w, a.w / 2, 1 - a.w / 2), bottom=min(1.0, max(a.y1, b.y1 + 0.05)))
    elif rel == "behind":
        a.move_to(cx=_clip(b.cx - 0.25 * b.w, a.w / 2, 1 - a.w / 2), bottom=max(a.h, b.y1 - 0.08))
    elif rel in ("next_to", "near", "close_to"):
        dist = max(0.0, max(a.x0 - b.x1, b.x0 - a.x1))
        if dist > 0.05 or a.intersect(b) is not None:
            if b.x1 + GAP + a.w <= 1 and (a.cx >= b.cx or b.x0 - GAP - a.w < 0):
                a.move_to(cx=b.x1 + GAP + a.w / 2)
            else:
                a.move_to(cx=b.x0 - GAP - a.w / 2)
        if b.h < 0.6 and not vertical and b_kind != "region":
            a.move_to(bottom=b.y1)
    elif rel == "far_from":
        if abs(a.cx - b.cx) < 0.45:
            if b.cx >= 0.5:
                a.move_to(cx=a.w / 2 + 0.02)
            else:
                a.move_to(cx=1 - a.w / 2 - 0.02)
    elif rel == "between" and third is None:  # "between two trees": one node with count 2
        a.move_to(cx=b.cx, bottom=b.y1)
    elif rel == "between" and third is not None:
        lo, hi = (b, third) if b.cx <= third.cx else (third, b)
        if hi.x0 - lo.x1 < a.w + 2 * GAP:
            lo.move_to(cx=lo.w / 2 + 0.01)
            hi.move_to(cx=1 - hi.w / 2 - 0.01)
        a.move_to(cx=(lo.x1 + hi.x0) / 2, bottom=max(lo.y1, hi.y1))


def _implied(g: CSG, boxes: dict) -> None:
    by_id = {n.id: n for n in g.nodes}

    def cause(nid: str, relation: str, exclude: str | None) -> str | None:
        for e in g.edges:
            if e.dst == nid and e.relation == relation and e.src != exclude and e.src in boxes:
                return e.src
        return None

    for n in g.nodes:
        if n.id in boxes or n.negated:
            continue
        owner = n.physics.get("of")
        a = boxes.get(owner) if owner else None
        if n.kind == "reflection" and a is not None:
            sid = cause(n.id, "reflects", owner)
            s = boxes.get(sid) if sid else None
            if s is None:
                continue
            rel = next((e.relation for e in g.edges if e.src == owner and e.dst == sid and e.kind == "spatial"), "")
            vertical = rel in VERTICAL_REFLECTORS_RELS or by_id[sid].name in ("mirror", "window")
            if vertical:
                w, h = a.w * 0.8, a.h * 0.8
                r = Box(0, 0, w, h)
                r.move_to(cx=a.cx, cy=min(s.cy, a.cy - 0.05))
            else:  # horizontal surface: flipped below the object's base
                r = Box(a.x0, a.y1, a.x1, a.y1 + a.h * 0.8)
            clipped = r.intersect(s)
            if clipped is None:  # keep it inside the surface even when the object is off to the side
                r.move_to(cx=_clip(r.cx, s.x0 + r.w / 2, s.x1 - r.w / 2), cy=_clip(r.cy, s.y0 + r.h / 2, s.y1 - r.h / 2))
                clipped = r.intersect(s) or Box(s.x0, s.y0, s.x1, s.y1)
            boxes[n.id] = clipped
        elif n.kind == "shadow" and a is not None:
            lid = cause(n.id, "casts", owner)
            light = boxes.get(lid) if lid else None
            direction = 1.0 if light is None or light.cx <= a.cx else -1.0
            if light is not None and abs(light.cx - a.cx) < 1e-6:
                direction = 1.0
            w, h = a.w * 1.1, max(0.03, a.h * 0.25)
            cx = a.cx + direction * a.w * 0.7
            r = Box(cx - w / 2, a.y1 - h * 0.6, cx + w / 2, a.y1 + h * 0.4)
            r.x0, r.x1 = _clip(r.x0), _clip(r.x1)
            boxes[n.id] = r
        elif n.kind == "contact" and a is not None:
            sid = cause(n.id, "supports", owner)
            boxes[n.id] = Box(a.x0, a.y1 - 0.015, a.x1, a.y1 + 0.015)
        elif n.kind == "fill" and a is not None:
            fill = float(n.physics.get("fill", 0.5))
            top = a.y1 - max(EPS, fill * a.h * 0.9)
            boxes[n.id] = Box(a.x0 + a.w * 0.08, top, a.x1 - a.w * 0.08, a.y1 - a.h * 0.02)
        elif n.kind == "occlusion":
            front = next((e.src for e in g.edges if e.dst == n.id and e.relation == "occludes"), None)
            back_e = next((e for e in g.edges if e.kind == "spatial" and e.relation in ("in_front_of", "behind")
                           and (e.src == front or e.dst == front)), None)
            if front in boxes and back_e is not None:
                back = back_e.dst if back_e.src == front else back_e.src
                if back in boxes:
                    boxes[n.id] = boxes[front].intersect(boxes[back]) or Box(
                        boxes[front].x0, boxes[front].y0, boxes[front].x1, boxes[front].y1)
        elif n.kind == "refraction" and a is not None:
            lid = cause(n.id, "refracts", owner)
            liq = boxes.get(lid) if lid else None
            boxes[n.id] = (a.intersect(liq) if liq else None) or Box(a.x0, a.cy, a.x1, a.y1)
        elif n.kind in ("splash", "ripple") and a is not None:
            w = a.w * (1.6 if n.kind == "splash" else 2.2)
            h = max(0.04, a.h * (0.5 if n.kind == "splash" else 0.25))
            boxes[n.id] = Box(_clip(a.cx - w / 2), a.y1 - h / 2, _clip(a.cx + w / 2), a.y1 + h / 2)


def _spread_siblings(spatial, boxes: dict, fixed: set) -> None:
    """Several things on (or in) the same holder share its width instead of overlapping."""
    groups: dict[tuple, list[str]] = {}
    for e in spatial:
        if e.relation in ("on", "in", "inside") and e.src not in fixed:
            groups.setdefault((e.dst, e.relation), [])
            if e.src not in groups[(e.dst, e.relation)]:
                groups[(e.dst, e.relation)].append(e.src)
    for (holder, _), kids in groups.items():
        if len(kids) < 2:
            continue
        h = boxes[holder]
        slot = h.w / len(kids)
        for k, kid in enumerate(kids):
            b = boxes[kid]
            if b.w > slot * 0.9:
                s = slot * 0.9 / b.w
                bottom = b.y1
                b.x1 = b.x0 + b.w * s
                b.y0 = bottom - b.h * s
            b.move_to(cx=h.x0 + slot * (k + 0.5))


def solve_layout(g: CSG, seed: int = 0, passes: int = 3) -> CSG:
    """Return a copy of ``g`` where every non-negated node has a box (kept if it already had one)."""
    rng = random.Random(int(seed) & 0xFFFFFFFF)
    fixed = {n.id for n in g.nodes if n.box is not None}
    boxes = _initial(g, rng)
    for n in g.nodes:
        if n.box is not None:
            boxes[n.id] = Box(*n.box)
    spatial = [e for e in g.edges if e.kind == "spatial" and not e.negated and e.src in boxes and e.dst in boxes]
    info = {n.id: (n.kind, n.name) for n in g.nodes}
    vertical = {e.src for e in spatial if e.relation in ("on", "above", "below", "under", "in", "inside",
                                                         "in_front_of", "behind")}
    # containers first (things inside move with them), then the rest, a few passes
    for _ in range(passes):
        for e in spatial:
            if e.src in fixed:
                continue
            third = boxes.get(e.attrs.get("third")) if e.relation == "between" else None
            _apply_edge(_layout_relation(e), boxes[e.src], boxes[e.dst], third, *info[e.dst], e.src in vertical)
        for e in spatial:  # re-seat contents after their holders moved
            if _layout_relation(e) in ("in", "inside", "on", "at_edge") and e.src not in fixed:
                _apply_edge(_layout_relation(e), boxes[e.src], boxes[e.dst], None, *info[e.dst], True)
    _spread_siblings(spatial, boxes, fixed)
    # media inside a container fill it from the bottom
    for e in spatial:
        n = next((x for x in g.nodes if x.id == e.src), None)
        holder = next((x for x in g.nodes if x.id == e.dst), None)
        if n is not None and holder is not None and n.kind == "medium" and holder.kind == "container" \
                and e.relation in ("in", "inside") and n.id not in fixed:
            c = boxes[e.dst]
            fill = float(holder.physics.get("fill", 0.5))
            if n.name in ("empty space", "space", "air", "emptiness", "gap"):
                top = c.y1 - max(EPS, fill * c.h * 0.9)
                boxes[n.id] = Box(c.x0 + c.w * 0.08, c.y0 + c.h * 0.05, c.x1 - c.w * 0.08, max(top, c.y0 + c.h * 0.05 + EPS))
                continue
            boxes[n.id] = Box(c.x0 + c.w * 0.08, c.y1 - max(EPS, fill * c.h * 0.9), c.x1 - c.w * 0.08, c.y1 - c.h * 0.02)
    _implied(g, boxes)
    nodes = [n if n.id in fixed else n.__class__(**{**n.__dict__, "box": boxes[n.id].tup() if n.id in boxes else None})
             for n in g.nodes]
    meta = {**g.meta, "layout_seed": int(seed)}
    return g.replaced(nodes=nodes, meta=meta)
