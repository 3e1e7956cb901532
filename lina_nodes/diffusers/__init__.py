"""LINA for diffusers users: the same CSG, plan, conditioning edit, early-window guidance and causal schedule on
diffusers pipelines (SD1.5, SDXL, SD3, Flux, Wan T2V, and the embedded PhysWorld model). No ComfyUI import;
importing this package does not import diffusers (``apply`` says so when it is missing).

    from lina_nodes.diffusers import apply
    with apply(pipe, "a red ball on a table under a lamp") as kwargs:
        image = pipe(**kwargs, num_inference_steps=20).images[0]

See ``runtime`` (what is installed during the call) and docs/diffusers.md.
"""
from __future__ import annotations

from .families import PIPELINES, Family, family_of  # noqa: F401
from .runtime import LinaRun, apply, progress_to_sigma  # noqa: F401


def __getattr__(name):
    if name == "PhysWorldPipeline":
        from .physworld import PhysWorldPipeline

        return PhysWorldPipeline
    raise AttributeError(name)


__all__ = ["apply", "LinaRun", "family_of", "Family", "PIPELINES", "progress_to_sigma", "PhysWorldPipeline"]
