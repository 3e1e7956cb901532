"""LINA's sampling overhead against a plain KSampler run, side by side (issue 6).

    .venv/bin/python benchmarks/lina_overhead.py [--model physworld|sd15] [--repeats 5] [--steps 20] [--threads 1]

For one model, interleaved runs (plain, LINA substitute, LINA guided) of the same prompts and
seeds through ComfyUI's own sampler in this process (`inprocess_sampler`, the nodes' code):
seconds per image, ratio to plain, model evaluations per image and their ratio. Text encoding and
the plan (parse + LINA Plan: causal completion, subspace (cached per encoder), edit) are cached per
prompt, as ComfyUI caches node outputs across seeds, and timed apart (once per prompt). Also checks
that no second copy of the weights exists: every parameter of the sampled model is the same storage
as the loaded one (LINA clones the ModelPatcher, never the weights), and the
process RSS before / after.
Targets: substitute <= 1.05x plain; guided no more than its extra evaluations (time ratio <= NFE ratio).
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPTS = ["a small red cone lit by a lamp from the right", "a large blue cube near the edge of a small mirror",
           "a small green ball in the sand close to the water", "a large cube eats a small ball",
           "more dirt than empty space in the jar", "a small yellow cylinder on a table"]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=("physworld", "sd15"), default="physworld")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from lina_nodes.inprocess.comfy_import import import_comfy

    import_comfy()
    from lina_nodes.inprocess.plan_build import build_plan
    from lina_nodes.csg import parse
    from lina_nodes.inprocess.sampler import InProcessSampler

    if args.model == "physworld":
        from lina_nodes.paths import PHYSWORLD_DEFAULT_WEIGHTS as DEFAULT_WEIGHTS

        s = InProcessSampler.physworld(DEFAULT_WEIGHTS)
    else:
        import tempfile

        from lina_nodes.server.runtime import find_comfyui
        from lina_nodes.devtools.tiny_models import build

        d = Path(tempfile.mkdtemp()) / "models"
        rep = build(find_comfyui(), d, roles=["sd15_ckpt"])
        s = InProcessSampler.checkpoint(d / rep["files"]["sd15_ckpt"])
    ptrs = {id(p): p.data_ptr() for p in s.model.model.parameters()}
    rss0 = rss_mb()
    variants = {"plain": {}, "lina_substitute": {"lina": "prior", "mode": "substitute"},
                "lina_guided": {"lina": "prior", "mode": "add"}}
    for p in PROMPTS:   # warm-up: ComfyUI caches CLIPTextEncode / LINA Plan outputs across seeds; so do we
        for name, kw in variants.items():
            s.sample(p, 0, steps=args.steps, size=args.size, **kw)
    times = {k: [] for k in variants}
    nfe = {k: [] for k in variants}
    plan_s = []
    for r in range(args.repeats):
        for i, p in enumerate(PROMPTS):
            for name, kw in variants.items():
                t = time.perf_counter()
                res = s.sample(p, 100 * r + i, steps=args.steps, size=args.size, **kw)
                times[name].append(time.perf_counter() - t)
                nfe[name].append(res.nfe)
            if r == 0:
                t = time.perf_counter()
                build_plan(parse(p), s.clip)
                plan_s.append(time.perf_counter() - t)
    shared = all(p.data_ptr() == ptrs.get(id(p)) for p in s.model.model.parameters())
    base = statistics.median(times["plain"])
    out = {"model": args.model, "steps": args.steps, "size": args.size, "threads": args.threads,
           "images_per_variant": len(times["plain"]), "plan_build_s_median": round(statistics.median(plan_s), 4),
           "weights_shared": shared, "rss_mb_before": round(rss0, 1), "rss_mb_after": round(rss_mb(), 1),
           "variants": {}}
    for name in variants:
        med = statistics.median(times[name])
        out["variants"][name] = {"s_per_image_median": round(med, 4), "ratio_to_plain": round(med / base, 3),
                                 "nfe_per_image": statistics.mean(nfe[name]),
                                 "nfe_ratio": round(statistics.mean(nfe[name]) / statistics.mean(nfe["plain"]), 3)}
    v = out["variants"]
    out["targets"] = {"substitute_<=1.05x": v["lina_substitute"]["ratio_to_plain"] <= 1.05,
                      "guided_time_ratio_<=_nfe_ratio": v["lina_guided"]["ratio_to_plain"]
                      <= v["lina_guided"]["nfe_ratio"] + 0.02,
                      "no_second_copy_of_weights": shared}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"{args.model}, {args.steps} steps, {args.size}px, {args.threads} thread(s), "
          f"{out['images_per_variant']} images per variant (interleaved)")
    for name, r in v.items():
        print(f"  {name:16s} {r['s_per_image_median']:.4f} s/image  x{r['ratio_to_plain']:.3f}   "
              f"NFE {r['nfe_per_image']:.1f} (x{r['nfe_ratio']:.3f})")
    print(f"  plan build (parse + LINA Plan) {out['plan_build_s_median']:.4f} s per prompt, once")
    print(f"  weights shared (no second copy): {shared}; max RSS {out['rss_mb_before']} -> {out['rss_mb_after']} MB")
    print(f"  targets: {out['targets']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
