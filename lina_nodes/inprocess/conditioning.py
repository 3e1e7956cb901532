"""CONDITIONING checks, and the two phases LINA Plan's ``lina_positive`` carries.

``lina_positive`` is a CONDITIONING list. When the plan has a structure prompt it holds that prompt's
encoding first, each entry marked ``{PHASE_KEY: "structure"}``, then c' marked ``{PHASE_KEY: "full"}``;
when the plan uses a counterfactual negative, its encoding follows, marked ``{PHASE_KEY: "counterfactual"}``;
without either it is c' alone (unmarked). ``split_phases`` is the only reader of the mark.
"""
from __future__ import annotations

import torch

from ..errors import LinaError
from ..intervention.plan import LinaPlan, PlanError, check_encoder_width

PHASE_KEY = "lina_phase"
STRUCTURE, FULL, COUNTERFACTUAL = "structure", "full", "counterfactual"


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


def mark_phase(cond, phase: str) -> list:
    """A copy of a CONDITIONING list with every entry marked as belonging to ``phase``."""
    return [[t, {**d, PHASE_KEY: phase}] for t, d in cond]


def split_phases(lina_positive, counterfactual: bool = False) -> tuple:
    """(structure entries, c' entries) of LINA Plan's lina_positive, plus the counterfactual negative's entries
    when ``counterfactual``; unmarked entries count as c'."""
    parts: dict = {STRUCTURE: [], FULL: [], COUNTERFACTUAL: []}
    for t, d in lina_positive:
        phase = d.get(PHASE_KEY) if isinstance(d, dict) else None
        parts[phase if phase in (STRUCTURE, COUNTERFACTUAL) else FULL].append([t, d])
    return (parts[STRUCTURE], parts[FULL]) + ((parts[COUNTERFACTUAL],) if counterfactual else ())
