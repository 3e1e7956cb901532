"""The training-pool probes behind two of this release's choices (issue 13), never run on evaluation prompts.

    .venv/bin/python benchmarks/lever_probes.py regions   [--n 50]   # region-prompt settings, reversed actions
    .venv/bin/python benchmarks/lever_probes.py reference            # the fine-placement deferral by reference size
    .venv/bin/python benchmarks/lever_probes.py mirror     [--n 0]   # a mirror-copy prototype, reflection prompts
    .venv/bin/python benchmarks/lever_probes.py reflector  [--n 0]   # region prompts that include the mirror
    .venv/bin/python benchmarks/lever_probes.py stand_in   [--n 0]   # which shape stands in for a cone, how long
    .venv/bin/python benchmarks/lever_probes.py neutral    [--n 0]   # every shape laid out as one shape, all rules

Pool: PhysWorld OOD 1000-1199 (the adapter's training pool), seeds 0 and 1, the shipped model through the
nodes' own code (``PhysWorldRunner``: 20 Euler steps, CFG 4, substitute mode), the registered judge.

``regions``: on the reversed-action prompts, the prior against region prompts at several strengths / shares,
with the verb added to the agent's phrase, and with a counterfactual negative on top.
``reference``: on the prompts with a fine placement ("at the edge of a mirror"), the prior's plan against the
same plan with the coarse structure phase ("near a mirror", 0.8 of the window), grouped by the size the CSG
gives the reference (small / large / unsized). ``mirror``: a prototype lever never shipped, on the cone-reflection
and small-mirror-edge prompts: inside the layout-focus share of the window, the early denoised estimate inside
each CSG reflection box is pulled toward the vertically flipped estimate of its source's box (what a floor mirror
or water shows), weighted by how far each source pixel is from its row's background; it runs in the layout-focus
post-CFG slot (patched for the probe, focus itself off). ``reflector``: on the same prompts, region prompts
(strength 4, 0.9 of the window) for the objects only (the shipped lever), for the objects and the reflector
("a small mirror" in its CSG box, so a small mirror is drawn small), and for the reflector alone. Prints mean
scores and the paired difference per variant. ``stand_in``: on the prompts with a cone in a reflection scene,
the structure phase with the cone laid out as a cylinder or as a ball, through 0.3 / 0.6 / 0.9 of the window
(the prior's own structure text, when it has one, with the noun replaced): the probe behind ``deferrals.json``
``shape_stand_ins``. ``neutral``: on every pool prompt, grouped by rule, the structure phase with every shape
noun (cube, ball, cylinder, cone) laid out as one shape (a cylinder, a ball, or the word "object"), through 0.9
of the window or joining the prior's own structure phase at its length: whether a shape-free layout phase, the
stand-in generalised beyond cones, pays on rules other than the cone's (a lever that could transfer to it).
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SEEDS = (0, 1)


def region_variants(g, prompt_plan) -> dict:
    rp = [r.to_dict() for r in prompt_plan.region_prompts]
    acts = {e.src: e.relation for e in g.edges if e.kind == "action"}
    with_verb = [dict(r, text=f"{r['text']} {acts[r['node']]}") if r["node"] in acts else r for r in rp]
    on = {"region_strength": 4.0, "region_share": 0.9}
    return {"prior": {}, "regions s2 0.9": {"region_strength": 2.0, "region_share": 0.9},
            "regions s4 0.6": {"region_strength": 4.0, "region_share": 0.6},
            "regions s4 0.9": on,
            "regions s4 0.9 + verb": {**on, "region_prompts": with_verb},
            "regions s4 0.9 + counterfactual": {**on, "counterfactual_share": 1.0}}


def reference_variants(g, prompt_plan) -> dict:
    from lina_nodes.intervention.structure import coarsen_placement

    coarse, n = coarsen_placement(g.prompt)
    return {"prior": {}, "coarse phase 0.8": {"structure_prompt": coarse, "structure_share": 0.8}} if n else {}


def mirror_pairs(g) -> list:
    """(source box, reflection box) of every reflection node of the CSG."""
    boxes = {n.id: n.box for n in g.nodes}
    return [(boxes[n.physics["of"]], n.box) for n in g.nodes
            if n.kind == "reflection" and n.box and boxes.get(n.physics.get("of"))]


def mirror_copy(d, pairs, eta: float):
    """D + eta * c * (flip(D_src) - D) inside each reflection box, flipped about the line between the boxes."""
    import torch  # noqa: F401

    from lina_nodes.intervention.layout_focus import row_background

    h, w = d.shape[-2:]
    out, dev = d.clone(), (d - row_background(d)).norm(dim=1, keepdim=True)
    scale = 0.5 * dev.amax(dim=(-1, -2))[..., None] + 1e-6
    for (_, sy0, _, sy1), (rx0, ry0, rx1, ry1) in pairs:
        axis = 0.5 * (sy1 + ry0) * h
        xa, xb = int(np.floor(rx0 * w)), int(np.ceil(rx1 * w))
        for y in range(max(int(np.floor(ry0 * h)), 0), min(int(np.ceil(ry1 * h)), h)):
            ys = int(round(2 * axis - y - 1))
            if 0 <= ys < h and ys >= sy0 * h - 1:
                c = (dev[..., ys, xa:xb] / scale).clamp(0, 1)
                out[..., y, xa:xb] += eta * c * (d[..., ys, xa:xb] - out[..., y, xa:xb])
    return out


def mirror_variants(g, prompt_plan) -> dict:
    on = {"layout_strength": 1.0, "layout_share": 0.9}
    return {"prior": {}, "copy 0.5": {**on, "_copy": 0.5}, "copy 1.0": {**on, "_copy": 1.0}} \
        if mirror_pairs(g) else {}


def reflector_variants(g, prompt_plan) -> dict:
    """Region prompts with the reflector's own phrase and box added (mirrors, ponds, lakes: the reflection's owner)."""
    objs = [r.to_dict() for r in prompt_plan.region_prompts]
    refl = {e.src for e in g.edges if e.relation == "reflects"} - {r["node"] for r in objs}
    extra = [{"node": n.id, "text": g.prompt[n.span[0]:n.span[1]].strip(), "box": list(n.box)} for n in g.nodes
             if n.id in refl and n.explicit and n.span and n.box and n.kind not in ("object", "agent")]
    if not extra:
        return {}
    on = {"region_strength": 4.0, "region_share": 0.9}
    out = {"prior": {}, "objects (shipped)": on, "objects + reflector": {**on, "region_prompts": objs + extra},
           "reflector alone": {**on, "region_prompts": extra}}
    return out if objs else {k: v for k, v in out.items() if k != "objects (shipped)"}


def stand_in_variants(g, prompt_plan) -> dict:
    import re

    base = prompt_plan.structure_prompt or g.prompt
    if not re.search(r"\bcones?\b", base):
        return {}
    out = {"prior": {}}
    for noun, shares in (("cylinder", (0.3, 0.6, 0.9)), ("ball", (0.9,))):
        text = re.sub(r"\bcones\b", noun + "s", re.sub(r"\bcone\b", noun, base))
        for sh in shares:
            out[f"{noun} {sh}"] = {"structure_prompt": text, "structure_share": max(sh, prompt_plan.structure_share)}
    return out


_SHAPES = r"\b(cube|ball|cylinder|cone|sphere)(s?)\b"


def neutral_variants(g, prompt_plan) -> dict:
    import re

    base = prompt_plan.structure_prompt or g.prompt
    if not re.search(_SHAPES, base):
        return {}
    share = min(prompt_plan.structure_share, 0.9) if prompt_plan.structure_share > 0 else 0.9
    out = {"prior": {}}
    for noun in ("cylinder", "ball", "object"):
        text = re.sub(_SHAPES, lambda m: noun + m.group(2), base)
        out[f"every shape a {noun}"] = {"structure_prompt": text, "structure_share": share}
    return out


def reference_group(g) -> str:
    size = {n.id: n.physics.get("size") for n in g.nodes}
    refs = [size.get(e.dst) for e in g.edges if e.attrs.get("place") == "edge"]
    return "small reference" if "small" in refs else ("large reference" if "large" in refs else "unsized reference")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("probe", choices=("regions", "reference", "mirror", "reflector", "stand_in", "neutral"))
    ap.add_argument("--n", type=int, default=0, help="at most this many prompts (0: all that qualify)")
    args = ap.parse_args(argv)
    import torch

    from lina_nodes.csg import parse
    from lina_nodes.evaluation.physworld_plugins import PhysWorldRunner, physworld_judge
    from lina_nodes.intervention.prior import prior_plan
    from lina_nodes.training.pool import load_pool

    torch.set_num_threads(1)
    runner = PhysWorldRunner()
    copy = {"eta": 0.0, "pairs": []}
    if args.probe == "mirror":
        from lina_nodes.intervention import layout_focus

        layout_focus.focus = lambda d, keep, eta: mirror_copy(d, copy["pairs"], copy["eta"]) if copy["eta"] else d
    scores: dict = defaultdict(lambda: defaultdict(list))     # group -> variant -> [score]
    used = 0
    for it in load_pool("physworld:ood_test:1000:200"):
        if args.n and used >= args.n:
            break
        g = parse(it["prompt"])
        if args.probe == "neutral":
            variants, group = neutral_variants(g, prior_plan(g)), it["labels"]["rule"]
            if not variants:
                continue
        elif args.probe == "regions":
            if it["labels"]["rule"] != "reversed_action":
                continue
            variants, group = region_variants(g, prior_plan(g)), "reversed action"
        elif args.probe in ("mirror", "reflector", "stand_in"):
            if not ({"cone_reflection", "small_mirror_edge"} & set(it["labels"]["rule"].split("+"))):
                continue
            make = {"mirror": mirror_variants, "reflector": reflector_variants,
                    "stand_in": stand_in_variants}[args.probe]
            variants, group = make(g, prior_plan(g)), it["labels"]["rule"]
            copy["pairs"] = mirror_pairs(g)
            if not variants:
                continue
        else:
            variants, group = reference_variants(g, prior_plan(g)), reference_group(g)
            if not variants:
                continue
        used += 1
        for seed in SEEDS:
            for name, changes in variants.items():
                copy["eta"] = changes.get("_copy", 0.0)
                changes = {k: v for k, v in changes.items() if k != "_copy"}
                image, _ = runner(it["prompt"], seed, {"mode": "substitute", **changes})
                scores[group][name].append(physworld_judge(image, it))
    for group, by in sorted(scores.items()):
        base = np.array(by["prior"])
        print(f"{group}: {len(base)} images ({len(base) // len(SEEDS)} prompts x {len(SEEDS)} seeds)")
        for name, xs in by.items():
            d = np.array(xs) - base
            print(f"  {name:34s} {100 * np.mean(xs):5.1f}   vs prior {100 * d.mean():+5.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
