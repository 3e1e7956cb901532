"""Corruptor: render a physics violation of a scene, for validating the judge.

``corrupt(scene, csg, kind, rng)`` returns a ``Corruption`` (a modified copy of the scene whose
render shows the violation, the constraint ids that must fail, and the ids it touches) or None
when the kind does not apply to the scene. The CSG stays the clean scene's: the judge is asked
whether the corrupted image satisfies it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import MIRROR_FRAME, obj_box, obj_wh
from .palette import COLOR_NAMES
from .scene import FILL_PHRASES, Scene

KINDS = ("reflection_spill", "shadow_wrong_side", "floating", "wrong_fill", "swapped_action", "wrong_color",
         "missing_object")


@dataclass
class Corruption:
    kind: str
    scene: Scene
    target: set     # constraint ids of which at least one must fail (the violation is caught)
    affected: set   # constraint ids the violation may legitimately change (excluded from false alarms)


def _ids(csg, pred):
    return {c.id for c in csg.constraints if pred(c)}


def _related(csg, oid):
    implied = {f"shadow_{oid}", f"reflection_{oid}", f"contact_{oid}", oid}
    return _ids(csg, lambda c: c.subject in implied or c.object in implied or c.params.get("caster") == oid)


def corrupt(sc: Scene, csg, kind: str, rng) -> Corruption | None:
    s = sc.copy()
    fl = s.flags
    if kind == "reflection_spill":
        if not s.reflector:
            return None
        r, o = s.reflector, s.objects[0]
        fr = MIRROR_FRAME if r["kind"] == "mirror" else 0.0
        e0, e1 = r["x0"] + fr, r["x1"] - fr
        w, _ = obj_wh(o.shape, o.size)
        # unclipped, its centre moved past the nearest edge: more than half the reflection lies outside
        go_left = (o.x - e0) < (e1 - o.x) if rng.random() < 0.8 else rng.random() < 0.5
        out = w * float(rng.uniform(0.1, 0.4))
        fl["reflection_spill"] = float((e0 - out if go_left else e1 + out) - o.x)
        ids = _ids(csg, lambda c: c.subject == f"reflection_{o.id}")
        return Corruption(kind, s, _ids(csg, lambda c: c.kind == "reflection_inside"), ids)
    if kind == "shadow_wrong_side":
        if not s.light:
            return None
        side = s.light["side"]
        fl["shadow_as_if"] = {"left": "right", "right": "left"}.get(side) or ("left" if rng.random() < 0.5 else "right")
        ids = _ids(csg, lambda c: c.kind == "shadow_opposite_light")
        return Corruption(kind, s, ids, ids)
    if kind == "floating":
        cands = [c for c in csg.constraints if c.kind == "touches_support"]
        if not cands:
            return None
        c = cands[int(rng.integers(len(cands)))]
        o = s.obj(c.subject)
        gap = float(rng.uniform(0.09, 0.14))
        x0, y0, x1, y1 = obj_box(o)
        if y0 - gap < 0.01:
            return None
        if s.support and s.support["relation"] == "under" and y0 - gap < s.support["top"] + s.support["thick"] + 0.01:
            return None
        fl["float"] = {o.id: gap}
        ids = {c.id}
        return Corruption(kind, s, ids, ids)
    if kind == "wrong_fill":
        if not s.container or not s.container.get("material"):
            return None
        _, ck, p = FILL_PHRASES[s.container["phrase"]]
        if ck == "fill_at_least":
            v = float(rng.uniform(0.12, p["value"] - 0.25))
        elif ck == "fill_at_most":
            v = float(rng.uniform(p["value"] + 0.25, 0.95))
        else:
            v = float(rng.uniform(0.12, p["low"] - 0.2)) if rng.random() < 0.5 else float(rng.uniform(p["high"] + 0.2, 0.95))
        fl["fill"] = v
        ids = _ids(csg, lambda c: c.kind.startswith("fill_"))
        return Corruption(kind, s, ids, ids)
    if kind == "swapped_action":
        if not s.action:
            return None
        fl["swap_action"] = True
        ids = _ids(csg, lambda c: c.kind == "action_direction")
        return Corruption(kind, s, ids, ids)
    if kind == "wrong_color":
        if not s.objects:
            return None
        o = s.objects[int(rng.integers(len(s.objects)))]
        used = {x.color for x in s.objects}
        o.color = [c for c in COLOR_NAMES if c not in used][int(rng.integers(len(COLOR_NAMES) - len(used)))]
        ids = _ids(csg, lambda c: c.kind == "color" and c.subject == o.id)
        return Corruption(kind, s, ids, ids)
    if kind == "missing_object":
        if not s.objects:
            return None
        o = s.objects[int(rng.integers(len(s.objects)))]
        fl["missing"] = [o.id]
        return Corruption(kind, s, _ids(csg, lambda c: c.kind == "present" and c.subject == o.id), _related(csg, o.id))
    raise ValueError(f"unknown corruption kind {kind!r}; use one of {', '.join(KINDS)}")


def misplace(sc: Scene, rng, size: int = 64) -> Scene:
    """A copy whose objects are each moved sideways by 2-4 px (at 64x64; scaled with ``size``): a generated
    image's small layout errors. Everything the objects cause (shadows, reflections) moves with them."""
    s = sc.copy()
    moved = set()
    together = bool(s.action) or bool(s.relation and s.relation.get("rel") == "on")   # interacting pairs
    d = 0.0
    for k, o in enumerate(s.objects):
        if k == 0 or not together:
            d = float(rng.integers(2, 5)) / 64.0 * (1 if rng.random() < 0.5 else -1)
        o.x += d
        moved.add(o.id)
    if s.light and s.light["side"] == "above":
        s.light["x"] = s.objects[0].x
    return s


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur (edge padding) of a float HxWx3 image."""
    r = max(1, int(np.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    p = np.pad(img, ((r, r), (0, 0), (0, 0)), mode="edge")
    img = sum(k[i] * p[i:i + img.shape[0]] for i in range(2 * r + 1))
    p = np.pad(img, ((0, 0), (r, r), (0, 0)), mode="edge")
    return sum(k[i] * p[:, i:i + img.shape[1]] for i in range(2 * r + 1))


def shift(img: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Translate by (dx, dy) pixels, filling from the nearest edge."""
    H, W = img.shape[:2]
    yi = np.clip(np.arange(H) - dy, 0, H - 1)
    xi = np.clip(np.arange(W) - dx, 0, W - 1)
    return img[yi][:, xi]


def degrade(img: np.ndarray, mode: str, rng) -> np.ndarray:
    """Imitate a generated image: 'clean', 'blur', 'noise', 'shift' (2-4 px at 64, scaled) or 'all'.
    (Object-level misplacement is ``misplace``, applied to the scene before rendering.)"""
    if mode in ("clean", "misplace"):
        return img
    f = img.astype(np.float32) / 255.0
    S = f.shape[0]
    k = S / 64.0
    if mode in ("blur", "all"):
        f = blur(f, float(rng.uniform(0.6, 1.0)) * k)
    if mode in ("shift", "all"):
        while True:
            dx, dy = (int(v) for v in rng.integers(-4, 5, size=2))
            if 2 <= max(abs(dx), abs(dy)) <= 4:
                break
        f = shift(f, int(round(dx * k)), int(round(dy * k)))
    if mode in ("noise", "all"):
        f = f + rng.normal(0.0, float(rng.uniform(0.03, 0.05)), f.shape).astype(np.float32)
    return np.clip(f * 255.0 + 0.5, 0, 255).astype(np.uint8)
