"""The LINA causality-aware step schedule (LINA_METHOD.md, 2.4), as pure functions.

Visual causal structure forms in the first, high-noise denoising steps. The causal schedule keeps
the number of steps N and the base scheduler's sigma range, but gives a share ``rho`` of the steps
to the early window ``[sigma_max, sigma_beta]`` and the rest to ``[sigma_beta, 0]``. Inside each
segment the steps are spaced like the base scheduler: the base schedule is read as a curve
``sigma(u)`` over step position ``u`` in [0, 1] (interpolated in log-sigma), and each segment
samples that curve uniformly in ``u``.

``beta`` is a fraction of denoising progress, in ComfyUI's convention
(``model_sampling.percent_to_sigma``): 0 is the start of sampling (pure noise), 1 the end.
Nothing here imports ComfyUI.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..errors import ScheduleError

# Structure-formation knee per model family, as a fraction of denoising progress (beta = window end).
# Published: the LINA authors' later paper gives SD3.5-Large 11%, Qwen-Image 14%, FLUX.2-dev 21%.
# Measured here: PhysWorld, with `lina knee --n 24`. Every other family gets 0.20, our prior until
# measured: `lina knee` measures a model's own knee (x0 probe + prompt swap), and the result goes in
# the scheduler's `beta` or the plan's `window_end` (see FAMILY_KNEE_SOURCES and family_note()).
FAMILY_KNEES: dict[str, float] = {
    "sd3": 0.11,
    "qwen_image": 0.14,
    "flux2": 0.21,
    "flux": 0.21,  # [ours] FLUX.1 shares FLUX.2's flow transformer design; FLUX.2-dev's 21% until measured
    "sd15": 0.20,  # [ours]
    "sdxl": 0.20,  # [ours]
    "wan21": 0.20,  # [ours] Wan 2.1 and Wan 2.2 A14B (its two experts load as WAN21_T2V)
    "wan22": 0.20,  # [ours] Wan 2.2 TI2V 5B (WAN22_T2V)
    "hunyuan_video": 0.20,  # [ours]
    "hunyuan_image": 0.20,  # [ours]
    "ltxv": 0.20,  # [ours]
    "chroma": 0.21,  # [ours] FLUX.1-schnell-derived: the FLUX value until measured
    "hidream": 0.20,  # [ours]
    "lumina2": 0.20,  # [ours]
    "auraflow": 0.20,  # [ours]
    "pixart": 0.20,  # [ours]
    "hunyuan_dit": 0.20,  # [ours]
    "cosmos": 0.20,  # [ours]
    "mochi": 0.20,  # [ours]
    "omnigen2": 0.20,  # [ours]
    "physworld": 0.39,  # [ours] measured: `lina knee --n 24` on the shipped model (prompt-swap half drop)
    "default": 0.20,  # [ours]
}
# Where each number comes from (shown by `family_info`, the plan's note and the README table).
_PUBLISHED = "published: LINA authors' follow-up paper"
FAMILY_KNEE_SOURCES: dict[str, str] = {
    "sd3": f"{_PUBLISHED} (SD3.5-Large 11%)",
    "qwen_image": f"{_PUBLISHED} (Qwen-Image 14%)",
    "flux2": f"{_PUBLISHED} (FLUX.2-dev 21%)",
    "flux": "borrowed: FLUX.2-dev's published 21% (FLUX.1 not measured)",
    "chroma": "borrowed: the FLUX value (Chroma is FLUX.1-schnell-derived; not measured)",
    "physworld": "measured here: `lina knee --n 24` on the shipped PhysWorld model",
}
PRIOR_SOURCE = "LINA's prior, not measured for this family"
DEFAULT_RHO = 0.35

# ComfyUI model-config class names (comfy/supported_models.py, ComfyUI 0.3.75) -> our family keys.
# Wan 2.2 A14B's high- and low-noise experts have Wan 2.1's layout and load as WAN21_T2V (so they get
# the wan21 entry); WAN22_T2V is Wan 2.2 TI2V 5B (48-channel latents); WAN22_Camera / S2V / Animate
# subclass WAN21_T2V and are listed here by name.
_CONFIG_FAMILIES = {
    "SD15": "sd15", "SD20": "sd15", "SD21UnclipL": "sd15", "SD21UnclipH": "sd15", "SD15_instructpix2pix": "sd15",
    "LotusD": "sd15", "SD_X4Upscaler": "sd15",
    "SDXL": "sdxl", "SDXLRefiner": "sdxl", "SSD1B": "sdxl", "Segmind_Vega": "sdxl", "KOALA_700M": "sdxl",
    "KOALA_1B": "sdxl", "SDXL_instructpix2pix": "sdxl",
    "SD3": "sd3",
    "Flux": "flux", "FluxSchnell": "flux", "FluxInpaint": "flux", "Flux2": "flux2",
    "Chroma": "chroma", "ChromaRadiance": "chroma",
    "HiDream": "hidream",
    "QwenImage": "qwen_image",
    "Lumina2": "lumina2", "ZImage": "lumina2",
    "AuraFlow": "auraflow", "PixArtAlpha": "pixart", "PixArtSigma": "pixart",
    "HunyuanDiT": "hunyuan_dit", "HunyuanDiT1": "hunyuan_dit",
    "Omnigen2": "omnigen2",
    "WAN21_T2V": "wan21", "WAN21_I2V": "wan21", "WAN21_FunControl2V": "wan21", "WAN21_Vace": "wan21",
    "WAN21_Camera": "wan21", "WAN21_HuMo": "wan21",
    "WAN22_T2V": "wan22", "WAN22_S2V": "wan22", "WAN22_Camera": "wan22", "WAN22_Animate": "wan22",
    "HunyuanVideo": "hunyuan_video", "HunyuanVideoI2V": "hunyuan_video", "HunyuanVideoSkyreelsI2V": "hunyuan_video",
    "HunyuanVideo15": "hunyuan_video", "HunyuanVideo15_SR_Distilled": "hunyuan_video",
    "HunyuanImage21": "hunyuan_image", "HunyuanImage21Refiner": "hunyuan_image",
    "LTXV": "ltxv",
    "GenmoMochi": "mochi",
    "CosmosT2V": "cosmos", "CosmosI2V": "cosmos", "CosmosT2IPredict2": "cosmos", "CosmosI2VPredict2": "cosmos",
    "PhysWorldConfig": "physworld",
}
# Later subclasses of a known family (a ComfyUI newer than 0.3.75): matched by name prefix, with a note.
_PREFIX_FAMILIES = (("wan22", "wan22"), ("wan21", "wan21"), ("flux2", "flux2"), ("flux", "flux"),
                    ("sdxl", "sdxl"), ("sd3", "sd3"), ("hunyuanvideo", "hunyuan_video"), ("qwenimage", "qwen_image"),
                    ("chroma", "chroma"), ("ltxv", "ltxv"), ("hidream", "hidream"))


def family_from_config_name(name: str) -> str:
    """Map a ComfyUI model-config class name (``SD15``, ``SD3``, ``WAN21_T2V``...) to a family key."""
    if name in _CONFIG_FAMILIES:
        return _CONFIG_FAMILIES[name]
    low = name.lower()
    for prefix, fam in _PREFIX_FAMILIES:
        if low.startswith(prefix):
            return fam
    return "default"


def knee_for_family(family: str) -> float:
    """Default structure-window end ``beta`` (progress fraction) for a family key."""
    return FAMILY_KNEES.get(family, FAMILY_KNEES["default"])


def knee_source(family: str) -> str:
    """Where the family's default window end comes from (published, borrowed, measured or our prior)."""
    return FAMILY_KNEE_SOURCES.get(family, PRIOR_SOURCE)


def family_info(config_name: str) -> dict:
    """Everything the plan output and the log show about a model's default window.

    ``{"config": name, "family": key, "known": bool, "match": "exact"|"prefix"|"none",
    "window_end": beta, "source": text, "note": text ("" when the number is published or measured)}``.
    """
    name = str(config_name or "")
    if name in _CONFIG_FAMILIES:
        match = "exact"
    elif family_from_config_name(name) != "default":
        match = "prefix"
    else:
        match = "none"
    fam = family_from_config_name(name)
    return {"config": name, "family": fam, "known": match != "none", "match": match,
            "window_end": knee_for_family(fam), "source": knee_source(fam) if match != "none" else
            "LINA's default window (unknown family)", "note": family_note(name)}


def family_note(config_name: str) -> str:
    """A one-line note for the plan output and the log; "" when the family's window end is published or measured.

    Unknown model class: the default window is used and the note says so (never silently). Known family
    without a measured knee: the note says the number is LINA's prior. Either way it names `lina knee`.
    """
    name = str(config_name or "") or "(no model config)"
    fam = family_from_config_name(name)
    beta = knee_for_family(fam)
    how = ("measure this model's own knee with `lina knee` and set the scheduler's beta "
           "(or the plan's window_end) to it")
    if fam == "default":
        return (f"unknown model family (ComfyUI model class {name}): LINA uses its default window end "
                f"{beta:.2f} of denoising progress, a guess; {how}.")
    prefix = "" if name in _CONFIG_FAMILIES else f" (matched by the name prefix of {name})"
    if fam in FAMILY_KNEE_SOURCES and not FAMILY_KNEE_SOURCES[fam].startswith("borrowed"):
        return "" if not prefix else f"family {fam}{prefix}: window end {beta:.2f}, {knee_source(fam)}."
    return (f"family {fam}{prefix}: window end {beta:.2f} is {knee_source(fam)}; {how}.")


@dataclass(frozen=True)
class CausalSchedule:
    """A causal schedule and how it was built."""

    sigmas: torch.Tensor  # N + 1 values, strictly decreasing, ending at 0
    sigma_beta: float  # end of the early window, in the model's sigma space
    early_steps: int  # steps whose whole interval lies in [sigma_beta, sigma_max]
    steps: int

    @property
    def early_share(self) -> float:
        return self.early_steps / self.steps if self.steps else 0.0


def _as_array(base: Sequence[float] | torch.Tensor | np.ndarray, name: str) -> np.ndarray:
    if isinstance(base, torch.Tensor):
        arr = base.detach().to("cpu", torch.float64).numpy()
    else:
        arr = np.asarray(base, dtype=np.float64)
    if arr.ndim != 1:
        raise ScheduleError(f"expected a 1-D list of sigmas, got shape {tuple(arr.shape)}.", field=name)
    if arr.size < 3:
        raise ScheduleError(
            f"the causal schedule needs at least 2 steps (3 sigmas), got {arr.size} sigma(s).",
            field=name, fix="use steps >= 2 (one step in the early window, one after it).",
        )
    if not np.all(np.isfinite(arr)):
        raise ScheduleError("contains NaN or infinite values.", field=name,
                            fix="check the model's sampling settings or the base scheduler.")
    if arr[-1] != 0.0:
        raise ScheduleError(f"must end at 0, ends at {arr[-1]:g}.", field=name,
                            fix="pass a full schedule from a scheduler (BasicScheduler-style, ending in 0).")
    if np.any(arr[:-1] <= 0.0):
        raise ScheduleError("all sigmas but the last must be positive.", field=name)
    if np.any(np.diff(arr) > 0):
        raise ScheduleError("must be non-increasing.", field=name)
    return arr


class _Curve:
    """sigma(u) for u in [0, 1] through the base schedule's points; log-linear, linear to 0 at the end."""

    def __init__(self, base: np.ndarray):
        n = base.size - 1
        u = np.arange(base.size, dtype=np.float64) / n
        keep = [0]
        for i in range(1, base.size):  # drop repeated values so the curve is strictly decreasing
            if base[i] < base[keep[-1]]:
                keep.append(i)
        if keep[-1] != base.size - 1:  # cannot happen (ends at 0 < positives), kept for safety
            keep.append(base.size - 1)
        self.u = u[keep]
        self.s = base[keep]
        self.log_s = np.log(self.s[:-1])  # all positive

    def __call__(self, uq: np.ndarray) -> np.ndarray:
        u, s = self.u, self.s
        out = np.empty_like(uq)
        last = u[-2]  # start of the final segment (to sigma = 0)
        pos = uq <= last
        out[pos] = np.exp(np.interp(uq[pos], u[:-1], self.log_s))
        tail = ~pos
        frac = (uq[tail] - last) / (u[-1] - last)
        out[tail] = s[-2] * (1.0 - frac)
        return out

    def inverse(self, sigma: float) -> float:
        u, s = self.u, self.s
        if sigma >= s[0]:
            return 0.0
        if sigma <= 0:
            return 1.0
        if sigma >= s[-2]:
            # log-linear part: log_s is decreasing, so interpolate on reversed arrays
            return float(np.interp(math.log(sigma), self.log_s[::-1], u[:-1][::-1]))
        return float(u[-2] + (1.0 - sigma / s[-2]) * (u[-1] - u[-2]))


def early_step_count(sigmas: Sequence[float] | torch.Tensor, sigma_beta: float) -> int:
    """Number of steps whose whole interval lies at or above ``sigma_beta`` (the early window)."""
    arr = np.asarray(sigmas.cpu() if isinstance(sigmas, torch.Tensor) else sigmas, dtype=np.float64)
    tol = 1e-6 * max(abs(sigma_beta), 1e-12)
    return int(np.sum(arr[1:] >= sigma_beta - tol))


def reallocate(base_sigmas: Sequence[float] | torch.Tensor, sigma_beta: float, rho: float) -> CausalSchedule:
    """Give a share ``rho`` of the base schedule's steps to the early window ``[sigma_max, sigma_beta]``.

    Same number of steps, same first sigma, ends at 0, strictly decreasing. The number of early
    steps is ``round(rho * N)``, clamped to [1, N - 1] so both segments get at least one step.
    """
    base = _as_array(base_sigmas, "sigmas")
    if not (isinstance(rho, (int, float)) and math.isfinite(rho) and 0.0 < rho < 1.0):
        raise ScheduleError(f"must be a number strictly between 0 and 1, got {rho!r}.", field="rho",
                            fix="use e.g. 0.35 (35% of the steps in the early window).")
    if not (isinstance(sigma_beta, (int, float)) and math.isfinite(sigma_beta)):
        raise ScheduleError(f"must be a finite number, got {sigma_beta!r}.", field="sigma_beta")
    if not (0.0 < sigma_beta < base[0]):
        raise ScheduleError(
            f"the structure window ends at sigma {sigma_beta:.6g}, outside the schedule's range "
            f"(0, {base[0]:.6g}): there is no early window to reallocate.",
            field="beta",
            fix="lower beta so the window ends inside the schedule, or raise denoise so sampling starts above it.",
        )
    n = base.size - 1
    k = min(max(int(round(rho * n)), 1), n - 1)
    curve = _Curve(base)
    u_beta = curve.inverse(sigma_beta)
    u_early = np.linspace(0.0, u_beta, k + 1)
    u_late = np.linspace(u_beta, 1.0, n - k + 1)[1:]
    out = curve(np.concatenate([u_early, u_late]))
    out[0] = base[0]
    out[k] = sigma_beta
    out[-1] = 0.0
    if not np.all(np.diff(out) < 0):  # guard: should be impossible for a valid base
        raise ScheduleError("could not build a strictly decreasing schedule from this base.", field="scheduler",
                            fix="try another base scheduler or more steps.")
    sig = torch.tensor(out, dtype=torch.float32)
    return CausalSchedule(sigmas=sig, sigma_beta=float(sigma_beta), early_steps=k, steps=n)


def truncate_for_denoise(full_sigmas: torch.Tensor, steps: int) -> torch.Tensor:
    """BasicScheduler's denoise rule: keep the last ``steps + 1`` sigmas of a longer schedule."""
    return full_sigmas[-(steps + 1):]


def total_steps_for_denoise(steps: int, denoise: float) -> int:
    """BasicScheduler's denoise rule: a schedule of ``int(steps / denoise)`` steps is truncated."""
    if denoise >= 1.0:
        return steps
    return int(steps / denoise)
