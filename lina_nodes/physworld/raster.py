"""Resolution-agnostic, anti-aliased raster primitives (numpy, signed distances in pixel units).

Geometry is given in normalised coordinates (0..1, origin top-left); a ``Canvas`` of any size S
rasterises it with analytic anti-aliasing, only inside each shape's bounding box. Each paint call
can OR its coverage (alpha > 0.5) into a named mask.
"""
from __future__ import annotations

import numpy as np


class Canvas:
    def __init__(self, size: int):
        self.S = int(size)
        self.img = np.zeros((self.S, self.S, 3), np.float32)
        self.masks: dict[str, np.ndarray] = {}
        c = (np.arange(self.S, dtype=np.float32) + 0.5)
        self._c = c  # pixel centres in pixel units

    # ---- regions ---------------------------------------------------------------------
    def window(self, x0, y0, x1, y1, pad=1.0):
        """Pixel slices covering a normalised box (padded by ``pad`` pixels) and the centre grids."""
        S = self.S
        i0 = max(0, int(np.floor(y0 * S - pad)))
        i1 = min(S, int(np.ceil(y1 * S + pad)))
        j0 = max(0, int(np.floor(x0 * S - pad)))
        j1 = min(S, int(np.ceil(x1 * S + pad)))
        if i1 <= i0 or j1 <= j0:
            return None
        ys = self._c[i0:i1, None]
        xs = self._c[None, j0:j1]
        return (slice(i0, i1), slice(j0, j1)), ys, xs

    # ---- coverage (alpha) of shapes, in a window ---------------------------------------
    def cover_rect(self, x0, y0, x1, y1):
        w = self.window(x0, y0, x1, y1)
        if w is None:
            return None
        sl, ys, xs = w
        S = self.S
        ax = np.clip(np.minimum(xs - x0 * S, x1 * S - xs) + 0.5, 0, 1)
        ay = np.clip(np.minimum(ys - y0 * S, y1 * S - ys) + 0.5, 0, 1)
        return sl, ay * ax

    def cover_ellipse(self, cx, cy, rx, ry):
        w = self.window(cx - rx, cy - ry, cx + rx, cy + ry)
        if w is None:
            return None
        sl, ys, xs = w
        S = self.S
        dx = (xs - cx * S) / (rx * S)
        dy = (ys - cy * S) / (ry * S)
        r = np.sqrt(dx * dx + dy * dy)
        # approximate signed distance in pixels
        d = (r - 1.0) * min(rx, ry) * S
        return sl, np.clip(0.5 - d, 0, 1)

    def cover_poly(self, pts):
        """Convex polygon, points in either winding order."""
        p = np.asarray(pts, np.float32)
        x0, y0 = p.min(0)
        x1, y1 = p.max(0)
        w = self.window(x0, y0, x1, y1)
        if w is None:
            return None
        sl, ys, xs = w
        S = self.S
        q = p * S
        area = np.sum(q[:, 0] * np.roll(q[:, 1], -1) - np.roll(q[:, 0], -1) * q[:, 1])
        sgn = 1.0 if area > 0 else -1.0
        d = None
        for k in range(len(q)):
            a, b = q[k], q[(k + 1) % len(q)]
            e = b - a
            n = np.hypot(e[0], e[1]) + 1e-9
            # inside distance (positive inside)
            s = sgn * ((xs - a[0]) * e[1] * -1 + (ys - a[1]) * e[0]) / n
            d = s if d is None else np.minimum(d, s)
        return sl, np.clip(d + 0.5, 0, 1)

    # ---- painting ----------------------------------------------------------------------
    def paint(self, cov, color, mask: str | None = None, alpha: float = 1.0, shade=None):
        """Blend ``color`` (RGB 0..1, or an array broadcastable to the window) with coverage."""
        if cov is None:
            return
        sl, a = cov
        a = a * alpha if alpha != 1.0 else a
        col = np.asarray(color, np.float32)
        if shade is not None:
            col = col * shade[..., None]
        reg = self.img[sl]
        reg += (col - reg) * a[..., None]
        if mask is not None:
            self.mark(mask, cov)

    def multiply(self, cov, factor, mask: str | None = None):
        """Darken (shadows): img *= 1 - (1 - factor) * coverage."""
        if cov is None:
            return
        sl, a = cov
        self.img[sl] *= (1.0 - (1.0 - factor) * a)[..., None]
        if mask is not None:
            self.mark(mask, cov)

    def mark(self, name: str, cov, value: bool = True):
        sl, a = cov
        m = self.masks.get(name)
        if m is None:
            m = self.masks[name] = np.zeros((self.S, self.S), bool)
        if value:
            m[sl] |= a > 0.5
        else:
            m[sl] &= ~(a > 0.5)

    def fill(self, color, y0=0.0, y1=1.0):
        i0, i1 = int(round(y0 * self.S)), int(round(y1 * self.S))
        self.img[i0:i1] = np.asarray(color, np.float32)


def cut(cov, cov_hole):
    """Coverage of ``cov`` minus ``cov_hole`` (same window required: hole computed on cov's slices)."""
    if cov is None:
        return None
    if cov_hole is None:
        return cov
    sl, a = cov
    return sl, a * (1.0 - cov_hole)
