"""Rectified flow: noising, training loss, sigma schedules and the Euler/CFG sampler used by eval.

Conventions match ComfyUI's FLOW models (ModelSamplingDiscreteFlow + CONST) with
``multiplier=1000``: x_sigma = (1 - sigma) x0 + sigma eps, the network gets ``1000 * sigma`` and
predicts v = eps - x0, the denoised estimate is x - sigma * v. ``comfy_sigmas(steps, "simple")``
reproduces ComfyUI's "simple" (and "normal") scheduler for this model, and ``sample`` takes
exactly the steps of ComfyUI's ``euler`` sampler with its CFG rule, so eval scores what the nodes
produce.
"""
from __future__ import annotations

import math

import torch

TIMESTEPS = 1000
MULTIPLIER = 1000.0


def shift_sigma(t, shift: float):
    """ComfyUI's time_snr_shift."""
    if shift == 1.0:
        return t
    return shift * t / (1 + (shift - 1) * t)


def sigma_table(shift: float = 1.0) -> torch.Tensor:
    return shift_sigma(torch.arange(1, TIMESTEPS + 1, dtype=torch.float32) / TIMESTEPS, shift)


def comfy_sigmas(steps: int, scheduler: str = "simple", shift: float = 1.0) -> torch.Tensor:
    """steps + 1 decreasing sigmas ending at 0, as ComfyUI's scheduler of that name gives them."""
    if steps < 1:
        raise ValueError("steps must be >= 1")
    table = sigma_table(shift)
    if scheduler == "simple":
        ss = len(table) / steps
        sig = [float(table[-(1 + int(x * ss))]) for x in range(steps)]
    elif scheduler == "normal":
        start, end = float(table[-1]) * MULTIPLIER, float(table[0]) * MULTIPLIER
        ts = torch.linspace(start, end, steps)
        sig = [float(shift_sigma(t / MULTIPLIER, shift)) for t in ts]
    else:
        raise ValueError(f"scheduler {scheduler!r} is not reproduced here; use 'simple' or 'normal'")
    return torch.tensor(sig + [0.0], dtype=torch.float32)


def add_noise(x0: torch.Tensor, noise: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    s = sigma.view(-1, *([1] * (x0.ndim - 1)))
    return (1 - s) * x0 + s * noise


def sample_sigmas(n: int, generator: torch.Generator, mean: float = 0.0, std: float = 1.0) -> torch.Tensor:
    """Logit-normal training sigmas in (0, 1)."""
    return torch.sigmoid(mean + std * torch.randn(n, generator=generator))


def flow_loss(denoiser, x0: torch.Tensor, context: torch.Tensor, generator: torch.Generator,
              mean: float = 0.0, std: float = 1.0, min_sigma: float = 0.05) -> torch.Tensor:
    """Velocity MSE at logit-normal sigmas: |x0_hat - x0|^2 / max(sigma, min_sigma)^2, which is
    |v_hat - v|^2 for sigma >= min_sigma (the clamp keeps the x0-parameterisation stable)."""
    B = x0.shape[0]
    sigma = sample_sigmas(B, generator, mean, std).to(x0.device)
    noise = torch.randn(x0.shape, generator=generator).to(x0.device)
    xt = add_noise(x0, noise, sigma)
    v = denoiser(xt, sigma * MULTIPLIER, context=context).float()
    s = sigma.view(-1, 1, 1, 1)
    x0_hat = xt - s * v
    return torch.mean(((x0_hat - x0) / s.clamp(min=min_sigma)) ** 2)


@torch.no_grad()
def denoise(denoiser, x: torch.Tensor, sigma: float, cond: torch.Tensor, uncond: torch.Tensor | None,
            cfg: float) -> torch.Tensor:
    """CFG denoised estimate (ComfyUI: uncond + cfg * (cond - uncond), on denoised images)."""
    B = x.shape[0]
    if uncond is None or cfg == 1.0:
        xs, ctx = x, cond
    else:
        xs, ctx = torch.cat([x, x]), torch.cat([cond, uncond])
    t = torch.full((xs.shape[0],), sigma * MULTIPLIER, dtype=torch.float32)
    den = xs - sigma * denoiser(xs, t, context=ctx).float()
    if xs.shape[0] == B:
        return den
    c, u = den[:B], den[B:]
    return u + (c - u) * cfg


@torch.no_grad()
def sample(denoiser, cond: torch.Tensor, uncond: torch.Tensor | None, noise: torch.Tensor,
           sigmas: torch.Tensor, cfg: float = 4.0, callback=None) -> torch.Tensor:
    """Euler sampling from ``noise`` (unit Gaussian, [B, 3, H, W]) along ``sigmas``; returns x0 in
    model space (-1..1, not clamped). ``cond``/``uncond``: [B, L, D] (or [1, L, D])."""
    B = noise.shape[0]
    if cond.shape[0] == 1 and B > 1:
        cond = cond.expand(B, -1, -1)
    if uncond is not None and uncond.shape[0] == 1 and B > 1:
        uncond = uncond.expand(B, -1, -1)
    x = noise * float(sigmas[0])   # ComfyUI noise_scaling with an empty (zero) latent
    for i in range(len(sigmas) - 1):
        s, s_next = float(sigmas[i]), float(sigmas[i + 1])
        den = denoise(denoiser, x, s, cond, uncond, cfg)
        d = (x - den) / s
        x = x + d * (s_next - s)
        if callback is not None:
            callback(i, x, den)
    return x


def to_uint8(x: torch.Tensor):
    """[B, 3, H, W] in -1..1 -> numpy uint8 [B, H, W, 3] (as ComfyUI's pixel-space VAE + SaveImage)."""
    img = torch.clamp((x.float() + 1.0) / 2.0, 0.0, 1.0)
    return (img.permute(0, 2, 3, 1).numpy() * 255.0).clip(0, 255).astype("uint8")   # SaveImage truncates


def from_uint8(imgs) -> torch.Tensor:
    """numpy uint8 [B, H, W, 3] -> [B, 3, H, W] in -1..1."""
    t = torch.as_tensor(imgs).float().permute(0, 3, 1, 2)
    return t / 127.5 - 1.0


def _check_finite(x: torch.Tensor, what: str) -> None:
    if not torch.isfinite(x).all():
        raise FloatingPointError(f"{what} is not finite")


__all__ = [
    "add_noise",
    "comfy_sigmas",
    "denoise",
    "flow_loss",
    "from_uint8",
    "math",
    "sample",
    "sample_sigmas",
    "shift_sigma",
    "sigma_table",
    "to_uint8",
]
