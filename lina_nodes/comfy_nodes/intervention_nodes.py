"""LINA interventions at sampling time: LINA Plan, LINA Guider, LINA Model Patch, LINA Sampler (schemas only).

Data flows one way: CSG -> plan (+ edited CONDITIONING c') -> guider / model patch / schedule -> sampler.
The work is done in ``lina_nodes.inprocess`` (plan building, the model patch that LINA Guider and LINA
Sampler reuse, the window, the one sampling routine) on the pure math of ``lina_nodes.intervention``.
"""
from __future__ import annotations

import comfy.samplers
from comfy_api.latest import io

from ..inprocess.conditioning import check_conditioning, check_pair
from ..inprocess.guider import LinaCFGGuider
from ..inprocess.model_patch import patch_model
from ..inprocess.plan_build import build_plan
from ..inprocess.sampling import sample_latent
from ..inprocess.sigmas import causal_sigmas
from ..intervention.plan import as_plan
from ..intervention.lever_inputs import lever_changes
from ..security import require_finite
from .types import AdapterType, CSGType, PlanType


# ---- nodes --------------------------------------------------------------------------------------

def _plan_in(optional=False):
    return PlanType.Input("plan", optional=optional,
                          tooltip="The LINA plan from LINA Plan: strengths, early window, decay and CSG masks.")


def _mask_in():
    return io.Mask.Input("mask", optional=True,
                         tooltip="Optional extra mask multiplied into the plan's CSG layout mask, at the size of the "
                                 "image you sample (any size with the same aspect ratio; one mask, one per batch item "
                                 "or one per frame).")


PLAN_MODE = "from plan"   # LINA Plan's mode option that keeps the mode the plan was built with


class PlanNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LINAPlan",
            display_name="LINA Plan",
            category="LINA/intervention",
            description=(
                "Build the LINA intervention for one prompt from its Causal Scene Graph: the plan (prompt-space "
                "strength and token weights, latent guidance strength and decay, early window, early share of "
                "steps, CSG masks), the prompt's own conditioning, and the edited conditioning c' (causal "
                "completion, edited along the encoder's physics subspace on the tokens of physical nodes only). "
                "When the prompt places an object by a relation and also names a texture-only ground (\"close "
                "to the water and in the sand\"), the first half of the early window is conditioned on the prompt "
                "without the ground phrase (the structure prompt), so the relation sets the layout. "
                "Without an adapter the documented training-free prior is used."
            ),
            is_output_node=True,
            inputs=[
                CSGType.Input("csg", tooltip="The Causal Scene Graph of the prompt (LINA CSG Parse / From JSON). Its "
                                             "prompt text is what gets encoded."),
                io.Clip.Input("clip", tooltip="Your text encoder: the same CLIP that encodes the prompt for the "
                                              "sampler. The physics subspace is estimated with it and cached."),
                io.Float.Input("prompt_scale", default=1.0, min=0.0, max=4.0, step=0.05,
                               tooltip="Multiplies the plan's prompt-space strength alpha (0 = no prompt edit)."),
                io.Float.Input("latent_scale", default=1.0, min=0.0, max=10.0, step=0.05,
                               tooltip="Multiplies the plan's latent guidance strength lambda_0 (0 = no latent "
                                       "guidance)."),
                io.Combo.Input("mode", options=["add", "substitute", PLAN_MODE], default="add",
                               tooltip="add: D_cfg + lambda * mask * (D(c') - D(c)) in the early window (one extra "
                                       "model evaluation per early step). substitute: use c' instead of c in the early "
                                       "window (no extra evaluation, no mask). from plan: the mode the adapter (or "
                                       "the override JSON, or the prior: add) chose for this prompt."),
                AdapterType.Input("adapter", optional=True,
                                  tooltip="Optional learned LINA adapter; without it the training-free prior is used."),
                io.String.Input("override_json", default="", multiline=True, optional=True,
                                tooltip="Optional plan JSON (from a previous run or an API caller) used instead of the "
                                        "prior; it is validated, and must match this encoder's width."),
                io.Float.Input("region_strength", default=0.0, min=0.0, max=4.0, step=0.1, optional=True,
                               tooltip="Region prompts: each object the prompt names conditions its CSG layout box "
                                       "(ConditioningSetMask, derived automatically) through 0.9 of the early window, "
                                       "at this mask strength; one extra model evaluation per object and early step. "
                                       "0 = the plan's own (off in the prior; an adapter turns it on where it learned "
                                       "it helps)."),
                io.Boolean.Input("shape_stand_in", default=False, optional=True,
                                 tooltip="Shape stand-in: through 0.9 of the early window (or the plan's own, shorter "
                                         "structure phase) the layout is formed with each "
                                         "shape that has a stand-in drawn as it (a cone, cube or ball as a "
                                         "cylinder; table deferrals.json), then the full prompt shapes it. No extra evaluation. Off = "
                                         "the plan's own (off in the prior; an adapter turns it on where it learned "
                                         "it helps)."),
            ],
            outputs=[
                PlanType.Output("plan", tooltip="The plan, for LINA Guider, LINA Model Patch and LINA Causal Scheduler; "
                                                "it also carries the encodings of the plan's structure prompt, "
                                                "counterfactual negative and region prompts, when it has them."),
                io.Conditioning.Output("positive", tooltip="The prompt encoded as CLIPTextEncode would (c)."),
                io.Conditioning.Output("lina_positive", tooltip="The edited conditioning c' (same shape and keys as c)."),
                io.String.Output("plan_json", tooltip="The plan as JSON (for API callers and for editing)."),
            ],
        )

    @classmethod
    def execute(cls, csg, clip, prompt_scale=1.0, latent_scale=1.0, mode="add", adapter=None,
                override_json="", region_strength=0.0, shape_stand_in=False) -> io.NodeOutput:
        changes = lever_changes(region_strength, shape_stand_in)
        plan, pos, lpos = build_plan(csg, clip, adapter, float(prompt_scale), float(latent_scale),
                                     "" if mode == PLAN_MODE else mode, override_json or "", plan_changes=changes)
        text = as_plan(plan).to_json(indent=1)
        return io.NodeOutput(plan, pos, lpos, text, ui={"text": [text]})


class GuiderNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LINAGuider",
            display_name="LINA Guider",
            category="LINA/intervention",
            description=(
                "A CFG guider with LINA's latent-space intervention: in the early, structure-forming window only, "
                "adds lambda(sigma) * M * (D(c') - D(c)), masked by the CSG layout, with lambda decaying to 0 at the "
                "window end. Plain CFG afterwards. For SamplerCustomAdvanced; image and video latents."
            ),
            inputs=[
                io.Model.Input("model", tooltip="The diffusion model (any family ComfyUI samples)."),
                io.Conditioning.Input("positive", tooltip="The prompt's conditioning c (LINA Plan's positive or your own "
                                                          "text encode of the same prompt)."),
                io.Conditioning.Input("negative", tooltip="The negative conditioning, as for CFGGuider."),
                io.Conditioning.Input("lina_positive", tooltip="The edited conditioning c' from LINA Plan."),
                _plan_in(),
                io.Float.Input("cfg", default=5.0, min=0.0, max=100.0, step=0.1, round=0.01,
                               tooltip="Classifier-free guidance scale, as in CFGGuider. At cfg 1 (guidance-distilled "
                                       "models such as FLUX) the negative is skipped and only the LINA term is added."),
                _mask_in(),
            ],
            outputs=[io.Guider.Output(tooltip="For SamplerCustomAdvanced.")],
        )

    @classmethod
    def execute(cls, model, positive, negative, lina_positive, plan, cfg, mask=None) -> io.NodeOutput:
        check_pair(positive, lina_positive, as_plan(plan))
        check_conditioning(negative, "negative")
        g = LinaCFGGuider(model, plan, lina_positive, mask)
        g.set_conds(positive, negative)
        g.set_cfg(require_finite(cfg, "cfg", lo=0.0, hi=100.0))
        return io.NodeOutput(g)


class ModelPatchNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LINAModelPatch",
            display_name="LINA Model Patch",
            category="LINA/intervention",
            description=(
                "Patch a MODEL with LINA's early-window latent guidance toward c', for the stock KSampler / "
                "KSamplerAdvanced and for Wan 2.2's two-expert graphs (patch the high-noise model). Composes with "
                "other packs' patches (post-CFG list and keyed wrappers)."
            ),
            inputs=[
                io.Model.Input("model", tooltip="The diffusion model to patch (it is cloned, never changed)."),
                io.Conditioning.Input("lina_positive", tooltip="The edited conditioning c' from LINA Plan. Give the "
                                                               "sampler LINA Plan's positive (c) as its positive."),
                _plan_in(),
                _mask_in(),
            ],
            outputs=[io.Model.Output(tooltip="The patched model.")],
        )

    @classmethod
    def execute(cls, model, lina_positive, plan, mask=None) -> io.NodeOutput:
        check_pair(None, lina_positive, as_plan(plan))
        return io.NodeOutput(patch_model(model, plan, lina_positive, mask))


class SamplerNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LINASampler",
            display_name="LINA Sampler",
            category="LINA/intervention",
            description=(
                "All of LINA in one node: from a CSG it builds the plan and c' with your CLIP, then samples with the "
                "LINA guider on the plan's causal schedule. Same number of steps as your settings; one extra model "
                "evaluation per step inside the early window only."
            ),
            inputs=[
                io.Model.Input("model", tooltip="The diffusion model."),
                io.Clip.Input("clip", tooltip="The text encoder that goes with the model."),
                CSGType.Input("csg", tooltip="The prompt's Causal Scene Graph (LINA CSG Parse); its prompt is the "
                                             "positive prompt."),
                io.Latent.Input("latent_image", tooltip="The latent to sample (empty image or video latent)."),
                io.String.Input("negative", default="", multiline=True, tooltip="Negative prompt text."),
                io.Int.Input("seed", default=0, min=0, max=0xFFFFFFFFFFFFFFFF, control_after_generate=True,
                             tooltip="Noise seed."),
                io.Int.Input("steps", default=20, min=2, max=10000, tooltip="Number of sampling steps."),
                io.Float.Input("cfg", default=5.0, min=0.0, max=100.0, step=0.1, round=0.01,
                               tooltip="Classifier-free guidance scale."),
                io.Combo.Input("sampler_name", options=comfy.samplers.SAMPLER_NAMES, default="euler",
                               tooltip="The sampler."),
                io.Combo.Input("scheduler", options=comfy.samplers.SCHEDULER_NAMES, default="simple",
                               tooltip="Base scheduler; the plan's early share of steps is reallocated on it."),
                io.Float.Input("latent_scale", default=1.0, min=0.0, max=10.0, step=0.05,
                               tooltip="Multiplies the plan's latent guidance strength."),
                io.Float.Input("prompt_scale", default=1.0, min=0.0, max=4.0, step=0.05,
                               tooltip="Multiplies the plan's prompt-space strength."),
            ],
            outputs=[io.Latent.Output(tooltip="The sampled latent."),
                     PlanType.Output("plan", tooltip="The plan that was used.")],
        )

    @classmethod
    def execute(cls, model, clip, csg, latent_image, negative, seed, steps, cfg, sampler_name, scheduler,
                latent_scale=1.0, prompt_scale=1.0) -> io.NodeOutput:
        plan, pos, lpos = build_plan(csg, clip, None, float(prompt_scale), float(latent_scale))
        neg = clip.encode_from_tokens_scheduled(clip.tokenize(negative or ""))
        _, sigmas = causal_sigmas(model, scheduler, int(steps), plan.plan.window_end, plan.plan.early_share, 1.0)
        guider = LinaCFGGuider(model, plan, lpos)
        guider.set_conds(pos, neg)
        guider.set_cfg(require_finite(cfg, "cfg", lo=0.0, hi=100.0))
        out = sample_latent(guider, latent_image, sigmas, sampler_name, int(seed))
        return io.NodeOutput(out, as_plan(plan))


NODES = [PlanNode, GuiderNode, ModelPatchNode, SamplerNode]
