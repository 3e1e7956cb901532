"""LINA Plan's outputs for a ComfyUI CLIP: the core's ``build_conditioning`` seen through the CLIP."""
from __future__ import annotations

from ..errors import LinaError
from ..intervention.conditioning_edit import build_conditioning
from ..intervention.conditioning_edit import encoder_subspace as _subspace
from .conditioning import PhasedPlan, check_conditioning


class ClipIO:
    """A ComfyUI CLIP as the core's ``TextEncoderIO``."""

    def __init__(self, clip):
        if clip is None or not hasattr(clip, "tokenize"):
            raise LinaError("no text encoder connected.", field="clip",
                            fix="connect the CLIP output of your checkpoint or CLIP loader (the one that encodes "
                                "the prompt).")
        self.clip = clip
        csm, tok = getattr(clip, "cond_stage_model", None), getattr(clip, "tokenizer", None)
        self.encoder_id = f"{type(csm).__name__}/{type(tok).__name__}"

    def tokenize(self, text: str) -> dict:
        return self.clip.tokenize(text)

    def encode(self, text: str):
        d = self.clip.encode_from_tokens(self.clip.tokenize(text), return_pooled=True, return_dict=True)
        return d["cond"], d.get("pooled_output")

    def conditioning(self, text: str) -> list:
        return self.clip.encode_from_tokens_scheduled(self.clip.tokenize(text))


def encoder_subspace(clip):
    """The physics / texture subspaces of a CLIP, estimated on the fly and cached per encoder."""
    return _subspace(ClipIO(clip))


def build_plan(csg, clip, adapter=None, prompt_scale: float = 1.0, latent_scale: float = 1.0, mode: str = "",
               plan_json: str = "", plan_changes: dict | None = None):
    """(plan, positive, lina_positive): the plan as a ``PhasedPlan`` (with the structure prompt's, the
    counterfactual negative's and the region prompts' encodings when it has those phases), c, and c'."""
    lc = build_conditioning(csg, ClipIO(clip), adapter, prompt_scale, latent_scale, mode, plan_json, plan_changes)
    check_conditioning(lc.positive, "clip")
    return (PhasedPlan(lc.plan, lc.structure, lc.counterfactual, lc.regions), lc.positive,
            lc.edited)
