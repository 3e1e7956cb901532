"""Region prompts: per-node masked conditioning derived from the parsed CSG only; bounded, validated plan fields;
the composite changes a prediction only inside the masks."""
from __future__ import annotations

import pytest
import torch

from lina_nodes.csg import parse
from lina_nodes.intervention import regions
from lina_nodes.intervention.plan import LinaPlan, PlanError
from lina_nodes.intervention.prior import prior_plan


def texts(prompt: str) -> list[str]:
    return [r.text for r in regions.region_prompts(parse(prompt))]


@pytest.mark.parametrize("prompt,want", [
    ("a large cyan cone eats a small orange cube", ["a large cyan cone", "a small orange cube"]),
    ("a snake eats a bird", ["a snake", "a bird"]),
    ("a red ball in front of a small mirror", ["a red ball"]),   # the mirror is a surface, the reflection implied
    ("no ball on the table", []),                                # negated: nothing to place
    ("", []),
])
def test_region_prompts_are_the_explicit_objects_phrases(prompt, want):
    assert texts(prompt) == want


def test_boxes_come_from_the_layout_and_follow_the_prompt_order():
    g = parse("a large cyan cone eats a small orange cube")
    rp = regions.region_prompts(g)
    boxes = {n.id: tuple(n.box) for n in g.nodes}
    assert [r.node for r in rp] == ["cone_0", "cube_0"] and all(r.box == boxes[r.node] for r in rp)


def test_prior_fills_the_prompts_and_leaves_the_lever_off():
    p = prior_plan(parse("a snake eats a bird"))
    assert len(p.region_prompts) == 2 and p.region_strength == 0.0 and not regions.active(p)
    on = p.updated(region_strength=2.0, region_share=0.5)
    assert regions.active(on)
    assert LinaPlan.from_json(on.to_json()) == on       # round trip keeps the phrases and boxes


@pytest.mark.parametrize("change,field", [
    ({"region_strength": 5.0}, "plan.region_strength"),
    ({"region_share": 0.99}, "plan.region_share"),
    ({"region_strength": float("nan")}, "plan.region_strength"),
    ({"region_prompts": [{"node": "a", "text": "", "box": [0, 0, 0.5, 0.5]}]}, "region_prompts[0].text"),
    ({"region_prompts": [{"node": "a", "text": "a ball", "box": [0.5, 0, 0.4, 0.5]}]}, "region_prompts[0].box"),
    ({"region_prompts": [{"node": "a", "text": "a ball"}]}, "region_prompts[0]"),
    ({"region_prompts": [{"node": str(i), "text": "a ball", "box": [0, 0, 1, 1]} for i in range(9)]},
     "plan.region_prompts"),
])
def test_bad_values_name_the_field(change, field):
    with pytest.raises(PlanError) as e:
        prior_plan(parse("a snake eats a bird")).updated(**change)
    assert e.value.field.endswith(field), e.value.field


def test_bad_json_names_the_field():
    d = prior_plan(parse("a snake eats a bird")).to_dict()
    d["region_prompts"] = {"text": "a ball"}
    with pytest.raises(PlanError) as e:
        LinaPlan.from_dict(d)
    assert e.value.field == "plan.region_prompts"


def test_composite_acts_only_inside_the_masks():
    torch.manual_seed(0)
    base, p1, p2 = torch.randn(3, 2, 4, 16, 16).unbind(0)
    m1 = regions.latent_mask((0.1, 0.1, 0.3, 0.3), 16, 16)
    m2 = regions.latent_mask((0.6, 0.5, 0.9, 0.8), 16, 16)
    out = regions.composite(base, [p1, p2], [m1, m2], 2.0)
    outside = (m1 == 0) & (m2 == 0)
    assert torch.equal(out[..., outside], base[..., outside])
    inside = (m1 == 1) & (m2 == 0)
    assert torch.allclose(out[..., inside], ((base + 2 * p1) / 3)[..., inside], atol=1e-6)
    assert torch.equal(regions.composite(base, [p1], [m1], 0.0), base)   # strength 0: the prediction unchanged


def test_latent_mask_is_the_padded_box_resized_as_comfyui_resizes_a_mask():
    m = regions.latent_mask((0.25, 0.25, 0.5, 0.5), 8, 8)        # cells 2-3 of 8 (bilinear samples cell centres)
    want = torch.zeros(8, 8)
    want[2:4, 2:4] = 1.0
    assert torch.equal(m, want)
    fine = regions.latent_mask((0.25, 0.25, 0.5, 0.5), 128, 128)   # at the drawing resolution: the 0.05 padding
    assert float(fine[26, 26]) == 1.0 and float(fine[24, 24]) == 0.0 and float(fine[70, 70]) == 1.0


def test_region_changes_turn_the_lever_on_by_strength_alone():
    assert regions.region_changes(0.0) is None
    assert regions.region_changes(2.5) == {"region_strength": 2.5, "region_share": regions.DEFAULT_SHARE}
    for bad in (-1.0, 4.5, float("nan"), "2", True):
        with pytest.raises(PlanError) as e:
            regions.region_changes(bad)
        assert e.value.field == "region_strength"
