"""LINA Causal Scheduler: a SIGMAS node that reallocates steps toward the structure-forming window."""
from __future__ import annotations

import math

import torch
from comfy_api.latest import io

import comfy.samplers

from ..errors import ScheduleError
from ..schedule import (
    DEFAULT_RHO,
    family_from_config_name,
    knee_for_family,
    reallocate,
    total_steps_for_denoise,
    truncate_for_denoise,
)


def model_family(model) -> str:
    """Family key of a ComfyUI MODEL (ModelPatcher), from its model-config class name."""
    config = getattr(getattr(model, "model", None), "model_config", None)
    return family_from_config_name(type(config).__name__) if config is not None else "default"


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
    if beta <= 0.0:
        beta = knee_for_family(model_family(model))
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


class LINACausalScheduler(io.ComfyNode):
    """Causality-aware schedule: same steps and sigma range as the base scheduler, more steps early."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LINACausalScheduler",
            display_name="LINA Causal Scheduler",
            category="LINA/sampling",
            description=(
                "Sigmas with the same number of steps and sigma range as the base scheduler, but with a share "
                "rho of the steps inside the early, structure-forming window (progress 0 to beta). Plug into "
                "SamplerCustomAdvanced / SamplerCustom. Works for eps, v and flow models (SD1.5, SDXL, SD3, "
                "FLUX, Wan)."
            ),
            inputs=[
                io.Model.Input("model", tooltip="The diffusion model: its own sigma range and progress-to-sigma map are used."),
                io.Int.Input("steps", default=20, min=2, max=10000,
                             tooltip="Number of sampling steps (model evaluations per guidance pass); same as BasicScheduler."),
                io.Combo.Input("scheduler", options=comfy.samplers.SCHEDULER_NAMES, default="simple",
                               tooltip="Base scheduler whose spacing is kept inside each segment."),
                io.Float.Input("beta", default=0.0, min=0.0, max=0.95, step=0.01,
                               tooltip="End of the structure window as a fraction of denoising progress (0 = start, "
                                       "1 = end). 0 = auto: the model family's measured knee (SD3 0.11, FLUX 0.21, "
                                       "others 0.20)."),
                io.Float.Input("rho", default=DEFAULT_RHO, min=0.05, max=0.95, step=0.01,
                               tooltip="Share of the steps spent inside the structure window (rounded to whole steps; "
                                       "at least one step on each side)."),
                io.Float.Input("denoise", default=1.0, min=0.0, max=1.0, step=0.01,
                               tooltip="As in BasicScheduler: below 1, only the last part of a longer schedule is used."),
                io.Custom("LINA_PLAN").Input("plan", optional=True,
                                             tooltip="Optional LINA plan (LINA Plan): when linked, its early window "
                                                     "end and early share replace beta and rho."),
            ],
            outputs=[io.Sigmas.Output(tooltip="steps + 1 sigmas, strictly decreasing, ending at 0.")],
        )

    @classmethod
    def execute(cls, model, steps, scheduler, beta, rho, denoise, plan=None) -> io.NodeOutput:
        if plan is not None:
            from ..intervention.plan import as_plan

            plan = as_plan(plan)
            beta, rho = plan.window_end, plan.early_share
        _, sigmas = causal_sigmas(model, scheduler, int(steps), float(beta), float(rho), float(denoise))
        return io.NodeOutput(sigmas)


NODES = [LINACausalScheduler]
