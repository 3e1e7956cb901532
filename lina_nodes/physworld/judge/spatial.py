"""Spatial prepositions: left of / right of, inside (a container or a region), near / far."""
from __future__ import annotations

import numpy as np

from ..geometry import HORIZON
from .measure import _needs_subject


def _lr(c, cx):
    S = cx.S
    if not (cx.found(c.subject) and cx.found(c.object)):
        return False, {"found": False}
    a, b = cx.locate(c.subject)["cx"], cx.locate(c.object)["cx"]
    ok = a < b - 0.03 * S if c.kind == "left_of" else a > b + 0.03 * S
    return ok, {"subject_x": a, "object_x": b}


def _region_mix(cx, loc, base):
    S = cx.S
    sl = cx.win(loc["x0"] - 0.08 * S, base - 0.02 * S, loc["x1"] + 0.08 * S, base + 0.03 * S)
    names = ["sand", "grass", "water", "ripple"]
    lab = cx.nearest(sl, names, raw=True)
    xs = np.arange(sl[1].start, sl[1].stop)
    keep = ~cx.objlike[sl] & ((xs < loc["x0"] - 1) | (xs > loc["x1"]))[None, :]
    lab = np.where(lab == 3, 2, lab)[keep]
    if lab.size == 0:
        return None
    return ["sand", "grass", "water"][int(np.bincount(lab, minlength=3).argmax())]


def _water_cols(cx):
    S = cx.S
    sl = cx.win(0, (HORIZON + 0.06) * S + cx.dy, S, S)
    lab = cx.nearest(sl, ["water", "ripple", "sand", "grass", "floor"])
    good = (lab <= 1) & ~cx.objlike[sl]
    cols = np.nonzero(good.mean(0) >= 0.5)[0]
    if len(cols) == 0:
        return cols
    runs = [r for r in np.split(cols, np.nonzero(np.diff(cols) > 1)[0] + 1) if len(r) >= 0.1 * S]
    return np.concatenate(runs) if runs else cols[:0]


@_needs_subject
def _inside(c, cx, loc):
    S = cx.S
    tgt = cx.nodes[c.object]
    if tgt.kind == "container":
        x0, y0, x1, y1 = cx.px(tgt.box)
        ok = x0 - 0.02 * S <= loc["cx"] <= x1 + 0.02 * S and y0 - 0.02 * S <= loc["cy"] <= y1 + 0.02 * S \
            and loc["y1"] <= y1 + 0.02 * S
        return ok, {"cx": loc["cx"], "cy": loc["cy"]}
    want = "water" if tgt.name == "water" else tgt.name
    seen = _region_mix(cx, loc, cx.px(cx.nodes[c.subject].box)[3])
    return seen == want, {"ground": seen}


@_needs_subject
def _near_far(c, cx, loc):
    S = cx.S
    tgt = cx.nodes[c.object]
    if tgt.kind == "container":
        x0, y0, x1, y1 = cx.px(tgt.box)
        gap = max(x0 - loc["x1"], loc["x0"] - x1, 0.0)
        outside = not (x0 <= loc["cx"] <= x1)
        ok = outside and gap <= 0.12 * S if c.kind == "near" else gap >= 0.2 * S
        return ok, {"gap_px": float(gap), "outside": outside}
    cols = _water_cols(cx) + 0.5
    if len(cols) == 0:
        return False, {"found_water": False}
    dist = float(np.min(np.maximum(np.maximum(loc["x0"] - cols, cols - loc["x1"]), 0.0)))
    ok = dist <= 0.18 * S if c.kind == "near" else dist >= 0.22 * S
    return ok, {"distance_px": dist}
