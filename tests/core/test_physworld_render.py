"""PhysWorld scenes, renderer, masks, CSG and prompts."""
from __future__ import annotations

import numpy as np
import pytest

from lina_nodes.csg.model import CSG
from lina_nodes.errors import PhysWorldError
from lina_nodes.physworld.csg_build import to_csg
from lina_nodes.physworld.geometry import obj_box
from lina_nodes.physworld.judge import CHECKS
from lina_nodes.physworld.palette import COLOR_NAMES
from lina_nodes.physworld.render import render
from lina_nodes.physworld.scene import CATEGORIES, Scene, sample_scene
from lina_nodes.physworld.templates import _options, prompt_for

SCENES = [sample_scene(i, CATEGORIES[i % len(CATEGORIES)]) for i in range(140)]


def test_deterministic_per_seed_and_varied():
    a, ma = render(sample_scene(5, "reflection"), 64)
    b, mb = render(sample_scene(5, "reflection"), 64)
    c, _ = render(sample_scene(6, "reflection"), 64)
    assert a.dtype == np.uint8 and a.shape == (64, 64, 3)
    assert np.array_equal(a, b) and sorted(ma) == sorted(mb)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("size", [32, 64, 128])
def test_resolution_agnostic(size):
    sc = sample_scene(3, "shadow")
    img, masks = render(sc, size)
    assert img.shape == (size, size, 3)
    o = sc.objects[0]
    x0, y0, x1, y1 = obj_box(o)
    m = masks[o.id]
    ys, xs = np.nonzero(m)
    # the object's mask lies inside its layout box (1 px slack), at every size
    assert xs.min() >= x0 * size - 1 and xs.max() <= x1 * size + 1
    assert ys.min() >= y0 * size - 1 and ys.max() <= y1 * size + 1


def test_scene_json_round_trip_renders_identically():
    for sc in SCENES[:20]:
        again = Scene.from_dict(sc.to_dict())
        assert np.array_equal(render(sc, 32)[0], render(again, 32)[0])


def test_csg_is_valid_and_masks_name_its_nodes():
    for sc in SCENES:
        csg = to_csg(sc, prompt_for(sc))
        CSG.from_dict(csg.to_dict())  # validates against the schema
        ids = set(csg.ids())
        _, masks = render(sc, 64)
        assert set(masks) <= ids, set(masks) - ids
        for o in sc.objects:
            assert masks[o.id].sum() > 20
        for c in csg.constraints:
            assert c.kind in CHECKS and c.text.endswith("?")
        assert all(n.box is not None for n in csg.nodes)


def test_reflection_is_clipped_to_the_mirror():
    n = 0
    for i in range(60):
        sc = sample_scene(i, "reflection", placement="edge")
        _, masks = render(sc, 64)
        refl = masks.get(f"reflection_{sc.objects[0].id}")
        mirror = masks[sc.reflector["id"]]
        assert refl is not None and refl.sum() > 0
        assert (refl & ~mirror).sum() == 0
        n += 1
    assert n == 60


def test_shadow_falls_away_from_the_light():
    for i in range(40):
        for side in ("left", "right"):
            sc = sample_scene(i, "shadow", side=side)
            _, masks = render(sc, 64)
            xs = np.nonzero(masks[f"shadow_{sc.objects[0].id}"])[1]
            cx = sc.objects[0].x * 64
            assert (xs.mean() > cx) if side == "left" else (xs.mean() < cx)


def test_world_coverage():
    seen = {"shape": set(), "color": set(), "size": set(), "light": set(), "side": set(), "reflector": set(),
            "support": set(), "container": set(), "material": set(), "rel": set(), "placement": set(), "verb": set()}
    for i in range(700):
        sc = sample_scene(i, CATEGORIES[i % len(CATEGORIES)])
        for o in sc.objects:
            seen["shape"].add(o.shape), seen["color"].add(o.color), seen["size"].add(o.size)
        if sc.light:
            seen["light"].add(sc.light["kind"]), seen["side"].add(sc.light["side"])
        if sc.reflector:
            seen["reflector"].add((sc.reflector["kind"], sc.reflector["size"]))
        if sc.support:
            seen["support"].add((sc.support["kind"], sc.support["relation"]))
        if sc.container:
            seen["container"].add(sc.container["kind"])
            if sc.container.get("material"):
                seen["material"].add(sc.container["material"])
        if sc.relation:
            seen["rel"].add(sc.relation["rel"])
        if sc.regions:
            seen["placement"].add((sc.regions["land"], sc.regions["placement"]))
        if sc.action:
            seen["verb"].add(sc.action["verb"])
    assert seen["shape"] == {"ball", "cube", "cone", "cylinder"}
    assert seen["color"] == set(COLOR_NAMES) and len(COLOR_NAMES) >= 8
    assert seen["size"] == {"small", "large"}
    assert seen["light"] == {"lamp", "sun"} and seen["side"] == {"left", "right", "above"}
    assert seen["reflector"] == {("mirror", "small"), ("mirror", "large"), ("water", "small"), ("water", "large")}
    assert {("table", "on"), ("table", "under"), ("shelf", "on")} <= seen["support"]
    assert seen["container"] == {"jar", "box"} and seen["material"] == {"dirt", "sand", "water"}
    assert seen["rel"] == {"left_of", "right_of", "on", "in", "next_to"}
    assert ("sand", "near") in seen["placement"] and ("sand", "in_water") in seen["placement"]
    assert seen["verb"] == {"eats", "pushes"}


def test_prompts_have_paraphrases_and_name_the_objects():
    for sc in SCENES:
        opts = _options(sc)
        assert len(set(opts)) >= 2
        p = prompt_for(sc)
        for o in sc.objects:
            assert o.color in p and o.shape in p and o.size in p
    sc = sample_scene(1, "action")
    agent = sc.obj(sc.action["agent"])
    assert agent.shape in prompt_for(sc, variant=0).split(sc.action["verb"])[0]


def test_unknown_category_is_a_user_error():
    with pytest.raises(PhysWorldError, match="category"):
        sample_scene(0, "volcano")
