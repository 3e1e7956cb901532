"""LINA Causal Scheduler: a SIGMAS node that reallocates steps toward the structure-forming window."""
from __future__ import annotations

import comfy.samplers
from comfy_api.latest import io

from ..errors import ScheduleError
from ..inprocess.sigmas import causal_sigmas
from ..intervention.plan import as_plan
from ..intervention.schedule import DEFAULT_RHO
from ..security import require_finite
from .types import PlanType


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
                PlanType.Input("plan", optional=True,
                                             tooltip="Optional LINA plan (LINA Plan): when linked, its early window "
                                                     "end and early share replace beta and rho."),
            ],
            outputs=[io.Sigmas.Output(tooltip="steps + 1 sigmas, strictly decreasing, ending at 0.")],
        )

    @classmethod
    def execute(cls, model, steps, scheduler, beta, rho, denoise, plan=None) -> io.NodeOutput:
        if plan is not None:
            plan = as_plan(plan)
            beta, rho = plan.window_end, plan.early_share
        beta, rho, denoise = (require_finite(v, name, ScheduleError, 0.0, 1.0)
                              for v, name in ((beta, "beta"), (rho, "rho"), (denoise, "denoise")))
        _, sigmas = causal_sigmas(model, scheduler, int(steps), beta, rho, denoise)
        return io.NodeOutput(sigmas)


NODES = [LINACausalScheduler]
