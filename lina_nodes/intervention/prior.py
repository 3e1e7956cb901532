"""The documented training-free prior: CSG -> LinaPlan without a learned adapter. [ours]

Rules (every number below is a prior, to be replaced by an adapter's prediction when one is linked):

* Node weights (where the intervention acts, in the prompt and in the latent):
  implied nodes (hop >= 1: reflection, shadow, contact, fill...) 1.0; explicit nodes that cause an
  implied node or take part in a causal edge 0.6; explicit endpoints of a spatial, action or
  comparative edge 0.5; other nodes 0 (pure texture carriers are left alone). Negated nodes get 0.
* With no node of positive weight (an empty graph, or a single object with no relation) the plan is
  a documented no-op: both strengths are 0 and ``notes`` says why.
* Otherwise, with h = the deepest hop (capped at 2): prompt strength alpha = 0.5 + 0.25 h,
  latent strength lambda_0 = 1.0 + 0.5 h, linear decay (1.0), early share rho = 0.35 + 0.05 h,
  window end beta = 0 (auto: the model family's structure knee, resolved where the model is known).
* Regions: the layout box of every weighted node with a box; mask floor 0.25 outside the regions
  (1.0, i.e. unmasked, when no weighted node has a box).
* Layout boxes (``layout_focus.py``): the boxes of the nodes that should hold content; the layout focus
  itself is off in the prior (strength 0): a learned adapter decides where it helps.
* Structure prompt (``structure.py``): when the prompt places a subject by a relation and also names
  a texture-only ground (sand, grass, snow...), the first half of the early window (structure share
  0.5) is conditioned on the prompt without the ground phrase; when it names a fine placement on a
  small reference ("at the edge of a small mirror"), the first 0.8 of the window on the coarse one
  ("near a small mirror"); the smaller share when both apply; otherwise the share is 0.
* Counterfactual negative (``counterfactual.py``): the text with each action's roles reversed is filled in,
  but its share is 0 in the prior: a learned adapter decides where guiding away from it helps.
* Region prompts (``regions.py``): each explicit object's phrase and box is filled in, with strength 0 in the
  prior (each region costs an evaluation per step of its phase): a learned adapter decides where it helps.
"""
from __future__ import annotations

from ..csg.model import CSG
from ..errors import CSGError
from ..intervention.schedule import DEFAULT_RHO
from .counterfactual import counterfactual_prompt
from .layout_focus import layout_boxes
from .plan import LinaPlan, Region, validate
from .regions import region_prompts
from .structure import stand_in_prompt, structure_plan

W_IMPLIED = 1.0
W_CAUSE = 0.6
W_RELATED = 0.5
MASK_FLOOR = 0.25


def node_weights(g: CSG) -> dict[str, float]:
    """Per-node weight of the intervention (see the module docstring)."""
    w = {n.id: 0.0 for n in g.nodes}
    ids = set(w)
    for n in g.nodes:
        if n.negated:
            continue
        if not n.explicit or n.hop >= 1:
            w[n.id] = W_IMPLIED
            owner = n.physics.get("of")
            if owner in ids:
                w[owner] = max(w[owner], W_CAUSE)
    for e in g.edges:
        if e.src not in ids or e.dst not in ids:
            raise CSGError(f"edge {e.src!r} -> {e.dst!r} names a node that is not in the graph.", field="csg.edges",
                           fix="rebuild the graph with LINA CSG Parse, or fix the edge in the JSON.")
        wt = W_CAUSE if e.kind == "causal" else W_RELATED
        for nid in (e.src, e.dst):
            w[nid] = max(w[nid], wt)
    for n in g.nodes:
        if n.negated:
            w[n.id] = 0.0
    return w


def plan_hop(g: CSG, weights: dict) -> int:
    """The deepest hop of a node with positive weight, capped at 2 (0 when none)."""
    return min(max([n.hop for n in g.nodes if weights.get(n.id, 0.0) > 0] + [0]), 2)


def hop_strengths(hop: int) -> dict:
    """The prior's strengths, decay and early share for a graph of deepest hop ``hop``."""
    return {"prompt_strength": 0.5 + 0.25 * hop, "latent_strength": 1.0 + 0.5 * hop, "latent_decay": 1.0,
            "early_share": round(min(DEFAULT_RHO + 0.05 * hop, 0.95), 4)}


def prior_plan(g: CSG, causal_prompt: str = "") -> LinaPlan:
    """Training-free plan for a CSG."""
    if not isinstance(g, CSG):
        raise CSGError(f"expected a CSG, got {type(g).__name__}.", field="csg",
                       fix="connect the csg output of LINA CSG Parse.")
    weights = node_weights(g)
    active = {k: v for k, v in weights.items() if v > 0}
    if not active:
        why = "empty graph" if not g.nodes else "no physical node or relation in the graph"
        return validate(LinaPlan(prompt_strength=0.0, token_weights=weights, latent_strength=0.0,
                                 early_share=DEFAULT_RHO, mask_floor=1.0, prompt=g.prompt,
                                 causal_prompt=causal_prompt, notes=(f"no-op: {why}",), source="prior"))
    regions = tuple(Region(node=n.id, box=tuple(n.box), weight=weights[n.id])
                    for n in g.nodes if n.id in active and n.box is not None)
    notes = [] if regions else ["no layout boxes: latent guidance is unmasked"]
    sp, share, deferred = structure_plan(g)
    if deferred:
        notes.append(f"structure prompt defers {', '.join(deferred)}")
    return validate(LinaPlan(
        **hop_strengths(plan_hop(g, weights)),
        token_weights=weights,
        window_end=0.0,
        mode="add",
        regions=regions,
        mask_floor=MASK_FLOOR if regions else 1.0,
        structure_prompt=sp,
        structure_share=share,
        layout_boxes=layout_boxes(g),
        counterfactual_prompt=counterfactual_prompt(g),
        region_prompts=region_prompts(g),
        stand_in_prompt=stand_in_prompt(g, sp),
        prompt=g.prompt,
        causal_prompt=causal_prompt,
        notes=tuple(notes),
        source="prior",
    ))
