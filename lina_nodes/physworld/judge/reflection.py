"""Reflection checks: the reflection stays inside the mirror / water and matches its object's colour."""
from __future__ import annotations

import numpy as np

from ..geometry import MIRROR_FRAME, REFLECT_SQUASH, obj_wh
from ..palette import COLOR_NAMES
from .measure import FILL_FRAC, REFL_CHROMA, _reflector_extent


def _expected_reflection_px(cx, obj_node, vis_box):
    """Pixels of the object's floor reflection inside ``vis_box`` (normalised), drawn from its box."""
    from ..raster import Canvas
    from ..render import shape_pieces
    b = obj_node.box
    w, h = b[2] - b[0], b[3] - b[1]
    cv = Canvas(cx.S)
    clip = cv.cover_rect(*vis_box)
    if clip is None:
        return 0.0
    (ry, rx), ca = clip
    acc = np.zeros_like(ca)
    for cov, _ in shape_pieces(cv, obj_node.name, (b[0] + b[2]) / 2, b[3], w, h, flip=True, squash=REFLECT_SQUASH):
        if cov is None:
            continue
        (py, px), pa = cov
        y0, y1 = max(ry.start, py.start), min(ry.stop, py.stop)
        x0, x1 = max(rx.start, px.start), min(rx.stop, px.stop)
        if y1 <= y0 or x1 <= x0:
            continue
        dst = acc[y0 - ry.start:y1 - ry.start, x0 - rx.start:x1 - rx.start]
        np.maximum(dst, pa[y0 - py.start:y1 - py.start, x0 - px.start:x1 - px.start], out=dst)
    return float((acc * ca).sum())


def _reflection_scan(cx, obj_id, mirror):
    """Measure an object's floor reflection: reflection-coloured pixels under the object and inside the
    detected mirror/water, those outside it, and how many the drawn object should show there."""
    S = cx.S
    loc = cx.locate(obj_id)
    ext = _reflector_extent(cx, mirror)
    if ext is None:
        return None
    n = cx.nodes[obj_id]
    w, h = obj_wh(n.name, n.physics.get("size", "small"))
    base = cx.px(n.box)[3]
    hue_lab = COLOR_NAMES.index(loc["label"])
    sl = cx.win(min(loc["x0"], ext[0]) - 0.2 * S, base + 0.01 * S, max(loc["x1"], ext[1]) + 0.2 * S,
                base + (REFLECT_SQUASH * h + 0.06) * S)
    sat = cx.chroma[sl] >= REFL_CHROMA
    refl = sat & (cx.label[sl] == hue_lab)
    xs = np.arange(sl[1].start, sl[1].stop) + 0.5
    tol = max(1.0, 0.02 * S)
    inside_cols = (xs >= ext[0] - tol) & (xs <= ext[1] + tol)
    under = (xs >= loc["x0"] - tol) & (xs <= loc["x1"] + tol)
    # expected: the drawn object (its box moved to where it is) reflected, clipped 1 px inside the surface
    ox = (loc["axis"] / S) - (n.box[0] + n.box[2]) / 2
    fr = MIRROR_FRAME if mirror.name == "mirror" else 0.0
    moved = type(n)(id=n.id, name=n.name, box=(n.box[0] + ox, n.box[1], n.box[2] + ox, n.box[3]))
    clip = (ext[0] / S + fr + 1.0 / S, mirror.box[1] + fr, ext[1] / S - fr - 1.0 / S, mirror.box[3] - fr)
    return {
        "n_in": int(refl[:, inside_cols & under].sum()), "n_out": int(refl[:, ~inside_cols].sum()),
        "sat_under": sat[:, inside_cols & under], "labels_under": cx.label[sl][:, inside_cols & under],
        "exp_vis": _expected_reflection_px(cx, moved, clip),
        "exp_full": w * REFLECT_SQUASH * h * S * S * FILL_FRAC.get(n.name, 0.8), "ext": ext, "loc": loc,
    }


MIN_VISIBLE_PX = 8.0   # below this a clipped reflection is too thin to require


def _reflection_inside(c, cx):
    caster = c.params.get("caster")
    if caster is None or not cx.found(caster):
        return False, {"found_object": False}
    r = _reflection_scan(cx, caster, cx.nodes[c.object])
    if r is None:
        return False, {"found_mirror": False}
    ok = (r["n_in"] >= 0.35 * r["exp_vis"] or r["exp_vis"] < MIN_VISIBLE_PX) and \
        r["n_out"] <= max(2.0, 0.08 * r["exp_full"])
    return ok, {"inside_px": r["n_in"], "outside_px": r["n_out"], "expected_visible_px": round(r["exp_vis"], 1),
                "mirror_x0": float(r["ext"][0]), "mirror_x1": float(r["ext"][1])}


def _reflection_matches(c, cx):
    obj = c.object
    if not cx.found(obj):
        return False, {"found_object": False}
    mirror = next((cx.nodes[e.src] for e in cx.csg.edges if e.dst == c.subject and e.relation == "reflects"
                   and cx.nodes[e.src].kind in ("surface", "medium")), None)
    if mirror is None:
        return False, {"found_mirror": False}
    r = _reflection_scan(cx, obj, mirror)
    if r is None:
        return False, {"found_mirror": False}
    if r["exp_vis"] < MIN_VISIBLE_PX:
        return True, {"visible": False}
    sat = r["sat_under"]
    if sat.sum() < 0.3 * r["exp_vis"]:
        return False, {"reflection_px": int(sat.sum()), "expected_visible_px": round(r["exp_vis"], 1)}
    counts = np.bincount(r["labels_under"][sat], minlength=len(COLOR_NAMES))
    seen = COLOR_NAMES[int(counts.argmax())]
    return seen == r["loc"]["label"], {"reflection_color": seen, "object_color": r["loc"]["label"]}
