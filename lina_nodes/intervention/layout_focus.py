"""Layout focus: a spatial lever that moves the early denoised estimate toward the CSG layout. [ours]

Inside the first ``layout_share`` of the early window, content the model draws outside every CSG box
that should hold content (``LinaPlan.layout_boxes``: explicit objects, mirrors and supports that fit in
the frame, and implied nodes such as reflections) is pulled toward the image's own background:

    D' = D + eta * (1 - K) * (B(D) - D)

where K is the soft mask of the layout boxes at the latent's H x W, and B(D) the background estimate,
the median of D along each row (per sample, channel and frame): scenes are banded (sky / wall over
ground / floor), and an object covers a minority of its rows. No extra model evaluation; the model's
own estimate is the only image input (no renderer, palette or judge). Works on 4-D image and 5-D video
latents. Nothing here imports ComfyUI.
"""
from __future__ import annotations

import torch

from ..csg.model import CSG
from .plan import LinaPlan, Region

# a node whose box covers more than this share of the frame, or spans this share of its width (a floor,
# a ground band), is a backdrop, not content
MAX_CONTENT_AREA = 0.5
MAX_CONTENT_SPAN = 0.9
CONTENT_KINDS = ("object", "agent", "surface", "container", "light", "reflection", "shadow", "contact", "fill",
                 "refraction", "splash", "ripple")


def layout_boxes(g: CSG) -> tuple[Region, ...]:
    """The boxes that should hold content: nodes of a content kind, not negated, not a backdrop."""
    out = []
    for n in g.nodes:
        if n.box is None or n.negated or n.kind not in CONTENT_KINDS:
            continue
        x0, y0, x1, y1 = n.box
        if (x1 - x0) * (y1 - y0) <= MAX_CONTENT_AREA and x1 - x0 < MAX_CONTENT_SPAN:
            out.append(Region(node=n.id, box=tuple(float(v) for v in n.box), weight=1.0))
    return tuple(out)


def keep_mask(plan: LinaPlan, latent_shape, device=None, dtype=torch.float32) -> torch.Tensor | None:
    """K broadcastable against a 4-D or 5-D latent (max over the layout boxes); None without boxes."""
    from .latent_guidance import _check_latent, region_mask

    _check_latent(latent_shape)
    if not plan.layout_boxes:
        return None
    m = region_mask(LinaPlan(regions=plan.layout_boxes, mask_floor=0.0), latent_shape[-2], latent_shape[-1],
                    device=device, dtype=dtype)
    return m[None, None] if len(latent_shape) == 4 else m[None, None, None]


def row_background(d: torch.Tensor) -> torch.Tensor:
    """The median of ``d`` along its last (width) axis, broadcast back: one background value per row."""
    return d.median(dim=-1, keepdim=True).values.expand_as(d)


def focus(denoised: torch.Tensor, keep: torch.Tensor | None, eta: float) -> torch.Tensor:
    """D + eta * (1 - K) * (B(D) - D); unchanged when eta is 0 or there is no layout."""
    if eta == 0.0 or keep is None:
        return denoised
    keep = keep.to(device=denoised.device, dtype=denoised.dtype)
    out = denoised + float(eta) * (1.0 - keep) * (row_background(denoised) - denoised)
    return torch.where(torch.isfinite(out), out, denoised)
