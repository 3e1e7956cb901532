"""Shared PhysWorld geometry (normalised units): object sizes, the horizon, reflections.

Renderer, CSG builder and judge all use these numbers, so a scene's boxes are exactly what is drawn.
"""
from __future__ import annotations

SHAPES = ("ball", "cube", "cone", "cylinder")
SIZES = ("small", "large")
WIDTH = {"small": 0.16, "large": 0.24}
HEIGHT_K = {"ball": 1.0, "cube": 1.0, "cone": 1.15, "cylinder": 1.15}
WIDTH_K = {"ball": 1.0, "cube": 1.0, "cone": 1.0, "cylinder": 0.8}
HORIZON = 0.55            # wall/floor boundary (row fraction)
REFLECT_SQUASH = 0.8      # a floor reflection is this fraction of the object's height
MIRROR_FRAME = 0.03
CONTAINER_WALL = {"jar": 0.03, "box": 0.04}
SHADOW_NEAR = 0.08        # an 'above' light's shadow reaches this far past the object's edge
FILL_KIND = {"dirt", "sand", "water"}


def obj_wh(shape: str, size: str) -> tuple[float, float]:
    w = WIDTH[size]
    return w * WIDTH_K[shape], w * HEIGHT_K[shape]


def obj_box(o) -> tuple[float, float, float, float]:
    w, h = obj_wh(o.shape, o.size)
    return (o.x - w / 2, o.base - h, o.x + w / 2, o.base)


def shadow_len(o) -> float:
    w, _ = obj_wh(o.shape, o.size)
    return 0.7 * WIDTH[o.size] + 0.08


def clamp_box(b):
    x0, y0, x1, y1 = (min(1.0, max(0.0, float(v))) for v in b)
    if x1 - x0 < 1e-3:
        x1 = min(1.0, x0 + 1e-3) if x0 < 1.0 else x1
        x0 = x1 - 1e-3
    if y1 - y0 < 1e-3:
        y1 = min(1.0, y0 + 1e-3) if y0 < 1.0 else y1
        y0 = y1 - 1e-3
    return (round(x0, 5), round(y0, 5), round(x1, 5), round(y1, 5))


def intersect(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    if x1 <= x0 or y1 <= y0:
        return None
    return (x0, y0, x1, y1)
