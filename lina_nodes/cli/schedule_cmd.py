"""`lina schedule`: print the LINA Causal Scheduler's sigmas for a model family, steps and settings."""
from __future__ import annotations

import argparse

from . import CLIError, emit


def register(sub) -> None:
    p = sub.add_parser("schedule", help="print the causal schedule's sigmas for a model family",
                       description="Print the LINA Causal Scheduler's sigmas next to the base scheduler's, "
                                   "computed with the bundled ComfyUI's own schedulers.")
    p.add_argument("--family", default="sd15", help="sd15, sdxl, sd3, flux, wan21, wan22 (default sd15)")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--scheduler", default="simple", help="base scheduler from ComfyUI's list (default simple)")
    p.add_argument("--beta", type=float, default=0.0, help="structure-window end, progress fraction; 0 = family knee")
    p.add_argument("--rho", type=float, default=None, help="share of steps in the early window (default 0.35)")
    p.add_argument("--denoise", type=float, default=1.0)
    p.add_argument("--shift", type=float, default=None, help="override the flow shift of sd3/wan families")
    p.add_argument("--comfyui", default=None, help="ComfyUI tree (default: the bundled one)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..inprocess.comfy_import import SamplingOnlyModel
    from ..errors import LinaError
    from ..intervention.schedule import DEFAULT_RHO, early_step_count, knee_for_family

    rho = DEFAULT_RHO if args.rho is None else args.rho
    beta = args.beta if args.beta > 0 else knee_for_family(args.family)
    try:
        model = SamplingOnlyModel(args.family, args.shift, args.comfyui)
        from comfy_extras.nodes_custom_sampler import BasicScheduler

        from ..inprocess.sigmas import causal_sigmas

        sched, _ = causal_sigmas(model, args.scheduler, args.steps, beta, rho, args.denoise)
        if sched is None:
            raise CLIError("--denoise must be above 0")
        base = BasicScheduler.execute(model, args.scheduler, args.steps, args.denoise).result[0]
    except LinaError as e:
        raise CLIError(str(e)) from e
    sigma_beta = sched.sigma_beta
    base_early = early_step_count(base, sigma_beta)
    data = {
        "family": args.family, "scheduler": args.scheduler, "steps": args.steps, "denoise": args.denoise,
        "beta": beta, "rho": rho, "sigma_beta": sigma_beta,
        "early_steps": sched.early_steps, "base_early_steps": base_early,
        "sigmas": [round(float(s), 6) for s in sched.sigmas],
        "base_sigmas": [round(float(s), 6) for s in base],
    }
    lines = [f"LINA causal schedule: family={args.family} scheduler={args.scheduler} steps={args.steps} "
             f"beta={beta:g} (sigma {sigma_beta:.4g}) rho={rho:g}",
             f"early-window steps: {sched.early_steps}/{args.steps} (base scheduler: {base_early}/{args.steps})",
             f"{'i':>4} {'causal':>12} {'base':>12}"]
    for i, (a, b) in enumerate(zip(data["sigmas"], data["base_sigmas"])):
        mark = " <- window end" if i == sched.early_steps else ""
        lines.append(f"{i:>4} {a:>12.6f} {b:>12.6f}{mark}")
    emit(args, data, "\n".join(lines))
    return 0
