"""The LINA plan: every intervention parameter for one prompt, as one validated, JSON-able object.

A plan is built from a CSG by the training-free prior (``prior.py``) or by a learned adapter, and is
read by the prompt-space edit (``prompt_edit.py``), the latent guidance (``latent_guidance.py``) and
the causal schedule. It never holds tensors of the conditioning itself: the edited conditioning
travels separately (a CONDITIONING in ComfyUI). Nothing here imports ComfyUI.

Fields (see docs/interventions.md):
  prompt_strength  alpha in c' = c + alpha * M_tok * P(c_causal - c)      [0, 4]
  token_weights    per-node weight of the prompt edit {node id: w in [0, 1]}
  latent_strength  lambda_0 of the early-window latent guidance             [0, 20]
  latent_decay     lambda(sigma) = lambda_0 * t ** decay, t = 1 at sigma_max, 0 at sigma_beta  [0, 8]
  window_end       beta, end of the structure window as denoising progress (0 = auto: family knee)
  early_share      rho, share of steps inside the window for the causal schedule  (0, 1)
  mode             "add" (one extra model evaluation per early step) or "substitute" (zero extra)
  regions          CSG layout masks: [{"node": id, "box": [x0, y0, x1, y1], "weight": w}], normalised
  mask_floor       mask value outside every region (1 = unmasked)              [0, 1]
  encoder_width    width D of the text encoder the edit was computed with (0 = not bound)
  structure_prompt the prompt without its texture-only ground phrases ("" = nothing deferred; ``structure.py``)
  structure_share  share of the early window (in denoising progress) conditioned on the structure prompt [0, 0.95]
  layout_strength  eta of the layout focus: pull content outside the CSG layout boxes toward the background
                   in the first part of the window (``layout_focus.py``; 0 = off)          [0, 1]
  layout_share     share of the early window (in denoising progress) the layout focus acts in  [0, 0.95]
  layout_boxes     the boxes that should hold content (same form as regions)
  counterfactual_prompt  the prompt with each action's roles reversed ("" = none; ``counterfactual.py``)
  counterfactual_share   share of denoising progress, from the start, in which classifier-free guidance uses
                   the counterfactual prompt as its negative (0 = off, 1 = the whole run)  [0, 1]
  region_prompts   per-node masked conditioning: [{"node": id, "text": phrase, "box": [x0, y0, x1, y1]}]
                   (``regions.py``; at most 8)
  region_strength  mask strength of each region prompt inside its box (0 = off)         [0, 4]
  region_share     share of the early window (in denoising progress) the region prompts act in  [0, 0.95]
  stand_in_prompt  the structure text with each shape that has a stand-in replaced ("a cone" -> "a cylinder";
                   "" = none; ``structure.stand_in_prompt``)
  stand_in_share   when > 0, the structure phase conditions on stand_in_prompt: through the plan's own structure
                   phase when it has one (the shorter of the two), else through stand_in_share of the early
                   window (``structure.resolve_stand_in``; 0 = off)  [0, 0.95]
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..errors import LinaError

PLAN_VERSION = "1.0"
MODES = ("add", "substitute")
MAX_REGION_PROMPTS = 8   # each costs a model evaluation per step of the region phase
MAX_REGIONS = 512   # boxes per plan (a CSG holds at most 2,000 nodes; masks cost time per box)
RANGES = {  # every bounded plan field: (lo, hi); the one home of these ranges
    "prompt_strength": (0.0, 4.0),
    "latent_strength": (0.0, 20.0),
    "latent_decay": (0.0, 8.0),
    "window_end": (0.0, 0.95),
    "early_share": (0.05, 0.95),
    "mask_floor": (0.0, 1.0),
    "structure_share": (0.0, 0.95),
    "layout_strength": (0.0, 1.0),
    "layout_share": (0.0, 0.95),
    "counterfactual_share": (0.0, 1.0),
    "region_strength": (0.0, 4.0),
    "region_share": (0.0, 0.95),
    "stand_in_share": (0.0, 0.95),
}


class PlanError(LinaError):
    """A LINA plan that is malformed, out of range, or does not fit the model / encoder it is used with."""


@dataclass(frozen=True)
class Region:
    node: str
    box: tuple
    weight: float = 1.0

    def to_dict(self) -> dict:
        return {"node": self.node, "box": [float(v) for v in self.box], "weight": float(self.weight)}


@dataclass(frozen=True)
class RegionPrompt:
    node: str
    text: str
    box: tuple

    def to_dict(self) -> dict:
        return {"node": self.node, "text": self.text, "box": [float(v) for v in self.box]}


@dataclass(frozen=True)
class LinaPlan:
    prompt_strength: float = 0.0
    token_weights: dict = field(default_factory=dict)
    latent_strength: float = 0.0
    latent_decay: float = 1.0
    window_end: float = 0.0
    early_share: float = 0.35
    mode: str = "add"
    regions: tuple = ()
    mask_floor: float = 0.0
    encoder_width: int = 0
    structure_prompt: str = ""
    structure_share: float = 0.0
    layout_strength: float = 0.0
    layout_share: float = 0.0
    layout_boxes: tuple = ()
    counterfactual_prompt: str = ""
    counterfactual_share: float = 0.0
    region_prompts: tuple = ()
    region_strength: float = 0.0
    region_share: float = 0.0
    stand_in_prompt: str = ""
    stand_in_share: float = 0.0
    source: str = "prior"
    prompt: str = ""
    causal_prompt: str = ""
    notes: tuple = ()
    version: str = PLAN_VERSION

    # ---- derived -------------------------------------------------------------------------
    @property
    def is_noop(self) -> bool:
        return self.prompt_strength == 0.0 and self.latent_strength == 0.0

    def updated(self, **changes: Any) -> LinaPlan:
        for key in ("regions", "layout_boxes"):
            if key in changes:
                changes[key] = tuple(r if isinstance(r, Region) else _region(r, key) for r in changes[key])
        if "region_prompts" in changes:
            changes["region_prompts"] = tuple(_region_prompt(r, f"region_prompts[{i}]")
                                              for i, r in enumerate(changes["region_prompts"]))
        return validate(replace(self, **changes))

    # ---- JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = asdict(self)
        d["regions"] = [r.to_dict() for r in self.regions]
        d["layout_boxes"] = [r.to_dict() for r in self.layout_boxes]
        d["region_prompts"] = [r.to_dict() for r in self.region_prompts]
        d["notes"] = list(self.notes)
        d["token_weights"] = {str(k): float(v) for k, v in self.token_weights.items()}
        return d

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_dict(cls, d: Any) -> LinaPlan:
        if not isinstance(d, dict):
            raise PlanError(f"expected a JSON object, got {type(d).__name__}.", field="plan",
                            fix="pass the plan_json output of LINA Plan.")
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(d) - known)
        if unknown:
            raise PlanError(f"unknown field(s) {', '.join(unknown)}.", field="plan",
                            fix=f"use only {', '.join(sorted(known))}.")
        version = str(d.get("version", PLAN_VERSION))
        if version.split(".")[0] != PLAN_VERSION.split(".")[0]:
            raise PlanError(f"plan format version {version!r} is not supported (this LINA reads {PLAN_VERSION}).",
                            field="plan.version", fix="rebuild the plan with this version of LINA Plan.")
        kw = dict(d)
        for key in ("regions", "layout_boxes"):
            kw[key] = tuple(_region(r, f"plan.{key}[{i}]") for i, r in enumerate(d.get(key) or []))
        rp = d.get("region_prompts") or []
        if not isinstance(rp, (list, tuple)):
            raise PlanError("expected a list of {\"node\", \"text\", \"box\"} objects.", field="plan.region_prompts")
        kw["region_prompts"] = tuple(_region_prompt(r, f"plan.region_prompts[{i}]") for i, r in enumerate(rp))
        kw["notes"] = tuple(str(n) for n in (d.get("notes") or []))
        tw = d.get("token_weights") or {}
        if not isinstance(tw, dict):
            raise PlanError("expected an object {node id: weight}.", field="plan.token_weights")
        kw["token_weights"] = dict(tw)
        return validate(cls(**kw))

    @classmethod
    def from_json(cls, text: str | bytes, field: str = "plan_json") -> LinaPlan:
        try:
            data = json.loads(text)
        except (ValueError, TypeError, RecursionError) as e:
            raise PlanError(f"not valid JSON ({e}).", field=field,
                            fix="paste the plan_json output of LINA Plan unchanged.") from None
        return cls.from_dict(data)


def _finite(name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        raise PlanError(f"must be a finite number, got {v!r}.", field=f"plan.{name}",
                        fix="rebuild the plan with LINA Plan, or fix the JSON by hand.")
    return float(v)


def _region(r: Any, where: str) -> Region:
    if isinstance(r, Region):
        return r
    if not isinstance(r, dict) or "box" not in r:
        raise PlanError("expected {\"node\": id, \"box\": [x0, y0, x1, y1], \"weight\": w}.", field=where)
    b = _box(r["box"], where)
    w = _finite(f"{where}.weight", r.get("weight", 1.0))
    if not 0.0 <= w <= 1.0:
        raise PlanError(f"weight must be in [0, 1], got {w}.", field=f"{where}.weight")
    return Region(node=str(r.get("node", "")), box=b, weight=w)


def _box(box: Any, where: str) -> tuple:
    if not isinstance(box, (list, tuple)) or len(box) != 4:
        raise PlanError(f"box must be 4 numbers [x0, y0, x1, y1], got {box!r}.", field=f"{where}.box")
    b = tuple(_finite(f"{where}.box", v) for v in box)
    if not (0.0 <= b[0] < b[2] <= 1.0 and 0.0 <= b[1] < b[3] <= 1.0):
        raise PlanError(f"box {list(b)} must satisfy 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1.",
                        field=f"{where}.box", fix="use normalised image coordinates, origin top-left.")
    return b


def _region_prompt(r: Any, where: str) -> RegionPrompt:
    if isinstance(r, RegionPrompt):
        r = r.to_dict()
    if not isinstance(r, dict) or "box" not in r or "text" not in r:
        raise PlanError("expected {\"node\": id, \"text\": phrase, \"box\": [x0, y0, x1, y1]}.", field=where)
    if not isinstance(r["text"], str) or not r["text"].strip():
        raise PlanError(f"text must be a non-empty string, got {r['text']!r}.", field=f"{where}.text",
                        fix="give the node's phrase, e.g. \"a red ball\".")
    return RegionPrompt(node=str(r.get("node", "")), text=r["text"], box=_box(r["box"], where))


def validate(plan: LinaPlan) -> LinaPlan:
    """Check every field; return the plan (numbers coerced to float). Raises PlanError naming the field."""
    vals = {}
    for name, (lo, hi) in RANGES.items():
        v = _finite(name, getattr(plan, name))
        if not lo <= v <= hi:
            raise PlanError(f"must be in [{lo:g}, {hi:g}], got {v:g}.", field=f"plan.{name}")
        vals[name] = v
    for key in ("structure_prompt", "counterfactual_prompt", "stand_in_prompt"):
        if not isinstance(getattr(plan, key), str):
            raise PlanError(f"must be a string, got {type(getattr(plan, key)).__name__}.", field=f"plan.{key}")
    if plan.mode not in MODES:
        raise PlanError(f"must be one of {', '.join(MODES)}, got {plan.mode!r}.", field="plan.mode")
    if isinstance(plan.encoder_width, bool) or not isinstance(plan.encoder_width, int) or plan.encoder_width < 0:
        raise PlanError(f"must be a non-negative integer, got {plan.encoder_width!r}.", field="plan.encoder_width")
    tw = {}
    for k, v in plan.token_weights.items():
        w = _finite(f"token_weights[{k!r}]", v)
        if not 0.0 <= w <= 1.0:
            raise PlanError(f"must be in [0, 1], got {w:g}.", field=f"plan.token_weights[{k!r}]")
        tw[str(k)] = w
    for key in ("regions", "layout_boxes"):
        if len(getattr(plan, key)) > MAX_REGIONS:
            raise PlanError(f"has {len(getattr(plan, key))} entries; at most {MAX_REGIONS}.", field=f"plan.{key}",
                            fix="merge boxes, or keep the ones of the nodes that matter.")
    if len(plan.region_prompts) > MAX_REGION_PROMPTS:
        raise PlanError(f"has {len(plan.region_prompts)} entries; at most {MAX_REGION_PROMPTS}.",
                        field="plan.region_prompts", fix="keep the nodes whose placement matters most.")
    rps = tuple(_region_prompt(r, f"plan.region_prompts[{i}]") for i, r in enumerate(plan.region_prompts))
    regions = tuple(_region(r, f"plan.regions[{i}]") for i, r in enumerate(plan.regions))
    boxes = tuple(_region(r, f"plan.layout_boxes[{i}]") for i, r in enumerate(plan.layout_boxes))
    return replace(plan, token_weights=tw, regions=regions, layout_boxes=boxes, region_prompts=rps, **vals)


def as_plan(value: Any, field: str = "plan") -> LinaPlan:
    """Accept a LinaPlan, its JSON string, its dict, or an object holding one as ``.plan`` (LINA Plan's output)."""
    if isinstance(value, LinaPlan):
        return value
    if isinstance(getattr(value, "plan", None), LinaPlan):
        return value.plan
    if isinstance(value, (str, bytes)):
        return LinaPlan.from_json(value, field)
    if isinstance(value, dict):
        return LinaPlan.from_dict(value)
    raise PlanError(f"expected a LINA_PLAN (or its JSON), got {type(value).__name__}.", field=field,
                    fix="connect the plan output of LINA Plan.")


def plan_key(plan: LinaPlan) -> str:
    """What a plan does, as a string: its JSON without the free-text ``notes`` and ``source`` (equal keys: equal
    images, so a lever search samples one of them)."""
    d = plan.to_dict()
    for k in ("notes", "source"):
        d.pop(k, None)
    return json.dumps(d, sort_keys=True)


def check_encoder_width(plan: LinaPlan, width: int, field: str = "plan") -> None:
    """A plan bound to one encoder width must not be applied to conditioning of another width."""
    if plan.encoder_width and width != plan.encoder_width:
        raise PlanError(
            f"this plan was built with a text encoder of width {plan.encoder_width}, but the conditioning has "
            f"width {width}.", field=field,
            fix="rebuild the plan with LINA Plan from the same CLIP that encodes this conditioning.")
