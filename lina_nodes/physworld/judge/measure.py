"""Image measurement for the judge: the image as floats, hue labels, the floor line, object localisation,
and the measurements several check families share (mirror / water extent, cast-shadow contact row)."""
from __future__ import annotations

import functools

import numpy as np

from ...errors import PhysWorldError
from ..geometry import HORIZON, MIRROR_FRAME, obj_wh
from ..palette import COLOR_NAMES, OBJECT_CHROMA, hue_of, hue_labels, rgb

FILL_FRAC = {"ball": 0.785, "cube": 1.0, "cone": 0.5, "cylinder": 0.97}
REFL_CHROMA = 0.26


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


def _needs_subject(check):
    """A check of a constraint's subject: fails with {"found": False} when the subject is not found in the
    image, else returns ``check(c, cx, loc)`` with the subject's localisation ``loc``."""
    @functools.wraps(check)
    def run(c, cx):
        if not cx.found(c.subject):
            return False, {"found": False}
        return check(c, cx, cx.locate(c.subject))
    return run


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
