"""Apply the knowledge file's rules: add implied nodes (with hop depth), causal edges and constraints.

A rule (see knowledge/physics.json and docs/csg.md) matches one node ``a`` or a pair
``a``, ``b`` joined by a spatial edge (or any pair, ``"relation": "any"``), then adds one node,
its edges and its constraints. Rules run in file order and see the nodes earlier rules added.
"""
from __future__ import annotations

import time

from ..errors import CSGError
from .constraints import fill_constraint, the
from .knowledge import Knowledge, third_person
from .model import CSG, Constraint, Edge, Node

SYMMETRIC = {"next_to", "near", "close_to", "left_of", "right_of", "before"}   # "either_way" pairs read both ways
#: "either_way" also reads these from the other end, inverted: "a mirror above the sink" is "the sink below it"
INVERSES = {"above": "below", "below": "above", "behind": "in_front_of", "in_front_of": "behind"}
CONTAIN_RELS = ("in", "inside")
MAX_SECONDS = 3.0        # completion budget: a graph that would take longer is refused with a clear error
MAX_NODES = 2000
_CHECK_EVERY = 1024


class _Graph:
    """The graph being completed, with indexes so every rule runs in time linear in its matches."""

    def __init__(self, g: CSG, kb: Knowledge, max_seconds: float | None = MAX_SECONDS):
        self.kb = kb
        self.nodes: dict[str, Node] = {n.id: n for n in g.nodes}
        self.edges: list[Edge] = []
        self.cons: list[Constraint] = list(g.constraints)
        self.ekeys: set = set()
        self._in: dict[str, list[Edge]] = {}     # containment edges by dst / by src, in edge order
        self._out: dict[str, list[Edge]] = {}
        for e in g.edges:
            self._append(e)
        self._owned: dict | None = None           # (kind, of) -> first explicit, non-negated node id
        self._held_up: set | None = None
        self._acted: dict[tuple, set] = {}      # (verb list, placed) -> nodes its verbs act on
        self._scene: dict[str, bool] = {}       # trait -> some explicit node of the prompt has it
        self.deadline = None if max_seconds is None else time.monotonic() + max_seconds
        self.max_seconds = max_seconds
        self._ticks = 0

    def tick(self) -> None:
        """Refuse, naming the graph's size, once completion runs past its budget (checked every few steps)."""
        self._ticks += 1
        if self.deadline is not None and self._ticks % _CHECK_EVERY == 0 and time.monotonic() > self.deadline:
            raise CSGError(f"completing this graph ({len(self.nodes)} nodes, {len(self.edges)} edges) takes more "
                           f"than {self.max_seconds:g} s; LINA refuses it.", field="csg",
                           fix="give fewer nodes or relations (a prompt needs a few dozen), or turn complete off.")

    def _append(self, e: Edge) -> None:
        self.ekeys.add((e.src, e.dst, e.kind, e.relation))
        self.edges.append(e)
        if e.kind == "spatial" and e.relation in CONTAIN_RELS and not e.negated:
            self._in.setdefault(e.dst, []).append(e)
            self._out.setdefault(e.src, []).append(e)

    def owned(self, kind: str, of: str) -> str | None:
        if self._owned is None:
            self._owned = {}
            for n in self.nodes.values():
                if n.explicit and not n.negated and "of" in n.physics:
                    self._owned.setdefault((n.kind, n.physics["of"]), n.id)
        return self._owned.get((kind, of))

    def replace(self, n: Node, reindex: bool) -> None:
        self.nodes[n.id] = n
        if reindex:
            self._owned = None

    def trait(self, n: Node, trait: str) -> bool:
        if self.kb.has_trait(n.name, n.kind, trait, n.texture.get("material")):
            return True
        finishes = (n.texture.get("finish"), n.texture.get("material"), n.physics.get("state"))
        if trait == "glossy_top":     # an object's glossy top mirrors what is on it ("a cat on a glossy piano")
            return self.kb.finish_reflects(n.kind, finishes, kinds=("object", "container"))
        return trait in ("reflective_horizontal", "reflective") and self.kb.finish_reflects(n.kind, finishes)

    def holds_up(self, nid: str) -> bool:
        """Something rests on this node ("landing on the moon": the moon is ground here, not a light)."""
        if self._held_up is None:
            self._held_up = {e.dst for e in self.edges if e.kind == "spatial" and e.relation == "on" and not e.negated}
        return nid in self._held_up

    def _acted_on(self, verb_list: str, placed: bool = False, optional: bool = False) -> set:
        """Objects of the action edges whose verb is in ``verb_list`` and, with ``placed``, what a spatial edge
        with such a verb places ("the vase reflected the light": the light in the vase). Cached. A list the
        knowledge file lacks is an error, or with ``optional`` no verbs."""
        key = (verb_list, placed)
        if key not in self._acted:
            skip = optional and verb_list not in self.kb.verb_lists
            verbs = set() if skip else (_verb_set(self.kb, verb_list) or set())
            self._acted[key] = {e.dst for e in self.edges if e.kind == "action" and e.relation in verbs} | {
                e.src for e in self.edges if placed and e.kind == "spatial" and e.attrs.get("verb") in verbs}
        return self._acted[key]

    def acted_on(self, nid: str, verb_list: str) -> bool:
        """The node is the object of an action whose verb is in ``verb_list`` ("examining a bug": examine)."""
        return nid in self._acted_on(verb_list)

    def held(self, nid: str) -> bool:
        """The node is held, worn or carried ("holding a glass"): part of its holder's silhouette."""
        return self.acted_on(nid, "held")

    def handled(self, nid: str) -> bool:
        """The node is what a verb of the ``unlit`` list acts on ("the vase reflected the light", "changing a light
        bulb"): a light there is reflected or handled, not one that lights the scene."""
        return nid in self._acted_on("unlit", placed=True, optional=True)

    def scene_has(self, trait: str) -> bool:
        """An explicit, non-negated node of the prompt has the trait (cached)."""
        if trait not in self._scene:
            self._scene[trait] = any(n.explicit and not n.negated and self.trait(n, trait) for n in self.nodes.values())
        return self._scene[trait]

    def rough_water(self, n: Node) -> bool:
        """Water called rough, or not called calm in a scene with waves, surf or a storm ("riding a surfboard in
        the water", "rough waters")."""
        words = _descriptor_words(n)
        return self.trait(n, "liquid") and not words & self.kb.calm_words \
            and (bool(words & self.kb.rough_words) or self.scene_has("rough_water"))

    def contents(self, nid: str) -> list[str]:
        return [e.src for e in self._in.get(nid, ()) if e.src in self.nodes and not self.nodes[e.src].negated]

    def holders(self, nid: str) -> list[str]:
        return [e.dst for e in self._out.get(nid, ())]

    def matches(self, n: Node, f: dict, where: str) -> bool:
        for key, want in f.items():
            test = _FILTERS.get(key)
            if test is None:
                raise CSGError(f"unknown filter key {key!r}; expected one of {', '.join(sorted(_FILTERS))}.",
                               field=where)
            if not test(self, n, want):
                return False
        return True

    def has_fill_or_contents(self, n: Node) -> bool:
        """A fill level is a liquid or granular medium (water, sand) or food, not a few solid things inside."""
        return "fill" in n.physics or any(
            not self.trait(self.nodes[c], "empty") and self.kb.fills(self.nodes[c].name, self.nodes[c].kind)
            for c in self.contents(n.id))

    def add_edge(self, src: str, dst: str, kind: str, relation: str) -> None:
        key = (src, dst, kind, relation)
        if src != dst and key not in self.ekeys and src in self.nodes and dst in self.nodes:
            self._append(Edge(src, dst, kind, relation))


def _one_of(want) -> list:
    return want if isinstance(want, list) else [want]


def _descriptor_words(n: Node) -> set:
    """The words the prompt put before the noun ("a calm, glassy sea": calm, glassy)."""
    return set(str(n.texture.get("descriptor", "")).replace(",", " ").split())


#: Rule filter key -> test(graph, node, wanted value); a rule's node matches when every test passes.
_FILTERS = {
    "kind": lambda G, n, w: n.kind in _one_of(w),
    "kind_not": lambda G, n, w: n.kind not in w,
    "name": lambda G, n, w: n.name in _one_of(w),
    "name_not": lambda G, n, w: n.name not in w,
    "trait": lambda G, n, w: any(G.trait(n, t) for t in _one_of(w)),
    "trait_not": lambda G, n, w: not any(G.trait(n, t) for t in w),
    "negated": lambda G, n, w: n.negated == w,
    "explicit": lambda G, n, w: n.explicit == w,
    "has_fill_or_contents": lambda G, n, w: G.has_fill_or_contents(n) == w,
    # a liquid, a medium or food inside ("a glass of juice"): what else stands in it is refracted, not resting
    "holds_what_fills": lambda G, n, w: any(G.kb.fills(G.nodes[c].name, G.nodes[c].kind)
                                            for c in G.contents(n.id)) == w,
    # a thing named with "its" ("its round bell", "its bristles") is a part of what "its" names
    "named_part": lambda G, n, w: bool(n.physics.get("part")) == w,
    # "three trucks piled on top of each other": each rests on the one below
    "stacked": lambda G, n, w: bool(n.physics.get("stacked")) == w,
    "contains_trait": lambda G, n, w: any(G.trait(G.nodes[c], w) for c in G.contents(n.id)),
    "inside_trait": lambda G, n, w: any(h in G.nodes and G.trait(G.nodes[h], w) for h in G.holders(n.id)),
    # "water in a bucket": held in a container, no open surface to mirror the sky and what floats on it
    "inside_trait_not": lambda G, n, w: not any(h in G.nodes and G.trait(G.nodes[h], t)
                                                for h in G.holders(n.id) for t in _one_of(w)),
    "holds_up": lambda G, n, w: G.holds_up(n.id) == w,
    "has_contents": lambda G, n, w: any(not G.trait(G.nodes[c], "abstract") for c in G.contents(n.id)) == w,
    "held": lambda G, n, w: G.held(n.id) == w,
    # the object of an action whose verb is in the named list ("examining a bug": acted_on "examine")
    "acted_on": lambda G, n, w: G.acted_on(n.id, w),
    # "holding a sign on the chest": in_hand; "casting a soft light on the floor": unlit (one list or several)
    "not_acted_on": lambda G, n, w: not any(G.acted_on(n.id, v) for v in _one_of(w)),
    # water in a scene with waves, surf or a storm ("riding a surfboard in the water") is rough: no mirror
    "in_rough_water": lambda G, n, w: G.rough_water(n) == w,
    # a word the prompt puts before the noun ("a calm sea", "a rainy window")
    "descriptor": lambda G, n, w: bool(_descriptor_words(n) & set(_one_of(w))),
    # a light that something stands on ("landing on the moon") is ground there, not a light
    "lit": lambda G, n, w: (not (G.trait(n, "ground_when_stood_on") and G.holds_up(n.id))
                            and not G.handled(n.id)) == w,
}


def _pairs(G: _Graph, rule: dict, where: str):
    m = rule["match"]
    fa, fb = m.get("a", {}), m.get("b", {})
    rels = m.get("relation", "any")
    verbs = _verb_set(G.kb, m.get("edge_verb_in"))
    not_verbs = _verb_set(G.kb, m.get("edge_verb_not_in")) or set()
    not_passive = _verb_set(G.kb, m.get("passive_verb_not_in")) or set()   # "painted on", not "paints on"
    places = m.get("edge_place_in")       # "at the bottom of the ocean": the edge's place attribute
    verbs_or_none = _verb_set(G.kb, m.get("edge_verb_in_or_none"))   # no verb, or one of these
    either_way, through_effects = m.get("either_way", False), m.get("through_effects", False)
    seen = set()
    if rels == "any":
        nodes = list(G.nodes.values())
        bs = [b for b in nodes if G.matches(b, fb, f"{where}.match.b")]
        for a in nodes:
            if not G.matches(a, fa, f"{where}.match.a"):
                continue
            for b in bs:
                G.tick()
                if b.id != a.id:
                    yield a, b, None
        return
    # explicit spatial edges, plus edges of an owned implied node ("its reflection in the mirror")
    cands = []
    for e in G.edges:
        inverse = INVERSES.get(e.relation) if either_way else None
        if e.kind != "spatial" or e.negated or (e.relation not in rels and inverse not in rels):
            continue
        if verbs is not None and e.attrs.get("verb") not in verbs:
            continue
        if places is not None and e.attrs.get("place") not in _one_of(places):
            continue
        if verbs_or_none is not None and e.attrs.get("verb") not in verbs_or_none | {None}:
            continue
        if e.attrs.get("verb") in not_verbs or (e.attrs.get("voice") == "passive" and e.attrs["verb"] in not_passive):
            continue
        if e.relation in rels:
            cands.append((e.src, e.dst, e.relation))
        if either_way and e.relation in SYMMETRIC:
            cands.append((e.dst, e.src, e.relation))
        elif inverse in rels:
            cands.append((e.dst, e.src, inverse))
        src = G.nodes.get(e.src)
        if through_effects and e.relation in rels and src is not None and src.explicit and "of" in src.physics:
            cands.append((src.physics["of"], e.dst, e.relation))
    for s, d, r in cands:
        if (s, d, r) in seen or s not in G.nodes or d not in G.nodes or s == d:
            continue
        seen.add((s, d, r))
        a, b = G.nodes[s], G.nodes[d]
        if G.matches(a, fa, f"{where}.match.a") and G.matches(b, fb, f"{where}.match.b"):
            yield a, b, r


def _verb_set(kb: Knowledge, name: str | list | None):
    """Third-person forms of one or more verb lists from the lexicon (impact, motion, emission, containment,
    immersion, held, mount, reflection...)."""
    if not name:
        return None
    lists = dict(kb.verb_lists)
    lists.update({"impact": kb.impact_verbs, "motion": kb.motion_verbs, "emission": kb.emission_verbs,
                  "containment": kb.containment_verbs})
    out: set = set()
    for one in _one_of(name):
        if one not in lists:
            raise CSGError(f"unknown verb list {one!r}; expected one of {', '.join(lists)}.", field="knowledge.rules")
        out.update(third_person(v) for v in lists[one])
    return out


def _fmt(template: str, ctx: dict) -> str:
    try:
        return template.format(**ctx)
    except (KeyError, IndexError, ValueError) as e:
        raise CSGError(f"bad placeholder in {template!r} ({e}); use {{a}}, {{b}}, {{a_label}}, {{b_label}}, "
                       f"{{front}}, {{back}}.", field="knowledge.rules") from None


def _apply_one(G: _Graph, rule: dict, where: str) -> None:
    add = rule["add"]
    blocked_all, blocked_for = False, set()
    blockers = set(rule.get("unless_scene_has_negated", [])) | {add["kind"], add.get("name", add["kind"])}
    for n in G.nodes.values():
        if n.negated and (n.name in blockers or n.kind in blockers):
            if "of" in n.physics:
                blocked_for.add(n.physics["of"])
            else:
                blocked_all = True
    if blocked_all:
        return
    if "b" in rule["match"]:
        matches = list(_pairs(G, rule, where))
    else:
        fa = rule["match"].get("a", {})
        matches = [(a, None, None) for a in list(G.nodes.values()) if G.matches(a, fa, f"{where}.match.a")]
    for a, b, rel in matches:
        G.tick()
        if a.id in blocked_for:
            continue
        front, back = (a, b) if rel != "behind" else (b, a)
        ctx = {"a": a.id, "b": b.id if b else "", "front": front.id, "back": back.id if back else "",
               "a_name": a.name, "b_name": b.name if b else ""}
        if "_label}" in add["id"]:
            ctx.update(a_label=the(a), b_label=b.label() if b else "")
        nid = _fmt(add["id"], ctx)
        if nid in G.nodes and not G.nodes[nid].explicit:
            continue
        # reuse an explicit node the prompt stated ("its reflection", "the shadow of the ball")
        reuse = G.owned(add["kind"], a.id)
        if reuse is None and (nid in G.nodes or len(G.nodes) >= MAX_NODES):
            continue
        ctx.update(a_label=the(a), b_label=b.label() if b else "")
        if reuse is not None:
            nid = reuse
        else:
            parents = [a.hop] + ([b.hop] if b else [])
            texture = dict(add.get("texture", {}))
            for key in ("color", "material", "pattern"):
                if add.get("copy_texture_from") == "a" and key in a.texture:
                    texture[key] = a.texture[key]
            owner = {"a": a, "b": b, "front": front, "back": back}.get(add.get("owner", "a"), a) or a
            physics = {"of": owner.id, **add.get("physics", {})}
            for key in add.get("physics_from_a", []):
                if key in a.physics:
                    physics[key] = a.physics[key]
            G.nodes[nid] = Node(id=nid, name=add.get("name", add["kind"]), kind=add["kind"], explicit=False,
                                hop=int(add.get("hop", 1)) + max(parents), count=1, texture=texture,
                                physics=physics)
        for key, tmpl in rule.get("set_a_physics", {}).items():
            G.replace(Node(**{**a.__dict__, "physics": {**a.physics, key: _fmt(tmpl, ctx)}}), reindex=key == "of")
        roles = {"a": [a.id], "b": [b.id] if b else [], "new": [nid], "front": [front.id],
                 "back": [back.id] if back else []}
        for e in rule.get("edges", []):
            for src in _role(G, e["src"], roles, a, b):
                for dst in _role(G, e["dst"], roles, a, b):
                    G.add_edge(src, dst, e["kind"], e["relation"])
        for c in rule.get("constraints", []):
            subj = roles.get(c["subject"], [c["subject"]])[0] if roles.get(c["subject"], [c["subject"]]) else None
            obj = roles.get(c.get("object"), [None])[0] if c.get("object") else None
            if subj is None:
                continue
            cid = f"c{len(G.cons)}"
            if c["kind"] == "fill_level":
                fill = G.nodes[a.id].physics.get("fill")
                if fill is None:
                    continue
                G.cons.append(fill_constraint(subj, obj, float(fill), cid, the(G.nodes[a.id])))
                continue
            params = {k: (_fmt(v, ctx) if isinstance(v, str) else v) for k, v in c.get("params", {}).items()}
            for key in c.get("params_from_a", []):
                if key in a.texture:
                    params[key] = a.texture[key]
            G.cons.append(Constraint(cid, c["kind"], subj, obj, params, _fmt(c.get("text", ""), ctx)))


def _role(G: _Graph, role: str, roles: dict, a: Node, b: Node | None) -> list[str]:
    if role == "contents":
        holder = a if "b" not in roles or not roles["b"] or not G.contents(b.id) else b
        found = G.contents(holder.id) if holder is not None else []
        return [c for c in found if not G.trait(G.nodes[c], "empty")]
    return roles.get(role, [])


def apply_rules(g: CSG, kb: Knowledge, max_seconds: float | None = MAX_SECONDS) -> CSG:
    """The graph with the knowledge's implied nodes, edges and constraints. Indexed, so the work is linear in
    the rule matches; ``max_seconds`` (None = no limit) bounds the wall-clock time with a clear CSGError."""
    G = _Graph(g, kb, max_seconds)
    for i, rule in enumerate(kb.rules):
        _apply_one(G, rule, f"knowledge.rules[{i}] ({rule.get('id')})")
    return g.replaced(nodes=list(G.nodes.values()), edges=G.edges, constraints=G.cons)
