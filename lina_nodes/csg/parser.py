"""Deterministic offline prompt -> CSG parser (second pass: chunks -> entities and relations).

``parse(prompt)`` returns a validated ``CSG``: explicit nodes and edges from the words, then the
implied nodes, causal edges and constraints that the physics knowledge file adds, then a layout.
No network, no model, no randomness except the layout jitter, which is seeded.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import CSGError
from .attachment import _EFFECT_KINDS, _RIM_WORDS, Attachment, _its_border
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
_AT_VERB_FORMS = frozenset(third_person(v) for v in AT_VERBS)   # "looks at X" is an action, not a place
_CASTER_KINDS = frozenset(("object", "agent", "container"))
_VERB_PARTICLES = frozenset(("for", "to"))   # "reaching for an umbrella on a driveway", "talking to a referee"
_GENDERED = {"she": "female", "her": "female", "herself": "female", "he": "male", "him": "male",
             "himself": "male"}
_SURFACE_WORDS = frozenset(("surface", "top", "ground"))   # "on the moon's surface" is on the moon
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
        self.lights: dict[str, str] = {}      # ambient light name -> node id ("at dusk", "a sunny road")
        self.pronoun_hint: str | None = None  # "a plate with toast on it": "it" is the plate

    # -- entities --------------------------------------------------------------------------
    def entity(self, np: NP) -> str | None:
        if np.pronoun:
            word = self.prompt[np.start:np.end].lower()
            if word in ("them", "they", "themselves") and self.pronoun_hint \
                    and self.by_id.get(self.pronoun_hint, {}).get("count", 1) == 1:
                many = [n["id"] for n in reversed(self.nodes) if n["count"] > 1 and n["explicit"] and not n["negated"]
                        and n["kind"] in _CASTER_KINDS and n["id"] not in self.cur_subjects]
                if many:       # "elephants in an area with trees behind them": the elephants
                    return many[0]
            gender = _GENDERED.get(word)
            found = self.gendered(gender) if gender else None
            if self.pronoun_hint and not (found and self.by_id.get(self.pronoun_hint, {}).get("kind") != "agent"):
                return self.pronoun_hint      # "a box with a cube in it"; not "a bench with a building behind him"
            if found:
                return found
            if self.prev_subjects and (self.cur_subjects != self.prev_subjects):
                return self.prev_subjects[0]
            return self.last
        if "_id" in np.extra:
            return np.extra["_id"]
        if "possessor" in np.extra and np.name in _SURFACE_WORDS and not np.negated:
            nid = self.entity(np.extra["possessor"])     # "the moon's surface", "the lake's surface": the thing
            np.extra["_id"] = nid
            return nid
        if "light" in np.extra:
            self.ambient_light(np.extra["light"], (np.start, np.end))
        if np.name.rsplit(" ", 1)[-1] in self.kb.time_nouns:   # "on a sunny day": only the light; "a windy day": nothing
            np.extra["_id"] = None
            return None
        nid = self._entity(np)
        np.extra["_id"] = nid
        return nid

    def has(self, nid: str, *traits: str) -> bool:
        """The node has any of these traits (knowledge file)."""
        n = self.by_id[nid]
        return any(self.kb.has_trait(n["name"], n["kind"], t) for t in traits)

    def served_in(self, holder: str, inner: str) -> bool:
        """A plate, a tray or a dish holds (fills) what it serves; a cup or a fork on it only rests there."""
        return self.has(holder, "serving") and self.by_id[inner]["kind"] != "container" and not self.has(inner, "utensil")

    def gendered(self, gender: str) -> str | None:
        """"she" / "he": the latest figure named as a woman (a man), else the latest figure not named as the other
        ("as she glided across the floor": the dancer, not her feet)."""
        other = "male" if gender == "female" else "female"
        figures = [n for n in reversed(self.nodes) if n["explicit"] and not n["negated"] and n["kind"] == "agent"]
        for n in figures:
            if self.has(n["id"], gender):
                return n["id"]
        for n in figures:
            if not self.has(n["id"], other):
                return n["id"]
        return None

    def _entity(self, np: NP) -> str | None:
        kb = self.kb
        name = np.name
        bare = np.det is None and np.count is None and not np.plural     # "person near bottle. bike under person"
        if (np.det in ("the", "this", "that", "its", "his", "her", "their") or bare) and not np.negated:
            same = [n for n in self.nodes if n["name"] == name and not n["negated"] and n["explicit"]
                    and not (bare and n["id"] in self.cur_subjects)]     # "person near person": two people
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
        holder = self.by_id.get(self.last) if self.last else None
        if np.det == "its" and name not in IMPLIED_NAMES and holder is not None and holder["kind"] != "agent":
            node["physics"]["part"] = True     # "a tuba with its round bell": a part ("a dog and its bone": the dog's)
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
        if "possessor" in np.extra:        # "a turtle's back": the turtle is in the scene, the back is its own
            owner = self.entity(np.extra["possessor"])
            if owner:
                self.edge(owner, node["id"], "action", "has")
        if name not in IMPLIED_NAMES and not np.negated:
            self.last = node["id"]
        if np.contents is not None:
            inner = self.entity(np.contents)
            if inner:   # "a bowl of soup", "a plate of rice" fill their holder; "a table full of food", "a tray of
                #          cups" are on it
                on = (node["kind"] == "surface" or self.has(node["id"], "serving", "flat_region", "field")) \
                    and not self.served_in(node["id"], inner)     # "a beach full of people": on it
                self.edge(inner, node["id"], "spatial", "on" if on else "in")
                self.last = node["id"]
        return node["id"]

    def ambient_light(self, name: str, span: tuple[int, int]) -> None:
        """The light a time of day or weather word names ("at dusk", "sunny"): one node per name, no place."""
        if name in self.lights or len(self.nodes) >= MAX_NODES:
            return
        slug = _slug(name)
        k = self.counters.get(slug, 0)
        self.counters[slug] = k + 1
        node = {"id": f"{slug}_{k}", "name": name, "kind": "light", "explicit": True, "hop": 0, "count": 1,
                "texture": {}, "physics": {}, "box": None, "negated": False, "span": span}
        self.nodes.append(node)
        self.by_id[node["id"]] = node
        self.lights[name] = node["id"]

    def _merge(self, node: dict, np: NP) -> None:
        tex, phy = node["texture"], node["physics"]
        for key in ("color", "material", "pattern", "finish"):
            v = getattr(np, key)
            if v and key not in tex:
                tex[key] = v
        if np.finish and "material" not in tex:
            tex["material"] = np.finish       # "a shiny teapot": the finish is what it looks made of
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

    def verb_forms(self, name: str) -> frozenset:
        """Third-person forms of a knowledge verb list ("mount" -> rides, drives...)."""
        cache = self.__dict__.setdefault("_verb_forms", {})
        if name not in cache:
            cache[name] = frozenset(third_person(v) for v in self.kb.verb_lists.get(name, ()))
        return cache[name]

    def set_attr(self, ids: list[str], part: str, key: str, value) -> None:
        """Set ``node[part][key]`` (part "physics" or "texture") on each known node."""
        for i in ids:
            if i in self.by_id:
                self.by_id[i][part][key] = value


#: Predicate adjectives ("the ball is red"): knowledge word list -> the (part, key) it sets.
_PREDICATE_KEYS = (("colors", "texture", "color"), ("materials", "texture", "material"),
                   ("patterns", "texture", "pattern"), ("sizes", "physics", "size"), ("states", "physics", "state"))


#: Verb list -> where the agents of its passive are: "a table covered by a cloth" (on it), "a lake surrounded by
#: trees" (beside it); any other passive is an action ("a mouse eaten by a snake").
_PASSIVE_PLACES = {"cover": "on", "border": "next_to"}


def _edge_place(phrase: str) -> str | None:
    """"at / near / by the edge (corner) of X": a place on X at its border (the layout reads it); "at the bottom
    of X": on X's floor or bed (a rule reads it; "on the bottom of X": ``on_bottom``); else None."""
    words = phrase.lower().split()
    if "against" in words:
        return "against"       # "a ladder against a wall": touching it (a rule reads it)
    if words[:1] == ["on"] and "side" in words and "of" in words:
        return "side"          # "on the right side of a road": on the road at that side (a rule reads it)
    if words == ["at"]:
        return "at"            # "standing at the beach shoreline": where one stands (a rule reads it)
    if "of" not in words:
        return None
    if "bottom" in words:
        return "on_bottom" if words[:1] == ["on"] else "bottom"   # "an oven on the bottom of a toaster": under it
    return "edge" if ("edge" in words or "corner" in words) and "on" not in words[:1] else None


def _predicate_attribute(kb: Knowledge, word: str) -> tuple[str, str, str] | None:
    """(part, key, value) a predicate adjective sets: "red" -> ("texture", "color", "red"); None if unknown."""
    for table, part, key in _PREDICATE_KEYS:
        words = getattr(kb, table)
        if word in words:
            return part, key, words[word] if isinstance(words, dict) else word
    return None


class _Sentence(Attachment):
    """Interpret one sentence's chunks.

    ``run`` hands each chunk to the step ``_STEPS`` names for its type; a step reads the chunk (and
    whatever it governs: "between A and B", "eaten by a snake") and returns the next unread index.
    """

    def __init__(self, b: _Builder, cs: list[Chunk]):
        self.b = b
        self.cs = cs
        self.subjects: list[str] = []
        self.main: list[str] = []          # subjects before a "with" group
        self.last_obj: list[str] = []
        self.neg = False
        self.aux = False
        self.verb: str | None = None       # pending verb for a following preposition
        self.passive = False               # that verb is a participle ("painted on the wall")
        self.pending: list[tuple] = []     # relations read before their subject ("On the table, a cup")
        self.prev_rel: str | None = None
        self.prev_place: str | None = None
        self.looked_at: list[str] = []     # the objects of "looks at" just read
        self.carried: list[str] = []       # what a "with" group just gave the subjects ("a person with a cane")
        self.worn = False                  # a garment after "in" was just read
        self.first: list[str] = []         # the sentence's first subjects ("clouds drifted ..., casting shadows")

    def run(self) -> None:
        i = 0
        while i < len(self.cs):
            i = _STEPS.get(self.cs[i].type, _Sentence.skip)(self, i)

    # -- helpers ---------------------------------------------------------------------------
    def peek(self, i: int, *types: str) -> bool:
        return i < len(self.cs) and self.cs[i].type in types

    def np_id(self, i: int):
        if self.peek(i, "NP"):
            return self.b.entity(self.cs[i].value), i + 1
        return None, i

    def group(self, i: int) -> tuple[list[str], int]:
        """NP (("and" | ",") NP)* -> ids."""
        ids: list[str] = []
        start = i
        first, i = self.np_id(i)
        if first:
            ids.append(first)
            if self.plural_pronoun(start) and self.b.prev_subjects[:1] == [first]:
                ids = list(self.b.prev_subjects)     # "Three robots ... They are all placed on a floor": every one
        while self.peek(i, "CONJ", "COMMA") and self.cs[i].value in (None, "and", "or", "&", "plus") \
                and self.peek(i + 1, "NP"):
            nid, i = self.np_id(i + 1)
            if nid and nid not in ids:
                ids.append(nid)
            if self.peek(i, "CONJ", "COMMA") and self.peek(i + 1, "NP") is False:
                break
        return ids, i

    def containers(self) -> list[str]:
        """The subjects that are containers (a jar, a glass) or serving holders ("her plate has an omelette")."""
        return [s for s in self.subjects if self.b.by_id[s]["kind"] == "container" or self.b.has(s, "serving")]

    def link(self, srcs: list, dsts: list, kind: str, relation: str, **attrs) -> None:
        """An edge from every src to every dst, negated by a pending "not" (which this uses up)."""
        for s in srcs:
            for d in dsts:
                self.b.edge(s, d, kind, relation, self.neg, **attrs)
        self.neg = False

    def relate(self, rel: str, objs: list[str], third: str | None = None, place: str | None = None) -> None:
        kind, relation = "spatial", rel
        attrs = {"place": place} if place else {}
        if self.verb:
            attrs["verb"] = self.verb
            if self.passive:
                attrs["voice"] = "passive"
        if third:
            attrs["third"] = third
        if self.passive and rel in ("in", "inside") and self.subjects and self.verb in self.b.verb_forms("cover"):
            self.link(objs, self.subjects, "spatial", "on", verb=self.verb)   # "a house covered in snow": on it
            return
        if not self.subjects:
            self.pending.append((rel, objs, third, self.neg, dict(attrs)))
        placed = self.placed_subjects(rel)
        if self.verb in self.b.verb_forms("pour"):       # "a glass of oil is poured into a glass of milk": the oil
            placed = [self.liquid_inside(s, pourable=True) for s in placed]
        for s in placed:
            for o in objs:
                if relation == "filled_with":
                    self.b.edge(o, s, kind, "in", self.neg)
                    node = self.b.by_id.get(s)
                    if node is not None and "fill" not in node["physics"] and self.fills(o):
                        node["physics"]["fill"] = 0.8   # "a bowl full of rice"; "a vase filled with flowers" holds them
                elif relation == "on" and self.worn_on(s, o):
                    self.b.edge(o, s, "action", "wears", self.neg)     # "hat on person": worn
                else:
                    self.b.edge(s, o, kind, relation, self.neg, **attrs)
                    if relation in ("under", "below") and self.ground_under(s, o):
                        self.b.edge(o, s, kind, "on", self.neg)        # "street under bus": the bus is on it
        self.last_obj = objs
        self.neg = False

    def set_subjects(self, ids: list[str]) -> None:
        if self.subjects and self.subjects != ids:
            self.b.prev_subjects = list(self.subjects)
        self.first = self.first or list(ids)
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

    def action(self, objs: list[str]) -> None:
        """The pending verb from every subject to every object."""
        if not self.verb:
            return
        by_id = self.b.by_id
        effects = [o for o in objs if by_id[o]["kind"] in _EFFECT_KINDS
                   and ("of" not in by_id[o]["physics"] or self.verb == "casts")]   # "casting their shadows"
        if effects and self.subjects and by_id[self.subjects[0]]["kind"] != "light":
            # "the tree cast a shadow over the bush": the shadow is the tree's (a candle's shadows are others')
            for o in effects:
                by_id[o]["physics"]["of"] = self.subjects[0]
        self.link(self.subjects, objs, "action", self.verb)
        mirrors = [o for o in objs if self.b.has(o, "reflective") and by_id[o]["kind"] != "agent"]
        figures = [s for s in self.subjects if by_id[s]["kind"] == "agent"]
        if mirrors and figures:             # "a man takes his picture using the bathroom mirror": he faces it
            self.link(figures, mirrors, "spatial", "in_front_of")
        self.last_obj = objs

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
                self.link([x], [y], "comparative", relation, quantity=quantity)
                container = self.containers()
                if container:
                    empty = self.b.by_id[y]["name"] in self.b.kb.empty_words
                    for c in container:
                        phys = self.b.by_id[c]["physics"]
                        if empty and "fill" not in phys:
                            phys["fill"] = 0.7 if relation == "more_than" else 0.3
                        self.b.edge(x, c, "spatial", "in")
                        self.b.edge(y, c, "spatial", "in")
                    self.last_obj = [x, y]
                else:
                    self.set_subjects([x, y])
                return j
        self.last_obj = [x]
        return j

    # -- steps: one per chunk type (see _STEPS), each returns the next unread index -----------
    def skip(self, i: int) -> int:
        """THERE, BY, OTHER: nothing to read."""
        return i + 1

    def light(self, i: int) -> int:
        """LIGHT: "at dusk", "at noon": the scene is lit by that light."""
        c = self.cs[i]
        self.b.ambient_light(c.value, (c.start, c.end))
        return i + 1

    def noun_group(self, i: int) -> int:
        """NP ("and" NP)*: the objects of the verb just read, else the new subjects."""
        if self.worn and i > 0 and self.cs[i - 1].type == "CONJ" and self.subjects:
            np = self.cs[i].value
            if self.b.kb.has_trait(np.name, self.b.kb.kind(np.name), "garment"):
                worn, j = self.np_id(i)        # "in a dress and shirt": worn as well
                self.link(self.subjects, [worn], "action", "wears")
                return j
        self.worn = False
        np = self.cs[i].value
        if np.pronoun and self.subjects and i > 0 and self.cs[i - 1].type in ("CONJ", "COMMA") \
                and self.b.prompt[np.start:np.end].lower() in ("it", "they") and self.peek(i + 1, "VERB", "AUX", "OTHER") \
                and all(self.b.by_id[s]["kind"] == "agent" for s in self.subjects):
            # "a dog is running through the house, then it jumps onto the couch": the dog, not the house (a figure
            # acts on; "some food in a bowl, it is placed on a cloth" keeps the nearest thing)
            return i + 1
        ids, j = self.group(i)
        if i > 0 and self.cs[i - 1].type == "OF" and self.subjects:
            return j      # "the hull of a boat": a part of what was just named, not a new subject
        if i > 0 and self.cs[i - 1].type == "VERB" and self.subjects:
            self.action(ids)
        elif i > 1 and self.cs[i - 1].type == "OTHER" and self.cs[i - 1].value in _VERB_PARTICLES \
                and self.cs[i - 2].type == "VERB" and self.subjects:
            self.action(ids)        # "a girl reaching for her umbrella on a driveway": the girl is on it
            self.last_obj = []
        else:
            if i > 0 and self.cs[i - 1].type == "CONJ" and self.peek(j, "PREP"):
                self.last_obj, self.prev_rel = [], None   # "a candle on a jar and a figurine on a surface": the
            self.set_subjects(ids)                         # figurine's own place, not the jar's
            self.main = []
            self.aux = False
        return j

    def quantity_comparison(self, i: int) -> int:
        """COMP: "more dirt than empty space" (see ``comparative``)."""
        return self.comparative(i, self.cs[i].value)

    def adjective_comparison(self, i: int) -> int:
        """COMPADJ THAN NP...: "a dog bigger than a cat"."""
        relation, quantity = self.cs[i].value
        j = i + 1
        if self.peek(j, "THAN") and self.peek(j + 1, "NP"):
            objs, j = self.group(j + 1)
            self.link(self.subjects, objs, "comparative", relation, quantity=quantity)
        return j

    def preposition(self, i: int) -> int:
        """PREP NP: a place; also "looks at X" (an action) and "between A and B"."""
        rel, j = self.cs[i].value, i + 1
        if self.verb and rel == "near" and self.verb in _AT_VERB_FORMS:
            objs, j = self.group(j)
            self.action(objs)
            self.looked_at = list(objs)     # "looking at a squirrel on a fence": the next place is the squirrel's
            return j
        if rel == "on" and self.verb and i > 0 and self.cs[i - 1].type == "VERB" and not self.passive \
                and (self.verb in self.b.verb_forms("particle_on") or self.agent_marks()) and self.peek(j, "NP") \
                and self.b.kb.kind(self.cs[j].value.name) not in ("surface", "region"):   # "waiting on a platform"
            objs, j = self.group(j)     # "working on a project", "chewing on a bone": what the verb acts on
            self.action(objs)
            return j
        if rel == "between":
            return self.between(j)
        if self.each_other(j):
            if rel in ("on", "above", "in"):     # "three trucks piled on top of each other": a stack
                self.b.set_attr(self.subjects, "physics", "stacked", True)
            return j + 2
        if not self.peek(j, "NP"):
            return j  # also "in the jar there is more dirt than ...": the comparative reads on
        owner = self.owner_of_its_edge(j)
        if owner is not None:     # "a mirror with a cone standing at its edge": the cone is at the mirror's edge
            self.prev_rel, self.prev_place = rel, "edge"
            self.relate(rel, [owner], place="edge")
            return j + 1
        if _its_border(self.cs[j].value):
            return j + 1          # "a cup at its edge" with nothing else named: no owner, and no "edge" object
        prev_rel, prev_objs = self.prev_rel, list(self.last_obj)
        prev_place, place = self.prev_place, _edge_place(self.b.prompt[self.cs[i].start:self.cs[i].end])
        surface = self.peek(j, "NP") and self.cs[j].value.extra.get("surface")
        obj, j = self.np_id(j)
        if obj and surface:
            obj = self.liquid_inside(obj)
        if not obj:
            return j
        if self.wears(rel, obj) or self.on_own_body(j, rel, obj):
            return j
        if obj in self.subjects and prev_objs and self.cs[i - 1].type == "NP" and not set(prev_objs) & set(self.subjects):
            self.link(prev_objs, [obj], "spatial", rel)    # "a woman walking a dog behind her": the dog is behind
            return j
        self.prev_rel, self.prev_place = rel, place
        looked_at, self.looked_at = self.looked_at, []
        if looked_at and looked_at == prev_objs and rel in ("on", "in", "inside") and self.cs[i - 1].type == "NP":
            self.link(prev_objs, [obj], "spatial", rel)
            self.last_obj = [obj]
        elif self.places_the_mount(i, prev_objs):
            # what a marking verb makes ("writing BONEZ on a chalkboard") is on the surface as if painted on it
            pour = self.verb in self.b.verb_forms("pour")      # "pouring wine into a glass": a splash
            marked = {"verb": self.verb, "voice": "passive"} if self.verb in self.b.verb_forms("marking") else (
                {"verb": self.verb} if pour else {})
            if pour and self.b.by_id[obj]["kind"] == "container":
                rel = "in"                        # "pouring a hot beverage on a cup": into it
            self.link(prev_objs, [obj], "spatial", rel, **marked)
            self.last_obj = [obj]
        elif self.shares_the_support(i, rel, prev_rel, prev_objs):
            # "a fiddle next to a basketball on a ping pong table": both stand on the table
            self.relate(rel, [obj], place=place)
            self.link(prev_objs, [obj], "spatial", rel)
            self.last_obj = [obj]
        elif self.places_what_is_in(i, rel, prev_rel, prev_objs, prev_place) \
                or self.places_what_is_on(i, rel, prev_rel, prev_objs, prev_place, obj):
            self.link(prev_objs, [obj], "spatial", rel)
            self.last_obj = [obj]
        elif rel == "in" and self.b.by_id[obj]["kind"] == "region" and not self.subjects:
            self.pending.append(("in", [obj], None, self.neg, {}))  # "in the park, a dog..."
            self.last_obj = [obj]
        else:
            more, j = self.coordinated_places(j)
            self.relate(rel, [obj] + more, place=place)
        return j

    def between(self, j: int) -> int:
        """"between A and B": A is the object, B the edge's third node."""
        a, j = self.np_id(j)
        c2 = None
        if self.peek(j, "CONJ", "COMMA") and self.peek(j + 1, "NP"):
            c2, j = self.np_id(j + 1)
        if a:
            self.relate("between", [a], third=c2)
        return j

    def side(self, i: int) -> int:
        """SIDE: "on the left" sets the side of the subjects, or of the objects just named."""
        b = self.b
        targets = self.subjects or self.last_obj or ([b.last] if b.last else [])
        if i > 0 and self.cs[i - 1].type == "NP" and self.last_obj and b.last in self.last_obj:
            targets = self.last_obj
        b.set_attr(targets, "physics", "side", self.cs[i].value)
        return i + 1

    def auxiliary(self, i: int) -> int:
        """AUX: "is", "does" (a predicate may follow)."""
        self.aux = True
        return i + 1

    def negation(self, i: int) -> int:
        """NEG: the next relation read is negated."""
        self.neg = True
        return i + 1

    def clause_break(self, i: int) -> int:
        """CONJ / COMMA: the pending verb ends; after a "with" group its owners are subjects again."""
        self.verb = None
        self.aux = False
        self.b.pronoun_hint = None
        if self.main and not self.peek(i + 1, "PREP"):
            self.subjects, self.main = self.main, []
        return i + 1

    def relative_clause(self, i: int) -> int:
        """REL: "a cat that ..." (the object just named becomes the subject) or an object relative."""
        after_np = i > 0 and self.cs[i - 1].type == "NP" or (   # "the cat, which ran up a tree": the cat
            i > 1 and self.cs[i - 1].type == "COMMA" and self.cs[i - 2].type == "NP")
        if after_np and self.last_obj:
            self.subjects = list(self.last_obj)
        if self.peek(i + 1, "NP") and self.peek(i + 2, "VERB") and not self.peek(i + 3, "NP", "PREP"):
            return self.object_relative(i)
        return i + 1

    def object_relative(self, i: int) -> int:
        """REL NP VERB: "the bird that the snake eats" -> snake eats bird."""
        head = list(self.subjects)
        agent, _ = self.np_id(i + 1)
        self.link([agent], head, "action", third_person(self.cs[i + 2].value))
        return i + 3

    def attach_with_phrase(self, i: int) -> int:
        """WITH NP...: what "with" names belongs to the subjects (an effect's owner, a container's
        contents), or, before a place ("a man with a dog on a leash"), becomes the subjects for it."""
        j = i + 1
        if self.peek(j, "COMP"):
            return self.quantity_comparison(j)
        owners = self.with_owners(i)
        objs, j = self.group(j)
        if self.topped(i, owners, objs):
            return j
        placed = self.peek(j, "PREP")      # "with a peel stuck on the rim": it has its own place
        own_place = placed and self.cs[j].value in ("on", "in", "inside", "onto", "into")
        poured = all(self.b.has(o, "liquid") for o in objs)
        on_part = placed and self.peek(j + 1, "NP") and (self.cs[j + 1].value.name in _RIM_WORDS
                                                          or self.cs[j + 1].value.pronoun)
        containers = [s for s in owners if self.b.by_id[s]["kind"] == "container" and (poured or not on_part)
                      and not self.outside(j)]
        for o in objs:
            self.attach_to_subjects(o, containers, owners)
        away = placed and self.cs[j].value in ("behind", "in_front_of", "above", "below")   # "a bench with a
        self.serve_on(owners, objs, own_place or away)   # building behind him"; "a plate with toast and eggs next
        #                                                  to some coffee": on it
        by_id = self.b.by_id
        movable = [o for o in objs if not by_id[o]["negated"] and by_id[o]["kind"] not in _EFFECT_KINDS]
        if self.carries(owners, objs):
            movable = []                  # "people with bats on a field": the bats are in their hands
        if movable and len(movable) == len(objs) and self.peek(j, "PREP", "SIDE") and not containers \
                and i > 0 and self.cs[i - 1].type == "VERB" and self.cs[i - 1].form != "part" \
                and not self.into_water(j):
            self.main = self.main or list(self.subjects)    # "a dog playing with a toy on the carpet": both on it
            self.subjects = list(self.subjects) + [o for o in objs if o not in self.subjects]
        elif movable and len(movable) == len(objs) and self.peek(j, "PREP", "SIDE") and not containers \
                and not self.owner_acts(j, owners, objs) and not (placed and not own_place and self.serves(owners)):
            self.main = self.main or list(self.subjects)
            both = self.shares_owners_support(i, j, owners, objs)   # "a laptop with a mouse and a phone on a desk"
            self.subjects = [o for o in owners if o not in objs] + objs if both else objs
            self.b.cur_subjects = list(self.subjects)
            self.prev_rel = None      # "in an area with trees behind them": the trees' place, not the area's
            if not self.passive:      # "a cat looking ahead with a tree behind it": the tree does not look
                self.verb = None
            if owners:
                self.b.pronoun_hint = owners[0]     # "a box with a cube in it": "it" is the box
        elif objs:
            self.last_obj = objs
            self.carried = list(objs)
        return j

    def negate_without_phrase(self, i: int) -> int:
        """WITHOUT NP (("and" | ",") NP)*: negated entities; "without a shadow" is the subject's."""
        b, j = self.b, i + 1
        while self.peek(j, "NP"):
            self.cs[j].value.negated = True
            oid = b.entity(self.cs[j].value)
            if oid and self.subjects and b.by_id[oid]["kind"] in _EFFECT_KINDS:
                b.by_id[oid]["physics"]["of"] = self.subjects[0]
            j += 1
            if self.peek(j, "CONJ", "COMMA") and self.peek(j + 1, "NP"):
                j += 1
        return j

    def fill_level(self, i: int) -> int:
        """FILL ["of" | "with" NP...]: "is half full of water" sets the fill and puts the water in."""
        b = self.b
        if self.aux or self.cs[i - 1].type in ("AUX", "NEG"):
            targets = self.subjects
        else:
            targets = self.subjects or [b.last]
        b.set_attr([x for x in targets if x], "physics", "fill", float(self.cs[i].value))
        j = i + 1
        if self.peek(j, "OF", "WITH") and self.peek(j + 1, "NP"):
            objs, j = self.group(j + 1)
            for o in objs:
                for s in targets:
                    b.edge(o, s, "spatial", "in")
        return j

    def predicate_adjective(self, i: int) -> int:
        """ADJ after "is": "the ball is red" sets the subjects' colour (material, pattern, size, state)."""
        if self.aux and self.subjects:
            found = _predicate_attribute(self.b.kb, self.cs[i].value)
            if found:
                self.b.set_attr(self.subjects, *found)
        return i + 1

    def verb_phrase(self, i: int) -> int:
        """VERB: an action on the objects that follow, a passive ("eaten by"), or containment."""
        c = self.cs[i]
        lemma, form, rel = c.value, c.form, third_person(c.value)
        parts = bool(self.last_obj) and bool(self.b.by_id[self.last_obj[0]]["physics"].get("part"))   # "its X and Y"
        if form in ("ing", "part") and self.follows_last_object(i) and not parts:
            self.subjects = list(self.last_obj)  # "a bird watching a snake eating a mouse"; "a vase with its
            #                                      round mouth held flowers": the vase holds them
        if lemma == "cast" and form == "ing" and self.cs[i - 1].type == "COMMA" and self.first:
            self.subjects = list(self.first)      # "clouds drifted across the sky, casting shadows": the clouds'
        j = i + 1
        if form in ("part", "past") and self.peek(j, "BY") and self.peek(j + 1, "NP"):
            if not self.place_after_by(j):
                return self.passive_agents(j + 1, rel)
            self.verb, self.passive = rel, False
            places, k = self.group(j + 1)
            self.relate("next_to", places)
            return k
        bears = self.bears_weight(lemma, j)
        if lemma in self.b.kb.containment_verbs and self.subjects and self.peek(j, "COMP", "NP") and not bears:
            return self.containment(j, lemma, rel)
        # "a vase is placed on the table": no object, the preposition that follows carries the place
        self.verb, self.passive = rel, form == "part"
        if bears and self.peek(j, "OTHER") and self.cs[j].value == "up" and self.peek(j + 1, "NP"):
            j += 1                   # "the table held up the books"
        if not self.peek(j, "NP"):
            return j
        objs, j = self.group(j)
        if bears:
            self.bear(objs)
            return j
        covers = lemma in self.b.kb.verb_lists.get("cover", ()) and form != "ing"
        own_parts = all(self.b.by_id[o]["physics"].get("part") for o in objs)   # "draped its branches over"
        if self.subjects and covers and self.cs[i + 1].value.det is not None and not own_parts:
            self.link(self.subjects, objs, "spatial", "on", verb=rel)   # "snow covered the lake": snow on it
            self.last_obj = objs
        elif covers and form == "part" and self.cs[i - 1].type == "NP" and self.cs[i + 1].value.det is None \
                and self.attributive_cover(i - 1):
            # "a snow covered slope", "a foil covered pan": the cover coats it (it hides it; no resting contact
            # named); "a grass covered field" is still a field
            self.link([self.b.entity(self.cs[i - 1].value)], objs, "spatial", "on", verb="coats")
            self.last_obj = objs
        elif self.subjects and lemma in self.b.kb.verb_lists.get("reflection", ()):
            self.link(objs, self.subjects, "spatial", "in", verb=rel)   # "a mirror reflecting a cat": the cat in it
            self.last_obj = objs
        elif self.subjects and lemma in self.b.kb.verb_lists.get("border", ()) and form != "ing":
            self.link(self.subjects, objs, "spatial", "next_to", verb=rel)   # "rocks surrounded the calm lake",
            self.last_obj = objs                                              # "trees line the river": beside it
        elif self.subjects and lemma == "fill" and self.fill_with_things(objs, rel):
            self.last_obj = objs
        elif self.containers() and lemma in self.b.kb.verb_lists.get("cook_in", ()) \
                and all(self.fills(o) for o in objs):
            self.link(objs, self.containers(), "spatial", "in")   # "the kettle and spoon boil the water": in it
            self.action(objs)
        elif self.subjects:
            self.action(objs)
            if lemma in self.b.kb.verb_lists.get("straddle", ()) and form != "part":   # "a boy riding a skateboard",
                # "a man riding a horse": on it (the older hand sets gave only the horse a contact)
                ridden = [o for o in objs if self.b.by_id[o]["kind"] == "agent"
                          or self.b.has(o, "board", "vehicle", "liquid")]    # "riding a horse", "riding a wave"
                self.link(self.subjects, ridden, "spatial", "on")
                self.last_obj = objs
        else:
            self.set_subjects(objs)
        return j

    def fill_with_things(self, objs: list[str], rel: str) -> bool:
        """"four toys and four shrimp filled the toy chest", "pigs and cups filled the table": the things are in
        a container or on anything else they fill; a figure filling a container acts on it."""
        by_id = self.b.by_id
        things = [s for s in self.subjects if by_id[s]["kind"] in ("object", "agent", "container")]
        if len(things) != len(self.subjects):
            return False
        for o in objs:
            inside = by_id[o]["kind"] == "container"
            if by_id[o]["kind"] == "region" and not self.b.has(o, "flat_region", "field", "ground"):
                return False          # "incense filled the room": the air of a place, no support
            placed = [s for s in things if not (inside and by_id[s]["kind"] == "agent" and by_id[o]["kind"] == "container")]
            if not placed:
                return False
            self.link(placed, [o], "spatial", "in" if inside else "on")
        return True

    def attributive_cover(self, k: int) -> bool:
        """The noun before "covered" in "a snow covered slope" is a cover of its own, not the ground itself
        (grass, moss: ground cover that is not a coating like snow)."""
        cover = self.b.entity(self.cs[k].value)
        return bool(cover) and (self.b.has(cover, "coating") or not self.b.has(cover, "ground_cover"))

    def liquid_inside(self, holder: str, pourable: bool = False) -> str:
        """What a liquid in ``holder`` stands for: "placed on the surface of a bucket filled with water" (the water's
        surface), "a glass of oil is poured into" (the oil); the holder itself when no liquid is in it."""
        liquids = [e["src"] for e in self.b.edges if e["dst"] == holder and e["relation"] == "in"
                   and (self.fills(e["src"]) if pourable else self.b.has(e["src"], "liquid"))]   # flour pours too
        return liquids[0] if liquids else holder

    def place_after_by(self, j: int) -> bool:
        """"frogs croaked by the pond", "pigs sat by the lake": "by" a place (water, a region, a surface) is beside
        it, not who did it."""
        name = self.cs[j + 1].value.name
        kind = self.b.kb.kind(name)
        return kind in ("region", "surface") or self.b.kb.has_trait(name, kind, "liquid")

    def passive_agents(self, j: int, rel: str) -> int:
        """NP... after "by": "a mouse eaten by a snake" -> snake eats mouse; "a table covered by a cloth": on it."""
        agents, j = self.group(j)
        place = next((r for name, r in _PASSIVE_PLACES.items() if rel in self.b.verb_forms(name)), None)
        if place:
            self.link(agents, self.subjects, "spatial", place, verb=rel)   # "a lake surrounded by trees": beside it
        else:
            self.link(agents, self.subjects, "action", rel)
        self.last_obj = agents
        return j

    def containment(self, j: int, lemma: str, rel: str) -> int:
        """"a jar holds sand" (the sand is in the jar), "a man holds a cup" (an action), "has more X than Y"."""
        if self.peek(j, "COMP"):
            return self.quantity_comparison(j)
        containers = self.containers()
        objs, j = self.group(j)
        if containers:
            self.link(objs, containers, "spatial", "in")
            self.last_obj = objs
        elif lemma != "have":
            self.verb = rel
            self.action(objs)
        else:
            self.last_obj = objs
            self.verb = rel
            if self.subjects and self.b.by_id[self.subjects[0]]["kind"] != "agent":
                self.b.pronoun_hint = self.subjects[0]    # "the desk has two monitors on it": "it" is the desk
        return j


#: Chunk type -> the step that reads it (any other type is skipped).
_STEPS = {
    "NP": _Sentence.noun_group, "COMP": _Sentence.quantity_comparison, "COMPADJ": _Sentence.adjective_comparison,
    "PREP": _Sentence.preposition, "SIDE": _Sentence.side, "AUX": _Sentence.auxiliary, "NEG": _Sentence.negation,
    "CONJ": _Sentence.clause_break, "COMMA": _Sentence.clause_break, "REL": _Sentence.relative_clause,
    "WITH": _Sentence.attach_with_phrase, "WITHOUT": _Sentence.negate_without_phrase, "FILL": _Sentence.fill_level,
    "ADJ": _Sentence.predicate_adjective, "VERB": _Sentence.verb_phrase, "LIGHT": _Sentence.light,
}


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
        b.pronoun_hint = None
        if s.subjects:
            b.prev_subjects, b.cur_subjects = list(s.subjects), []
        if b.full:
            break
    _fill_from_comparatives(b)
    _drop_redundant_lights(b)
    _vehicles_carry_riders(b)
    return b


def _vehicles_carry_riders(b: _Builder) -> None:
    """"the biker cruising down the road on a motorcycle", "a man riding on a surfboard on a wave": the motorcycle
    (the board), not the rider, is on the road (the water)."""
    rides = {}
    for e in b.edges:
        if e["kind"] == "spatial" and e["relation"] == "on" and not e["negated"] and e["dst"] in b.by_id \
                and b.has(e["dst"], "vehicle", "board"):
            rides.setdefault(e["src"], e["dst"])
    if not rides:
        return
    keep = []
    for e in b.edges:
        vehicle = rides.get(e["src"])
        ground = b.by_id.get(e["dst"])
        if vehicle and e["dst"] != vehicle and e["kind"] == "spatial" and e["relation"] in ("on", "in") \
                and not e["negated"] and ground is not None and ground["kind"] in ("surface", "region", "medium"):
            key = (vehicle, e["dst"], "spatial", e["relation"])
            if key not in b.edge_keys:
                b.edge_keys.add(key)
                keep.append({**e, "src": vehicle})
            continue
        keep.append(e)
    b.edges = keep


def _drop_redundant_lights(b: _Builder) -> None:
    """"at sunset with the sun on the left": the sun the prompt names is the light, no second one; and a
    time-of-day light with nothing to cast a shadow ("a sunny beach") adds nothing to the graph."""
    if not b.lights:
        return
    named_sun = any(n["name"] == "sun" and n["id"] not in b.lights.values() for n in b.nodes)
    casters = any(n["kind"] in _CASTER_KINDS and not n["negated"] for n in b.nodes)
    if casters and not named_sun:
        return
    drop = set(b.lights.values())
    b.nodes = [n for n in b.nodes if n["id"] not in drop]
    for nid in drop:
        b.by_id.pop(nid, None)


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
    g = g.replaced(constraints=cons)
    if implied:
        g = apply_rules(g, kb)
    if layout:
        from .layout import solve_layout
        g = solve_layout(g, seed=seed)
    return g
