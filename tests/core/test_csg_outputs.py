"""Masks, preview image, causal prompt and the `lina parse` CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest

from lina_nodes.cli import main
from lina_nodes.csg.causal_prompt import causal_prompt, causal_sentences, lemma
from lina_nodes.csg.masks import csg_masks
from lina_nodes.csg.parser import parse
from lina_nodes.csg.preview import render_preview
from lina_nodes.errors import CSGError


def test_masks_per_node_match_boxes():
    g = parse("a red ball in front of a small mirror, no shadow")
    m, index = csg_masks(g, 64, 32)
    assert m.shape == (len(g.nodes), 32, 64) and m.dtype == np.float32
    assert index == [f"{i}: {n.id}" for i, n in enumerate(g.nodes)]
    for i, n in enumerate(g.nodes):
        if n.box is None:
            assert m[i].sum() == 0  # negated node: empty mask
        else:
            x0, y0, x1, y1 = n.box
            cy, cx = int((y0 + y1) / 2 * 32), int((x0 + x1) / 2 * 64)
            assert m[i, cy, cx] == 1.0 and 0 < m[i].mean() < 1
    assert set(np.unique(m)) <= {0.0, 1.0}


def test_masks_per_kind_and_video_frames():
    g = parse("a cup and a ball on a table under a lamp")
    m, index = csg_masks(g, 16, 16, frames=3, mode="kind")
    kinds = [line.split(": ")[1] for line in index]
    assert "shadow" in kinds and "contact" in kinds and len(kinds) == len(set(kinds))
    assert m.shape == (3 * len(kinds), 16, 16)
    k = kinds.index("shadow")
    assert index[k] == f"{3 * k}-{3 * k + 2}: shadow"
    assert np.array_equal(m[3 * k], m[3 * k + 2])
    one, idx = csg_masks(g, 16, 16, frames=5, mode="kind", select="shadow")
    assert one.shape == (5, 16, 16) and np.array_equal(one[0], m[3 * k]) and idx == ["0-4: shadow"]


def test_mask_errors_name_the_field():
    g = parse("a cat")
    with pytest.raises(CSGError, match="select"):
        csg_masks(g, 8, 8, select="dog_0")
    with pytest.raises(CSGError, match="width"):
        csg_masks(g, 0, 8)
    with pytest.raises(CSGError, match="mode"):
        csg_masks(g, 8, 8, mode="pixel")


def test_preview_draws_something():
    img = render_preview(parse("a red ball in front of a small mirror under a lamp"))
    arr = np.asarray(img)
    assert img.size == (1024, 512) and arr.std() > 5
    assert render_preview(parse("")).size == (1024, 512)


def test_causal_prompt_states_implied_nodes():
    g = parse("a red ball in front of a small mirror under a lamp on the left")
    text = causal_prompt(g)
    assert text.startswith("a red ball in front of a small mirror")
    assert "reflection of the red ball appears only inside the small mirror" in text
    assert "shadow" in text and "to the right" in text
    sents = causal_sentences(g)
    refl = [n.id for n in g.nodes if n.kind == "reflection"][0]
    assert any(refl in ids for _, ids in sents)
    assert "The bird eats the snake" in causal_prompt(parse("a snake is eaten by a bird"))
    assert "about 70% full of dirt" in causal_prompt(parse("more dirt than empty space in the jar"))
    assert "There is no shadow" in causal_prompt(parse("a cup, no shadow"))
    assert causal_prompt(g, include_original=False).startswith("The red ball")
    assert lemma("pushes") == "push" and lemma("carries") == "carry" and lemma("eats") == "eat"


def test_cli_json_and_pretty(capsys):
    assert main(["parse", "a snake is eaten by a bird"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["version"] == "1.0" and any(e["relation"] == "eats" for e in data["edges"])
    assert main(["parse", "--pretty", "--causal", "a cup on a table"]) == 0
    out = capsys.readouterr().out
    assert "cup_0 -[spatial:on]-> table_0" in out and "causal prompt:" in out
    assert main(["parse", "--knowledge", "/no/such.json", "a cup"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_package_level_causal_prompt_is_the_function_after_submodule_import():
    import importlib

    importlib.import_module("lina_nodes.csg.causal_prompt")
    import lina_nodes.csg as csg

    assert callable(csg.causal_prompt)
    assert "mirror" in csg.causal_prompt(csg.parse("a red ball in front of a small mirror"))
