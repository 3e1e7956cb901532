"""Apply the knowledge file's rules: add implied nodes (with hop depth), causal edges and constraints.

A rule (see knowledge/physics.json and docs/csg.md) matches one node ``a`` or a pair
``a``, ``b`` joined by a spatial edge (or any pair, ``"relation": "any"``), then adds one node,
its edges and its constraints. Rules run in file order and see the nodes earlier rules added.
"""
from __future__ import annotations

from ..errors import CSGError
from .constraints import fill_constraint, the
from .knowledge import Knowledge, third_person
from .model import CSG, Constraint, Edge, Node

FILTER_KEYS = {"kind", "kind_not", "trait", "trait_not", "negated", "explicit", "has_fill_or_contents",
               "contains_trait", "inside_trait", "name"}
CONTAIN_RELS = ("in", "inside")


class _Graph:
    def __init__(self, g: CSG, kb: Knowledge):
        self.kb = kb
        self.nodes: dict[str, Node] = {n.id: n for n in g.nodes}
        self.edges: list[Edge] = list(g.edges)
        self.cons: list[Constraint] = list(g.constraints)
        self.ekeys = {(e.src, e.dst, e.kind, e.relation) for e in self.edges}

    def trait(self, n: Node, trait: str) -> bool:
        return self.kb.has_trait(n.name, n.kind, trait, n.texture.get("material"))

    def contents(self, nid: str) -> list[str]:
        return [e.src for e in self.edges if e.dst == nid and e.kind == "spatial" and e.relation in CONTAIN_RELS
                and not e.negated and e.src in self.nodes and not self.nodes[e.src].negated]

    def holders(self, nid: str) -> list[str]:
        return [e.dst for e in self.edges if e.src == nid and e.kind == "spatial" and e.relation in CONTAIN_RELS
                and not e.negated]

    def matches(self, n: Node, f: dict, where: str) -> bool:
        for key, want in f.items():
            if key == "kind":
                if n.kind not in (want if isinstance(want, list) else [want]):
                    return False
            elif key == "kind_not":
                if n.kind in want:
                    return False
            elif key == "name":
                if n.name not in (want if isinstance(want, list) else [want]):
                    return False
            elif key == "trait":
                if not self.trait(n, want):
                    return False
            elif key == "trait_not":
                if any(self.trait(n, t) for t in want):
                    return False
            elif key == "negated":
                if n.negated != want:
                    return False
            elif key == "explicit":
                if n.explicit != want:
                    return False
            elif key == "has_fill_or_contents":
                # a fill level is a liquid or granular medium (water, sand), not a few solid things inside
                has = "fill" in n.physics or any(
                    not self.trait(self.nodes[c], "empty") and (self.nodes[c].kind == "medium" or self.trait(self.nodes[c], "liquid"))
                    for c in self.contents(n.id))
                if has != want:
                    return False
            elif key == "contains_trait":
                if not any(self.trait(self.nodes[c], want) for c in self.contents(n.id)):
                    return False
            elif key == "inside_trait":
                if not any(h in self.nodes and self.trait(self.nodes[h], want) for h in self.holders(n.id)):
                    return False
            else:
                raise CSGError(f"unknown filter key {key!r}; expected one of {', '.join(sorted(FILTER_KEYS))}.",
                               field=where)
        return True

    def add_edge(self, src: str, dst: str, kind: str, relation: str) -> None:
        key = (src, dst, kind, relation)
        if src != dst and key not in self.ekeys and src in self.nodes and dst in self.nodes:
            self.ekeys.add(key)
            self.edges.append(Edge(src, dst, kind, relation))


def _pairs(G: _Graph, rule: dict, where: str):
    m = rule["match"]
    fa, fb = m.get("a", {}), m.get("b", {})
    rels = m.get("relation", "any")
    verbs = _verb_set(G.kb, m.get("edge_verb_in"))
    not_verbs = _verb_set(G.kb, m.get("edge_verb_not_in")) or set()
    seen = set()
    if rels == "any":
        for a in list(G.nodes.values()):
            if not G.matches(a, fa, f"{where}.match.a"):
                continue
            for b in list(G.nodes.values()):
                if b.id != a.id and G.matches(b, fb, f"{where}.match.b"):
                    yield a, b, None
        return
    # explicit spatial edges, plus edges of an owned implied node ("its reflection in the mirror")
    cands = []
    for e in G.edges:
        if e.kind != "spatial" or e.negated or e.relation not in rels:
            continue
        if verbs is not None and e.attrs.get("verb") not in verbs:
            continue
        if e.attrs.get("verb") in not_verbs:
            continue
        cands.append((e.src, e.dst, e.relation))
        src = G.nodes.get(e.src)
        if src is not None and src.explicit and "of" in src.physics:
            cands.append((src.physics["of"], e.dst, e.relation))
    for s, d, r in cands:
        if (s, d, r) in seen or s not in G.nodes or d not in G.nodes or s == d:
            continue
        seen.add((s, d, r))
        a, b = G.nodes[s], G.nodes[d]
        if G.matches(a, fa, f"{where}.match.a") and G.matches(b, fb, f"{where}.match.b"):
            yield a, b, r


def _verb_set(kb: Knowledge, name: str | None):
    """Third-person forms of a verb list from the lexicon (impact, motion, emission, containment)."""
    if not name:
        return None
    lists = {"impact": kb.impact_verbs, "motion": kb.motion_verbs, "emission": kb.emission_verbs,
             "containment": kb.containment_verbs}
    if name not in lists:
        raise CSGError(f"unknown verb list {name!r}; expected one of {', '.join(lists)}.", field="knowledge.rules")
    return {third_person(v) for v in lists[name]}


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
        if a.id in blocked_for:
            continue
        front, back = (a, b) if rel != "behind" else (b, a)
        ctx = {"a": a.id, "b": b.id if b else "", "front": front.id, "back": back.id if back else "",
               "a_label": the(a), "b_label": b.label() if b else "", "a_name": a.name, "b_name": b.name if b else ""}
        nid = _fmt(add["id"], ctx)
        if nid in G.nodes and not G.nodes[nid].explicit:
            continue
        # reuse an explicit node the prompt stated ("its reflection", "the shadow of the ball")
        reuse = next((n for n in G.nodes.values() if n.explicit and n.kind == add["kind"] and not n.negated
                      and n.physics.get("of") == a.id), None)
        if reuse is not None:
            nid = reuse.id
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
            if nid in G.nodes or len(G.nodes) >= 2000:
                continue
            G.nodes[nid] = Node(id=nid, name=add.get("name", add["kind"]), kind=add["kind"], explicit=False,
                                hop=int(add.get("hop", 1)) + max(parents), count=1, texture=texture,
                                physics=physics)
        for key, tmpl in rule.get("set_a_physics", {}).items():
            G.nodes[a.id] = Node(**{**a.__dict__, "physics": {**a.physics, key: _fmt(tmpl, ctx)}})
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


def apply_rules(g: CSG, kb: Knowledge) -> CSG:
    G = _Graph(g, kb)
    for i, rule in enumerate(kb.rules):
        _apply_one(G, rule, f"knowledge.rules[{i}] ({rule.get('id')})")
    return g.with_(nodes=list(G.nodes.values()), edges=G.edges, constraints=G.cons)
