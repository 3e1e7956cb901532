"""One sampling routine for LINA Sampler and the in-process tools: SamplerCustomAdvanced's steps (empty-latent
channels, the seed's noise, the noise mask, progress and live previews) around any guider."""
from __future__ import annotations

import comfy.model_management
import comfy.sample
import comfy.samplers
import comfy.utils


def sample_latent(guider, latent: dict, sigmas, sampler_name: str, seed: int, callback=None,
                  previews: bool = True, pbar: bool | None = None) -> dict:
    """Sample ``latent`` (a LATENT dict) with ``guider`` on ``sigmas``; returns the sampled LATENT.

    ``callback(step, x0, x, total)`` replaces the default one, which reports progress and live previews to
    the ComfyUI UI as SamplerCustomAdvanced does (``previews=False``: no callback at all). ``pbar``: the
    console progress bar (default: ComfyUI's setting)."""
    x = comfy.sample.fix_empty_latent_channels(guider.model_patcher, latent["samples"])
    noise = comfy.sample.prepare_noise(x, int(seed), latent.get("batch_index"))
    if callback is None and previews:
        import latent_preview  # ComfyUI's own; progress bar + preview image per step

        callback = latent_preview.prepare_callback(guider.model_patcher, int(sigmas.shape[-1]) - 1)
    samples = guider.sample(noise, x, comfy.samplers.sampler_object(sampler_name), sigmas,
                            denoise_mask=latent.get("noise_mask"), callback=callback,
                            disable_pbar=not (comfy.utils.PROGRESS_BAR_ENABLED if pbar is None else pbar), seed=int(seed))
    out = latent.copy()
    out["samples"] = samples.to(comfy.model_management.intermediate_device())
    return out
