"""Graph helpers the server tests share: a workflow with LINA taken out (the baseline LINA is compared
against), and the images a run saved, as one array."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence

SAVERS = ("SaveImage", "SaveAnimatedWEBP", "SaveAnimatedPNG")


def without_lina(api: dict) -> dict:
    """The same graph with LINA taken out: plain encode, CFGGuider, BasicScheduler, unpatched model
    (a graph with no LINA Plan keeps its own encoders)."""
    g = json.loads(json.dumps(api))
    plan_id = next((k for k, n in g.items() if n["class_type"] == "LINAPlan"), None)
    if plan_id is not None:
        parse_id = g[plan_id]["inputs"]["csg"][0]
        prompt = g[parse_id]["inputs"]["prompt"]
        g[plan_id] = {"class_type": "CLIPTextEncode", "inputs": {"clip": g[plan_id]["inputs"]["clip"], "text": prompt}}
        del g[parse_id]
    bypass = {}
    for k, n in list(g.items()):
        i = n["inputs"]
        if n["class_type"] == "LINAGuider":
            g[k] = {"class_type": "CFGGuider", "inputs": {"model": i["model"], "positive": i["positive"],
                                                           "negative": i["negative"], "cfg": i["cfg"]}}
        elif n["class_type"] == "LINACausalScheduler":
            g[k] = {"class_type": "BasicScheduler", "inputs": {"model": i["model"], "scheduler": i["scheduler"],
                                                               "steps": i["steps"], "denoise": i["denoise"]}}
        elif n["class_type"] == "LINAModelPatch":
            bypass[k] = i["model"]
            del g[k]
        elif n["class_type"] == "LINAAdapterLoader":    # only LINA Plan reads it, and the plan is gone
            del g[k]
    for n in g.values():
        for name, v in n["inputs"].items():
            if isinstance(v, list) and len(v) == 2 and v[0] in bypass:
                n["inputs"][name] = bypass[v[0]]
            elif plan_id is not None and isinstance(v, list) and len(v) == 2 and v[0] == plan_id:
                assert v[1] == 1, f"only the plan's positive may remain linked, got {v}"
                n["inputs"][name] = [plan_id, 0]
    # the loader of the pack's own model (LINA PhysWorld Loader) is not LINA's intervention
    assert not any(n["class_type"].startswith("LINA") and n["class_type"] != "LINAPhysWorldLoader"
                   for n in g.values())
    return g


def has_lina(api: dict) -> bool:
    """Whether the graph has a LINA node that changes sampling (plan, guider, patch, scheduler, sampler)."""
    return any(n["class_type"] in ("LINAPlan", "LINAGuider", "LINAModelPatch", "LINACausalScheduler", "LINASampler")
               for n in api.values())


def set_prefix(api: dict, prefix: str) -> dict:
    """A copy whose save nodes write under ``prefix`` (one save node: exactly it; more: ``prefix_<node id>``)."""
    g = json.loads(json.dumps(api))
    savers = [k for k, n in g.items() if n["class_type"] in SAVERS]
    for k in savers:
        g[k]["inputs"]["filename_prefix"] = prefix if len(savers) == 1 else f"{prefix}_{k}"
    return g


def saved_images(files: list[Path], prefix: str) -> np.ndarray:
    """Every image saved under ``prefix`` (the PNGs, else each frame of the animations), as int16 [N, H, W, 3]."""
    name = prefix.rsplit("/", 1)[-1]
    mine = sorted(p for p in files if p.name.startswith(name))
    pngs = [p for p in mine if p.suffix == ".png"]
    frames = []
    for p in pngs or mine:
        with Image.open(p) as im:
            frames += [np.asarray(f.convert("RGB"), dtype=np.int16) for f in ImageSequence.Iterator(im)]
    assert frames, f"nothing saved under {prefix!r}: {[p.name for p in files]}"
    return np.stack(frames)
