"""Contact and support checks: touches its support, on top of, below (a table / shelf / object)."""
from __future__ import annotations

import numpy as np

from ..geometry import HORIZON
from ..palette import rgb
from .measure import _needs_subject, _shadow_contact_row

TOL = 0.05          # contact / position tolerance (image fraction)


def _support_top(cx, sup, loc):
    """Top row (px) of a support: wood for tables/shelves, the object's top for objects."""
    S = cx.S
    n = cx.nodes[sup]
    if n.kind in ("object", "agent"):
        if not cx.found(sup):
            return None
        return float(cx.locate(sup)["y0"])
    if n.name == "floor":
        return None
    x0, y0, x1, _ = cx.px(n.box)
    sl = cx.win(x0, y0 - 0.1 * S, x1, y0 + 0.1 * S)
    f = cx.raw[sl]
    rows = np.arange(sl[0].start, sl[0].stop)[:, None, None]
    bg = np.where(rows < round(HORIZON * S) + cx.dy, cx.backdrop, cx.floor_rgb)
    dw = np.sqrt(((f - rgb("wood")) ** 2).sum(-1))
    db = np.sqrt(((f - bg) ** 2).sum(-1))
    good = (dw < db) & ~cx.objlike[sl]
    xs = np.arange(sl[1].start, sl[1].stop)
    keep = (xs < loc["x0"] - 1) | (xs >= loc["x1"] + 1)
    if keep.sum() < 2:
        keep[:] = True
    frac = good[:, keep].mean(1)
    rows = np.nonzero(frac >= 0.4)[0]
    if len(rows) == 0:
        return None
    return float(sl[0].start + rows[0])


@_needs_subject
def _touches(c, cx, loc):
    S = cx.S
    sup = cx.nodes[c.object]
    if sup.name == "floor":
        target = cx.px(cx.nodes[c.subject].box)[3]
        row = _shadow_contact_row(cx, c.subject, loc)
        if row is not None:   # the shadow starts where the object meets the floor (about 0.01 above the base)
            sgap = row + 0.01 * S - loc["y1"]
            if abs(sgap) > TOL * S:
                return False, {"gap_px": float(target - loc["y1"]), "shadow_gap_px": float(sgap)}
    else:
        target = _support_top(cx, c.object, loc)
        if target is None:
            return False, {"found_support": False}
    gap = target - loc["y1"]
    return abs(gap) <= TOL * S, {"gap_px": float(gap)}


@_needs_subject
def _on_top(c, cx, loc):
    S = cx.S
    sup = cx.nodes[c.object]
    top = _support_top(cx, c.object, loc)
    if top is None:
        return False, {"found_support": False}
    if sup.kind in ("object", "agent"):
        sl = cx.locate(c.object)
        over = sl["x0"] - 0.02 * S <= loc["cx"] <= sl["x1"] + 0.02 * S
    else:
        x0, _, x1, _ = cx.px(sup.box)
        over = x0 - 0.02 * S <= loc["cx"] <= x1 + 0.02 * S
    above = loc["y1"] <= top + TOL * S
    return bool(over and above), {"bottom": float(loc["y1"]), "support_top": top}


@_needs_subject
def _below(c, cx, loc):
    S = cx.S
    sup = cx.nodes[c.object]
    x0, y0, x1, _ = cx.px(sup.box)
    top = _support_top(cx, c.object, loc)
    slab_bottom = (top if top is not None else y0) + 0.05 * S
    ok = loc["y0"] >= slab_bottom - 0.02 * S and x0 <= loc["cx"] <= x1
    return ok, {"object_top": float(loc["y0"]), "slab_bottom": slab_bottom}
