"""Layout registration: judge an image against a *prompt*, not against one random layout.

A PhysWorld prompt fixes the scene's content (shapes, colours, sizes, light side, mirror size,
support, fill phrase, relation, action and its direction) but not its layout: the renderer draws
each prompt at random positions. The judge locates objects around the CSG's layout boxes, so a
text-to-image model that draws a correct scene at another valid position would be marked wrong
(renders of the same prompt with another layout score only about 65% against the first layout).

``register(image, scene)`` draws ``k`` candidate layouts of the same content (same
``content_key``), renders them, and returns the candidate nearest to the image (squared distance
of lightly smoothed luminance and chroma maps at 32 x 32, blind to hue so that a
wrongly coloured object still registers where it is drawn). ``judge_registered`` then judges the image against that
candidate's CSG. Every candidate obeys the prompt's physics (the shadow is on the far side of the
light, the object sits on the table...), and every check still reads the image, so registration
only decides *where to look*; it cannot make a wrong image right (``lina physworld validate
--register`` measures the catch rate of injected violations with registration on).
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from ..errors import PhysWorldError
from .csg_build import to_csg
from .judge import Judgement, _smooth, _to_float, judge
from .render import render
from .scene import Scene, sample_scene
from .templates import prompt_for

DEFAULT_K = 256
_FIT = 32            # registration compares images at 32 x 32
_SEED_BASE = 900_000_000
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _o(o) -> dict:
    return {"shape": o.shape, "color": o.color, "size": o.size}


def content_factors(sc: Scene) -> dict:
    """The sampler factors that fix everything the scene's prompt says (and nothing it does not)."""
    cat = sc.category
    if cat == "shadow":
        return {**_o(sc.objects[0]), "side": sc.light["side"], "light": sc.light["kind"]}
    if cat == "reflection":
        r = sc.reflector
        return {**_o(sc.objects[0]), "reflector": r["kind"], "mirror_size": r["size"],
                "placement": "edge" if r["placement"].startswith("edge") else "center"}
    if cat == "support":
        s = sc.support
        return {**_o(sc.objects[0]), "support": s["kind"], "support_rel": s["relation"]}
    if cat == "container":
        c = sc.container
        return {"container": c["kind"], "material": c["material"], "fill_phrase": c["phrase"]}
    if cat == "spatial":
        rel = sc.relation["rel"]
        a = sc.objects[0]
        f = {"rel": rel, "shape": a.shape, "color": a.color, "size": a.size}
        if rel in ("in", "next_to"):
            f["container"] = sc.container["kind"]
        else:
            b = sc.objects[1]
            f.update(b_shape=b.shape, b_color=b.color, b_size=b.size)
        return f
    if cat == "region":
        r = sc.regions
        return {**_o(sc.objects[0]), "land": r["land"], "placement": r["placement"]}
    if cat == "action":
        a, p = sc.obj(sc.action["agent"]), sc.obj(sc.action["patient"])
        return {"verb": sc.action["verb"], "agent_shape": a.shape, "reverse": bool(sc.action.get("reverse")),
                "color": a.color, "p_color": p.color, "a_size": a.size, "p_size": p.size}
    raise PhysWorldError(f"unknown category {cat!r}", field="scene.category")


def content_key(sc: Scene) -> str:
    """What the prompt states, as text (the first paraphrase): equal keys = same prompt content."""
    return prompt_for(sc, variant=0)


def _as_scene(scene) -> Scene:
    if isinstance(scene, Scene):
        return scene
    if isinstance(scene, dict):
        return Scene.from_dict(scene)
    raise PhysWorldError("registration needs the sample's scene (a Scene or its dict, record['scene'])",
                         field="scene")


def _smooth_small(img) -> np.ndarray:
    """Hue-blind registration features: (luminance, chroma) of the image averaged to 32 x 32, smoothed."""
    a = _to_float(img)
    S = a.shape[0]
    if S != _FIT:
        if S % _FIT:
            raise PhysWorldError(f"registration needs an image size that is a multiple of {_FIT}, got {S}",
                                 field="image")
        f = S // _FIT
        a = a.reshape(_FIT, f, _FIT, f, 3).mean((1, 3))
    return _smooth(np.stack([a @ _LUMA, a.max(-1) - a.min(-1)], -1))


@dataclass
class Candidates:
    key: str
    scenes: list
    fits: np.ndarray      # (k, 32, 32, 2) registration features of the renders


_CACHE: dict = {}


def candidates(scene, k: int = DEFAULT_K) -> Candidates:
    """``k`` layouts of the scene's content (the scene itself first), deterministic per content."""
    sc = _as_scene(scene)
    key = content_key(sc)
    ck = (key, k)
    if ck in _CACHE:
        return _CACHE[ck]
    fac = content_factors(sc)
    base = _SEED_BASE + (zlib.crc32(key.encode()) % 10_000_000) * 1000
    scenes = [sc]
    tries = 0
    while len(scenes) < k and tries < 4 * k:
        cand = sample_scene(base + tries, sc.category, **fac)
        tries += 1
        if content_key(cand) == key:
            scenes.append(cand)
    fits = np.stack([_smooth_small(render(s, _FIT)[0]) for s in scenes])
    out = Candidates(key, scenes, fits)
    if len(_CACHE) > 4096:
        _CACHE.clear()
    _CACHE[ck] = out
    return out


def register(image, scene, k: int = DEFAULT_K) -> tuple[Scene, float]:
    """The candidate layout of ``scene``'s content nearest to ``image``, and its distance."""
    x = _smooth_small(image)
    c = candidates(scene, k)
    d = ((c.fits - x[None]) ** 2).mean((1, 2, 3))
    j = int(d.argmin())
    return c.scenes[j], float(d[j])


def judge_registered(image, scene, prompt: str | None = None, k: int = DEFAULT_K) -> Judgement:
    """Judge ``image`` against the prompt of ``scene``: the nearest valid layout's CSG."""
    sc, _ = register(image, scene, k)
    return judge(image, to_csg(sc, prompt or ""))
