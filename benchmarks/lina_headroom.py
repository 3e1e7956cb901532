"""Headroom of LINA's action space on PhysWorld's held-out rules (issue 13, item 1).

For each OOD prompt (indices 0..n-1, one seed), every setting of a lever grid is sampled with the shipped
model through the nodes' own code (``InProcessSampler``) and judged (registered judge). The oracle picks,
per prompt, the best setting with the judge in the loop: what a per-prompt predictor could reach at best
with these levers. Printed per held-out rule: plain, prior, oracle per lever family (the prior plus that
family's settings), oracle over everything. Rows are cached in ``--out/rows.jsonl`` (resumable; a cached row
whose plan differs from the one the current code builds, after a parser or prior change, is sampled again).

    .venv/bin/python benchmarks/lina_headroom.py --n 100 [--threads 1] [--out out/headroom_v1]

The settings are the adapter's action space (``lina_nodes.intervention.action_space.ACTIONS``, all in
substitute mode; only ``regions`` costs evaluations, printed per setting) plus plain sampling; an action whose plan equals another's for a
prompt reuses that image's score.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lina_nodes.intervention.action_space import ACTIONS  # noqa: E402

# setting name -> (lever family, sampler kwargs): plain sampling and every action of the adapter's action space
# (each the training-free plan with that action's plan changes; "prior" = the plan as it is, substitute mode)
GRID = {"plain": ("plain", {"lina": "off"}),
        **{name: (name, {"lina": "prior", "plan_changes": dict(ch)}) for name, ch in ACTIONS.items()}}


def run(n: int, out: Path, settings: list[str]) -> list[dict]:
    from lina_nodes.inprocess.sampler import InProcessSampler
    from lina_nodes.intervention.plan import as_plan, plan_key
    from lina_nodes.paths import PHYSWORLD_DEFAULT_WEIGHTS
    from lina_nodes.physworld.register import judge_registered
    from lina_nodes.physworld_model.data import eval_samples
    from lina_nodes.physworld_model.evaluate import seed_for
    from lina_nodes.physworld_model.weights_io import weights_split

    out.mkdir(parents=True, exist_ok=True)
    cache = out / "rows.jsonl"
    rows = [json.loads(x) for x in cache.read_text().splitlines()] if cache.exists() else []
    done = {(r["setting"], r["index"]): r.get("plan", "") for r in rows}
    samples = eval_samples("ood_test", n, version=weights_split(PHYSWORLD_DEFAULT_WEIGHTS))
    smp = InProcessSampler.physworld(PHYSWORLD_DEFAULT_WEIGHTS)
    same = {}   # (index, plan JSON) -> (score, nfe): an action whose plan equals another's is not sampled again
    for r in rows:
        if r.get("plan"):
            same[(r["index"], r["plan"])] = (r["score"], r["nfe"])
    with cache.open("a") as f:
        for name in settings:
            t0 = time.perf_counter()
            kw = dict(GRID[name][1])
            for i, s in enumerate(samples):
                rec = s.record
                key = ""
                if kw["lina"] != "off":
                    key = plan_key(as_plan(smp.plan_for(rec["prompt"], plan_changes=kw["plan_changes"])[0]))
                if done.get((name, i)) == key:
                    continue      # cached, and the plan is still the one this code builds
                rows = [r for r in rows if (r["setting"], r["index"]) != (name, i)]   # a stale row is replaced
                if key and (i, key) in same:
                    score, nfe = same[(i, key)]
                else:
                    r = smp.sample(rec["prompt"], seed_for(i, 0), **kw)
                    score, nfe = float(judge_registered(r.image, rec["scene"], rec["prompt"]).score), r.nfe
                    if key:
                        same[(i, key)] = (score, nfe)
                row = {"setting": name, "index": i, "rule": "+".join(rec["ood_rules"]), "score": score, "nfe": nfe,
                       "plan": key}
                rows.append(row)
                f.write(json.dumps(row) + "\n")
                f.flush()
            print(f"{name}: {time.perf_counter() - t0:.0f} s", flush=True)
    return [r for r in rows if r["index"] < n]


def table(rows: list[dict]) -> dict:
    by = defaultdict(dict)          # index -> setting -> score
    rule_of, nfe = {}, defaultdict(list)
    for r in rows:
        by[r["index"]][r["setting"]] = r["score"]
        rule_of[r["index"]] = r["rule"]
        nfe[r["setting"]].append(r["nfe"])
    idx = sorted(i for i in by if "plain" in by[i] and "prior" in by[i])
    families = sorted({GRID[s][0] for s in GRID} - {"plain", "prior"})
    cols = {"plain": lambda d: d["plain"], "prior": lambda d: d["prior"]}
    for fam in families:
        names = ["prior"] + [s for s, (f, _) in GRID.items() if f == fam]
        cols[f"oracle {fam}"] = lambda d, names=names: max(d[s] for s in names if s in d)
    cols["oracle all"] = lambda d: max(v for s, v in d.items() if s != "plain")
    rules = sorted({rule_of[i] for i in idx}, key=lambda r: (r.count("+"), r))
    res = {}
    for rule in rules + ["ALL"]:
        ii = [i for i in idx if rule == "ALL" or rule_of[i] == rule]
        res[rule] = {"n": len(ii), **{c: 100 * float(np.mean([fn(by[i]) for i in ii])) for c, fn in cols.items()}}
    res["_nfe"] = {s: float(np.mean(v)) for s, v in nfe.items()}
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="out/headroom_v1")
    ap.add_argument("--settings", default=",".join(GRID), help="comma-separated names from the grid")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    rows = run(args.n, Path(args.out), [s.strip() for s in args.settings.split(",") if s.strip()])
    res = table(rows)
    cols = [c for c in next(iter(res.values())) if c != "n"]
    print(f"{'rule':34s} {'n':>4s} " + " ".join(f"{c:>16s}" for c in cols))
    for rule, v in res.items():
        if rule.startswith("_"):
            continue
        print(f"{rule:34s} {v['n']:4d} " + " ".join(f"{v[c]:16.1f}" for c in cols))
    print("model evaluations per image:", json.dumps(res["_nfe"]))
    (Path(args.out) / "headroom.json").write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
