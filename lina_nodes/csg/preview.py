"""Draw a CSG for people: the layout (boxes in image space) and the graph (columns by hop depth)."""
from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from .model import CSG

KIND_COLORS = {
    "object": (66, 135, 245), "agent": (245, 130, 48), "surface": (120, 120, 120), "medium": (70, 170, 200),
    "light": (240, 200, 40), "container": (145, 90, 200), "region": (90, 160, 90), "reflection": (0, 200, 200),
    "shadow": (60, 60, 60), "contact": (200, 60, 60), "fill": (40, 110, 220), "splash": (150, 220, 255),
    "refraction": (255, 120, 200), "ripple": (100, 200, 255), "occlusion": (160, 160, 60),
}
EDGE_COLORS = {"spatial": (90, 90, 90), "causal": (200, 40, 40), "action": (30, 130, 30), "comparative": (130, 60, 170)}


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def _boxes(g: CSG, ox: float, oy: float, side: float):
    """(node, kind colour, pixel rectangle) of every laid-out, not negated node, largest box first (drawn under)."""
    order = sorted((n for n in g.nodes if n.box is not None and not n.negated),
                   key=lambda n: -((n.box[2] - n.box[0]) * (n.box[3] - n.box[1])))
    for n in order:
        x0, y0, x1, y1 = n.box
        yield n, KIND_COLORS.get(n.kind, (0, 0, 0)), [ox + x0 * side, oy + y0 * side, ox + x1 * side, oy + y1 * side]


def render_preview(g: CSG, width: int = 1024, height: int = 512) -> Image.Image:
    """An RGB image: left half the layout, right half the graph with edge labels."""
    img = Image.new("RGB", (width, height), (250, 250, 248))
    d = ImageDraw.Draw(img)
    f_small, f = _font(11), _font(13)
    half = width // 2
    # --- layout panel
    pad = 10
    side = min(half - 2 * pad, height - 2 * pad - 16)
    ox, oy = pad, pad + 16
    d.text((pad, 2), "layout (normalised boxes)", fill=(0, 0, 0), font=f)
    d.rectangle([ox, oy, ox + side, oy + side], outline=(0, 0, 0), fill=(255, 255, 255))
    for n, col, rect in _boxes(g, ox, oy, side):
        d.rectangle(rect, outline=col, width=2 if n.explicit else 1)
        d.text((rect[0] + 2, rect[1] + 1), n.id[:22], fill=col, font=f_small)
    # --- graph panel: columns by hop
    gx0 = half + pad
    d.text((gx0, 2), f"causal scene graph: {len(g.nodes)} nodes, {len(g.edges)} edges, "
                     f"{len(g.constraints)} constraints", fill=(0, 0, 0), font=f)
    hops = sorted({n.hop for n in g.nodes}) or [0]
    cols = {h: [n for n in g.nodes if n.hop == h] for h in hops}
    col_w = (half - 2 * pad) / max(1, len(hops))
    pos = {}
    for ci, h in enumerate(hops):
        nodes = cols[h][:24]
        step = (height - 40) / max(1, len(nodes))
        d.text((gx0 + ci * col_w + 4, 20), f"hop {h}", fill=(90, 90, 90), font=f_small)
        for ri, n in enumerate(nodes):
            cx, cy = gx0 + ci * col_w + col_w / 2, 40 + step * (ri + 0.5)
            pos[n.id] = (cx, cy)
    for e in g.edges:
        if e.src in pos and e.dst in pos:
            (x0, y0), (x1, y1) = pos[e.src], pos[e.dst]
            col = EDGE_COLORS.get(e.kind, (0, 0, 0))
            d.line([x0, y0, x1, y1], fill=col, width=1)
            d.ellipse([x1 - 3, y1 - 3, x1 + 3, y1 + 3], fill=col)
            label = ("not " if e.negated else "") + e.relation
            d.text(((x0 + x1) / 2 + 2, (y0 + y1) / 2 - 6), label[:18], fill=col, font=f_small)
    for n in g.nodes:
        if n.id not in pos:
            continue
        cx, cy = pos[n.id]
        owner = n.physics.get("of")
        text = ("NOT " if n.negated else "") + (n.label() if n.explicit or not owner else f"{n.name} of {owner}")[:24]
        w = max(60, 7 * len(text))
        col = KIND_COLORS.get(n.kind, (0, 0, 0))
        d.rounded_rectangle([cx - w / 2, cy - 9, cx + w / 2, cy + 9], radius=6, fill=(255, 255, 255),
                            outline=col, width=2 if n.explicit else 1)
        d.text((cx - w / 2 + 4, cy - 7), text, fill=(0, 0, 0), font=f_small)
    return img


NODE_PREVIEW_SIZE = 512


def _fit(d: ImageDraw.ImageDraw, text: str, font, width: float) -> str:
    """``text`` cut (with an ellipsis) to fit ``width`` pixels."""
    if d.textlength(text, font=font) <= width:
        return text
    while text and d.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..."


def render_node_preview(g: CSG, size: int = NODE_PREVIEW_SIZE) -> Image.Image:
    """A square preview readable at node size: the layout on top (boxes and names in large type),
    and below it one line per node (kind colour, name, hop) and the constraint count.

    For the node's on-canvas preview; the full-size drawing (layout + graph with edge labels) is
    ``render_preview``. Labels are ``size / 21`` px (24 px at 512), the node list ``size / 28``."""
    img = Image.new("RGB", (size, size), (250, 250, 248))
    d = ImageDraw.Draw(img)
    big, mid = _font(max(10, size // 21)), _font(max(9, size // 28))
    pad = max(4, size // 64)
    title = f"CSG: {len(g.nodes)} nodes, {len(g.edges)} edges, {len(g.constraints)} checks"
    d.text((pad, pad), _fit(d, title, mid, size - 2 * pad), fill=(0, 0, 0), font=mid)
    top = pad + size // 28 + pad
    side = int(size * 0.56)
    ox = (size - side) // 2
    d.rectangle([ox, top, ox + side, top + side], outline=(0, 0, 0), fill=(255, 255, 255), width=2)
    for n, col, rect in _boxes(g, ox, top, side):
        d.rectangle(rect, outline=col, width=4 if n.explicit else 2)
        if n.explicit:
            label = _fit(d, n.name, big, max(rect[2] - rect[0] - 4, side * 0.5))
            d.text((rect[0] + 3, rect[1] + 2), label, fill=col, font=big, stroke_width=2, stroke_fill=(255, 255, 255))
    y = top + side + pad
    line = max(10, size // 26)
    rows = (size - y - pad) // line
    nodes = sorted(g.nodes, key=lambda n: (n.hop, not n.explicit))
    cols = 2
    col_w = (size - 2 * pad) / cols
    shown = nodes[: rows * cols]
    for i, n in enumerate(shown):
        cx = pad + (i // rows) * col_w
        cy = y + (i % rows) * line
        col = KIND_COLORS.get(n.kind, (0, 0, 0))
        d.rectangle([cx, cy + 3, cx + line - 6, cy + line - 3], fill=col)
        owner = n.physics.get("of")
        name = ("NOT " if n.negated else "") + (n.name if n.explicit or not owner else f"{n.name} of {owner}")
        d.text((cx + line, cy), _fit(d, f"{name} (hop {n.hop})", mid, col_w - line - 4), fill=(0, 0, 0), font=mid)
    if len(nodes) > len(shown):
        d.text((size - pad - 60, size - pad - line), f"+{len(nodes) - len(shown)} more", fill=(90, 90, 90), font=mid)
    return img
