"""The layout-focus lever: pure math (4-D and 5-D), the boxes it reads from a CSG, and its window in the patch."""
from __future__ import annotations

import pytest
import torch

from lina_nodes.csg import parse
from lina_nodes.intervention import layout_focus as lf
from lina_nodes.intervention.plan import LinaPlan, PlanError
from lina_nodes.intervention.prior import prior_plan

BOX = [{"node": "o", "box": [0.25, 0.25, 0.75, 0.75], "weight": 1.0}]


def test_layout_boxes_are_content_nodes_not_backdrops():
    g = parse("a large cyan cone at the edge of a small mirror on the floor")
    ids = {r.node for r in lf.layout_boxes(g)}
    assert {"cone_0", "mirror_0", "reflection_cone_0"} <= ids and "floor_0" not in ids   # the floor is a backdrop
    assert prior_plan(g).layout_boxes and prior_plan(g).layout_strength == 0.0          # off in the prior
    assert not lf.layout_boxes(parse("no ball"))


@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (1, 4, 3, 8, 8)])
def test_focus_moves_only_outside_the_boxes_toward_the_row_background(shape):
    torch.manual_seed(0)
    plan = LinaPlan().updated(layout_boxes=BOX, layout_strength=1.0, layout_share=0.5)
    keep = lf.keep_mask(plan, shape)
    d = torch.randn(shape)
    out = lf.focus(d, keep, 1.0)
    inside = (slice(None),) * (len(shape) - 2) + (slice(2, 6), slice(2, 6))
    assert torch.equal(out[inside], d[inside])                        # content inside the layout: untouched
    bg = d.median(dim=-1, keepdim=True).values.expand_as(d)
    outside = keep.expand_as(d) == 0
    assert torch.allclose(out[outside], bg[outside], atol=1e-6)                 # eta 1: outside = the row's background
    half = lf.focus(d, keep, 0.5)
    assert torch.allclose(half[outside], (0.5 * (d + bg))[outside], atol=1e-6)
    assert lf.focus(d, keep, 0.0) is d and lf.focus(d, None, 1.0) is d


def test_layout_fields_are_validated_and_round_trip():
    with pytest.raises(PlanError, match="layout_strength"):
        LinaPlan().updated(layout_strength=1.5)
    with pytest.raises(PlanError, match="layout_boxes"):
        LinaPlan().updated(layout_boxes=[{"node": "o", "box": [0.5, 0.5, 0.2, 0.9]}])
    p = LinaPlan().updated(layout_boxes=BOX, layout_strength=0.5, layout_share=0.25)
    assert LinaPlan.from_json(p.to_json()) == p
