"""LINA's cost on diffusers pipelines: plain vs LINA time per image, and denoiser calls, per family.

    .venv/bin/python benchmarks/diffusers_overhead.py [--families sd15,sdxl,sd3,flux,wan,physworld]
        [--steps 8] [--repeats 3] [--threads 1] [--json]

Tiny random-weight pipelines (``lina_nodes.diffusers.testing``; PhysWorld: the shipped 5.1 M model, 64 x 64)
sampled with the same seed, steps and guidance, plain (``pipe(prompt)``) and with LINA's training-free prior
in ``add`` and ``substitute`` mode (``with apply(pipe, prompt) as kw: pipe(**kw)``). Per image:

* time: median over --repeats of CPU time (process time, so other jobs on a busy machine do not count),
  plain vs LINA; the LINA column includes ``apply()`` (CSG parse, plan, encodes of the causal completion and
  structure prompt; the physics subspace is estimated once per encoder and cached, its first-call cost is
  reported apart as ``first apply``) and the hooks;
* "subst hooks only": the same prompt sampled again (``run = apply(...)`` once, ``with run`` per image):
  only the hooks' per-image cost;
* denoiser calls: forward calls of the unet / transformer, counted by an independent forward pre-hook.
  Substitute mode must add none (checked: the script exits 1 otherwise); add mode adds one batched call
  per in-window step.

On tiny models the text encoders cost about as much as the denoiser, so the ratio overstates LINA's share
of a real model's time; the call counts are what carries over.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

PROMPT = "a red ball on a table under a lamp"


def count_calls(pipe, family):
    counter = [0]
    handles = []
    for n in family.denoisers:
        m = getattr(pipe, n, None)
        if isinstance(m, torch.nn.Module):
            handles.append(m.register_forward_pre_hook(lambda *a: counter.__setitem__(0, counter[0] + 1)))
    return counter, handles


def build(name):
    from lina_nodes.diffusers import PhysWorldPipeline
    from lina_nodes.diffusers import testing as T

    if name == "physworld":
        pipe = PhysWorldPipeline.from_weights()
        return pipe, {"guidance_scale": 4.0}, None, lambda: {"seed": 0}
    pipe = T.BUILDERS[name]()
    return pipe, dict(T.CALL_ARGS[name]), T.MAX_SEQ.get(name), lambda: {"generator": torch.Generator().manual_seed(0)}


def bench(name: str, steps: int, repeats: int) -> dict:
    from lina_nodes.diffusers import apply, family_of

    pipe, args, msl, seed = build(name)
    fam = family_of(pipe)
    base = dict(args, num_inference_steps=steps)
    plain_kw = dict(base, prompt=PROMPT, **({"max_sequence_length": msl} if msl else {}))

    def plain():
        return pipe(**plain_kw, **seed())

    def lina(mode):
        with apply(pipe, PROMPT, mode=mode, max_sequence_length=msl) as kw:
            return pipe(**kw, **base, **seed())

    prepared = apply(pipe, PROMPT, mode="substitute", max_sequence_length=msl)

    def hooks_only():      # the same prompt again (another seed): apply() done once, only the hooks per image
        with prepared as kw:
            return pipe(**kw, **base, **seed())

    t = time.process_time()
    apply(pipe, PROMPT, max_sequence_length=msl)          # first apply: subspace estimate for this encoder
    first_apply = time.process_time() - t
    plain()                                               # warm-up
    row = {"family": name, "steps": steps, "first_apply_s": first_apply}
    for label, fn in (("plain", plain), ("add", lambda: lina("add")), ("substitute", lambda: lina("substitute")),
                      ("hooks", hooks_only)):
        counter, handles = count_calls(pipe, fam)
        times = []
        try:
            for _ in range(repeats):
                counter[0] = 0
                t = time.process_time()
                fn()
                times.append(time.process_time() - t)
        finally:
            for h in handles:
                h.remove()
        row[f"{label}_s"] = statistics.median(times)
        row[f"{label}_calls"] = counter[0]
    row["add_ratio"] = row["add_s"] / row["plain_s"]
    row["substitute_ratio"] = row["substitute_s"] / row["plain_s"]
    row["hooks_ratio"] = row["hooks_s"] / row["plain_s"]
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--families", default="sd15,sdxl,sd3,flux,wan,physworld")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    import diffusers.utils.logging
    import transformers.utils.logging

    diffusers.utils.logging.set_verbosity_error()      # the tiny tokenizers truncate the causal completion
    transformers.utils.logging.set_verbosity_error()
    rows = [bench(f.strip(), a.steps, a.repeats) for f in a.families.split(",") if f.strip()]
    if a.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"{'family':10} {'plain s/img':>11} {'add s/img':>10} {'add/plain':>9} {'subst s/img':>11} "
              f"{'subst/plain':>11} {'subst hooks only/plain':>22} {'calls plain/add/subst':>22} {'first apply s':>13}")
        for r in rows:
            calls = f"{r['plain_calls']}/{r['add_calls']}/{r['substitute_calls']}"
            print(f"{r['family']:10} {r['plain_s']:11.3f} {r['add_s']:10.3f} {r['add_ratio']:9.2f} "
                  f"{r['substitute_s']:11.3f} {r['substitute_ratio']:11.2f} {r['hooks_ratio']:22.2f} {calls:>22} "
                  f"{r['first_apply_s']:13.2f}")
    bad = [r["family"] for r in rows if not r["substitute_calls"] == r["hooks_calls"] == r["plain_calls"]]
    if bad:
        print(f"substitute mode added denoiser calls for: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
