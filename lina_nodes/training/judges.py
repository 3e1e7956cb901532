"""Example user judge for adapter training, one that needs no reference image (``config.judge`` =
``lina_nodes.training.judges:csg_box_judge``).

It scores an image the way per-node masks of a PAP-style dataset would: the prompt's CSG (parsed here) gives
every explicit object a layout box; the image's foreground is where it differs from its border colour; the
score is the intersection-over-union of the foreground with the union of the boxes. A real user judge would
compare each node's mask with a detector's or a VLM's answer; the interface is the same.
"""
from __future__ import annotations

import numpy as np

FOREGROUND = 40.0   # L1 distance (0..765) from the border colour that counts as foreground


def box_mask(boxes, h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), dtype=bool)
    for x0, y0, x1, y1 in boxes:
        m[int(y0 * h):max(int(y1 * h), int(y0 * h) + 1), int(x0 * w):max(int(x1 * w), int(x0 * w) + 1)] = True
    return m


def csg_box_judge(image, item) -> float:
    """IoU of the image's foreground with the CSG layout boxes of the prompt's explicit objects."""
    from ..csg import parse

    img = np.asarray(image, dtype=np.float32)[..., :3]
    h, w = img.shape[:2]
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    fg = np.abs(img - np.median(border, axis=0)).sum(-1) > FOREGROUND
    boxes = [n.box for n in parse(item["prompt"]).nodes if n.explicit and n.box is not None]
    if not boxes:
        return 0.0
    bm = box_mask(boxes, h, w)
    union = np.logical_or(fg, bm).sum()
    return float(np.logical_and(fg, bm).sum() / union) if union else 0.0
