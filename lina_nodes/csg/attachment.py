"""Where a phrase's things attach: the tests the sentence reader (``parser._Sentence``) consults when a place, a
"with" group, a participle or a verb could belong to more than one thing ("a dog playing with a toy on the carpet",
"a person with a cane sitting on a bench", "putting a book on a shelf", "a woman on a bucket on the side of a
street"). A mixin: it reads and writes the sentence's state (``b``, ``cs``, ``subjects``, ``last_obj``...)."""
from __future__ import annotations

from .chunker import IMPLIED_NAMES, POSSESSIVES
from .knowledge import third_person

_EFFECT_KINDS = frozenset(IMPLIED_NAMES.values())                # reflection, shadow...: owned, not placed
_SIDE_BY_SIDE = frozenset({"next_to", "left_of", "right_of", "close_to"})   # what shares a support
#: Verb list -> the relations (None: all) whose place belongs to the verb's object, not its subject.
_OBJECT_PLACES = {"mount": ("on", "in", "inside"), "emission": None, "marking": None,   # "painting a mural on a wall"
                  "examine": None,                                                 # "examined each item on the shelf"
                  "place_object": ("on", "onto", "into", "inside"),                # "putting a book on a shelf"
                  "possess": ("on", "in", "inside"),                               # "a woman has a cat on her lap"
                  "pour": ("on", "in", "inside", "onto", "into")}                  # "pouring wine into a glass"
_RIM_WORDS = frozenset(("rim", "edge", "lip", "side", "top", "handle", "bottom", "brim", "spout", "neck"))
_BORDER_WORDS = ("edge", "corner")


def _its_border(np) -> bool:
    """"its edge", "their corner": a possessive border word with no colour or count of its own."""
    return np.name in _BORDER_WORDS and np.det in ("its", "their") and not np.color and np.count in (None, 1)


class Attachment:
    """The attachment tests and moves of ``_Sentence`` (see the module docstring)."""

    def fills(self, oid: str) -> bool:
        """A liquid, a medium or food fills what holds it; solid things only rest in it."""
        node = self.b.by_id[oid]
        return self.b.kb.fills(node["name"], node["kind"])

    def agent_marks(self) -> bool:
        """"a woman writing on a notepad": a figure that writes or draws on something acts on it (a pen that
        writes on paper touches it)."""
        return self.verb in self.b.verb_forms("marking") and bool(self.subjects) \
            and all(self.b.by_id[s]["kind"] == "agent" for s in self.subjects)

    def coordinated_places(self, j: int) -> tuple[list[str], int]:
        """"the snowman stood on the icy lawn and the wet pavement.": after a verb, "and" NP closing the sentence
        is a second place of the same relation, not a new subject."""
        if not (self.verb and self.subjects and self.peek(j, "CONJ") and self.cs[j].value == "and"
                and self.peek(j + 1, "NP") and j + 2 >= len(self.cs)):
            return [], j
        obj, k = self.np_id(j + 1)
        return ([obj], k) if obj and obj not in self.subjects else ([], j)

    def placed_subjects(self, rel: str) -> list[str]:
        """The subjects a place applies to: "a bird and its reflection in a fountain" puts the reflection, not
        the bird, in the fountain (an effect named with its owner takes the owner's place)."""
        by_id = self.b.by_id
        owners = {by_id[s]["physics"].get("of") for s in self.subjects
                  if s in by_id and by_id[s]["kind"] in _EFFECT_KINDS}
        if rel not in ("in", "inside", "on") or not owners & set(self.subjects):
            return self.subjects
        return [s for s in self.subjects if s not in owners]

    def wears(self, rel: str, obj: str) -> bool:
        """"a frog in a leather jacket ... standing on a boulder": a garment after "in" is worn (an action edge);
        the wearer stays the subject and the last object, so what follows places the wearer, not the garment."""
        if rel != "in" or not self.subjects or not self.b.has(obj, "garment"):
            return False
        self.link(self.subjects, [obj], "action", "wears")
        self.last_obj = list(self.subjects)
        self.worn = True      # "a girl in a dress and shirt": the next garment after "and" is worn too
        return True

    def on_own_body(self, j: int, rel: str, obj: str) -> bool:
        """"a man with a hat on his head": a garment on one's own body (a part named with a possessive) is worn,
        not placed."""
        np, has = self.cs[j - 1].value, self.b.has
        if rel == "on" and np.det in ("his", "her", "their") and has(obj, "device"):
            return True          # "a lady on her phone": using it
        return rel in ("on", "in") and np.det in ("his", "her", "its", "their") \
            and has(obj, "part") and bool(self.subjects) \
            and (all(has(s, "garment") for s in self.subjects)
                 or (self.verb is not None and self.verb in self.b.verb_forms("held")))   # "wearing a hat on its head"

    def owner_of_its_edge(self, j: int) -> str | None:
        """For "its edge" / "its corner" (a possessive, no colour or count of its own): the entity "its" names,
        the owner of the "with" group being read (else the previous subject); None otherwise."""
        np = self.cs[j].value
        if not _its_border(np):
            return None
        owners = [o for o in (self.main or self.b.prev_subjects or []) if o not in self.subjects]
        if not owners:     # "a mirror with a cone standing at its edge": the latest other entity named
            owners = [n["id"] for n in reversed(self.b.nodes) if n["id"] not in self.subjects and n["explicit"]
                      and not n["negated"] and n["kind"] in ("surface", "region", "container", "object")]
        return owners[0] if owners else None

    def shares_the_support(self, i: int, rel: str, prev_rel: str | None, prev_objs: list[str]) -> bool:
        """SUBJ beside / left of / right of NP on Z: Z supports the subject and the NP alike."""
        return rel == "on" and prev_rel in _SIDE_BY_SIDE and i > 0 and self.cs[i - 1].type == "NP" \
            and bool(prev_objs) and bool(self.subjects) and not set(prev_objs) & set(self.subjects) \
            and all(self.b.by_id[o]["kind"] in ("object", "agent", "container") for o in prev_objs)

    def places_the_mount(self, i: int, prev_objs: list[str]) -> bool:
        """VERB NP PREP: the place is the object's when the verb says so (_OBJECT_PLACES): "a man riding a
        camel on the beach", "a candle lights a cube on a table"; what a figure makes is on the object it makes
        it on ("a spider spinning a web on a window"), while the figure stays where it works ("knitting a sweater
        on the porch"). A part stays its owner's ("putting their hands on a basketball")."""
        if not (self.verb and i > 1 and prev_objs and self.cs[i - 1].type == "NP" and self.cs[i - 2].type == "VERB"):
            return False
        kb = self.b.kb
        if self.verb in self.b.verb_forms("pour"):
            return self.cs[i].value in _OBJECT_PLACES["pour"]     # "pouring wine into a glass": the wine is in it
        if any(self.b.has(o, "part") for o in prev_objs) or (
                self.verb not in self.b.verb_forms("place_object") and any(self.b.has(o, "liquid") for o in prev_objs)):
            return False          # a part stays its owner's; "riding a wave on a surfboard": the rider is on it
            #                       ("putting ketchup on food": the ketchup is)
        if self.verb in self.b.verb_forms("make_object") and self.cs[i].value == "on" and self.peek(i + 1, "NP"):
            place = self.cs[i + 1].value
            return kb.kind(place.name) in ("object", "container")
        return any(self.verb in self.b.verb_forms(name) and (rels is None or self.cs[i].value in rels)
                   for name, rels in _OBJECT_PLACES.items())

    def places_what_is_in(self, i: int, rel: str, prev_rel: str | None, prev_objs: list[str],
                          prev_place: str | None = None) -> bool:
        """"a coin in a jar on the table", "a cube at the edge of a mirror on the floor": the place after "in X" or
        "at the edge of X" is X's place, not the coin's / the cube's."""
        kinds = ("container", "object") + (("surface",) if prev_place == "edge" else ())
        return ((prev_rel in ("in", "inside") or prev_place == "edge") and i > 0 and self.cs[i - 1].type == "NP"
                and bool(prev_objs) and rel not in ("in", "inside") and self.b.by_id[prev_objs[0]]["kind"] in kinds)

    def places_what_is_on(self, i: int, rel: str, prev_rel: str | None, prev_objs: list[str],
                          prev_place: str | None, obj: str) -> bool:
        """"a woman sitting on a bucket on the side of a street", "a goat on a rock on a hill": the second "on"
        places the support (a thing, or furniture), not the subject."""
        if not (rel == "on" and prev_rel == "on" and prev_place is None and i > 0 and self.cs[i - 1].type == "NP"
                and prev_objs and not set(prev_objs) & set(self.subjects)):
            return False
        by_id = self.b.by_id
        support = by_id[prev_objs[0]]
        ground = by_id[obj]["kind"] in ("surface", "region")
        movable = support["kind"] in ("object", "container") or self.b.has(prev_objs[0], "furniture") \
            or (support["kind"] == "agent" and ground)           # "a man on a horse on the beach"
        return movable and (ground or by_id[obj]["kind"] in ("object", "container")) \
            and not self.b.has(prev_objs[0], "vehicle")

    def topped(self, i: int, owners: list[str], objs: list[str]) -> bool:
        """"a BBQ topped with sausages", "a pan topped with pizza", "a table covered with dishes": what the
        participle spreads is on the owner, who keeps its own place."""
        prev = self.cs[i - 1] if i > 0 else None
        if not (prev is not None and prev.type == "VERB" and prev.form in ("part", "past") and owners and objs
                and prev.value in self.b.kb.verb_lists.get("top_with", ())):
            return False
        by_id = self.b.by_id
        for o in objs:
            if by_id[o]["kind"] not in _EFFECT_KINDS and not by_id[o]["negated"]:
                for s in owners:
                    self.b.edge(o, s, "spatial", "on", verb=third_person(prev.value))
        self.last_obj = list(owners)
        return True

    def serves(self, owners: list[str]) -> bool:
        """An owner is a serving holder ("a plate with toast and eggs next to some coffee": the plate is there)."""
        return any(self.b.has(o, "serving") for o in owners)

    def each_other(self, j: int) -> bool:
        """"on top of each other", "next to each other": the subjects relate among themselves."""
        return self.peek(j, "OTHER") and self.peek(j + 1, "OTHER") and self.cs[j].value in ("each", "one") \
            and self.cs[j + 1].value in ("other", "another") and bool(self.subjects)

    def plural_pronoun(self, j: int) -> bool:
        """The NP at j is "they", "them" or "these objects" (a plural naming the things just named)."""
        np = self.cs[j].value
        word = self.b.prompt[np.start:np.end].lower().split()
        return np.pronoun and bool(word) and word[0] in ("they", "them", "these", "those", "both")

    def worn_on(self, thing: str, figure: str) -> bool:
        """"hat on person", "shoes on person": a garment on a figure is worn (no contact)."""
        return self.b.has(thing, "garment") and not self.b.has(thing, "holds_things") \
            and self.b.by_id[figure]["kind"] == "agent"        # "a backpack on the top of a chicken" is placed

    def ground_under(self, ground: str, thing: str) -> bool:
        """"street under bus", "road under wheel": the ground under a thing bears it (not a table under a window,
        nor grass under the sky)."""
        g, t = self.b.by_id[ground], self.b.by_id[thing]
        return (g["name"] in ("ground", "floor") or self.b.has(ground, "road", "ground", "field", "low_cover")) \
            and (t["kind"] in ("object", "agent", "container") or self.b.has(thing, "furniture")) \
            and not self.b.has(thing, "weather_body", "sky_light")

    def outside(self, j: int) -> bool:
        """"a bottle with a ribbon wrapped around it", "a chest with a sword propped up against it": a participle
        that places the with-thing anywhere but in the holder."""
        if not (self.peek(j, "VERB") and self.cs[j].form in ("part", "past")):
            return False
        k = j + 1 + (self.peek(j + 1, "OTHER") and self.cs[j + 1].value == "up")
        return not (self.peek(k, "PREP") and self.cs[k].value in ("in", "inside", "into"))

    def shares_owners_support(self, i: int, j: int, owners: list[str], objs: list[str]) -> bool:
        """"a laptop with a keyboard and a mouse on a desk", "a man with a dog on the beach": things with their
        things, or figures with animals, on a desk, a table, the floor or the beach all rest there (not "a man
        with a dog on a leash", "a box with a cube in it", "violins with their bows on the ground", nor "a stall
        with hay on the floor")."""
        if not (owners and self.peek(j, "PREP") and self.cs[j].value == "on" and self.peek(j + 1, "NP")
                and self.peek(i + 1, "NP") and self.cs[i + 1].value.det not in POSSESSIVES):
            return False
        place, kb, has, by_id = self.cs[j + 1].value, self.b.kb, self.b.has, self.b.by_id
        kind = kb.kind(place.name)
        ground = kind == "surface" or any(kb.has_trait(place.name, kind, t) for t in ("furniture", "seat")) \
            or (kind == "region" and any(kb.has_trait(place.name, kind, t) for t in ("flat_region", "field")))
        things = all(by_id[o]["kind"] in ("object", "container") and not has(o, "field", "ground", "landform")
                     for o in owners) and (kind == "surface" or kb.has_trait(place.name, kind, "furniture"))
        figures = all(by_id[o]["kind"] == "agent" for o in owners + objs)
        return not place.pronoun and ground and (things or figures)

    def carries(self, owners: list[str], objs: list[str]) -> bool:
        """"people with bats on a field", "a woman with a phone on a bench": what a figure holds is in its hands;
        the place is the figure's."""
        return bool(owners and objs) and all(self.b.by_id[o]["kind"] == "agent" for o in owners) \
            and all(self.b.has(o, "handheld") for o in objs)

    def owner_acts(self, j: int, owners: list[str], objs: list[str]) -> bool:
        """"a person with a cane and a roller bag sitting on a bench": a figure's things, then a verb of posture or
        motion and its place: the figure is there (a dog "with a man" would be ambiguous: not read so)."""
        by_id = self.b.by_id
        first = self.b.prompt[self.cs[j].start:self.cs[j].end].split()[:1]
        form = self.b.kb.verb_forms.get(first[0].lower()) if first else None
        return bool(form) and form[1] == "ing" and form[0] in self.b.kb.verb_lists.get("owner_moves", ()) \
            and bool(owners) \
            and all(by_id[o]["kind"] == "agent" for o in owners) and not any(by_id[o]["kind"] == "agent" for o in objs)

    def into_water(self, j: int) -> bool:
        """PREP NP at j names a body of water ("playing with a toy boat in a pond": the boat is in it)."""
        if not (self.peek(j, "PREP") and self.peek(j + 1, "NP")):
            return False
        np = self.cs[j + 1].value
        return self.b.kb.has_trait(np.name, self.b.kb.kind(np.name), "liquid")

    def serve_on(self, owners: list[str], objs: list[str], placed: bool) -> None:
        """"a plate with rice", "a tray with cups": what a serving holder (plate, tray...) has fills it; what a
        piece of furniture has ("a table with beer bottles and chips") is on it; chairs and people are not."""
        by_id, has = self.b.by_id, self.b.has
        servers = [s for s in owners if by_id[s]["kind"] != "container" and has(s, "serving", "furniture", "seat")
                   and not has(s, "bedding")]
        if placed or not servers:
            return
        for o in objs:
            node = by_id[o]
            if node["kind"] in _EFFECT_KINDS or node["negated"] or node["kind"] in ("agent", "region", "surface") \
                    or has(o, "part", "furniture") or (has(o, "seat") and not has(o, "bedding")):   # "a couch with pillows"
                continue
            if has(o, "handheld") and any(by_id[x]["kind"] == "agent" for x in self.subjects):
                continue                    # "a woman is sitting in a chair with an umbrella": in her hand
            for s in servers:               # "a plate with rice" fills it; "a plate with a fork" rests on it
                self.b.edge(o, s, "spatial", "in" if self.b.served_in(s, o) else "on")

    def with_owners(self, i: int) -> list[str]:
        """Whose "with" phrase this is: the object just named after a place ("next to a plate with toast"),
        else the subjects."""
        if i > 1 and self.cs[i - 1].type == "NP" and self.cs[i - 2].type == "PREP" and self.last_obj \
                and self.b.entity(self.cs[i - 1].value) in self.last_obj:
            node = self.b.by_id[self.last_obj[0]]
            if node["kind"] in ("object", "container") or (   # "sitting around a poker table with chips"
                    self.cs[i - 2].value not in ("in", "inside")
                    and self.b.has(self.last_obj[0], "furniture")):
                return list(self.last_obj)
        if i > 0 and self.cs[i - 1].type == "NP" and self.carried:
            last = self.b.entity(self.cs[i - 1].value)   # "a plate with a hotdog and two glasses with beverages"
            if last in self.carried and self.b.by_id[last]["kind"] == "container":
                return [last]
        return list(self.subjects)

    def attach_to_subjects(self, oid: str, containers: list[str], owners: list[str] | None = None) -> None:
        """An effect ("with its shadow") gets the first subject as owner; a thing goes into the containers."""
        node = self.b.by_id[oid]
        if node["kind"] in _EFFECT_KINDS and self.subjects and "of" not in node["physics"]:
            node["physics"]["of"] = self.subjects[0]
        elif containers and node["kind"] != "container":
            for c in containers:
                self.b.edge(oid, c, "spatial", "in")

    def bears_weight(self, lemma: str, j: int) -> bool:
        """A seat or a piece of furniture that holds up, cradles or welcomes what follows ("the sturdy table held
        up the books", "the armchair embraced the tired body and the hard floor")."""
        up = self.peek(j, "OTHER") and self.cs[j].value == "up"
        return self.peek(j + up, "NP") and lemma in self.b.kb.verb_lists.get("bear_weight", ()) and bool(self.subjects) \
            and all(self.b.has(s, "seat", "furniture") for s in self.subjects)

    def bear(self, objs: list[str]) -> None:
        """What a seat or furniture bears rests on it; the floor or ground named with it bears the seat."""
        for o in objs:
            ground = (self.b.by_id[o]["kind"] in ("surface", "region") and not self.b.has(o, "furniture")) \
                or self.b.has(o, "seat")      # "the pillow cradled the head and the mattress"
            if ground:
                self.link(self.subjects, [o], "spatial", "on", verb=self.verb)
            else:
                self.link([o], self.subjects, "spatial", "on", verb=self.verb)
        self.last_obj = objs

    def follows_last_object(self, i: int) -> bool:
        """The chunk before i is the noun phrase just read as an object (a reduced relative follows); not a
        place the subject was just put ("sits on the curb writing on a notepad": the woman writes)."""
        if not (i > 0 and self.cs[i - 1].type == "NP" and bool(self.last_obj)
                and self.b.entity(self.cs[i - 1].value) in self.last_obj):
            return False
        by_id = self.b.by_id
        kb = self.b.kb
        if self.verb in self.b.verb_forms("held") and self.cs[i].form == "ing" and self.subjects \
                and not any(by_id[o]["kind"] == "agent" for o in self.last_obj):
            return False         # "a man holding a frisbee walking on a field": the man walks
        if self.carried == self.last_obj and self.subjects and self.cs[i].form == "ing" \
                and self.cs[i].value in kb.verb_lists.get("owner_moves", ()) \
                and not any(by_id[o]["kind"] == "agent" for o in self.last_obj) \
                and all(by_id[s]["kind"] == "agent" or self.b.has(s, "seat", "furniture") for s in self.subjects):
            return False         # "a person with a cane sitting on a bench", "a couch with pillows sitting in a room"
        placed = i > 1 and self.cs[i - 2].type == "PREP" and self.subjects and self.cs[i].form == "ing"
        if placed and self.cs[i].value in kb.verb_lists.get("in_hand", ()) \
                and all(by_id[s]["kind"] == "agent" for s in self.subjects) \
                and not any(by_id[o]["kind"] == "agent" for o in self.last_obj):
            return False         # "a man sitting at a bench holding an umbrella": the man holds it
        return not (placed and all(by_id[o]["kind"] in ("surface", "region", "medium") for o in self.last_obj))
