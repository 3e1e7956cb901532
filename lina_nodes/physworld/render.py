"""PhysWorld renderer: Scene -> (RGB uint8 image, {node id: bool mask}); numpy only, any size.

Deterministic: the image depends only on the scene (no random numbers here). Masks are named
with the CSG node ids of ``csg_build.to_csg``: objects, ``shadow_<obj>``, ``reflection_<obj>``,
``contact_<obj>``, the mirror/water, light, support, container, ``fill_<container>``, regions.
"""
from __future__ import annotations

import math

import numpy as np

from .geometry import HORIZON, MIRROR_FRAME, REFLECT_SQUASH, SHADOW_NEAR, obj_box, obj_wh, \
    shadow_len
from .palette import FILL_COLOR, rgb
from .raster import Canvas
from .scene import Scene, container_interior

SHADOW_FACTOR = 0.52
MOUTH_HALF_ANGLE = math.radians(42)
MOUTH_Y = {"ball": 0.5, "cube": 0.45, "cylinder": 0.45, "cone": 0.3}      # mouth apex height / object height
MOUTH_BACK = {"ball": 0.15, "cube": 0.15, "cylinder": 0.15, "cone": 0.0}  # apex behind the centre / width


def _grids(cv, sl):
    return cv._c[sl[0], None], cv._c[None, sl[1]]


def shape_pieces(cv, shape, x, base, w, h, flip=False, squash=1.0):
    """Coverage pieces (cov, brightness) of a shape standing on ``base`` (flip: its floor reflection)."""
    def Y(v):  # height above base -> y
        return base + v * squash if flip else base - v

    def rect(x0, v0, x1, v1):
        ya, yb = sorted((Y(v0), Y(v1)))
        return cv.cover_rect(x0, ya, x1, yb)

    if shape == "ball":
        return [(cv.cover_ellipse(x, Y(h / 2), w / 2, h / 2 * squash), 1.0)]
    if shape == "cube":
        return [(rect(x - w / 2, 0, x + w / 2, h), 1.0), (rect(x - w / 2, 0.78 * h, x + w / 2, h), 1.14)]
    if shape == "cone":
        return [(cv.cover_poly([(x - w / 2, Y(0)), (x + w / 2, Y(0)), (x, Y(h))]), 1.0)]
    # cylinder
    ry = 0.12 * w
    return [(rect(x - w / 2, ry, x + w / 2, h - ry), 1.0),
            (cv.cover_ellipse(x, Y(ry), w / 2, ry * squash), 1.0),
            (cv.cover_ellipse(x, Y(h - ry), w / 2, ry * squash), 1.16)]


def _hole_wedge(cv, sl, cx, cy, d, half_angle=MOUTH_HALF_ANGLE):
    ys, xs = _grids(cv, sl)
    S = cv.S
    along = d * (xs - cx * S)
    t = math.tan(half_angle)
    hole = np.clip(0.5 + (along * t - np.abs(ys - cy * S)) * math.cos(half_angle), 0, 1)
    return np.where(along > 0, hole, 0.0)


def draw_object(cv, o, light_side=None, mouth=0, lift=0.0):
    w, h = obj_wh(o.shape, o.size)
    base = o.base - lift
    col = rgb(o.color)
    s = {"left": -1.0, "right": 1.0}.get(light_side, 0.0)
    for cov, bright in shape_pieces(cv, o.shape, o.x, base, w, h):
        if cov is None:
            continue
        sl, a = cov
        if mouth:
            a = a * (1.0 - _hole_wedge(cv, sl, o.x - mouth * MOUTH_BACK[o.shape] * w, base - h * MOUTH_Y[o.shape], mouth,
                                       MOUTH_HALF_ANGLE if o.size == "large" else math.radians(32)))
        _, xs = _grids(cv, sl)
        shade = bright * (1.0 + 0.12 * s * np.clip((xs - o.x * cv.S) / (w / 2 * cv.S), -1, 1))
        shade = np.broadcast_to(shade, a.shape)
        cv.paint((sl, a), np.minimum(col * 1.0, 1.0), mask=o.id, shade=shade)
    cv.img[:] = np.minimum(cv.img, 1.0)
    if o.submerged > 0:
        cov = cv.cover_rect(o.x - w / 2 - 0.03, base - o.submerged * h, o.x + w / 2 + 0.03, base + 0.015)
        cv.paint(cov, rgb("water"), alpha=0.88)
        cv.mark(o.id, cov, value=False)


def draw_reflection(cv, o, refl, spill_dx=None):
    w, h = obj_wh(o.shape, o.size)
    tint = rgb("mirror") if refl["kind"] == "mirror" else rgb("water")
    k = 0.25 if refl["kind"] == "mirror" else 0.3
    col = ((1 - k) * rgb(o.color) + k * tint) * 0.95
    fr = MIRROR_FRAME if refl["kind"] == "mirror" else 0.0
    clip = (refl["x0"] + fr, refl["y0"] + fr, refl["x1"] - fr, refl["y1"] - fr)
    x = o.x + (spill_dx or 0.0)
    name = f"reflection_{o.id}"
    for cov, bright in shape_pieces(cv, o.shape, x, o.base, w, h, flip=True, squash=REFLECT_SQUASH):
        if cov is None:
            continue
        sl, a = cov
        if spill_dx is None:
            ys, xs = _grids(cv, sl)
            S = cv.S
            ax = np.clip(np.minimum(xs - clip[0] * S, clip[2] * S - xs) + 0.5, 0, 1)
            ay = np.clip(np.minimum(ys - clip[1] * S, clip[3] * S - ys) + 0.5, 0, 1)
            a = a * ax * ay
        cv.paint((sl, a), np.minimum(col * min(bright, 1.08), 1.0), mask=name)


def draw_shadow(cv, o, side):
    w, h = obj_wh(o.shape, o.size)
    name = f"shadow_{o.id}"
    if side == "above":
        cv.multiply(cv.cover_ellipse(o.x, o.base - 0.004, w / 2 + SHADOW_NEAR, 0.026), SHADOW_FACTOR, mask=name)
        return
    s = 1.0 if side == "left" else -1.0
    L = shadow_len(o)
    xe = o.x + s * (w / 2 + L)
    pts = [(o.x, o.base - 0.045), (xe, o.base - 0.026), (xe, o.base + 0.008), (o.x, o.base + 0.022)]
    cv.multiply(cv.cover_poly(pts), SHADOW_FACTOR, mask=name)


def draw_light(cv, li):
    x, y, r = li["x"], li["y"], li["r"]
    lc = rgb("light")
    if li["kind"] == "lamp":
        cv.paint(cv.cover_rect(x - 0.006, 0.0, x + 0.006, y - r), rgb("streak"))
        cv.paint(cv.cover_poly([(x - r * 1.3, y - r * 0.2), (x + r * 1.3, y - r * 0.2), (x + r * 0.6, y - r * 1.2),
                                (x - r * 0.6, y - r * 1.2)]), rgb("streak"))
    else:
        for k in range(8):
            t = k * math.pi / 4
            c, s = math.cos(t), math.sin(t)
            p0, p1 = (x + c * r * 1.3, y + s * r * 1.3), (x + c * r * 1.9, y + s * r * 1.9)
            n = (-s * 0.008, c * 0.008)
            cv.paint(cv.cover_poly([(p0[0] + n[0], p0[1] + n[1]), (p1[0] + n[0], p1[1] + n[1]),
                                    (p1[0] - n[0], p1[1] - n[1]), (p0[0] - n[0], p0[1] - n[1])]), lc, mask=li["id"])
    cv.paint(cv.cover_ellipse(x, y, r * 1.6, r * 1.6), lc, alpha=0.35, mask=None)
    cv.paint(cv.cover_ellipse(x, y, r, r), lc, mask=li["id"])


def draw_reflector(cv, rf):
    if rf["kind"] == "mirror":
        cv.paint(cv.cover_rect(rf["x0"], rf["y0"], rf["x1"], rf["y1"]), rgb("frame"), mask=rf["id"])
        f = MIRROR_FRAME
        cv.paint(cv.cover_rect(rf["x0"] + f, rf["y0"] + f, rf["x1"] - f, rf["y1"] - f), rgb("mirror"))
    else:
        cv.paint(cv.cover_rect(rf["x0"], rf["y0"], rf["x1"], rf["y1"]), rgb("water"), mask=rf["id"])
        _ripples(cv, rf["x0"], rf["y0"], rf["x1"], rf["y1"])


def _ripples(cv, x0, y0, x1, y1):
    for fy, fx in ((0.45, 0.15), (0.78, 0.3)):
        yy = y0 + fy * (y1 - y0)
        cv.paint(cv.cover_rect(x0 + fx * (x1 - x0), yy - 0.006, x1 - fx * (x1 - x0) * 0.6, yy + 0.006),
                 rgb("ripple"), alpha=0.7)


def draw_support(cv, sp):
    wood = rgb("wood")
    x0, x1, top, th = sp["x0"], sp["x1"], sp["top"], sp["thick"]
    cv.paint(cv.cover_rect(x0, top, x1, top + th), wood, mask=sp["id"])
    if sp["kind"] == "table":
        for a in (x0 + 0.03, x1 - 0.07):
            cv.paint(cv.cover_rect(a, top + th, a + 0.04, sp["floor"]), wood * 0.85, mask=sp["id"])
    else:
        for a, d in ((x0 + 0.05, 1), (x1 - 0.05, -1)):
            cv.paint(cv.cover_poly([(a, top + th), (a + d * 0.06, top + th), (a, top + th + 0.07)]), wood * 0.85,
                     mask=sp["id"])


def draw_container(cv, c, fill_override=None):
    x0, y0, x1, y1 = c["x0"], c["y0"], c["x1"], c["y1"]
    ix0, iy0, ix1, iy1 = container_interior(c)
    if c["kind"] == "jar":
        cv.paint(cv.cover_rect(x0, y0, x1, y1), rgb("glass"), mask=c["id"])
        cv.paint(cv.cover_rect(ix0, iy0, ix1, iy1), rgb("jar_inside"))
        cv.paint(cv.cover_rect(x0 - 0.012, y0 - 0.02, x1 + 0.012, y0 + 0.006), rgb("frame") * 1.6, mask=c["id"])
    else:
        cv.paint(cv.cover_rect(x0, y0, x1, y1), rgb("crate"), mask=c["id"])
        cv.paint(cv.cover_rect(ix0, iy0, ix1, iy1), rgb("crate_inside"))
    f = c.get("fill") if fill_override is None else fill_override
    if c.get("material") and f and f > 0:
        fy = iy1 - f * (iy1 - iy0)
        cv.paint(cv.cover_rect(ix0, fy, ix1, iy1), rgb(FILL_COLOR[c["material"]]), mask=f"fill_{c['id']}")


def draw_background(cv, sc: Scene):
    tint = np.asarray(sc.style.get("tint", (0, 0, 0)), np.float32)
    cv.fill(rgb(sc.style.get("backdrop", "wall")) + tint, 0.0, HORIZON)
    if sc.regions:
        r = sc.regions
        cv.fill(rgb(r["land"]) + tint, HORIZON, 1.0)
        cv.mark(r["land_id"], cv.cover_rect(0, HORIZON, 1, 1))
        wx0, wx1 = (0.0, r["split"]) if r["water_side"] == "left" else (r["split"], 1.0)
        cov = cv.cover_rect(wx0, HORIZON, wx1, 1.0)
        cv.paint(cov, rgb("water"), mask=r["water_id"])
        cv.mark(r["land_id"], cov, value=False)
        _ripples(cv, wx0, HORIZON + 0.05, wx1, 1.0)
    else:
        cv.fill(rgb("floor") + tint, HORIZON, 1.0)


def _contact_mask(cv, o, lift):
    x0, _, x1, y1 = obj_box(o)
    cv.mark(f"contact_{o.id}", cv.cover_rect(x0, y1 - lift - 0.02, x1, y1 - lift + 0.02))


def render(sc: Scene, size: int = 64) -> tuple[np.ndarray, dict]:
    """Draw a scene at ``size`` x ``size``: (uint8 HxWx3 image, {node id: bool HxW mask})."""
    cv = Canvas(size)
    fl = sc.flags or {}
    draw_background(cv, sc)
    lifts = fl.get("float", {}) or {}
    light_side = None
    if sc.light:
        light_side = sc.light["side"]
        draw_light(cv, sc.light)
    if sc.reflector:
        draw_reflector(cv, sc.reflector)
    if sc.support:
        draw_support(cv, sc.support)
    if sc.container:
        draw_container(cv, sc.container, fl.get("fill"))
    missing = set(fl.get("missing", ()))
    objs = [o for o in sc.objects if o.id not in missing]
    if sc.light:
        for o in objs:
            draw_shadow(cv, o, fl.get("shadow_as_if") or light_side)
    if sc.reflector:
        for o in objs:
            draw_reflection(cv, o, sc.reflector, fl.get("reflection_spill"))
    if sc.action:
        _draw_action(cv, sc, lifts, missing)
    else:
        for o in objs:
            draw_object(cv, o, light_side, lift=float(lifts.get(o.id, 0.0)))
    for o in objs:
        if sc.category in ("shadow", "support") or ((sc.relation or {}).get("rel") == "on" and o.id == sc.relation["a"]):
            _contact_mask(cv, o, float(lifts.get(o.id, 0.0)))
    if "shadow_" in " ".join(cv.masks):
        for o in objs:
            m = cv.masks.get(f"shadow_{o.id}")
            if m is not None and o.id in cv.masks:
                m &= ~cv.masks[o.id]
    img = np.clip(cv.img * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return img, cv.masks


def _draw_action(cv, sc, lifts, missing):
    act = sc.action
    ag, pa = sc.obj(act["agent"]), sc.obj(act["patient"])
    if sc.flags.get("swap_action"):
        ag, pa = pa, ag
    d = 1 if pa.x > ag.x else -1
    if act["verb"] == "pushes":
        wa, ha = obj_wh(ag.shape, ag.size)
        lift = float(lifts.get(ag.id, 0.0))
        back = ag.x - d * (wa / 2 + 0.03)
        if ag.id not in missing:
            for k in (-0.28, 0.0, 0.28):
                yy = ag.base - lift - ha * (0.5 + k)
                x_a, x_b = sorted((back, back - d * 0.12))
                cv.paint(cv.cover_rect(x_a, yy - 0.02, x_b, yy + 0.02), rgb("streak"))
        for o in (ag, pa):
            if o.id not in missing:
                draw_object(cv, o, lift=float(lifts.get(o.id, 0.0)))
    else:
        # the smaller one is drawn in front: a big eater holds its prey in its open mouth, a small eater
        # shows its open mouth biting into the big one behind it
        order = [(ag, d), (pa, 0)]
        if obj_wh(ag.shape, ag.size)[0] < obj_wh(pa.shape, pa.size)[0]:
            order.reverse()
        for o, m in order:
            if o.id not in missing:
                draw_object(cv, o, mouth=m, lift=float(lifts.get(o.id, 0.0)))
