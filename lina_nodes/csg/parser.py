"""Deterministic offline prompt -> CSG parser (second pass: chunks -> entities and relations).

``parse(prompt)`` returns a validated ``CSG``: explicit nodes and edges from the words, then the
implied nodes, causal edges and constraints that the physics knowledge file adds, then a layout.
No network, no model, no randomness except the layout jitter, which is seeded.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import CSGError
from .chunker import IMPLIED_NAMES, NP, Chunk, Chunker
from .knowledge import Knowledge, load_knowledge, third_person
from .model import CSG, SPATIAL_RELATIONS, Edge, Node

PARSER_NAME = "lina-rules"
PARSER_VERSION = "1"
MAX_PROMPT_CHARS = 200_000
MAX_NODES = 256
MAX_EDGES = 1024
AT_VERBS = {"look", "stare", "point", "bark", "smile", "growl", "hiss", "shout", "aim", "peck", "glare", "wave",
            "throw", "laugh", "sniff", "poke", "shoot"}
_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(name: str) -> str:
    s = _SLUG.sub("_", name.lower()).strip("_")[:40]
    return s or "entity"


class _Builder:
    """Mutable graph under construction (the returned CSG is built once at the end)."""

    def __init__(self, kb: Knowledge, prompt: str):
        self.kb = kb
        self.prompt = prompt
        self.nodes: list[dict] = []
        self.by_id: dict[str, dict] = {}
        self.edges: list[dict] = []
        self.edge_keys: set = set()
        self.counters: dict[str, int] = {}
        self.last: str | None = None          # last entity mentioned (pronouns)
        self.prev_subjects: list[str] = []    # subjects of the previous clause (pronouns prefer them)
        self.cur_subjects: list[str] = []
        self.full = False

    # -- entities --------------------------------------------------------------------------
    def entity(self, np: NP) -> str | None:
        if np.pronoun:
            if self.prev_subjects and (self.cur_subjects != self.prev_subjects):
                return self.prev_subjects[0]
            return self.last
        if "_id" in np.extra:
            return np.extra["_id"]
        nid = self._entity(np)
        np.extra["_id"] = nid
        return nid

    def _entity(self, np: NP) -> str | None:
        kb = self.kb
        name = np.name
        if np.det in ("the", "this", "that", "its", "his", "her", "their") and not np.negated:
            same = [n for n in self.nodes if n["name"] == name and not n["negated"] and n["explicit"]]
            if np.color:
                same = [n for n in same if n["texture"].get("color") in (None, np.color)]
            if same and not (np.owner_last and name in IMPLIED_NAMES):
                node = same[-1]
                self._merge(node, np)
                if name not in IMPLIED_NAMES:
                    self.last = node["id"]
                return node["id"]
        if len(self.nodes) >= MAX_NODES:
            self.full = True
            return None
        slug = _slug(name)
        k = self.counters.get(slug, 0)
        self.counters[slug] = k + 1
        kind = IMPLIED_NAMES.get(name) or kb.kind(name)
        node = {"id": f"{slug}_{k}", "name": name, "kind": kind, "explicit": True, "hop": 0,
                "count": 0 if np.negated else (np.count if np.count is not None else (2 if np.plural else 1)),
                "texture": {}, "physics": {}, "box": None, "negated": np.negated,
                "span": (np.start, np.end)}
        if node["count"] == 0 and not np.negated:
            node["negated"] = True
        self._merge(node, np)
        if name in IMPLIED_NAMES:
            owner = None
            if "owner" in np.extra:
                owner = self.entity(np.extra["owner"])
            elif np.owner_last:
                owner = self.last
            if owner:
                node["physics"]["of"] = owner
        self.nodes.append(node)
        self.by_id[node["id"]] = node
        if name not in IMPLIED_NAMES and not np.negated:
            self.last = node["id"]
        if np.contents is not None:
            inner = self.entity(np.contents)
            if inner:
                self.edge(inner, node["id"], "spatial", "in")
                self.last = node["id"]
        return node["id"]

    def _merge(self, node: dict, np: NP) -> None:
        tex, phy = node["texture"], node["physics"]
        for key in ("color", "material", "pattern"):
            v = getattr(np, key)
            if v and key not in tex:
                tex[key] = v
        if np.descriptor and "descriptor" not in tex:
            tex["descriptor"] = np.descriptor
        if np.size and "size" not in phy:
            phy["size"] = np.size
        if np.state and "state" not in phy:
            phy["state"] = np.state
        if np.fill is not None:
            phy["fill"] = float(np.fill)

    def edge(self, src: str | None, dst: str | None, kind: str, relation: str, negated: bool = False,
             **attrs) -> None:
        if not src or not dst or src == dst or len(self.edges) >= MAX_EDGES:
            return
        if kind == "spatial" and relation not in SPATIAL_RELATIONS:
            return
        if kind == "spatial" and self.by_id.get(src, {}).get("negated"):
            return  # "there is no dog in the park": nothing to place
        key = (src, dst, kind, relation)
        if key in self.edge_keys:
            return
        self.edge_keys.add(key)
        self.edges.append({"src": src, "dst": dst, "kind": kind, "relation": relation, "negated": negated,
                           "attrs": {k: v for k, v in attrs.items() if v is not None}})

    def set_physics(self, ids: list[str], key: str, value) -> None:
        for i in ids:
            if i in self.by_id:
                self.by_id[i]["physics"][key] = value

    def set_texture(self, ids: list[str], key: str, value) -> None:
        for i in ids:
            if i in self.by_id:
                self.by_id[i]["texture"][key] = value


class _Sentence:
    """Interpret one sentence's chunks."""

    def __init__(self, b: _Builder, cs: list[Chunk]):
        self.b = b
        self.cs = cs
        self.subjects: list[str] = []
        self.main: list[str] = []          # subjects before a "with" group
        self.last_obj: list[str] = []
        self.neg = False
        self.aux = False
        self.verb: str | None = None       # pending verb for a following preposition
        self.pending: list[tuple] = []     # relations read before their subject ("On the table, a cup")
        self.prev_rel: str | None = None

    def peek(self, i: int, *types: str) -> bool:
        return i < len(self.cs) and self.cs[i].type in types

    def np_id(self, i: int):
        if self.peek(i, "NP"):
            return self.b.entity(self.cs[i].value), i + 1
        return None, i

    def group(self, i: int) -> tuple[list[str], int]:
        """NP (("and" | ",") NP)* -> ids."""
        ids: list[str] = []
        first, i = self.np_id(i)
        if first:
            ids.append(first)
        while self.peek(i, "CONJ", "COMMA") and self.cs[i].value in (None, "and", "or", "&", "plus") \
                and self.peek(i + 1, "NP"):
            nid, i = self.np_id(i + 1)
            if nid and nid not in ids:
                ids.append(nid)
            if self.peek(i, "CONJ", "COMMA") and self.peek(i + 1, "NP") is False:
                break
        return ids, i

    def relate(self, rel: str, objs: list[str], third: str | None = None) -> None:
        kind, relation = "spatial", rel
        attrs = {}
        if self.verb:
            attrs["verb"] = self.verb
        if third:
            attrs["third"] = third
        if not self.subjects:
            self.pending.append((rel, objs, third, self.neg, dict(attrs)))
        for s in self.subjects:
            for o in objs:
                if relation == "filled_with":
                    self.b.edge(o, s, kind, "in", self.neg)
                    node = self.b.by_id.get(s)
                    if node is not None and "fill" not in node["physics"]:
                        node["physics"]["fill"] = 0.8
                else:
                    self.b.edge(s, o, kind, relation, self.neg, **attrs)
        self.last_obj = objs
        self.neg = False

    def set_subjects(self, ids: list[str]) -> None:
        if self.subjects and self.subjects != ids:
            self.b.prev_subjects = list(self.subjects)
        self.subjects = ids
        self.b.cur_subjects = list(ids)
        for rel, objs, third, neg, attrs in self.pending:
            for s in ids:
                for o in objs:
                    if rel == "filled_with":
                        self.b.edge(o, s, "spatial", "in", neg)
                    else:
                        self.b.edge(s, o, "spatial", rel, neg, **attrs)
        self.pending = []

    def comparative(self, i: int, relation: str) -> int:
        """COMP NP THAN NP ["in" container]: more dirt than empty space."""
        x, j = self.np_id(i + 1)
        if not x:
            return i + 1
        xnode = self.b.by_id[x]
        quantity = "count" if xnode["count"] > 1 or (self.cs[i + 1].value.plural) else "amount"
        if self.peek(j, "THAN"):
            y, j = self.np_id(j + 1)
            if y:
                self.b.edge(x, y, "comparative", relation, self.neg, quantity=quantity)
                self.neg = False
                container = [s for s in self.subjects if self.b.by_id[s]["kind"] == "container"]
                if container:
                    empty = self.b.by_id[y]["name"] in self.b.kb.empty_words
                    for c in container:
                        phys = self.b.by_id[c]["physics"]
                        if empty and "fill" not in phys and not self.neg:
                            phys["fill"] = 0.7 if relation == "more_than" else 0.3
                        self.b.edge(x, c, "spatial", "in")
                        self.b.edge(y, c, "spatial", "in")
                    self.last_obj = [x, y]
                else:
                    self.set_subjects([x, y])
                return j
        self.last_obj = [x]
        return j

    def run(self) -> None:
        cs, b, kb = self.cs, self.b, self.b.kb
        i, n = 0, len(cs)
        while i < n:
            c = cs[i]
            t = c.type
            if t == "NP":
                ids, j = self.group(i)
                prev = cs[i - 1].type if i > 0 else None
                if prev in ("VERB",) and self.subjects:
                    self.action(ids)
                else:
                    self.set_subjects(ids)
                    self.main = []
                    self.aux = False
                i = j
                continue
            if t == "THERE":
                i += 1
                continue
            if t == "COMP":
                i = self.comparative(i, c.value)
                continue
            if t == "COMPADJ":
                relation, quantity = c.value
                j = i + 1
                if self.peek(j, "THAN") and self.peek(j + 1, "NP"):
                    objs, j = self.group(j + 1)
                    for s in self.subjects:
                        for o in objs:
                            b.edge(s, o, "comparative", relation, self.neg, quantity=quantity)
                    self.neg = False
                i = j
                continue
            if t == "PREP":
                i = self.prep(i)
                continue
            if t == "SIDE":
                targets = self.subjects or (self.last_obj if self.last_obj else ([b.last] if b.last else []))
                if i > 0 and cs[i - 1].type == "NP" and self.last_obj and cs[i - 1].value is not None \
                        and self.last_obj and b.last in self.last_obj:
                    targets = self.last_obj
                b.set_physics(targets, "side", c.value)
                i += 1
                continue
            if t == "AUX":
                self.aux = True
                i += 1
                continue
            if t == "NEG":
                self.neg = True
                i += 1
                continue
            if t in ("CONJ", "COMMA"):
                self.verb = None
                self.aux = False
                if self.main and not self.peek(i + 1, "PREP"):
                    self.subjects, self.main = self.main, []
                i += 1
                continue
            if t == "REL":
                if i > 0 and cs[i - 1].type == "NP" and self.last_obj:
                    self.subjects = list(self.last_obj)
                # object relative: "the bird that the snake eats"
                if self.peek(i + 1, "NP") and self.peek(i + 2, "VERB") and not self.peek(i + 3, "NP", "PREP"):
                    head = list(self.subjects)
                    agent, _ = self.np_id(i + 1)
                    lemma = cs[i + 2].value
                    for h in head:
                        b.edge(agent, h, "action", third_person(lemma), self.neg)
                    self.neg = False
                    i += 3
                    continue
                i += 1
                continue
            if t == "WITH":
                i = self.with_(i)
                continue
            if t == "WITHOUT":
                j = i + 1
                while self.peek(j, "NP"):
                    cs[j].value.negated = True
                    oid = b.entity(cs[j].value)
                    if oid and self.subjects and b.by_id[oid]["kind"] in IMPLIED_NAMES.values():
                        b.by_id[oid]["physics"]["of"] = self.subjects[0]
                    j += 1
                    if self.peek(j, "CONJ", "COMMA") and self.peek(j + 1, "NP"):
                        j += 1
                i = j
                continue
            if t == "FILL":
                targets = self.subjects if self.aux or cs[i - 1].type in ("AUX", "NEG") else (self.subjects or [b.last])
                val = c.value
                b.set_physics([x for x in targets if x], "fill", float(val))
                i += 1
                if self.peek(i, "OF", "WITH") and self.peek(i + 1, "NP"):
                    objs, i = self.group(i + 1)
                    for o in objs:
                        for s in targets:
                            b.edge(o, s, "spatial", "in")
                continue
            if t == "ADJ":
                w = c.value
                if self.aux and self.subjects:
                    if w in kb.colors:
                        b.set_texture(self.subjects, "color", w)
                    elif w in kb.materials:
                        b.set_texture(self.subjects, "material", w)
                    elif w in kb.patterns:
                        b.set_texture(self.subjects, "pattern", w)
                    elif w in kb.sizes:
                        b.set_physics(self.subjects, "size", kb.sizes[w])
                    elif w in kb.states:
                        b.set_physics(self.subjects, "state", w)
                i += 1
                continue
            if t == "VERB":
                i = self.verb_(i)
                continue
            if t == "BY":
                i += 1
                continue
            i += 1

    def prep(self, i: int) -> int:
        cs = self.cs
        rel = cs[i].value
        j = i + 1
        if self.verb and rel == "near" and self.verb in {third_person(v) for v in AT_VERBS}:
            # "looks at X": an action, not a place
            objs, j = self.group(j)
            self.action(objs)
            return j
        if rel == "between":
            a, j = self.np_id(j)
            c2 = None
            if self.peek(j, "CONJ", "COMMA") and self.peek(j + 1, "NP"):
                c2, j = self.np_id(j + 1)
            if a:
                self.relate("between", [a], third=c2)
            return j
        if self.peek(j, "COMP"):
            # "in the jar there is more dirt than ..." (rare); read the comparative as objects
            return j
        if not self.peek(j, "NP"):
            return j
        prev_rel = self.prev_rel
        prev_objs = list(self.last_obj)
        obj, j = self.np_id(j)
        if obj:
            self.prev_rel = rel
            if prev_rel in ("in", "inside") and i > 0 and self.cs[i - 1].type == "NP" and prev_objs \
                    and rel not in ("in", "inside") and self.b.by_id[prev_objs[0]]["kind"] in ("container", "object"):
                for p in prev_objs:
                    self.b.edge(p, obj, "spatial", rel, self.neg)
                self.neg = False
                self.last_obj = [obj]
                return j
            if rel == "in" and self.b.by_id[obj]["kind"] == "region" and not self.subjects:
                self.pending.append(("in", [obj], None, self.neg, {}))
                self.last_obj = [obj]
                return j
            self.relate(rel, [obj])
        return j

    def with_(self, i: int) -> int:
        cs, b = self.cs, self.b
        j = i + 1
        if self.peek(j, "COMP"):
            return self.comparative(j, cs[j].value)
        objs, j = self.group(j)
        containers = [s for s in self.subjects if b.by_id[s]["kind"] == "container"]
        for o in objs:
            onode = b.by_id[o]
            if onode["kind"] in IMPLIED_NAMES.values() and self.subjects and "of" not in onode["physics"]:
                onode["physics"]["of"] = self.subjects[0]
            elif containers and onode["kind"] != "container":
                for c in containers:
                    b.edge(o, c, "spatial", "in")
        movable = [o for o in objs if not b.by_id[o]["negated"] and b.by_id[o]["kind"] not in IMPLIED_NAMES.values()]
        if movable and len(movable) == len(objs) and self.peek(j, "PREP", "SIDE") and not containers:
            self.main = self.main or list(self.subjects)
            self.subjects = objs
        elif objs:
            self.last_obj = objs
        return j

    def action(self, objs: list[str]) -> None:
        lemma = self.verb
        if not lemma:
            return
        for s in self.subjects:
            for o in objs:
                self.b.edge(s, o, "action", lemma, self.neg)
        self.neg = False
        self.last_obj = objs

    def verb_(self, i: int) -> int:
        cs, b, kb = self.cs, self.b, self.b.kb
        c = cs[i]
        lemma, form = c.value, c.form
        rel = third_person(lemma)
        # reduced relative / participle on the last object: "a bird watching a snake eating a mouse"
        if form in ("ing", "part") and i > 0 and cs[i - 1].type == "NP" and self.last_obj \
                and b.entity(cs[i - 1].value) in self.last_obj:
            self.subjects = list(self.last_obj)
        j = i + 1
        if form in ("part", "past") and self.peek(j, "BY") and self.peek(j + 1, "NP"):
            agents, j = self.group(j + 1)
            for a in agents:
                for s in self.subjects:
                    b.edge(a, s, "action", rel, self.neg)
            self.neg = False
            self.last_obj = agents
            return j
        if lemma in kb.containment_verbs and self.subjects:
            if self.peek(j, "COMP"):
                return self.comparative(j, cs[j].value)
            if self.peek(j, "NP"):
                containers = [s for s in self.subjects if b.by_id[s]["kind"] == "container"]
                objs, j = self.group(j)
                if containers:
                    for o in objs:
                        for cid in containers:
                            b.edge(o, cid, "spatial", "in", self.neg)
                    self.neg = False
                    self.last_obj = objs
                elif lemma != "have":
                    self.verb = rel
                    self.action(objs)
                else:
                    self.last_obj = objs
                return j
        if form in ("part", "past") and self.aux and not self.peek(j, "NP"):
            # "a vase is placed on the table": the preposition that follows carries the place
            self.verb = rel
            return j
        self.verb = rel
        if self.peek(j, "NP"):
            objs, j = self.group(j)
            if self.subjects:
                self.action(objs)
            else:
                self.set_subjects(objs)
            return j
        return j


def _split_sentences(chunks: list[Chunk]) -> list[list[Chunk]]:
    out, cur = [], []
    for c in chunks:
        if c.type == "END":
            if cur:
                out.append(cur)
            cur = []
        else:
            cur.append(c)
    if cur:
        out.append(cur)
    return out


def parse_explicit(prompt: str, kb: Knowledge) -> _Builder:
    b = _Builder(kb, prompt)
    for sent in _split_sentences(Chunker(kb).chunks(prompt)):
        s = _Sentence(b, sent)
        s.run()
        if s.subjects:
            b.prev_subjects, b.cur_subjects = list(s.subjects), []
        if b.full:
            break
    _fill_from_comparatives(b)
    return b


def _fill_from_comparatives(b: _Builder) -> None:
    """"more dirt than empty space in the jar": the jar is more than half full (fill 0.7)."""
    for e in b.edges:
        if e["kind"] != "comparative" or e["negated"]:
            continue
        src, dst = b.by_id[e["src"]], b.by_id[e["dst"]]
        if dst["name"] not in b.kb.empty_words:
            continue
        for c in b.edges:
            if c["src"] == src["id"] and c["relation"] in ("in", "inside") and b.by_id[c["dst"]]["kind"] == "container":
                phys = b.by_id[c["dst"]]["physics"]
                phys.setdefault("fill", 0.7 if e["relation"] == "more_than" else 0.3)


def parse(prompt: str, *, knowledge: str | Path | Knowledge | None = None, seed: int = 0,
          layout: bool = True, implied: bool = True) -> CSG:
    """Parse a prompt into a validated CSG (explicit + implied nodes, constraints, layout boxes)."""
    if prompt is None:
        prompt = ""
    if not isinstance(prompt, str):
        raise CSGError(f"expected a string, got {type(prompt).__name__}.", field="prompt")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise CSGError(f"the prompt has {len(prompt)} characters; the parser accepts at most {MAX_PROMPT_CHARS}.",
                       field="prompt", fix="shorten the prompt (a scene description, not a document).")
    kb = knowledge if isinstance(knowledge, Knowledge) else load_knowledge(knowledge)
    b = parse_explicit(prompt, kb)
    from .rules import apply_rules
    from .constraints import explicit_constraints

    nodes = [Node(id=n["id"], name=n["name"], kind=n["kind"], explicit=True, hop=0, count=n["count"],
                  texture=n["texture"], physics=n["physics"], negated=n["negated"], span=n["span"])
             for n in b.nodes]
    edges = [Edge(**e) for e in b.edges]
    meta = {"parser": PARSER_NAME, "parser_version": PARSER_VERSION, "seed": int(seed),
            "knowledge_sha256": kb.sha256[:16]}
    if b.full:
        meta["truncated"] = True
    g = CSG(nodes=tuple(nodes), edges=tuple(edges), constraints=(), prompt=prompt, meta=meta)
    cons = explicit_constraints(g, empty_words=tuple(kb.empty_words), mass_nouns=kb.mass_nouns)
    g = g.with_(constraints=cons)
    if implied:
        g = apply_rules(g, kb)
    if layout:
        from .layout import solve_layout
        g = solve_layout(g, seed=seed)
    return g
