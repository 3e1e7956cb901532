"""LINA Plan's work for any host: plan + prompt-space edit of the prompt's conditioning (no ComfyUI import).

A host (ComfyUI's CLIP, a diffusers pipeline's encoders, the PhysWorld encoder) is seen through
``TextEncoderIO``: its tokenizer in ComfyUI's token layout (``{key: batches of [(id, weight), ...]}``,
which ``token_align`` reads) and two encoders, one for a single tensor (``encode``: cond [1, L, D] and
pooled or None) and one for the host's own conditioning list (``conditioning``: ``[[cond, extras]]``).

``build_conditioning`` returns ``LinaConditioning``: the plan, the prompt's conditioning c, the edited
conditioning c' (same entries and keys, tokens moved along the physics subspace on the CSG-aligned
tokens), the structure prompt's conditioning for the first part of the early window, the counterfactual
negative's and one conditioning per region prompt (each None when the plan has no such phase).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import torch

from ..csg.causal_prompt import causal_prompt as render_causal_prompt
from ..csg.model import CSG, as_csg
from ..errors import CSGError, LinaError
from . import regions
from .plan import RANGES, LinaPlan, PlanError, as_plan, check_encoder_width
from .prior import prior_plan
from .prompt_edit import aligned_targets, edit_pooled, edit_tokens
from .structure import resolve_stand_in
from .subspace import CACHE as SUBSPACES
from .subspace import Subspace, fingerprint
from .token_align import align_prompt


class TextEncoderIO(Protocol):
    encoder_id: str

    def tokenize(self, text: str) -> dict: ...

    def encode(self, text: str) -> tuple[torch.Tensor, torch.Tensor | None]: ...

    def conditioning(self, text: str) -> list: ...


@dataclass
class LinaConditioning:
    plan: LinaPlan
    positive: list           # c: [[cond, extras], ...]
    edited: list             # c'
    structure: list | None   # the structure prompt's conditioning, or None
    counterfactual: list | None = None   # the counterfactual negative's conditioning, or None
    regions: list | None = None   # one conditioning per plan.region_prompts entry (same order), or None


def conditioning_width(cond: list, field: str) -> int:
    widths = {int(t.shape[-1]) for t, _ in cond}
    if len(widths) != 1:
        raise LinaError(f"mixes token widths {sorted(widths)}.", field=field)
    return widths.pop()


def encoder_subspace(enc: TextEncoderIO) -> Subspace:
    """The physics / texture subspaces of an encoder, estimated on the fly and cached per encoder."""
    return SUBSPACES.get(enc.encode, enc.encoder_id)


def check_adapter_encoder(adapter, enc: TextEncoderIO) -> None:
    want = getattr(adapter, "fingerprint", None) if adapter is not None else None
    if isinstance(want, str) and want:
        have = fingerprint(enc.encode, enc.encoder_id)
        if have != want:
            raise PlanError(f"the adapter was made for the text encoder {want}, but this one is {have}.",
                            field="adapter", fix="load the adapter trained for this text encoder, or leave the "
                                                 "adapter empty to use the training-free prior.")


def resolve_plan(g: CSG, cp: str, width: int, positive: list, adapter=None, prompt_scale: float = 1.0,
                 latent_scale: float = 1.0, mode: str = "", plan_json: str = "") -> LinaPlan:
    """The plan: an override JSON, else the adapter's prediction over the prior, scaled as LINA Plan's inputs."""
    if (plan_json or "").strip():
        plan = as_plan(plan_json, "override_json")
    else:
        plan = prior_plan(g, cp)
        if adapter is not None and not hasattr(adapter, "plan_overrides"):
            raise LinaError("this adapter object has no plan_overrides(csg, pooled) method.", field="adapter",
                            fix="connect the output of a LINA adapter loader.")
    check_encoder_width(plan, width, field="override_json")
    if adapter is not None and not (plan_json or "").strip():
        plan = plan.updated(**dict(adapter.plan_overrides(g, positive[0][1].get("pooled_output"))), source="adapter")
    changes = {"encoder_width": width}
    if prompt_scale != 1.0:
        changes["prompt_strength"] = min(plan.prompt_strength * prompt_scale, RANGES["prompt_strength"][1])
    if latent_scale != 1.0:
        changes["latent_strength"] = min(plan.latent_strength * latent_scale, RANGES["latent_strength"][1])
    if mode:
        changes["mode"] = mode
    return plan.updated(**changes)


def edit_conditioning(g: CSG, plan: LinaPlan, cp: str, positive: list, enc: TextEncoderIO,
                      sub: Subspace, tokens: dict) -> tuple[list, list[str]]:
    """c' for every entry of ``positive``: tokens aligned to physical nodes move toward the causal completion
    along the physics subspace (pooled too, where there is one). Returns (c', notes)."""
    alpha, notes = plan.prompt_strength, []
    tok_causal = enc.tokenize(cp)
    c_causal, pooled_causal = enc.encode(cp)
    edited = []
    for t, d in positive:
        tw, groups, n = align_prompt(g, plan.token_weights, g.prompt, cp, tokens, tok_causal, enc.tokenize,
                                     t.shape[1], c_causal.shape[1])
        notes += [x for x in n if x not in notes]
        targets = aligned_targets(t, c_causal.to(t.device), groups)
        am = d.get("attention_mask")
        t2 = edit_tokens(t, targets, torch.tensor(tw), sub.project, alpha,
                         attention_mask=am if isinstance(am, torch.Tensor) else None)
        d2 = d.copy()
        if isinstance(d.get("pooled_output"), torch.Tensor):
            wmax = max(plan.token_weights.values() or [0.0])
            d2["pooled_output"] = edit_pooled(d["pooled_output"], pooled_causal, sub.project_pooled, alpha, wmax)
        edited.append([t2, d2])
    notes.append(f"subspace {sub.fingerprint}: {sub.P.shape[0]} physics / {sub.T.shape[0]} texture directions")
    return edited, notes


def _phase_conditioning(enc: TextEncoderIO, plan: LinaPlan, phase: str, width: int) -> list | None:
    """The encoding of the plan's ``<phase>_prompt`` when its ``<phase>_share`` is on (structure, counterfactual)."""
    text = getattr(plan, f"{phase}_prompt")
    if not text.strip() or getattr(plan, f"{phase}_share") <= 0.0:
        return None
    return _encode_at_width(enc, text, width, f"plan.{phase}_prompt", f"the {phase} prompt")


def _encode_at_width(enc: TextEncoderIO, text: str, width: int, field: str, what: str) -> list:
    """``text`` encoded by the host; a PlanError naming ``field`` when its width is not the prompt's."""
    cond = enc.conditioning(text)
    if conditioning_width(cond, field) != width:
        raise PlanError(f"{what} encodes to another width than the prompt.", field=field)
    return cond


def _region_conditioning(enc: TextEncoderIO, plan: LinaPlan, width: int) -> list | None:
    """One encoding per region prompt when the plan's region phase is on (``regions.py``)."""
    if not regions.active(plan):
        return None
    return [_encode_at_width(enc, r.text, width, f"plan.region_prompts[{i}].text", "the region prompt")
            for i, r in enumerate(plan.region_prompts)]


def build_conditioning(csg, enc: TextEncoderIO, adapter=None, prompt_scale: float = 1.0, latent_scale: float = 1.0,
                       mode: str = "", plan_json: str = "", plan_changes: dict | None = None) -> LinaConditioning:
    """Plan, c, c' and the structure prompt's conditioning for a CSG on a host's text encoder.
    ``plan_changes``: plan fields set after the prior / adapter / override (validated), before encoding."""
    g = as_csg(csg)
    if not g.prompt.strip():
        raise CSGError("the graph has no prompt text to encode.", field="csg.prompt",
                       fix="parse a prompt with LINA CSG Parse, or set \"prompt\" in the CSG JSON.")
    cp = render_causal_prompt(g)
    tokens = enc.tokenize(g.prompt)
    positive = enc.conditioning(g.prompt)
    width = conditioning_width(positive, "clip")
    check_adapter_encoder(adapter, enc)
    plan = resolve_plan(g, cp, width, positive, adapter, prompt_scale, latent_scale, mode, plan_json)
    if plan_changes:
        plan = plan.updated(**plan_changes)
    plan = resolve_stand_in(plan)
    if plan.prompt_strength == 0.0:
        # no prompt edit: c' is the causal completion itself (the latent term then guides toward it)
        edited = enc.conditioning(cp) if plan.latent_strength else [[t, d.copy()] for t, d in positive]
        notes = ["prompt strength 0: lina_positive is the encoded causal completion"]
    else:
        sub = getattr(adapter, "subspace", None) if adapter is not None else None
        if sub is None:
            sub = encoder_subspace(enc)
        elif getattr(sub, "width", width) != width:
            raise PlanError(f"the adapter's physics subspace has width {sub.width}, this encoder has width {width}.",
                            field="adapter", fix="use an adapter trained for this text encoder.")
        edited, notes = edit_conditioning(g, plan, cp, positive, enc, sub, tokens)
    plan = plan.updated(notes=tuple(plan.notes) + tuple(notes))
    structure = _phase_conditioning(enc, plan, "structure", width)
    counterfactual = _phase_conditioning(enc, plan, "counterfactual", width)
    return LinaConditioning(plan, positive, edited, structure, counterfactual, _region_conditioning(enc, plan, width))


def encoder_io(tokenize: Callable[[str], dict], encode, conditioning, encoder_id: str) -> TextEncoderIO:
    """A ``TextEncoderIO`` from three functions (for hosts that are not objects)."""
    from types import SimpleNamespace

    return SimpleNamespace(tokenize=tokenize, encode=encode, conditioning=conditioning, encoder_id=encoder_id)
