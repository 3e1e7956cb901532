"""The PhysWorld judge: image + CSG -> a verdict per constraint and a physical-alignment score.

It reads the CSG's constraints and layout boxes and measures the image itself: objects are found
by hue among saturated pixels near their box (so a 2-4 px shift, blur or noise does not matter),
the floor line (horizon) gives the vertical offset, mirrors/water/wood/fills are found by their
material colours. Each check returns pass/fail plus the measured numbers behind it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import PhysWorldError
from .geometry import HORIZON, MIRROR_FRAME, REFLECT_SQUASH, obj_wh
from .palette import COLOR_NAMES, OBJECT_CHROMA, hue_of, hue_labels, rgb

FILL_FRAC = {"ball": 0.785, "cube": 1.0, "cone": 0.5, "cylinder": 0.97}
REFL_CHROMA = 0.26
TOL = 0.05          # contact / position tolerance (image fraction)


@dataclass
class Verdict:
    id: str
    kind: str
    subject: str
    passed: bool
    detail: dict = field(default_factory=dict)

    def to_dict(self):
        return {"id": self.id, "kind": self.kind, "subject": self.subject,
                "passed": None if self.passed is None else bool(self.passed),
                "detail": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.detail.items()}}


@dataclass
class Judgement:
    verdicts: list

    @property
    def checked(self) -> list:
        """Verdicts of the constraints the judge could check (``passed`` is None for skipped ones)."""
        return [v for v in self.verdicts if v.passed is not None]

    @property
    def score(self) -> float:
        """Physical-alignment score: share of the checked constraints met (1.0 when there are none)."""
        chk = self.checked
        return float(np.mean([v.passed for v in chk])) if chk else 1.0

    @property
    def all_passed(self) -> bool:
        return all(v.passed for v in self.checked)

    def by_id(self) -> dict:
        return {v.id: v for v in self.verdicts}

    def to_dict(self):
        return {"score": round(self.score, 4), "all": self.all_passed, "verdicts": [v.to_dict() for v in self.verdicts]}


def _to_float(img) -> np.ndarray:
    a = np.asarray(img)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or a.shape[0] != a.shape[1]:
        raise PhysWorldError(f"expected a square HxWx3 image, got shape {a.shape}", field="image")
    a = a[..., :3]
    return a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)


def _smooth(f):
    p = np.pad(f, ((1, 1), (1, 1), (0, 0)), mode="edge")
    v = 0.25 * p[:-2] + 0.5 * p[1:-1] + 0.25 * p[2:]
    return 0.25 * v[:, :-2] + 0.5 * v[:, 1:-1] + 0.25 * v[:, 2:]


def _main_run(idx):
    """The longest run of indices with gaps of at most one (drops stray noise pixels)."""
    if len(idx) <= 1:
        return idx
    runs = np.split(idx, np.nonzero(np.diff(idx) > 2)[0] + 1)
    return max(runs, key=len)


class _Ctx:
    def __init__(self, img, csg):
        self.f = _to_float(img)
        self.S = self.f.shape[0]
        self.lum = self.f @ np.array([0.299, 0.587, 0.114], np.float32)
        self.raw = self.f
        self.f = f = _smooth(self.f)   # [1 2 1] smoothing: colour decisions robust to pixel noise
        self.chroma = f.max(-1) - f.min(-1)
        self.lum_s = f @ np.array([0.299, 0.587, 0.114], np.float32)
        self.label = hue_labels(hue_of(f))
        self.objlike = self.chroma >= OBJECT_CHROMA
        self.csg = csg
        self.nodes = {n.id: n for n in csg.nodes}
        self.colors = {n.id: n.texture.get("color") for n in csg.nodes
                       if n.kind in ("object", "agent") and n.texture.get("color") and n.box is not None}
        self.reflected = {e.src for e in csg.edges if e.relation == "reflects" and e.src in self.colors}
        self.dy = self._horizon_shift()
        self._loc = {}
        self._shadow_rows = {}

    # ---- global ------------------------------------------------------------------------
    def _horizon_shift(self) -> float:
        """Vertical offset (px) of the drawn floor line from its nominal row: the last row where the
        backdrop (wall or sky, sampled at the top) still shows in >= 20% of the columns, plus one."""
        S = self.S
        top = self.f[: max(2, int(0.15 * S))].reshape(-1, 3)
        bd = self.backdrop = np.median(top, axis=0)
        self.floor_rgb = np.median(self.f[int(0.95 * S):].reshape(-1, 3), axis=0)
        like = np.sqrt(((self.f - bd) ** 2).sum(-1)) < 0.17
        keep = np.ones(S, bool)
        for n in self.csg.nodes:   # containers and mirrors can look like the wall: ignore their columns
            if n.box is not None and (n.kind == "container" or n.name == "mirror"):
                keep[max(0, int(n.box[0] * S) - 2): int(np.ceil(n.box[2] * S)) + 2] = False
        frac = like[:, keep].mean(1) if keep.any() else like.mean(1)
        h = round(HORIZON * S)
        lo, hi = max(0, int(h - 0.12 * S)), min(S, int(h + 0.12 * S))
        rows = np.nonzero(frac[lo:hi] >= 0.2)[0]
        if len(rows) == 0:
            return 0.0
        return float(np.clip(lo + rows[-1] + 1 - h, -0.1 * S, 0.1 * S))

    @property
    def dx(self) -> float:
        """Horizontal offset (px) of the drawn objects from their boxes (median over found objects)."""
        if "_dx" not in self.__dict__:
            offs = []
            for oid in self.colors:
                if self.found(oid):
                    b = self.nodes[oid].box
                    offs.append(self.locate(oid)["axis"] - (b[0] + b[2]) / 2 * self.S)
            self._dx = float(np.clip(np.median(offs), -0.1 * self.S, 0.1 * self.S)) if offs else 0.0
        return self._dx

    def px(self, box):
        S = self.S
        return (box[0] * S, box[1] * S + self.dy, box[2] * S, box[3] * S + self.dy)

    def win(self, x0, y0, x1, y1):
        S = self.S
        return (slice(max(0, int(np.floor(y0))), min(S, int(np.ceil(y1)))),
                slice(max(0, int(np.floor(x0))), min(S, int(np.ceil(x1)))))

    # ---- object localisation -----------------------------------------------------------
    def locate(self, oid):
        if oid in self._loc:
            return self._loc[oid]
        n = self.nodes[oid]
        S = self.S
        x0, y0, x1, y1 = self.px(n.box)
        m = 0.08 * S
        bottom = y1 + (0.005 * S if oid in self.reflected else 0.05 * S)
        sl = self.win(x0 - m, y0 - m, x1 + m, bottom)
        own = n.texture.get("color")
        others = {COLOR_NAMES.index(c) for k, c in self.colors.items() if k != oid and c != own}
        lab = self.label[sl]
        ok = self.objlike[sl].copy()
        for k in others:
            ok &= lab != k
        res = {"n_any": int(ok.sum()), "sl": sl}
        if res["n_any"] == 0:
            self._loc[oid] = res
            return res
        counts = np.bincount(lab[ok], minlength=len(COLOR_NAMES))
        maj = int(counts.argmax())
        if own in COLOR_NAMES and counts[COLOR_NAMES.index(own)] >= 0.3 * self.expected_area(n):
            maj = COLOR_NAMES.index(own)   # the object in its own colour is there: measure that one
        mask = ok & (lab == maj)
        res.update(label=COLOR_NAMES[maj], share=float(counts[maj] / ok.sum()), mask=mask, n=int(mask.sum()))
        cols = mask.sum(0)
        rows = mask.sum(1)
        cj = _main_run(np.nonzero(cols >= max(1, 0.08 * cols.max()))[0])
        ri = _main_run(np.nonzero(rows >= max(1, 0.08 * rows.max()))[0])
        oy, ox = sl[0].start, sl[1].start
        res.update(x0=ox + cj[0], x1=ox + cj[-1] + 1, y0=oy + ri[0], y1=oy + ri[-1] + 1,
                   wmax=float(rows[ri].max()), hmax=float(cols[cj].max()))
        yy, xx = np.nonzero(mask)
        res["cx"] = ox + float(xx.mean()) + 0.5
        res["cy"] = oy + float(yy.mean()) + 0.5
        top = yy <= yy.min() + max(1.0, 0.3 * (ri[-1] - ri[0] + 1))
        res["axis"] = ox + float(xx[top].mean()) + 0.5
        self._loc[oid] = res
        return res

    def expected_area(self, n):
        w, h = obj_wh(n.name, n.physics.get("size", "small"))
        a = w * h * FILL_FRAC.get(n.name, 0.8) * self.S ** 2
        if n.physics.get("state") == "floating":   # the lower 30% is under water
            a *= {"ball": 0.75, "cone": 0.49}.get(n.name, 0.7)
        return a

    def found(self, oid):
        loc = self.locate(oid)
        return loc.get("n", 0) >= 0.3 * self.expected_area(self.nodes[oid])

    # ---- material helpers --------------------------------------------------------------
    def nearest(self, sl, names, raw=False):
        protos = np.stack([rgb(n) for n in names])
        d = (((self.raw if raw else self.f)[sl][..., None, :] - protos) ** 2).sum(-1)
        return d.argmin(-1)


# ---------------------------------------------------------------------------------------------
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


def _color(c, cx):
    loc = cx.locate(c.subject)
    want = c.params.get("color") or cx.nodes[c.subject].texture.get("color")
    if not cx.found(c.subject):
        return False, {"found": False}
    return loc["label"] == want, {"seen": loc["label"], "share": loc["share"]}


def _size(c, cx):
    n = cx.nodes[c.subject]
    if not cx.found(c.subject):
        return False, {"found": False}
    loc = cx.locate(c.subject)
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


def _reflector_extent(cx, n):
    """(x0, x1) in px of the mirror / water surface: its colour in its lowest rows (the surface is drawn
    deeper than the longest reflection), plus the frame width for a mirror."""
    S = cx.S
    x0, y0, x1, y1 = cx.px(n.box)
    m = 0.12 * S
    mirror = n.name == "mirror"
    sl = cx.win(x0 - m, max(y0 + 0.03 * S, y1 - 0.1 * S), x1 + m, y1 - (0.045 if mirror else 0.015) * S)
    names = ["mirror", "frame", "floor"] if mirror else ["water", "ripple", "floor"]
    lab = cx.nearest(sl, names)
    refl = cx.chroma[sl] >= REFL_CHROMA
    good = (((lab == 0) if mirror else (lab <= 1)) & ~refl).sum(0)
    denom = (~refl).sum(0)
    frac = np.where(denom >= 1, good / np.maximum(denom, 1), 0.0)
    cols = np.nonzero(frac >= 0.5)[0]
    if len(cols) == 0:
        return None
    runs = np.split(cols, np.nonzero(np.diff(cols) > 2)[0] + 1)
    centre = (x0 + x1) / 2 - sl[1].start
    best = max(runs, key=lambda r: len(r) - 0.5 * abs((r[0] + r[-1]) / 2 - centre))
    fr = MIRROR_FRAME * S if mirror else 0.0
    return (sl[1].start + best[0] - fr, sl[1].start + best[-1] + 1 + fr)


def _expected_reflection_px(cx, obj_node, vis_box):
    """Pixels of the object's floor reflection inside ``vis_box`` (normalised), drawn from its box."""
    from .raster import Canvas
    from .render import shape_pieces
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


def _shadow_contact_row(cx, oid, loc):
    """Row (px) where the object's cast shadow meets the floor (the shadow is drawn from the contact
    point, so it anchors floor contact independently of the layout), or None without a shadow."""
    if oid not in cx._shadow_rows:   # asked by both the contact and the shadow check
        cx._shadow_rows[oid] = _shadow_row(cx, oid, loc) if f"shadow_{oid}" in cx.nodes else None
    return cx._shadow_rows[oid]


def _shadow_row(cx, oid, loc):
    S = cx.S
    r0 = max(int(round(HORIZON * S + cx.dy)) + 1, int(loc["y0"]))
    sl = cx.win(loc["x0"] - 0.2 * S, r0, loc["x1"] + 0.2 * S, S)
    lum, obj = cx.lum_s[sl], cx.objlike[sl]
    vals = lum[~obj]
    if vals.size < 4:
        return None
    dark = (lum < 0.8 * float(np.percentile(vals, 85))) & ~obj
    counts = dark.sum(1).astype(np.float32)
    if counts.max() < 2:
        return None
    rows = np.nonzero(counts >= 0.5 * counts.max())[0]
    w = counts[rows]
    return float(sl[0].start + (rows * w).sum() / w.sum()) + 0.5


def _touches(c, cx):
    S = cx.S
    if not cx.found(c.subject):
        return False, {"found": False}
    loc = cx.locate(c.subject)
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


def _on_top(c, cx):
    S = cx.S
    if not cx.found(c.subject):
        return False, {"found": False}
    loc = cx.locate(c.subject)
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


def _below(c, cx):
    S = cx.S
    if not cx.found(c.subject):
        return False, {"found": False}
    loc = cx.locate(c.subject)
    sup = cx.nodes[c.object]
    x0, y0, x1, _ = cx.px(sup.box)
    top = _support_top(cx, c.object, loc)
    slab_bottom = (top if top is not None else y0) + 0.05 * S
    ok = loc["y0"] >= slab_bottom - 0.02 * S and x0 <= loc["cx"] <= x1
    return ok, {"object_top": float(loc["y0"]), "slab_bottom": slab_bottom}


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


def _inside(c, cx):
    S = cx.S
    if not cx.found(c.subject):
        return False, {"found": False}
    loc = cx.locate(c.subject)
    tgt = cx.nodes[c.object]
    if tgt.kind == "container":
        x0, y0, x1, y1 = cx.px(tgt.box)
        ok = x0 - 0.02 * S <= loc["cx"] <= x1 + 0.02 * S and y0 - 0.02 * S <= loc["cy"] <= y1 + 0.02 * S \
            and loc["y1"] <= y1 + 0.02 * S
        return ok, {"cx": loc["cx"], "cy": loc["cy"]}
    want = "water" if tgt.name == "water" else tgt.name
    seen = _region_mix(cx, loc, cx.px(cx.nodes[c.subject].box)[3])
    return seen == want, {"ground": seen}


def _near_far(c, cx):
    S = cx.S
    if not cx.found(c.subject):
        return False, {"found": False}
    loc = cx.locate(c.subject)
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

    from .render import MOUTH_Y
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


CHECKS = {
    "present": _present, "color": _color, "size": _size, "reflection_inside": _reflection_inside,
    "reflection_matches": _reflection_matches, "shadow_opposite_light": _shadow, "touches_support": _touches,
    "on_top": _on_top, "below": _below, "left_of": _lr, "right_of": _lr, "inside": _inside, "near": _near_far,
    "far": _near_far, "fill_at_least": _fill, "fill_at_most": _fill, "fill_between": _fill,
    "material": _material, "action_direction": _action,
}


def judge(image, csg) -> Judgement:
    """Check every constraint of ``csg`` (a lina_nodes.csg.CSG or its dict) in ``image`` (HxWx3, uint8 or 0..1)."""
    if isinstance(csg, dict):
        from ..csg.model import CSG
        csg = CSG.from_dict(csg)
    cx = _Ctx(image, csg)
    out = []
    for c in csg.constraints:
        fn = CHECKS.get(c.kind)
        if fn is None:   # e.g. a parser's "count" or "in_front_of": not measurable here, not scored
            out.append(Verdict(c.id, c.kind, c.subject, None, {"skipped": f"no check for {c.kind!r}"}))
            continue
        need = [c.subject] + ([c.object] if c.object else []) + ([c.params["caster"]] if c.params.get("caster") else [])
        if any(cx.nodes[k].box is None for k in need if k in cx.nodes):
            out.append(Verdict(c.id, c.kind, c.subject, None, {"skipped": "a node has no layout box"}))
            continue
        ok, detail = fn(c, cx)
        out.append(Verdict(c.id, c.kind, c.subject, bool(ok), detail))
    return Judgement(out)
