"""Shadow / light check: the cast shadow falls away from the light."""
from __future__ import annotations

import numpy as np

from .measure import _shadow_contact_row


def _shadow(c, cx):
    S = cx.S
    caster = c.params.get("caster")
    side = c.params.get("side") or cx.nodes[c.object].physics.get("side")
    if caster is None or not cx.found(caster):
        return False, {"found_object": False}
    loc = cx.locate(caster)
    base = cx.px(cx.nodes[caster].box)[3]
    row = _shadow_contact_row(cx, caster, loc)
    if row is not None and abs(row + 0.01 * S - base) <= 0.06 * S:   # anchor the bands on the drawn shadow
        base = row + 0.01 * S
    rs = slice(max(0, int(round(base - 0.035 * S))), min(S, int(round(base + 0.012 * S)) + 1))
    band_lum = cx.lum_s[rs]
    band_obj = cx.objlike[rs]
    floor_vals = band_lum[~band_obj]
    if floor_vals.size == 0:
        return False, {}
    ref = float(np.percentile(floor_vals, 85))

    def dark(a, b):
        a, b = int(max(0, round(a))), int(min(S, round(b)))
        if b - a < 1:
            return 0.0
        v = band_lum[:, a:b][~band_obj[:, a:b]]
        return 0.0 if v.size == 0 else float(1.0 - v.mean() / max(ref, 1e-3))

    x0, x1 = loc["x0"], loc["x1"]
    ln, rn = dark(x0 - 0.07 * S, x0 - 0.01 * S), dark(x1 + 0.01 * S, x1 + 0.07 * S)
    lf, rf = dark(x0 - 0.19 * S, x0 - 0.12 * S), dark(x1 + 0.12 * S, x1 + 0.19 * S)
    d = {"left_near": ln, "right_near": rn, "left_far": lf, "right_far": rf}
    if side == "above":
        ok = ln >= 0.1 and rn >= 0.1 and lf <= 0.08 and rf <= 0.08
    else:
        away = max(rn, rf) if side == "left" else max(ln, lf)
        toward = max(ln, lf) if side == "left" else max(rn, rf)
        ok = away >= 0.12 and toward <= 0.08
    return ok, d
