"""Probe (not a LINA component): does steering AWAY from the model's likely mistake help on PhysWorld OOD?

    .venv/bin/python benchmarks/lina_counterfactual_probe.py [--n 36] [--weights W] [--json]

For OOD prompts of three held-out rules it writes by hand the counterfactual a model that falls back
to its training data would draw (an oracle, per rule: sand close to water -> "in the grass, in the
water"; small mirror edge -> "large mirror"; reversed action -> the two shapes swapped, i.e. the
training direction) and uses it as the negative prompt of classifier-free guidance (same number of
model evaluations as the plain sampler): only in the early window (progress < 0.35), for the whole
run, and for the whole run mixed half-and-half with the empty prompt's encoding. Prints the registered
judge's score per rule and overall against the plain sampler; seeds 1000 + prompt index. It bounds
what a counterfactual-negative component could add before anyone builds one from the CSG.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHAPES = ("ball", "cube", "cone", "cylinder")
RULES = ("small_mirror_edge", "reversed_action", "sand_close_to_water")
VARIANTS = (("plain", 0.0, 1.0), ("negative_early_0.35", 0.35, 1.0), ("negative_all", 1.0, 1.0),
            ("negative_all_half", 1.0, 0.5))


def counterfactual(prompt: str, rule: str) -> str:
    if rule == "reversed_action":
        a, b = [w for w in re.findall(r"[a-z]+", prompt) if w in SHAPES][:2]
        return re.sub(rf"\b({a}|{b})\b", lambda m: b if m.group(0) == a else a, prompt)
    if rule == "sand_close_to_water":
        return prompt.replace("close to the water", "in the water").replace("sand", "grass")
    return prompt.replace("small mirror", "large mirror")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=None)
    ap.add_argument("--n", type=int, default=36, help="OOD prompts of the three rules")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import numpy as np
    import torch

    from lina_nodes.inprocess.sampler import InProcessSampler, _uint8
    from lina_nodes.physworld.register import judge_registered
    from lina_nodes.paths import PHYSWORLD_DEFAULT_WEIGHTS as DEFAULT_WEIGHTS
    from lina_nodes.physworld_model.data import eval_samples
    from lina_nodes.physworld_model.weights_io import weights_split

    torch.set_num_threads(1)
    weights = args.weights or str(DEFAULT_WEIGHTS)
    pool = eval_samples("ood_test", 4 * args.n, version=weights_split(weights))
    samples = [s for s in pool if set(s.record["ood_rules"]) & set(RULES)][: args.n]
    smp = InProcessSampler.physworld(weights)
    import comfy.sample
    import comfy.samplers

    empty = smp.encode("")
    sigmas = smp.base_sigmas(20)

    def draw(prompt, seed, negative, until, mix):
        neg = empty
        if until > 0:
            nc = [[mix * t + (1 - mix) * empty[0][0], dict(d)] for t, d in smp.encode(negative)]
            neg = [[t, {**d, "start_percent": 0.0, "end_percent": until - 1e-4}] for t, d in nc]
            if until < 1.0:
                neg += [[t, {**d, "start_percent": until, "end_percent": 1.0}] for t, d in empty]
        g = comfy.samplers.CFGGuider(smp.model)
        g.set_conds(smp.encode(prompt), neg)
        g.set_cfg(4.0)
        lat = torch.zeros(smp.latent_shape(64))
        with torch.inference_mode():
            out = g.sample(comfy.sample.prepare_noise(lat, seed), lat, comfy.samplers.sampler_object("euler"),
                           sigmas, disable_pbar=True, seed=seed)
            return _uint8(smp.vae.decode(out))

    res = {}
    for name, until, mix in VARIANTS:
        t0, per = time.perf_counter(), {}
        for i, s in enumerate(samples):
            rule = next(r for r in s.record["ood_rules"] if r in RULES)
            img = draw(s.record["prompt"], 1000 + i, counterfactual(s.record["prompt"], rule), until, mix)
            per.setdefault(rule, []).append(judge_registered(img, s.record["scene"]).score)
        scores = [x for v in per.values() for x in v]
        res[name] = {"score": round(float(np.mean(scores)), 4), "images": len(scores),
                     "per_rule": {k: round(float(np.mean(v)), 4) for k, v in per.items()},
                     "seconds": round(time.perf_counter() - t0, 1)}
        if not args.json:
            print(f"{name:20s} {100 * res[name]['score']:5.1f}%  " +
                  "  ".join(f"{k} {100 * v:5.1f}%" for k, v in res[name]["per_rule"].items()), flush=True)
    if args.json:
        print(json.dumps({"weights": weights, "n": len(samples), "results": res}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
