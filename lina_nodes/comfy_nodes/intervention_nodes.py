"""LINA interventions at sampling time: LINA Plan, LINA Guider, LINA Model Patch, LINA Sampler.

Data flows one way: CSG -> plan (+ edited CONDITIONING c') -> guider / model patch / schedule -> sampler.
The math lives in ``lina_nodes.intervention`` (no ComfyUI import); this module is the ComfyUI glue:

* ``LinaGuider`` (a CFGGuider): inside the early window it evaluates c, the negative and c' in one batch
  and returns D_cfg + lambda(sigma) * M_lat * (D(c') - D(c)); outside it is plain CFG.
* ``patch_model``: a clone of the MODEL with a keyed OUTER_SAMPLE wrapper that adds c' to whatever
  guider samples it (KSampler, KSamplerAdvanced, SamplerCustom[Advanced]) and a post-CFG function
  (a composable list) that adds the same term. In "substitute" mode a keyed PREDICT_NOISE wrapper swaps
  c' for c inside the window instead (zero extra model evaluations, unmasked).
Neither touches the single-slot sampler_cfg_function or model_function_wrapper.
"""
from __future__ import annotations

import logging
import math
import uuid

import comfy.model_management
import comfy.patcher_extension
import comfy.sample
import comfy.sampler_helpers
import comfy.samplers
import comfy.utils
import torch
from comfy_api.latest import io

from ..csg.causal_prompt import causal_prompt as render_causal_prompt
from ..csg.model import CSG
from ..errors import CSGError, LinaError
from ..intervention import latent_guidance as lg
from ..intervention.plan import LinaPlan, PlanError, as_plan, check_encoder_width
from ..intervention.prior import prior_plan
from ..intervention.prompt_edit import aligned_targets, edit_pooled, edit_tokens
from ..intervention.subspace import CACHE as SUBSPACES
from ..intervention.subspace import fingerprint
from ..intervention.token_align import align_prompt
from ..schedule import knee_for_family
from .scheduler import causal_sigmas, model_family

log = logging.getLogger("lina")

PlanType = io.Custom("LINA_PLAN")
CSGType = io.Custom("LINA_CSG")
AdapterType = io.Custom("LINA_ADAPTER")


# ---- validation ---------------------------------------------------------------------------------

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
    d = check_conditioning(positive, "positive") if positive is not None else None
    d2 = check_conditioning(lina_positive, "lina_positive")
    if d is not None and d != d2:
        raise PlanError(f"lina_positive has width {d2} but positive has width {d}: they come from different text "
                        "encoders.", field="lina_positive",
                        fix="build the plan with LINA Plan from the same CLIP that encodes the positive prompt.")
    check_encoder_width(plan, d2, field="plan")


def window(model, plan: LinaPlan) -> tuple[float, float, float]:
    """(sigma_max, sigma_beta, beta) of the early window for a MODEL."""
    ms = model.get_model_object("model_sampling")
    beta = plan.window_end if plan.window_end > 0 else knee_for_family(model_family(model))
    sigma_beta = float(ms.percent_to_sigma(beta))
    sigma_max = float(ms.sigma_max)  # percent_to_sigma(0) is a sentinel (1e9) for eps models
    if not (math.isfinite(sigma_beta) and math.isfinite(sigma_max) and 0 < sigma_beta < sigma_max):
        raise PlanError(f"window_end={beta:g} maps to sigma {sigma_beta:g}, outside this model's range "
                        f"(0, {sigma_max:g}).", field="plan.window_end", fix="use a window_end between 0.02 and 0.9.")
    return sigma_max, sigma_beta, beta


def _sigma_of(timestep) -> float:
    return float(timestep.flatten()[0]) if isinstance(timestep, torch.Tensor) else float(timestep)


class _Masker:
    """M_lat per latent shape (cached), on the latent's device and dtype."""

    def __init__(self, plan: LinaPlan, user_mask):
        self.plan, self.user_mask, self._cache = plan, user_mask, {}

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        key = (tuple(x.shape), x.device, x.dtype)
        if key not in self._cache:
            self._cache = {key: lg.latent_mask(self.plan, x.shape, self.user_mask, device=x.device, dtype=x.dtype)}
        return self._cache[key]


# ---- GUIDER -------------------------------------------------------------------------------------

EDIT_KEY = "lina_positive"
STRUCTURE_KEY = "lina_structure"
PHASE_KEY = "lina_phase"


class LinaGuider(comfy.samplers.CFGGuider):
    """CFG plus LINA's early-window latent guidance toward c' (after the structure phase, when the plan has one)."""

    def __init__(self, model_patcher, plan: LinaPlan, user_mask=None):
        super().__init__(model_patcher)
        self.plan = plan
        self.sigma_max, self.sigma_beta, self.beta = window(model_patcher, plan)
        self.sigma_structure = structure_sigma(model_patcher, plan, self.beta)
        self.masker = _Masker(plan, user_mask)
        self.dropped = 0

    def set_conds(self, positive, negative, lina_positive=None):
        conds = {"positive": positive, "negative": negative}
        if lina_positive is not None:
            structure, full = split_phases(lina_positive)
            if full:
                conds[EDIT_KEY] = full
            if structure and self.sigma_structure is not None:
                conds[STRUCTURE_KEY] = structure
        self.inner_set_conds(conds)

    def lam(self, timestep) -> float:
        p = self.plan
        return lg.lambda_at(_sigma_of(timestep), self.sigma_max, self.sigma_beta, p.latent_strength, p.latent_decay)

    def predict_noise(self, x, timestep, model_options=None, seed=None):
        model_options = {} if model_options is None else model_options
        edited = self.conds.get(EDIT_KEY)
        lam = self.lam(timestep) if edited is not None else 0.0
        pos, neg = self.conds.get("positive"), self.conds.get("negative")
        structure = self.conds.get(STRUCTURE_KEY)
        if structure is not None and _sigma_of(timestep) > self.sigma_structure:   # the structure phase: substitute
            return comfy.samplers.sampling_function(self.inner_model, x, timestep, neg, structure, self.cfg,
                                                    model_options=model_options, seed=seed)
        if lam == 0.0:
            return super().predict_noise(x, timestep, model_options, seed)
        if self.plan.mode == "substitute":
            return comfy.samplers.sampling_function(self.inner_model, x, timestep, neg, edited, self.cfg,
                                                    model_options=model_options, seed=seed)
        skip_uncond = math.isclose(self.cfg, 1.0) and not model_options.get("disable_cfg1_optimization", False)
        uncond = None if skip_uncond else neg
        raw = comfy.samplers.calc_cond_batch(self.inner_model, [pos, uncond, edited], x, timestep, model_options)
        conds, out = [pos, uncond], list(raw[:2])  # other packs' pre-CFG hooks see the usual [cond, uncond]
        for fn in model_options.get("sampler_pre_cfg_function", []):
            out = fn({"conds": conds, "conds_out": out, "cond_scale": self.cfg, "timestep": timestep, "input": x,
                      "sigma": timestep, "model": self.inner_model, "model_options": model_options})
        d_cfg = comfy.samplers.cfg_function(self.inner_model, out[0], out[1], self.cfg, x, timestep,
                                            model_options=model_options, cond=pos, uncond=uncond)
        res, bad = lg.combine(d_cfg, raw[0], raw[2], lam, self.masker(x))
        self.dropped += bad
        return res


# ---- MODEL patch --------------------------------------------------------------------------------

def patch_model(model, plan: LinaPlan, lina_positive, user_mask=None):
    """A clone of ``model`` carrying the plan's early window: the structure phase (positive replaced by the
    structure prompt), then guidance toward c' (add: a post-CFG term; substitute: c' replaces c)."""
    sigma_max, sigma_beta, beta = window(model, plan)
    m = model.clone()
    structure, full = split_phases(lina_positive)
    sigma_s = structure_sigma(model, plan, beta) if structure else None
    if plan.latent_strength == 0.0 and sigma_s is None:
        return m  # documented no-op
    key = f"lina_{uuid.uuid4().hex[:12]}"
    key_s = key + "_structure"
    masker = _Masker(plan, user_mask)
    full_converted = comfy.sampler_helpers.convert_cond(full) if full else None
    structure_converted = comfy.sampler_helpers.convert_cond(structure) if sigma_s is not None else None

    def lam_of(sigma) -> float:
        return lg.lambda_at(_sigma_of(sigma), sigma_max, sigma_beta, plan.latent_strength, plan.latent_decay)

    def in_structure(sigma) -> bool:
        return sigma_s is not None and _sigma_of(sigma) > sigma_s

    def outer_sample(executor, *args, **kwargs):
        guider = executor.class_obj
        conds = getattr(guider, "conds", None)
        if not isinstance(conds, dict) or not isinstance(getattr(guider, "model_options", None), dict):
            return executor(*args, **kwargs)
        for k, cv in ((key, full_converted), (key_s, structure_converted)):
            if cv is not None:
                conds[k] = [c.copy() for c in cv]
        guider.model_options[key] = guider  # this run's options clone: post-CFG finds c' through it
        try:
            return executor(*args, **kwargs)
        finally:
            guider.model_options.pop(key, None)
            if isinstance(getattr(guider, "conds", None), dict):
                guider.conds.pop(key, None)
                guider.conds.pop(key_s, None)

    def predict_noise(executor, x, timestep, model_options=None, seed=None):
        """Swap the positive for this step: the structure prompt in the structure phase, c' in substitute mode."""
        conds = getattr(executor.class_obj, "conds", None)
        swap = None
        if isinstance(conds, dict) and "positive" in conds:
            if in_structure(timestep):
                swap = key_s
            elif plan.mode == "substitute" and lam_of(timestep) != 0.0:
                swap = key
        if swap is None or swap not in conds:
            return executor(x, timestep, model_options, seed)
        orig = conds["positive"]
        conds["positive"] = conds[swap]
        try:
            return executor(x, timestep, model_options, seed)
        finally:
            conds["positive"] = orig

    m.add_wrapper_with_key(comfy.patcher_extension.WrappersMP.OUTER_SAMPLE, key, outer_sample)
    if plan.mode == "substitute" or sigma_s is not None:
        m.add_wrapper_with_key(comfy.patcher_extension.WrappersMP.PREDICT_NOISE, key, predict_noise)
    if plan.mode == "substitute" or plan.latent_strength == 0.0:
        return m

    def post_cfg(args):
        denoised = args["denoised"]
        lam = lam_of(args["sigma"])
        if lam == 0.0 or in_structure(args["sigma"]):
            return denoised
        mo = args["model_options"]
        guider = mo.get(key)
        edited = getattr(guider, "conds", {}).get(key) if guider is not None else None
        if edited is None or args.get("cond_denoised") is None:
            return denoised  # not sampled through a guider (documented no-op)
        x, sigma = args["input"], args["sigma"]
        d_edit = comfy.samplers.calc_cond_batch(args["model"], [edited], x, sigma, mo)[0]
        return lg.combine(denoised, args["cond_denoised"], d_edit, lam, masker(x))[0]

    m.set_model_sampler_post_cfg_function(post_cfg)
    return m


# ---- plan building (CSG + CLIP) -----------------------------------------------------------------

def _as_csg(value) -> CSG:
    if isinstance(value, CSG):
        return value
    if isinstance(value, (str, bytes)):
        return CSG.from_json(value)
    raise CSGError(f"expected a LINA_CSG, got {type(value).__name__}.", field="csg",
                   fix="connect the csg output of LINA CSG Parse or LINA CSG From JSON.")


def _encoder_id(clip) -> str:
    csm = getattr(clip, "cond_stage_model", None)
    tok = getattr(clip, "tokenizer", None)
    return f"{type(csm).__name__}/{type(tok).__name__}"


def _encode(clip, text: str):
    d = clip.encode_from_tokens(clip.tokenize(text), return_pooled=True, return_dict=True)
    return d["cond"], d.get("pooled_output")


def encoder_subspace(clip):
    """The physics / texture subspaces of a CLIP, estimated on the fly and cached per encoder."""
    return SUBSPACES.get(lambda text: _encode(clip, text), _encoder_id(clip))


def build_plan(csg, clip, adapter=None, prompt_scale: float = 1.0, latent_scale: float = 1.0, mode: str = "",
               plan_json: str = ""):
    """Returns (plan, positive, lina_positive). With a structure prompt in the plan, lina_positive holds
    the encoded structure prompt (tagged ``lina_phase: structure``) and c' (``lina_phase: full``); the
    Guider / Model Patch condition on the structure prompt until progress structure_share * window end
    (``split_phases``), then follow the plan's mode with c'."""
    plan, positive, lina_positive = _build_plan(csg, clip, adapter, prompt_scale, latent_scale, mode, plan_json)
    if not (plan.structure_prompt.strip() and plan.structure_share > 0.0):
        return plan, positive, lina_positive
    structure = [[t, {**d, PHASE_KEY: "structure"}] for t, d in
                 clip.encode_from_tokens_scheduled(clip.tokenize(plan.structure_prompt))]
    if check_conditioning(structure, "plan.structure_prompt") != check_conditioning(lina_positive, "lina_positive"):
        raise PlanError("the structure prompt encodes to another width than the prompt.", field="plan.structure_prompt")
    return plan, positive, structure + [[t, {**d, PHASE_KEY: "full"}] for t, d in lina_positive]


def split_phases(lina_positive) -> tuple[list, list]:
    """(structure entries, c' entries) of LINA Plan's lina_positive; untagged entries count as c'."""
    structure, full = [], []
    for t, d in lina_positive:
        (structure if isinstance(d, dict) and d.get(PHASE_KEY) == "structure" else full).append([t, d])
    return structure, full


def structure_sigma(model, plan: LinaPlan, beta: float) -> float | None:
    """Sigma where the structure phase ends (progress structure_share * beta); None without one."""
    if not (plan.structure_prompt.strip() and plan.structure_share > 0.0):
        return None
    return float(model.get_model_object("model_sampling").percent_to_sigma(plan.structure_share * beta))


def _build_plan(csg, clip, adapter=None, prompt_scale: float = 1.0, latent_scale: float = 1.0, mode: str = "",
                plan_json: str = ""):
    g = _as_csg(csg)
    if not g.prompt.strip():
        raise CSGError("the graph has no prompt text to encode.", field="csg.prompt",
                       fix="parse a prompt with LINA CSG Parse, or set \"prompt\" in the CSG JSON.")
    if clip is None or not hasattr(clip, "tokenize"):
        raise LinaError("no text encoder connected.", field="clip",
                        fix="connect the CLIP output of your checkpoint or CLIP loader (the one that encodes the prompt).")
    cp = render_causal_prompt(g)
    if (plan_json or "").strip():
        plan = as_plan(plan_json, "override_json")
    else:
        plan = prior_plan(g, cp)
        if adapter is not None and not hasattr(adapter, "plan_overrides"):
            raise LinaError("this adapter object has no plan_overrides(csg, pooled) method.", field="adapter",
                                fix="connect the output of a LINA adapter loader.")
    tokens = clip.tokenize(g.prompt)
    positive = clip.encode_from_tokens_scheduled(tokens)
    width = check_conditioning(positive, "clip")
    want = getattr(adapter, "fingerprint", None) if adapter is not None else None
    if isinstance(want, str) and want:
        have = fingerprint(lambda text: _encode(clip, text), _encoder_id(clip))
        if have != want:
            raise PlanError(f"the adapter was made for the text encoder {want}, but this CLIP is {have}.",
                            field="adapter", fix="load the adapter trained for this CLIP, or leave the adapter "
                                                 "input empty to use the training-free prior.")
    check_encoder_width(plan, width, field="override_json")
    if adapter is not None and not (plan_json or "").strip():
        pooled0 = positive[0][1].get("pooled_output")
        over = dict(adapter.plan_overrides(g, pooled0))
        plan = plan.with_(**over, source="adapter")
    changes = {"encoder_width": width}
    if prompt_scale != 1.0:
        changes["prompt_strength"] = min(plan.prompt_strength * prompt_scale, 4.0)
    if latent_scale != 1.0:
        changes["latent_strength"] = min(plan.latent_strength * latent_scale, 20.0)
    if mode:
        changes["mode"] = mode
    plan = plan.with_(**changes)
    alpha = plan.prompt_strength
    notes = list(plan.notes)
    if alpha == 0.0:
        # no prompt edit: c' is the causal completion itself (the latent term then guides toward it)
        lina_positive = clip.encode_from_tokens_scheduled(clip.tokenize(cp)) if plan.latent_strength else \
            [[t, d.copy()] for t, d in positive]
        notes.append("prompt strength 0: lina_positive is the encoded causal completion")
        return plan.with_(notes=tuple(notes)), positive, lina_positive
    tok_causal = clip.tokenize(cp)
    causal = clip.encode_from_tokens(tok_causal, return_pooled=True, return_dict=True)
    c_causal, pooled_causal = causal["cond"], causal.get("pooled_output")
    sub = getattr(adapter, "subspace", None) if adapter is not None else None
    if sub is None:
        sub = encoder_subspace(clip)
    elif getattr(sub, "width", width) != width:
        raise PlanError(f"the adapter's physics subspace has width {sub.width}, this CLIP has width {width}.",
                        field="adapter", fix="use an adapter trained for this text encoder.")
    lina_positive = []
    for t, d in positive:
        tw, groups, n = align_prompt(g, plan.token_weights, g.prompt, cp, tokens, tok_causal, clip.tokenize,
                                     t.shape[1], c_causal.shape[1])
        for x in n:
            if x not in notes:
                notes.append(x)
        targets = aligned_targets(t, c_causal.to(t.device), groups)
        am = d.get("attention_mask")
        t2 = edit_tokens(t, targets, torch.tensor(tw), sub.project, alpha,
                         attention_mask=am if isinstance(am, torch.Tensor) else None)
        d2 = d.copy()
        if isinstance(d.get("pooled_output"), torch.Tensor):
            wmax = max(plan.token_weights.values() or [0.0])
            d2["pooled_output"] = edit_pooled(d["pooled_output"], pooled_causal, sub.project_pooled, alpha, wmax)
        lina_positive.append([t2, d2])
    notes.append(f"subspace {sub.fingerprint}: {sub.P.shape[0]} physics / {sub.T.shape[0]} texture directions")
    return plan.with_(notes=tuple(notes)), positive, lina_positive


# ---- nodes --------------------------------------------------------------------------------------

def _plan_in(optional=False):
    return PlanType.Input("plan", optional=optional,
                          tooltip="The LINA plan from LINA Plan: strengths, early window, decay and CSG masks.")


def _mask_in():
    return io.Mask.Input("mask", optional=True,
                         tooltip="Optional extra mask multiplied into the plan's CSG layout mask, at the size of the "
                                 "image you sample (any size with the same aspect ratio; one mask, one per batch item "
                                 "or one per frame).")


class LINAPlan(io.ComfyNode):
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
                io.Combo.Input("mode", options=["add", "substitute"], default="add",
                               tooltip="add: D_cfg + lambda * mask * (D(c') - D(c)) in the early window (one extra "
                                       "model evaluation per early step). substitute: use c' instead of c in the early "
                                       "window (no extra evaluation, no mask)."),
                AdapterType.Input("adapter", optional=True,
                                  tooltip="Optional learned LINA adapter; without it the training-free prior is used."),
                io.String.Input("override_json", default="", multiline=True, optional=True,
                                tooltip="Optional plan JSON (from a previous run or an API caller) used instead of the "
                                        "prior; it is validated, and must match this encoder's width."),
            ],
            outputs=[
                PlanType.Output("plan", tooltip="The plan, for LINA Guider, LINA Model Patch and LINA Causal Scheduler."),
                io.Conditioning.Output("positive", tooltip="The prompt encoded as CLIPTextEncode would (c)."),
                io.Conditioning.Output("lina_positive", tooltip="The edited conditioning c' (same shape and keys as c). "
                                       "When the plan has a structure prompt, also that prompt's encoding, tagged "
                                       "for the first part of the early window (LINA Guider / Model Patch give each "
                                       "part its range)."),
                io.String.Output("plan_json", tooltip="The plan as JSON (for API callers and for editing)."),
            ],
        )

    @classmethod
    def execute(cls, csg, clip, prompt_scale=1.0, latent_scale=1.0, mode="add", adapter=None,
                override_json="") -> io.NodeOutput:
        plan, pos, lpos = build_plan(csg, clip, adapter, float(prompt_scale), float(latent_scale), mode,
                                     override_json or "")
        text = plan.to_json(indent=1)
        return io.NodeOutput(plan, pos, lpos, text, ui={"text": [text]})


class LINAGuider(io.ComfyNode):
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
        plan = as_plan(plan)
        check_pair(positive, lina_positive, plan)
        check_conditioning(negative, "negative")
        g = LinaGuider(model, plan, mask)
        g.set_conds(positive, negative, lina_positive)
        g.set_cfg(cfg)
        return io.NodeOutput(g)


class LINAModelPatch(io.ComfyNode):
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
        plan = as_plan(plan)
        check_pair(None, lina_positive, plan)
        return io.NodeOutput(patch_model(model, plan, lina_positive, mask))


class LINASampler(io.ComfyNode):
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
        _, sigmas = causal_sigmas(model, scheduler, int(steps), plan.window_end, plan.early_share, 1.0)
        guider = LinaGuider(model, plan)
        guider.set_conds(pos, neg, lpos)
        guider.set_cfg(cfg)
        latent = latent_image.copy()
        x = comfy.sample.fix_empty_latent_channels(model, latent["samples"])
        latent["samples"] = x
        noise = comfy.sample.prepare_noise(x, int(seed), latent.get("batch_index"))
        sampler = comfy.samplers.sampler_object(sampler_name)
        samples = guider.sample(noise, x, sampler, sigmas, denoise_mask=latent.get("noise_mask"),
                                disable_pbar=not comfy.utils.PROGRESS_BAR_ENABLED, seed=int(seed))
        out = latent.copy()
        out["samples"] = samples.to(comfy.model_management.intermediate_device())
        return io.NodeOutput(out, plan)


NODES = [LINAPlan, LINAGuider, LINAModelPatch, LINASampler]
