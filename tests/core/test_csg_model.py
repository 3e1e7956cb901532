"""CSG v1 data model: lossless JSON round trip and validation errors that name the exact path."""
from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from lina_nodes.csg import CSG, Constraint, Edge, Node
from lina_nodes.csg.model import CONSTRAINT_KINDS, EDGE_KINDS, NODE_KINDS
from lina_nodes.csg.parser import parse
from lina_nodes.csg.validate import SCHEMA_PATH, errors_of, load_schema
from lina_nodes.errors import CSGError, LinaError


def small_graph() -> CSG:
    return CSG(
        prompt="a red ball in front of a mirror",
        nodes=(Node("ball_0", "ball", "object", texture={"color": "red"}, box=(0.1, 0.5, 0.3, 0.7), span=(0, 10)),
               Node("mirror_0", "mirror", "surface", box=(0.4, 0.2, 0.8, 0.7)),
               Node("reflection_ball_0", "reflection", "reflection", explicit=False, hop=2,
                    physics={"of": "ball_0"}, box=(0.45, 0.4, 0.6, 0.55))),
        edges=(Edge("ball_0", "mirror_0", "spatial", "in_front_of"),
               Edge("mirror_0", "reflection_ball_0", "causal", "reflects")),
        constraints=(Constraint("c0", "reflection_inside", "reflection_ball_0", "mirror_0", {}, "Inside?"),),
        meta={"parser": "hand"},
    )


def test_round_trip_is_lossless_for_hand_and_parsed_graphs():
    for g in (small_graph(), parse("two blue cubes left of a red ball on a polished floor under a lamp, no shadow")):
        text = g.to_json()
        back = CSG.from_json(text)
        assert back == g
        assert back.to_json() == text
        assert json.loads(text)["version"] == "1.0"


def test_agreed_field_names_are_present():
    d = small_graph().to_dict()
    assert set(d) == {"version", "prompt", "nodes", "edges", "constraints", "meta"}
    assert set(d["nodes"][0]) >= {"id", "name", "kind", "explicit", "hop", "count", "texture", "physics", "box",
                                  "negated", "span"}
    assert set(d["edges"][0]) == {"src", "dst", "kind", "relation", "negated", "attrs"}
    assert set(d["constraints"][0]) == {"id", "kind", "subject", "object", "params", "text"}


def test_schema_file_lists_the_same_enums_as_the_classes():
    s = json.loads(SCHEMA_PATH.read_text())
    assert s == load_schema()
    assert s["$defs"]["node"]["properties"]["kind"]["enum"] == list(NODE_KINDS)
    assert s["$defs"]["edge"]["properties"]["kind"]["enum"] == list(EDGE_KINDS)
    assert s["$defs"]["constraint"]["properties"]["kind"]["enum"] == list(CONSTRAINT_KINDS)


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["nodes"][1]["texture"].__setitem__("color", 3), "nodes[1].texture.color: expected a string"),
    (lambda d: d["nodes"][0].__setitem__("kind", "blob"), "nodes[0].kind: expected one of"),
    (lambda d: d["nodes"][0].__setitem__("box", [0.5, 0.1, 0.2, 0.9]), "nodes[0].box: expected x0 < x1"),
    (lambda d: d["nodes"][0].__setitem__("box", [0.1, 0.1, 0.2]), "nodes[0].box: expected at least 4 item"),
    (lambda d: d["nodes"][0]["box"].__setitem__(3, 1.5), "nodes[0].box[3]: expected a value <= 1"),
    (lambda d: d["nodes"][0].__setitem__("hop", True), "nodes[0].hop: expected an integer"),
    (lambda d: d["nodes"][2].__setitem__("hop", 0), "nodes[2].hop: expected 1 or more"),
    (lambda d: d["nodes"][0].__setitem__("count", 0), "nodes[0].count: expected >= 1"),
    (lambda d: d["nodes"][1].__setitem__("id", "ball_0"), "nodes[1].id: duplicate node id"),
    (lambda d: d["edges"][0].__setitem__("dst", "ghost"), "edges[0].dst: expected a node id, got 'ghost'"),
    (lambda d: d["edges"][0].__setitem__("relation", "inbetween"), "edges[0].relation: expected one of"),
    (lambda d: d["edges"][1].__setitem__("kind", "magic"), "edges[1].kind: expected one of"),
    (lambda d: d["constraints"][0].__setitem__("subject", "nobody"), "constraints[0].subject: expected a node id"),
    (lambda d: d["constraints"][0].__setitem__("kind", "vibes"), "constraints[0].kind: expected one of"),
    (lambda d: d.__setitem__("version", "2.0"), "version: expected format version"),
    (lambda d: d.pop("nodes"), "nodes: is required but missing"),
    (lambda d: d.__setitem__("extra", 1), "extra: unknown field"),
    (lambda d: d["nodes"][0].__setitem__("span", [5, 99]), "nodes[0].span: expected 0 <= start <= end"),
    (lambda d: d["nodes"][0]["physics"].__setitem__("fill", 1.5), "nodes[0].physics.fill: expected a value <= 1"),
    (lambda d: d["nodes"][0]["physics"].__setitem__("support", "table_9"), "nodes[0].physics.support: expected a node id"),
])
def test_validation_errors_name_the_path(mutate, expected):
    d = copy.deepcopy(small_graph().to_dict())
    mutate(d)
    with pytest.raises(CSGError) as info:
        CSG.from_dict(d)
    assert str(info.value).startswith(expected), str(info.value)
    assert isinstance(info.value, LinaError)


def test_valid_graph_has_no_errors_and_bad_json_is_a_csg_error():
    assert errors_of(small_graph().to_dict()) == []
    for bad in ("{", "[]", "null", "42", '"x"', b"\xff\xfe", "{\"version\": \"1.0\"}"):
        with pytest.raises(CSGError):
            CSG.from_json(bad)


def test_nan_and_deep_nesting_are_rejected_cleanly():
    d = small_graph().to_dict()
    d["nodes"][0]["box"][0] = float("nan")
    with pytest.raises(CSGError, match=r"nodes\[0\]\.box\[0\]"):
        CSG.from_dict(d)
    with pytest.raises(CSGError):
        CSG.from_json("[" * 100000 + "]" * 100000)


def test_node_lookup_and_immutability():
    g = small_graph()
    assert g.node("mirror_0").kind == "surface"
    with pytest.raises(CSGError, match="no node with id"):
        g.node("nope")
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.nodes[0].name = "cube"  # frozen dataclass
