"""The adapter's levers in a real ComfyUI server on the tiny SD1.5, SD3 and Wan stand-ins: the counterfactual
negative, the layout focus, the region prompts and the shape stand-in, each alone in a substitute-mode plan given to LINA Plan's override_json, act
(the latent differs from CFGGuider's on the same schedule and seed), stay finite, and a plan whose lever is
off is CFGGuider exactly."""
from __future__ import annotations

import json

import pytest
import torch

from test_intervention_nodes import guider_graph, ksampler_graph, latent_of, loaders, plan_nodes  # noqa: I001

PROMPT = "a large red cube eats a small blue ball"
LEVERS = {
    "counterfactual": {"counterfactual_share": 1.0},
    "layout_focus": {"layout_strength": 1.0, "layout_share": 0.9},
    "regions": {"region_strength": 2.0, "region_share": 0.9},
}


def prior_plan_json(comfy, family) -> dict:
    g, _model, clip, _ = loaders(comfy, family)
    g.update(plan_nodes(clip, prompt=PROMPT))
    g["show"] = {"class_type": "PreviewAny", "inputs": {"source": ["plan", 3]}}
    return json.loads(comfy.run(g, timeout=300)["outputs"]["plan"]["text"][0])


@pytest.mark.parametrize("family", ["sd15", "sd3", "wan"])
def test_each_lever_acts_alone_and_is_a_noop_when_off(comfy, family):
    plan = prior_plan_json(comfy, family)
    assert plan["counterfactual_prompt"] == "a large red ball eats a small blue cube" and plan["layout_boxes"]
    assert [r["text"] for r in plan["region_prompts"]] == ["a large red cube", "a small blue ball"]
    off = {**plan, "mode": "substitute", "latent_strength": 0.0, "structure_share": 0.0, "notes": []}
    steps = 3 if family == "wan" else 4
    kw = {"prompt": PROMPT, "mode": "substitute"}

    def run(prefix, guider="lina", override=None):
        pk = dict(kw, **({"override_json": json.dumps(override)} if override is not None else {}))
        g = guider_graph(comfy, family, f"{prefix}_{family}", guider=guider, steps=steps, plan_kw=pk)
        return latent_of(comfy, comfy.run(g, timeout=300))

    base = run("lever_cfg", guider="cfg")
    assert (run("lever_off", override=off) - base).abs().max() < 1e-5   # every lever off: CFGGuider exactly
    for name, changes in LEVERS.items():
        got = run(f"lever_{name}", override={**off, **changes})
        assert got.shape == base.shape and got.isfinite().all(), name
        assert (got - base).abs().max() > 1e-4, f"{name} had no effect on {family}"


@pytest.mark.parametrize("family", ["sd15", "sd3", "wan"])
def test_shape_stand_in_acts_in_the_structure_phase(comfy, family):
    """stand_in_share > 0: the structure phase conditions on the prompt with every shape laid out as a cylinder
    (resolved into the plan's structure prompt); with it 0 the plan is the lever-free one (CFGGuider exactly)."""
    prompt = "a large red cone eats a small blue ball"
    g, _model, clip, _ = loaders(comfy, family)
    g.update(plan_nodes(clip, prompt=prompt))
    g["show"] = {"class_type": "PreviewAny", "inputs": {"source": ["plan", 3]}}
    plan = json.loads(comfy.run(g, timeout=300)["outputs"]["plan"]["text"][0])
    assert plan["stand_in_prompt"] == "a large red cylinder eats a small blue cylinder" and plan["stand_in_share"] == 0.0
    off = {**plan, "mode": "substitute", "latent_strength": 0.0, "structure_share": 0.0, "notes": []}
    steps = 3 if family == "wan" else 4

    def run(prefix, guider="lina", override=None):
        pk = {"prompt": prompt, "mode": "substitute"}
        if override is not None:
            pk["override_json"] = json.dumps(override)
        gr = guider_graph(comfy, family, f"{prefix}_{family}", guider=guider, steps=steps, plan_kw=pk)
        return latent_of(comfy, comfy.run(gr, timeout=300))

    base = run("standin_cfg", guider="cfg")
    assert (run("standin_off", override=off) - base).abs().max() < 1e-5
    got = run("standin_on", override={**off, "stand_in_share": 0.9})
    assert got.shape == base.shape and got.isfinite().all() and (got - base).abs().max() > 1e-4


def test_plan_shape_stand_in_input_turns_the_stand_in_on_and_off_keeps_the_plan(comfy):
    """LINA Plan's appended shape_stand_in input: true sets stand_in_share 0.9 (the structure phase then lays the
    cone and the ball out as cylinders) and changes the image; false (the default, and what an older workflow without the
    input gets) keeps the prior's plan, equal to the graph without the input."""
    prompt = "a large red cone eats a small blue ball"
    g, _model, clip, _ = loaders(comfy, "sd15")
    g.update(plan_nodes(clip, prompt=prompt, shape_stand_in=True))
    g["show"] = {"class_type": "PreviewAny", "inputs": {"source": ["plan", 3]}}
    plan = json.loads(comfy.run(g, timeout=300)["outputs"]["plan"]["text"][0])
    assert plan["stand_in_share"] == 0.9 and plan["structure_prompt"] == "a large red cylinder eats a small blue cylinder"

    def run(prefix, **kw):
        gr = guider_graph(comfy, "sd15", prefix, plan_kw={"mode": "substitute", "prompt": prompt, **kw})
        return latent_of(comfy, comfy.run(gr, timeout=300))

    none, off, on = run("standin_none"), run("standin_false", shape_stand_in=False), run("standin_true", shape_stand_in=True)
    assert torch.equal(none, off) and on.isfinite().all() and (on - none).abs().max() > 1e-4


def test_mode_from_plan_keeps_the_plans_mode(comfy, tmp_path):
    """LINA Plan's mode "from plan": the prior's plan keeps add; the other options still force theirs."""
    g, _model, clip, _ = loaders(comfy, "sd15")
    for mode, want in (("from plan", "add"), ("substitute", "substitute")):
        g.update(plan_nodes(clip, prompt=PROMPT, mode=mode))
        g["show"] = {"class_type": "PreviewAny", "inputs": {"source": ["plan", 3]}}
        assert json.loads(comfy.run(g, timeout=300)["outputs"]["plan"]["text"][0])["mode"] == want


def test_plan_region_strength_turns_region_prompts_on_and_zero_keeps_the_plan(comfy):
    """LINA Plan's appended region_strength input: > 0 turns the region prompts on (share 0.9) and changes the
    image against the same graph without it; 0 (the default, and what an older workflow without the input gets)
    keeps the prior's plan (off), equal to the graph without the input."""
    g, _model, clip, _ = loaders(comfy, "sd15")
    g.update(plan_nodes(clip, prompt=PROMPT, region_strength=2.0))
    g["show"] = {"class_type": "PreviewAny", "inputs": {"source": ["plan", 3]}}
    plan = json.loads(comfy.run(g, timeout=300)["outputs"]["plan"]["text"][0])
    assert plan["region_strength"] == 2.0 and plan["region_share"] == 0.9 and len(plan["region_prompts"]) == 2

    def run(prefix, **kw):
        gr = guider_graph(comfy, "sd15", prefix, plan_kw={"mode": "substitute", **kw})
        return latent_of(comfy, comfy.run(gr, timeout=300))

    none, zero, on = run("regions_none"), run("regions_zero", region_strength=0.0), run("regions_on", region_strength=2.0)
    assert torch.equal(none, zero) and on.isfinite().all() and (on - none).abs().max() > 1e-4


def test_region_prompts_through_model_patch_and_stock_ksampler_batch_and_non_square(comfy):
    """Region prompts reach ComfyUI's own KSampler through LINA Model Patch (the conds the OUTER_SAMPLE wrapper
    hands to the guider), on a batch of two non-square latents: finite, the image changes against the same
    patch without them, and each batch item is sampled (the items differ)."""
    def run(prefix, strength):
        g = ksampler_graph(comfy, prefix)
        g["plan"]["inputs"].update(mode="substitute", region_strength=strength)
        g["csg"]["inputs"]["prompt"] = PROMPT
        g["lat"]["inputs"].update(width=96, height=64, batch_size=2)
        return latent_of(comfy, comfy.run(g, timeout=300))

    off, on = run("ks_regions_off", 0.0), run("ks_regions_on", 2.0)
    assert on.shape == off.shape == (2, 4, 8, 12) and on.isfinite().all()
    assert (on - off).abs().max() > 1e-4 and (on[0] - on[1]).abs().max() > 1e-4
