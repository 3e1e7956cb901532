"""PhysWorld colours: 8 saturated object colours (distinct hues) and desaturated scene materials.

Object colours are told apart by hue (robust to shading, blur and noise); materials have low
chroma so a pixel with chroma >= OBJECT_CHROMA is an object (or its reflection), never background.
"""
from __future__ import annotations

import numpy as np

OBJECT_COLORS = {
    "red": (220, 40, 40),
    "orange": (240, 135, 25),
    "yellow": (230, 210, 35),
    "green": (40, 175, 60),
    "cyan": (30, 190, 205),
    "blue": (40, 70, 225),
    "purple": (140, 55, 205),
    "pink": (235, 70, 190),
}
COLOR_NAMES = tuple(OBJECT_COLORS)

MATERIALS = {
    "wall": (200, 196, 188),
    "sky": (175, 200, 225),
    "floor": (150, 142, 128),
    "mirror": (196, 210, 220),
    "frame": (70, 72, 82),
    "water": (95, 122, 142),
    "ripple": (135, 160, 178),
    "sand": (208, 196, 160),
    "grass": (122, 146, 98),
    "wood": (112, 80, 52),
    "glass": (232, 240, 244),
    "jar_inside": (205, 208, 206),
    "crate": (105, 110, 128),
    "crate_inside": (176, 176, 170),
    "dirt": (84, 56, 36),
    "fill_sand": (226, 202, 128),
    "fill_water": (72, 122, 190),
    "light": (255, 250, 222),
    "streak": (60, 60, 66),
    "shadow_k": (0.52, 0.52, 0.52),
}
FILL_COLOR = {"dirt": "dirt", "sand": "fill_sand", "water": "fill_water"}

OBJECT_CHROMA = 0.33   # chroma (max-min of RGB in 0..1) above which a pixel counts as object-like


def rgb(name: str) -> np.ndarray:
    """Colour as float32 RGB in 0..1 (object colour or material)."""
    c = OBJECT_COLORS.get(name) or MATERIALS[name]
    return np.asarray(c, np.float32) / 255.0


def hue_of(img: np.ndarray) -> np.ndarray:
    """Hue in degrees (0..360) of a float RGB array (..., 3)."""
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    mx = img.max(-1)
    mn = img.min(-1)
    d = np.maximum(mx - mn, 1e-6)
    h = np.where(mx == r, ((g - b) / d) % 6.0, np.where(mx == g, (b - r) / d + 2.0, (r - g) / d + 4.0))
    return h * 60.0


OBJECT_HUES = np.array([float(hue_of(rgb(n)[None])[0]) for n in COLOR_NAMES], np.float32)


def hue_labels(hue: np.ndarray) -> np.ndarray:
    """Index into COLOR_NAMES of the nearest object hue (circular distance)."""
    d = np.abs(hue[..., None] - OBJECT_HUES)
    d = np.minimum(d, 360.0 - d)
    return d.argmin(-1)
