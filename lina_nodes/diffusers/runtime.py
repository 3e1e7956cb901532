"""``apply``: LINA on a diffusers pipeline for one call, installed and removed by a context manager.

    run = apply(pipe, prompt)                 # CSG + plan + c, c' and the structure prompt, on the pipe's encoders
    with run as kwargs:                       # installs: denoiser hooks + the scheduler's set_timesteps wrapper
        image = pipe(**kwargs, num_inference_steps=20, generator=g).images[0]
    # here the pipeline is as it was: hooks removed, scheduler state restored

What is installed while the ``with`` block runs (nothing else is touched, nothing survives it):

* a forward pre-hook and a forward hook on the denoiser (``unet`` / ``transformer`` / Wan's ``transformer_2``).
  The conditional rows of each call are the rows whose text tokens equal c, the ``prompt_embeds`` this run
  passes; the structure phase (sigma > sigma_structure) puts the structure prompt's tokens (and pooled) in
  those rows, ``substitute`` mode puts c' there while lambda(sigma) != 0 (no extra evaluation), ``add`` mode
  evaluates the conditional rows once more with c' and adds ``a = lambda(sigma) * M * (out(c') - out(c))`` to
  the conditional *and* the unconditional output rows, so any CFG ``u + g (c - u)`` becomes ``CFG + a``
  whatever g is (for pipelines that call cond and uncond separately, Wan and Flux true-CFG, the uncond call
  at the same sigma gets the same a). The denoised estimate of every supported parameterisation (eps, v,
  flow velocity) is affine in the model output with one coefficient b(sigma) on it, so adding a to the
  output is exactly ComfyUI's ``D_cfg + lambda * M * (D(c') - D(c))``.
* the counterfactual negative (sigma > sigma_counterfactual, when the plan uses one): in a call that batches
  the conditional rows with others (CFG's unconditional rows: SD1.5, SDXL, SD3, PhysWorld), the other rows get
  the reversed-roles prompt's tokens and pooled output. Pipelines that call cond and uncond separately (Wan,
  Flux true-CFG) keep their own negative: the lever is not applied there (``run.trace`` shows where it was).
* an instance attribute wrapping ``pipe.scheduler.set_timesteps``: after the scheduler builds the pipeline's
  own schedule (its own steps, shift and Flux's resolution-dependent mu), the window is resolved in sigma
  and the schedule is replaced by ``intervention.schedule.reallocate(scheduler.sigmas, sigma_beta, rho)``
  (timesteps recomputed with the scheduler's own sigma -> timestep map). ``schedule="auto"`` does this for
  EulerDiscreteScheduler and FlowMatchEulerDiscreteScheduler and keeps other schedulers' steps (noted in
  ``run.notes``); ``True`` requires it; ``False`` never does it.

Progress -> sigma (ComfyUI's ``percent_to_sigma``, on the pipeline's scheduler): DDPM-trained families (SD1.5,
SDXL) use the training table ``sigma(t) = sqrt((1 - alphas_cumprod[t]) / alphas_cumprod[t])`` interpolated in
log sigma at ``t = (1 - p) * (num_train_timesteps - 1)``; flow families (SD3, Flux, Wan, PhysWorld) use
``sigma = shift(1 - p)`` with the scheduler's own shift (static ``shift``, ``flow_shift`` for UniPC, or the
dynamic ``time_shift(mu, 1, .)`` with the mu the pipeline passes). A denoiser call's sigma comes from the
timestep it receives (the inverse map; Flux's transformer gets sigma itself), snapped to the scheduler's
nearest sigma.
"""
from __future__ import annotations

import functools
import inspect
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import CSGError, LinaError
from ..intervention import latent_guidance as lg
from ..intervention import regions
from ..intervention.conditioning_edit import LinaConditioning, build_conditioning
from ..intervention.lever_inputs import lever_changes
from ..intervention.plan import PlanError
from ..intervention.schedule import CausalSchedule, knee_for_family, reallocate
from .encoders import PipelineTextIO
from .families import Family, family_of

log = logging.getLogger("lina")
MODES = ("add", "substitute")
SCHEDULE_CLASSES = ("EulerDiscreteScheduler", "FlowMatchEulerDiscreteScheduler")
_NOT_BATCHED = ("img_ids", "txt_ids")


def require_diffusers():
    try:
        import diffusers  # noqa: F401
    except ImportError as e:
        raise LinaError(f"diffusers is not installed ({e}).", field="diffusers",
                        fix="pip install 'lina[diffusers]' (pinned diffusers + transformers).") from None


# ---- scheduler maps -------------------------------------------------------------------------------
def _class_names(obj) -> list[str]:
    return [c.__name__ for c in type(obj).__mro__]


def scheduler_kind(scheduler) -> str:
    """"ddpm" (a DDPM training table: eps / v models) or "flow" (rectified flow); an error otherwise."""
    cfg = getattr(scheduler, "config", {}) or {}
    if cfg.get("use_flow_sigmas", False) or any("FlowMatch" in n for n in _class_names(scheduler)):
        return "flow"
    if getattr(scheduler, "alphas_cumprod", None) is not None:
        return "ddpm"
    raise LinaError(f"{type(scheduler).__name__} has neither a DDPM alphas_cumprod table nor flow-matching sigmas.",
                    field="pipe.scheduler", fix="use the pipeline's default scheduler, an EulerDiscreteScheduler "
                                                "or a FlowMatchEulerDiscreteScheduler.")


def _ddpm_log_sigmas(scheduler) -> np.ndarray:
    acp = scheduler.alphas_cumprod.detach().cpu().double().numpy()
    return np.log(np.sqrt((1.0 - acp) / acp))


def _flow_shift(scheduler, s: float, mu: float | None) -> float:
    cfg = scheduler.config
    if cfg.get("use_flow_sigmas", False):
        shift = float(cfg.get("flow_shift", 1.0))
    elif cfg.get("use_dynamic_shifting", False):
        if mu is None:
            raise LinaError(f"{type(scheduler).__name__} shifts by resolution but the pipeline passed no mu.",
                            field="pipe.scheduler")
        if s <= 0.0:
            return 0.0
        return float(scheduler.time_shift(float(mu), 1.0, np.array([s], dtype=np.float64))[0])
    else:
        shift = float(getattr(scheduler, "shift", cfg.get("shift", 1.0)))
    return shift * s / (1.0 + (shift - 1.0) * s)


def progress_to_sigma(scheduler, p: float, mu: float | None = None) -> float:
    """ComfyUI's ``percent_to_sigma(p)`` for a diffusers scheduler (see the module docstring)."""
    if scheduler_kind(scheduler) == "ddpm":
        ls = _ddpm_log_sigmas(scheduler)
        t = (1.0 - float(p)) * (len(ls) - 1)
        return float(np.exp(np.interp(t, np.arange(len(ls)), ls)))
    return _flow_shift(scheduler, 1.0 - float(p), mu)


def supports_schedule(scheduler) -> bool:
    return any(n in SCHEDULE_CLASSES for n in _class_names(scheduler)) and \
        not scheduler.config.get("invert_sigmas", False)


@dataclass(frozen=True)
class Window:
    sigma_max: float
    sigma_beta: float
    beta: float
    sigma_structure: float | None = None
    sigma_counterfactual: float | None = None   # 0.0: every step
    sigma_region: float | None = None


# ---- the run ----------------------------------------------------------------------------------------
class LinaRun:
    """One LINA-conditioned pipeline call: ``with run as kwargs: pipe(**kwargs, ...)``.

    After the call: ``plan``, ``conditioning`` (the core's LinaConditioning), ``window``, ``schedule`` (the
    CausalSchedule, or None), ``base_sigmas`` (the scheduler's own), ``trace`` (per denoiser call: sigma,
    phase, lambda, conditional rows) and ``stats`` (denoiser_calls, extra_calls, matched_calls, dropped)."""

    def __init__(self, pipe, family: Family, kwargs: dict, lc: LinaConditioning | None = None,
                 schedule="auto", beta: float | None = None, rho: float | None = None, user_mask=None):
        self.pipe, self.family, self.kwargs, self.conditioning = pipe, family, kwargs, lc
        self.schedule_mode, self.beta, self.rho, self.user_mask = schedule, beta, rho, user_mask
        self.window: Window | None = None
        self.schedule: CausalSchedule | None = None
        self.base_sigmas: torch.Tensor | None = None
        self.notes: list[str] = []
        self.trace: list[dict] = []
        self.stats = {"denoiser_calls": 0, "extra_calls": 0, "matched_calls": 0, "dropped": 0}
        self._handles, self._sched_state, self._active = [], None, False
        self._inner, self._pending, self._carry, self._masks, self._snap = False, None, None, {}, None
        self._region_pending = None
        self._log_sigmas = None

    @property
    def enabled(self) -> bool:
        return self.conditioning is not None

    @property
    def plan(self):
        return self.conditioning.plan if self.conditioning is not None else None

    # ---- context manager ----------------------------------------------------------------------------
    def __enter__(self) -> dict:
        if self._active:
            raise LinaError("this LINA run is already active.", field="run",
                            fix="call apply() again for a second, nested pipeline call.")
        self.trace, self._carry, self._pending, self._log_sigmas = [], None, None, None
        self.stats = {k: 0 for k in self.stats}
        if self.enabled:
            self._install()
        self._active = True
        return dict(self.kwargs)

    def __exit__(self, *exc) -> bool:
        self._remove()
        self._active = False
        return False

    def _denoisers(self) -> list:
        mods = [getattr(self.pipe, n, None) for n in self.family.denoisers]
        mods = [m for m in mods if isinstance(m, torch.nn.Module)]
        if not mods:
            raise LinaError(f"{type(self.pipe).__name__} has no denoiser module ({' / '.join(self.family.denoisers)}).",
                            field="pipe", fix="load the full pipeline.")
        return mods

    def _install(self):
        try:
            for m in self._denoisers():
                self._handles.append(m.register_forward_pre_hook(self._pre, with_kwargs=True))
                self._handles.append(m.register_forward_hook(self._post, with_kwargs=True))
            sched = self.pipe.scheduler
            self._sched_state = (sched, dict(sched.__dict__))
            orig = sched.set_timesteps

            @functools.wraps(orig)
            def set_timesteps(*args, **kwargs):
                out = orig(*args, **kwargs)
                self._on_set_timesteps(sched, kwargs.get("mu"))
                return out

            sched.set_timesteps = set_timesteps
        except BaseException:
            self._remove()
            raise

    def _remove(self):
        for h in self._handles:
            h.remove()
        self._handles = []
        if self._sched_state is not None:
            sched, state = self._sched_state
            sched.__dict__.clear()
            sched.__dict__.update(state)
            self._sched_state = None
        self._masks, self._pending, self._carry, self._region_pending = {}, None, None, None

    # ---- window and schedule --------------------------------------------------------------------------
    def _on_set_timesteps(self, sched, mu):
        plan = self.plan
        beta = float(self.beta) if self.beta is not None else \
            (plan.window_end if plan.window_end > 0.0 else knee_for_family(self.family.key))
        sigma_max = progress_to_sigma(sched, 0.0, mu)
        sigma_beta = progress_to_sigma(sched, beta, mu)
        if not (math.isfinite(sigma_beta) and 0.0 < sigma_beta < sigma_max):
            raise PlanError(f"window_end={beta:g} maps to sigma {sigma_beta:g}, outside {type(sched).__name__}'s range "
                            f"(0, {sigma_max:g}).", field="plan.window_end",
                            fix="use a window_end between 0.02 and 0.9.")
        sigma_s = None
        if self.conditioning.structure is not None:
            sigma_s = progress_to_sigma(sched, plan.structure_share * beta, mu)
        sigma_c = None
        if self.conditioning.counterfactual is not None:
            share = plan.counterfactual_share
            sigma_c = 0.0 if share >= 1.0 else progress_to_sigma(sched, share, mu)
        sigma_r = None
        if self.conditioning.regions is not None:
            sigma_r = progress_to_sigma(sched, plan.region_share * beta, mu)
        self.window = Window(sigma_max, sigma_beta, beta, sigma_s, sigma_c, sigma_r)
        self.base_sigmas = sched.sigmas.detach().cpu().clone() if hasattr(sched, "sigmas") else None
        self.schedule = None
        if self.schedule_mode is False:
            pass
        elif supports_schedule(sched):
            self._install_schedule(sched)
        elif self.schedule_mode is True:
            raise LinaError(f"{type(sched).__name__} cannot take a custom schedule.", field="pipe.scheduler",
                            fix="use schedule='auto' or False, or an Euler scheduler.")
        else:
            self.notes.append(f"{type(sched).__name__}: the causal schedule needs {' or '.join(SCHEDULE_CLASSES)}; "
                              "the scheduler's own steps were kept")
        sig = getattr(sched, "sigmas", None)
        self._snap = sig.detach().cpu().double().numpy() if isinstance(sig, torch.Tensor) else None

    def _install_schedule(self, sched):
        rho = float(self.rho) if self.rho is not None else float(self.plan.early_share)
        cs = reallocate(self.base_sigmas, self.window.sigma_beta, rho)
        dev = sched.timesteps.device
        sig = cs.sigmas
        if "FlowMatchEulerDiscreteScheduler" in _class_names(sched):
            ts = sig[:-1] * float(sched.config.num_train_timesteps)
        elif (sched.config.get("timestep_type") == "continuous"
              and sched.config.get("prediction_type") == "v_prediction"):
            ts = 0.25 * torch.log(sig[:-1])
        else:
            ts = torch.from_numpy(np.asarray(sched._sigma_to_t(sig[:-1].double().numpy(), _ddpm_log_sigmas(sched)),
                                             dtype=np.float32))
        sched.timesteps = ts.to(device=dev, dtype=sched.timesteps.dtype)
        sched.sigmas = sig.to(sched.sigmas.device)
        self.schedule = cs

    # ---- per denoiser call -------------------------------------------------------------------------------
    def _sigma(self, t) -> float:
        t = float(t.flatten()[0]) if isinstance(t, torch.Tensor) else float(t)
        if self.family.timestep_to_sigma:
            sigma = t * self.family.timestep_to_sigma
        else:
            if self._log_sigmas is None:
                self._log_sigmas = _ddpm_log_sigmas(self.pipe.scheduler)
            ls = self._log_sigmas
            sigma = float(np.exp(np.interp(t, np.arange(len(ls)), ls)))
        if self._snap is not None and len(self._snap):
            near = float(self._snap[np.argmin(np.abs(self._snap - sigma))])
            if abs(near - sigma) <= 1e-3 * max(abs(sigma), 1e-6):
                sigma = near
        return sigma

    def _phase(self, sigma: float) -> tuple[str | None, float]:
        w, plan = self.window, self.plan
        if w is None:
            return None, 0.0
        if w.sigma_structure is not None and sigma > w.sigma_structure:
            return "structure", 0.0
        lam = lg.lambda_at(sigma, w.sigma_max, w.sigma_beta, plan.latent_strength, plan.latent_decay)
        if lam == 0.0:
            return None, 0.0
        return ("edit" if plan.mode == "substitute" else "add"), lam

    @staticmethod
    def _as_kwargs(module, args, kwargs) -> dict:
        if not args:
            return dict(kwargs)
        names = [n for n in inspect.signature(module.forward).parameters]
        return {**dict(zip(names, args)), **kwargs}

    def _cond_rows(self, ctx: torch.Tensor) -> list[int]:
        c = self.conditioning.positive[0][0]
        if ctx.ndim != 3 or tuple(ctx.shape[1:]) != tuple(c.shape[1:]):
            return []
        c0 = c[0].to(device=ctx.device, dtype=ctx.dtype)
        return [i for i in range(ctx.shape[0]) if torch.equal(ctx[i], c0)]

    def _swap(self, kw: dict, rows: list[int], entry) -> dict:
        cond, extras = entry
        fam, kw = self.family, dict(kw)
        ctx = kw[fam.context_arg].clone()
        ctx[rows] = cond[0].to(device=ctx.device, dtype=ctx.dtype)
        kw[fam.context_arg] = ctx
        pooled = extras.get("pooled_output")
        if fam.pooled_arg and isinstance(pooled, torch.Tensor):
            if fam.pooled_arg == "added_cond_kwargs.text_embeds":
                ack = dict(kw["added_cond_kwargs"])
                te = ack["text_embeds"].clone()
                te[rows] = pooled[0].to(device=te.device, dtype=te.dtype)
                ack["text_embeds"] = te
                kw["added_cond_kwargs"] = ack
            else:
                pp = kw[fam.pooled_arg].clone()
                pp[rows] = pooled[0].to(device=pp.device, dtype=pp.dtype)
                kw[fam.pooled_arg] = pp
        return kw

    @staticmethod
    def _take_rows(value, rows: list[int], batch: int, key: str = ""):
        if isinstance(value, dict):
            return {k: LinaRun._take_rows(v, rows, batch, k) for k, v in value.items()}
        if isinstance(value, torch.Tensor) and value.ndim >= 1 and value.shape[0] == batch and key not in _NOT_BATCHED:
            return value[rows]
        return value

    def _grid(self, kw: dict, shape) -> tuple[int, int]:
        """The latent's (height, width) in cells: packed families read it from img_ids."""
        if self.family.packed:
            ids = kw["img_ids"].reshape(-1, 3)
            return int(ids[:, 1].max()) + 1, int(ids[:, 2].max()) + 1
        return int(shape[-2]), int(shape[-1])

    def _region_masks(self, kw: dict, shape) -> list:
        """One mask per region prompt, shaped to broadcast against a prediction of ``shape``."""
        h, w = self._grid(kw, shape)
        x = kw[self.family.sample_arg]
        out = []
        for r in self.plan.region_prompts:
            m = regions.latent_mask(r.box, h, w, device=x.device, dtype=x.dtype)
            out.append(m.reshape(1, h * w, 1) if self.family.packed else m.reshape((1,) * (len(shape) - 2) + (h, w)))
        return out

    def _inner_call(self, module, kw: dict) -> torch.Tensor:
        """One extra denoiser call, not seen by the hooks (counted as ``extra_calls``); its prediction tensor."""
        self._inner = True
        try:
            o = module(**kw)
        finally:
            self._inner = False
        return o[0] if isinstance(o, tuple) else getattr(o, "sample", o)

    def _regions(self, module, kw: dict, rows: list[int], out: torch.Tensor) -> torch.Tensor:
        """The conditional rows' prediction with the region prompts composited in their boxes
        (``intervention.regions.composite``; one extra denoiser call per region)."""
        batch = out.shape[0]
        sub = {k: self._take_rows(v, rows, batch, k) for k, v in kw.items()}
        preds = [self._inner_call(module, self._swap(sub, list(range(len(rows))), enc[0]))
                 for enc in self.conditioning.regions]
        new = out.clone()
        new[rows] = regions.composite(out[rows], preds, self._region_masks(kw, out[rows].shape),
                                      self.plan.region_strength)
        return new

    def _mask(self, kw: dict, shape) -> torch.Tensor:
        x = kw[self.family.sample_arg]
        key = (tuple(shape), x.device, x.dtype)
        if key not in self._masks:
            if self.family.packed:
                h, w = self._grid(kw, shape)
                m = lg.latent_mask(self.plan, (1, 1, h, w), self.user_mask, device=x.device, dtype=x.dtype)
                m = m.reshape(1, h * w, 1)
            else:
                m = lg.latent_mask(self.plan, shape, self.user_mask, device=x.device, dtype=x.dtype)
            self._masks = {key: m}
        return self._masks[key]

    def _pre(self, module, args, kwargs):
        self.stats["denoiser_calls"] += 1
        if self._inner:
            self.stats["extra_calls"] += 1
            return None
        fam = self.family
        kw = self._as_kwargs(module, args, kwargs)
        ctx = kw.get(fam.context_arg)
        sigma = self._sigma(kw[fam.timestep_arg])
        rows = self._cond_rows(ctx) if isinstance(ctx, torch.Tensor) else []
        self.stats["matched_calls"] += bool(rows)
        phase, lam = self._phase(sigma)
        self.trace.append({"sigma": sigma, "phase": phase, "lam": lam, "rows": rows,
                           "batch": int(ctx.shape[0]) if isinstance(ctx, torch.Tensor) else 0})
        self._pending = self._region_pending = None
        if phase == "add":
            self._pending = (kw, rows, lam, sigma)
        new = kw
        if phase in ("structure", "edit") and rows:
            entry = self.conditioning.structure[0] if phase == "structure" else self.conditioning.edited[0]
            new = self._swap(new, rows, entry)
        w = self.window
        others = [i for i in range(ctx.shape[0]) if i not in rows] if rows else []
        if others and w is not None and w.sigma_counterfactual is not None and sigma > w.sigma_counterfactual:
            new = self._swap(new, others, self.conditioning.counterfactual[0])   # the negative rows of CFG
            self.trace[-1]["counterfactual_rows"] = others
        if rows and w is not None and w.sigma_region is not None and sigma > w.sigma_region:
            self._region_pending = (new, rows)
            self.trace[-1]["region_rows"] = rows
        return ((), new) if new is not kw else None

    def _post(self, module, args, kwargs, output):
        if self._inner or (self._pending is None and self._region_pending is None):
            return None
        raw = out = output[0] if isinstance(output, tuple) else getattr(output, "sample", output)
        if self._region_pending is not None:
            kw_r, rows_r = self._region_pending
            self._region_pending = None
            out = self._regions(module, kw_r, rows_r, out)
            if self._pending is None:
                return self._output(output, out)
        kw, rows, lam, sigma = self._pending
        self._pending = None
        batch = out.shape[0]
        new = out.clone()
        if rows:
            kw2 = self._swap({k: self._take_rows(v, rows, batch, k) for k, v in kw.items()}, list(range(len(rows))),
                             self.conditioning.edited[0])
            edit = self._inner_call(module, kw2)
            base = out[rows]
            a, bad = lg.combine(torch.zeros_like(base), base, edit.to(base.dtype), lam, self._mask(kw, base.shape))
            self.stats["dropped"] += bad
            new[rows] += a
            others = [i for i in range(batch) if i not in rows]
            if len(others) == len(rows):
                new[others] += a       # pipelines concatenate [uncond, cond] in the same image order
            elif others:
                log.warning("LINA: %d unconditional rows for %d conditional ones; guidance added to the conditional "
                            "rows only", len(others), len(rows))
            else:
                self._carry = (sigma, a)   # cond and uncond in separate calls: the uncond call gets a too
        elif self._carry is not None and self._carry[0] == sigma and self._carry[1].shape == out.shape:
            new = new + self._carry[1]
            self._carry = None
        elif out is raw:
            return None
        return self._output(output, new)

    @staticmethod
    def _output(output, new: torch.Tensor):
        """``output`` (a tuple, an object with ``.sample`` or a tensor) with its prediction replaced by ``new``."""
        if isinstance(output, tuple):
            return (new,) + tuple(output[1:])
        if hasattr(output, "sample"):
            output.sample = new
            return output
        return new


# ---- the user call ------------------------------------------------------------------------------------
def _parse(prompt: str, csg):
    from ..csg import parse
    from ..csg.model import CSG

    if csg is not None:
        if isinstance(csg, CSG):
            return csg
        if isinstance(csg, (str, bytes)):
            try:
                return CSG.from_json(csg)
            except LinaError as e:
                raise CSGError(f"not a CSG JSON: {e}", field="csg", fix=e.fix) from None
        raise CSGError(f"expected a CSG or its JSON, got {type(csg).__name__}.", field="csg")
    try:
        return parse(prompt)
    except LinaError:
        raise
    except Exception as e:  # noqa: BLE001 - name the input whatever the parser raised
        raise CSGError(f"the CSG parser cannot handle this prompt ({type(e).__name__}: {e}).", field="prompt",
                       fix="rephrase the prompt, or pass csg= (e.g. from lina_nodes.csg.CSG.from_json).") from None


def _adapter(adapter):
    if adapter is None or hasattr(adapter, "plan_overrides"):
        return adapter, getattr(adapter, "path", None)
    if isinstance(adapter, (str, Path)):
        from ..intervention.adapter import load_adapter

        return load_adapter(adapter), str(adapter)
    raise LinaError(f"expected a LINA adapter or its .safetensors path, got {type(adapter).__name__}.", field="adapter")


def apply(pipe, prompt: str, adapter=None, mode: str | None = None, *, csg=None, enabled: bool = True,
          schedule="auto", beta: float | None = None, rho: float | None = None, prompt_scale: float = 1.0,
          latent_scale: float = 1.0, plan_json: str = "", mask: torch.Tensor | None = None,
          max_sequence_length: int | None = None, region_strength: float = 0.0,
          shape_stand_in: bool = False) -> LinaRun:
    """Build LINA's plan and conditioning for ``prompt`` on ``pipe``'s own encoders; returns a ``LinaRun``.

    ``with apply(pipe, prompt) as kwargs: pipe(**kwargs, ...)``. ``adapter``: a LinaAdapter or the path of
    its .safetensors (None: the training-free prior). ``mode``: "add" / "substitute" (None: the plan's).
    ``enabled=False``: kwargs = the prompt, nothing installed (the plain run). ``schedule``: "auto" / True /
    False (see the module docstring). ``beta`` / ``rho``: override the plan's window end (progress) and early
    share. ``mask``: an optional user MASK multiplied into the CSG mask. ``max_sequence_length``: T5
    families' token count (default: the pipeline's). ``region_strength``: > 0 turns the region prompts on at
    that strength (LINA Plan's input of the same name; 0 keeps the plan's own). ``shape_stand_in``: True turns
    the shape stand-in on (LINA Plan's input of the same name; False keeps the plan's own)."""
    require_diffusers()
    family = family_of(pipe)
    if not isinstance(prompt, str) or not prompt.strip():
        raise LinaError(f"expected a non-empty prompt string, got {prompt!r:.60}.", field="prompt")
    if mode not in (None, "", *MODES):
        raise LinaError(f"unknown mode {mode!r}.", field="mode",
                        fix="use 'add' or 'substitute' (or None for the plan's).")
    if schedule not in ("auto", True, False):
        raise LinaError(f"must be 'auto', True or False, got {schedule!r}.", field="schedule")
    for name, v in (("beta", beta), ("rho", rho)):
        if v is not None and not (isinstance(v, (int, float)) and 0.0 < float(v) < 1.0):
            raise LinaError(f"must be a number strictly between 0 and 1, got {v!r}.", field=name,
                            fix="leave it None to use the plan's value.")
    if max_sequence_length is not None and not family.t5_default_len:
        raise LinaError(f"{type(pipe).__name__} has no T5 encoder; max_sequence_length does not apply.",
                        field="max_sequence_length")
    if not enabled:
        kw = {"prompt": prompt}
        if max_sequence_length is not None:
            kw["max_sequence_length"] = int(max_sequence_length)
        return LinaRun(pipe, family, kw)
    scheduler_kind(pipe.scheduler)
    if schedule is True and not supports_schedule(pipe.scheduler):
        raise LinaError(f"{type(pipe.scheduler).__name__} cannot take a custom schedule.", field="pipe.scheduler",
                        fix=f"use {' or '.join(SCHEDULE_CLASSES)} (scheduler.from_config(pipe.scheduler.config)), "
                            "or schedule='auto' / False.")
    g = _parse(prompt, csg)
    adapter, adapter_src = _adapter(adapter)
    enc = PipelineTextIO(pipe, family, max_sequence_length)
    try:
        lc = build_conditioning(g, enc, adapter, prompt_scale, latent_scale, mode or "", plan_json,
                                plan_changes=lever_changes(region_strength, shape_stand_in))
    except LinaError as e:
        if adapter is not None and (e.field or "").startswith("adapter"):
            raise type(e)(f"{adapter_src or 'the adapter'} does not fit {type(pipe).__name__} "
                          f"({enc.encoder_id}): {e}", field="adapter", fix=e.fix) from None
        raise
    return LinaRun(pipe, family, enc.pipeline_kwargs(lc.positive[0]), lc, schedule, beta, rho, mask)
