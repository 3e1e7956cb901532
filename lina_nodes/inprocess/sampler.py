"""Sample a ComfyUI model in this process with the code the nodes run (no server): the tool behind
``lina physworld eval --lina`` and ``lina knee``.

``InProcessSampler.physworld(weights)`` loads the embedded model through the LINA PhysWorld Loader's
own function; ``InProcessSampler.checkpoint(path)`` any checkpoint ComfyUI's loader reads. ``sample``
runs ComfyUI's Euler sampler through a CFGGuider (LINA off) or the LINA Guider with the plan LINA Plan
builds from the prompt's parsed CSG and the plan-driven Causal Scheduler (LINA on), counts the model
evaluations, and can record the predicted clean image at every step (x0 probe) or start from another
prompt and swap to the real one at a given progress (prompt swap, via ComfyUI's timestep ranges).
The noise is ComfyUI's for the seed, so an image equals what KSampler draws for the same settings.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import LinaError
from ..intervention.plan import as_plan
from .comfy_import import import_comfy

ABLATIONS = ("prompt", "latent", "schedule", "structure")


@dataclass
class SampleResult:
    image: np.ndarray                       # uint8 HxWx3
    nfe: int                                # model evaluations, counted per image in the batch
    probes: list = field(default_factory=list)   # [(progress, uint8 HxWx3 of the predicted clean image)]
    plan: object = None


def _uint8(img: torch.Tensor) -> np.ndarray:
    """ComfyUI IMAGE [B, H, W, C] 0..1 -> uint8 HxWx3 (as SaveImage: truncation)."""
    return (img[0, ..., :3].detach().clamp(0, 1).cpu().numpy() * 255.0).clip(0, 255).astype(np.uint8)


class InProcessSampler:
    def __init__(self, model, clip, vae, name: str = ""):
        import_comfy()
        self.model, self.clip, self.vae, self.name = model, clip, vae, name
        self.ms = model.get_model_object("model_sampling")
        self._enc, self._plans = {}, {}

    # ---- loading ---------------------------------------------------------------------------------
    @classmethod
    def physworld(cls, weights) -> "InProcessSampler":
        import_comfy()
        from .physworld_objects import build_comfy_objects

        m, c, v = build_comfy_objects(weights)
        return cls(m, c, v, name=str(weights))

    @classmethod
    def checkpoint(cls, path) -> "InProcessSampler":
        import_comfy()
        import comfy.sd

        try:
            out = comfy.sd.load_checkpoint_guess_config(str(path), output_vae=True, output_clip=True)
        except Exception as e:  # noqa: BLE001 - ComfyUI raises many kinds; name the file
            raise LinaError(f"{path}: ComfyUI could not load this checkpoint ({e}).", field="checkpoint",
                            fix="pass a .safetensors checkpoint with model, text encoder and VAE.") from None
        if out[1] is None or out[2] is None:
            raise LinaError(f"{path} has no text encoder or no VAE.", field="checkpoint",
                            fix="use a full checkpoint (model + CLIP + VAE).")
        return cls(out[0], out[1], out[2], name=str(path))

    # ---- helpers ---------------------------------------------------------------------------------
    def encode(self, text: str):
        """CLIPTextEncode, cached per text as ComfyUI caches a node whose inputs did not change."""
        if text not in self._enc:
            if len(self._enc) > 512:
                self._enc.clear()
            self._enc[text] = self.clip.encode_from_tokens_scheduled(self.clip.tokenize(text))
        return self._enc[text]

    def plan_for(self, prompt: str, csg=None, prompt_scale: float = 1.0, latent_scale: float = 1.0, mode: str = "",
                 adapter=None, plan_changes: dict | None = None):
        """LINA Plan's outputs (plan, positive, lina_positive) for a prompt, cached like the node."""
        from ..csg import parse
        from .plan_build import build_plan

        key = (prompt, None if csg is None else csg.to_json(), prompt_scale, latent_scale, mode, id(adapter),
               repr(sorted((plan_changes or {}).items())))
        if key not in self._plans:
            if len(self._plans) > 512:
                self._plans.clear()
            g = csg if csg is not None else parse(prompt)
            self._plans[key] = build_plan(g, self.clip, adapter=adapter, prompt_scale=prompt_scale,
                                          latent_scale=latent_scale, mode=mode, plan_changes=plan_changes)
        return self._plans[key]

    def latent_shape(self, size: int) -> tuple:
        """(1, C, H, W) of an empty image latent of ``size`` pixels for this model and VAE."""
        ch = int(getattr(self.model.model.latent_format, "latent_channels", 4))
        ds = int(self.vae.spacial_compression_encode())
        if size % ds:
            raise LinaError(f"size {size} is not a multiple of this VAE's {ds}x downscale.", field="size")
        return (1, ch, size // ds, size // ds)

    def progress_of(self, sigma: float) -> float:
        """Denoising progress p with model_sampling.percent_to_sigma(p) == sigma (bisection)."""
        lo, hi = 0.0, 1.0
        for _ in range(40):
            mid = (lo + hi) / 2
            if float(self.ms.percent_to_sigma(mid)) > sigma:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    def base_sigmas(self, steps: int, scheduler: str = "simple") -> torch.Tensor:
        import comfy.samplers

        return comfy.samplers.calculate_sigmas(self.ms, scheduler, steps).cpu()

    # ---- sampling ----------------------------------------------------------------------------------
    def sample(self, *args, **kwargs) -> SampleResult:
        """One image; see ``_sample`` for the arguments. Runs under ``torch.inference_mode`` as ComfyUI does."""
        with torch.inference_mode():
            return self._sample(*args, **kwargs)

    def _sample(self, prompt: str, seed: int, steps: int = 20, cfg: float = 4.0, size: int = 64,
               lina: str = "off", ablate=(), mode: str = "", csg=None, sampler: str = "euler",
               scheduler: str = "simple", probe: bool = False, swap_from: str | None = None,
               swap_at: float = 0.0, negative: str = "", prompt_scale: float = 1.0,
               latent_scale: float = 1.0, structure_share: float | None = None, adapter=None,
               plan_changes: dict | None = None, init_image=None, noise_mask=None) -> SampleResult:
        """One image. ``lina``: "off", "prior" (training-free plan from the prompt's parsed CSG, or
        ``csg`` if given) or "adapter" (the plan ``adapter``, a LinaAdapter, predicts). ``ablate``:
        components to remove (prompt: no physics-subspace edit, c' is the raw causal completion; latent:
        no latent term; schedule: the base scheduler; structure: no structure-prompt phase). ``mode``:
        override the plan's mode (add / substitute); ``prompt_scale`` / ``latent_scale`` scale the plan's
        strengths as LINA Plan's inputs do; ``structure_share`` replaces the plan's. ``swap_from``:
        sample with this prompt until progress ``swap_at``, then with ``prompt``. ``plan_changes``: plan fields
        set last (validated), e.g. ``{"layout_strength": 0.5, "layout_share": 0.5}`` (the lever search).
        ``init_image`` (uint8 HxWx3) and ``noise_mask`` (HxW, 1 = resample, 0 = keep): masked inpainting as
        VAEEncode + SetLatentNoiseMask feed KSampler (ComfyUI's ``denoise_mask``); default: an empty latent."""
        import comfy.samplers

        from .guider import LinaCFGGuider
        from .sampling import sample_latent
        from .sigmas import causal_sigmas

        bad = set(ablate) - set(ABLATIONS)
        if bad:
            raise LinaError(f"unknown ablation(s) {sorted(bad)}.", field="ablate", fix=f"use {', '.join(ABLATIONS)}.")
        if lina not in ("off", "prior", "adapter"):
            raise LinaError(f"unknown LINA setting {lina!r}.", field="lina", fix="use off, prior or adapter.")
        if (lina == "adapter") != (adapter is not None):
            raise LinaError("an adapter goes with lina='adapter' and lina='adapter' needs one.", field="adapter",
                            fix="pass a loaded LINA adapter (intervention.adapter.load_adapter) with lina='adapter'.")
        if swap_from is not None and not 0.0 <= swap_at <= 1.0:
            raise LinaError(f"swap_at must be in [0, 1], got {swap_at}.", field="swap_at")
        model = self.model.clone()
        count = [0]

        def counter(apply_model, args):
            count[0] += int(args["input"].shape[0])
            return apply_model(args["input"], args["timestep"], **args["c"])

        model.set_model_unet_function_wrapper(counter)
        neg = self.encode(negative)
        plan = None
        if lina == "off":
            positive = self.encode(prompt)
        else:
            plan, positive, lina_positive = self.plan_for(prompt, csg, 0.0 if "prompt" in ablate else prompt_scale,
                                                          latent_scale, mode, adapter, plan_changes)
            if "latent" in ablate:
                plan = plan.updated(latent_strength=0.0)
            if "structure" in ablate:
                plan = plan.updated(structure_share=0.0)
            elif structure_share is not None and plan.plan.structure_prompt:
                plan = plan.updated(structure_share=float(structure_share))
        if swap_from is not None:
            # swap_from for progress < swap_at, the prompt from swap_at on (ComfyUI timestep ranges; no step
            # sees both)
            end = max(0.0, swap_at - 1e-4)
            first = [] if swap_at <= 0.0 else \
                [[t, {**d, "start_percent": 0.0, "end_percent": end}] for t, d in self.encode(swap_from)]
            second = [] if swap_at >= 1.0 else \
                [[t, {**d, "start_percent": swap_at, "end_percent": 1.0}] for t, d in positive]
            positive = first + second
        guider = comfy.samplers.CFGGuider(model) if lina == "off" else LinaCFGGuider(model, plan, lina_positive)
        guider.set_conds(positive, neg)
        if lina == "off" or "schedule" in ablate:
            sigmas = self.base_sigmas(steps, scheduler)
        else:
            sigmas = causal_sigmas(model, scheduler, steps, plan.plan.window_end, plan.plan.early_share, 1.0)[1]
        guider.set_cfg(cfg)
        probes = []

        def callback(step, x0, x, total):
            if probe:
                sig = float(sigmas[step])
                probes.append((self.progress_of(sig), _uint8(self.vae.decode(x0))))

        # KSampler's noise for this seed, through the nodes' own sampling routine
        if init_image is None:
            latent = {"samples": torch.zeros(self.latent_shape(size))}
        else:
            px = torch.from_numpy(np.ascontiguousarray(np.asarray(init_image, np.uint8)[..., :3])).float() / 255.0
            latent = {"samples": self.vae.encode(px[None])}
        if noise_mask is not None:
            m = torch.as_tensor(np.asarray(noise_mask, np.float32))
            latent["noise_mask"] = m.reshape((-1, 1, m.shape[-2], m.shape[-1]))
        out = sample_latent(guider, latent, sigmas, sampler, int(seed),
                            callback=callback, pbar=False)
        img = _uint8(self.vae.decode(out["samples"]))
        return SampleResult(img, count[0], probes, None if plan is None else as_plan(plan))

