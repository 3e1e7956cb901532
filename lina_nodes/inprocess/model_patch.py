"""LINA's early-window intervention as composable MODEL hooks: the single implementation behind LINA Model
Patch, LINA Guider (a CFGGuider over the patched model) and LINA Sampler.

Inside the plan's window on a clone of the MODEL:
* structure phase (sigma above ``Window.sigma_structure``): a keyed PREDICT_NOISE wrapper conditions the
  positive on the structure prompt (no extra evaluation);
* then, ``substitute`` mode: the same wrapper swaps c' for c; ``add`` mode: a post-CFG function (ComfyUI's
  composable list) adds ``lambda(sigma) * M_lat * (D(c') - D(c))``, evaluating c' through
  ``calc_cond_batch`` so other packs' cond-batch wrappers apply to it too;
* layout focus (sigma above ``Window.sigma_layout``, either mode): a post-CFG function pulls the denoised
  estimate outside the CSG layout boxes toward its background (``intervention.layout_focus``);
* counterfactual negative (sigma above ``Window.sigma_counterfactual``, either mode): the same PREDICT_NOISE
  wrapper swaps the negative for the reversed-roles prompt (``intervention.counterfactual``; no extra
  evaluation);
* region prompts (sigma above ``Window.sigma_region``, either mode): the same wrapper appends each CSG node's
  phrase, masked to its layout box, to the positive (ComfyUI's ConditioningSetMask rule; one evaluation per
  region and step; ``intervention.regions``).
The structure, counterfactual and region conditionings come with LINA Plan's plan output
(``conditioning.PhasedPlan``).
A keyed OUTER_SAMPLE wrapper hands c' and those conditionings to whichever guider samples the model
(KSampler, KSamplerAdvanced, SamplerCustom[Advanced]), so ComfyUI prepares them like any other cond.
Nothing touches the single-slot ``sampler_cfg_function``, ``model_function_wrapper`` or
``sampler_calc_cond_batch_function``: other packs' hooks keep working inside the window.
"""
from __future__ import annotations

import uuid
from dataclasses import replace

import comfy.patcher_extension
import comfy.sampler_helpers
import comfy.samplers
import torch

from ..intervention import latent_guidance as lg
from ..intervention import layout_focus as lf
from ..intervention.plan import LinaPlan, as_plan
from .conditioning import masked_regions, phases_of
from .sigmas import resolve_window


def sigma_of(timestep) -> float:
    return float(timestep.flatten()[0]) if isinstance(timestep, torch.Tensor) else float(timestep)


class LatentMasker:
    """M_lat per latent shape (cached), on the latent's device and dtype."""

    def __init__(self, plan: LinaPlan, user_mask):
        self.plan, self.user_mask, self._cache = plan, user_mask, {}

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        key = (tuple(x.shape), x.device, x.dtype)
        if key not in self._cache:
            self._cache = {key: lg.latent_mask(self.plan, x.shape, self.user_mask, device=x.device, dtype=x.dtype)}
        return self._cache[key]


def patch_model(model, plan, lina_positive, user_mask=None, stats: dict | None = None):
    """A clone of ``model`` carrying the plan's early window (see the module docstring). ``plan``: LINA Plan's
    output (a ``PhasedPlan``: the structure and counterfactual phases come with it) or a bare ``LinaPlan``;
    ``lina_positive``: c'. ``stats``, when given, collects ``dropped``: non-finite guidance values replaced by
    plain CFG."""
    structure, counter, region_encs = phases_of(plan)
    plan = as_plan(plan)
    win = resolve_window(model, plan)
    m = model.clone()
    full = lina_positive
    if not structure:
        win = replace(win, sigma_structure=None)
    if not counter:
        win = replace(win, sigma_counterfactual=None)
    if not region_encs:
        win = replace(win, sigma_region=None)
    if (plan.latent_strength == 0.0 and win.sigma_structure is None and win.sigma_layout is None
            and win.sigma_counterfactual is None and win.sigma_region is None):
        return m  # documented no-op
    key = f"lina_{uuid.uuid4().hex[:12]}"
    key_s, key_c, key_r = key + "_structure", key + "_counterfactual", key + "_regions"
    masker = LatentMasker(plan, user_mask)
    keeps: dict = {}
    stats = {} if stats is None else stats
    stats.setdefault("dropped", 0)
    converted = {key: comfy.sampler_helpers.convert_cond(full) if full else None,
                 key_s: comfy.sampler_helpers.convert_cond(structure) if win.sigma_structure is not None else None,
                 key_c: comfy.sampler_helpers.convert_cond(counter) if win.sigma_counterfactual is not None else None,
                 key_r: comfy.sampler_helpers.convert_cond(masked_regions(plan, region_encs))
                 if win.sigma_region is not None else None}

    def lam_of(sigma) -> float:
        return lg.lambda_at(sigma_of(sigma), win.sigma_max, win.sigma_beta, plan.latent_strength, plan.latent_decay)

    def outer_sample(executor, *args, **kwargs):
        guider = executor.class_obj
        conds = getattr(guider, "conds", None)
        if not isinstance(conds, dict) or not isinstance(getattr(guider, "model_options", None), dict):
            return executor(*args, **kwargs)
        for k, cv in converted.items():
            if cv is not None:
                conds[k] = [c.copy() for c in cv]
        guider.model_options[key] = guider  # this run's options clone: post-CFG finds c' through it
        try:
            return executor(*args, **kwargs)
        finally:
            guider.model_options.pop(key, None)
            if isinstance(getattr(guider, "conds", None), dict):
                for k in converted:
                    guider.conds.pop(k, None)

    def swap_for(timestep) -> str | None:
        if win.in_structure(sigma_of(timestep)):
            return key_s
        if plan.mode == "substitute" and lam_of(timestep) != 0.0:
            return key
        return None

    def swaps_for(conds, timestep) -> dict:
        """{cond name: replacement} for this step (only names the guider has, replacements it holds)."""
        out = {}
        pos = swap_for(timestep) if "positive" in conds else None
        if pos is not None and pos in conds:
            out["positive"] = conds[pos]
        if "positive" in conds and key_r in conds and win.in_region(sigma_of(timestep)):
            out["positive"] = out.get("positive", conds["positive"]) + conds[key_r]
        if "negative" in conds and key_c in conds and win.in_counterfactual(sigma_of(timestep)):
            out["negative"] = conds[key_c]
        return out

    def predict_noise(executor, x, timestep, model_options=None, seed=None):
        """Swap conds for this step: the positive for the structure prompt in the structure phase and for c' in
        substitute mode, with the masked region prompts appended in their phase; the negative for the
        counterfactual prompt in its share of the run."""
        conds = getattr(executor.class_obj, "conds", None)
        swaps = swaps_for(conds, timestep) if isinstance(conds, dict) else {}
        if not swaps:
            return executor(x, timestep, model_options, seed)
        orig = {k: conds[k] for k in swaps}
        conds.update(swaps)
        try:
            return executor(x, timestep, model_options, seed)
        finally:
            conds.update(orig)

    m.add_wrapper_with_key(comfy.patcher_extension.WrappersMP.OUTER_SAMPLE, key, outer_sample)
    if (plan.mode == "substitute" or win.sigma_structure is not None or win.sigma_counterfactual is not None
            or win.sigma_region is not None):
        m.add_wrapper_with_key(comfy.patcher_extension.WrappersMP.PREDICT_NOISE, key, predict_noise)
    def keep_for(x):
        k = (tuple(x.shape), x.device, x.dtype)
        if k not in keeps:
            keeps.clear()
            keeps[k] = lf.keep_mask(plan, x.shape, device=x.device, dtype=x.dtype)
        return keeps[k]

    def layout_post_cfg(args):
        if not win.in_layout(sigma_of(args["sigma"])):
            return args["denoised"]
        return lf.focus(args["denoised"], keep_for(args["input"]), plan.layout_strength)

    if win.sigma_layout is not None:
        m.set_model_sampler_post_cfg_function(layout_post_cfg)
    if plan.mode == "substitute" or plan.latent_strength == 0.0:
        return m

    def post_cfg(args):
        denoised = args["denoised"]
        lam = lam_of(args["sigma"])
        if lam == 0.0 or win.in_structure(sigma_of(args["sigma"])):
            return denoised
        mo = args["model_options"]
        guider = mo.get(key)
        edited = getattr(guider, "conds", {}).get(key) if guider is not None else None
        if edited is None or args.get("cond_denoised") is None:
            return denoised  # not sampled through a guider (documented no-op)
        x, sigma = args["input"], args["sigma"]
        d_edit = comfy.samplers.calc_cond_batch(args["model"], [edited], x, sigma, mo)[0]
        out, bad = lg.combine(denoised, args["cond_denoised"], d_edit, lam, masker(x))
        stats["dropped"] += bad
        return out

    m.set_model_sampler_post_cfg_function(post_cfg)
    return m
