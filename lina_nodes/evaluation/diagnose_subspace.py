"""Insight 2 (disentangled texture and physics directions) as a measurement.

Estimate the physics (P) and texture (T) subspaces of the model's text encoder with the code LINA Plan
uses (``inprocess.plan_build.encoder_subspace``), then move each prompt's conditioning along one
subspace (every token and the pooled vector v: ``v -> v + alpha * |v| * u_S(v)``, u_S(v) the unit
direction of v's component in S, so a step is the same relative change along P and along T), sample the model without LINA and judge the images:
physics-constraint accuracy and colour/material accuracy (the judge's checks of each kind, pooled over
images, 95% bootstrap over images), plus the paired change against alpha = 0 (the plain image). Also:
the principal angles between P and T (and between the raw physics directions, before P is
orthogonalised against T, and T) and the share of variance each explains.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from .diagnose_common import DiagnoseError, paired_delta, ratio_bootstrap

DEFAULT_ALPHAS = (-0.5, -0.25, 0.0, 0.25, 0.5, 1.0)


def _proj(v: torch.Tensor, basis: torch.Tensor | None) -> torch.Tensor:
    if basis is None or basis.shape[0] == 0 or v.shape[-1] != basis.shape[-1]:
        return torch.zeros_like(v)
    b = basis.to(v.device, torch.float32)
    return ((v.float() @ b.T) @ b).to(v.dtype)


def _step(v: torch.Tensor, basis, alpha: float) -> torch.Tensor:
    """v + alpha * |v| * (unit direction of v's component in span(basis)), row by row."""
    p = _proj(v, basis).float()
    n = p.norm(dim=-1, keepdim=True)
    u = torch.where(n > 1e-8, p / n.clamp_min(1e-8), torch.zeros_like(p))
    return (v.float() + alpha * v.float().norm(dim=-1, keepdim=True) * u).to(v.dtype)


def move(conditioning: list, sub, which: str, alpha: float) -> list:
    """A copy of a CONDITIONING with every token and the pooled vector moved along the subspace
    ``which`` ("P" or "T"): by alpha times its own norm, in the direction of its component in the
    subspace (so a step changes the conditioning by the same relative amount along P and along T)."""
    tok_b = sub.P if which == "P" else sub.T
    pool_b = sub.P_pooled if which == "P" else sub.T_pooled
    out = []
    for t, d in conditioning:
        d2 = dict(d)
        if alpha != 0.0:
            t = _step(t, tok_b, alpha)
            if d2.get("pooled_output") is not None:
                d2["pooled_output"] = _step(d2["pooled_output"], pool_b, alpha)
        out.append([t, d2])
    return out


def sample_conditioning(sampler, positive: list, seed: int, steps: int = 20, cfg: float = 4.0, size: int = 64):
    """One image from a given positive CONDITIONING: the same CFGGuider, sigmas and noise as
    ``InProcessSampler.sample(lina="off")`` (so alpha = 0 reproduces the plain image)."""
    import comfy.samplers

    from ..inprocess.sampler import _uint8
    from ..inprocess.sampling import sample_latent

    with torch.inference_mode():
        guider = comfy.samplers.CFGGuider(sampler.model.clone())
        guider.set_conds(positive, sampler.encode(""))
        guider.set_cfg(cfg)
        out = sample_latent(guider, {"samples": torch.zeros(sampler.latent_shape(size))}, sampler.base_sigmas(steps),
                            "euler", int(seed), previews=False, pbar=False)
        return _uint8(sampler.vae.decode(out["samples"]))


def _angles(a: torch.Tensor, b: torch.Tensor) -> list:
    if a.shape[0] == 0 or b.shape[0] == 0:
        return []
    s = torch.linalg.svdvals(a.double() @ b.double().T).clamp(0, 1)
    return [round(float(np.degrees(np.arccos(v))), 2) for v in s.tolist()]


def _share(x: torch.Tensor, basis: torch.Tensor) -> float:
    """Share of the energy of rows x [N, D] inside span(basis)."""
    tot = float((x.double() ** 2).sum())
    if tot <= 0 or basis.shape[0] == 0:
        return 0.0
    return round(float(((x.double() @ basis.double().T) ** 2).sum()) / tot, 4)


def geometry(sampler, prompts: list) -> dict:
    """Principal angles and explained variance of P and T (mean-token space of the encoder)."""
    from ..inprocess.plan_build import ClipIO, encoder_subspace
    from ..intervention.subspace import _basis, _summary, contrastive_pairs

    sub = encoder_subspace(sampler.clip)
    io = ClipIO(sampler.clip)
    with torch.inference_mode():
        def mean_tok(text):
            return _summary(io.encode(text))[0]

        phys, tex = contrastive_pairs()
        dp = torch.stack([mean_tok(a) - mean_tok(b) for a, b in phys])
        dt = torch.stack([mean_tok(a) - mean_tok(b) for a, b in tex])
        emb = torch.stack([mean_tok(p) for p in prompts])
    emb = emb - emb.mean(0, keepdim=True)
    raw_p = _basis(dp, sub.P.shape[0])
    return {
        "width": sub.width, "dim_P": int(sub.P.shape[0]), "dim_T": int(sub.T.shape[0]),
        "principal_angles_P_T_deg": _angles(sub.P, sub.T),
        "principal_angles_rawP_T_deg": _angles(raw_p, sub.T),
        "variance_explained": {
            "physics_pair_differences": {"P": _share(dp, sub.P), "T": _share(dp, sub.T)},
            "texture_pair_differences": {"P": _share(dt, sub.P), "T": _share(dt, sub.T)},
            "prompt_embeddings": {"P": _share(emb, sub.P), "T": _share(emb, sub.T), "prompts": len(prompts)},
        },
    }


def measure(sampler, items: list, judge, alphas=DEFAULT_ALPHAS, seeds: int = 1, steps: int = 20, cfg: float = 4.0,
            size: int = 64, progress=None) -> dict:
    """Accuracy of physics and texture checks along P and T; ``judge(image, item) -> dict`` with
    ``physics`` / ``texture`` (shares) and optionally ``n_physics`` / ``n_texture`` (check counts)."""
    from ..inprocess.plan_build import encoder_subspace

    if not items:
        raise DiagnoseError("no prompts to diagnose.", field="n", fix="pass --n 1 or more.")
    alphas = sorted({float(a) for a in alphas} | {0.0})
    t0 = time.perf_counter()
    sub = encoder_subspace(sampler.clip)
    conds = [(which, a) for which in ("P", "T") for a in alphas if a != 0.0]
    conds = [("P", 0.0)] + conds
    units = [(i, k) for k in range(seeds) for i in range(len(items))]
    bar = progress(len(units) * len(conds)) if progress else None
    res = {c: [] for c in conds}      # per unit: (physics passed, physics n, texture passed, texture n, score)
    rel = {c: [] for c in conds}
    for i, k in units:
        it = items[i]
        base = sampler.encode(it.prompt)
        for which, a in conds:
            pos = move(base, sub, which, a)
            rel[(which, a)].append(float((pos[0][0] - base[0][0]).norm() / base[0][0].norm()))
            img = sample_conditioning(sampler, pos, 1000 * k + i, steps, cfg, size)
            r = judge(img, it)
            res[(which, a)].append(_counts(r))
            if bar:
                bar.update(1)
    if bar:
        bar.close()

    def row(c):
        x = np.asarray(res[c], np.float64)
        return {"physics": ratio_bootstrap(x[:, 0], x[:, 1]), "texture": ratio_bootstrap(x[:, 2], x[:, 3]),
                "score": ratio_bootstrap(x[:, 4], np.ones(len(x))),
                "relative_change": round(float(np.mean(rel[c])), 4)}

    def per_image(c, j):
        x = np.asarray(res[c], np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(x[:, j + 1] > 0, x[:, j] / np.maximum(x[:, j + 1], 1), np.nan)

    zero = ("P", 0.0)
    table = {}
    for which in ("P", "T"):
        table[which] = []
        for a in alphas:
            c = zero if a == 0.0 else (which, a)
            r = {"alpha": a, **row(c)}
            r["delta_physics"] = paired_delta(per_image(zero, 0), per_image(c, 0))
            r["delta_texture"] = paired_delta(per_image(zero, 2), per_image(c, 2))
            table[which].append(r)
    return {
        "prompts": len(items), "seeds": seeds, "steps": steps, "cfg": cfg, "size": size, "alphas": alphas,
        "move": "v -> v + alpha * |v| * unit(Proj_S(v)) on every token and the pooled vector",
        "judged_images": len(units) * len(conds), "along": table,
        "geometry": geometry(sampler, [it.prompt for it in items]),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _counts(r: dict) -> tuple:
    """(physics passed, physics checks, texture passed, texture checks, score) from a judge result."""
    out = []
    for key in ("physics", "texture"):
        v, n = r.get(key), r.get(f"n_{key}")
        if v is None:
            out += [0.0, 0.0]
        else:
            n = 1 if n is None else int(n)
            out += [float(v) * n, float(n)]
    return (*out, float(r["score"]))


def format_report(rep: dict) -> str:
    def pc(r):
        return "  n/a" if r["rate"] is None else f"{100 * r['rate']:5.1f} [{100 * r['ci95'][0]:4.1f},{100 * r['ci95'][1]:5.1f}]"

    def dl(d):
        return "  n/a" if d["delta"] is None else f"{100 * d['delta']:+5.1f} [{100 * d['ci95'][0]:+5.1f},{100 * d['ci95'][1]:+5.1f}]"

    lines = [f"subspace: conditioning moved along P (physics) and T (texture), {rep['prompts']} prompts x "
             f"{rep['seeds']} seeds, {rep['judged_images']} judged images; accuracy % [95% CI]",
             f"{'move':7s}{'alpha':>6s}{'|dc|/|c|':>9s}  {'physics':>17s}  {'texture':>17s}  "
             f"{'d physics':>21s}  {'d texture':>21s}"]
    for which in ("P", "T"):
        for r in rep["along"][which]:
            lines.append(f"{which:7s}{r['alpha']:6.2f}{r['relative_change']:9.3f}  {pc(r['physics']):>17s}  "
                         f"{pc(r['texture']):>17s}  {dl(r['delta_physics']):>21s}  {dl(r['delta_texture']):>21s}")
    g = rep["geometry"]
    v = g["variance_explained"]
    lines += [f"principal angles P vs T (deg): {g['principal_angles_P_T_deg']} (P is orthogonalised against T)",
              f"principal angles raw physics directions vs T (deg): {g['principal_angles_rawP_T_deg']}",
              f"variance explained (dim P {g['dim_P']}, dim T {g['dim_T']}, width {g['width']}):",
              f"  physics pair differences  P {100 * v['physics_pair_differences']['P']:5.1f}%  "
              f"T {100 * v['physics_pair_differences']['T']:5.1f}%",
              f"  texture pair differences  P {100 * v['texture_pair_differences']['P']:5.1f}%  "
              f"T {100 * v['texture_pair_differences']['T']:5.1f}%",
              f"  prompt embeddings         P {100 * v['prompt_embeddings']['P']:5.1f}%  "
              f"T {100 * v['prompt_embeddings']['T']:5.1f}%"]
    return "\n".join(lines)
