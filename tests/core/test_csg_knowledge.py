"""The physics knowledge is data: users add words and rules in their own JSON file, no code."""
from __future__ import annotations

import json

import pytest

from lina_nodes.csg.knowledge import DEFAULT_PATH, load_knowledge
from lina_nodes.csg.parser import parse
from lina_nodes.errors import CSGError


def user_file(tmp_path, edit):
    data = json.loads(DEFAULT_PATH.read_text())
    edit(data)
    p = tmp_path / "my_physics.json"
    p.write_text(json.dumps(data))
    return p


def test_bundled_file_loads_with_rules_and_traits():
    kb = load_knowledge()
    assert {"mirror_reflection", "surface_reflection", "cast_shadow", "support_contact", "fill_level", "occlusion",
            "refraction", "splash", "ripple"} <= {r["id"] for r in kb.rules}
    assert kb.has_trait("lamp", "light", "light") and kb.has_trait("mirror", "surface", "reflective")
    assert kb.has_trait("jar", "container", "container") and kb.has_trait("water", "medium", "liquid")
    assert kb.has_trait("table", "surface", "support")


def test_user_can_add_a_light_source_word(tmp_path):
    assert not any(n.kind == "shadow" for n in parse("a cup under a glowstone").nodes)
    p = user_file(tmp_path, lambda d: d["entities"]["light"].append("glowstone"))
    g = parse("a cup under a glowstone", knowledge=p)
    assert any(n.kind == "shadow" for n in g.nodes)
    assert g.meta["knowledge_sha256"] != parse("a cup").meta["knowledge_sha256"]


def test_user_can_add_a_rule_without_code(tmp_path):
    rule = {
        "id": "steam", "description": "a hot drink steams",
        "match": {"a": {"name": ["coffee", "tea"], "negated": False}},
        "add": {"kind": "splash", "id": "steam_{a}", "name": "steam", "hop": 1},
        "edges": [{"src": "a", "dst": "new", "kind": "causal", "relation": "splashes"}],
        "constraints": [{"kind": "present", "subject": "new", "text": "Does steam rise from {a_label}?"}],
    }
    p = user_file(tmp_path, lambda d: d["rules"].append(rule))
    g = parse("a cup of coffee", knowledge=p)
    steam = [n for n in g.nodes if n.name == "steam"]
    assert len(steam) == 1 and steam[0].hop == 1 and not steam[0].explicit
    assert any(c.text == "Does steam rise from the coffee?" for c in g.constraints)


def test_removing_a_rule_removes_its_nodes(tmp_path):
    p = user_file(tmp_path, lambda d: d.__setitem__("rules", [r for r in d["rules"] if r["id"] != "cast_shadow"]))
    assert not any(n.kind == "shadow" for n in parse("a cup under a lamp", knowledge=p).nodes)


@pytest.mark.parametrize("edit, field", [
    (lambda d: d.pop("rules"), "knowledge.rules"),
    (lambda d: d["rules"][0].__setitem__("bogus", 1), "knowledge.rules[0]"),
    (lambda d: d["rules"][0]["add"].__setitem__("kind", "ghost"), "knowledge.rules[0].add.kind"),
    (lambda d: d["rules"][0]["match"]["a"].__setitem__("colour_of", "x"), "knowledge.rules[0]"),
    (lambda d: d["lexicon"].__setitem__("spatial_phrases", ["on"]), "knowledge.lexicon.spatial_phrases"),
    (lambda d: d["lexicon"].__setitem__("verb_particles", {"travel": ["along"]}),
     "knowledge.lexicon.verb_particles.travel"),
    (lambda d: d["lexicon"]["verb_particles"]["travel"].__setitem__("along", "sideways"),
     "knowledge.lexicon.verb_particles.travel"),
    (lambda d: d["lexicon"].__setitem__("colors", "red"), "knowledge.lexicon.colors"),
])
def test_bad_knowledge_files_are_clear_errors(tmp_path, edit, field):
    p = user_file(tmp_path, edit)
    with pytest.raises(CSGError) as info:
        parse("a red ball in front of a mirror under a lamp", knowledge=p)
    assert field in str(info.value)


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(CSGError, match="does not exist"):
        load_knowledge(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CSGError, match="not valid JSON"):
        load_knowledge(bad)


def test_a_rule_naming_a_missing_trait_is_refused_with_the_field(tmp_path):
    def edit(d):
        d["rules"][0]["match"]["b"]["trait"] = "reflectiv"
    with pytest.raises(CSGError) as e:
        load_knowledge(user_file(tmp_path, edit))
    assert "reflectiv" in str(e.value) and "rules[0].match.b.trait" in str(e.value)
