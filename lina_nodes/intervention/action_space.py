"""LINA's action space: the named settings of the plan's levers that adapter training searches over. [ours]

Each action is a set of plan-field changes applied on top of the training-free prior (``prior.py``), so it
adapts to the prompt's own graph (its boxes, structure prompt, counterfactual text). All actions run in
``substitute`` mode (no add-mode evaluation; only the region prompts cost evaluations). A learned adapter (``adapter.py``) predicts, per
prompt, which action scores best. Every value is checked against the plan's own ranges (``plan.RANGES``).

Version "1" levers: the structure prompt (off / the whole window), the prompt edit (off: c' is the causal
completion / strong), the layout focus (CSG boxes through 0.9 of the window), the counterfactual negative
(reversed action roles for the whole run), a longer window, and the schedule alone (no conditioning edit).
Version "2" adds the region prompts (each explicit object's phrase masked to its CSG box through 0.9 of the
window, ``regions.py``): the one action that costs evaluations (one per region and step of its phase).
Version "3" adds the shape stand-in (the structure phase lays a shape out as its stand-in, a cone as a
cylinder, through 0.9 of the window: ``structure.stand_in_prompt``; the same plan as the prior for a prompt
without such a shape).
Version "4": the same actions; the stand-in table (``deferrals.json`` ``shape_stand_ins``) lays every shape out
as a cylinder, not only a cone (``benchmarks/lever_probes.py neutral``), so ``stand_in`` acts on most prompts and
its value can be learned where no cone is. Files of version 3 load and use the table in force.
An adapter stores its own actions, so files of an earlier version still load (``COMPATIBLE``).
"""
from __future__ import annotations

from types import MappingProxyType

from .plan import MODES, RANGES, PlanError
from .regions import DEFAULT_SHARE as REGION_SHARE
from .structure import DEFAULT_STAND_IN_SHARE

ACTION_SPACE_VERSION = "4"
COMPATIBLE = ("1", "2", "3", "4")   # action-space versions whose plan fields mean the same in this LINA

_SUB = {"mode": "substitute"}   # every action's mode: no add-mode evaluation
ACTIONS = MappingProxyType({name: {**_SUB, **changes} for name, changes in {
    "prior": {},
    "no_structure": {"structure_share": 0.0},
    "structure_long": {"structure_share": 0.95},
    "causal_prompt": {"prompt_strength": 0.0},
    "prompt_strong": {"prompt_strength": 2.0},
    "layout_focus": {"layout_strength": 1.0, "layout_share": 0.9},
    "counterfactual": {"counterfactual_share": 1.0},
    "window_long": {"window_end": 0.6},
    "schedule_only": {"latent_strength": 0.0, "structure_share": 0.0},
    "regions": {"region_strength": 4.0, "region_share": REGION_SHARE},
    "stand_in": {"stand_in_share": DEFAULT_STAND_IN_SHARE},
}.items()})


def keeps_prior(changes) -> bool:
    """Whether an action keeps every lever the prior turns on: it sets no plan field to 0 (it may add a lever or
    lengthen a phase, never drop the structure prompt, the prompt edit or the latent term). Outside its training
    support an adapter chooses only among these (``adapter.OUTSIDE_SUPPORT``)."""
    return not any(k != "mode" and float(v) == 0.0 for k, v in dict(changes).items())


def check_actions(actions: dict, field: str = "actions") -> dict:
    """Validate {name: {plan field: value}}; returns a plain dict. Raises PlanError naming the entry."""
    if not isinstance(actions, dict) or not actions:
        raise PlanError("expected a non-empty object {name: {plan field: value}}.", field=field,
                        fix="use the names of lina_nodes.intervention.action_space.ACTIONS, or write your own.")
    out = {}
    for name, changes in actions.items():
        if not isinstance(name, str) or not name or not isinstance(changes, dict):
            raise PlanError(f"entry {name!r} must map a name to an object of plan fields.", field=f"{field}.{name}")
        for k, v in changes.items():
            if k == "mode":
                if v not in MODES:
                    raise PlanError(f"must be one of {', '.join(MODES)}, got {v!r}.", field=f"{field}.{name}.mode")
                continue
            if k not in RANGES:
                raise PlanError(f"{k!r} is not a searchable plan field.", field=f"{field}.{name}.{k}",
                                fix=f"use one of {', '.join(sorted(RANGES))}.")
            lo, hi = RANGES[k]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= float(v) <= hi:
                raise PlanError(f"must be a number in [{lo:g}, {hi:g}], got {v!r}.", field=f"{field}.{name}.{k}")
        out[name] = {k: (v if k == "mode" else float(v)) for k, v in changes.items()}
    return out
