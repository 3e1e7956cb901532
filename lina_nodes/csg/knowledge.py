"""Load the editable physics knowledge file (lexicon, entity kinds, traits, rules) into fast tables.

The bundled file is ``knowledge/physics.json``; users pass their own path to override it. Nothing
here is code a user must touch to add a word or a rule.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import CSGError

DEFAULT_PATH = Path(__file__).resolve().parent / "knowledge" / "physics.json"
MAX_KNOWLEDGE_BYTES = 5_000_000
MAX_ID_TEMPLATE = 64      # implied node ids are built from these templates: keep them short
RULE_KEYS = {"id", "description", "match", "add", "edges", "constraints", "unless_scene_has_negated",
             "set_a_physics"}


@dataclass
class Knowledge:
    path: str
    sha256: str
    colors: frozenset
    materials: frozenset
    patterns: frozenset
    sizes: dict                 # word -> small/medium/large
    states: frozenset
    descriptors: frozenset
    numbers: dict               # word -> int
    determiners: frozenset
    fill_words: dict
    fill_modifiers: dict
    compounds: dict             # first word -> list of compound word tuples (longest first)
    singulars: frozenset
    irregular_plurals: dict
    mass_nouns: frozenset
    empty_words: frozenset
    pronouns: frozenset
    spatial: dict               # first word -> list of (phrase tuple, relation), longest first
    sides: dict                 # first word -> list of (phrase tuple, side), longest first
    verb_forms: dict            # surface form -> (lemma, form) form in base/s/past/part/ing
    motion_verbs: frozenset
    impact_verbs: frozenset
    containment_verbs: frozenset
    emission_verbs: frozenset
    time_words: frozenset
    comparative_adjectives: dict
    kind_of: dict               # name -> node kind
    traits: dict                # trait -> frozenset of names ("@kind" expanded at lookup)
    trait_kinds: dict           # trait -> frozenset of kinds
    rules: list = field(default_factory=list)
    finishes: frozenset = frozenset()        # glossy, polished...: attributes (texture.finish), never objects
    collective_nouns: frozenset = frozenset()  # "a flock of geese": the entity is the geese
    adverb_nouns: frozenset = frozenset()    # nouns ending in -ly ("family"): not adverbs
    ing_nouns: frozenset = frozenset()       # nouns ending in -ing ("building"): not participles
    light_words: dict = field(default_factory=dict)   # "sunset", "sunny" -> the light node they imply
    time_nouns: frozenset = frozenset()      # "a sunny day": the day is a time, the sun the light
    verb_lists: dict = field(default_factory=dict)    # name -> frozenset of lemmas (impact, held, mount...)
    color_nouns: frozenset = frozenset()     # "an orange next to a banana": a colour word that is the noun
    verb_particles: dict = field(default_factory=dict)   # verb list -> {word: relation}: "glided across" the lake -> on
    abstract_suffixes: tuple = ()            # an unknown noun ending so ("opulence", "tranquility") is abstract
    concrete_nouns: frozenset = frozenset()  # ... unless listed here ("fence", "station", "television")
    calm_words: frozenset = frozenset()      # "a calm sea", "the still water": water that mirrors, waves or not
    rough_words: frozenset = frozenset()     # "rough waters", "a choppy lake": water that does not mirror
    style_tags: dict = field(default_factory=dict)   # "trending on artstation", "8k": prompt tags, no things
    trait_words: frozenset = frozenset()     # names a trait lists ("coat" is a garment): a thing; not "abstract"

    def kind(self, name: str) -> str:
        k = self.kind_of.get(name)
        if k is None and " " in name:
            k = self.kind_of.get(name.rsplit(" ", 1)[1])
        return k or "object"

    def has_trait(self, name: str, kind: str, trait: str, material: str | None = None) -> bool:
        names = self.traits.get(trait)
        if names is None:
            return False
        if name in names or kind in self.trait_kinds.get(trait, ()):
            return True
        if " " in name and name.rsplit(" ", 1)[1] in names and name not in self.kind_of:
            return True           # "a desk lamp" is a lamp; "a traffic light", listed as an object, is no light
        if trait == "abstract" and self.abstract_suffixes:
            last = name.rsplit(" ", 1)[-1]
            known = (name in self.kind_of or last in self.kind_of or name in self.concrete_nouns
                     or last in self.concrete_nouns)
            if last.endswith(self.abstract_suffixes) and not known:
                return True       # "the grandeur and opulence": no shadow, no contact for an idea
        if trait == "reflective" and material and kind == "surface" \
                and material in self.traits.get("reflective_materials", ()):
            return True
        return False

    def fills(self, name: str, kind: str) -> bool:
        """A liquid, a medium or food fills what holds it (a fill level); solid things only rest in it."""
        return kind == "medium" or self.has_trait(name, kind, "liquid") or self.has_trait(name, kind, "food")

    def finish_reflects(self, kind: str, finishes, kinds=("surface", "region")) -> bool:
        """A surface or region (``kinds``) with a reflective finish or state (glossy, polished, wet) mirrors what is
        on it."""
        if kind not in kinds:
            return False
        names = self.traits.get("reflective_finishes", ())
        return any(f in names for f in finishes if f)


def _phrase_table(mapping: dict) -> dict:
    table: dict[str, list] = {}
    for phrase, value in mapping.items():
        words = tuple(phrase.split())
        table.setdefault(words[0], []).append((words, value))
    for entries in table.values():
        entries.sort(key=lambda e: -len(e[0]))
    return table


def _inflect(lemma: str) -> tuple[str, str, str]:
    """(3rd person singular, past, -ing) of a regular English verb."""
    if lemma.endswith(("s", "sh", "ch", "x", "z", "o")):
        s = lemma + "es"
    elif lemma.endswith("y") and len(lemma) > 2 and lemma[-2] not in "aeiou":
        s = lemma[:-1] + "ies"
    else:
        s = lemma + "s"
    if lemma.endswith("e"):
        past, ing = lemma + "d", (lemma[:-1] + "ing" if not lemma.endswith(("ee", "ye", "oe")) else lemma + "ing")
    elif lemma.endswith("y") and len(lemma) > 2 and lemma[-2] not in "aeiou":
        past, ing = lemma[:-1] + "ied", lemma + "ing"
    elif (len(lemma) >= 3 and lemma[-1] in "bdgmnprt" and lemma[-2] in "aeiou" and lemma[-3] not in "aeiou"
          and not lemma.endswith(("en", "er", "on", "ow")) and len(lemma) <= 4):
        past, ing = lemma + lemma[-1] + "ed", lemma + lemma[-1] + "ing"
    else:
        past, ing = lemma + "ed", lemma + "ing"
    if lemma == "lie":
        ing = "lying"
    return s, past, ing


def third_person(lemma: str) -> str:
    return _inflect(lemma)[0]


def _verb_table(verbs: dict) -> dict:
    forms: dict[str, tuple[str, str]] = {}
    irregular = verbs.get("irregular", {})
    lemmas = list(dict.fromkeys(list(verbs.get("regular", [])) + list(irregular)))
    for lemma in lemmas:
        s, past, ing = _inflect(lemma)
        part = past
        if lemma in irregular:
            past, part = irregular[lemma][0], irregular[lemma][1]
        for form, tag in ((s, "s"), (ing, "ing"), (lemma, "base")):
            forms.setdefault(form, (lemma, tag))
        forms.setdefault(part, (lemma, "part"))
        forms.setdefault(past, (lemma, "past"))
    return forms


def _require(d: dict, key: str, typ, where: str):
    if key not in d:
        raise CSGError("is required but missing.", field=f"{where}.{key}",
                       fix="start from the bundled lina_nodes/csg/knowledge/physics.json.")
    if not isinstance(d[key], typ):
        raise CSGError(f"expected {typ.__name__ if isinstance(typ, type) else 'a list/dict'}, got {type(d[key]).__name__}.",
                       field=f"{where}.{key}")
    return d[key]


def _check_rules(rules: list) -> None:
    for i, r in enumerate(rules):
        where = f"knowledge.rules[{i}]"
        if not isinstance(r, dict):
            raise CSGError("expected an object.", field=where)
        for key in ("id", "match", "add"):
            _require(r, key, (str, dict), where)
        unknown = set(r) - RULE_KEYS
        if unknown:
            raise CSGError(f"unknown key(s) {sorted(unknown)}; expected some of {sorted(RULE_KEYS)}.", field=where)
        add = r["add"]
        if not isinstance(add, dict) or not isinstance(add.get("kind"), str) or not isinstance(add.get("id"), str):
            raise CSGError("expected an object with string 'kind' and 'id'.", field=f"{where}.add")
        if not 0 < len(add["id"]) <= MAX_ID_TEMPLATE:
            raise CSGError(f"expected an id template of 1 to {MAX_ID_TEMPLATE} characters, got {len(add['id'])}.",
                           field=f"{where}.add.id")
        from .model import NODE_KINDS, CONSTRAINT_KINDS
        if add["kind"] not in NODE_KINDS:
            raise CSGError(f"expected one of {', '.join(NODE_KINDS)}, got {add['kind']!r}.", field=f"{where}.add.kind")
        for j, c in enumerate(r.get("constraints", [])):
            if not isinstance(c, dict) or (c.get("kind") not in CONSTRAINT_KINDS and c.get("kind") != "fill_level"):
                raise CSGError(f"expected a constraint with kind in {', '.join(CONSTRAINT_KINDS)}.",
                               field=f"{where}.constraints[{j}].kind")
        for j, e in enumerate(r.get("edges", [])):
            if not isinstance(e, dict) or not all(isinstance(e.get(k), str) for k in ("src", "dst", "kind", "relation")):
                raise CSGError("expected an object with string src, dst, kind, relation.", field=f"{where}.edges[{j}]")


#: Traits the rule engine computes rather than reads from the ``traits`` table
COMPUTED_TRAITS = frozenset({"glossy_top"})


def _check_rule_traits(rules: list, traits: dict) -> None:
    """Every trait a rule's filters name is in the ``traits`` table: a misspelt trait would match nothing, silently."""
    for i, r in enumerate(rules):
        for role in ("a", "b"):
            f = r["match"].get(role, {}) if isinstance(r["match"], dict) else {}
            for key in ("trait", "trait_not", "contains_trait", "inside_trait", "inside_trait_not"):
                want = f.get(key) if isinstance(f, dict) else None
                for t in [want] if isinstance(want, str) else (want or []):
                    if t not in traits and t not in COMPUTED_TRAITS:
                        raise CSGError(f"rule {r.get('id')!r} names the trait {t!r}, which the traits table lacks.",
                                       field=f"knowledge.rules[{i}].match.{role}.{key}",
                                       fix=f"add \"{t}\": [words...] to traits, or fix the spelling.")


#: Lexicon entries the parser reads and the JSON type each must have (word lists and mappings).
LEXICON_TYPES = {**dict.fromkeys(("colors", "materials", "patterns", "states", "descriptors", "determiners",
                                  "compound_nouns", "singulars", "mass_nouns", "empty_words", "time_words", "finishes",
                                  "collective_nouns", "adverb_nouns", "ing_nouns", "time_nouns", "color_nouns",
                                  "abstract_suffixes", "concrete_nouns", "calm_words", "rough_words", "style_tags"), list),
                 **dict.fromkeys(("sizes", "number_words", "fill_words", "fill_modifiers", "irregular_plurals",
                                  "pronouns", "spatial_phrases", "side_phrases", "verbs", "comparative_adjectives",
                                  "light_words", "verb_particles"), dict)}


def _check_lexicon(lex: dict) -> None:
    """Types of the lexicon entries, and the relations phrases map to (``spatial_phrases``, ``verb_particles``)."""
    from .model import SPATIAL_RELATIONS

    for key, typ in LEXICON_TYPES.items():
        if key in lex and not isinstance(lex[key], typ):
            raise CSGError(f"expected a JSON {'list' if typ is list else 'object'}, got {type(lex[key]).__name__}.",
                           field=f"knowledge.lexicon.{key}", fix="see the bundled physics.json for its shape.")
    relations = set(SPATIAL_RELATIONS) | {"filled_with"}
    tables = [("spatial_phrases", lex.get("spatial_phrases", {}))]
    for name, table in lex.get("verb_particles", {}).items():
        if not isinstance(table, dict):
            raise CSGError("expected an object {word: relation}.", field=f"knowledge.lexicon.verb_particles.{name}")
        tables.append((f"verb_particles.{name}", table))
    for where, table in tables:
        for phrase, rel in table.items():
            if rel not in relations:
                raise CSGError(f"{phrase!r} maps to {str(rel)[:40]!r}; expected one of {', '.join(sorted(relations))}.",
                               field=f"knowledge.lexicon.{where}")


def build(data: dict, path: str, sha: str) -> Knowledge:
    if not isinstance(data, dict):
        raise CSGError("expected a JSON object at the top level.", field="knowledge")
    lex = _require(data, "lexicon", dict, "knowledge")
    ents = _require(data, "entities", dict, "knowledge")
    traits_raw = _require(data, "traits", dict, "knowledge")
    rules = _require(data, "rules", list, "knowledge")
    _check_lexicon(lex)
    _check_rules(rules)
    _check_rule_traits(rules, traits_raw)
    kind_of: dict[str, str] = {}
    # later kinds win for names listed twice, in this order of precedence (lowest first)
    for kind in ("region", "surface", "medium", "container", "light", "agent"):
        for name in ents.get(kind, []):
            kind_of[name] = kind
    for kind in ents:
        if kind not in ("region", "surface", "medium", "container", "light", "agent"):
            for name in ents[kind]:
                kind_of.setdefault(name, kind)
    traits: dict[str, frozenset] = {}
    trait_kinds: dict[str, frozenset] = {}
    for trait, names in traits_raw.items():
        plain, kinds = set(), set()
        for n in names:
            if n.startswith("@"):
                kinds.add(n[1:])
                plain.update(ents.get(n[1:], []))
            else:
                plain.add(n)
        traits[trait] = frozenset(plain)
        trait_kinds[trait] = frozenset(kinds)
    sizes = {}
    for size, words in lex.get("sizes", {}).items():
        for w in words:
            sizes[w] = size
    verbs = lex.get("verbs", {})
    return Knowledge(
        path=path, sha256=sha,
        colors=frozenset(lex.get("colors", [])), materials=frozenset(lex.get("materials", [])),
        patterns=frozenset(lex.get("patterns", [])), sizes=sizes, states=frozenset(lex.get("states", [])),
        descriptors=frozenset(lex.get("descriptors", [])), numbers=dict(lex.get("number_words", {})),
        determiners=frozenset(lex.get("determiners", [])), fill_words=dict(lex.get("fill_words", {})),
        fill_modifiers=dict(lex.get("fill_modifiers", {})),
        compounds=_phrase_table({c: c for c in lex.get("compound_nouns", [])}),
        singulars=frozenset(lex.get("singulars", [])), irregular_plurals=dict(lex.get("irregular_plurals", {})),
        mass_nouns=frozenset(lex.get("mass_nouns", [])), empty_words=frozenset(lex.get("empty_words", [])),
        pronouns=frozenset(lex.get("pronouns", {})), spatial=_phrase_table(lex.get("spatial_phrases", {})),
        sides=_phrase_table(lex.get("side_phrases", {})), verb_forms=_verb_table(verbs),
        motion_verbs=frozenset(verbs.get("motion", [])), impact_verbs=frozenset(verbs.get("impact", [])),
        containment_verbs=frozenset(verbs.get("containment", [])),
        emission_verbs=frozenset(verbs.get("emission", [])), time_words=frozenset(lex.get("time_words", [])),
        comparative_adjectives=dict(lex.get("comparative_adjectives", {})),
        kind_of=kind_of, traits=traits, trait_kinds=trait_kinds, rules=list(rules),
        finishes=frozenset(lex.get("finishes", [])), collective_nouns=frozenset(lex.get("collective_nouns", [])),
        adverb_nouns=frozenset(lex.get("adverb_nouns", [])), ing_nouns=frozenset(lex.get("ing_nouns", [])),
        light_words=dict(lex.get("light_words", {})), time_nouns=frozenset(lex.get("time_nouns", [])),
        color_nouns=frozenset(lex.get("color_nouns", [])),
        abstract_suffixes=tuple(lex.get("abstract_suffixes", [])), concrete_nouns=frozenset(lex.get("concrete_nouns", [])),
        calm_words=frozenset(lex.get("calm_words", [])), rough_words=frozenset(lex.get("rough_words", [])),
        style_tags=_phrase_table({t: t for t in lex.get("style_tags", [])}),
        trait_words=frozenset(w for t, names in traits.items() if t != "abstract" for w in names if " " not in w),
        verb_particles={k: dict(v) for k, v in lex.get("verb_particles", {}).items()},
        verb_lists={k: frozenset(v) for k, v in verbs.items() if k not in ("regular", "irregular") and isinstance(v, list)},
    )


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int) -> Knowledge:
    if Path(path).stat().st_size > MAX_KNOWLEDGE_BYTES:
        raise CSGError(f"the knowledge file is larger than {MAX_KNOWLEDGE_BYTES // 1_000_000} MB.", field="knowledge")
    raw = Path(path).read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CSGError(f"the knowledge file {path} is not valid JSON ({str(e)[:200]}).", field="knowledge",
                       fix="check the file with a JSON linter, or start from the bundled physics.json.") from None
    return build(data, path, sha)


def load_knowledge(path: str | Path | None = None) -> Knowledge:
    """Load (and cache, keyed by path and modification time) a physics knowledge file."""
    p = Path(path) if path else DEFAULT_PATH
    if not p.is_file():
        raise CSGError(f"knowledge file {str(p)!r} does not exist.", field="knowledge",
                       fix="pass the path of a JSON file like lina_nodes/csg/knowledge/physics.json, or leave it empty.")
    return _load_cached(str(p.resolve()), p.stat().st_mtime_ns)
