"""Which diffusers pipelines LINA knows, and how each one talks to its denoiser (no ComfyUI import).

A ``Family`` records what differs between pipelines: the family key of ``intervention.schedule`` (for the
knee), the denoiser attribute(s), the names of the denoiser's latent / timestep / text inputs, where the
pooled text vector goes, how the timestep the denoiser receives maps to sigma, and the token keys of the
ComfyUI-style token dict the core's token alignment reads.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import LinaError


@dataclass(frozen=True)
class Family:
    key: str                      # intervention.schedule family key (knee_for_family)
    denoisers: tuple              # pipeline attributes holding the denoiser module(s)
    sample_arg: str               # the denoiser's latent input
    timestep_arg: str
    context_arg: str              # the text tokens input
    pooled_arg: str | None        # "added_cond_kwargs.text_embeds", "pooled_projections" or None
    timestep_to_sigma: float      # flow families: sigma = timestep * this; 0 = DDPM table lookup (eps / v models)
    packed: bool = False          # Flux: [B, H/2*W/2, C*4] token latents, grid read from img_ids
    t5_default_len: int = 0       # the pipeline's default max_sequence_length (0 = no T5 encoder)


SD15 = Family("sd15", ("unet",), "sample", "timestep", "encoder_hidden_states", None, 0.0)
SDXL = Family("sdxl", ("unet",), "sample", "timestep", "encoder_hidden_states", "added_cond_kwargs.text_embeds", 0.0)
SD3 = Family("sd3", ("transformer",), "hidden_states", "timestep", "encoder_hidden_states", "pooled_projections",
             1e-3, t5_default_len=256)
FLUX = Family("flux", ("transformer",), "hidden_states", "timestep", "encoder_hidden_states", "pooled_projections",
              1.0, packed=True, t5_default_len=512)
WAN = Family("wan21", ("transformer", "transformer_2"), "hidden_states", "timestep", "encoder_hidden_states", None,
             1e-3, t5_default_len=512)
PHYSWORLD = Family("physworld", ("denoiser",), "x", "timesteps", "context", None, 1e-3)

# exact pipeline class names (subclasses are matched through their MRO)
PIPELINES = {
    "StableDiffusionPipeline": SD15,
    "StableDiffusionXLPipeline": SDXL,
    "StableDiffusion3Pipeline": SD3,
    "FluxPipeline": FLUX,
    "WanPipeline": WAN,
    "PhysWorldPipeline": PHYSWORLD,
}
SUPPORTED = ", ".join(PIPELINES)


def family_of(pipe) -> Family:
    """The LINA family of a diffusers pipeline; a clear error naming the class when it is not supported."""
    for cls in type(pipe).__mro__:
        fam = PIPELINES.get(cls.__name__)
        if fam is not None:
            return fam
    raise LinaError(f"{type(pipe).__name__} is not a pipeline LINA supports (supported: {SUPPORTED}).",
                    field="pipe", fix="load the text-to-image / text-to-video pipeline of one of these families "
                                      "(e.g. StableDiffusionXLPipeline.from_pretrained(...)), or use the ComfyUI "
                                      "nodes.")
