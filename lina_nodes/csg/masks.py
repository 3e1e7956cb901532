"""Masks from CSG layout boxes (numpy, no ComfyUI): one mask per node, or one per node kind.

Shape [B, H, W] float32 in 0..1. With ``frames`` F > 1 each entry is repeated F times (the layout is
static), node-major: entry i, frame f is batch index ``i * F + f``; ``select`` keeps one entry, so
B = F and the batch is a video mask.
"""
from __future__ import annotations

import numpy as np

from ..errors import CSGError
from .model import CSG, NODE_KINDS

MAX_SIDE = 8192
MAX_BATCH_PIXELS = 2_000_000_000


def box_mask(box, width: int, height: int) -> np.ndarray:
    m = np.zeros((height, width), dtype=np.float32)
    if box is None:
        return m
    x0, y0, x1, y1 = box
    c0, c1 = int(round(x0 * width)), int(round(x1 * width))
    r0, r1 = int(round(y0 * height)), int(round(y1 * height))
    c1, r1 = max(c1, min(c0 + 1, width)), max(r1, min(r0 + 1, height))
    m[r0:r1, c0:c1] = 1.0
    return m


def mask_entries(g: CSG, mode: str = "node") -> list[tuple[str, list]]:
    """[(label, [boxes])] in output order: every node (mode "node") or every kind present ("kind")."""
    if mode in ("node", "per node", "per_node"):
        return [(n.id, [n.box] if n.box is not None and not n.negated else []) for n in g.nodes]
    if mode in ("kind", "per kind", "per_kind"):
        out = []
        for kind in NODE_KINDS:
            boxes = [n.box for n in g.nodes if n.kind == kind and n.box is not None and not n.negated]
            if any(n.kind == kind for n in g.nodes):
                out.append((kind, boxes))
        return out
    raise CSGError(f"expected 'node' or 'kind', got {mode!r}.", field="mode")


def csg_masks(g: CSG, width: int, height: int, frames: int = 1, mode: str = "node",
              select: str = "") -> tuple[np.ndarray, list[str]]:
    """Return (masks [B, H, W] float32, index lines "i: label") for the graph's boxes."""
    for name, v, hi in (("width", width, MAX_SIDE), ("height", height, MAX_SIDE), ("frames", frames, 100000)):
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= hi:
            raise CSGError(f"expected an integer from 1 to {hi}, got {v!r}.", field=name)
    entries = mask_entries(g, mode)
    select = (select or "").strip()
    if select:
        chosen = [e for e in entries if e[0] == select]
        if not chosen:
            raise CSGError(f"no {'node' if mode.startswith(('node', 'per node', 'per_node')) else 'kind'} "
                           f"{select!r} in this graph; choose one of {', '.join(e[0] for e in entries) or '(none)'}.",
                           field="select", fix="leave select empty to get every mask.")
        entries = chosen
    if not entries:
        entries = [("(empty graph)", [])]
    if len(entries) * frames * width * height > MAX_BATCH_PIXELS:
        raise CSGError(f"{len(entries)} masks x {frames} frames at {width}x{height} is too large.", field="frames",
                       fix="use fewer frames, a smaller size, or select one node.")
    planes = []
    for _, boxes in entries:
        m = np.zeros((height, width), dtype=np.float32)
        for b in boxes:
            np.maximum(m, box_mask(b, width, height), out=m)
        planes.append(m)
    stack = np.stack(planes)                                   # [N, H, W]
    if frames > 1:
        stack = np.repeat(stack, frames, axis=0)               # node-major: i * F + f
    index = []
    for i, (label, _) in enumerate(entries):
        span = f"{i * frames}" if frames == 1 else f"{i * frames}-{i * frames + frames - 1}"
        index.append(f"{span}: {label}")
    return stack, index
