"""LINA Plan's lever inputs (and diffusers ``apply``'s arguments of the same names) as plan changes. [ours]

``region_strength`` > 0 turns the region prompts on (``regions.region_changes``); ``shape_stand_in`` true turns
the shape stand-in on (``structure.stand_in_changes``). The defaults (0, false) keep the plan's own, so a
workflow saved before these inputs existed builds the same plan."""
from __future__ import annotations

from .regions import region_changes
from .structure import stand_in_changes


def lever_changes(region_strength=0.0, shape_stand_in=False) -> dict | None:
    """The plan changes the two inputs ask for; None when both keep the plan's own. Bad values raise PlanError
    naming the input."""
    out = {**(region_changes(region_strength) or {}), **(stand_in_changes(shape_stand_in) or {})}
    return out or None
