"""The embedded PhysWorld model through diffusers reproduces the ComfyUI nodes' images.

Reference: ``lina_nodes.inprocess.sampler.InProcessSampler.physworld(weights).sample(...)``: the LINA
PhysWorld Loader's MODEL / CLIP / VAE sampled by ComfyUI's own euler sampler and guider, KSampler's noise.
Measured (8 steps, cfg 4, 64 x 64, two prompts x LINA off / prior-substitute / prior-add):
plain and substitute are bit-identical; add mode differs by at most 1 uint8 level on at most 1 pixel
(ComfyUI adds the guidance to denoised images, the hooks add it to the velocity: the same value up to
float32 rounding). Tolerance asserted: add mode <= 2 levels on <= 0.5% of the pixels.
"""
from __future__ import annotations

import pytest

pytest.importorskip("diffusers", reason="diffusers is not installed: pip install -e '.[diffusers]'")

import numpy as np  # noqa: E402

from lina_nodes.diffusers import apply  # noqa: E402

pytestmark = pytest.mark.timeout(300)
STEPS = 8
CASES = [("a red ball on a table under a lamp", 3), ("a cone close to the water and in the sand", 5)]


@pytest.fixture(scope="module")
def pipe():
    from lina_nodes.diffusers import PhysWorldPipeline

    return PhysWorldPipeline.from_weights()


@pytest.fixture(scope="module")
def comfy():
    try:
        from lina_nodes.inprocess.sampler import InProcessSampler
        from lina_nodes.paths import PHYSWORLD_DEFAULT_WEIGHTS

        return InProcessSampler.physworld(PHYSWORLD_DEFAULT_WEIGHTS)
    except Exception as e:  # noqa: BLE001 - no ComfyUI tree here: the reference cannot run
        pytest.skip(f"ComfyUI is not available for the reference images ({type(e).__name__}: {e}); "
                    "run scripts/setup_env.py")


def lina_image(pipe, prompt, seed, **apply_kw):
    """(the run, the image) of one LINA call of the pipeline at the tests' settings."""
    run = apply(pipe, prompt, **apply_kw)
    with run as kw:
        return run, pipe(**kw, seed=seed, num_inference_steps=STEPS, guidance_scale=4.0).images[0]


def test_pipeline_matches_the_eval_sampler_without_comfyui(pipe):
    from lina_nodes.physworld_model.evaluate import generate
    from lina_nodes.physworld_model.model import load_bundle

    b = load_bundle(pipe.weights_path)
    prompt, seed = CASES[0]
    ref = generate(b, [prompt], [seed], steps=STEPS)[0]
    out = pipe(prompt, seed=seed, num_inference_steps=STEPS).images[0]
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    assert np.array_equal(out, ref)


@pytest.mark.parametrize("prompt,seed", CASES)
def test_plain_image_equals_the_comfyui_nodes_image(pipe, comfy, prompt, seed):
    ref = comfy.sample(prompt, seed, steps=STEPS, cfg=4.0, size=64)
    out = pipe(prompt, seed=seed, num_inference_steps=STEPS, guidance_scale=4.0).images[0]
    assert np.array_equal(out, ref.image)


@pytest.mark.parametrize("prompt,seed", CASES)
def test_lina_substitute_equals_the_comfyui_lina_image(pipe, comfy, prompt, seed):
    ref = comfy.sample(prompt, seed, steps=STEPS, cfg=4.0, size=64, lina="prior", mode="substitute")
    run, out = lina_image(pipe, prompt, seed, mode="substitute")
    assert run.plan.to_dict() == ref.plan.to_dict()
    assert run.stats["extra_calls"] == 0 and run.stats["denoiser_calls"] * 2 == ref.nfe   # batched cond+uncond
    assert np.array_equal(out, ref.image)
    plain = pipe(prompt, seed=seed, num_inference_steps=STEPS).images[0]
    assert not np.array_equal(out, plain)


@pytest.mark.parametrize("prompt,seed", CASES)
def test_lina_add_matches_the_comfyui_lina_image_within_rounding(pipe, comfy, prompt, seed):
    ref = comfy.sample(prompt, seed, steps=STEPS, cfg=4.0, size=64, lina="prior", mode="add")
    run, out = lina_image(pipe, prompt, seed, mode="add")
    d = np.abs(out.astype(int) - ref.image.astype(int))
    assert d.max() <= 2 and (d > 0).mean() <= 0.005, (d.max(), int((d > 0).sum()))
    assert (run.stats["denoiser_calls"] - run.stats["extra_calls"]) * 2 + run.stats["extra_calls"] == ref.nfe


def test_counterfactual_negative_equals_the_comfyui_lina_image(pipe, comfy):
    prompt, seed = "a large cyan cylinder pushes a small yellow cone", 7
    changes = {"mode": "substitute", "counterfactual_share": 0.6}
    ref = comfy.sample(prompt, seed, steps=STEPS, cfg=4.0, size=64, lina="prior", plan_changes=changes)
    plan = ref.plan.updated(notes=()).to_json()
    run, out = lina_image(pipe, prompt, seed, plan_json=plan)
    assert run.plan.counterfactual_share == 0.6 and run.window.sigma_counterfactual > 0
    assert any(t.get("counterfactual_rows") for t in run.trace) and not all(t.get("counterfactual_rows")
                                                                             for t in run.trace)
    assert np.array_equal(out, ref.image)
    off = comfy.sample(prompt, seed, steps=STEPS, cfg=4.0, size=64, lina="prior", mode="substitute")
    assert not np.array_equal(ref.image, off.image)        # the lever acts


def test_region_prompts_match_the_comfyui_lina_image_within_rounding(pipe, comfy):
    """Region prompts: ComfyUI's masked-conditioning rule (the nodes) and the hooks' composite give the same image
    up to float rounding, cost the same evaluations, and change the image against the same plan without them."""
    prompt, seed = "a large cyan cone eats a small orange cube", 4
    changes = {"mode": "substitute", "region_strength": 2.0, "region_share": 0.9}
    ref = comfy.sample(prompt, seed, steps=STEPS, cfg=4.0, size=64, lina="prior", plan_changes=changes)
    run, out = lina_image(pipe, prompt, seed, plan_json=ref.plan.updated(notes=()).to_json())
    assert len(run.plan.region_prompts) == 2 and run.window.sigma_region > 0
    inside = [t for t in run.trace if t.get("region_rows")]
    assert inside and len(inside) < len(run.trace)
    assert run.stats["extra_calls"] == 2 * len(inside)
    assert run.stats["denoiser_calls"] * 2 - run.stats["extra_calls"] == ref.nfe   # extra calls: one cond row each
    d = np.abs(out.astype(int) - ref.image.astype(int))
    assert d.max() <= 2 and (d > 0).mean() <= 0.005, (d.max(), int((d > 0).sum()))
    off = comfy.sample(prompt, seed, steps=STEPS, cfg=4.0, size=64, lina="prior", mode="substitute")
    assert ref.nfe > off.nfe and not np.array_equal(ref.image, off.image)


def test_apply_region_strength_turns_region_prompts_on_like_lina_plans_input(pipe, comfy):
    from lina_nodes.intervention.plan import PlanError

    prompt, seed = "a large cyan cone eats a small orange cube", 4
    run, out = lina_image(pipe, prompt, seed, mode="substitute", region_strength=2.0)
    assert run.plan.region_strength == 2.0 and run.plan.region_share == 0.9
    ref = comfy.sample(prompt, seed, steps=STEPS, cfg=4.0, size=64, lina="prior",
                       plan_changes={"mode": "substitute", "region_strength": 2.0, "region_share": 0.9})
    d = np.abs(out.astype(int) - ref.image.astype(int))
    assert d.max() <= 2 and (d > 0).mean() <= 0.005
    _, off = lina_image(pipe, prompt, seed, mode="substitute")
    assert not np.array_equal(out, off)
    with pytest.raises(PlanError) as e:
        apply(pipe, prompt, region_strength=9.0)
    assert e.value.field == "region_strength"


def test_apply_shape_stand_in_matches_the_comfyui_image_and_acts(pipe, comfy):
    """apply(..., shape_stand_in=True) (LINA Plan's input of the same name): the structure phase lays the cone out
    as a cylinder; the image equals the ComfyUI sampler's with the same plan change and differs from the plan
    without it; a non-boolean is refused naming the field."""
    from lina_nodes.intervention.plan import PlanError

    prompt, seed = "a small mirror with a large pink cone standing at its edge", 3
    run, out = lina_image(pipe, prompt, seed, mode="substitute", shape_stand_in=True)
    assert run.plan.stand_in_share == 0.9 and run.plan.structure_prompt == "a small mirror with a large pink cylinder"
    assert run.plan.structure_share == 0.8          # it joins the plan's placement phase at the shorter share
    ref = comfy.sample(prompt, seed, steps=STEPS, cfg=4.0, size=64, lina="prior",
                       plan_changes={"mode": "substitute", "stand_in_share": 0.9})
    assert np.array_equal(out, ref.image)
    _, off = lina_image(pipe, prompt, seed, mode="substitute")
    assert not np.array_equal(out, off)
    with pytest.raises(PlanError) as e:
        apply(pipe, prompt, shape_stand_in="yes")
    assert e.value.field == "shape_stand_in"
