"""Rule parser: entities, attributes, counts, coordination, spatial, actions (passive), comparatives,
quantities, negation, several clauses, unknown words; implied nodes from the physics knowledge."""
from __future__ import annotations

import pytest

from lina_nodes.csg.parser import MAX_PROMPT_CHARS, parse
from lina_nodes.errors import CSGError


def names(g):
    return {n.name for n in g.nodes if n.explicit}


def node(g, name):
    found = [n for n in g.nodes if n.name == name and n.explicit]
    assert found, f"no node {name!r} in {[n.id for n in g.nodes]}"
    return found[0]


def rels(g, kind=None):
    by = {n.id: n.name for n in g.nodes}
    return {(by[e.src], e.relation, by[e.dst]) + (("NOT",) if e.negated else ()) for e in g.edges
            if kind is None or e.kind == kind}


def test_attributes_counts_and_plurals():
    g = parse("two small blue metal cubes, 3 striped balls and twelve apples")
    cube = node(g, "cube")
    assert cube.count == 2 and cube.texture == {"color": "blue", "material": "metal"}
    assert cube.physics["size"] == "small"
    assert node(g, "ball").count == 3 and node(g, "ball").texture["pattern"] == "striped"
    assert node(g, "apple").count == 12
    assert parse("some dogs").nodes[0].count == 2          # bare plural: at least two
    assert parse("a mouse and three mice").nodes[1].count == 3
    assert node(parse("two women"), "woman").kind == "agent"


def test_coordination_distributes_the_relation():
    g = parse("a red ball and two blue cubes on a table")
    assert ("ball", "on", "table") in rels(g) and ("cube", "on", "table") in rels(g)
    assert node(g, "ball").texture["color"] == "red" and node(g, "cube").texture["color"] == "blue"


@pytest.mark.parametrize("text, rel", [
    ("a cup on a table", "on"), ("a cat under a table", "under"), ("a fish in a bowl", "in"),
    ("a coin inside a box", "inside"), ("a bird above a house", "above"), ("a rug below a lamp", "below"),
    ("a cat to the left of a dog", "left_of"), ("a cat right of a dog", "right_of"),
    ("a car in front of a house", "in_front_of"), ("a boy behind a tree", "behind"),
    ("a cup next to a plate", "next_to"), ("a tent near a lake", "near"), ("a man close to a wall", "close_to"),
    ("a cabin far from a city", "far_from"),
])
def test_spatial_prepositions(text, rel):
    g = parse(text)
    assert [e.relation for e in g.edges if e.kind == "spatial"][0] == rel
    e = [e for e in g.edges if e.kind == "spatial"][0]
    assert g.node(e.src).span[0] < g.node(e.dst).span[0]  # subject first


def test_between_keeps_both_references():
    g = parse("a cat between a dog and a bird")
    e = [e for e in g.edges if e.relation == "between"][0]
    assert g.node(e.src).name == "cat" and g.node(e.dst).name == "dog" and g.node(e.attrs["third"]).name == "bird"


@pytest.mark.parametrize("a, b", [
    ("a snake eats a bird", "a bird eats a snake"),
    ("a snake is eaten by a bird", "a bird is eaten by a snake"),
    ("a dog chasing a cat", "a cat chasing a dog"),
])
def test_action_direction_flips_with_word_order(a, b):
    ea = [e for e in parse(a).edges if e.kind == "action"]
    eb = [e for e in parse(b).edges if e.kind == "action"]
    assert len(ea) == len(eb) == 1
    ga, gb = parse(a), parse(b)
    assert (ga.node(ea[0].src).name, ga.node(ea[0].dst).name) == (gb.node(eb[0].dst).name, gb.node(eb[0].src).name)


def test_passive_voice_points_from_agent_to_patient():
    g = parse("a snake is eaten by a bird")
    assert rels(g, "action") == {("bird", "eats", "snake")}
    assert rels(parse("the cat that the dog chases"), "action") == {("dog", "chases", "cat")}


def test_comparatives_and_fill_levels():
    g = parse("more dirt than empty space in the jar")
    assert ("dirt", "more_than", "empty space") in rels(g, "comparative")
    assert ("dirt", "in", "jar") in rels(g)
    jar = node(g, "jar")
    assert jar.physics["fill"] > 0.5
    assert any(c.kind == "fill_at_least" and c.subject == jar.id and c.params["value"] == 0.5 for c in g.constraints)
    assert node(parse("a glass half full of water"), "glass").physics["fill"] == 0.5
    assert node(parse("the bucket is almost empty"), "bucket").physics["fill"] == pytest.approx(0.1)
    assert node(parse("an empty jar"), "jar").physics["fill"] == 0.0
    g = parse("the ball is bigger than the box")
    e = [e for e in g.edges if e.kind == "comparative"][0]
    assert e.relation == "more_than" and e.attrs["quantity"] == "size"


def test_negation_of_nodes_and_edges():
    g = parse("a vase on a table under a lamp, no shadow")
    shadow = [n for n in g.nodes if n.name == "shadow"]
    assert len(shadow) == 1 and shadow[0].negated and shadow[0].count == 0   # no implied shadow added
    assert any(c.kind == "absent" and c.subject == shadow[0].id for c in g.constraints)
    assert ("cat", "on", "mat", "NOT") in rels(parse("a cat is not on the mat"))
    g = parse("a ball without a shadow and a cube under a lamp")
    assert not any(n.kind == "shadow" and not n.negated and n.physics.get("of") == node(g, "ball").id for n in g.nodes)


def test_several_clauses_and_coreference():
    g = parse("A candle stands next to a mirror. The candle is red; a cat sits on the floor.")
    assert [n.name for n in g.nodes if n.explicit].count("candle") == 1
    assert node(g, "candle").texture["color"] == "red"
    assert ("cat", "on", "floor") in rels(g)


def test_person_close_to_water_and_in_sand():
    g = parse("a person close to the water and in the sand")
    assert {("person", "close_to", "water"), ("person", "in", "sand")} <= rels(g)


def test_unknown_words_become_generic_entities():
    g = parse("a zorblax beside a quuxle")
    assert names(g) == {"zorblax", "quuxle"}
    assert node(g, "zorblax").kind == "object"
    assert ("zorblax", "next_to", "quuxle") in rels(g)


def test_implied_nodes_have_hops_edges_and_constraints():
    g = parse("a red ball in front of a small mirror")
    refl = [n for n in g.nodes if n.kind == "reflection"][0]
    assert not refl.explicit and refl.hop == 2 and refl.texture["color"] == "red"
    assert ("mirror", "reflects", "reflection") in rels(g, "causal")
    kinds = {c.kind for c in g.constraints if c.subject == refl.id}
    assert {"reflection_inside", "reflection_matches"} <= kinds
    g = parse("a cup on a table under a lamp")
    assert any(n.kind == "shadow" for n in g.nodes) and any(n.kind == "contact" for n in g.nodes)
    assert node(g, "cup").physics["support"] == node(g, "table").id
    assert any(c.kind == "touches_support" for c in g.constraints)
    assert any(n.kind == "refraction" for n in parse("a spoon in a glass of water").nodes)
    g = parse("a stone falls into the lake")
    assert {"splash", "ripple"} <= {n.kind for n in g.nodes}
    assert any(n.kind == "occlusion" for n in parse("a boy in front of a tree").nodes)
    assert not any(n.kind == "shadow" for n in parse("a cup on a table").nodes)  # no light, no shadow


def test_every_constraint_refers_to_existing_nodes_and_has_text():
    g = parse("a red ball and two blue cubes on a polished floor, a lamp on the left, a mirror behind them")
    ids = set(g.ids())
    for c in g.constraints:
        assert c.subject in ids and (c.object is None or c.object in ids) and c.text.endswith("?")


def test_deterministic():
    p = "a dog chasing a cat around a red car near a lake, a lamp on the right"
    assert parse(p, seed=3).to_json() == parse(p, seed=3).to_json()


@pytest.mark.parametrize("text", ["", "   ", "!!!", "the", "a a a", "of of by by", "\x00\x01\x02", "{\"nodes\": []}",
                                  "🐍 eats 🐦", "un chat sur la table", "is is not not", "more than than more",
                                  "between and and", "it", "its reflection", "no no no"])
def test_odd_input_never_raises(text):
    g = parse(text)
    assert g.prompt == text


def test_too_long_prompt_is_a_clear_error():
    with pytest.raises(CSGError, match="prompt"):
        parse("a" * (MAX_PROMPT_CHARS + 1))
    with pytest.raises(CSGError, match="expected a string"):
        parse(123)


@pytest.mark.parametrize("text", ["a small cyan cube near the edge of a small mirror",
                                  "a red ball at the edge of a mirror", "a red ball by the edge of a mirror"])
def test_edge_of_a_mirror_relates_to_the_mirror_and_implies_a_reflection(text):
    """'near the edge of X' is a place on X, not a separate object named 'edge'."""
    g = parse(text)
    kinds = {n.id: n.kind for n in g.nodes}
    assert "edge_0" not in kinds and "mirror_0" in kinds
    obj = next(i for i, k in kinds.items() if k == "object")
    assert any(e.src == obj and e.dst == "mirror_0" and e.relation == "near" for e in g.edges)
    assert f"reflection_{obj}" in kinds


def test_on_the_edge_of_a_table_is_support():
    g = parse("a cup on the edge of a table")
    assert any(e.src == "cup_0" and e.dst == "table_0" and e.relation == "on" for e in g.edges)
    assert any(n.kind == "contact" for n in g.nodes)
