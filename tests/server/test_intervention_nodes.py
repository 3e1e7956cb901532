"""LINA interventions in a real ComfyUI server: LINA Plan -> LINA Guider / LINA Model Patch / LINA Sampler
on the tiny SD1.5, SD3 and Wan models, the Wan two-pass graph, the scheduler's plan input, bad input."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from lina_nodes.server.client import execution_error

NODES = {
    "LINAPlan": ("LINA Plan", ["LINA_PLAN", "CONDITIONING", "CONDITIONING", "STRING"]),
    "LINAGuider": ("LINA Guider", ["GUIDER"]),
    "LINAModelPatch": ("LINA Model Patch", ["MODEL"]),
    "LINASampler": ("LINA Sampler", ["LATENT", "LINA_PLAN"]),
    "LINAAdapterLoader": ("LINA Adapter Loader", ["LINA_ADAPTER"]),
}
PROMPT = "a red ball in front of a small mirror"


def loaders(comfy, family):
    if family == "sd15":
        return {"ck": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": comfy.models["sd15_ckpt"]}}}, \
            ["ck", 0], ["ck", 1], {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}}
    clip = {"class_type": "CLIPLoader", "inputs": {"clip_name": comfy.models["clip_l"], "type": "sd3"}}
    if family == "sd3":
        return {"u": {"class_type": "UNETLoader", "inputs": {"unet_name": comfy.models["sd3_unet"], "weight_dtype": "default"}},
                "ck": {"class_type": "ModelSamplingSD3", "inputs": {"model": ["u", 0], "shift": 3.0}}, "c": clip}, \
            ["ck", 0], ["c", 0], {"class_type": "EmptySD3LatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}}
    return {"ck": {"class_type": "UNETLoader", "inputs": {"unet_name": comfy.models["wan_unet"], "weight_dtype": "default"}},
            "c": clip}, ["ck", 0], ["c", 0], \
        {"class_type": "EmptyHunyuanLatentVideo", "inputs": {"width": 64, "height": 64, "length": 5, "batch_size": 1}}


def plan_nodes(clip, prompt=PROMPT, **plan_kw):
    return {
        "csg": {"class_type": "LINACSGParse", "inputs": {"prompt": prompt, "seed": 0, "backend": "rules"}},
        "plan": {"class_type": "LINAPlan", "inputs": {"csg": ["csg", 0], "clip": clip, "prompt_scale": 1.0,
                                                      "latent_scale": 1.0, "mode": "add", **plan_kw}},
        "neg": {"class_type": "CLIPTextEncode", "inputs": {"clip": clip, "text": ""}},
    }


def guider_graph(comfy, family, prefix, guider="lina", steps=4, cfg=3.0, seed=5, plan_kw=None, sched_plan=True,
                 mask=None):
    g, model, clip, latent = loaders(comfy, family)
    g.update(plan_nodes(clip, **(plan_kw or {})))
    if guider == "lina":
        gd = {"class_type": "LINAGuider", "inputs": {"model": model, "positive": ["plan", 1], "negative": ["neg", 0],
                                                     "lina_positive": ["plan", 2], "plan": ["plan", 0], "cfg": cfg}}
        if mask is not None:
            g["mask"] = mask
            gd["inputs"]["mask"] = ["mask", 0]
    else:
        gd = {"class_type": "CFGGuider", "inputs": {"model": model, "positive": ["plan", 1], "negative": ["neg", 0],
                                                    "cfg": cfg}}
    sch = {"model": model, "steps": steps, "scheduler": "simple", "beta": 0.0, "rho": 0.35, "denoise": 1.0}
    if sched_plan:
        sch["plan"] = ["plan", 0]
    g.update({
        "lat": latent, "gd": gd,
        "sch": {"class_type": "LINACausalScheduler", "inputs": sch},
        "smp": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "noi": {"class_type": "RandomNoise", "inputs": {"noise_seed": seed}},
        "run": {"class_type": "SamplerCustomAdvanced", "inputs": {"noise": ["noi", 0], "guider": ["gd", 0], "sampler": ["smp", 0],
                                                                  "sigmas": ["sch", 0], "latent_image": ["lat", 0]}},
        "save": {"class_type": "SaveLatent", "inputs": {"samples": ["run", 0], "filename_prefix": prefix}},
    })
    return g


def latent_of(comfy, entry):
    files = [p for p in comfy.output_files(entry) if p.suffix == ".latent"]
    assert len(files) == 1, files
    return load_file(str(files[0]))["latent_tensor"]


def test_schemas_registered_with_tooltips(comfy):
    info = comfy.object_info()
    for node_id, (display, outputs) in NODES.items():
        assert node_id in info, node_id
        node = info[node_id]
        assert node["display_name"] == display and node["output"] == outputs
        assert node["category"] == "LINA/intervention"
        for section in ("required", "optional"):
            for name, spec in node["input"].get(section, {}).items():
                assert spec[1].get("tooltip"), f"{node_id}.{name} has no tooltip"
    sched = info["LINACausalScheduler"]
    assert sched["input_order"]["required"] == ["model", "steps", "scheduler", "beta", "rho", "denoise"]
    assert sched["input"]["optional"]["plan"][0] == "LINA_PLAN"


def test_plan_json_is_valid_and_bound_to_encoder(comfy):
    g, _model, clip, _ = loaders(comfy, "sd15")
    g.update(plan_nodes(clip))
    g["show"] = {"class_type": "PreviewAny", "inputs": {"source": ["plan", 3]}}
    entry = comfy.run(g, timeout=300)
    plan = json.loads(entry["outputs"]["plan"]["text"][0])
    assert plan["encoder_width"] == 768 and plan["source"] == "prior"
    assert plan["prompt_strength"] > 0 and plan["latent_strength"] > 0
    assert {r["node"] for r in plan["regions"]} >= {"reflection_ball_0", "mirror_0"}
    assert any(n.startswith("subspace ") for n in plan["notes"]), plan["notes"]


@pytest.mark.parametrize("family", ["sd15", "sd3"])
def test_guider_changes_the_result_and_is_a_noop_at_zero(comfy, family):
    base = latent_of(comfy, comfy.run(guider_graph(comfy, family, f"cfg_{family}", guider="cfg"), timeout=300))
    lina = latent_of(comfy, comfy.run(guider_graph(comfy, family, f"lina_{family}")))
    zero = latent_of(comfy, comfy.run(guider_graph(comfy, family, f"zero_{family}",
                                                   plan_kw={"latent_scale": 0.0, "prompt_scale": 0.0})))
    assert lina.shape == base.shape and lina.isfinite().all()
    assert (lina - base).abs().max() > 1e-4, "LINA guidance had no effect"
    assert (zero - base).abs().max() < 1e-5, "a zero-strength plan must reproduce CFGGuider exactly"


def test_guider_on_wan_video_5d(comfy):
    """On a 5-D video latent the guider acts (differs from CFGGuider on the same causal schedule and seed) and a
    zero-strength plan is CFGGuider exactly."""
    base = latent_of(comfy, comfy.run(guider_graph(comfy, "wan", "cfg_wan", guider="cfg", steps=3), timeout=300))
    lina = latent_of(comfy, comfy.run(guider_graph(comfy, "wan", "lina_wan", steps=3), timeout=300))
    zero = latent_of(comfy, comfy.run(guider_graph(comfy, "wan", "zero_wan", steps=3,
                                                   plan_kw={"latent_scale": 0.0, "prompt_scale": 0.0}), timeout=300))
    assert lina.ndim == 5 and lina.shape == base.shape and lina.isfinite().all()
    assert (lina - base).abs().max() > 1e-4, "LINA guidance had no effect on the video latent"
    assert (zero - base).abs().max() < 1e-5, "a zero-strength plan must reproduce CFGGuider exactly"


def test_guider_substitute_mode_and_cfg1(comfy):
    lat = latent_of(comfy, comfy.run(guider_graph(comfy, "sd15", "lina_sub", cfg=1.0, plan_kw={"mode": "substitute"})))
    base = latent_of(comfy, comfy.run(guider_graph(comfy, "sd15", "cfg_sub", guider="cfg", cfg=1.0)))
    assert lat.isfinite().all() and (lat - base).abs().max() > 1e-4
    add = latent_of(comfy, comfy.run(guider_graph(comfy, "sd15", "lina_add1", cfg=1.0)))  # cfg 1: no negative pass
    assert add.isfinite().all() and (add - base).abs().max() > 1e-4


def ksampler_graph(comfy, prefix, patch=True, extra_patch=None, latent_scale=1.0, seed=3, extra_last=False):
    """KSampler on the tiny SD1.5 with the plan's positive; ``patch``: LINA Model Patch on the model;
    ``extra_patch`` (class_type, inputs): another model patch, applied before LINA's (after it: ``extra_last``)."""
    g, model, clip, latent = loaders(comfy, "sd15")
    g.update(plan_nodes(clip, latent_scale=latent_scale))
    m = model

    def other(m):
        g["other"] = {"class_type": extra_patch[0], "inputs": {"model": m, **extra_patch[1]}}
        return ["other", 0]
    if extra_patch and not extra_last:
        m = other(m)
    if patch:
        g["pt"] = {"class_type": "LINAModelPatch", "inputs": {"model": m, "lina_positive": ["plan", 2], "plan": ["plan", 0]}}
        m = ["pt", 0]
    if extra_patch and extra_last:
        m = other(m)
    g.update({
        "lat": latent,
        "ks": {"class_type": "KSampler", "inputs": {"model": m, "seed": seed, "steps": 4, "cfg": 3.0, "sampler_name": "euler",
                                                    "scheduler": "simple", "positive": ["plan", 1], "negative": ["neg", 0],
                                                    "latent_image": ["lat", 0], "denoise": 1.0}},
        "save": {"class_type": "SaveLatent", "inputs": {"samples": ["ks", 0], "filename_prefix": prefix}},
    })
    return g


def test_model_patch_with_stock_ksampler(comfy):
    base = latent_of(comfy, comfy.run(ksampler_graph(comfy, "ks_base", patch=False)))
    lina = latent_of(comfy, comfy.run(ksampler_graph(comfy, "ks_lina")))
    zero = latent_of(comfy, comfy.run(ksampler_graph(comfy, "ks_zero", latent_scale=0.0)))
    assert (lina - base).abs().max() > 1e-4
    assert (zero - base).abs().max() < 1e-5


def test_model_patch_composes_with_another_post_cfg_patch(comfy):
    # CFGNorm is a stock post-CFG patch: both must act, in either order
    other = ("CFGNorm", {"strength": 1.0})
    alone = latent_of(comfy, comfy.run(ksampler_graph(comfy, "ks_norm", patch=False, extra_patch=other)))
    lina = latent_of(comfy, comfy.run(ksampler_graph(comfy, "ks_lina_only")))
    for prefix, last in (("ks_norm_lina", False), ("ks_lina_norm", True)):
        both = latent_of(comfy, comfy.run(ksampler_graph(comfy, prefix, extra_patch=other, extra_last=last)))
        assert both.isfinite().all()
        assert (both - alone).abs().max() > 1e-4, f"LINA's patch had no effect with CFGNorm ({prefix})"
        assert (both - lina).abs().max() > 1e-4, f"CFGNorm had no effect with LINA's patch ({prefix})"


def test_wan_two_pass_with_patch_on_high_noise_pass(comfy):
    """Wan 2.2-style two experts (two KSamplerAdvanced passes, steps 0-2 and 2-4 of 4): LINA Model Patch on the
    high-noise pass changes the video against the same graph without it; on the low-noise pass, which lies
    entirely after LINA's early window, it must change nothing (bit-identical to the graph without LINA)."""
    def run(prefix, patch_hi, patch_lo):
        g, model, clip, latent = loaders(comfy, "wan")
        g.update(plan_nodes(clip))
        g["pt"] = {"class_type": "LINAModelPatch", "inputs": {"model": model, "lina_positive": ["plan", 2],
                                                              "plan": ["plan", 0]}}
        g.update({
            "lat": latent,
            "hi": {"class_type": "KSamplerAdvanced", "inputs": {
                "model": ["pt", 0] if patch_hi else model, "add_noise": "enable", "noise_seed": 4, "steps": 4,
                "cfg": 3.0, "sampler_name": "euler", "scheduler": "simple", "positive": ["plan", 1],
                "negative": ["neg", 0], "latent_image": ["lat", 0], "start_at_step": 0, "end_at_step": 2,
                "return_with_leftover_noise": "enable"}},
            "lo": {"class_type": "KSamplerAdvanced", "inputs": {
                "model": ["pt", 0] if patch_lo else model, "add_noise": "disable", "noise_seed": 4, "steps": 4,
                "cfg": 3.0, "sampler_name": "euler", "scheduler": "simple", "positive": ["plan", 1],
                "negative": ["neg", 0], "latent_image": ["hi", 0], "start_at_step": 2, "end_at_step": 10000,
                "return_with_leftover_noise": "disable"}},
            "save": {"class_type": "SaveLatent", "inputs": {"samples": ["lo", 0], "filename_prefix": prefix}},
        })
        if not (patch_hi or patch_lo):
            del g["pt"]
        return latent_of(comfy, comfy.run(g, timeout=300))

    plain = run("wan2pass_plain", False, False)
    hi = run("wan2pass_hi", True, False)
    lo = run("wan2pass_lo", False, True)
    both = run("wan2pass_both", True, True)
    assert hi.ndim == 5 and hi.shape == plain.shape and hi.isfinite().all()
    assert (hi - plain).abs().max() > 1e-4, "the patch on the high-noise pass had no effect"
    assert torch.equal(lo, plain), "the patch acted on the low-noise pass, outside its window"
    assert torch.equal(both, hi), "patching the low-noise pass too must change nothing"


def lina_sampler_graph(comfy, prefix, seed=1, steps=4, cfg=3.0, scale=1.0):
    g, model, clip, latent = loaders(comfy, "sd15")
    g.update({
        "csg": {"class_type": "LINACSGParse", "inputs": {"prompt": PROMPT, "seed": 0, "backend": "rules"}},
        "lat": latent,
        "s": {"class_type": "LINASampler", "inputs": {"model": model, "clip": clip, "csg": ["csg", 0], "latent_image": ["lat", 0],
                                                      "negative": "", "seed": seed, "steps": steps, "cfg": cfg,
                                                      "sampler_name": "euler", "scheduler": "simple",
                                                      "latent_scale": scale, "prompt_scale": scale}},
        "save": {"class_type": "SaveLatent", "inputs": {"samples": ["s", 0], "filename_prefix": prefix}},
    })
    return g


def test_lina_sampler_all_in_one(comfy):
    """LINA Sampler == the modular graph it stands for (CSG Parse -> LINA Plan -> LINA Guider on the plan's Causal
    Scheduler, SamplerCustomAdvanced, same seed); it differs from CFGGuider on that schedule, and at zero
    strength it is that CFGGuider run exactly."""
    lat = latent_of(comfy, comfy.run(lina_sampler_graph(comfy, "lina_sampler")))
    modular = latent_of(comfy, comfy.run(guider_graph(comfy, "sd15", "lina_sampler_modular", seed=1, steps=4, cfg=3.0)))
    plain = latent_of(comfy, comfy.run(guider_graph(comfy, "sd15", "lina_sampler_cfg", guider="cfg", seed=1, steps=4,
                                                    cfg=3.0)))
    zero = latent_of(comfy, comfy.run(lina_sampler_graph(comfy, "lina_sampler_zero", scale=0.0)))
    assert lat.shape == (1, 4, 8, 8) and lat.isfinite().all()
    assert (lat - modular).abs().max() < 1e-5, "LINA Sampler differs from the modular LINA graph"
    assert (lat - plain).abs().max() > 1e-4, "LINA Sampler gave the plain CFG result"
    assert (zero - plain).abs().max() < 1e-5, "LINA Sampler at zero strength must be CFGGuider on its schedule"


def _expect_error(comfy, graph, node_type, *needles):
    entry = comfy.run(graph, expect_error=True)
    err = execution_error(entry)
    assert err["node_type"] == node_type, err
    for n in needles:
        assert n in err["exception_message"], err["exception_message"]
    return err


def test_bad_inputs_give_clear_errors_and_server_keeps_serving(comfy):
    # a plan from another encoder width
    other = json.dumps({"encoder_width": 4096, "prompt_strength": 0.5, "latent_strength": 1.0})
    _expect_error(comfy, guider_graph(comfy, "sd15", "bad_w", plan_kw={"override_json": other}), "LINAPlan",
                  "width 4096", "Fix:")
    # malformed plan JSON and NaN in it
    _expect_error(comfy, guider_graph(comfy, "sd15", "bad_j", plan_kw={"override_json": "{not json"}), "LINAPlan", "override_json")
    _expect_error(comfy, guider_graph(comfy, "sd15", "bad_n", plan_kw={"override_json": '{"latent_strength": NaN}'}),
                  "LINAPlan", "latent_strength")
    # a mask of the wrong aspect ratio
    mask = {"class_type": "SolidMask", "inputs": {"value": 1.0, "width": 64, "height": 16}}
    _expect_error(comfy, guider_graph(comfy, "sd15", "bad_m", mask=mask), "SamplerCustomAdvanced", "mask", "aspect")
    # an empty CSG (no prompt text)
    g, _model, clip, _ = loaders(comfy, "sd15")
    g.update({"csg": {"class_type": "LINACSGFromJSON", "inputs": {"csg_json": json.dumps({"version": "1.0", "prompt": "",
                                                                                           "nodes": [], "edges": [], "constraints": []}),
                                                                   "complete": True, "seed": 0}},
              "plan": {"class_type": "LINAPlan", "inputs": {"csg": ["csg", 0], "clip": clip, "prompt_scale": 1.0,
                                                            "latent_scale": 1.0, "mode": "add"}}})
    _expect_error(comfy, g, "LINAPlan", "prompt")
    ok = latent_of(comfy, comfy.run(guider_graph(comfy, "sd15", "after_bad")))
    assert ok.isfinite().all()


@pytest.mark.parametrize("carrier", ["patch", "guider"])
def test_wan_context_windows_several_calls_per_step(comfy, carrier):
    """Context windows split each step's model call into temporal windows; LINA must still apply once."""
    g, model, clip, _ = loaders(comfy, "wan")
    g.update(plan_nodes(clip))
    g["lat"] = {"class_type": "EmptyHunyuanLatentVideo", "inputs": {"width": 64, "height": 64, "length": 13, "batch_size": 1}}
    g["cw"] = {"class_type": "WanContextWindowsManual", "inputs": {
        "model": model, "context_length": 5, "context_overlap": 1, "context_schedule": "standard_static",
        "context_stride": 1, "closed_loop": False, "fuse_method": "pyramid"}}

    def run(prefix, lina):
        gg = json.loads(json.dumps(g))
        m = ["cw", 0]
        if lina and carrier == "patch":
            gg["pt"] = {"class_type": "LINAModelPatch", "inputs": {"model": m, "lina_positive": ["plan", 2], "plan": ["plan", 0]}}
            m = ["pt", 0]
        if lina and carrier == "guider":
            gg["gd"] = {"class_type": "LINAGuider", "inputs": {"model": m, "positive": ["plan", 1], "negative": ["neg", 0],
                                                               "lina_positive": ["plan", 2], "plan": ["plan", 0], "cfg": 3.0}}
        else:
            gg["gd"] = {"class_type": "CFGGuider", "inputs": {"model": m, "positive": ["plan", 1], "negative": ["neg", 0], "cfg": 3.0}}
        gg.update({
            "sch": {"class_type": "BasicScheduler", "inputs": {"model": m, "scheduler": "simple", "steps": 3, "denoise": 1.0}},
            "smp": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
            "noi": {"class_type": "RandomNoise", "inputs": {"noise_seed": 8}},
            "run": {"class_type": "SamplerCustomAdvanced", "inputs": {"noise": ["noi", 0], "guider": ["gd", 0], "sampler": ["smp", 0],
                                                                      "sigmas": ["sch", 0], "latent_image": ["lat", 0]}},
            "save": {"class_type": "SaveLatent", "inputs": {"samples": ["run", 0], "filename_prefix": prefix}},
        })
        return latent_of(comfy, comfy.run(gg, timeout=300))

    base = run(f"cw_base_{carrier}", False)
    lina = run(f"cw_lina_{carrier}", True)
    assert lina.shape == base.shape and lina.shape[2] == 4 and lina.isfinite().all()
    assert (lina - base).abs().max() > 1e-4


def test_guider_with_a_pre_cfg_patch_on_the_model(comfy):
    """APG is a stock pre-CFG patch that rewrites [cond, uncond]; the LINA Guider must keep working with it: with
    APG on the model, LINA still changes the result against CFGGuider, and APG still changes LINA's result."""
    def run(prefix, guider, apg):
        g = guider_graph(comfy, "sd15", prefix, guider=guider)
        if apg:
            g["apg"] = {"class_type": "APG", "inputs": {"model": ["ck", 0], "eta": 1.0, "norm_threshold": 5.0,
                                                        "momentum": -0.75}}
            g["gd"]["inputs"]["model"] = ["apg", 0]
        return latent_of(comfy, comfy.run(g))

    lat = run("lina_apg", "lina", True)
    assert lat.isfinite().all()
    assert (lat - run("cfg_apg", "cfg", True)).abs().max() > 1e-4, "LINA had no effect with APG on the model"
    assert (lat - run("lina_no_apg", "lina", False)).abs().max() > 1e-4, "APG had no effect under the LINA Guider"


def test_skip_layer_guidance_still_acts_inside_lina_window(comfy):
    """One sampling path: LINA Guider samples through ComfyUI's sampling_function, so a stock
    SkipLayerGuidanceDiTSimple acting only inside LINA's early window changes the result (it was dropped there
    when the guider called calc_cond_batch itself)."""
    def graph(prefix, slg):
        g = guider_graph(comfy, "sd3", prefix, steps=4)
        if slg:
            g["slg"] = {"class_type": "SkipLayerGuidanceDiTSimple",
                        "inputs": {"model": g["gd"]["inputs"]["model"], "double_layers": "0", "single_layers": "",
                                   "start_percent": 0.0, "end_percent": 0.05}}   # inside the window (ends at 0.11)
            g["gd"]["inputs"]["model"] = ["slg", 0]
        return g
    plain = latent_of(comfy, comfy.run(graph("slg_off", False), timeout=300))
    slg = latent_of(comfy, comfy.run(graph("slg_on", True), timeout=300))
    assert slg.isfinite().all() and (slg - plain).abs().max() > 1e-5, "SLG had no effect inside LINA's window"


def test_lina_sampler_reports_progress_on_the_websocket(comfy):
    """LINA Sampler reports progress per step like SamplerCustomAdvanced (ComfyUI's own preview callback)."""
    import websocket

    g, model, clip, latent = loaders(comfy, "sd15")
    g.update({
        "csg": {"class_type": "LINACSGParse", "inputs": {"prompt": PROMPT, "seed": 0, "backend": "rules"}},
        "lat": latent,
        "s": {"class_type": "LINASampler", "inputs": {"model": model, "clip": clip, "csg": ["csg", 0],
                                                      "latent_image": ["lat", 0], "negative": "", "seed": 11,
                                                      "steps": 5, "cfg": 3.0, "sampler_name": "euler",
                                                      "scheduler": "simple", "latent_scale": 1.0, "prompt_scale": 1.0}},
        "save": {"class_type": "SaveLatent", "inputs": {"samples": ["s", 0], "filename_prefix": "lina_sampler_ws"}},
    })
    ws = websocket.create_connection(f"ws://{comfy.url.split('://')[1]}/ws?clientId={comfy.client.client_id}",
                                     timeout=120)
    try:
        pid = comfy.client.queue(g)
        progress = []
        while True:
            raw = ws.recv()
            if not isinstance(raw, str):
                continue
            msg = json.loads(raw)
            data = msg.get("data", {})
            if data.get("prompt_id") not in (None, pid):
                continue
            if msg["type"] == "progress" and data.get("node") == "s":
                progress.append((data["value"], data["max"]))
            if msg["type"] in ("execution_success", "execution_error"):
                break
    finally:
        ws.close()
    assert msg["type"] == "execution_success", msg
    assert progress and progress[-1] == (5, 5) and len(progress) >= 5, progress


def test_nan_cfg_and_denoise_are_refused_naming_the_field(comfy):
    g = guider_graph(comfy, "sd15", "nan_cfg")
    g["gd"]["inputs"]["cfg"] = float("nan")
    _expect_error(comfy, g, "LINAGuider", "cfg")
    g = guider_graph(comfy, "sd15", "nan_denoise", sched_plan=False)
    g["sch"]["inputs"]["denoise"] = float("nan")
    _expect_error(comfy, g, "LINACausalScheduler", "denoise")
