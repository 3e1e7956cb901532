"""Layout registration: the judge reads a generated image against its prompt, not one random layout.
A render of the same prompt at another layout must pass; a physics violation must still fail."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from lina_nodes.errors import PhysWorldError
from lina_nodes.physworld.corrupt import corrupt
from lina_nodes.physworld.csg_build import to_csg
from lina_nodes.physworld.judge import judge
from lina_nodes.physworld.register import candidates, content_factors, content_key, judge_registered, register
from lina_nodes.physworld.render import render
from lina_nodes.physworld.scene import CATEGORIES, sample_scene


def _other_layout(sc, seed):
    """Another scene with the same prompt content (drawn with the content factors, new seed)."""
    other = sample_scene(seed, sc.category, **content_factors(sc))
    assert content_key(other) == content_key(sc)
    return other


@pytest.mark.parametrize("category", CATEGORIES)
def test_content_factors_fix_the_prompt_content(category):
    for i in range(12):
        sc = sample_scene(1000 + i, category)
        for j in range(3):
            assert content_key(_other_layout(sc, 50_000 + 31 * i + j)) == content_key(sc)


def test_default_sampling_is_unchanged_by_the_optional_factors():
    # the content factors added for registration (b_shape, p_color, ...) must not move the dataset
    h = hashlib.sha256()
    for i in range(70):
        h.update(render(sample_scene(i, CATEGORIES[i % 7]), 32)[0].tobytes())
    assert h.hexdigest()[:16] == _GOLDEN_DEFAULT_SAMPLING


def test_another_layout_of_the_same_prompt_passes_only_with_registration():
    fixed, registered = [], []
    for i in range(42):
        sc = sample_scene(2000 + i, CATEGORIES[i % 7])
        other = _other_layout(sc, 70_000 + i)
        img, _ = render(other, 64)
        fixed.append(judge(img, to_csg(sc)).score)
        registered.append(judge_registered(img, sc).score)
    assert np.mean(registered) >= 0.98, np.mean(registered)
    assert np.mean(fixed) <= 0.85, np.mean(fixed)     # the layout-bound judge marks correct images wrong


@pytest.mark.parametrize("kind", ["floating", "shadow_wrong_side", "reflection_spill", "swapped_action",
                                  "missing_object", "wrong_color"])
def test_violations_are_still_caught_with_registration(kind):
    caught = n = 0
    for i in range(140):
        sc = sample_scene(3000 + i, CATEGORIES[i % 7])
        csg = to_csg(sc)
        cor = corrupt(sc, csg, kind, np.random.default_rng(i))
        if cor is None or not cor.target:
            continue
        img, _ = render(cor.scene, 64)
        j = judge_registered(img, sc).by_id()
        caught += any(not j[t].passed for t in cor.target)
        n += 1
    assert n >= 10
    assert caught / n >= 0.95, (kind, caught, n)


def test_registration_finds_the_drawn_layout():
    sc = sample_scene(5, "shadow")
    other = _other_layout(sc, 9)
    img, _ = render(other, 64)
    got, dist = register(img, sc)
    assert abs(got.objects[0].x - other.objects[0].x) < 0.05
    assert dist >= 0.0
    # candidates are cached per prompt content and start with the scene itself
    c = candidates(sc)
    assert c.scenes[0] is sc or c.scenes[0].to_dict() == sc.to_dict()
    assert candidates(sc) is c


def test_bad_input_is_a_user_error():
    sc = sample_scene(1, "support")
    with pytest.raises(PhysWorldError, match="image"):
        register(np.zeros((64, 32, 3), np.uint8), sc)
    with pytest.raises(PhysWorldError, match="image size"):
        register(np.zeros((48, 48, 3), np.uint8), sc)
    with pytest.raises(PhysWorldError, match="scene"):
        register(np.zeros((64, 64, 3), np.uint8), "a ball")


_GOLDEN_DEFAULT_SAMPLING = "0a7425de373d97d0"   # computed with the samplers before the optional factors
