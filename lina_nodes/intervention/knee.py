"""Where structure forms: the knee of a judge-score curve against denoising progress (insight 3).

Two measurements give such a curve for a model and a judge (the harness that runs them is the
``lina knee`` command, still to be written; this is its core):

* x0 probe: the judge score of the predicted clean image D(x_t, sigma_t, c) at each step, against
  progress p in [0, 1]. It rises and saturates once structure is set.
* prompt swap: sample with a wrong prompt until step k, then the right one; the final score against
  the swap progress p_k. It stays high while the swap is early enough and drops once structure is set.

``knee`` normalises a curve to rise from 0 to 1 (a falling curve is flipped) and returns the progress
where it is farthest above the chord from its first to its last point (the Kneedle rule), and
``reach`` the first progress where it has covered ``share`` of its total change. Pure numpy.
"""
from __future__ import annotations

import numpy as np

from ..errors import LinaError


def _curve(progress, scores) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(progress, dtype=np.float64).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if p.size != s.size or p.size < 3:
        raise LinaError(f"need at least 3 (progress, score) points of equal count, got {p.size} and {s.size}.",
                        field="scores", fix="measure more steps.")
    if not (np.isfinite(p).all() and np.isfinite(s).all()):
        raise LinaError("progress and scores must be finite.", field="scores", fix="check the judge's output.")
    order = np.argsort(p, kind="stable")
    return p[order], s[order]


def _normalised(p, s, falling: bool | None):
    if falling is None:
        falling = s[-1] < s[0]
    y = -s if falling else s
    span = y.max() - y[0]
    if span <= 0:
        return None
    return (y - y[0]) / span


def knee(progress, scores, falling: bool | None = None) -> float | None:
    """Kneedle knee of a saturating curve, as progress; None for a flat curve."""
    p, s = _curve(progress, scores)
    y = _normalised(p, s, falling)
    if y is None or p[-1] == p[0]:
        return None
    x = (p - p[0]) / (p[-1] - p[0])
    return float(p[int(np.argmax(y - x))])


def reach(progress, scores, share: float = 0.9, falling: bool | None = None) -> float | None:
    """First progress where the curve has covered ``share`` of its change (linear interpolation)."""
    if not 0.0 < share <= 1.0:
        raise LinaError(f"must be in (0, 1], got {share}.", field="share")
    p, s = _curve(progress, scores)
    y = _normalised(p, s, falling)
    if y is None:
        return None
    i = int(np.argmax(y >= share - 1e-12))
    if i == 0:
        return float(p[0])
    y0, y1 = y[i - 1], y[i]
    f = 0.0 if y1 == y0 else (share - y0) / (y1 - y0)
    return float(p[i - 1] + f * (p[i] - p[i - 1]))
