"""The embedded PhysWorld model as a diffusers pipeline: ``PhysWorldPipeline.from_weights()``.

Components: ``tokenizer`` (the word tokenizer), ``text_encoder`` and ``denoiser`` (the pack's own torch
modules, loaded and checksum-verified by ``physworld_model.load_bundle``) and a
``FlowMatchEulerDiscreteScheduler`` with the model's shift. ``__call__`` takes the steps of ComfyUI's
``euler`` sampler on the ``simple`` schedule with ComfyUI's CFG rule (on denoised images), from the noise
KSampler draws for the seed (``torch.randn((1, 3, S, S), generator=torch.Generator().manual_seed(seed))``),
so an image equals what the LINA PhysWorld Loader + KSampler produce for the same prompt, seed, steps and cfg
(tests/diffusers/test_physworld_pipeline.py measures it). The Euler update goes through the scheduler's
``step`` with ComfyUI's derivative ``d = (x - denoised) / sigma``, so ``lina_nodes.diffusers.apply`` (window,
hooks, causal schedule) works on this pipeline like on the others.
"""
from __future__ import annotations

import numpy as np
import torch
from diffusers import DiffusionPipeline, FlowMatchEulerDiscreteScheduler
from diffusers.pipelines.pipeline_utils import ImagePipelineOutput

from ..errors import LinaError
from ..paths import PHYSWORLD_DEFAULT_WEIGHTS
from ..physworld_model.diffusion import comfy_sigmas, to_uint8
from ..physworld_model.model import load_bundle


class PhysWorldPipeline(DiffusionPipeline):
    model_cpu_offload_seq = "text_encoder->denoiser"

    def __init__(self, tokenizer, text_encoder, denoiser, scheduler, image_size: int = 64):
        super().__init__()
        self.register_modules(tokenizer=tokenizer, text_encoder=text_encoder, denoiser=denoiser, scheduler=scheduler)
        self.image_size = int(image_size)

    @classmethod
    def from_weights(cls, path=None, verify: bool = True) -> "PhysWorldPipeline":
        """Load ``weights/physworld_default.safetensors`` (or ``path``); a bad file is refused with its name."""
        b = load_bundle(path or PHYSWORLD_DEFAULT_WEIGHTS, verify=verify)
        shift = float(b.config["diffusion"].get("shift", 1.0))
        sched = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=shift)
        pipe = cls(b.tokenizer, b.text_encoder, b.denoiser, sched, int(b.config["denoiser"]["image_size"]))
        pipe.weights_path = b.path
        return pipe

    @torch.no_grad()
    def encode_prompt(self, prompt: str):
        """(cond [1, L, D], pooled [1, D]) as the LINA PhysWorld Loader's CLIP encodes ``prompt``."""
        dev = self.text_encoder.tok.weight.device
        ids = torch.as_tensor(self.tokenizer.encode_batch([prompt]), device=dev)
        cond, pooled = self.text_encoder(ids)
        return cond.float(), pooled[:1].float()

    @torch.no_grad()
    def __call__(self, prompt: str | None = None, negative_prompt: str = "", num_inference_steps: int = 20,
                 guidance_scale: float = 4.0, seed: int | None = None, generator: torch.Generator | None = None,
                 height: int | None = None, width: int | None = None, latents: torch.Tensor | None = None,
                 prompt_embeds: torch.Tensor | None = None, pooled_prompt_embeds: torch.Tensor | None = None,
                 sigmas=None, output_type: str = "np", return_dict: bool = True, callback_on_step_end=None):
        """One image. ``seed`` (or a CPU ``generator``) draws ComfyUI's noise; ``sigmas`` (unshifted, without the
        final 0) replace ComfyUI's "simple" schedule. ``output_type``: "np" (uint8 [1, S, S, 3], as SaveImage),
        "pt" (model space -1..1) or "pil"."""
        size = int(height or width or self.image_size)
        if width not in (None, size) or (height is not None and height != size):
            raise LinaError(f"PhysWorld images are square; got height={height}, width={width}.", field="width")
        if prompt_embeds is None:
            if not isinstance(prompt, str):
                raise LinaError("give a prompt string or prompt_embeds.", field="prompt")
            prompt_embeds, _ = self.encode_prompt(prompt)
        cfg = float(guidance_scale)
        uncond = self.encode_prompt(negative_prompt or "")[0] if cfg != 1.0 else None
        if sigmas is None:
            sigmas = comfy_sigmas(int(num_inference_steps), "simple", 1.0)[:-1].tolist()
        self.scheduler.set_timesteps(sigmas=list(sigmas), device="cpu")
        if latents is None:
            if generator is None:
                generator = torch.Generator().manual_seed(int(seed or 0))
            latents = torch.randn((1, 3, size, size), generator=generator)
        sched = self.scheduler
        x = latents.float() * sched.sigmas[0]
        B = x.shape[0]
        cond = prompt_embeds.expand(B, -1, -1) if prompt_embeds.shape[0] == 1 else prompt_embeds
        for i, t in enumerate(sched.timesteps):
            sigma = sched.sigmas[i]
            if uncond is None:
                xs, ctx = x, cond
            else:
                xs, ctx = torch.cat([x, x]), torch.cat([cond, uncond.expand(B, -1, -1)])
            ts = t.expand(xs.shape[0]).float()
            v = self.denoiser(xs, ts, context=ctx).float()
            den = xs - v * sigma
            if uncond is not None:
                c, u = den[:B], den[B:]
                den = u + (c - u) * cfg
            d = (x - den) / sigma
            x = sched.step(d, t, x).prev_sample
            if callback_on_step_end is not None:
                callback_on_step_end(self, i, t, {"latents": x})
        if output_type == "pt":
            image = x
        else:
            image = to_uint8(x)
            if output_type == "pil":
                from PIL import Image

                image = [Image.fromarray(a) for a in image]
            elif output_type != "np":
                raise LinaError(f"unknown output_type {output_type!r}.", field="output_type", fix="use np, pt or pil.")
        if not return_dict:
            return (image,)
        return ImagePipelineOutput(images=image)


__all__ = ["PhysWorldPipeline", "np"]
