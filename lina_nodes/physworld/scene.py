"""PhysWorld scene spec: a JSON-able description of one causal scene, and seeded samplers.

A ``Scene`` is a category (shadow, reflection, support, container, spatial, region, action) with
its objects and scene elements in normalised coordinates. ``render.render`` draws it,
``csg_build.to_csg`` turns it into the true CSG (v1), ``templates.prompt_for`` words it.
``flags`` is only set by ``corrupt`` (render a physics violation of the same scene).
"""
from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import PhysWorldError
from .geometry import CONTAINER_WALL, MIRROR_FRAME, REFLECT_SQUASH, SHAPES, SIZES, obj_wh, shadow_len
from .palette import COLOR_NAMES

CATEGORIES = ("shadow", "reflection", "support", "container", "spatial", "region", "action")
FILL_PHRASES = {  # phrase -> (render range, constraint kind, constraint params)
    "almost_empty": ((0.12, 0.24), "fill_at_most", {"value": 0.3}),
    "half": ((0.42, 0.58), "fill_between", {"low": 0.35, "high": 0.65}),
    "nearly_full": ((0.8, 0.92), "fill_at_least", {"value": 0.75}),
    "more_than": ((0.64, 0.9), "fill_at_least", {"value": 0.5}),
    "less_than": ((0.1, 0.36), "fill_at_most", {"value": 0.5}),
}
# cyclic "food chain" used by action scenes; the reverse direction is the OOD one
ACTION_CHAIN = {"ball": "cube", "cube": "cone", "cone": "cylinder", "cylinder": "ball"}


@dataclass
class Obj:
    id: str
    shape: str
    color: str
    size: str
    x: float       # centre x
    base: float    # y of the bottom (contact) line
    submerged: float = 0.0  # share of the height under water (region scenes)


@dataclass
class Scene:
    category: str
    subcategory: str
    seed: int
    objects: list = field(default_factory=list)
    light: dict | None = None       # id, kind (lamp|sun), side (left|right|above), x, y, r
    reflector: dict | None = None   # id, kind (mirror|water), size, placement, x0, y0, x1, y1
    support: dict | None = None     # id, kind (table|shelf), x0, x1, top, thick, relation (on|under)
    container: dict | None = None   # id, kind (jar|box), x0, y0, x1, y1, material, fill, phrase
    regions: dict | None = None     # land (sand|grass), land_id, water_id, water_side, split, placement
    relation: dict | None = None    # rel, a, b
    action: dict | None = None      # verb, agent, patient
    style: dict = field(default_factory=dict)
    flags: dict = field(default_factory=dict)

    def obj(self, oid: str) -> Obj:
        for o in self.objects:
            if o.id == oid:
                return o
        raise PhysWorldError(f"no object {oid!r} in the scene", field="object")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Scene":
        d = copy.deepcopy(d)
        d["objects"] = [Obj(**o) for o in d.get("objects", [])]
        return cls(**d)

    def copy(self) -> "Scene":
        return Scene.from_dict(self.to_dict())


# ---------------------------------------------------------------------------------------------
def _u(rng, a, b):
    if b <= a:
        return float((a + b) / 2)
    return float(rng.uniform(a, b))


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def _style(rng, outdoor=False) -> dict:
    return {"backdrop": "sky" if outdoor else "wall", "tint": [round(_u(rng, -0.03, 0.03), 4) for _ in range(3)]}


def _far_colors(colors):
    """The colours to avoid next to ``colors``: themselves and their hue neighbours (legible pairs)."""
    out = set()
    for c in colors:
        k = COLOR_NAMES.index(c)
        out |= {COLOR_NAMES[(k + d) % len(COLOR_NAMES)] for d in (-1, 0, 1)}
    return out


def _mk_obj(rng, i, shape=None, color=None, size=None, avoid=()):
    shape = shape or _pick(rng, SHAPES)
    size = size or _pick(rng, SIZES)
    if color is None:
        choices = [c for c in COLOR_NAMES if c not in _far_colors(avoid)]
        color = _pick(rng, choices)
    return Obj(id=f"{shape}_{i}", shape=shape, color=color, size=size, x=0.5, base=0.85)


def sample_shadow(rng, f):
    o = _mk_obj(rng, 0, f.get("shape"), f.get("color"), f.get("size"))
    side = f.get("side") or _pick(rng, ("left", "right", "above"))
    kind = f.get("light") or _pick(rng, ("lamp", "sun"))
    w, _ = obj_wh(o.shape, o.size)
    L = shadow_len(o)
    o.base = _u(rng, 0.76, 0.88)
    if side == "left":
        o.x = _u(rng, 0.2 + w / 2, 0.96 - w / 2 - L)
    elif side == "right":
        o.x = 1.0 - _u(rng, 0.2 + w / 2, 0.96 - w / 2 - L)
    else:
        o.x = _u(rng, 0.3, 0.7)
    lx = {"left": 0.13, "right": 0.87, "above": o.x}[side]
    light = {"id": f"{kind}_0", "kind": kind, "side": side, "x": lx, "y": 0.12 if kind == "lamp" else 0.11,
             "r": 0.05 if kind == "lamp" else 0.065}
    return Scene("shadow", f"{kind}_{side}", 0, [o], light=light, style=_style(rng, kind == "sun"))


def sample_reflection(rng, f):
    kind = f.get("reflector") or _pick(rng, ("mirror", "water"))
    size = f.get("mirror_size") or _pick(rng, ("small", "large"))
    placement = f.get("placement") or _pick(rng, ("center", "edge"))
    o = _mk_obj(rng, 0, f.get("shape"), f.get("color"), f.get("size"))
    w, h = obj_wh(o.shape, o.size)
    o.base = _u(rng, 0.6, 0.66)
    mw = 0.3 if size == "small" else 0.6
    mc = _u(rng, 0.33, 0.67) if size == "small" else _u(rng, 0.47, 0.53)
    x0, x1 = mc - mw / 2, mc + mw / 2
    frame = MIRROR_FRAME if kind == "mirror" else 0.0
    if placement == "center":
        slack = max(0.0, mw / 2 - frame - w / 2 - 0.02)
        o.x = mc + _u(rng, -slack, slack)
    else:
        edge_side = f.get("edge_side") or _pick(rng, ("left", "right"))
        e = (x0 + frame) if edge_side == "left" else (x1 - frame)
        o.x = e + _u(rng, -0.15, 0.25) * w * (1 if edge_side == "left" else -1)
        placement = f"edge_{edge_side}"
    y0 = o.base - 0.02
    y1 = min(0.995, o.base + REFLECT_SQUASH * h + 0.13)
    refl = {"id": f"{kind}_0", "kind": kind, "size": size, "placement": placement,
            "x0": x0, "y0": y0, "x1": x1, "y1": y1}
    return Scene("reflection", f"{kind}_{size}_{placement.split('_')[0]}", 0, [o], reflector=refl, style=_style(rng))


def sample_support(rng, f):
    kind = f.get("support") or _pick(rng, ("table", "shelf"))
    rel = f.get("support_rel") or ("on" if kind == "shelf" else _pick(rng, ("on", "on", "under")))
    o = _mk_obj(rng, 0, f.get("shape"), f.get("color"), f.get("size"))
    w, h = obj_wh(o.shape, o.size)
    if kind == "shelf":
        top, width, thick = _u(rng, 0.3, 0.42), _u(rng, 0.4, 0.5), 0.05
    elif rel == "on":
        top, width, thick = _u(rng, 0.62, 0.7), _u(rng, 0.42, 0.56), 0.05
    else:
        top, width, thick = _u(rng, 0.42, 0.47), _u(rng, 0.58, 0.66), 0.05
    c = _u(rng, 0.5 - (0.5 - width / 2 - 0.04), 0.5 + (0.5 - width / 2 - 0.04))
    x0, x1 = c - width / 2, c + width / 2
    if rel == "on":
        o.base = top
        o.x = _u(rng, x0 + w / 2 + 0.03, x1 - w / 2 - 0.03)
    else:
        o.base = 0.92
        o.x = _u(rng, x0 + 0.07 + w / 2, x1 - 0.07 - w / 2)
    sup = {"id": f"{kind}_0", "kind": kind, "x0": x0, "x1": x1, "top": top, "thick": thick, "relation": rel,
           "floor": 0.92}
    return Scene("support", f"{kind}_{rel}", 0, [o], support=sup, style=_style(rng))


def _container_geom(rng, kind, cx=None):
    w, hgt = _u(rng, 0.3, 0.38), _u(rng, 0.38, 0.46)
    cx = _u(rng, 0.32, 0.68) if cx is None else cx
    return {"id": f"{kind}_0", "kind": kind, "x0": cx - w / 2, "x1": cx + w / 2, "y0": 0.9 - hgt, "y1": 0.9}


def container_interior(c) -> tuple[float, float, float, float]:
    t = CONTAINER_WALL[c["kind"]]
    return (c["x0"] + t, c["y0"], c["x1"] - t, c["y1"] - t)


def sample_container(rng, f):
    kind = f.get("container") or _pick(rng, ("jar", "box"))
    material = f.get("material") or _pick(rng, ("dirt", "sand", "water"))
    phrase = f.get("fill_phrase") or _pick(rng, tuple(FILL_PHRASES))
    c = _container_geom(rng, kind)
    lo, hi = FILL_PHRASES[phrase][0]
    c.update(material=material, fill=_u(rng, lo, hi), phrase=phrase)
    return Scene("container", f"{kind}_{material}_{phrase}", 0, [], container=c, style=_style(rng))


def sample_spatial(rng, f):
    rel = f.get("rel") or _pick(rng, ("left_of", "right_of", "on", "in", "next_to"))
    if rel in ("in", "next_to"):
        kind = f.get("container") or _pick(rng, ("jar", "box"))
        a = _mk_obj(rng, 0, f.get("shape"), f.get("color"), "small")
        wa, _ = obj_wh(a.shape, a.size)
        if rel == "in":
            c = _container_geom(rng, kind)
            ix0, _, ix1, iy1 = container_interior(c)
            a.x = _u(rng, ix0 + wa / 2 + 0.01, ix1 - wa / 2 - 0.01)
            a.base = iy1
        else:
            side = _pick(rng, (-1, 1))
            c = _container_geom(rng, kind, cx=0.5 - side * _u(rng, 0.12, 0.18))
            gap = _u(rng, 0.02, 0.06)
            a.x = (c["x1"] + gap + wa / 2) if side > 0 else (c["x0"] - gap - wa / 2)
            a.base = c["y1"]
        c.update(material=None, fill=0.0, phrase="empty")
        return Scene("spatial", f"{rel}_{kind}", 0, [a], container=c,
                     relation={"rel": rel, "a": a.id, "b": c["id"]}, style=_style(rng))
    a = _mk_obj(rng, 0, f.get("shape"), f.get("color"), f.get("size"))
    if rel == "on":
        b = _mk_obj(rng, 1, f.get("b_shape") or _pick(rng, ("cube", "cylinder")), f.get("b_color"), "large",
                  avoid=(a.color,))
        a.size = "small"
        b.x, b.base = _u(rng, 0.3, 0.7), _u(rng, 0.8, 0.88)
        wb, hb = obj_wh(b.shape, b.size)
        a.x = b.x + _u(rng, -0.03, 0.03)
        a.base = b.base - hb
    else:
        b = _mk_obj(rng, 1, f.get("b_shape"), f.get("b_color"), f.get("b_size"), avoid=(a.color,))
        wa, _ = obj_wh(a.shape, a.size)
        wb, _ = obj_wh(b.shape, b.size)
        gap = _u(rng, 0.08, 0.2)
        span = wa + wb + gap
        start = _u(rng, 0.04, 0.96 - span)
        left, right = (a, b) if rel == "left_of" else (b, a)
        left.x = start + obj_wh(left.shape, left.size)[0] / 2
        right.x = start + span - obj_wh(right.shape, right.size)[0] / 2
        a.base, b.base = _u(rng, 0.76, 0.9), _u(rng, 0.76, 0.9)
    return Scene("spatial", rel, 0, [a, b], relation={"rel": rel, "a": a.id, "b": b.id}, style=_style(rng))


def sample_region(rng, f):
    land = f.get("land") or _pick(rng, ("sand", "grass"))
    placement = f.get("placement") or _pick(rng, ("near", "far", "in_water"))
    side = f.get("water_side") or _pick(rng, ("left", "right"))
    ww = _u(rng, 0.3, 0.4) if placement != "in_water" else _u(rng, 0.4, 0.46)
    split = ww if side == "left" else 1.0 - ww
    o = _mk_obj(rng, 0, f.get("shape"), f.get("color"), f.get("size"))
    w, h = obj_wh(o.shape, o.size)
    o.base = _u(rng, 0.78, 0.88)
    d = 1 if side == "left" else -1   # direction from the water into the land
    if placement == "near":
        o.x = split + d * (_u(rng, 0.02, 0.07) + w / 2)
    elif placement == "far":
        o.x = split + d * (_u(rng, 0.3, 0.42) + w / 2)
        o.x = min(max(o.x, w / 2 + 0.02), 0.98 - w / 2)
    else:
        o.x = split - d * _u(rng, w / 2 + 0.04, ww - w / 2 - 0.03)
        o.submerged = 0.3
    reg = {"land": land, "land_id": f"{land}_0", "water_id": "water_0", "water_side": side, "split": split,
           "placement": placement}
    return Scene("region", f"{land}_{placement}", 0, [o], regions=reg, style=_style(rng, True))


def sample_action(rng, f):
    verb = f.get("verb") or _pick(rng, ("eats", "pushes"))
    sa = f.get("agent_shape") or _pick(rng, SHAPES)
    reverse = f.get("reverse")
    if reverse is None:
        reverse = bool(rng.random() < 0.5)
    if reverse:
        sp = [k for k, v in ACTION_CHAIN.items() if v == sa][0]
    else:
        sp = ACTION_CHAIN[sa]
    size_a, size_p = ("large", "small") if verb == "eats" else (f.get("a_size") or _pick(rng, SIZES),
                                                            f.get("p_size") or _pick(rng, SIZES))
    a = _mk_obj(rng, 0, sa, f.get("color"), size_a)
    p = _mk_obj(rng, 1, sp, f.get("p_color"), size_p, avoid=(a.color,))
    wa, _ = obj_wh(a.shape, a.size)
    wp, _ = obj_wh(p.shape, p.size)
    d = _pick(rng, (-1, 1))   # +1: agent on the left, facing right
    overlap = 0.3 * wp if verb == "eats" else 0.0
    total = wa + wp - overlap + (0.14 if verb == "pushes" else 0.0)
    start = _u(rng, 0.05, 0.95 - total)
    if d > 0:
        a.x = start + (0.14 if verb == "pushes" else 0.0) + wa / 2
        p.x = a.x + wa / 2 + wp / 2 - overlap
    else:
        a.x = start + total - (0.14 if verb == "pushes" else 0.0) - wa / 2
        p.x = a.x - wa / 2 - wp / 2 + overlap
    a.base = p.base = _u(rng, 0.78, 0.88)
    act = {"verb": verb, "agent": a.id, "patient": p.id, "reverse": bool(reverse)}
    return Scene("action", verb, 0, [a, p], action=act, style=_style(rng))


SAMPLERS = {"shadow": sample_shadow, "reflection": sample_reflection, "support": sample_support,
            "container": sample_container, "spatial": sample_spatial, "region": sample_region,
            "action": sample_action}


def sample_scene(seed: int, category: str | None = None, **factors) -> Scene:
    """A random scene, deterministic per (seed, category, factors). Factors fix choices
    (e.g. ``shape="cone", side="right"``); unknown factors are ignored."""
    rng = np.random.default_rng(int(seed))
    if category is None:
        category = CATEGORIES[int(rng.integers(len(CATEGORIES)))]
    if category not in SAMPLERS:
        raise PhysWorldError(f"unknown category {category!r}", field="category",
                             fix=f"use one of {', '.join(CATEGORIES)}.")
    sc = SAMPLERS[category](rng, factors)
    sc.seed = int(seed)
    for o in sc.objects:
        o.x, o.base = round(o.x, 5), round(o.base, 5)
    return sc
