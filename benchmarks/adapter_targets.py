"""Issue 13's targets for a trained adapter on PhysWorld, printed side by side with plain sampling and the prior.

    .venv/bin/python benchmarks/adapter_targets.py --adapter weights/lina_adapter_physworld.safetensors \
        [--variants plain,prior,adapter] [--loro out/adapter_run1] [--out out/adapter_targets]

Images (shipped model, 20 steps, CFG 4, seeds ``seed_for(index, k)`` as ``lina physworld eval``, registered
judge): OOD prompts 0-99 x seeds 0-1, OOD prompts 100-199 x seed 0, ID prompts 0-99 x seeds 0-1. Variants:
``plain`` (LINA off), ``prior`` (the training-free plan, substitute mode), ``adapter`` (the adapter's plan).
``--loro RUN`` also evaluates each ``RUN/adapter_holdout_<rule>.safetensors`` on the OOD 0-199 seed-0 images
of the rule it never saw, against the prior on the same images. Rows are cached per variant in
``--out/rows-<variant>.jsonl`` (resumable; run variants in parallel processes with ``--variants``); the table
is printed from whatever the cache holds, with the two OOD sets also pooled (300 images). Paired bootstrap 95%
intervals (10,000 resamples, seed 0).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETS = {"ood 0-99 x2": ("ood_test", range(0, 100), (0, 1)), "ood 100-199": ("ood_test", range(100, 200), (0,)),
        "id 0-99 x2": ("id_test", range(0, 100), (0, 1))}
RULES = ("small_mirror_edge", "cone_reflection", "reversed_action", "sand_close_to_water")


def jobs(sets=SETS):
    for name, (split, idx, seeds) in sets.items():
        for k in seeds:
            for i in idx:
                yield name, split, i, k


def run(variant: str, out: Path, adapter_path: str, only_rule: str | None = None) -> None:
    """Sample and judge every job of ``variant`` not yet cached."""
    import torch

    from lina_nodes.inprocess.sampler import InProcessSampler
    from lina_nodes.intervention.adapter import load_adapter
    from lina_nodes.paths import PHYSWORLD_DEFAULT_WEIGHTS
    from lina_nodes.physworld.register import judge_registered
    from lina_nodes.physworld_model.data import eval_samples
    from lina_nodes.physworld_model.evaluate import seed_for
    from lina_nodes.physworld_model.weights_io import weights_split

    torch.set_num_threads(1)
    cache = out / f"rows-{variant}.jsonl"
    done = {(r["set"], r["index"], r["k"]) for r in read(cache)}
    version = weights_split(PHYSWORLD_DEFAULT_WEIGHTS)
    samples = {s: eval_samples(s, 200, version=version) for s in ("ood_test", "id_test")}
    smp = InProcessSampler.physworld(PHYSWORLD_DEFAULT_WEIGHTS)
    if variant == "plain":
        kw = {"lina": "off"}
    elif variant == "prior":
        kw = {"lina": "prior", "mode": "substitute"}
    else:
        kw = {"lina": "adapter", "adapter": load_adapter(adapter_path)}
    sets = SETS if only_rule is None else {"loro": ("ood_test", range(0, 200), (0,))}
    t0, n = time.perf_counter(), 0
    with cache.open("a") as f:
        for name, split, i, k in jobs(sets):
            rec = samples[split][i].record
            if (name, i, k) in done or (only_rule and only_rule not in rec.get("ood_rules", [])):
                continue
            r = smp.sample(rec["prompt"], seed_for(i, k), **kw)
            score = float(judge_registered(r.image, rec["scene"], rec["prompt"]).score)
            row = {"set": name, "index": i, "k": k, "rule": "+".join(rec.get("ood_rules") or []) or "id",
                   "score": score, "nfe": r.nfe, "prompt": rec["prompt"],
                   "plan": {key: getattr(r.plan, key) for key in ("structure_share", "prompt_strength", "window_end",
                                                                 "layout_strength", "counterfactual_share", "region_strength")}
                   if r.plan is not None else None}
            f.write(json.dumps(row) + "\n")
            f.flush()
            n += 1
    print(f"{variant}: {n} images in {time.perf_counter() - t0:.0f} s", flush=True)


def read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def paired(a: dict, b: dict, keys) -> tuple[float, float, float]:
    d = np.array([a[k] - b[k] for k in keys])
    boot = np.random.default_rng(0).choice(d, size=(10000, len(d)), replace=True).mean(1)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return 100 * d.mean(), 100 * lo, 100 * hi


def table(out: Path, variants: list[str]) -> dict:
    rows = {v: read(out / f"rows-{v}.jsonl") for v in variants}
    score = {v: {(r["set"], r["index"], r["k"]): r["score"] for r in rs} for v, rs in rows.items()}
    rule = {(r["set"], r["index"], r["k"]): r["rule"] for rs in rows.values() for r in rs}
    nfe = {v: float(np.mean([r["nfe"] for r in rs])) if rs else float("nan") for v, rs in rows.items()}
    res: dict = {"sets": {}, "rules": {}, "nfe": nfe}
    print(f"{'set':16s} {'n':>4s} " + " ".join(f"{v:>8s}" for v in variants) + "   adapter - prior [95% CI]")
    common = set.intersection(*[set(s) for s in score.values()]) if score else set()
    ood = sorted(k for k in common if k[0].startswith("ood"))
    groups = [(name, sorted(k for k in common if k[0] == name)) for name in SETS] + [("ood pooled", ood)]
    for name, keys in groups:      # each set, then the two OOD sets pooled (300 images)
        if not keys:
            continue
        vals = {v: 100 * float(np.mean([score[v][k] for k in keys])) for v in variants}
        line = f"{name:16s} {len(keys):4d} " + " ".join(f"{vals[v]:8.1f}" for v in variants)
        entry = {"n": len(keys), **vals}
        if "adapter" in score and "prior" in score:
            entry["adapter_minus_prior"] = paired(score["adapter"], score["prior"], keys)
            line += "   {:+.1f} [{:+.1f}, {:+.1f}]".format(*entry["adapter_minus_prior"])
        print(line)
        if name == "ood pooled":
            res["ood_pooled"] = entry
        else:
            res["sets"][name] = entry
    print("per held-out rule (OOD 0-199, every image of a set above with exactly that rule):")
    for r in sorted({rule[k] for k in ood}):
        keys = [k for k in ood if rule[k] == r]
        vals = {v: 100 * float(np.mean([score[v][k] for k in keys])) for v in variants}
        res["rules"][r] = {"n": len(keys), **vals}
        print(f"  {r:36s} {len(keys):4d} " + " ".join(f"{vals[v]:8.1f}" for v in variants))
    print("model evaluations per image:", json.dumps({v: round(x, 2) for v, x in nfe.items()}))
    return res


def loro_table(out: Path, run: Path) -> dict:
    prior = {(r["index"], r["k"]): r["score"] for r in read(out / "rows-prior.jsonl")
             if r["set"].startswith("ood") and r["k"] == 0}
    res = {}
    print("leave one rule out (adapter fitted without the rule, on its OOD 0-199 seed-0 images):")
    for rule in RULES:
        rs = {(r["index"], r["k"]): r["score"] for r in read(out / f"rows-loro-{rule}.jsonl")}
        keys = sorted(set(rs) & set(prior))
        if not keys:
            continue
        a = 100 * float(np.mean([rs[k] for k in keys]))
        p = 100 * float(np.mean([prior[k] for k in keys]))
        d = paired(rs, prior, keys)
        res[rule] = {"n": len(keys), "holdout_adapter": a, "prior": p, "diff": d}
        print(f"  {rule:24s} n={len(keys):3d} prior {p:5.1f} held-out adapter {a:5.1f}  {d[0]:+.1f} "
              f"[{d[1]:+.1f}, {d[2]:+.1f}]")
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adapter", default=str(ROOT / "weights" / "lina_adapter_physworld.safetensors"))
    ap.add_argument("--variants", default="plain,prior,adapter")
    ap.add_argument("--loro", default="", help="a training run folder holding adapter_holdout_<rule>.safetensors")
    ap.add_argument("--out", default="out/adapter_targets")
    ap.add_argument("--table-only", action="store_true")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if not args.table_only:
        for v in variants:
            run(v, out, args.adapter)
        if args.loro:
            for rule in RULES:
                path = Path(args.loro) / f"adapter_holdout_{rule}.safetensors"
                if path.exists():
                    run(f"loro-{rule}", out, str(path), only_rule=rule)
    shown = [v for v in ("plain", "prior", "adapter") if (out / f"rows-{v}.jsonl").exists()]
    res = table(out, shown)
    if args.loro:
        res["loro"] = loro_table(out, Path(args.loro))
    (out / "targets.json").write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
