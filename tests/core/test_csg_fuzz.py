"""Fuzzing, two properties.

1. Hostile or random input (unicode, word salad, huge prompts, random JSON) either parses to a graph
   that validates or raises ``CSGError``, never anything else.
2. Ordinary English, built from a small grammar over the knowledge file's words, never raises at all
   (not even ``CSGError``) and always gives a graph that validates.

12,000 generated inputs in all (counts below), no timing asserts."""
from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lina_nodes.csg import CSG
from lina_nodes.csg.chunker import SCENE_WORDS
from lina_nodes.csg.knowledge import load_knowledge
from lina_nodes.csg.parser import MAX_PROMPT_CHARS, parse
from lina_nodes.csg.validate import errors_of
from lina_nodes.errors import CSGError

SCALE = float(os.environ.get("LINA_FUZZ_SCALE", "1"))
N_TEXT, N_WORDS, N_HOSTILE, N_JSON, N_ENGLISH = (int(k * SCALE) for k in (3000, 5000, 500, 2000, 1500))

# ---- property 1: hostile or random input parses or raises CSGError ---------------------------
WORDS = ["a", "an", "the", "two", "3", "no", "not", "is", "are", "by", "and", "or", ",", ".", ";", "of", "with",
         "without", "than", "more", "less", "half", "full", "empty", "between", "in", "on", "under", "above",
         "left", "right", "of", "in front of", "behind", "next to", "near", "far from", "close to", "inside",
         "red", "blue", "wooden", "small", "big", "ball", "balls", "cube", "mirror", "lamp", "sun", "jar", "glass",
         "water", "dirt", "space", "cat", "dog", "snake", "bird", "eats", "eaten", "chasing", "falls", "into",
         "lake", "its", "reflection", "shadow", "it", "them", "that", "which", "there", "bigger", "zorblax", "🐍",
         "{", "}", "\"nodes\":", "[", "]", "\x00", "\u202e", "\t", "\n", "ı", "ß", "Σ", "٣", "％", "75%", "-", "'s"]
FIXED = {  # name -> hostile prompt (built lazily so Hypothesis reports the short name, not 100k characters)
    "empty": lambda: "", "spaces": lambda: " " * 10000, "a_100k": lambda: "a" * 100000,
    "emoji_50k": lambda: "\U0001f40d" * 50000, "control": lambda: "\x00\x01\x02\x1b[31m" * 2000,
    "json_inside": lambda: json.dumps({"nodes": [{"id": "x"}] * 500}), "det_run": lambda: "a " * 50000,
    "no_run": lambda: "no " * 33000, "nested_of": lambda: "a glass of " * 9000, "the_run": lambda: "the " * 25000,
    "parens": lambda: "(" * 50000, "too_long": lambda: "a" * (MAX_PROMPT_CHARS + 1),
    "long_word": lambda: "x" * 99999 + " on a table", "many_objects": lambda: "a lamp and a red ball, " * 4000,
    "mirrors": lambda: "a ball in front of a mirror under a lamp. " * 2000,
}


@st.composite
def hostile(draw):
    kind = draw(st.sampled_from(sorted(FIXED) + ["text", "salad"]))
    if kind == "text":
        return "text", draw(st.text(min_size=1000, max_size=5000))
    if kind == "salad":
        return "salad", " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=200, max_size=2000)))
    return kind, None


def check(prompt):
    try:
        g = parse(prompt)
    except CSGError:
        return
    assert errors_of(g.to_dict()) == []
    assert CSG.from_json(g.to_json()) == g


SET = dict(deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)


@settings(max_examples=N_TEXT, **SET)
@given(st.text(max_size=300))
def test_random_unicode_text(prompt):
    check(prompt)


@settings(max_examples=N_WORDS, **SET)
@given(st.lists(st.sampled_from(WORDS), max_size=40).map(" ".join))
def test_random_word_salad(prompt):
    check(prompt)


@settings(max_examples=N_HOSTILE, **SET)
@given(hostile())
def test_hostile_inputs(case):
    kind, text = case
    check(FIXED[kind]() if text is None else text)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=5) | st.dictionaries(st.sampled_from(
        ["version", "nodes", "edges", "constraints", "id", "name", "kind", "box", "src", "dst", "relation",
         "texture", "physics", "count", "hop", "explicit", "meta", "prompt", "subject", "x"]), kids, max_size=6),
    max_leaves=30)


@settings(max_examples=N_JSON, **SET)
@given(JSONISH)
def test_random_json_is_valid_or_a_csg_error(data):
    try:
        text = json.dumps(data)
    except (ValueError, TypeError):
        return
    try:
        g = CSG.from_json(text)
    except CSGError:
        return
    assert errors_of(g.to_dict()) == []


# ---- property 2: ordinary English never raises ------------------------------------------------
KB = load_knowledge()
OBJECTS = ["ball", "cube", "cone", "book", "apple", "chair", "toy", "cat", "dog", "bird", "snake", "mouse", "fish"]
NOUNS = sorted((set(KB.kind_of) | set(OBJECTS)) - SCENE_WORDS)  # "a scene of ..." names no entity
PLURAL_OF = {sing: plural for plural, sing in KB.irregular_plurals.items() if plural != sing}
VERBS = sorted(form for form, (_, tag) in KB.verb_forms.items() if tag == "s")
PARTICIPLES = sorted(form for form, (_, tag) in KB.verb_forms.items() if tag == "ing")
PREPS = sorted({" ".join(words) for entries in KB.spatial.values() for words, _ in entries} - {"between", "in between"})
SIZES, COLORS, MATERIALS = sorted(KB.sizes), sorted(KB.colors), sorted(KB.materials)
DETERMINERS = ["a", "the", "one", "this", "that", "my", "another", "two", "three", "some", "no"]


def plural(noun: str) -> str:
    """English plural of a (possibly compound) noun: "box" -> "boxes", "fish tank" -> "fish tanks"."""
    head, _, last = noun.rpartition(" ")
    if last in PLURAL_OF:
        word = PLURAL_OF[last]
    elif last.endswith(("s", "sh", "ch", "x", "z")):
        word = last + "es"
    elif last.endswith("y") and last[-2:-1] not in tuple("aeiou"):
        word = last[:-1] + "ies"
    else:
        word = last + "s"
    return f"{head} {word}".strip()


def optional(words):
    return st.none() | st.sampled_from(words)


@st.composite
def noun_phrase(draw):
    """Determiner or number, optional size / colour / material, a noun: "two small red balls"."""
    noun = draw(st.sampled_from(NOUNS))
    mods = [w for w in (draw(optional(SIZES)), draw(optional(COLORS)), draw(optional(MATERIALS))) if w]
    det = draw(st.sampled_from(DETERMINERS))
    if det in ("two", "three", "some"):
        noun = plural(noun)
    elif det == "a" and (mods or [noun])[0][0] in "aeiou":
        det = "an"
    return " ".join([det, *mods, noun])


def coordinated(np):
    """One to three noun phrases joined by commas and "and": "a cat, a dog and a bird"."""
    return st.lists(np, min_size=1, max_size=3).map(
        lambda xs: xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " and " + xs[-1])


def words(*parts):
    """Strategy joining fixed words and drawn phrases: words(np, "is on", np)."""
    return st.tuples(*(st.just(p) if isinstance(p, str) else p for p in parts)).map(" ".join)


def clause():
    """One clause: placed, acting, somewhere (or not), between two things, "there is", "with"..."""
    np = noun_phrase()
    group, prep = coordinated(np), st.sampled_from(PREPS)
    verb, ing = st.sampled_from(VERBS), st.sampled_from(PARTICIPLES)
    return st.one_of(
        words(group, prep, np),                       # a ball and a cube on the table
        words(group, verb, group),                    # the cat eats a fish and a mouse
        words(np, verb, np, prep, np),                # a dog pushes a ball into a box
        words(np, "is", prep, np),                    # the lamp is above the desk
        words(np, "is not", prep, np),
        words(np, "between", np, "and", np),
        words("there is", np, prep, np),
        words(np, ing, np),                           # a dog chasing a cat
        words(np, "with", group),                     # a man with a red hat
        words(np, verb, np, "and it is", prep, np),   # a pronoun
    )


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


ENGLISH = st.builds(lambda cls, sep, end: capitalised(sep.join(cls)) + end,
                    st.lists(clause(), min_size=1, max_size=3), st.sampled_from([" and ", ", ", ". "]),
                    st.sampled_from(["", "."]))


@settings(max_examples=N_ENGLISH, **SET)
@given(ENGLISH)
def test_ordinary_english_never_raises(prompt):
    g = parse(prompt)  # no try: any exception, CSGError included, fails the property
    assert errors_of(g.to_dict()) == []
    assert CSG.from_json(g.to_json()) == g
