"""Prompts for PhysWorld scenes: several paraphrases per category, chosen by a seeded rng.

Every prompt states all explicit nodes of the scene's CSG (shape, colour, size, light kind and
side, mirror size, support, container, fill phrase, region, action and its direction).
"""
from __future__ import annotations

import numpy as np

from .scene import Scene

FILL_WORDS = {
    "almost_empty": ["a {c} that is almost empty, with a little {m}", "an almost empty {c} with some {m} at the bottom"],
    "half": ["a {c} half full of {m}", "a {c} filled halfway with {m}"],
    "nearly_full": ["a {c} nearly full of {m}", "a {c} filled almost to the top with {m}"],
    "more_than": ["more {m} than empty space in the {c}", "a {c} with more {m} than empty space"],
    "less_than": ["less {m} than empty space in the {c}", "a {c} with less {m} than empty space"],
}


def _o(o, det="a"):
    return f"{det} {o.size} {o.color} {o.shape}"


def _choose(rng, options):
    return options[int(rng.integers(len(options)))]


def prompt_for(sc: Scene, rng=None, variant: int | None = None) -> str:
    """A prompt for the scene. ``variant`` picks a paraphrase; else a seeded choice."""
    if rng is None:
        rng = np.random.default_rng(sc.seed + 7919)
    opts = _options(sc)
    text = opts[variant % len(opts)] if variant is not None else _choose(rng, opts)
    return " ".join(text.split())


def _options(sc: Scene) -> list[str]:
    cat = sc.category
    if cat == "shadow":
        o, li = sc.objects[0], sc.light
        where = {"left": "on the left", "right": "on the right", "above": "above it"}[li["side"]]
        src = {"left": "from the left", "right": "from the right", "above": "from above"}[li["side"]]
        return [f"{_o(o)} on the floor, a {li['kind']} {where}",
                f"a {li['kind']} shines {src} on {_o(o)}",
                f"{_o(o)} lit by a {li['kind']} {src}"]
    if cat == "reflection":
        o, r = sc.objects[0], sc.reflector
        edge = r["placement"].startswith("edge")
        if r["kind"] == "mirror":
            m = f"{r['size']} mirror"
            if edge:
                return [f"{_o(o)} near the edge of a {m}", f"{_o(o)} at the edge of a {m} on the floor",
                        f"a {m} with {_o(o)} standing at its edge"]
            return [f"{_o(o)} on a {m}", f"{_o(o)} standing on a {m} on the floor", f"a {m} under {_o(o)}"]
        w = "small pond" if r["size"] == "small" else "large lake"
        if edge:
            return [f"{_o(o)} near the edge of a {w}", f"{_o(o)} at the corner of a {w}",
                    f"a {w} with {_o(o)} at its edge"]
        return [f"{_o(o)} on the shore of a {w}", f"{_o(o)} behind a {w}", f"a {w} in front of {_o(o)}"]
    if cat == "support":
        o, s = sc.objects[0], sc.support
        if s["relation"] == "under":
            return [f"{_o(o)} under a table", f"{_o(o)} on the floor under a table", f"a table above {_o(o)}"]
        return [f"{_o(o)} on a {s['kind']}", f"{_o(o)} resting on a {s['kind']}",
                f"a {s['kind']} with {_o(o)} on it"]
    if cat == "container":
        c = sc.container
        return [t.format(c=c["kind"], m=c["material"]) for t in FILL_WORDS[c["phrase"]]]
    if cat == "spatial":
        rel = sc.relation["rel"]
        a = sc.objects[0]
        if rel in ("in", "next_to"):
            k = sc.container["kind"]
            if rel == "in":
                return [f"{_o(a)} in a {k}", f"{_o(a)} inside an empty {k}", f"an empty {k} with {_o(a)} in it"]
            return [f"{_o(a)} next to a {k}", f"{_o(a)} beside an empty {k}", f"an empty {k} and {_o(a)} next to it"]
        b = sc.objects[1]
        if rel == "on":
            return [f"{_o(a)} on {_o(b)}", f"{_o(a)} on top of {_o(b)}", f"{_o(b)} with {_o(a)} on top"]
        word = "left" if rel == "left_of" else "right"
        other = "right" if word == "left" else "left"
        return [f"{_o(a)} to the {word} of {_o(b)}", f"{_o(a)} on the {word} and {_o(b)} on the {other}",
                f"{_o(b)} with {_o(a)} to its {word}"]
    if cat == "region":
        o, r = sc.objects[0], sc.regions
        land = r["land"]
        prep = "in the sand" if land == "sand" else "on the grass"
        if r["placement"] == "near":
            return [f"{_o(o)} close to the water and {prep}", f"{_o(o)} {prep} close to the water",
                    f"{_o(o)} {prep}, close to the water"]
        if r["placement"] == "far":
            return [f"{_o(o)} {prep} far from the water", f"{_o(o)} far from the water and {prep}",
                    f"{_o(o)} {prep}, far from the water"]
        return [f"{_o(o)} in the water next to the {land}", f"{_o(o)} floating in the water beside the {land}",
                f"{_o(o)} in the water, {land} nearby"]
    if cat == "action":
        a, p = sc.obj(sc.action["agent"]), sc.obj(sc.action["patient"])
        v = sc.action["verb"]
        past = {"eats": "eaten", "pushes": "pushed"}[v]
        return [f"{_o(a)} {v} {_o(p)}", f"{_o(p, 'a')} is {past} by {_o(a)}",
                f"{_o(a, 'a')} {v} {_o(p, 'a')}".replace(" a a ", " a ")]
    raise ValueError(cat)
