"""Prompt-space intervention (LINA_METHOD.md 2.2) as pure tensor math on [B, L, D] conditioning.

    c'_i = c_i + alpha * w_i * P(h_i - c_i)          for every token i (w_i = 0 leaves it unchanged)
    pooled' = pooled + alpha * w_max * P_pooled(pooled_causal - pooled)   when both exist

where w_i is the CSG token weight (``token_align``), P the physics subspace (``subspace``) and h_i the
target of token i: the mean of the causal-prompt encoding c_causal over the positions where the same
word appears again inside the causal completion (the word read in its causal context) [ours]. Only the
physics component moves: the texture component (and anything orthogonal to P) stays as it was.
Padding positions (attention mask 0) never move. Works for any width D and any length L.
"""
from __future__ import annotations

import torch

from ..errors import LinaError


def aligned_targets(c: torch.Tensor, c_causal: torch.Tensor, groups: list[list[int]]) -> torch.Tensor:
    """h [B, L, D]: for token i the mean of c_causal[:, groups[i]] (c itself where groups[i] is empty)."""
    if c.ndim != 3 or c_causal.ndim != 3 or c.shape[-1] != c_causal.shape[-1]:
        raise LinaError(f"conditioning shapes {tuple(c.shape)} and {tuple(c_causal.shape)} do not match "
                        "([B, L, D] with the same D).", field="conditioning",
                        fix="encode the prompt and the causal prompt with the same CLIP.")
    h = c.clone()
    L2 = c_causal.shape[1]
    cc = c_causal if c_causal.shape[0] == c.shape[0] else c_causal[:1].expand(c.shape[0], -1, -1)
    for i, g in enumerate(groups[: c.shape[1]]):
        g = [p for p in g if 0 <= p < L2]
        if g:
            h[:, i] = cc[:, g].mean(1).to(h.dtype)
    return h


def edit_tokens(c: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor, project, alpha: float,
                attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """c + alpha * w * P(targets - c); ``project`` maps [..., D] to its physics component."""
    if c.shape != targets.shape:
        raise LinaError(f"targets {tuple(targets.shape)} do not match the conditioning {tuple(c.shape)}.",
                        field="conditioning")
    w = weights.to(device=c.device, dtype=torch.float32).reshape(-1)
    if w.numel() != c.shape[1]:
        raise LinaError(f"{w.numel()} token weights for {c.shape[1]} tokens.", field="token_weights")
    if alpha == 0.0 or float(w.abs().sum()) == 0.0:
        return c
    w = w[None, :, None].expand(c.shape[0], -1, 1).clone()
    if attention_mask is not None:
        am = attention_mask.to(device=c.device, dtype=torch.float32)
        if am.ndim == 1:
            am = am[None]
        if am.shape[-1] == c.shape[1]:
            w = w * am.reshape(am.shape[0], c.shape[1], 1)
    delta = project(targets.float() - c.float())
    out = c.float() + float(alpha) * w * delta
    if not torch.isfinite(out).all():
        raise LinaError("the prompt edit produced NaN or infinite values.", field="clip",
                        fix="check the text encoder; set the prompt edit strength to 0 to bypass it.")
    return out.to(c.dtype)


def edit_pooled(pooled: torch.Tensor | None, pooled_causal: torch.Tensor | None, project_pooled, alpha: float,
                weight: float = 1.0) -> torch.Tensor | None:
    """pooled + alpha * weight * P_pooled(pooled_causal - pooled); unchanged when anything is missing."""
    if pooled is None or pooled_causal is None or alpha == 0.0 or weight == 0.0:
        return pooled
    if pooled.shape[-1] != pooled_causal.shape[-1]:
        return pooled
    pc = pooled_causal if pooled_causal.shape[0] == pooled.shape[0] else pooled_causal[:1].expand_as(pooled)
    delta = project_pooled(pc.float() - pooled.float())
    if delta is None:
        return pooled
    out = pooled.float() + float(alpha) * float(weight) * delta
    if not torch.isfinite(out).all():
        return pooled
    return out.to(pooled.dtype)
