"""What the three diagnostics share: PhysWorld reference items, the judge interface, 95% intervals.

Judge interface (``--judge MODULE:CALLABLE``): ``judge(image, prompt, csg) -> dict`` with ``image`` a
uint8 H x W x 3 array, ``prompt`` the text, ``csg`` the prompt's CSG as a dict (``lina_nodes.csg``
format, normalised node boxes; None when there is none). The dict holds ``score`` in [0, 1] and may hold
``checks`` ({name: bool}), ``nodes`` ({node id: bool}, whether that node is right: multihop reads it) and
``physics`` / ``texture`` (floats in [0, 1]: subspace reads them). A plain number is taken as ``score``.
The built-in judge (``physworld_judge``) is the registered PhysWorld judge and fills every field.
"""
from __future__ import annotations

import importlib
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import LinaError

Z95 = 1.959963984540054
TEXTURE_KINDS = frozenset({"color", "material"})
OTHER_KINDS = frozenset({"present", "size"})       # neither physics nor texture: counted in the score only
CONTACT_KINDS = frozenset({"touches_support", "on_top", "below"})


class DiagnoseError(LinaError):
    """A diagnostic cannot run as asked."""


@dataclass
class Item:
    prompt: str
    csg: dict | None = None
    scene: dict | None = None
    image: np.ndarray | None = None       # the reference render (uint8 HxWx3), PhysWorld only


# ---- intervals ----------------------------------------------------------------------------------
def wilson(k: int, n: int) -> list:
    """95% Wilson score interval of k successes in n trials ([0, 1] when n == 0)."""
    if n <= 0:
        return [0.0, 1.0]
    p, z2 = k / n, Z95 * Z95
    c = (p + z2 / (2 * n)) / (1 + z2 / n)
    h = Z95 * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return [round(float(max(0.0, c - h)), 4), round(float(min(1.0, c + h)), 4)]


def rate(k: int, n: int) -> dict:
    """{k, n, rate, ci95} with the Wilson interval (rate None when n == 0)."""
    return {"k": int(k), "n": int(n), "rate": None if n == 0 else round(k / n, 4), "ci95": wilson(k, n)}


def ratio_bootstrap(num, den, reps: int = 2000, seed: int = 0) -> dict:
    """sum(num) / sum(den) over units (images) with a 95% percentile bootstrap over units."""
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    if den.sum() <= 0:
        return {"k": 0, "n": 0, "rate": None, "ci95": [0.0, 1.0]}
    r = float(num.sum() / den.sum())
    idx = np.random.default_rng(seed).integers(0, len(num), (reps, len(num)))
    d = den[idx].sum(1)
    bs = num[idx].sum(1)[d > 0] / d[d > 0]
    lo, hi = np.percentile(bs, [2.5, 97.5]) if bs.size else (r, r)
    return {"k": int(round(num.sum())), "n": int(round(den.sum())), "rate": round(r, 4),
            "ci95": [round(float(lo), 4), round(float(hi), 4)]}


def paired_delta(a, b, reps: int = 2000, seed: int = 0) -> dict:
    """mean(b - a) over paired units with a 95% percentile bootstrap (NaN pairs dropped)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    d = (b - a)[ok]
    if d.size == 0:
        return {"delta": None, "ci95": [None, None], "n": 0}
    bs = d[np.random.default_rng(seed).integers(0, d.size, (reps, d.size))].mean(1)
    lo, hi = np.percentile(bs, [2.5, 97.5])
    return {"delta": round(float(d.mean()), 4), "ci95": [round(float(lo), 4), round(float(hi), 4)], "n": int(d.size)}


# ---- PhysWorld items and judge --------------------------------------------------------------------
def physworld_items(n: int, split: str = "id", size: int = 64, weights=None) -> list:
    """n held-out PhysWorld prompts with their reference render, true CSG and scene (categories in turn)."""
    from ..paths import PHYSWORLD_DEFAULT_WEIGHTS
    from ..physworld_model.data import eval_samples
    from ..physworld_model.weights_io import weights_split

    samples = eval_samples("id_test" if split == "id" else "ood_test", n, size=size,
                           version=weights_split(weights or PHYSWORLD_DEFAULT_WEIGHTS))
    return [Item(s.record["prompt"], s.record["csg"], s.record["scene"], s.image) for s in samples]


def neighbours(csg: dict, node_id: str) -> set:
    return {e["dst"] if e["src"] == node_id else e["src"] for e in csg.get("edges", ())
            if node_id in (e["src"], e["dst"])}


def node_constraints(csg: dict, node_id: str) -> list:
    """Ids of the constraints about a node: those naming it (subject, object or caster); for a node no
    constraint names (a contact), those between two of its neighbours."""
    cons = csg.get("constraints", ())
    direct = [c["id"] for c in cons
              if node_id in (c.get("subject"), c.get("object"), (c.get("params") or {}).get("caster"))]
    if direct:
        return direct
    nb = neighbours(csg, node_id)
    return [c["id"] for c in cons if c.get("object") and c.get("subject") in nb and c["object"] in nb]


def physworld_judge(image, prompt: str, csg: dict | None, scene: dict | None = None) -> dict:
    """The registered PhysWorld judge in the diagnostic interface (needs the item's scene)."""
    from ..physworld.register import judge_registered

    if scene is None:
        raise DiagnoseError("the PhysWorld judge needs the prompt's PhysWorld scene.", field="judge",
                            fix="use PhysWorld prompts, or pass --judge MODULE:CALLABLE for your own prompts.")
    j = judge_registered(image, scene, prompt)
    checks = {v.id: bool(v.passed) for v in j.checked}
    kinds = {v.id: v.kind for v in j.checked}
    nodes = {}
    for nd in (csg or {}).get("nodes", ()):
        ids = [i for i in node_constraints(csg, nd["id"]) if i in checks]
        if ids:
            nodes[nd["id"]] = all(checks[i] for i in ids)
    phys = [checks[i] for i in checks if kinds[i] not in TEXTURE_KINDS | OTHER_KINDS]
    tex = [checks[i] for i in checks if kinds[i] in TEXTURE_KINDS]
    return {"score": float(j.score), "checks": checks, "kinds": kinds, "nodes": nodes,
            "physics": float(np.mean(phys)) if phys else None, "texture": float(np.mean(tex)) if tex else None,
            "n_physics": len(phys), "n_texture": len(tex)}


def load_judge(spec: str):
    """``MODULE:CALLABLE`` -> the callable (module looked up from the working directory too)."""
    if ":" not in spec:
        raise DiagnoseError(f"--judge must be MODULE:CALLABLE, got {spec!r}.", field="judge",
                            fix="e.g. --judge my_judges:score_image (my_judges.py in the working directory).")
    mod, fn = spec.split(":", 1)
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        f = getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError) as e:
        raise DiagnoseError(f"--judge {spec}: {e}", field="judge") from None
    if not callable(f):
        raise DiagnoseError(f"--judge {spec} is not callable.", field="judge")
    return f


def _n_params(fn) -> int:
    try:
        ps = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 3
    if any(p.kind == p.VAR_POSITIONAL for p in ps):
        return 3
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in ps)


def call_judge(fn, image, item: Item) -> dict:
    """Call a user judge (image, prompt, csg), or a legacy (image, prompt) one; normalise its answer."""
    out = fn(image, item.prompt, item.csg) if _n_params(fn) >= 3 else fn(image, item.prompt)
    return normalise(out)


def normalise(out) -> dict:
    if not isinstance(out, dict):
        out = {"score": out}
    try:
        s = float(out["score"])
    except (KeyError, TypeError, ValueError):
        raise DiagnoseError(f"the judge returned {type(out.get('score')).__name__} as score.", field="judge",
                            fix="return {'score': float in [0, 1], ...} or a float.") from None
    if not np.isfinite(s):
        raise DiagnoseError("the judge returned a non-finite score.", field="judge")
    return {**out, "score": s}


def make_judge(spec: str | None):
    """``judge(image, item) -> dict``: the user's (``spec``) or the built-in PhysWorld judge."""
    if spec:
        fn = load_judge(spec)
        return lambda image, item: call_judge(fn, image, item)
    return lambda image, item: physworld_judge(image, item.prompt, item.csg, item.scene)


def read_prompts(path) -> list:
    p = Path(path)
    if not p.is_file():
        raise DiagnoseError(f"--prompts {p}: no such file.", field="prompts")
    out = [x.strip() for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]
    if not out:
        raise DiagnoseError(f"--prompts {p} has no prompts.", field="prompts")
    return out


def load_sampler(checkpoint=None, weights=None):
    from ..inprocess.sampler import InProcessSampler
    from ..paths import PHYSWORLD_DEFAULT_WEIGHTS

    if checkpoint and weights:
        raise DiagnoseError("pass either --weights (PhysWorld) or --checkpoint, not both.", field="checkpoint")
    if checkpoint:
        return InProcessSampler.checkpoint(checkpoint)
    return InProcessSampler.physworld(weights or PHYSWORLD_DEFAULT_WEIGHTS)
