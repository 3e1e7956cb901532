"""Early-window latent guidance (LINA_METHOD.md 2.3) as pure tensor math; no ComfyUI import.

    D_lina = D_cfg + lambda(sigma) * M_lat * (D(x, sigma, c') - D(x, sigma, c))

* ``lambda_at``: lambda(sigma) = lambda_0 * t ** decay inside the window, 0 outside, where
  t = (log sigma - log sigma_beta) / (log sigma_max - log sigma_beta), clamped to [0, 1]: t is 1 at the
  model's sigma_max and 0 at the window end sigma_beta, so lambda decays to 0 at sigma_beta (decay 0 =
  constant strength, a box window). Log-sigma makes the same rule work for eps models (sigma 0.03..14.6)
  and flow models (sigma 0..1).
* ``region_mask``: the soft mask of the plan's CSG boxes at the latent's own H x W (each latent cell
  gets the fraction of it a box covers), max over boxes of weight * coverage, floored at mask_floor.
* ``latent_mask``: that mask, optionally multiplied by a user MASK, shaped to broadcast against a
  4-D [B, C, H, W] or 5-D [B, C, T, H, W] latent: [1|B, 1, H, W] or [1|B, 1, 1|T, H, W].
* ``combine``: the formula above; non-finite values in the guidance term are replaced by 0 (that
  step falls back to plain CFG) and counted, never propagated.
"""
from __future__ import annotations

import logging
import math

import torch

from .plan import LinaPlan, PlanError

log = logging.getLogger("lina")
ASPECT_TOLERANCE = 0.02


def lambda_at(sigma: float, sigma_max: float, sigma_beta: float, strength: float, decay: float = 1.0) -> float:
    """Guidance weight at ``sigma`` (0 outside the window (sigma_beta, inf))."""
    sigma, sigma_max, sigma_beta = float(sigma), float(sigma_max), float(sigma_beta)
    if strength == 0.0 or not math.isfinite(sigma) or sigma <= sigma_beta or sigma_beta <= 0.0:
        return 0.0
    if sigma >= sigma_max or sigma_max <= sigma_beta:
        t = 1.0
    else:
        t = (math.log(sigma) - math.log(sigma_beta)) / (math.log(sigma_max) - math.log(sigma_beta))
        t = min(max(t, 0.0), 1.0)
    return float(strength) * (t ** float(decay) if decay > 0 else 1.0)


def _coverage(lo: float, hi: float, n: int, device, dtype) -> torch.Tensor:
    """Fraction of each of n equal cells of [0, 1] covered by [lo, hi]."""
    edges = torch.arange(n + 1, device=device, dtype=torch.float64) / n
    left, right = edges[:-1], edges[1:]
    cov = (torch.clamp(torch.minimum(right, torch.tensor(hi, dtype=torch.float64, device=device))
                       - torch.maximum(left, torch.tensor(lo, dtype=torch.float64, device=device)), min=0.0)) * n
    return cov.clamp(0.0, 1.0).to(dtype)


def region_mask(plan: LinaPlan, height: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """[H, W] soft mask of the plan's regions; all ones when the plan has no region."""
    if not plan.regions:
        return torch.ones(height, width, device=device, dtype=dtype)
    m = torch.zeros(height, width, device=device, dtype=dtype)
    for r in plan.regions:
        x0, y0, x1, y1 = r.box
        cell = _coverage(y0, y1, height, device, dtype)[:, None] * _coverage(x0, x1, width, device, dtype)[None, :]
        m = torch.maximum(m, cell * float(r.weight))
    return torch.clamp(m, min=float(plan.mask_floor))


def _check_latent(shape) -> None:
    if len(shape) not in (4, 5):
        raise PlanError(f"latent guidance needs a 4-D image or 5-D video latent, got shape {tuple(shape)}.",
                        field="latent", fix="use an image (B, C, H, W) or video (B, C, T, H, W) latent.")


def fit_user_mask(mask: torch.Tensor, latent_shape, field: str = "mask") -> torch.Tensor:
    """Resize a user MASK ([H, W], [N, H, W] or [N, 1, H, W]) to broadcast against the latent.

    N may be 1 (one mask for everything), B (one per batch item), or, for a 5-D latent, T latent frames
    or any number of pixel frames (resampled to T by nearest frame). The mask's aspect ratio must match
    the latent's within 2%.
    """
    _check_latent(latent_shape)
    if not isinstance(mask, torch.Tensor):
        raise PlanError(f"expected a MASK tensor, got {type(mask).__name__}.", field=field)
    m = mask.detach().float()
    if m.ndim == 2:
        m = m[None]
    if m.ndim == 4 and m.shape[1] == 1:
        m = m[:, 0]
    if m.ndim != 3 or m.shape[0] < 1 or m.shape[1] < 1 or m.shape[2] < 1:
        raise PlanError(f"expected a mask of shape [H, W] or [N, H, W], got {tuple(mask.shape)}.", field=field)
    if not torch.isfinite(m).all():
        raise PlanError("contains NaN or infinite values.", field=field, fix="check the node that made the mask.")
    b, h, w = latent_shape[0], latent_shape[-2], latent_shape[-1]
    ra, rb = m.shape[2] / m.shape[1], w / h
    if abs(ra / rb - 1.0) > ASPECT_TOLERANCE:
        raise PlanError(f"its aspect ratio {m.shape[2]}x{m.shape[1]} does not match the latent's {w}x{h} "
                        f"(image {w * 8}x{h * 8} for 8x VAEs).", field=field,
                        fix="make the mask at the image size you sample (e.g. LINA CSG Masks with the same width "
                            "and height), or leave the mask input empty.")
    m = torch.nn.functional.interpolate(m[:, None], size=(h, w), mode="bilinear", align_corners=False)[:, 0]
    m = m.clamp(0.0, 1.0)
    n = m.shape[0]
    if len(latent_shape) == 4:
        if n not in (1, b):
            raise PlanError(f"has {n} masks for a batch of {b} latents.", field=field,
                            fix="give one mask, or one per batch item.")
        return m[:, None]                                              # [1|B, 1, H, W]
    t = latent_shape[2]
    if n == 1:
        return m[:, None, None]                                       # [1, 1, 1, H, W]
    if n == b and b > 1 and n != t:
        return m[:, None, None]                                       # [B, 1, 1, H, W]
    idx = torch.clamp((torch.arange(t, dtype=torch.float64) * n / t).floor().long(), max=n - 1) if n != t \
        else torch.arange(t)
    return m[idx][None, None]                                         # [1, 1, T, H, W]


def latent_mask(plan: LinaPlan, latent_shape, user_mask: torch.Tensor | None = None, device=None,
                dtype=torch.float32) -> torch.Tensor:
    """M_lat for a latent shape, broadcastable against it (see the module docstring)."""
    _check_latent(latent_shape)
    h, w = latent_shape[-2], latent_shape[-1]
    m = region_mask(plan, h, w, device=device, dtype=dtype)
    m = m[None, None] if len(latent_shape) == 4 else m[None, None, None]
    if user_mask is not None:
        m = m * fit_user_mask(user_mask, latent_shape).to(device=device, dtype=dtype)
    return m


def combine(denoised: torch.Tensor, cond_denoised: torch.Tensor, edit_denoised: torch.Tensor, lam: float,
            mask: torch.Tensor | float = 1.0) -> tuple[torch.Tensor, int]:
    """D_cfg + lam * M * (D(c') - D(c)); returns (result, number of non-finite guidance values dropped)."""
    if lam == 0.0:
        return denoised, 0
    delta = edit_denoised - cond_denoised
    bad = ~torch.isfinite(delta)
    n_bad = int(bad.sum())
    if n_bad:
        delta = torch.where(bad, torch.zeros_like(delta), delta)
        log.warning("LINA: %d non-finite values in the latent guidance term were dropped (plain CFG there)", n_bad)
    if isinstance(mask, torch.Tensor):
        mask = mask.to(device=delta.device, dtype=delta.dtype)
    return denoised + float(lam) * mask * delta, n_bad
