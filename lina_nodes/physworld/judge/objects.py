"""Checks of the objects themselves: present (objects, lights, mirrors / water), colour, size."""
from __future__ import annotations

import numpy as np

from ...errors import PhysWorldError
from ..geometry import obj_wh
from .measure import _needs_subject, _reflector_extent


def _present(c, cx):
    n = cx.nodes[c.subject]
    if n.kind in ("object", "agent"):
        loc = cx.locate(c.subject)
        need = 0.3 * cx.expected_area(n)
        return loc.get("n_any", 0) >= need, {"pixels": loc.get("n_any", 0), "needed": round(need, 1)}
    if n.kind == "light":
        x0, y0, x1, y1 = cx.px(n.box)
        m = 0.06 * cx.S
        sl = cx.win(x0 - m, y0 - m - cx.dy, x1 + m, y1 + m - cx.dy)
        bd_lum = float(cx.backdrop @ np.array([0.299, 0.587, 0.114], np.float32))
        bright = (cx.lum_s[sl] > max(0.85, bd_lum + 0.08)) & (cx.chroma[sl] < 0.3)
        need = max(2.0, 0.25 * (x1 - x0) * (y1 - y0))
        return bright.sum() >= need, {"pixels": int(bright.sum()), "needed": round(need, 1)}
    if n.kind in ("surface", "medium") and n.name in ("mirror", "pond", "lake"):
        ext = _reflector_extent(cx, n)
        if ext is None:
            return False, {"found": False}
        x0, _, x1, _ = cx.px(n.box)
        tol = (0.07 if any(cx.found(o) for o in cx.colors) else 0.1) * cx.S   # no object: no offset estimate
        # where the layout says, either as drawn (objects may be a little off) or with the whole image
        # shifted by the objects' offset
        ok = any(abs(ext[0] - (x0 + d)) <= tol and abs(ext[1] - (x1 + d)) <= tol for d in (0.0, cx.dx))
        return ok, {"x0": float(ext[0]), "x1": float(ext[1]), "box_x0": x0, "box_x1": x1, "dx": cx.dx}
    raise PhysWorldError(f"no 'present' check for node kind {n.kind!r} ({n.id})", field="constraint.subject")


@_needs_subject
def _color(c, cx, loc):
    want = c.params.get("color") or cx.nodes[c.subject].texture.get("color")
    return loc["label"] == want, {"seen": loc["label"], "share": loc["share"]}


@_needs_subject
def _size(c, cx, loc):
    n = cx.nodes[c.subject]
    ws, hs = obj_wh(n.name, "small")
    eater = any(e.kind == "action" and e.src == n.id and e.relation == "eats" for e in cx.csg.edges)
    small = dict(n.physics, size="small")
    exp = cx.expected_area(type(n)(id=n.id, name=n.name, kind=n.kind, physics=small))
    ratio = float(np.sqrt(loc["n"] / max(exp, 1e-6)))        # area: the steadiest measure at low resolution
    if eater:   # an open mouth removes about a quarter of the area; the height stays
        ratio = max(ratio / 0.87, (loc["y1"] - loc["y0"] - 0.5) / (hs * cx.S))
    seen = "large" if ratio >= 1.25 else "small"
    want = c.params.get("size") or n.physics.get("size")
    return seen == want, {"seen": seen, "width_ratio_to_small": ratio}
