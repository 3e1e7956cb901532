"""Containers and fills: fill level (at least / at most / between) and fill material."""
from __future__ import annotations

import numpy as np


def _fill_level(cx, cont, fill_node):
    x0, y0, x1, y1 = cx.px(fill_node.box)
    _, cy0, _, _ = cx.px(cont.box)
    iw = x1 - x0
    sl = cx.win(x0 + 0.25 * iw, cy0, x1 - 0.25 * iw, y1)
    empty = "jar_inside" if cont.name == "jar" else "crate_inside"
    wall = "glass" if cont.name == "jar" else "crate"
    names = [empty, "dirt", "fill_sand", "fill_water", wall, "floor", "wall"]
    lab = cx.nearest(sl, names, raw=True)
    inner = lab <= 3                       # container walls / background (a shifted image) do not vote
    if inner.mean() < 0.5:                 # no container interior where the layout says: nothing to measure
        return None, None
    fillish = (lab >= 1) & inner
    filled = fillish.sum(1) / np.maximum(inner.sum(1), 1)
    filled = np.where(inner.sum(1) > 0, filled, 0.0)
    H = y1 - cy0
    level = float((filled >= 0.5).sum() / max(H, 1.0))
    fl = lab[fillish]
    mat = None if fl.size == 0 else ["dirt", "sand", "water"][int(np.bincount(fl - 1, minlength=3).argmax())]
    return min(level, 1.0), mat


def _fill(c, cx):
    level, _ = _fill_level(cx, cx.nodes[c.object], cx.nodes[c.subject])
    if level is None:
        return False, {"found_container": False}
    p = c.params
    m = 0.05
    if c.kind == "fill_at_least":
        ok = level >= p["value"] - m
    elif c.kind == "fill_at_most":
        ok = level <= p["value"] + m
    else:
        ok = p["low"] - m <= level <= p["high"] + m
    return ok, {"level": level}


def _material(c, cx):
    n = cx.nodes[c.subject]
    cont = next((e.dst for e in cx.csg.edges if e.src == n.id and e.relation == "in"), None)
    if cont is None:
        return False, {}
    level, mat = _fill_level(cx, cx.nodes[cont], n)
    if level is None:
        return False, {"found_container": False}
    return mat == c.params.get("material"), {"seen": mat}
