"""The structure prompt: the user's prompt without what conflicts with its layout early on. [ours]

Two kinds of deferral, each from data: texture-only grounds (below) and fine placements
(``deferrals.json``: "near the edge of a small mirror" -> "near a small mirror"; "... standing at its
edge" -> "..."). A model that saw "at the edge" only with large mirrors draws a large mirror; laid out
first by the coarse relation, the small mirror stays small and the full prompt then moves the object
to its edge. Only a placement on a *small* reference is deferred (``placement_reference_sizes``): on a large
or unsized one the coarse phrase loses where the object stands. ``structure_plan`` returns the text, the share of the early window it conditions
(per kind, ``deferrals.json``; the smaller one when both apply) and what was deferred.

Insights 2 and 3 together: texture and physics are separable in the prompt, and the layout is fixed in
the first, high-noise steps. A model that saw "in the sand" only far from the water ties the word to
that layout, so "a cone close to the water and in the sand" comes out far from the water (PhysWorld's
held-out rule). Conditioning the first part of the early window on "a cone close to the water" lets
the relation that places the object decide the layout; the full prompt returns while colours are
still free to change, and paints the ground as sand.

A node is deferred when all of these hold (``deferred_nodes``):
  * its name has the knowledge file's ``ground_cover`` trait (sand, grass, snow, carpet...), it is not
    negated and its words are located in the prompt (``span``);
  * it is only ever the target of spatial placement edges (in / on / inside) and the source of none (the
    contact the knowledge file gives what stands *in* it does not count; a support, "on the grass", stays);
  * every subject placed on it keeps another spatial or action edge to a node that is not deferred
    (so the structure prompt still says where the subject goes).
The deferred node's words are cut together with the spatial phrase before them (the knowledge file's
``spatial_phrases``) and a joining "and" or comma ("... the water and in the sand" -> "... the water";
"a man walking in the snow near a lake" -> "a man walking near a lake"); a ground whose phrase is not
found is not deferred. Anything else keeps the user's own words, so the text encoder reads the same
tokens it was trained on. Pure text: nothing here imports torch.
"""
from __future__ import annotations

import re

import json
from functools import lru_cache
from pathlib import Path

from ..csg.knowledge import Knowledge, load_knowledge
from ..csg.model import CSG
from .plan import PlanError

DEFERRALS = Path(__file__).with_name("deferrals.json")
_DATA = json.loads(DEFERRALS.read_text())
STRUCTURE_SHARES = _DATA["structure_share"]                       # deferral kind -> share of the window
REFERENCE_SIZES = frozenset(_DATA["placement_reference_sizes"])  # a fine placement is deferred on these only
STAND_INS = dict(_DATA.get("shape_stand_ins", {}))                # shape noun -> its stand-in in the structure phase

PLACEMENT = ("in", "on", "inside", "on_top_of")
TRAIT = "ground_cover"
_MAX_LINK_WORDS = 4          # "and in", "on top of", ", in": longer gaps are not a simple link
_CONJ = re.compile(r"^\s*(,\s*)?(and\b|,)\s*", re.IGNORECASE)


def deferred_nodes(g: CSG, knowledge: Knowledge | None = None) -> list[str]:
    """Ids of the nodes whose phrase the structure prompt leaves out (see the module docstring)."""
    kb = knowledge or load_knowledge()
    by_id = {n.id: n for n in g.nodes}
    cand = []
    for n in g.nodes:
        if n.negated or n.span is None or not kb.has_trait(n.name, n.kind, TRAIT):
            continue
        into = [e for e in g.edges if e.dst == n.id]
        # a support ("on the grass") stays; a cover that only holds what is in it ("in the grass") may go, whatever
        # contact the knowledge file gives what stands in it
        supported = {e.src for e in into if e.kind == "spatial" and e.relation == "on"}
        if not into or any(e.src == n.id and (e.kind != "causal" or supported) for e in g.edges):
            continue
        if all(e.kind == "spatial" and e.relation in PLACEMENT and not e.negated for e in into):
            cand.append(n.id)
    keep = []
    for nid in cand:
        subjects = {e.src for e in g.edges if e.dst == nid}
        ok = all(any(e.src == s and e.dst not in cand and e.dst in by_id and e.kind in ("spatial", "action")
                     for e in g.edges) for s in subjects)
        if ok:
            keep.append(nid)
    return keep


def _phrase_start(text: str, start: int, end: int, kb: Knowledge) -> int | None:
    """Where the spatial phrase that ends the link ``text[start:end]`` begins ("walking in " -> at "in"),
    widened over a joining "and" or comma before it; None when the link does not end with one."""
    words = list(re.finditer(r"[A-Za-z]+", text[start:end]))
    low = [w.group(0).lower() for w in words]
    best = None
    for i in range(len(low)):
        for phrase, _rel in kb.spatial.get(low[i], ()):
            if tuple(low[i:]) == phrase:
                best = i
                break
        if best is not None:
            break
    if best is None:
        return None
    cut = start + words[best].start()
    before = text[start:cut]
    m = re.search(r"(,\s*|\s+and\s+|\s*,?\s*and\s+)$", before, re.IGNORECASE)
    return cut - (len(m.group(0)) if m else 0)


def structure_prompt(g: CSG, knowledge: Knowledge | None = None) -> tuple[str, list[str]]:
    """(text, deferred node ids). The text is ``g.prompt`` itself when nothing is deferred."""
    kb = knowledge or load_knowledge()
    text = g.prompt or ""
    ids = deferred_nodes(g, kb)
    if not ids or not text:
        return text, []
    spans = sorted((tuple(n.span), n.id) for n in g.nodes if n.span is not None)
    cuts, done = [], []
    for (s, e), nid in spans:
        if nid not in ids or not 0 <= s <= e <= len(text):
            continue
        prev = max((pe for (ps, pe), pid in spans if pe <= s and pid not in ids), default=None)
        if prev is None or len(re.findall(r"[A-Za-z]+", text[prev:s])) > _MAX_LINK_WORDS:
            continue
        a = _phrase_start(text, prev, s, kb)
        if a is None:
            continue
        b = e
        m = None if re.search(r"\band\b|,", text[a:s]) else _CONJ.match(text[e:])
        if m:   # "X in the sand and close to Y": no joining word before the phrase, so drop the one after it
            b = e + m.end() - (1 if m.group(0).endswith(" ") else 0)
        cuts.append((a, b))
        done.append(nid)
    if not cuts:
        return text, []
    out, pos = [], 0
    for a, b in sorted(cuts):
        out.append(text[pos:a])
        pos = b
    out.append(text[pos:])
    res = " ".join("".join(out).split())
    res = re.sub(r"\s+([,.;])", r"\1", res).strip(" ,")
    return (res, done) if res else (text, [])


@lru_cache(maxsize=4)
def _deferrals(path: str = str(DEFERRALS)) -> tuple:
    data = json.loads(Path(path).read_text())
    return tuple((re.compile(r["pattern"], re.IGNORECASE), str(r["replace"])) for r in data["placement_refinements"])


def coarsen_placement(text: str) -> tuple[str, int]:
    """``text`` with its fine placements coarsened (``deferrals.json``); the number of phrases changed."""
    n = 0
    for rx, rep in _deferrals():
        text, k = rx.subn(rep, text)
        n += k
    text = re.sub(r"\s+([,.;])", r"\1", " ".join(text.split())).strip(" ,")
    return text, n


def _small_reference(g: CSG) -> bool:
    """An edge placement ("at the edge of X") whose reference X has a size in REFERENCE_SIZES."""
    size = {n.id: n.physics.get("size") for n in g.nodes}
    return any(e.attrs.get("place") == "edge" and size.get(e.dst) in REFERENCE_SIZES for e in g.edges)


def structure_plan(g: CSG, knowledge: Knowledge | None = None) -> tuple[str, float, list[str]]:
    """(structure prompt, its share of the early window, what was deferred); ("", 0, []) when nothing is."""
    text, grounds = structure_prompt(g, knowledge)
    shares = STRUCTURE_SHARES
    coarse, n = coarsen_placement(text) if text and _small_reference(g) else (text, 0)
    deferred = list(grounds) + (["fine placement"] if n and coarse else [])
    if not deferred:
        return "", 0.0, []
    share = min([shares["ground_cover"]] * bool(grounds) + [shares["placement"]] * bool(n and coarse))
    return (coarse if n and coarse else text), float(share), deferred


def _plural(noun: str) -> str:
    return noun + ("es" if noun.endswith(("s", "x", "z", "ch", "sh")) else "s")


def stand_in_prompt(g: CSG, text: str = "") -> str:
    """``text`` (default the prompt) with each explicit object's shape noun replaced by its stand-in
    (``deferrals.json`` ``shape_stand_ins``: "a large cyan cone" -> "a large cyan cylinder"); "" when no object
    has one. Only the bare noun, singular or plural, is replaced ("a traffic cone" is a traffic cone)."""
    text = text or g.prompt or ""
    names = {n.name for n in g.nodes if n.explicit and not n.negated and n.name in STAND_INS}
    out = text
    for name in sorted(names):
        sub = STAND_INS[name]
        out = re.sub(rf"\b{re.escape(_plural(name))}\b", _plural(sub), out, flags=re.IGNORECASE)
        out = re.sub(rf"\b{re.escape(name)}\b", sub, out, flags=re.IGNORECASE)
    return out if out != text else ""


def resolve_stand_in(plan):
    """The plan whose structure phase uses the stand-in text when ``stand_in_share`` turns it on: the structure
    prompt becomes ``stand_in_prompt``. It joins a structure phase the plan already has at that phase's length
    (deferrals combine at the shortest share, as in ``structure_plan``: a ground cover deferred through 0.5 stays
    0.5) and otherwise lasts ``stand_in_share`` of the window. The one place the two fields are read;
    idempotent."""
    if plan.stand_in_share <= 0.0:
        return plan
    if not plan.stand_in_prompt.strip():
        return plan.updated(stand_in_share=0.0)     # nothing to stand in: the same plan as without the lever
    joins = plan.structure_share > 0.0 and bool(plan.structure_prompt.strip())
    share = min(plan.structure_share, plan.stand_in_share) if joins else plan.stand_in_share
    return plan.updated(structure_prompt=plan.stand_in_prompt, structure_share=share)


DEFAULT_STAND_IN_SHARE = 0.9    # stand_in_share when a user turns the stand-in on by a switch (the action space's)


def stand_in_changes(on) -> dict | None:
    """Plan changes that turn the shape stand-in on through DEFAULT_STAND_IN_SHARE of the window; None for False
    (keep the plan's own). A value that is not a boolean raises PlanError naming ``shape_stand_in``."""
    if not isinstance(on, bool):
        raise PlanError(f"must be true or false, got {on!r}.", field="shape_stand_in",
                        fix="true lays each shape with a stand-in out as it early on; false keeps the plan's own.")
    return {"stand_in_share": DEFAULT_STAND_IN_SHARE} if on else None
