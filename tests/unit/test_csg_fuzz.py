"""Fuzzing: random and hostile prompts and JSON never raise anything but CSGError, and every graph
the parser returns validates. 10,000+ generated inputs in all (counts below), no timing asserts."""
from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lina_nodes.csg import CSG
from lina_nodes.csg.parser import MAX_PROMPT_CHARS, parse
from lina_nodes.csg.validate import errors_of
from lina_nodes.errors import CSGError

SCALE = float(os.environ.get("LINA_FUZZ_SCALE", "1"))
N_TEXT, N_WORDS, N_HOSTILE, N_JSON = (int(k * SCALE) for k in (3000, 5000, 500, 2000))  # 10,500 in all

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
