"""Issue 18: Causal Scene Graphs for the prompts people actually write.

Everyday phrasing (reflective supports and surfaces, light from the time of day and the weather,
finishes as attributes, plural compounds, a fruit called orange, contact kept in action clauses),
the everyday prompt sets (tests/data/csg_everyday_*.jsonl), and the GenEval-style explicit checks
that must not drop.
"""
from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from lina_nodes.csg import parse

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
sys.path.insert(0, str(ROOT / "benchmarks"))


def implied(prompt: str) -> dict[str, tuple[str, int]]:
    """kind:owner name -> (kind, hop) of the implied nodes."""
    g = parse(prompt)
    names = {n.id: n.name for n in g.nodes}
    return {f"{n.kind}:{names.get(n.physics.get('of'), '?')}": (n.kind, n.hop) for n in g.nodes if not n.explicit}


def assert_implied(prompt: str, want: set, not_want: set) -> None:
    """The prompt's implied nodes include every one of ``want`` and none of ``not_want``."""
    got = set(implied(prompt))
    assert want <= got and not (not_want & got), got


def explicit(prompt: str) -> dict:
    return {n.name: n for n in parse(prompt).nodes if n.explicit}


@pytest.mark.parametrize("prompt", [
    "a red ball on a small mirror", "a cup on a glass table", "a bowl on a glossy tiled floor",
    "a vase on a polished wooden floor", "a dog on a wet street", "a ball over a mirror",
    "a lamp post beside a still canal at dusk", "a cottage next to a lake", "a cat by a pond",
    "The rectangular mirror was next to the blue sink.", "a tree reflected in the hood of a blue car",
])
def test_reflective_supports_and_surfaces_imply_a_reflection(prompt):
    refl = {k: v for k, v in implied(prompt).items() if k.startswith("reflection:")}
    assert refl, prompt
    assert all(hop == 2 for _, hop in refl.values())          # hop depth kept


def test_near_water_or_diving_in_is_no_reflection():
    assert "reflection:tent" not in implied("a tent near a lake")
    assert "reflection:boy" not in implied("a boy jumps into a swimming pool")
    assert {"splash:boy", "ripple:boy"} <= set(implied("a boy jumps into a swimming pool"))


@pytest.mark.parametrize("prompt, owner", [
    ("a cyclist on a sunny road", "cyclist"), ("a man walking a dog along the beach at sunset", "man"),
    ("a cat in a field at noon", "cat"), ("a pickup truck at the beach at sunrise", "pickup truck"),
    ("a tree in daylight", "tree"), ("a dog is lying in a sunny spot", "dog"),
])
def test_time_of_day_and_weather_light_casts_shadows(prompt, owner):
    got = implied(prompt)
    assert got.get(f"shadow:{owner}") == ("shadow", 2), got


def test_the_light_is_not_doubled_and_the_moon_under_feet_is_ground():
    names = [n.name for n in parse("a tree in a field at sunset with the sun on the left").nodes if n.explicit]
    assert names.count("sun") == 1 and "sunset" not in names
    assert not any(k.startswith("shadow") for k in implied("a pirate ship landing on the moon"))
    assert "shadow:rabbit" in implied("a rabbit on the top of a candle")


def test_finishes_are_attributes_not_objects():
    piano = explicit("a glossy black piano in a hall")
    assert "glossy" not in piano and piano["piano"].texture["color"] == "black"
    assert piano["piano"].texture["finish"] == "glossy"
    floor = explicit("a bowl on a glossy tiled floor")
    assert set(floor) == {"bowl", "tiled floor"} and floor["tiled floor"].texture["finish"] == "glossy"
    wood = explicit("a vase on a polished wooden floor")["wooden floor"]
    assert wood.texture["material"] == "wooden" and wood.texture["finish"] == "polished"
    assert explicit("a shiny silver teapot")["teapot"].texture["material"] == "shiny"   # unchanged


@pytest.mark.parametrize("prompt, name, count", [
    ("two traffic lights", "traffic light", 2), ("three wine glasses", "wine glass", 3),
    ("four street lamps", "street lamp", 4), ("a sheep", "sheep", 1), ("four tvs", "tv", 4),
    ("a flock of geese in front of a barn", "goose", 2), ("a traffic light", "traffic light", 1),
])
def test_compound_nouns_and_plurals_are_one_entity_with_a_count(prompt, name, count):
    nodes = explicit(prompt)
    assert name in nodes and nodes[name].count == count, nodes


def test_a_fruit_called_orange():
    nodes = explicit("an orange next to a banana")
    assert set(nodes) == {"orange", "banana"}
    assert explicit("an orange ball")["ball"].texture["color"] == "orange"


def test_contact_is_kept_in_action_clauses():
    got = implied("a candle lights a cube on a table")
    assert got.get("contact:cube") == ("contact", 1) and got.get("shadow:cube") == ("shadow", 2)
    assert "contact:camel" in implied("a man riding a camel on the beach")
    assert "contact:cube" in implied("a box with a cube on it")


def test_held_things_and_abstract_objects_cast_no_shadow():
    got = implied("A person is holding a glass of wine and enjoying a sunset.")
    assert "shadow:person" in got and "shadow:glass" not in got
    got = implied("A woman is doing yoga on the beach at sunrise.")
    assert "contact:woman" in got and not any(k.endswith(":yoga") for k in got)


def _load(name):
    return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip()]


#: the held-out sets after B, in the order drawn, and whether their draw capped the templates at 40%
HELD_OUT_SETS = (("heldout_c", False), ("heldout_d", True), ("heldout_e", True), ("heldout_f", True),
                 ("heldout_g", True), ("heldout_h", True), ("heldout_i", True), ("heldout_j", True),
                 ("heldout_k", False), ("heldout_l", False), ("heldout_m", False), ("heldout_n", False),
                 ("heldout_o", False), ("heldout_p", False), ("heldout_q", False),
                 ("heldout_r", False))
#: sets whose half ran out before 150 prompts were kept (DSG-1k's odd half gave 127)
SHORT_SETS = {"heldout_k": 127, "heldout_n": 144, "heldout_p": 92}
#: sets drawn for development, each from the even half of its collections (H and G came from the odd halves)
DEV_SETS = ("dev_conv", "dev_coco")
LICENCES = ("Apache-2.0", "MIT", "CC-BY-4.0 (COCO captions), via TIFA (Apache-2.0)", "Apache-2.0 (TIFA)",
            "Apache-2.0 (DSG-1k)", "Apache-2.0 (DPG-Bench)",
            "CC-BY-4.0 (COCO captions), via SugarCrepe (MIT) in t2v_metrics (Apache-2.0)")
#: implied precision / recall floors once measured (each set was measured once, then became development data)
FLOORS = {
    "heldout_c": (0.93, 0.93),   # measured once 0.857 / 0.863; floors after the annotation conventions
    "heldout_d": (0.93, 0.83),   # measured once 0.882 / 0.799
    "heldout_e": (0.92, 0.78),   # measured once 0.858 / 0.774
    "heldout_f": (0.89, 0.86),   # measured once 0.885 / 0.849
    "heldout_g": (0.82, 0.76),   # measured once 0.823 / 0.756
    "heldout_h": (0.88, 0.83),   # measured once 0.800 / 0.718 (TIFA's COCO captions and DrawBench)
    "heldout_i": (0.87, 0.77),   # measured once 0.824 / 0.711 (the rest of TIFA's odd half)
    "heldout_j": (0.82, 0.80),   # measured once 0.821 / 0.770 (the last of TIFA's odd half)
    "heldout_k": (0.75, 0.77),   # measured once 0.760 / 0.728 (DSG-1k's odd half); 0.742 / 0.757 once the
    #                              dictionary lets long inventories parse whole ("chairs, desks ... on the wall")
    "heldout_l": (0.33, 0.43),   # measured once 0.270 / 0.416 (DPG-Bench's odd half: dense descriptions)
    "heldout_m": (0.32, 0.48),   # measured once 0.310 / 0.478 (the rest of DPG-Bench's odd half)
    "heldout_n": (0.86, 0.84),   # measured once 0.825 / 0.716 (T2I-CompBench's attribute lists)
    "heldout_o": (0.89, 0.79),   # measured once 0.864 / 0.738 (VBench's prompt lists: video prompts)
    "heldout_p": (0.85, 0.82),   # measured once 0.737 / 0.744 (VBench-2.0's lists: physics and motion video prompts)
    "heldout_q": (0.88, 0.75),   # measured once 0.881 / 0.751 (SugarCrepe's COCO captions)
    "heldout_r": (0.85, 0.73),   # measured once 0.851 / 0.733 (the rest of SugarCrepe's odd half)
    "dev_conv": (0.76, 0.71),    # development: the even half's free-form prompts, annotated with the conventions
    "dev_coco": (0.92, 0.85),    # development: TIFA's even half
}


def test_everyday_sets_are_sourced_split_once_and_large_enough():
    dev, held = _load("csg_everyday_dev.jsonl"), _load("csg_everyday_heldout.jsonl")
    assert len(dev) + len(held) >= 300
    assert not {x["p"] for x in dev} & {x["p"] for x in held}
    for half, items in ((0, dev), (1, held)):
        for x in items:
            assert x["source"] and x["licence"] in ("Apache-2.0", "MIT") and x["i"]
            assert int(hashlib.sha256(x["p"].encode()).hexdigest()[:2], 16) % 2 == half   # the one split
            assert all(":" in i for i in x["i"])
    b = _load("csg_everyday_heldout_b.jsonl")      # the second held-out set: other prompts, same collections
    assert len(b) >= 100 and not {x["p"] for x in b} & {x["p"] for x in dev + held}
    assert all(x["source"] and x["licence"] in ("Apache-2.0", "MIT") and x["i"] for x in b)
    assert all(x["id"] == "ev" + hashlib.sha256(x["p"].encode()).hexdigest()[:8] for x in b)
    norm = lambda p: " ".join(p.lower().split()).rstrip(".")   # noqa: E731
    earlier = dev + held + b
    for name, capped in HELD_OUT_SETS:        # each disjoint from every set before it (normalised text)
        items = _load(f"csg_everyday_{name}.jsonl")
        assert len(items) >= SHORT_SETS.get(name, 150), name
        assert not {norm(x["p"]) for x in items} & {norm(x["p"]) for x in earlier}, name
        assert all(x["source"] and x["source_file"] and x["licence"] in LICENCES and x["i"]
                   for x in items), name
        assert all(x["id"] == "ev" + hashlib.sha256(x["p"].encode()).hexdigest()[:8] for x in items), name
        if capped:                             # at most 40% T2I-CompBench templates
            assert sum(x["source"] in ("T2I-CompBench/spatial", "T2I-CompBench/3d_spatial")
                       for x in items) <= 0.4 * len(items), name
        earlier = earlier + items
    half = lambda x: int(hashlib.sha256(("part:" + x["p"]).encode()).hexdigest()[0], 16) % 2   # noqa: E731
    for name in ("heldout_g", "heldout_h", "heldout_i", "heldout_j", "heldout_k", "heldout_l", "heldout_m",
                 "heldout_n", "heldout_o", "heldout_p", "heldout_q", "heldout_r"):
        assert all(half(x) == 1 for x in _load(f"csg_everyday_{name}.jsonl")), name
    for name in DEV_SETS:                          # development: the other half, disjoint from every held-out set
        items = _load(f"csg_everyday_{name}.jsonl")
        assert all(half(x) == 0 for x in items) and not {norm(x["p"]) for x in items} & {norm(x["p"]) for x in earlier}
        assert all(x["licence"] in LICENCES and x["i"] for x in items), name
    for name in ("heldout_h", "heldout_i", "heldout_j"):   # TIFA v1.0's COCO captions and DrawBench
        assert {x["source"] for x in _load(f"csg_everyday_{name}.jsonl")} <= {"TIFA/coco", "TIFA/drawbench"}
    k = _load("csg_everyday_heldout_k.jsonl")     # DSG-1k without its TIFA prompts, at most 30 per source
    assert all(x["source"].startswith("DSG-1k/") and x["source"] != "DSG-1k/tifa160" for x in k)
    assert max(Counter(x["source"] for x in k).values()) <= 30
    for name in ("heldout_l", "heldout_m"):        # DPG-Bench's dense descriptions
        assert {x["source"] for x in _load(f"csg_everyday_{name}.jsonl")} == {"DPG-Bench"}, name
    n = _load("csg_everyday_heldout_n.jsonl")      # T2I-CompBench's attribute lists, at most 50 per list
    assert {x["source"] for x in n} <= {f"T2I-CompBench/{k}" for k in ("color", "shape", "texture", "numeracy")}
    assert max(Counter(x["source"] for x in n).values()) <= 50
    o = _load("csg_everyday_heldout_o.jsonl")      # VBench's prompt lists (video prompts), Apache-2.0
    assert {x["source"] for x in o} == {"VBench/all_category", "VBench/all_dimension"}
    assert all(x["licence"] == "Apache-2.0" for x in o)
    p = _load("csg_everyday_heldout_p.jsonl")      # VBench-2.0's lists without the two story lists, at most 40 per list
    assert all(x["source"].startswith("VBench-2.0/") and "Complex_" not in x["source"] for x in p)
    assert max(Counter(x["source"] for x in p).values()) <= 40 and all(x["licence"] == "Apache-2.0" for x in p)
    for name in ("heldout_q", "heldout_r"):        # SugarCrepe's COCO captions
        assert {x["source"] for x in _load(f"csg_everyday_{name}.jsonl")} == {"SugarCrepe/coco"}, name


def test_everyday_dev_set_does_not_drop():
    from csg_everyday import SETS, evaluate, load
    s = evaluate(load(SETS["dev"]))[0]["ALL"]
    assert s["implied_precision"] >= 0.94 and s["implied_recall"] >= 0.94, s
    assert s["node_recall"] >= 0.99 and s["attr_accuracy"] >= 0.99, s
    first = evaluate(load(SETS["heldout"]))[0]["ALL"]   # the first held-out half, development data since measured
    # 0.924 before docs/csg_annotation.md settled leaning (contact) and the sun setting behind X (occlusion too);
    # 0.913 before round 6 read "a watermelon sat in a bowl of ice" as resting in it (a contact this set lacks)
    assert first["implied_precision"] >= 0.905 and first["implied_recall"] >= 0.94, first
    b = evaluate(load(SETS["heldout_b"]))[0]["ALL"]     # held-out B: development data for the third round
    assert b["implied_precision"] >= 0.84 and b["implied_recall"] >= 0.83, b   # B marks dripping honey a contact
    for name, (p, r) in FLOORS.items():
        got = evaluate(load(SETS[name]))[0]["ALL"]
        assert got["implied_precision"] >= p and got["implied_recall"] >= r, (name, got)


def test_geneval_explicit_checks_do_not_drop():
    """GenEval's structured metadata (553 prompts): objects, counts, colours, positions."""
    from csg_geneval_checks import run
    ok, total, bad = run()
    assert total == 553
    assert ok >= 553, bad          # the floor: every check passes today; it must not drop


@pytest.mark.parametrize("prompt,owner", [("a cat sitting in a car seat", "cat"), ("a man in a chair", "man"),
                                          ("a capybara sitting in a field", "capybara")])
def test_a_seat_or_a_field_one_stands_in_is_a_contact(prompt, owner):
    g = parse(prompt)
    assert any(n.kind == "contact" and n.id.startswith(f"contact_{owner}_0") for n in g.nodes)


def test_a_tree_in_a_field_is_only_placed():
    assert not [n for n in parse("a tree in a field at sunset").nodes if n.kind == "contact"]


@pytest.mark.parametrize("prompt, want, not_want", [
    ("There are frogs sitting on the seats.", {"contact:frog"}, set()),                     # existential
    ("an extreme close-up view of a capybara sitting in a field", {"contact:capybara"}, set()),   # the frame
    ("a cartoon of a happy car on the road", {"contact:car"}, {"contact:cartoon"}),
    ("a yellow fire hydrant in grass", {"contact:fire hydrant"}, set()),                   # a low ground cover
    ("the sun setting behind the Parthenon", {"shadow:parthenon", "occlusion:parthenon"}, set()),   # conventions
    ("The musician tuned their guitar before stepping onto the stage.", {"contact:musician"}, {"contact:guitar"}),
    ("A table full of food. There is a plate of chicken rice.", {"contact:food", "fill:plate"},
     {"contact:chicken rice"}),                                                             # conventions: fill
    ("a cat painted on a wall", set(), {"contact:cat"}),                                   # a marking
    ("The sleek black pen wrote on the crisp white paper.", {"contact:pen"}, set()),        # active: touches
    ("The fluffy white snow covered the hard grey pavement.", {"occlusion:snow"}, {"contact:snow"}),  # conventions
    ("a mirror reflecting a cat", {"reflection:cat"}, set()),
    ("the still water reflects the full moon", {"reflection:moon"}, {"ripple:moon"}),
    ("a car in the street", {"contact:car"}, set()),
    ("The Statue of Liberty on a cloudy day", set(), {"contact:statue of liberty"}),        # a day is a time
    ("a key hidden under a book", {"occlusion:book"}, set()),
])
def test_third_round_everyday_phrasing(prompt, want, not_want):
    assert_implied(prompt, want, not_want)


@pytest.mark.parametrize("prompt, names", [
    ("a blue 1977 Ford F-150 on a road", {"ford f-150", "road"}),          # a model year is no count
    ("The shimmering, iridescent scales of the tropical fish", {"scale", "fish"}),
    ("a smiling sloth stands on grass", {"sloth", "grass"}),
    ("two frosted glass bottles", {"bottle"}),
    ("a high-quality photograph of an armadillo", {"armadillo"}),
    ("the guitar, drum and piano", {"guitar", "drum", "piano"}),
    ("Golden Gate bridge on the surface of Mars", {"golden gate bridge", "mars"}),          # landmarks are one name
    ("Niagara Falls at night", {"niagara falls"}),
    ("a golden retriever on a sofa", {"golden retriever", "sofa"}),
    ("a teddy bear on a daisy field", {"teddy bear", "daisy field"}),
])
def test_third_round_entity_names(prompt, names):
    assert set(explicit(prompt)) == names


@pytest.mark.parametrize("prompt, want, not_want", [
    ("A skier is gliding down a snow-covered mountain.", {"contact:skier"}, set()),     # a path after travel
    ("The graceful swan glided across the calm lake.", {"reflection:swan", "ripple:swan"}, set()),
    ("The sleek fish swam through the murky water.", {"ripple:fish"}, {"reflection:fish"}),
    ("A cyclist is riding along a scenic route.", {"contact:cyclist"}, set()),
    ("trees along the river", {"reflection:tree"}, {"contact:tree"}),                   # no travel: beside it
    ("The shiny car drove past the old barn.", set(), {"contact:car"}),                   # past is no surface
    ("The prickly cactus stood tall on the dry sand.", {"contact:cactus"}, set()),        # on sand: the ground
    ("The cold snowman stood on the icy lawn and the wet pavement.", {"contact:snowman", "reflection:snowman"}, set()),
    ("a cat on a mat and a dog", {"contact:cat"}, {"contact:dog"}),                        # no verb: a new subject
    ("The rectangular mirror was hung above the green sink.", {"reflection:sink"}, set()),   # a hung mirror
    ("a sink below a mirror", {"reflection:sink"}, set()),
    ("a mirror behind a red cat", {"reflection:cat"}, set()),
    ("The green plant was on the right of the window.", set(), {"reflection:plant"}),     # a window: only in front
    ("a cat in front of a window", {"reflection:cat"}, set()),
    ("Anubis sitting astride a motorcycle", {"contact:anubis"}, set()),
    ("The vibrant feathers of the tropical bird shimmered in the sunlight.", set(), {"shadow:feather"}),   # a part
    ("a red ball on a table next to a lamp", {"shadow:ball"}, set()),
    ("The kayaker is paddling down a river rapids.", {"ripple:kayaker"}, {"contact:kayaker"}),
    ("A dog is digging in the sand.", {"contact:dog"}, set()),
    ("A child is playing with a kite on a windy day.", set(), {"contact:kite"}),            # a day is a time
    ("The water in the pool is sparkling under the sunlight.", set(), {"shadow:pool", "shadow:water"}),
    ("The warm yellow sun shone down on the cold grey concrete.", set(), {"shadow:concrete"}),
    ("a fire hydrant with graffiti on it", set(), {"contact:graffiti"}),                   # a marking
    ("a yellow t-shirt with a dog on it", set(), {"contact:dog"}),                           # a print
    ("A man is painting a mural on a wall.", set(), {"contact:man", "contact:mural"}),
    ("a dog writing BONEZ on a chalkboard", set(), {"contact:bonez"}),
    ("Mars rises on the horizon.", set(), {"contact:mars", "contact:mar"}),                  # a planet, not "mar"
    ("a family on a road trip", set(), {"contact:family"}),                                  # a trip is no support
    ("The delicate, translucent jellyfish floated in the water.", {"ripple:jellyfish"}, set()),
    ("A person is holding a laptop and working on a project.", set(), {"contact:person"}),   # "on": not a place
    ("A puppy is chewing on a bone.", set(), {"contact:puppy"}),
    ("A woman is speaking on the phone.", set(), {"contact:woman"}),
    ("The crisp white sheet covered the lumpy blue mattress.", {"occlusion:sheet", "contact:sheet"}, set()),   # a cover
    ("The soft blanket draped over the bumpy couch.", {"occlusion:blanket", "contact:blanket"}, set()),
    ("A giraffe walking through a green grass covered field", {"contact:giraffe"}, {"occlusion:grass"}),
    ("A dog is sitting in a car.", {"contact:dog"}, set()),                                    # a vehicle's seat
    ("a dog in a car", set(), {"contact:dog"}),
    ("milk pouring into a large glass", {"splash:milk", "fill:glass"}, set()),
    ("a plate with white rice", {"fill:plate"}, {"contact:rice"}),                           # conventions: fill
    ("red and yellow balloons hanging from a ceiling fan", {"contact:balloon"}, set()),
    ("a lamp below a shelf", set(), {"contact:lamp"}),
    ("The metallic square was perched on top of the frosted cylinder.", {"contact:square"}, set()),   # a shape
    ("A person is watching a sports game on TV.", set(), {"contact:sports game", "contact:person"}),   # shown
    ("ten triangles and five squares on a black background", set(), {"contact:triangle"}),
    ("a cat climbing up a tree", {"contact:cat"}, set()),
    ("The dog chased the cat, which ran up a tree.", {"contact:cat"}, {"contact:dog"}),      # a relative after a comma
    ("The flickering candlelight danced on the smooth wall.", set(), {"contact:candlelight"}),  # light, not a thing
    ("A baby is holding onto their mother's finger.", set(), {"contact:baby"}),
    ("A person is stargazing on a clear night.", set(), {"contact:person"}),                   # a night is a time
    ("The soft, warm glow of the candle created a cozy ambiance.", set(), {"shadow:glow", "shadow:ambiance"}),
    ("The rocky cliffs jutted out from the sea, battered by the crashing waves.", set(), {"reflection:battered"}),
    ("A person is lounging by the pool.", {"reflection:person"}, set()),
    ("The smooth, glossy surface of the ceramic vase reflected the light.", {"reflection:light"}, {"shadow:vase"}),
    ("A woman is standing on a ladder to change a light bulb.", {"contact:woman"}, {"shadow:woman"}),   # unlit
    ("a lamp lights a ball on a table", {"shadow:ball"}, set()),
    ("The smooth, glossy surface of the lake reflected the colors of the sunset, a serene oasis.", set(),
     {"reflection:oasis"}),
    ("The flickering candle cast shadows on the smooth wall.", set(), {"shadow:candle"}),       # a light's are others'
    ("The delicate web of the spider glistened in the morning light, a marvel of natural engineering.",
     {"shadow:spider"}, {"shadow:marvel", "shadow:engineering"}),
    ("The smooth marble floor reflected the bright light and the dark shadow.", set(), {"reflection:shadow"}),
])
def test_fourth_round_everyday_phrasing(prompt, want, not_want):
    assert_implied(prompt, want, not_want)


@pytest.mark.parametrize("prompt, names", [
    ("The shiny silver car zoomed past the old rusty truck.", {"car", "truck"}),      # an -ed verb before "past"
    ("The comedian is telling jokes on stage to an audience.", {"comedian", "joke", "stage", "audience"}),
])
def test_fourth_round_entity_names(prompt, names):
    assert set(explicit(prompt)) == names


def test_a_stated_effect_gets_the_subject_as_owner_unless_a_light_casts_it():
    g = parse("The tall brown tree cast a shadow over the small green bush.")
    shadow = next(n for n in g.nodes if n.kind == "shadow")
    assert shadow.explicit and shadow.physics["of"] == "tree_0"
    g = parse("The flickering candle cast shadows on the smooth wall.")
    assert all("of" not in n.physics for n in g.nodes if n.kind == "shadow")


@pytest.mark.parametrize("prompt, want, not_want", [
    ("a bicycle leaning against a tree", {"contact:bicycle"}, set()),                  # leaning touches
    ("a poster pinned to a wall", {"contact:poster"}, set()),
    ("a dog tied to a post", {"contact:dog"}, set()),
    ("a man standing under a tree", set(), {"contact:man"}),                           # no support named
    ("The sun is setting behind the mountains.", {"occlusion:mountain", "shadow:mountain"}, set()),
    ("the moon rising behind a castle", {"occlusion:castle", "shadow:castle"}, set()),
    ("The fiery sun set behind the towering skyscraper and the lush park.", {"occlusion:skyscraper"},
     {"occlusion:park"}),                                                               # a flat region hides nothing
    ("a blue airplane taxiing on a runway with the sun behind it", {"shadow:airplane"}, {"occlusion:airplane"}),
    ("a swan on a calm sea", {"reflection:swan", "ripple:swan"}, set()),
    ("a large white yacht tossed about in a stormy sea", {"ripple:yacht"}, {"reflection:yacht"}),
    ("a ship on the ocean", {"ripple:ship"}, {"reflection:ship"}),                     # waves: no mirror
    ("a boat on a lake", {"reflection:boat", "ripple:boat"}, set()),
    ("The smooth black river flowed next to the tall green mountains.", {"reflection:mountain"}, set()),
    ("a lighthouse on a rock in the sea", {"contact:lighthouse"}, {"ripple:lighthouse"}),   # fixed in the water
    ("a heavy rock falls into a river", {"ripple:rock"}, set()),
    ("trees seen through a rainy window", {"refraction:tree"}, {"occlusion:window"}),
    ("a fish seen through the water", {"refraction:fish"}, {"occlusion:water"}),
    ("a cat on a glossy piano", {"reflection:cat", "contact:cat"}, set()),
    ("a spoon on a shiny metal tray", {"reflection:spoon"}, set()),
    ("The heavy rain poured down on the smooth roof and the rough gutter.", set(), {"contact:rain"}),
    ("The smooth marble gleamed in the sunlight, a symbol of grandeur and opulence.", set(),
     {"shadow:opulence", "shadow:grandeur"}),                                           # an idea casts no shadow
    ("a fence in the sunlight", {"shadow:fence"}, set()),                              # ... a fence does
    ("A person is holding a magnifying glass and examining a bug.", {"refraction:bug"}, {"refraction:person"}),
    ("The sweet honey dripped on the soft bread.", set(), {"contact:honey"}),          # a liquid falling
])
def test_annotation_conventions(prompt, want, not_want):
    """docs/csg_annotation.md, the rules held-out F was annotated with."""
    assert_implied(prompt, want, not_want)


@pytest.mark.parametrize("prompt, want, not_want", [
    # where a place attaches
    ("A dog is playing with a chew toy on the carpet.", {"contact:dog", "contact:chew toy"}, set()),
    ("A child is playing with a toy boat in a pond.", {"ripple:toy boat"}, {"ripple:child"}),
    ("Small girl reaching for her umbrella on a driveway.", {"contact:girl"}, set()),
    ("The woman sits on the curb writing on a notepad near a fire hydrant.", {"contact:woman"},
     {"contact:curb"}),                                                       # an -ing verb after her place
    ("The sleek black pen wrote on the crisp white paper.", {"contact:pen"}, set()),   # ... a pen still touches
    ("A person with a cane and a roller bag sitting on a bench.", {"contact:person"}, {"contact:cane"}),
    ("A man holding a white frisbee walking on a green field.", {"contact:man"}, {"contact:frisbee"}),
    ("A woman sitting on a bucket on the side of a street.", {"contact:woman", "contact:bucket"}, set()),
    ("a man on a horse on the beach", {"contact:man", "contact:horse"}, set()),
    ("The desk has two monitors and one laptop on it.", {"contact:monitor", "contact:laptop"}, {"contact:desk"}),
    ("a man putting a book on a shelf", {"contact:book"}, {"contact:man"}),
    ("A woman is knitting a sweater on the porch.", {"contact:woman"}, {"contact:sweater"}),
    ("The textile artist is weaving a tapestry on a loom.", {"contact:tapestry"}, set()),
    ("a man with a hat on his head", set(), {"contact:hat"}),                 # worn
    ("a giraffe with an owl on its head", {"contact:owl"}, set()),            # ... an owl is not
    ("A portrait of a kangaroo holding a sign on the chest.", set(), {"contact:sign"}),   # held
    # supports the rules now read
    ("a robot standing in the street", {"contact:robot"}, set()),
    ("a horse corral with tigers standing in each stall", {"contact:tiger"}, set()),
    ("a sunken submarine at the bottom of the ocean", {"contact:submarine"}, set()),
    ("a dog at the bottom of the stairs", set(), {"contact:dog"}),
    ("The biker is cruising down the road on a motorcycle.", {"contact:biker", "contact:motorcycle"}, set()),
    ("A young man riding on a surf board on an ocean wave.", {"contact:man", "ripple:surf board"},
     {"ripple:man"}),
    ("A woman in a bikini riding a wave on a surfboard.", {"contact:woman", "ripple:surfboard"}, set()),
    ("A boy is riding a skateboard on a ramp.", {"contact:boy", "contact:skateboard"}, set()),
    ("a ladder against a wall", {"contact:ladder"}, set()),
    ("The bold colors of the peonies stood out against the green foliage.", set(), {"contact:peony"}),
    ("A grouping of bananas hanging in a tree.", {"contact:banana"}, set()),
    ("lanterns hanging in the night sky", set(), {"contact:lantern"}),
    ("A black cat is sitting in a bathroom sink.", {"contact:cat"}, set()),
    ("A red fire hydrant on the right side of a road.", {"contact:fire hydrant"}, set()),
    ("a dog on the right side of a car", set(), {"contact:dog"}),             # the templates' "beside"
    ("a plant growing on the side of a brick wall", {"contact:plant"}, set()),
    ("The comfortable recliner cradled the tired body and the hard floor.", {"contact:body", "contact:recliner"},
     set()),
    ("The sturdy table held up the heavy books and the delicate vase.", {"contact:book", "contact:vase"}, set()),
    ("Dogs sitting around a poker table with beer bottles and chips.", {"contact:beer bottle", "contact:chip"},
     set()),
    ("A couch with pillows sitting in a living room.", {"contact:pillow"}, set()),
    ("a table with four chairs", set(), {"contact:chair"}),
    ("A BBQ topped with lots of sausages.", {"contact:sausage"}, set()),
    # fill, conventions
    ("A plate of some food on a table.", {"fill:plate", "contact:plate"}, {"contact:food"}),
    ("her plate has an omelette and croissant.", {"fill:plate"}, set()),
    ("a plate with a fork", {"contact:fork"}, {"fill:plate"}),
    ("A cup with soda in front of a panini.", {"fill:cup", "occlusion:cup"}, {"occlusion:soda"}),
    ("Two vases filled with flowers on a table.", {"contact:vase"}, {"fill:vase"}),   # solid things: no level
    ("a bowl with fruit on a table", {"fill:bowl", "contact:bowl"}, set()),
    ("The fluffy snow covered the icy ground.", {"occlusion:snow"}, {"contact:snow"}),
    # lights, sky, time
    ("Traffic is stopped at a red stop light.", set(), {"shadow:traffic"}),
    ("the International Space Station flying in front of the moon", {"occlusion:international space station"},
     set()),
    ("Ground view of the Great Pyramids on the moon's surface. The planet Earth looms in the sky.",
     {"contact:great pyramid"}, {"shadow:great pyramid", "shadow:planet earth"}),   # the moon is ground here
    ("a man stands in the shadow of a maple tree", set(), {"occlusion:maple tree"}),   # the tree's, below
    ("Woman walking a small white dog behind her.", {"occlusion:woman"}, {"occlusion:dog"}),
    ("The silky fabric swirled around the dancer's feet, as she glided across the ballroom floor.",
     {"contact:dancer"}, {"contact:foot"}),                                   # "she" is the dancer
])
def test_sixth_round_everyday_phrasing(prompt, want, not_want):
    """Round 6 (development sets F, G, dev_conv, dev_coco and TIFA's even half, read before H was measured)."""
    assert_implied(prompt, want, not_want)


@pytest.mark.parametrize("prompt, names", [
    ("a red, white and blue fire hydrant", {"fire hydrant"}),
    ("A half eaten sandwich sits on a table", {"sandwich", "table"}),
    ("a variety of partially eaten pizzas are sitting on several plates.", {"pizza", "plate"}),
    ("Three-quarters front view of a red 1997 Porsche 911 coming around a curve in a mountain road",
     {"porsche", "curve", "mountain road"}),
    ("Two cooked hot dogs on a plate", {"hot dog", "plate"}),
    ("A couple sit on a motorcycle at the beach.", {"couple", "motorcycle", "beach"}),
    ("The planet Earth can be seen in the sky", {"planet earth", "sky"}),
    ("a can of Spam on an elegant plate", {"can", "spam", "plate"}),
    ("In late afternoon in January, a man stands under a tree.", {"man", "tree"}),
])
def test_sixth_round_entity_names(prompt, names):
    assert set(explicit(prompt)) == names


def test_in_the_shadow_of_names_the_trees_shadow():
    g = parse("a man stands in the shadow of a maple tree")
    names = {n.id: n.name for n in g.nodes}
    assert [names[n.physics["of"]] for n in g.nodes if n.kind == "shadow"] == ["maple tree"]


@pytest.mark.parametrize("prompt, want, not_want", [
    ("Person waiting on a train platform near a train.", {"contact:person"}, set()),   # a place, not an action
    ("A pastry chef waiting on customers in a restaurant.", set(), {"contact:pastry chef"}),
    ("a plate with toast, eggs and some meat next to some coffee", {"fill:plate"}, {"reflection:egg"}),
    ("A person skiing on a mountain covered with snow", {"occlusion:snow", "contact:person"}, set()),
    ("A girl in a dress and shirt standing in a field.", {"contact:girl"}, {"contact:shirt"}),
    ("A group of elephants in an enclosed area with a lot of trees behind them.", {"occlusion:elephant"}, set()),
    ("A man riding a horse on an open field.", {"contact:man", "contact:horse"}, set()),
    ("An elephant standing inside of a dirt pen.", {"contact:elephant"}, set()),
    ("The vegetables are cooking in the skillet on the stove.", {"fill:skillet", "contact:skillet"}, set()),
])
def test_seventh_round_everyday_phrasing(prompt, want, not_want):
    """Round 7 (held-out H, once measured, as development data)."""
    assert_implied(prompt, want, not_want)


def test_seventh_round_entity_names():
    assert set(explicit("A very old and rusted train parked on the tracks.")) == {"train", "track"}
    assert set(explicit("A pastry is torn in half on a plate.")) == {"pastry", "plate"}


@pytest.mark.parametrize("prompt, want, not_want", [
    # waves, surf or a storm in the scene: the water does not mirror (it still ripples)
    ("A person riding a surfboard in the water.", {"ripple:surfboard", "contact:person"}, {"reflection:surfboard"}),
    ("The person is riding the waves in the water.", {"ripple:person"}, {"reflection:person"}),
    ("a surfer on a lake", {"ripple:surfer"}, {"reflection:surfer"}),
    ("The smooth pebble skipped on the calm water and the choppy waves.", {"reflection:pebble"}, set()),
    ("a boat on a still lake", {"reflection:boat"}, set()),
    ("a ball on a polished floor next to a surfboard", {"reflection:ball"}, set()),   # not water
    # figures standing, grazing or playing in the woods, an area, a garden
    ("A baby deer and a large deer are standing in the woods.", {"contact:baby deer", "contact:deer"}, set()),
    ("Two zebras standing in a rocky area in the wild.", {"contact:zebra"}, set()),
    ("Two zebras eat grass in a fenced field.", {"contact:zebra"}, set()),
    ("Zebras are standing in a fenced in area.", {"contact:zebra"}, set()),
    ("A cat plays with grass outside in the garden.", {"contact:cat"}, set()),
    ("a tree in a field", set(), {"contact:tree"}),
    ("a pumpkin in a yard", set(), {"contact:pumpkin"}),   # a thing in a yard is only placed (a figure stands:
    #                                                         twelfth round, "llama in a grassy field")
    # in front of: collectives, worn gear
    ("Three female workers stand in front of rows of pastries.", {"occlusion:female worker"}, set()),
    ("A man and woman in ski gear standing in front of a mountain.", {"occlusion:man", "occlusion:woman"},
     {"occlusion:ski gear"}),
    # a thing with its things on a desk: all of them rest there
    ("A laptop with a keyboard, a mouse and a phone on a desk.",
     {"contact:laptop", "contact:keyboard", "contact:phone"}, set()),
    ("two violins standing up with their bows on the ground in front of them", {"contact:bow", "occlusion:bow"},
     {"contact:violin"}),
    ("a man with a dog on a leash", set(), {"contact:man"}),
    # rooms are backgrounds: no shadow
    ("a lamp in a bedroom", set(), {"shadow:bedroom"}),
    ("A green netted bed in a light filled bedroom.", {"shadow:bed"}, {"shadow:bedroom"}),
    # a solid thing in a container rests in it (conventions, eighth round); not in a liquid, nor food
    ("Two vases filled with flowers on a table.", {"contact:flower", "contact:vase"}, set()),
    ("a pumpkin with a candle in it", {"contact:candle"}, set()),
    ("A woman sitting on stone steps with a suitcase full of books.", {"contact:book"}, set()),
    ("a straw in a glass of juice", {"refraction:straw"}, {"contact:straw"}),
    ("a bowl of soup with a chopstick in it", set(), {"contact:chopstick"}),
    ("a wine bottle with a red ribbon wrapped around it", set(), {"contact:ribbon"}),
    # sitting / standing on top of; stacks; swimmers; in the shade of
    ("a cat sitting on top of a table", {"contact:cat"}, set()),
    ("A lot of boats sitting on top of a body of water.", {"ripple:boat"}, {"contact:boat"}),
    ("three pickup trucks piled on top of each other", {"contact:pickup truck"}, set()),
    ("two cats next to each other", set(), {"contact:cat"}),
    ("a surfer is riding a wave in the ocean with some swimmers", {"ripple:swimmer", "ripple:surfer"}, set()),
    ("The swimmer did laps back and forth across the pool.", {"ripple:swimmer"}, set()),
    ("a swimmer on the beach", set(), {"ripple:swimmer"}),
    # a beach full of people; counted glasses are drinking glasses; a with-group of a with-group
    ("a beach full of people", {"contact:person"}, set()),
    ("A plate with a hotdog and two glasses with beverages.", {"fill:glass", "fill:plate"}, set()),
    ("a table with a cup with coffee", {"fill:cup", "contact:cup"}, set()),
    # what a figure holds is in its hands; figures with animals share their place
    ("A group of people stand with bats on a field.", {"contact:person"}, {"contact:bat"}),
    ("Two people in shorts are playing with tennis rackets on a grassy field.", {"contact:person"},
     {"contact:tennis racket"}),
    ("a woman with a phone on a bench", {"contact:woman"}, {"contact:phone"}),
    ("a man with a dog on the beach", {"contact:man", "contact:dog"}, set()),
    ("A man sitting at a wooden bench holding a grey umbrella.", {"contact:man"}, {"contact:umbrella"}),
    ("A person sits at a table in front of a sandwich", set(), {"contact:person"}),
    ("a person getting ready to fly a kite on the beach", {"contact:person"}, {"contact:kite"}),
])
def test_eighth_round_everyday_phrasing(prompt, want, not_want):
    """Round 8 (held-out I, once measured, with H, dev_coco and dev_conv as development data)."""
    assert_implied(prompt, want, not_want)


@pytest.mark.parametrize("prompt, names", [
    ("A boy getting ready to blow out birthday candles with a girl watching.", {"boy", "birthday candle", "girl"}),
    ("A cabinet with several different items that have price tags on them.", {"cabinet", "item", "price tag"}),
    ("A man in white grinding on a skateboard.", {"man", "skateboard"}),
    ("A woman is jogging with her dog on a trail in the woods.", {"woman", "dog", "trail", "woods"}),
    ("A lot of sheep in a very small fenced in stall", {"sheep", "stall"}),
    ("a cat under studio lighting", {"cat", "studio lighting"}),
    ("A couple of glasses are sitting on a table.", {"glass", "table"}),
    ("six glasses", {"glass"}),
    ("a man wearing glasses", {"man", "glasses"}),
    ("a pair of glasses on a table", {"glasses", "table"}),
    ("two people with skis on a ski slope", {"person", "skis", "ski slope"}),
])
def test_eighth_round_entity_names(prompt, names):
    assert set(explicit(prompt)) == names


@pytest.mark.parametrize("prompt, want, not_want", [
    # water named only as water: an inert thing there mirrors, a figure or a boat stirs it (unless calm / still)
    ("A couple of elephants standing in the water.", {"ripple:elephant"}, {"reflection:elephant"}),
    ("a boat in the water", {"ripple:boat"}, {"reflection:boat"}),
    ("a ball floating in the water", {"reflection:ball", "ripple:ball"}, set()),   # PhysWorld's water
    ("a boat on the calm water", {"reflection:boat"}, set()),
    ("a boat on a lake", {"reflection:boat"}, set()),
    ("A boat is traveling on rough waters in the ocean.", set(), {"reflection:boat"}),
    ("a duck on a choppy lake", {"ripple:duck"}, {"reflection:duck"}),
    ("a duck on a calm lake", {"reflection:duck"}, set()),
    # terse relation lists (VRD): a bare noun said again is the same thing, unless it is the other end
    ("person wear sunglasses. person sit on bike. person near bottle", {"contact:person"}, set()),
    ("truck behind truck. truck in the front of truck", {"occlusion:truck"}, {"contact:truck"}),
    ("building behind train", {"occlusion:train"}, set()),
    # "light blue" and "light metallic" are no light; prompt tags between commas are no things
    ("a light blue car on the road", {"contact:car"}, {"shadow:car"}),
    ("a sculpture made from light metallic chrome wire", set(), {"shadow:sculpture"}),
    ("a car under neon lights", {"shadow:car"}, set()),
    # poses: directions and parts are no things; a hand is its owner's (no contact of its own)
    ("The person has their right leg lifted and their weight is on their left leg.", set(), {"contact:weight"}),
    ("left and right arm bent at elbow with hands almost resting on sides", set(), {"contact:arm", "contact:hand"}),
    ("An owl is perched upside down on a branch", {"contact:owl"}, set()),
    ("A couple is walking hand in hand on the beach.", {"contact:couple"}, {"contact:hand"}),
    # descriptions: markings are on a thing, not resting there; water by name only, or with waves, no mirror
    ("There is a white stripe on the ground.", set(), {"contact:stripe"}),
    ("a phone with a logo on it", set(), {"contact:logo"}),
    ("There is a large gray duck next to the water. There are small waves in the water.", set(),
     {"reflection:duck"}),
    ("a duck next to the lake", {"reflection:duck"}, set()),
    # relation lists: a garment on a figure is worn; the ground under a thing bears it
    ("helmet on person. person wear jacket", set(), {"contact:helmet"}),
    ("a backpack on the top of a chicken", {"contact:backpack"}, set()),
    ("bus has wheel. road under bus. road under wheel", {"contact:bus"}, {"contact:wheel"}),
    ("the floor under the table", {"contact:table"}, set()),
    ("a cat under a table", set(), {"contact:cat", "contact:table"}),
    ("grass under sky", set(), {"contact:sky"}),
    # the serial comma; "it's"; things inside appliances and cabinets
    ("Mushrooms, olives, and tomatoes are on the pizza.", {"contact:mushroom", "contact:olive", "contact:tomato"},
     set()),
    ("a girl holds a balloon, and a boy stands behind her", {"occlusion:girl"}, set()),
    ("A bowl of ice cream is inside the microwave", {"contact:bowl", "fill:bowl"}, set()),
    ("stove in cabinet", {"contact:stove"}, set()),
    # unknown words the dictionary reads only as adjectives or verb forms are no things
    ("The sleek, metallic cars zoomed past each other on the busy highway, honking and weaving.", {"contact:car"},
     set()),
    ("Two butterflies gently balance atop a vibrant, orange tangerine on a wooden table.",
     {"contact:butterfly", "contact:tangerine"}, set()),
    # round 11 (L as development data): qualities are no things; a verb the dictionary knows before "along"
    ("The robot boasts a glossy finish under a lamp.", {"shadow:robot"}, {"shadow:finish"}),
    ("A powerful steam locomotive speeds along the tracks through a sandy desert.", {"contact:steam locomotive"},
     set()),
    ("The surrounding waters are a calm shade of blue, casting a serene light on the ocean floor.", set(),
     {"contact:light"}),                                      # light a verb casts is no thing
    ("the canvas is positioned against a light grey wall.", {"contact:canvas"}, set()),
    ("Two cups are placed on a table, and the warm lighting accentuates their texture.",
     {"shadow:cup", "contact:cup"}, set()),
    ("A picture frame, which encloses a photograph. These objects rest on a coffee table.",
     {"contact:picture frame"}, {"contact:object"}),
    ("A picture frame and three remotes. These objects rest on a coffee table.",
     {"contact:picture frame", "contact:remote"}, set()),
    ("A red robot and a blue robot stand in a row. They are all placed on a smooth, gray concrete floor.",
     {"contact:robot"}, set()),
    # a thing named with "its" after a thing is its part: no shadow of its own; after a figure it is the figure's
    ("A giant brass tuba with its large bell facing upwards under a lamp.", {"shadow:tuba"}, {"shadow:bell"}),
    ("a dog and its bone on a rug", {"contact:dog", "contact:bone"}, set()),
])
def test_ninth_round_everyday_phrasing(prompt, want, not_want):
    """Rounds 9-11 (held-out J, K, L and M, each once measured, as development data)."""
    assert_implied(prompt, want, not_want)


def test_ninth_round_entity_names():
    names = [n.name for n in parse("person wear shirt. person sit on bike. person near person").nodes if n.explicit]
    assert names == ["person", "shirt", "bike", "person"]
    assert set(explicit("a cyberpunk city, highly detailed, neon lights, trending on artstation, 8k")) == {
        "city", "neon light"}
    assert set(explicit("In this image we can see some different colors and sizes of rocks are on a ground.")) >= {
        "rock", "ground"}
    assert set(explicit("an orange color car on the white color surface")) == {"car", "surface"}
    assert set(explicit("the plane is white in color")) == {"plane"}
    assert set(explicit("There is a small little bear on a shelf.")) == {"bear", "shelf"}
    assert set(explicit("a red, white, and blue flag on a pole")) == {"flag", "pole"}
    assert set(explicit("the fallen leaves on the ground")) == {"leaf", "ground"}
    assert set(explicit("a man in a winter coat stands on a bench")) == {"man", "winter coat", "bench"}
    assert set(explicit("the dog leaves the house")) == {"dog", "house"}
    assert set(explicit("The typewriter is old. it's sitting on a wooden table.")) == {"typewriter", "table"}


def test_in_the_shade_of_names_the_buildings_shadow_not_a_lamp_shade():
    g = parse("Two zebras are standing in the shade of a building")
    names = {n.id: n.name for n in g.nodes}
    assert [names[n.physics["of"]] for n in g.nodes if n.kind == "shadow"] == ["building"]
    assert not [n for n in parse("a lamp with a green shade").nodes if n.kind == "shadow" and n.explicit]
    assert not [n for n in parse("a dress in a shade of blue").nodes if n.kind == "shadow"]


@pytest.mark.parametrize("prompt, want, not_want", [
    # video prompts (VBench's even half): framing words and camera or style tags name no thing
    ("drone footage of a tree on farm field", {"contact:tree"}, {"contact:drone footage"}),
    ("time lapse of a sunset sky in the countryside", set(), {"shadow:time lapse"}),
    ("A tranquil tableau of a bowl on the kitchen counter", {"contact:bowl"}, {"contact:tableau"}),
    ("A cute happy Corgi playing in park, sunset, pan left", {"shadow:corgi"}, {"shadow:pan"}),
    ("A cute happy Corgi playing in park, sunset by Hokusai, in the style of Ukiyo", {"shadow:corgi"},
     {"shadow:hokusai", "shadow:ukiyo"}),
    # "X on the bottom of Y": Y rests on X; "at the bottom of the frame" is no support
    ("an oven on the bottom of a toaster, front view", {"contact:toaster"}, {"contact:oven"}),
    ("a coin on the bottom of a jar", {"contact:coin"}, {"contact:jar"}),
    ("Eight white hands are positioned at the bottom of the frame.", set(), {"contact:frame"}),
    # boats moving along or around water are on it; a verb's adverb does not hide its particle
    ("A boat sailing leisurely along the Seine River", {"ripple:boat"}, set()),
    ("a boat travelling around the lake", {"ripple:boat"}, set()),
    ("A majestic parrot glides effortlessly across the bright blue sky.", set(), {"contact:parrot"}),
    # "A and B" then a verb's base form (T2I-CompBench's texture list)
    ("The glass figurine and metallic clock decorate the wooden mantel.", set(), {"contact:clock decorate"}),
    ("The metallic kettle and wooden spoon boil the fluffy water.", {"fill:kettle"}, set()),
    # "X with its P and Q held ...": X acts, not its parts
    ("The spherical vase with its cubic pattern and pentagonal mouth held a beautiful arrangement of flowers on "
     "the triangular side table.", {"contact:vase", "contact:flower"}, {"contact:mouth"}),
    ("The oval tray with its pyramidal edges and teardrop handles served snacks on the rectangular coffee table.",
     {"contact:tray"}, {"contact:handle", "contact:teardrop handle"}),
    # things that fill a surface or a garden rest on it; a smell filling a room does not
    ("three chickens, three hamburgers, four cups, a train, and four pigs filled the table",
     {"contact:chicken", "contact:cup", "contact:train"}, set()),
    ("three strawberries, two chairs, two turtles, and two computers filled the garden",
     {"contact:chair", "contact:turtle"}, set()),
    ("The fragrant incense filled the peaceful room.", set(), {"contact:incense"}),
    # "by the pond" is a place, not who did it
    ("three frogs croaked by the pond", {"reflection:frog"}, set()),
    ("a mouse eaten by a snake", set(), {"reflection:mouse"}),
    # pouring puts the liquid in the container (a splash), not the figure
    ("a man pouring wine into a glass", {"fill:glass", "splash:wine"}, set()),
    ("a woman pouring hot beverage on a cup", {"fill:cup", "splash:beverage"}, {"contact:woman"}),
    # standing at or in a stretch of ground the prompt names
    ("A man standing at the beach shoreline and watching the sunset.", {"contact:man"}, set()),
    ("a giraffe standing in a savannah", {"contact:giraffe"}, set()),
    ("a person sitting at a lake", set(), {"contact:person"}),
    # covers: "covered with / in / by X" puts X on it (it hides it); "a snow covered slope": the snow coats it
    ("a bed covered with blankets", {"contact:blanket", "occlusion:blanket"}, set()),
    ("house covered in snow", {"occlusion:snow"}, {"contact:snow"}),
    ("A man riding skis down a snow covered slope.", {"occlusion:snow"}, {"contact:snow"}),
    ("A giraffe walking through a green grass covered field", set(), {"occlusion:grass", "contact:grass"}),
    ("The soft pink blanket draped over the hard wooden chair.", {"contact:blanket"}, set()),
    ("beside a tranquil pond, a weeping willow tree draped its branches gracefully over the water",
     {"reflection:willow tree"}, {"contact:willow tree"}),
    # video prompts tell what happens next: "then it jumps" is the figure, "starts chasing" no "start" thing
    ("A dog is running through the house, then it suddenly jumps onto the couch.", {"contact:dog"},
     {"contact:house"}),
    ("A cat is lying in the sun, then it suddenly starts chasing its tail.", {"shadow:cat"}, {"shadow:start"}),
    # what surrounds, overlooks or borders still water stands beside it
    ("The jagged grey rocks surrounded the calm blue lake.", {"reflection:rock"}, set()),
    ("A bench in a green park overlooks a reflecting pool.", {"reflection:bench"}, set()),
    ("a lake surrounded by tall trees", {"reflection:tree"}, set()),
    # papers or flags on a sign are stuck there (a picture on a t-shirt stays printed)
    ("A stop sign that has some papers on it.", {"contact:paper"}, set()),
    ("a black t-shirt with the peace sign on it", set(), {"contact:peace sign"}),
    # a figure in a field or the snow stands on it whatever it does; a thing in the snow rests in it
    ("llama in a grassy field on a sunny day oil on canvas", {"contact:llama"}, set()),
    ("a fox hunts a rabbit in the snow", {"contact:fox"}, set()),
    ("a group of people on skis in the snow", {"contact:skis"}, set()),
    ("a tree in a field at sunset", set(), {"contact:tree"}),
    # parts of things cast no shadow of their own and rest on nothing
    ("a broom with stiff bristles on a grey floor in the sunlight", {"shadow:broom"}, {"shadow:bristle"}),
    ("The glass jar and metallic lid hold the rubber bands on the wooden desk.", {"contact:jar"}, {"contact:lid"}),
])
def test_twelfth_round_everyday_phrasing(prompt, want, not_want):
    """Round 12 (held-out N, once measured, and VBench's even half, read by eye, as development data)."""
    assert_implied(prompt, want, not_want)


def test_twelfth_round_stated_shadows_are_the_casters():
    """A shadow the prompt names is its caster's: "surround and shadow deep canyons" (the mountains'), "drifted
    across the sky, casting their shadows" (the clouds', not the sky's)."""
    def owners(prompt):
        g = parse(prompt)
        names = {n.id: n.name for n in g.nodes}
        return {names.get(n.physics.get("of")) for n in g.nodes if n.kind == "shadow"}
    assert owners("snow blanketed rocky mountains surround and shadow deep canyons.") == {"mountain"}
    assert owners("The fluffy, white clouds drifted lazily across the blue sky, casting their fleeting shadows on "
                  "the city below.") == {"cloud"}


def test_twelfth_round_verbs_the_dictionary_has_only_as_verbs():
    """A verb's base form the dictionary never reads as a noun is a verb where a verb stands ("the flowers provide
    a", "appear to be"); elsewhere a noun the dictionary misses stays a noun ("white counter tops", "a crochet
    covered chair", "a log")."""
    assert "flowers provide" not in explicit("The garden flowers provide a splash of color.")
    assert "garden flower" in explicit("The garden flowers provide a splash of color.")
    assert set(explicit("Small figures appear to be dancing on the table.")) == {"figure", "table"}
    assert "counter top" in explicit("black cupboards with white counter tops while sun shines")
    assert "log" in explicit("a log on the fire")
    assert "chair" in explicit("a tan colored teddy bear sits on a crochet covered chair.")


def test_twelfth_round_entity_names():
    assert set(explicit("a plaza in front of a government building")) == {"plaza", "government building"}
    assert set(explicit("a crowd of people riding on the back of a red and white boat")) >= {"person", "boat"}
    assert "crowd" not in explicit("a crowd of people riding on the back of a red and white boat")
    assert set(explicit("The glass vase and metallic tongs mix the fluffy greens.")) == {"vase", "tong", "green"}
    assert explicit("The leather wallet sits on the fabric pouch.")["pouch"].texture.get("material") == "fabric"
    assert set(explicit("a shark is swimming in the ocean, racking focus")) == {"shark", "ocean"}


def test_every_held_out_set_from_d_on_has_its_draw_record():
    """The draw procedure of each held-out set (D to O) is kept with the data: what was read, filtered, discarded
    and kept, in which order; its counts match the set."""
    for x in "defghijklmnopqr":
        record = json.loads((Path(__file__).parents[1] / "data" / "draws" / f"heldout_{x}_draw.json").read_text())
        assert record["kept"] == len(_load(f"csg_everyday_heldout_{x}.jsonl")), x
        assert record["examined"] >= record["kept"] and record["discarded_no_implied_node"] >= 0, x


@pytest.mark.parametrize("prompt, want, not_want", [
    # round 13 (held-out O, once measured, and VBench-2.0's even half, read by eye, as development data)
    ("a girl putting ketchup on food at the kitchen", {"contact:ketchup"}, {"contact:girl"}),
    ("A person is squeezing ketchup onto a plate.", {"contact:ketchup"}, {"contact:person"}),
    ("men loading christmas tree on tow truck", {"contact:christmas tree"}, set()),
    ("Man unloading luggage onto an airport cart from a car.", {"contact:luggage"}, {"contact:man"}),
    ("A jellyfish floating through the ocean, with bioluminescent tentacles", {"ripple:jellyfish"}, set()),
    ("wild ducks paddling on the lake surface", {"ripple:duck", "reflection:duck"}, {"contact:duck"}),
    ("candle on a jar and a house figurine on a surface", {"contact:candle", "contact:house figurine"},
     {"contact:jar"}),
    ("A cute happy Corgi playing in park, sunset, zoom in", {"contact:corgi", "shadow:corgi"}, set()),
    ("people walking by a graveyard near a mosque at sunset", {"shadow:person"}, {"shadow:graveyard"}),
    ("night travel in london street on a public bus", set(), {"contact:travel"}),
    # VBench-2.0's moves: "then the cat runs to the front of the table"
    ("A cat is under the table, then the cat runs to the front of the table.", {"occlusion:cat"}, set()),
    ("A squirrel is on the left of a rock, then the squirrel jumps to the top of the rock.", {"contact:squirrel"},
     set()),
    # a liquid poured onto a thing wets it, resting on nothing; a timelapse or a temperature is no thing
    ("A timelapse captures the reaction as concentrated sulfuric acid is poured onto a piece of toast.", set(),
     {"contact:acid", "contact:timelapse"}),
    ("A timelapse captures the gradual transformation of a candle as the temperature rises to 40°C.", set(),
     {"shadow:timelapse", "shadow:c", "shadow:°c", "shadow:temperature"}),
])
def test_thirteenth_round_everyday_phrasing(prompt, want, not_want):
    assert_implied(prompt, want, not_want)


@pytest.mark.parametrize("prompt, want, not_want", [
    # round 14 (held-out P, once measured, and SugarCrepe's even half, read by eye, as development data)
    ("A man sitting on a bench with a tall building behind him.", {"contact:man", "occlusion:man"},
     {"contact:building", "occlusion:bench"}),
    ("a painting of the Mona Lisa with New York City behind her", {"occlusion:mona lisa"}, set()),
    ("A cup, toothbrushes, and other items sit on the side of a small sink.",
     {"contact:cup", "contact:toothbrush", "contact:item"}, set()),
    ("A laptop seems to have the infamous blue screen of death on the desk.", {"contact:laptop"},
     {"contact:laptop seem"}),
    ("A cork is placed on the surface of a bucket filled with water.", {"ripple:cork", "fill:bucket"},
     {"contact:cork", "reflection:cork"}),
    ("A clear glass of oil is gently poured into a glass of milk.", {"splash:oil"},
     {"splash:glass", "refraction:glass"}),
    ("A horse is standing in the barn, then it suddenly starts shaking its mane.", {"contact:horse"}, set()),
    ("a leaf floating on the water", {"reflection:leaf", "ripple:leaf"}, set()),
    ("A woman is sitting in a chair with an umbrella.", {"contact:woman"}, {"contact:umbrella"}),
    ("a table with a cake and an umbrella", {"contact:cake", "contact:umbrella"}, set()),
    ("Giraffes leaning down to drink at a watering hole", {"reflection:giraffe"}, set()),
    ("a man at the beach", set(), {"reflection:man"}),
])
def test_fourteenth_round_everyday_phrasing(prompt, want, not_want):
    assert_implied(prompt, want, not_want)


@pytest.mark.parametrize("prompt, want, not_want", [
    # round 15 (held-out Q, once measured, and SugarCrepe's even half as development data)
    ("Three people sitting on a bench in front of a lake.", {"reflection:person", "contact:person"}, set()),
    ("a tent near a lake", set(), {"reflection:tent"}),               # near is not beside
    ("A black cat sitting inside a bathroom sink", {"contact:cat"}, set()),
    ("flock of goose eating on the lake water", {"reflection:goose", "ripple:goose"}, set()),
    ("a cat looking at a mirror", {"reflection:cat"}, set()),          # a figure acting on a mirror faces it
    ("A brown horse stands over a light colored dog.", set(), {"shadow:horse", "shadow:dog"}),
    ("theres a cat on the mat", {"contact:cat"}, set()),
])
def test_fifteenth_round_everyday_phrasing(prompt, want, not_want):
    assert_implied(prompt, want, not_want)


def test_fifteenth_round_entity_names():
    assert set(explicit("Three teddy bears that are sitting next to each other.")) == {"teddy bear"}
    assert set(explicit("A black cat sitting inside a bathroom sink")) == {"cat", "bathroom sink"}
    assert set(explicit("flock of goose eating on the lake water")) == {"goose", "lake"}
