"""The counterfactual negative: action roles reversed from the parsed CSG only, bounded plan fields."""
from __future__ import annotations

import pytest

from lina_nodes.csg import parse
from lina_nodes.intervention.counterfactual import counterfactual_prompt
from lina_nodes.intervention.plan import LinaPlan, PlanError
from lina_nodes.intervention.prior import prior_plan


@pytest.mark.parametrize("prompt,want", [
    ("a large cyan cylinder pushes a small yellow cone", "a large cyan cone pushes a small yellow cylinder"),
    ("a snake eats a bird", "a bird eats a snake"),
    ("a red ball in front of a mirror", ""),                 # no action: the lever is off
    ("a ball on a table", ""),
    ("", ""),
])
def test_roles_reverse_only_for_actions(prompt, want):
    assert counterfactual_prompt(parse(prompt)) == want


def test_prior_fills_the_text_and_leaves_the_lever_off():
    p = prior_plan(parse("a snake eats a bird"))
    assert p.counterfactual_prompt == "a bird eats a snake" and p.counterfactual_share == 0.0
    assert LinaPlan.from_json(p.to_json()) == p


@pytest.mark.parametrize("change,field", [({"counterfactual_share": 1.5}, "plan.counterfactual_share"),
                                          ({"counterfactual_share": float("nan")}, "plan.counterfactual_share"),
                                          ({"counterfactual_prompt": 3}, "plan.counterfactual_prompt")])
def test_bad_values_name_the_field(change, field):
    with pytest.raises(PlanError) as e:
        LinaPlan().updated(**change)
    assert str(e.value).startswith(field)
