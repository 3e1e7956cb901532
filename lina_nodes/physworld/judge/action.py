"""Action direction: who acts on whom (pushes: motion streaks behind the agent; eats: an open mouth in front)."""
from __future__ import annotations

import numpy as np


def _action(c, cx):
    S = cx.S
    if not (cx.found(c.subject) and cx.found(c.object)):
        return False, {"found": False}
    a, p = cx.locate(c.subject), cx.locate(c.object)
    d = 1.0 if p["cx"] > a["cx"] else -1.0
    verb = c.params.get("verb", "eats")
    if verb == "pushes":
        def behind(loc, d):
            back = loc["x0"] if d > 0 else loc["x1"]
            h = loc["y1"] - loc["y0"]
            rs = (loc["y0"] + 0.15 * h, loc["y1"] - 0.15 * h)
            xa, xb = (back - 0.16 * S, back - 0.03 * S) if d > 0 else (back + 0.03 * S, back + 0.16 * S)
            sl = cx.win(xa, rs[0], xb, rs[1])
            v = cx.lum[sl]
            if v.size == 0:
                return 0.0
            row = cx.win(0, rs[0], S, rs[1])
            ref = float(np.percentile(cx.lum[row], 70))
            return float(np.clip(1.0 - v / max(ref, 1e-3), 0, 1).mean())

        ba, bp = behind(a, d), behind(p, -d)
        return ba >= 0.08 and ba >= bp + 0.06, {"streaks_behind_agent": ba, "streaks_behind_patient": bp}

    from ..render import MOUTH_Y
    shape = cx.nodes[c.subject].name

    def mouth(loc, dirn):
        """Front/back reach of the object around mouth height (an open mouth: well under 1)."""
        mask = loc["mask"]
        oy, ox = loc["sl"][0].start, loc["sl"][1].start
        h = loc["y1"] - loc["y0"]
        yc = loc["y1"] - MOUTH_Y.get(shape, 0.45) * h
        r0, r1 = int(np.floor(yc - max(1.0, 0.08 * h))), int(np.ceil(yc + max(1.0, 0.08 * h)))
        fr, bk = [], []
        for r in range(max(r0, oy), min(r1, oy + mask.shape[0])):
            xs = np.nonzero(mask[r - oy])[0] + ox + 0.5
            if xs.size == 0:
                continue
            rel = (xs - loc["axis"]) * dirn
            fr.append(max(rel.max(), 0.0))
            bk.append(max(-rel.min(), 0.0))
        if not bk:
            return 1.0
        return float(np.mean(fr) / max(np.mean(bk), 0.5))

    ra = mouth(a, d)
    return ra <= 0.58, {"agent_mouth_reach": ra}
