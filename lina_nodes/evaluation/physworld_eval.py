"""PhysWorld evaluation harness: generate a split's prompts with the embedded model, plain or with LINA, and
judge them (``lina physworld eval``). LINA off uses the batched plain sampler of ``physworld_model``; LINA on
samples through ComfyUI in this process with the nodes' own code (``inprocess.sampler``)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from ..errors import LinaError
from ..physworld.judge import judge
from ..physworld.register import DEFAULT_K
from ..physworld_model.data import eval_samples
from ..physworld_model.evaluate import SPLITS, contact_sheet, generate, score_images, seed_for
from ..physworld_model.model import PhysWorldBundle, load_bundle
from ..physworld_model.weights_io import model_split


def _physworld_sampler(path):
    from ..inprocess.sampler import InProcessSampler

    return InProcessSampler.physworld(path)


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
        if (lina == "adapter") != bool(adapter):
            raise LinaError("--lina adapter and --adapter FILE go together.", field="adapter",
                            fix="pass both (write one with `lina adapter prior --out FILE`), or use --lina prior.")
        adp = None
        if adapter:
            from ..intervention.adapter import load_adapter

            adp = load_adapter(adapter)
        smp = _physworld_sampler(b.path)
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
