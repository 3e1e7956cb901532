"""Evaluation: sample held-out PhysWorld prompts with the model and score them with the judge.

The sampler is ``diffusion.sample`` (Euler + CFG on ComfyUI's "simple" flow schedule), and the noise
for seed s is ``torch.randn((1, 3, S, S), generator=manual_seed(s))``: what ComfyUI's KSampler
(euler / simple, same seed, batch 1) draws for the LINA PhysWorld Loader's model, so an eval image
is the image the nodes produce for that prompt and seed.
Reproducibility: ``generate`` gives bit-identical images for the same (prompt, seed) pairs in the same
batches (same ``batch``, same order) on the same machine; a seed sampled in another batch (or alone, as
ComfyUI's KSampler does) may differ by float rounding of the batch-size-dependent kernels (measured: at
most 1 uint8 level, in about 1 pixel per 1000 of a few images), so published scores are reproduced with
the same ``batch``.
Report: physical-alignment score (share of CSG constraints met, averaged over images) per
category, per OOD rule, per constraint kind and per seed, plus a contact sheet PNG.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from ..errors import LinaError
from ..physworld.judge import judge
from ..physworld.register import DEFAULT_K, judge_registered
from .diffusion import comfy_sigmas, sample, to_uint8
from .model import PhysWorldBundle

SPLITS = {"id": "id_test", "ood": "ood_test", "id_test": "id_test", "ood_test": "ood_test"}


def seed_for(prompt_index: int, seed_index: int) -> int:
    return seed_index * 100_000 + prompt_index


def comfy_noise(seed: int, size: int, channels: int = 3) -> torch.Tensor:
    return torch.randn((1, channels, size, size), generator=torch.Generator().manual_seed(int(seed)))


def generate(bundle: PhysWorldBundle, prompts: list, seeds: list, steps: int = 20, cfg: float = 4.0,
             size: int | None = None, batch: int = 16, negative: str = "") -> np.ndarray:
    """uint8 [N, S, S, 3] images, one per (prompt, seed) pair."""
    size = size or bundle.config["denoiser"]["image_size"]
    shift = float(bundle.config["diffusion"].get("shift", 1.0))
    sigmas = comfy_sigmas(steps, bundle.config.get("sample", {}).get("scheduler", "simple"), shift)
    uncond, _ = bundle.encode([negative])
    out = []
    for i in range(0, len(prompts), batch):
        ps, ss = prompts[i:i + batch], seeds[i:i + batch]
        cond, _ = bundle.encode(ps)
        noise = torch.cat([comfy_noise(s, size) for s in ss])
        x = sample(bundle.denoiser, cond, uncond, noise, sigmas, cfg=cfg)
        out.append(to_uint8(x))
    return np.concatenate(out) if out else np.zeros((0, size, size, 3), np.uint8)


def contact_sheet(rows: list, path, scale: int = 2, pad: int = 2) -> str:
    """rows: lists of uint8 HxWx3 images (reference first); saved as one PNG grid."""
    from PIL import Image

    if not rows:
        raise LinaError("nothing to put on the contact sheet", field="n")
    S = rows[0][0].shape[0] * scale
    ncol = max(len(r) for r in rows)
    sheet = Image.new("RGB", (ncol * (S + pad) + pad, len(rows) * (S + pad) + pad), (255, 255, 255))
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            im = Image.fromarray(img).resize((S, S), Image.NEAREST)
            sheet.paste(im, (pad + c * (S + pad), pad + r * (S + pad)))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return str(path)


def _agg(items):
    return {"score": float(np.mean([s for s, _ in items])), "all_pass": float(np.mean([a for _, a in items])),
            "n": len(items)}


def score_images(images, records: list, seed_index: list | None = None, register: int = DEFAULT_K) -> dict:
    """Judge each image against its record's prompt (records as lina_nodes.physworld.dataset makes them:
    prompt, category, ood_rules, csg, scene). With ``register=k`` (default) the judge reads the image
    against the nearest of k valid layouts of the prompt (``physworld.register``): a prompt does not fix
    positions, so a text-to-image model is not marked wrong for drawing a correct scene elsewhere. The
    score against the record's own layout is kept as ``score_fixed_layout``. Returns overall /
    per-category / per-rule / per-constraint-kind / per-seed scores, colour accuracy of the objects found
    (``colour_given_present``) and a per-image list. Usable on
    images from any source (e.g. ComfyUI outputs)."""
    if len(images) != len(records):
        raise LinaError(f"{len(images)} images for {len(records)} records", field="images")
    seed_index = list(seed_index) if seed_index is not None else [0] * len(records)
    per_img, by_cat, by_rule, by_kind, by_seed = [], defaultdict(list), defaultdict(list), defaultdict(list), \
        defaultdict(list)
    fixed, colour_found = [], []
    for img, rec, k in zip(images, records, seed_index):
        img = np.asarray(img)
        j0 = judge(img, rec["csg"])
        fixed.append(j0.score)
        if register and rec.get("scene"):
            j = judge_registered(img, rec["scene"], rec.get("prompt", ""), k=register)
        else:
            j = j0
        item = (j.score, j.all_passed)
        by_cat[rec["category"]].append(item)
        for r in rec.get("ood_rules") or []:
            by_rule[r].append(item)
        by_seed[k].append(item)
        present = {v.subject for v in j.verdicts if v.kind == "present" and v.passed}
        for v in j.verdicts:
            by_kind[v.kind].append(v.passed)
            if v.kind == "color" and v.subject in present:
                colour_found.append(v.passed)
        per_img.append({"prompt": rec["prompt"], "category": rec["category"], "ood_rules": rec.get("ood_rules", []),
                        "seed_index": k, "score": round(j.score, 4), "all": j.all_passed,
                        "failed": [f"{v.kind}:{v.subject}" for v in j.verdicts if not v.passed]})
    items = [it for v in by_cat.values() for it in v]
    seed_scores = [float(np.mean([s for s, _ in by_seed[k]])) for k in sorted(by_seed)]
    return {
        "score": float(np.mean([s for s, _ in items])), "all_pass": float(np.mean([a for _, a in items])),
        "registration": {"k": int(register)} if register else None,
        "score_fixed_layout": float(np.mean(fixed)),
        "per_category": {c: _agg(v) for c, v in sorted(by_cat.items())},
        "per_rule": {r: _agg(v) for r, v in sorted(by_rule.items())},
        "per_constraint_kind": {k: {"pass": float(np.mean(v)), "n": len(v)} for k, v in sorted(by_kind.items())},
        # texture alone: colour checks of objects the judge found (a missing object fails its colour check too)
        "colour_given_present": {"pass": float(np.mean(colour_found)) if colour_found else None,
                                 "n": len(colour_found)},
        "per_seed": seed_scores, "seed_std": float(np.std(seed_scores)),
        "images_detail": per_img,
    }
