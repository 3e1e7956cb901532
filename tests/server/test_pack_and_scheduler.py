"""The pack in a real ComfyUI 0.3.75 server: registration, the Causal Scheduler on every tiny model, bad input."""
from __future__ import annotations

import json

import pytest
from PIL import Image

from lina_nodes.server.client import execution_error

SCHED_INPUTS = ["model", "steps", "scheduler", "beta", "rho", "denoise"]  # frozen widget order


def test_pack_registers_without_import_failure(comfy):
    log = comfy.server.log_tail(1_000_000).splitlines()
    ours = [line for line in log if "custom_nodes/lina" in line and "seconds" in line]
    assert ours, "the pack is missing from ComfyUI's import-times list"
    assert not any("IMPORT FAILED" in line for line in ours), ours
    info = comfy.object_info()
    lina_ids = sorted(k for k in info if k.startswith("LINA"))
    assert "LINACausalScheduler" in lina_ids
    for node_id in lina_ids:
        assert info[node_id]["python_module"].startswith("custom_nodes."), node_id


def test_scheduler_schema_is_frozen(comfy):
    info = comfy.object_info("LINACausalScheduler")["LINACausalScheduler"]
    assert info["input_order"]["required"] == SCHED_INPUTS
    assert info["output"] == ["SIGMAS"]
    assert info["display_name"] == "LINA Causal Scheduler"
    basic = comfy.object_info("BasicScheduler")["BasicScheduler"]
    assert info["input"]["required"]["scheduler"][0] == basic["input"]["required"]["scheduler"][0]
    for name in SCHED_INPUTS[1:]:
        assert info["input"]["required"][name][1].get("tooltip"), f"{name} has no tooltip"


def custom_sampler_graph(loaders: dict, latent: dict, save: dict, steps=6, beta=0.0, rho=0.35, denoise=1.0,
                         scheduler="simple", seed=1, cfg=3.0):
    """A SamplerCustomAdvanced graph with the LINA Causal Scheduler. loaders must define ids m, c, v."""
    g = dict(loaders)
    g.update({
        "pos": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["c", 0], "text": "a red ball on a table next to a small mirror"}},
        "neg": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["c", 0], "text": ""}},
        "lat": latent,
        "sch": {"class_type": "LINACausalScheduler", "inputs": {"model": ["m", 0], "steps": steps, "scheduler": scheduler,
                                                                 "beta": beta, "rho": rho, "denoise": denoise}},
        "smp": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "noi": {"class_type": "RandomNoise", "inputs": {"noise_seed": seed}},
        "gd": {"class_type": "CFGGuider", "inputs": {"model": ["m", 0], "positive": ["pos", 0], "negative": ["neg", 0], "cfg": cfg}},
        "run": {"class_type": "SamplerCustomAdvanced", "inputs": {"noise": ["noi", 0], "guider": ["gd", 0], "sampler": ["smp", 0],
                                                                  "sigmas": ["sch", 0], "latent_image": ["lat", 0]}},
        "dec": {"class_type": "VAEDecode", "inputs": {"samples": ["run", 0], "vae": ["v", 0]}},
        "out": save,
    })
    return g


def sd15_graph(comfy, prefix, **kw):
    ck = comfy.models["sd15_ckpt"]
    loaders = {"ck": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ck}}}
    g = custom_sampler_graph(loaders, {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
                             {"class_type": "SaveImage", "inputs": {"images": ["dec", 0], "filename_prefix": prefix}}, **kw)
    # route m/c/v to the checkpoint loader's three outputs
    return json.loads(json.dumps(g).replace('["m", 0]', '["ck", 0]').replace('["c", 0]', '["ck", 1]').replace('["v", 0]', '["ck", 2]'))


def sd3_graph(comfy, prefix, **kw):
    loaders = {
        "u": {"class_type": "UNETLoader", "inputs": {"unet_name": comfy.models["sd3_unet"], "weight_dtype": "default"}},
        "m": {"class_type": "ModelSamplingSD3", "inputs": {"model": ["u", 0], "shift": 3.0}},
        "c": {"class_type": "CLIPLoader", "inputs": {"clip_name": comfy.models["clip_l"], "type": "sd3"}},
        "v": {"class_type": "VAELoader", "inputs": {"vae_name": comfy.models["taesd16"]}},
    }
    return custom_sampler_graph(loaders, {"class_type": "EmptySD3LatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
                                {"class_type": "SaveImage", "inputs": {"images": ["dec", 0], "filename_prefix": prefix}}, **kw)


def wan_graph(comfy, prefix, frames=9, **kw):
    loaders = {
        "m": {"class_type": "UNETLoader", "inputs": {"unet_name": comfy.models["wan_unet"], "weight_dtype": "default"}},
        "c": {"class_type": "CLIPLoader", "inputs": {"clip_name": comfy.models["clip_l"], "type": "sd3"}},
        "v": {"class_type": "VAELoader", "inputs": {"vae_name": comfy.models["taehv"]}},
    }
    return custom_sampler_graph(
        loaders,
        {"class_type": "EmptyHunyuanLatentVideo", "inputs": {"width": 64, "height": 64, "length": frames, "batch_size": 1}},
        {"class_type": "SaveAnimatedWEBP", "inputs": {"images": ["dec", 0], "filename_prefix": prefix, "fps": 8.0,
                                                      "lossless": False, "quality": 80, "method": "default"}}, **kw)


@pytest.mark.parametrize("builder,prefix", [(sd15_graph, "sched_sd15"), (sd3_graph, "sched_sd3")])
def test_scheduler_runs_image_models(comfy, builder, prefix):
    entry = comfy.run(builder(comfy, prefix, steps=6, seed=11))
    files = comfy.output_files(entry)
    assert len(files) == 1 and files[0].name.startswith(prefix)
    with Image.open(files[0]) as im:
        assert im.size == (64, 64)


def test_scheduler_runs_wan_video(comfy):
    entry = comfy.run(wan_graph(comfy, "sched_wan", frames=9, steps=5, seed=12), timeout=300)
    files = comfy.output_files(entry)
    assert len(files) == 1 and files[0].suffix == ".webp"
    with Image.open(files[0]) as im:
        assert im.size == (64, 64)
        assert getattr(im, "n_frames", 1) >= 9


def test_bad_widget_value_is_rejected_with_input_name(comfy):
    status, body = comfy.post_prompt(sd15_graph(comfy, "bad_beta", beta=1.5))
    assert status == 400
    errs = body["node_errors"]["sch"]["errors"]
    assert any(e["extra_info"].get("input_name") == "beta" for e in errs), errs


def test_runtime_error_names_input_and_fix_then_server_keeps_serving(comfy):
    # denoise 0.2 starts sampling below the structure window: the prompt fails at execution
    bad = sd15_graph(comfy, "bad_denoise", denoise=0.2, seed=99)
    entry = comfy.run(bad, expect_error=True)
    err = execution_error(entry)
    assert err["node_type"] == "LINACausalScheduler"
    assert err["exception_message"].startswith("denoise:") and "Fix:" in err["exception_message"]
    # the next prompt still runs
    ok = comfy.run(sd15_graph(comfy, "after_error", seed=100))
    assert comfy.output_files(ok)


def test_error_reaches_the_websocket(comfy):
    """Connect first, then queue, so the execution_error message is guaranteed to be seen."""
    import websocket

    ws = websocket.create_connection(f"ws://{comfy.url.split('://')[1]}/ws?clientId={comfy.client.client_id}", timeout=60)
    try:
        pid = comfy.client.queue(sd15_graph(comfy, "ws_err", steps=4, denoise=0.15, seed=7))
        err = None
        while err is None:
            raw = ws.recv()
            if isinstance(raw, str):
                m = json.loads(raw)
                if m["type"] == "execution_error" and m["data"]["prompt_id"] == pid:
                    err = m["data"]
                if m["type"] == "execution_success" and m["data"].get("prompt_id") == pid:
                    pytest.fail("prompt unexpectedly succeeded")
    finally:
        ws.close()
    assert "denoise" in err["exception_message"] and "Fix:" in err["exception_message"]
