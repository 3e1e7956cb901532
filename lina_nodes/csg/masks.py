"""Masks from CSG layout boxes (numpy, no ComfyUI): one mask per node, or one per node kind.

Shape [B, H, W] float32 in 0..1. With ``frames`` F > 1 each entry is repeated F times (the layout is
static), node-major: entry i, frame f is batch index ``i * F + f``; ``select`` keeps one entry, so
B = F and the batch is a video mask.
"""
from __future__ import annotations

import numpy as np

from ..errors import CSGError, short
from .model import CSG, NODE_KINDS

MAX_SIDE = 8192
MAX_MASK_BYTES = 2 * 1024 ** 3      # the whole [B, H, W] float32 batch, allocated once
MAX_BATCH_PIXELS = MAX_MASK_BYTES // 4


def _fill_box(m: np.ndarray, box, width: int, height: int) -> None:
    """Set the box's pixels of ``m`` [H, W] to 1 (in place)."""
    x0, y0, x1, y1 = box
    c0, c1 = int(round(x0 * width)), int(round(x1 * width))
    r0, r1 = int(round(y0 * height)), int(round(y1 * height))
    c1, r1 = max(c1, min(c0 + 1, width)), max(r1, min(r0 + 1, height))
    m[r0:r1, c0:c1] = 1.0


def box_mask(box, width: int, height: int) -> np.ndarray:
    m = np.zeros((height, width), dtype=np.float32)
    if box is not None:
        _fill_box(m, box, width, height)
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
            names = ", ".join(e[0] for e in entries[:20]) + (f" (and {len(entries) - 20} more)" if len(entries) > 20
                                                           else "")
            raise CSGError(f"no {'node' if mode.startswith(('node', 'per node', 'per_node')) else 'kind'} "
                           f"{short(select, 80)!r} in this graph; choose one of {names or '(none)'}.",
                           field="select", fix="leave select empty to get every mask.")
        entries = chosen
    if not entries:
        entries = [("(empty graph)", [])]
    need = len(entries) * frames * width * height * 4
    if need > MAX_MASK_BYTES:
        raise CSGError(f"{len(entries)} masks x {frames} frames at {width}x{height} need {need / 2**30:.2f} GiB; "
                       f"the limit is {MAX_MASK_BYTES / 2**30:.0f} GiB.", field="frames",
                       fix="use fewer frames, a smaller size, or select one node.")
    stack = np.zeros((len(entries) * frames, height, width), dtype=np.float32)   # the only allocation
    for i, (_, boxes) in enumerate(entries):
        m = stack[i * frames]
        for b in boxes:
            _fill_box(m, b, width, height)
        stack[i * frames + 1:(i + 1) * frames] = m             # node-major: i * F + f
    index = []
    for i, (label, _) in enumerate(entries):
        span = f"{i * frames}" if frames == 1 else f"{i * frames}-{i * frames + frames - 1}"
        index.append(f"{span}: {label}")
    return stack, index
