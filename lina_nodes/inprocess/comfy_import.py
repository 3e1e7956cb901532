"""Import ComfyUI's own modules in this process (CPU), for tools that need its schedulers without a server."""
from __future__ import annotations

import sys

from ..errors import ScheduleError
from ..server.runtime import find_comfyui

# Family key -> (ComfyUI model-config class, model type) for the families `lina schedule` knows.
FAMILY_CONFIGS = {
    "sd15": ("SD15", "EPS"),
    "sdxl": ("SDXL", "EPS"),
    "sd3": ("SD3", "FLOW"),
    "flux": ("Flux", "FLUX"),
    "wan21": ("WAN21_T2V", "FLOW"),
    "wan22": ("WAN22_T2V", "FLOW"),
}


def import_comfy(comfyui_dir=None):
    """Put the ComfyUI tree on sys.path (CPU mode) and return its ``comfy`` package."""
    root = str(find_comfyui(comfyui_dir))
    if root not in sys.path:
        sys.path.insert(0, root)
    import comfy.cli_args

    comfy.cli_args.args.cpu = True
    import comfy.samplers  # noqa: F401

    return sys.modules["comfy"]


def model_sampling_for(family: str, shift: float | None = None, comfyui_dir=None):
    """ComfyUI's model_sampling object for a family, as its loader would build it."""
    if family not in FAMILY_CONFIGS:
        raise ScheduleError(f"unknown model family {family!r}.", field="family",
                            fix=f"use one of {', '.join(FAMILY_CONFIGS)}.")
    import_comfy(comfyui_dir)
    import comfy.model_base as mb
    import comfy.supported_models as sm

    cls_name, mtype = FAMILY_CONFIGS[family]
    cls = getattr(sm, cls_name)
    cfg = cls(dict(cls.unet_config))
    if shift is not None:
        cfg.sampling_settings = {**cfg.sampling_settings, "shift": shift}
    return mb.model_sampling(cfg, getattr(mb.ModelType, mtype))


class SamplingOnlyModel:
    """What schedulers read from a MODEL, for a family, without weights: ComfyUI's real
    ``model_sampling`` (``get_model_object("model_sampling")``) and model config (``model.model_config``)."""

    def __init__(self, family: str, shift: float | None = None, comfyui_dir=None):
        self.family = family
        self._ms = model_sampling_for(family, shift, comfyui_dir)
        import types

        import comfy.supported_models as sm

        cls = getattr(sm, FAMILY_CONFIGS[family][0])
        self.model = types.SimpleNamespace(model_config=cls(dict(cls.unet_config)))

    def get_model_object(self, name: str):
        if name != "model_sampling":
            raise AttributeError(f"SamplingOnlyModel has no {name!r}")
        return self._ms
