"""The structure prompt (texture-only ground phrases deferred to after the first part of the early
window): which nodes are deferred, the text left, the prior's use of it, and the plan fields."""
from __future__ import annotations

import json

import pytest

from lina_nodes.csg import parse
from lina_nodes.csg.knowledge import load_knowledge
from lina_nodes.intervention.plan import LinaPlan, PlanError
from lina_nodes.intervention.prior import prior_plan
from lina_nodes.intervention.structure import STRUCTURE_SHARES
from lina_nodes.intervention.structure import structure_prompt


@pytest.mark.parametrize("prompt,expect", [
    ("a large purple cone close to the water and in the sand", "a large purple cone close to the water"),
    ("a small purple ball in the sand close to the water", "a small purple ball close to the water"),
    ("a small pink cube in the sand, close to the water", "a small pink cube close to the water"),
    ("a cube in the sand and close to the water", "a cube close to the water"),
    ("a small red ball in the sand, far from the water", "a small red ball far from the water"),
    ("a man standing in the snow in front of a house", "a man standing in front of a house"),
    ("a man walking in the snow near a frozen lake", "a man walking near a frozen lake"),   # verbs stay
    ("a snake in the grass eats a bird", "a snake eats a bird"),
])
def test_ground_phrase_is_cut_and_the_relation_kept(prompt, expect):
    text, ids = structure_prompt(parse(prompt))
    assert text == expect
    assert len(ids) == 1 and ids[0].split("_")[0] in ("sand", "snow", "grass")


@pytest.mark.parametrize("prompt", [
    "a cube in the sand",                                   # nothing else places the cube
    "a small blue cube close to the water and on the grass",  # grass supports the cube: physics, kept
    "a small green ball in the water next to the sand",     # sand is not where the ball is placed
    "a red ball in front of a small mirror",
    "a bird not in the snow near a tree",                   # negated
    "more dirt than empty space in the jar",                # dirt fills the jar
])
def test_nothing_deferred_leaves_the_prompt(prompt):
    g = parse(prompt)
    assert structure_prompt(g) == (g.prompt, [])
    plan = prior_plan(g)
    assert plan.structure_prompt == "" and plan.structure_share == 0.0


def test_empty_graph_and_knowledge_without_the_trait(tmp_path):
    from lina_nodes.csg.model import CSG

    assert structure_prompt(CSG()) == ("", [])
    with open(load_knowledge().path) as f:
        data = json.load(f)
    del data["traits"]["ground_cover"]
    data["rules"] = [r for r in data["rules"] if "ground_cover" not in json.dumps(r["match"])]   # the loader refuses them
    p = tmp_path / "k.json"
    p.write_text(json.dumps(data))
    kb = load_knowledge(p)
    g = parse("a cube in the sand and close to the water", knowledge=kb)
    assert structure_prompt(g, kb) == (g.prompt, [])


def test_prior_sets_the_structure_phase_and_the_plan_round_trips():
    plan = prior_plan(parse("a large purple cone close to the water and in the sand"))
    assert plan.structure_prompt == "a large purple cone close to the water"
    assert plan.structure_share == STRUCTURE_SHARES["ground_cover"] and any("sand_0" in n for n in plan.notes)
    back = LinaPlan.from_json(plan.to_json())
    assert back == plan
    with pytest.raises(PlanError, match="plan.structure_share"):
        plan.updated(structure_share=1.5)
    with pytest.raises(PlanError, match="plan.structure_share"):
        LinaPlan.from_dict({**plan.to_dict(), "structure_share": float("nan")})
    with pytest.raises(PlanError, match="plan.structure_prompt"):
        LinaPlan.from_dict({**plan.to_dict(), "structure_prompt": 3})


@pytest.mark.parametrize("prompt,coarse", [
    ("a small cyan cube near the edge of a small mirror", "a small cyan cube near a small mirror"),
    ("a large cyan cone at the edge of a small mirror on the floor", "a large cyan cone near a small mirror on the floor"),
    ("a small mirror with a small orange ball standing at its edge", "a small mirror with a small orange ball"),
    ("a red ball by the edge of a small pond", "a red ball near a small pond"),
])
def test_fine_placement_is_coarsened_for_the_structure_phase(prompt, coarse):
    from lina_nodes.intervention.structure import structure_plan

    text, share, deferred = structure_plan(parse(prompt))
    assert (text, share, deferred) == (coarse, STRUCTURE_SHARES["placement"], ["fine placement"])
    plan = prior_plan(parse(prompt))
    assert plan.structure_prompt == coarse and plan.structure_share == STRUCTURE_SHARES["placement"]


@pytest.mark.parametrize("prompt", ["a small blue cone at the edge of a large mirror", "a cone near the edge of a mirror",
                                    "a red ball by the edge of a large pond", "a large mirror with a cone at its edge"])
def test_a_fine_placement_on_a_large_or_unsized_reference_is_not_deferred(prompt):
    """Only a small reference is drawn too wide; elsewhere the coarse phrase would lose where the object stands."""
    from lina_nodes.intervention.structure import structure_plan

    assert structure_plan(parse(prompt)) == ("", 0.0, [])
    assert prior_plan(parse(prompt)).structure_share == 0.0


def test_nothing_to_defer_gives_no_structure_phase():
    from lina_nodes.intervention.structure import structure_plan

    assert structure_plan(parse("a red ball on a table next to the edge")) == ("", 0.0, [])
    assert prior_plan(parse("a red ball in front of a small mirror")).structure_share == 0.0


@pytest.mark.parametrize("prompt, stand_in", [
    ("a small mirror with a large pink cone standing at its edge", "a small mirror with a large pink cylinder"),
    ("a large mirror under a small blue cone", "a large mirror under a small blue cylinder"),
    ("two cones on a table", "two cylinders on a table"),
    ("a traffic cone on the road", ""),           # a compound is its own thing
    ("a red ball on a mirror", "a red cylinder on a mirror"),     # every shape: the layout before the shapes
    ("a large cube eats a small ball", "a large cylinder eats a small cylinder"),
    ("a red cylinder on a mirror", ""),                            # already the stand-in
])
def test_shape_stand_in_text_builds_on_the_structure_prompt(prompt, stand_in):
    from lina_nodes.intervention.prior import prior_plan

    assert prior_plan(parse(prompt)).stand_in_prompt == stand_in


def test_stand_in_turns_the_structure_phase_on_only_when_asked_and_only_with_a_stand_in():
    from lina_nodes.intervention.prior import prior_plan
    from lina_nodes.intervention.structure import resolve_stand_in

    plan = prior_plan(parse("a small mirror with a large pink cone standing at its edge"))
    assert resolve_stand_in(plan) == plan and plan.stand_in_share == 0.0       # the prior leaves it off
    on = resolve_stand_in(plan.updated(stand_in_share=0.9))
    assert on.structure_prompt == "a small mirror with a large pink cylinder"
    assert plan.structure_share == on.structure_share == 0.8                    # joins the placement phase
    assert resolve_stand_in(on) == on                                           # idempotent
    shorter = resolve_stand_in(plan.updated(structure_share=0.95, stand_in_share=0.3))
    assert shorter.structure_share == 0.3                                       # deferrals combine at the shorter
    sand = prior_plan(parse("a large cyan cone close to the water and in the sand"))
    assert sand.structure_share == 0.5 and resolve_stand_in(sand.updated(stand_in_share=0.9)).structure_share == 0.5
    alone = resolve_stand_in(prior_plan(parse("a large cyan cone in front of a mirror")).updated(stand_in_share=0.9))
    assert alone.structure_prompt == "a large cyan cylinder in front of a mirror" and alone.structure_share == 0.9
    cyl = prior_plan(parse("a red cylinder on a mirror"))
    assert resolve_stand_in(cyl.updated(stand_in_share=0.9)) == cyl             # nothing to stand in: same plan
    with pytest.raises(PlanError, match="stand_in_share"):
        plan.updated(stand_in_share=1.5)
    with pytest.raises(PlanError, match="stand_in_prompt"):
        plan.updated(stand_in_prompt=3)


def test_lever_inputs_map_to_plan_changes_and_name_the_bad_input():
    from lina_nodes.intervention.lever_inputs import lever_changes

    assert lever_changes() is None and lever_changes(0.0, False) is None          # the plan's own
    assert lever_changes(2.0) == {"region_strength": 2.0, "region_share": 0.9}
    assert lever_changes(0.0, True) == {"stand_in_share": 0.9}
    assert lever_changes(4.0, True) == {"region_strength": 4.0, "region_share": 0.9, "stand_in_share": 0.9}
    for bad, field in (((9.0, False), "region_strength"), ((0.0, "yes"), "shape_stand_in"), ((0.0, 1), "shape_stand_in")):
        with pytest.raises(PlanError) as e:
            lever_changes(*bad)
        assert e.value.field == field
