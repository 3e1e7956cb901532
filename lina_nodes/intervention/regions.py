"""Region prompts: masked conditioning per CSG node, derived from the layout. [ours]

What users do by hand with ConditioningSetMask, built from the prompt's own graph: each explicit object with
a layout box and a phrase in the prompt ("a large cyan cone") conditions its box, on top of the whole
prompt, in the first ``region_share`` of the early window. The model's prediction inside a box becomes the
mask-weighted mean of the whole-prompt prediction and the node phrase's (ComfyUI's masked-conditioning
rule, with ``region_strength`` as the mask strength):

    eps = (eps(c) + s * sum_i m_i * eps(c_i)) / (1 + s * sum_i m_i)

so the node is drawn where the CSG puts it and a property the prompt binds to it (a mouth, a size) stays
with it. Each region costs one model evaluation per step of its phase. Only the prompt text and the CSG
layout are read. Nothing here imports ComfyUI.
"""
from __future__ import annotations

import math

import torch

from ..csg.model import CSG
from .plan import RANGES, LinaPlan, PlanError, RegionPrompt

MAX_PROMPTS = 4        # regions per plan: each costs an evaluation per step of the region phase
MAX_AREA = 0.5         # a box larger than this share of the frame is a backdrop, not a region
PAD = 0.05             # the mask reaches this far (image share) past the box: the model's shapes are not exact
MASK_CELLS = 128       # masks are drawn at this resolution, then resized (bilinear) to the latent, as ComfyUI does


def region_prompts(g: CSG) -> tuple[RegionPrompt, ...]:
    """The explicit, non-negated objects with a layout box and a phrase of their own, in prompt order."""
    out = []
    for n in g.nodes:
        if not n.explicit or n.negated or n.box is None or n.span is None or n.kind not in ("object", "agent"):
            continue
        x0, y0, x1, y1 = n.box
        text = g.prompt[n.span[0]:n.span[1]].strip()
        if text and (x1 - x0) * (y1 - y0) <= MAX_AREA:
            out.append(RegionPrompt(node=n.id, text=text, box=tuple(float(v) for v in n.box)))
    out.sort(key=lambda r: g.prompt.find(r.text))
    return tuple(out[:MAX_PROMPTS])


DEFAULT_SHARE = 0.9    # region_share when a user turns region prompts on by strength alone (the action space's)


def region_changes(strength) -> dict | None:
    """Plan changes that turn region prompts on at ``strength`` through DEFAULT_SHARE of the window; None for 0
    (keep the plan's own). Out-of-range or non-finite values raise PlanError naming ``region_strength``."""
    lo, hi = RANGES["region_strength"]
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not lo <= float(strength) <= hi:
        raise PlanError(f"must be a number in [{lo:g}, {hi:g}], got {strength!r}.", field="region_strength",
                        fix="use 0 for the plan's own region prompts, or a strength such as 2-4.")
    if float(strength) == 0.0:
        return None
    return {"region_strength": float(strength), "region_share": DEFAULT_SHARE}


def active(plan: LinaPlan) -> bool:
    return bool(plan.region_prompts) and plan.region_strength > 0.0 and plan.region_share > 0.0


def box_mask(box, height: int, width: int, pad: float = PAD, device=None, dtype=torch.float32) -> torch.Tensor:
    """[height, width] mask, 1 inside the padded box (at least one cell), 0 outside."""
    x0, y0, x1, y1 = box
    r0, r1 = math.floor(max(y0 - pad, 0.0) * height), math.ceil(min(y1 + pad, 1.0) * height)
    c0, c1 = math.floor(max(x0 - pad, 0.0) * width), math.ceil(min(x1 + pad, 1.0) * width)
    m = torch.zeros(height, width, device=device, dtype=dtype)
    m[r0:max(r1, r0 + 1), c0:max(c1, c0 + 1)] = 1.0
    return m


def latent_mask(box, height: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """[height, width]: the box mask drawn at MASK_CELLS and resized bilinearly (ComfyUI's resize of a MASK)."""
    m = box_mask(box, MASK_CELLS, MASK_CELLS, device=device)[None, None]
    if (height, width) != (MASK_CELLS, MASK_CELLS):
        m = torch.nn.functional.interpolate(m, size=(height, width), mode="bilinear")
    return m[0, 0].to(dtype)


def composite(base: torch.Tensor, preds: list, masks: list, strength: float) -> torch.Tensor:
    """(base + s * sum m_i p_i) / (1 + s * sum m_i): masks broadcast against the predictions."""
    num, den = base.clone(), torch.ones_like(base)
    for p, m in zip(preds, masks):
        w = m.to(device=base.device, dtype=base.dtype) * float(strength)
        num = num + w * p.to(base.dtype)
        den = den + w
    return num / den
