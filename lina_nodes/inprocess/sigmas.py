"""Sigmas for a ComfyUI MODEL: its family, the early window (resolved here only) and the causal schedule."""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import comfy.samplers
import torch

from ..errors import ScheduleError
from ..intervention import regions
from ..intervention.plan import LinaPlan, PlanError
from ..intervention.schedule import (
    family_from_config_name,
    family_note,
    knee_for_family,
    reallocate,
    total_steps_for_denoise,
    truncate_for_denoise,
)


def model_family(model) -> str:
    """Family key of a ComfyUI MODEL (ModelPatcher), from its model-config class name."""
    config = getattr(getattr(model, "model", None), "model_config", None)
    return family_from_config_name(type(config).__name__) if config is not None else "default"


log = logging.getLogger("lina")
_NOTED: set = set()


def config_name(model) -> str:
    config = getattr(getattr(model, "model", None), "model_config", None)
    return type(config).__name__ if config is not None else ""


def resolve_beta(model, beta: float) -> float:
    """The window end as denoising progress: ``beta``, or the model family's knee when ``beta`` is 0 (auto).
    An auto window without a published or measured knee is logged once per model class (never silent)."""
    if beta > 0.0:
        return float(beta)
    name = config_name(model)
    note = family_note(name)
    if note and name not in _NOTED:
        _NOTED.add(name)
        log.warning("LINA: %s", note)
    return knee_for_family(model_family(model))


@dataclass(frozen=True)
class Window:
    """The early, structure-forming window of one plan on one model, in sigmas.

    ``sigma_structure`` ends the structure phase (progress ``structure_share * beta``), ``sigma_layout`` the
    layout focus (progress ``layout_share * beta``), ``sigma_counterfactual`` the counterfactual negative
    (progress ``counterfactual_share`` of the whole run; 0.0 = every step), ``sigma_region`` the region prompts
    (progress ``region_share * beta``); None without one."""
    sigma_max: float
    sigma_beta: float
    beta: float
    sigma_structure: float | None = None
    sigma_layout: float | None = None
    sigma_counterfactual: float | None = None
    sigma_region: float | None = None

    def in_structure(self, sigma: float) -> bool:
        return self.sigma_structure is not None and sigma > self.sigma_structure

    def in_layout(self, sigma: float) -> bool:
        return self.sigma_layout is not None and sigma > self.sigma_layout

    def in_counterfactual(self, sigma: float) -> bool:
        return self.sigma_counterfactual is not None and sigma > self.sigma_counterfactual

    def in_region(self, sigma: float) -> bool:
        return self.sigma_region is not None and sigma > self.sigma_region


def resolve_window(model, plan: LinaPlan) -> Window:
    """The plan's early window on ``model`` (the guider, the model patch and the scheduler all use this)."""
    ms = model.get_model_object("model_sampling")
    beta = resolve_beta(model, plan.window_end)
    sigma_beta = float(ms.percent_to_sigma(beta))
    sigma_max = float(ms.sigma_max)  # percent_to_sigma(0) is a sentinel (1e9) for eps models
    if not (math.isfinite(sigma_beta) and math.isfinite(sigma_max) and 0 < sigma_beta < sigma_max):
        raise PlanError(f"window_end={beta:g} maps to sigma {sigma_beta:g}, outside this model's range "
                        f"(0, {sigma_max:g}).", field="plan.window_end", fix="use a window_end between 0.02 and 0.9.")
    sigma_s = sigma_l = None
    if plan.structure_prompt.strip() and plan.structure_share > 0.0:
        sigma_s = float(ms.percent_to_sigma(plan.structure_share * beta))
    if plan.layout_strength > 0.0 and plan.layout_share > 0.0 and plan.layout_boxes:
        sigma_l = float(ms.percent_to_sigma(plan.layout_share * beta))
    sigma_c = None
    if plan.counterfactual_prompt.strip() and plan.counterfactual_share > 0.0:
        sigma_c = 0.0 if plan.counterfactual_share >= 1.0 else float(ms.percent_to_sigma(plan.counterfactual_share))
    sigma_r = float(ms.percent_to_sigma(plan.region_share * beta)) if regions.active(plan) else None
    return Window(sigma_max, sigma_beta, beta, sigma_s, sigma_l, sigma_c, sigma_r)


def causal_sigmas(model, scheduler: str, steps: int, beta: float, rho: float, denoise: float):
    """Compute the causal schedule for a ComfyUI MODEL; returns (CausalSchedule | None, sigmas)."""
    try:
        ms = model.get_model_object("model_sampling")
    except Exception as e:  # not a diffusion model ComfyUI knows how to sample
        raise ScheduleError(f"this model has no sampling settings ({e}).", field="model",
                            fix="connect the MODEL output of a checkpoint or diffusion-model loader.") from e
    if not hasattr(ms, "percent_to_sigma"):
        raise ScheduleError(f"{type(ms).__name__} cannot map denoising progress to sigma.", field="model",
                            fix="use BasicScheduler for this model, or report the model family to LINA.")
    if scheduler not in comfy.samplers.SCHEDULER_HANDLERS:
        raise ScheduleError(f"unknown base scheduler {scheduler!r}.", field="scheduler",
                            fix=f"choose one of {', '.join(comfy.samplers.SCHEDULER_NAMES)}.")
    if steps < 2:
        raise ScheduleError(f"the causal schedule needs at least 2 steps, got {steps}.", field="steps",
                            fix="use steps >= 2, or BasicScheduler for a single step.")
    if denoise <= 0.0:
        return None, torch.FloatTensor([])
    beta = resolve_beta(model, beta)
    total = total_steps_for_denoise(steps, denoise)
    base = comfy.samplers.calculate_sigmas(ms, scheduler, total).cpu()
    base = truncate_for_denoise(base, steps)
    if not torch.isfinite(base).all():
        raise ScheduleError(f"the base scheduler {scheduler!r} returned NaN or infinite sigmas for this model.",
                            field="scheduler", fix="choose another base scheduler.")
    sigma_beta = float(ms.percent_to_sigma(beta))
    if not math.isfinite(sigma_beta):
        raise ScheduleError(f"beta={beta} maps to a non-finite sigma for this model.", field="beta",
                            fix="use a beta strictly between 0 and 1.")
    if sigma_beta >= float(base[0]):
        if denoise < 1.0:
            raise ScheduleError(
                f"with denoise={denoise:g} sampling starts at sigma {float(base[0]):.4g}, already past the structure "
                f"window (beta={beta:g} ends it at sigma {sigma_beta:.4g}): no early steps to reallocate.",
                field="denoise",
                fix="raise denoise, lower beta, or use BasicScheduler for low-denoise (img2img) passes.",
            )
        raise ScheduleError(
            f"the base scheduler {scheduler!r} with {steps} steps starts at sigma {float(base[0]):.4g}, already past "
            f"the structure window (beta={beta:g} ends it at sigma {sigma_beta:.4g}).",
            field="scheduler",
            fix="use more steps, a lower beta, or a base scheduler that starts at the model's sigma_max "
                "(simple, normal, karras...).",
        )
    sched = reallocate(base, sigma_beta, rho)
    return sched, sched.sigmas
