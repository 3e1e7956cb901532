"""Evaluation: sample held-out PhysWorld prompts with the model and score them with the judge.

The sampler is ``diffusion.sample`` (Euler + CFG on ComfyUI's "simple" flow schedule), and the noise
for seed s is ``torch.randn((1, 3, S, S), generator=manual_seed(s))``: what ComfyUI's KSampler
(euler / simple, same seed, batch 1) draws for the LINA PhysWorld Loader's model, so an eval image
is the image the nodes produce for that prompt and seed.
Report: physical-alignment score (share of CSG constraints met, averaged over images) per
category, per OOD rule, per constraint kind and per seed, plus a contact sheet PNG.
"""
from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from ..errors import LinaError
from ..physworld.judge import judge
from ..physworld.register import DEFAULT_K, judge_registered
from .data import eval_samples
from .diffusion import comfy_sigmas, sample, to_uint8
from .model import PhysWorldBundle, load_bundle
from .weights_io import model_split

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


def evaluate(weights, split: str = "id", n: int = 50, seeds: int = 1, steps: int | None = None,
             cfg: float | None = None, batch: int = 16, out_dir="out/physworld_eval", threads: int = 1,
             sheet_rows: int = 24, bundle: PhysWorldBundle | None = None, register: int = DEFAULT_K,
             lina: str = "off", ablate=(), mode: str = "", prompt_scale: float = 1.0,
             latent_scale: float = 1.0, structure_share: float | None = None, adapter: str = "") -> dict:
    """Generate ``n`` prompts of a split x ``seeds`` and judge them; JSON report + contact sheet.
    ``lina`` off | prior | adapter (with ``adapter``, the path of a LINA adapter file): sample through ComfyUI's own sampler in this process with the LINA Guider and
    Causal Scheduler (``inprocess_sampler``); ``ablate`` removes components (prompt, latent, schedule);
    ``mode`` overrides the plan's (add | substitute); ``prompt_scale`` / ``latent_scale`` multiply the
    plan's strengths (LINA Plan's inputs); ``structure_share`` replaces the plan's (plans with a structure
    prompt only). LINA off uses the batched plain sampler (the same images, faster)."""
    if split not in SPLITS:
        raise LinaError(f"unknown split {split!r}", field="split", fix="use id or ood.")
    if n < 1 or seeds < 1:
        raise LinaError("n and seeds must be >= 1", field="n")
    torch.set_num_threads(max(1, threads))
    t0 = time.perf_counter()
    b = bundle or load_bundle(weights)
    t_load = time.perf_counter() - t0
    sc = b.config.get("sample", {})
    steps = int(steps or sc.get("steps", 20))
    cfg = float(cfg if cfg is not None else sc.get("cfg", 4.0))
    size = b.config["denoiser"]["image_size"]
    samples = eval_samples(SPLITS[split], n, size=size, version=model_split(b.metadata))
    prompts = [s.record["prompt"] for s in samples]
    jobs = [(i, k) for k in range(seeds) for i in range(n)]
    t1 = time.perf_counter()
    lina_info = None
    if lina == "off" and not ablate and not mode and prompt_scale == 1.0 and latent_scale == 1.0 \
            and structure_share is None and not adapter:
        imgs = generate(b, [prompts[i] for i, _ in jobs], [seed_for(i, k) for i, k in jobs], steps, cfg, size, batch)
        nfe = [steps * (1 if cfg == 1.0 else 2)] * len(jobs)
    else:
        if lina == "off":   # LINA settings without LINA would be silently ignored
            raise LinaError("--ablate, --mode, --prompt-scale, --latent-scale, --structure-share and --adapter need "
                            "--lina prior (or adapter).", field="lina", fix="add --lina prior.")
        if structure_share is not None and not (isinstance(structure_share, (int, float))
                                                and 0.0 <= structure_share <= 0.95):
            raise LinaError(f"structure_share must be a number in [0, 0.95], got {structure_share!r}.",
                            field="structure_share")
        for name, v in (("prompt_scale", prompt_scale), ("latent_scale", latent_scale)):
            if not (isinstance(v, (int, float)) and np.isfinite(v) and 0.0 <= v <= 20.0):
                raise LinaError(f"{name} must be a number in [0, 20], got {v!r}.", field=name)
        from ..inprocess_sampler import InProcessSampler

        if (lina == "adapter") != bool(adapter):
            raise LinaError("--lina adapter and --adapter FILE go together.", field="adapter",
                            fix="pass both (write one with `lina adapter prior --out FILE`), or use --lina prior.")
        adp = None
        if adapter:
            from ..intervention.adapter import load_adapter

            adp = load_adapter(adapter)
        smp = InProcessSampler.physworld(b.path)
        imgs, nfe, plans = [], [], []
        for i, k in jobs:
            r = smp.sample(prompts[i], seed_for(i, k), steps=steps, cfg=cfg, size=size, lina=lina,
                           ablate=tuple(ablate), mode=mode, prompt_scale=prompt_scale, latent_scale=latent_scale,
                           structure_share=structure_share, adapter=adp)
            imgs.append(r.image)
            nfe.append(r.nfe)
            if r.plan is not None and k == 0:
                plans.append(r.plan)
        imgs = np.stack(imgs)
        if plans:
            lina_info = {"setting": lina, "adapter": adapter or None, "ablate": sorted(ablate), "mode": mode or plans[0].mode,
                         "prompt_scale": prompt_scale, "latent_scale": latent_scale,
                         "structure_share": sorted({p.structure_share for p in plans if p.structure_prompt}),
                         "window_end": sorted({p.window_end for p in plans}),
                         "early_share": [float(np.min([p.early_share for p in plans])),
                                         float(np.max([p.early_share for p in plans]))],
                         "no_op_plans": sum(p.latent_strength == 0 for p in plans)}
    t_gen = time.perf_counter() - t1
    scores = score_images(imgs, [samples[i].record for i, _ in jobs], [k for _, k in jobs], register=register)
    for d, (i, k) in zip(scores["images_detail"], jobs):
        d["seed"] = seed_for(i, k)
    ref_scores = [judge(s.image, s.record["csg"]).score for s in samples]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tag = f"{split}_n{n}_s{seeds}" + ("" if lina == "off" else f"_lina-{lina}") + \
        "".join(f"_no-{a}" for a in sorted(ablate)) + (f"_{mode}" if mode else "")
    rows = []
    for i in range(min(n, sheet_rows)):
        rows.append([samples[i].image] + [imgs[k * n + i] for k in range(seeds)])
    sheet = contact_sheet(rows, out / f"contact_{tag}.png")
    rep = {
        "weights": str(b.path), "split": split, "ood_split_version": model_split(b.metadata), "n": n,
        "seeds": seeds, "images": len(jobs), "steps": steps,
        "cfg": cfg, "lina": lina_info or {"setting": "off"}, "nfe_per_image": float(np.mean(nfe)),
        "sampler": "euler", "scheduler": sc.get("scheduler", "simple"), "size": size,
        **{k: v for k, v in scores.items() if k != "images_detail"},
        "reference_score": float(np.mean(ref_scores)),
        "train": json.loads(b.metadata.get("train", "{}")),
        "seconds": {"load": round(t_load, 3), "generate": round(t_gen, 2),
                    "per_image": round(t_gen / max(1, len(jobs)), 4)},
        "contact_sheet": sheet, "sheet_layout": "rows = prompts (first min(n, 24)); column 0 = the renderer's "
                                                "reference image, then one column per seed",
        "images_detail": scores["images_detail"],
    }
    rp = out / f"report_{tag}.json"
    rep["report"] = str(rp)
    rp.write_text(json.dumps(rep, indent=2))
    return rep
