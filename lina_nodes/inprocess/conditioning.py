"""CONDITIONING checks, and ``PhasedPlan``: LINA Plan's plan output, carrying the conditioning of the plan's
phases explicitly.

LINA Plan's ``lina_positive`` is c' alone, an ordinary CONDITIONING. The structure prompt's encoding (the
first part of the early window) and the counterfactual negative's (its share of the run) travel in the plan
output, a ``PhasedPlan``: the plan plus those two CONDITIONING lists (None when the plan has no such phase).
The region prompts' encodings (masked to their CSG boxes) travel the same way.
A plan given as JSON (an API caller, LINA Plan's override) has no phases. ``phases_of`` is the one reader.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from ..errors import LinaError
from ..intervention.plan import LinaPlan, PlanError, check_encoder_width


@dataclass(frozen=True)
class PhasedPlan:
    """A LINA plan (``.plan``) with the conditioning of its phases."""
    plan: LinaPlan
    structure: list | None = None        # the structure prompt's CONDITIONING
    counterfactual: list | None = None   # the counterfactual negative's CONDITIONING
    regions: list | None = None          # one CONDITIONING per region prompt of the plan (same order)

    def updated(self, **changes) -> PhasedPlan:
        """The same phases with plan fields changed (validated)."""
        return replace(self, plan=self.plan.updated(**changes))

    def __repr__(self) -> str:   # short (a preview node prints it): the plan's JSON and which phases it carries
        phases = [k for k in ("structure", "counterfactual", "regions") if getattr(self, k)]
        return f"PhasedPlan(phases={phases}, plan={self.plan.to_json()})"


def phases_of(plan) -> tuple[list | None, list | None, list | None]:
    """(structure, counterfactual, regions) CONDITIONING a plan carries; all None for a bare plan."""
    if isinstance(plan, PhasedPlan):
        return plan.structure or None, plan.counterfactual or None, plan.regions or None
    return None, None, None



def masked_regions(plan: LinaPlan, encodings: list | None) -> list | None:
    """The region prompts' encodings as one CONDITIONING whose entries carry ConditioningSetMask's keys (mask of
    the node's box, the plan's region strength as mask strength): ComfyUI's own masked-conditioning rule."""
    from ..intervention.regions import MASK_CELLS, box_mask

    if not encodings:
        return None
    if len(encodings) != len(plan.region_prompts):
        raise PlanError(f"the plan has {len(plan.region_prompts)} region prompts but carries {len(encodings)} "
                        "encodings.", field="plan.region_prompts",
                        fix="rebuild the plan with LINA Plan instead of changing its region prompts afterwards.")
    out = []
    for r, cond in zip(plan.region_prompts, encodings):
        mask = box_mask(r.box, MASK_CELLS, MASK_CELLS)[None]
        out += [[t, {**d, "mask": mask, "mask_strength": plan.region_strength, "set_area_to_bounds": False}]
                for t, d in cond]
    return out


def check_conditioning(cond, field: str) -> int:
    """Validate a CONDITIONING list; return its token width D."""
    if not isinstance(cond, list) or not cond:
        raise LinaError("expected a non-empty CONDITIONING.", field=field,
                        fix="connect the output of a text-encode node or of LINA Plan.")
    widths = set()
    for i, item in enumerate(cond):
        if not isinstance(item, (list, tuple)) or len(item) < 2 or not isinstance(item[0], torch.Tensor):
            raise LinaError(f"entry {i} is not a [tensor, dict] pair.", field=field)
        t = item[0]
        if t.ndim != 3:
            raise LinaError(f"entry {i} has shape {tuple(t.shape)}; expected [B, L, D].", field=field)
        if not torch.isfinite(t).all():
            raise LinaError(f"entry {i} contains NaN or infinite values.", field=field,
                            fix="check the text encoder and any node that edits the conditioning.")
        pooled = item[1].get("pooled_output") if isinstance(item[1], dict) else None
        if isinstance(pooled, torch.Tensor) and not torch.isfinite(pooled).all():
            raise LinaError(f"entry {i} has a NaN or infinite pooled output.", field=field)
        widths.add(int(t.shape[-1]))
    if len(widths) != 1:
        raise LinaError(f"mixes token widths {sorted(widths)}.", field=field)
    return widths.pop()


def check_pair(positive, lina_positive, plan: LinaPlan) -> None:
    """positive (optional) and lina_positive come from one encoder whose width the plan expects."""
    d = check_conditioning(positive, "positive") if positive is not None else None
    d2 = check_conditioning(lina_positive, "lina_positive")
    if d is not None and d != d2:
        raise PlanError(f"lina_positive has width {d2} but positive has width {d}: they come from different text "
                        "encoders.", field="lina_positive",
                        fix="build the plan with LINA Plan from the same CLIP that encodes the positive prompt.")
    check_encoder_width(plan, d2, field="plan")
