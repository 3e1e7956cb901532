"""Every example workflow in workflows/ (editor format) converts back to its API twin with the live
/object_info (so the widget order cannot drift); the ones that name the pack's own or the rig's models run here
(the family examples, which name real model files, run on stand-ins in test_family_workflows.py), each
against a baseline: the same graph without LINA, or for the plain PhysWorld example the eval sampler."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from _graphs import has_lina, saved_images, set_prefix, without_lina
from lina_nodes.server.workflow_format import is_ui_format, ui_to_api

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "workflows").glob("*.json"))
FAMILY_STEMS = {e["stem"] for e in json.loads((REPO / "tests" / "workflows" / "families.json").read_text())["examples"]}
RUNNABLE = [p for p in EXAMPLES if p.stem not in FAMILY_STEMS]


def test_there_are_image_and_video_examples():
    names = [p.name for p in EXAMPLES]
    assert any("image" in n for n in names) and any("video" in n for n in names), names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_matches_api_twin(comfy, path):
    ui = json.loads(path.read_text())
    assert is_ui_format(ui)
    twin = REPO / "tests" / "workflows" / (path.stem + ".api.json")
    api = json.loads(twin.read_text())
    assert ui_to_api(ui, comfy.object_info()) == api


def _seeded(api: dict, seed: int = 4242) -> dict:
    """A new seed so the server really executes (its cache keys on the inputs)."""
    for node in api.values():
        for name in ("noise_seed", "seed"):
            if name in node["inputs"] and not isinstance(node["inputs"][name], list):
                node["inputs"][name] = seed
    return api


@pytest.mark.parametrize("path", RUNNABLE, ids=lambda p: p.stem)
def test_example_runs_and_lina_changes_the_result(comfy, path):
    """Each runnable example runs; where it has LINA nodes, its images differ from the same graph with LINA
    taken out (same seed); the plain PhysWorld example (no LINA node) is the eval sampler's image."""
    api = _seeded(ui_to_api(json.loads(path.read_text()), comfy.object_info()))
    tag = f"examples/{path.stem}"
    got = saved_images(comfy.output_files(comfy.run(set_prefix(api, tag + "_lina"), timeout=300)), tag + "_lina")
    if has_lina(api):
        plain = saved_images(comfy.output_files(comfy.run(set_prefix(without_lina(api), tag + "_plain"), timeout=300)),
                             tag + "_plain")
        assert got.shape == plain.shape
        assert np.abs(got - plain).mean() > 0.5, f"{path.stem}: LINA did not change the output"
        return
    from lina_nodes.paths import PHYSWORLD_DEFAULT_WEIGHTS
    from lina_nodes.physworld_model.evaluate import generate
    from lina_nodes.physworld_model.model import load_bundle

    (ks,) = [n["inputs"] for n in api.values() if n["class_type"] == "KSampler"]
    assert (ks["sampler_name"], ks["scheduler"], ks["denoise"]) == ("euler", "simple", 1.0)
    prompt = api[ks["positive"][0]]["inputs"]["text"]
    bundle = load_bundle(PHYSWORLD_DEFAULT_WEIGHTS)
    want = generate(bundle, [prompt], [ks["seed"]], steps=ks["steps"], cfg=ks["cfg"])
    other = generate(bundle, [prompt], [ks["seed"] + 1], steps=ks["steps"], cfg=ks["cfg"])
    assert got.shape == want.shape
    assert np.abs(got - want.astype(np.int16)).max() <= 1, f"{path.stem}: not the eval sampler's image"
    assert np.abs(got - other.astype(np.int16)).max() > 1   # another seed differs by more than the tolerance
