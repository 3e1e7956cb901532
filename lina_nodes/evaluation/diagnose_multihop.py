"""Insight 1 (multi-hop reasoning) as a measurement: CSG-guided masked inpainting.

For each prompt with a correct reference image (a PhysWorld render with its true CSG), mask one CSG
node at a time (its layout box, dilated a little), resample the masked pixels with the model
conditioned on the prompt (ComfyUI's latent noise mask: ``denoise_mask``, the rest of the image is kept
at every step) and judge whether that node comes back right (the judge's checks about the node). A
trial counts only when the reference itself passes those checks (else the judge cannot confirm the node
even on the truth). Recovery is reported by hop depth (0: an explicit object; 1: an implied contact,
support or fill; 2: an implied reflection or shadow, two hops from the prompt's words) and by node
kind, without LINA and with the training-free LINA prior, each with a 95% Wilson interval.
"""
from __future__ import annotations

import time

import numpy as np

from .diagnose_common import DiagnoseError, Item, rate

HOP2_KINDS = frozenset({"reflection", "shadow"})
DEFAULT_ARMS = ("plain", "lina")


def hop_depth(node: dict) -> int:
    """0 explicit, 2 a reflection / shadow (cause + medium), else 1 (contact, support, fill...)."""
    if node.get("explicit", True):
        return 0
    return 2 if node.get("kind") in HOP2_KINDS else 1


def node_mask(box, size: int, dilate_px: int = 2) -> np.ndarray:
    """float32 size x size, 1 inside the normalised box (x0, y0, x1, y1) grown by ``dilate_px``."""
    x0, y0, x1, y1 = (float(v) for v in box)
    m = np.zeros((size, size), np.float32)
    c0 = max(0, int(np.floor(x0 * size)) - dilate_px)
    r0 = max(0, int(np.floor(y0 * size)) - dilate_px)
    c1 = min(size, int(np.ceil(x1 * size)) + dilate_px)
    r1 = min(size, int(np.ceil(y1 * size)) + dilate_px)
    m[r0:r1, c0:c1] = 1.0
    return m


def _recovered(res: dict, node_id: str) -> tuple[bool | None, str]:
    """Whether the node is right in a judge result: its node verdict, else all checks, else score == 1."""
    nodes = res.get("nodes") or {}
    if node_id in nodes:
        return bool(nodes[node_id]), "node"
    checks = res.get("checks") or {}
    if checks:
        return all(bool(v) for v in checks.values()), "all_checks"
    return bool(res["score"] >= 1.0 - 1e-9), "score"


def measure(sampler, items: list, judge, seeds: int = 1, steps: int = 20, cfg: float = 4.0, size: int = 64,
            arms=DEFAULT_ARMS, dilate_px: int = 2, empty_mask: bool = False, adapter=None, progress=None) -> dict:
    """Recovery by hop and node kind per arm ("plain", "lina" = prior/substitute, "adapter").

    ``judge(image, item) -> dict`` (diagnose_common). ``empty_mask``: mask nothing (a baseline: every
    node must come back)."""
    if not items:
        raise DiagnoseError("no prompts to diagnose.", field="n", fix="pass --n 1 or more.")
    bad = [a for a in arms if a not in ("plain", "lina", "adapter")]
    if bad or ("adapter" in arms) != (adapter is not None):
        raise DiagnoseError(f"arms {list(arms)}: use plain, lina and adapter (adapter needs --adapter).", field="arms")
    t0 = time.perf_counter()
    jobs = []
    for i, it in enumerate(items):
        if it.image is None or not it.csg:
            raise DiagnoseError(f"prompt {i} has no reference image and CSG.", field="prompts",
                                fix="multihop needs reference renders with their CSG (PhysWorld prompts).")
        ref = judge(it.image, it)
        for nd in it.csg["nodes"]:
            if nd.get("box") is None:
                continue
            ok, how = _recovered(ref, nd["id"])
            for k in range(seeds):
                jobs.append((i, nd, k, ok, how))
    bar = progress(len(jobs) * len(arms)) if progress else None
    trials = []
    for i, nd, k, ref_ok, how in jobs:
        it: Item = items[i]
        mask = np.zeros((size, size), np.float32) if empty_mask else node_mask(nd["box"], size, dilate_px)
        row = {"prompt": i, "node": nd["id"], "kind": nd["kind"], "hop": hop_depth(nd), "seed": k,
               "mask_px": int(mask.sum()), "reference_ok": ref_ok, "judged_by": how}
        for arm in arms:
            kw = {} if arm == "plain" else {"lina": "prior", "mode": "substitute"} if arm == "lina" else \
                {"lina": "adapter", "adapter": adapter}
            r = sampler.sample(it.prompt, 1000 * k + i, steps=steps, cfg=cfg, size=size, init_image=it.image,
                               noise_mask=mask, **kw)
            row[arm] = _recovered(judge(r.image, it), nd["id"])[0]
            if bar:
                bar.update(1)
        trials.append(row)
    if bar:
        bar.close()
    valid = [t for t in trials if t["reference_ok"]]

    def table(key):
        out = {}
        for v in sorted({t[key] for t in valid}, key=str):
            sub = [t for t in valid if t[key] == v]
            out[str(v)] = {arm: rate(sum(bool(t[arm]) for t in sub), len(sub)) for arm in arms}
        return out

    return {
        "prompts": len(items), "seeds": seeds, "steps": steps, "cfg": cfg, "size": size, "dilate_px": dilate_px,
        "arms": list(arms), "lina": {"lina": "prior, mode substitute (parsed from the prompt)"},
        "empty_mask": empty_mask,
        "trials": len(trials), "valid_trials": len(valid), "judged_images": len(trials) * len(arms) + len(items),
        "reference_pass": rate(len(valid), len(trials)),
        "overall": {arm: rate(sum(bool(t[arm]) for t in valid), len(valid)) for arm in arms},
        "by_hop": table("hop"), "by_kind": table("kind"),
        "rows": trials,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def format_report(rep: dict) -> str:
    arms = rep["arms"]

    def cell(r):
        return "   n/a" if r["rate"] is None else f"{100 * r['rate']:5.1f}% [{100 * r['ci95'][0]:4.1f}, {100 * r['ci95'][1]:5.1f}]"

    head = f"{'':18s}{'n':>5s}  " + "  ".join(f"{a + ' recovered [95% CI]':>26s}" for a in arms)
    lines = [f"multihop: masked inpainting of one CSG node at a time, {rep['prompts']} prompts x {rep['seeds']} "
             f"seeds, {rep['valid_trials']} of {rep['trials']} trials valid (reference passes the node's checks)",
             head]
    for title, key in (("hop", "by_hop"), ("kind", "by_kind")):
        for v, r in rep[key].items():
            lines.append(f"{title + ' ' + v:18s}{r[arms[0]]['n']:5d}  " + "  ".join(f"{cell(r[a]):>26s}" for a in arms))
    lines.append(f"{'all':18s}{rep['valid_trials']:5d}  " + "  ".join(f"{cell(rep['overall'][a]):>26s}" for a in arms))
    return "\n".join(lines)
