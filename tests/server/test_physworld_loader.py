"""LINA PhysWorld Loader in a real ComfyUI 0.3.75 server: core nodes, LINA scheduler, batches, bad files.

The weights are a tiny PhysWorld model written into a temp dir (random but non-trivial weights; the
pack's weights/ folder may hold no trained model yet), passed through the node's weights_path.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lina_nodes.server.client import execution_error
from lina_nodes.physworld_model.evaluate import generate
from lina_nodes.physworld_model.model import build_denoiser, build_text_encoder, load_bundle
from lina_nodes.physworld_model.tokenizer import build_vocab
from lina_nodes.physworld_model.weights_io import save_model

TEXT = {"max_len": 24, "dim": 32, "layers": 1, "heads": 2, "ff_mult": 2}
DEN = {"image_size": 64, "in_channels": 3, "patch": 4, "channels": [16, 32], "num_res_blocks": [1, 1],
       "attention": [False, True], "heads": 2, "time_dim": 32, "context_dim": 32, "groups": 8, "predict": "x0"}
CONFIG = {"text": TEXT, "denoiser": DEN,
          "diffusion": {"kind": "rectified_flow", "shift": 1.0, "t_logit_mean": 0.0, "t_logit_std": 1.0},
          "sample": {"steps": 20, "cfg": 4.0, "sampler": "euler", "scheduler": "simple"}}
PROMPT = "a small red ball on a table"
WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"


@pytest.fixture(scope="module")
def weights(comfy):
    torch.manual_seed(1)
    vocab = build_vocab(n_scenes=300)
    te, dn = build_text_encoder(TEXT, len(vocab)), build_denoiser(DEN)
    with torch.no_grad():   # non-zero everywhere, so the prompt and the seed shape the image
        for p in list(te.parameters()) + list(dn.parameters()):
            p.normal_(0.0, 0.05)
    folder = comfy.base_dir / "models" / "lina_physworld"   # the only folder (besides weights/) LINA reads
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / "physworld_test.safetensors"
    save_model(p, te.state_dict(), dn.state_dict(), CONFIG, vocab, "0" * 64, {"steps": 0})
    return p


def loader(path):
    return {"class_type": "LINAPhysWorldLoader",
            "inputs": {"weights": "physworld_default.safetensors", "weights_path": str(path)}}


def ksampler_graph(path, prefix, seed=5, steps=6, cfg=3.0, batch=1, latent=None):
    return {
        "ld": loader(path),
        "pos": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["ld", 1], "text": PROMPT}},
        "neg": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["ld", 1], "text": ""}},
        "lat": latent or {"class_type": "EmptyChromaRadianceLatentImage",
                          "inputs": {"width": 64, "height": 64, "batch_size": batch}},
        "ks": {"class_type": "KSampler", "inputs": {"model": ["ld", 0], "positive": ["pos", 0], "negative": ["neg", 0],
                                                   "latent_image": ["lat", 0], "seed": seed, "steps": steps, "cfg": cfg,
                                                   "sampler_name": "euler", "scheduler": "simple", "denoise": 1.0}},
        "dec": {"class_type": "VAEDecode", "inputs": {"samples": ["ks", 0], "vae": ["ld", 2]}},
        "save": {"class_type": "SaveImage", "inputs": {"images": ["dec", 0], "filename_prefix": prefix}},
    }


def custom_graph(path, prefix, scheduler_node, frames=4, seed=9):
    return {
        "ld": loader(path),
        "pos": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["ld", 1], "text": PROMPT}},
        "neg": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["ld", 1], "text": ""}},
        "lat": {"class_type": "EmptyChromaRadianceLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": frames}},
        "sch": scheduler_node,
        "smp": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "noi": {"class_type": "RandomNoise", "inputs": {"noise_seed": seed}},
        "gd": {"class_type": "CFGGuider", "inputs": {"model": ["ld", 0], "positive": ["pos", 0], "negative": ["neg", 0],
                                                     "cfg": 4.0}},
        "run": {"class_type": "SamplerCustomAdvanced", "inputs": {"noise": ["noi", 0], "guider": ["gd", 0],
                                                                  "sampler": ["smp", 0], "sigmas": ["sch", 0],
                                                                  "latent_image": ["lat", 0]}},
        "dec": {"class_type": "VAEDecode", "inputs": {"samples": ["run", 0], "vae": ["ld", 2]}},
        "webp": {"class_type": "SaveAnimatedWEBP", "inputs": {"images": ["dec", 0], "filename_prefix": prefix + "_anim",
                                                              "fps": 6.0, "lossless": True, "quality": 100,
                                                              "method": "default"}},
        "save": {"class_type": "SaveImage", "inputs": {"images": ["dec", 0], "filename_prefix": prefix}},
    }


def load_png(p):
    with Image.open(p) as im:
        return np.asarray(im.convert("RGB"))


def test_schema(comfy):
    info = comfy.object_info("LINAPhysWorldLoader")["LINAPhysWorldLoader"]
    assert info["display_name"] == "LINA PhysWorld Loader"
    assert info["output"] == ["MODEL", "CLIP", "VAE"]
    assert info["category"].startswith("LINA")
    w = info["input"]["required"]["weights"]
    assert "physworld_default.safetensors" in (w[1].get("options") if w[0] == "COMBO" else w[0])
    assert info["input"]["optional"]["weights_path"][1].get("tooltip")


def test_ksampler_image_equals_the_eval_sampler(comfy, weights):
    """KSampler (euler/simple) through the loader == lina's eval sampler with the same seed."""
    entry = comfy.run(ksampler_graph(weights, "pw_ks", seed=5, steps=6, cfg=3.0))
    files = comfy.output_files(entry)
    assert len(files) == 1
    got = load_png(files[0])
    assert got.shape == (64, 64, 3)
    want = generate(load_bundle(weights), [PROMPT], [5], steps=6, cfg=3.0)[0]
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
    other = generate(load_bundle(weights), [PROMPT], [6], steps=6, cfg=3.0)[0]
    assert np.abs(got.astype(int) - other.astype(int)).max() > 1   # another seed differs by more than the tolerance


def test_empty_latent_image_also_works(comfy, weights):
    """EmptyLatentImage gives [B, 4, H/8, W/8] zeros; ComfyUI trims them to 3 channels: 512 -> 64 px."""
    lat = {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}}
    files = comfy.output_files(comfy.run(ksampler_graph(weights, "pw_empty", latent=lat)))
    assert load_png(files[0]).shape == (64, 64, 3)


def _scheduler(kind):
    if kind == "basic":
        return {"class_type": "BasicScheduler", "inputs": {"model": ["ld", 0], "scheduler": "simple", "steps": 8,
                                                          "denoise": 1.0}}
    return {"class_type": "LINACausalScheduler", "inputs": {"model": ["ld", 0], "steps": 8, "scheduler": "simple",
                                                           "beta": 0.0, "rho": 0.4, "denoise": 1.0}}


def _frames(comfy, weights, prefix, kind):
    files = comfy.output_files(comfy.run(custom_graph(weights, prefix, _scheduler(kind), frames=4)))
    pngs = sorted(f for f in files if f.suffix == ".png")
    webps = [f for f in files if f.suffix == ".webp"]
    assert len(pngs) == 4 and len(webps) == 1
    with Image.open(webps[0]) as im:
        assert getattr(im, "n_frames", 1) == 4
    return np.stack([load_png(f) for f in pngs]).astype(int)


@pytest.mark.parametrize("kind", ["basic", "lina"])
def test_custom_sampler_frames(comfy, weights, kind):
    frames = _frames(comfy, weights, f"pw_{kind}", kind)
    assert frames.shape == (4, 64, 64, 3)
    assert not np.array_equal(frames[0], frames[1])   # each frame gets its own noise
    if kind == "lina":   # the causal sigmas reach the sampler: every frame differs from BasicScheduler's (same
        # seed and steps); on these random weights the image hardly depends on the schedule (about 1 level)
        basic = _frames(comfy, weights, "pw_lina_vs_basic", "basic")
        assert all(not np.array_equal(frames[i], basic[i]) for i in range(4))


def test_bad_weights_fail_with_the_file_name(comfy, weights):
    bad = weights.parent / "physworld_broken.safetensors"
    bad.write_bytes(weights.read_bytes()[:5000])
    entry = comfy.run(ksampler_graph(bad, "pw_bad"), expect_error=True)
    err = execution_error(entry)
    assert err["node_type"] == "LINAPhysWorldLoader"
    assert "physworld_broken.safetensors" in err["exception_message"]
    assert "corrupted" in err["exception_message"]
    missing = weights.parent / "physworld_missing.safetensors"
    err = execution_error(comfy.run(ksampler_graph(missing, "pw_missing"), expect_error=True))
    assert "physworld_missing.safetensors" in err["exception_message"] and "not found" in err["exception_message"]
    # the server keeps serving
    comfy.run(ksampler_graph(weights, "pw_after", steps=2))


def test_workflow_json_is_valid_for_the_server(comfy, weights):
    """The prompt above serialises as the API format ComfyUI accepts (no validation errors)."""
    status, body = comfy.post_prompt(json.loads(json.dumps(ksampler_graph(weights, "pw_api", steps=2))))
    assert status == 200, body


PACK_DEFAULT = __import__("pathlib").Path(__file__).resolve().parents[2] / "weights" / "physworld_default.safetensors"


@pytest.mark.skipif(not PACK_DEFAULT.is_file(), reason="no trained model in weights/ yet")
def test_default_weights_from_the_pack_folder(comfy):
    g = ksampler_graph("", "pw_default", steps=4)
    g["ld"]["inputs"] = {"weights": "physworld_default.safetensors"}   # weights_path left out
    files = comfy.output_files(comfy.run(g))
    assert load_png(files[0]).shape == (64, 64, 3)


def test_lina_workflow_image_equals_the_lina_eval_sampler(comfy):
    """The example LINA workflow (CSG Parse -> LINA Plan with the shipped adapter -> LINA Guider + plan-driven
    Causal Scheduler) on the shipped model == `lina physworld eval --lina adapter --adapter
    weights/lina_adapter_physworld.safetensors` (in-process sampler) for the same prompt and seed."""
    from lina_nodes.inprocess.sampler import InProcessSampler
    from lina_nodes.intervention.adapter import load_adapter
    from lina_nodes.paths import PHYSWORLD_DEFAULT_WEIGHTS as DEFAULT_WEIGHTS
    from lina_nodes.server.workflow_format import apply_sets

    api = json.loads((WORKFLOWS / "physworld_lina_guider.api.json").read_text())
    assert api["13"]["class_type"] == "LINAAdapterLoader" and api["3"]["inputs"]["adapter"] == ["13", 0]
    shipped = load_adapter(DEFAULT_WEIGHTS.parent / api["13"]["inputs"]["adapter_name"])
    assert shipped.source == "trained" and len(shipped.actions) > 1

    prompt = api["2"]["inputs"]["prompt"]
    api = apply_sets(api, ["8.noise_seed=11", "12.filename_prefix=pw_lina_eq"])
    saved = [f for f in comfy.output_files(comfy.run(api)) if "pw_lina_eq" in f.name]   # not the CSG preview
    assert len(saved) == 1
    got = load_png(saved[0])
    s = InProcessSampler.physworld(DEFAULT_WEIGHTS)
    want = s.sample(prompt, 11, lina="adapter", adapter=shipped, mode="substitute")
    assert want.plan.source == "adapter" and want.plan.structure_share > 0
    assert np.abs(got.astype(int) - want.image.astype(int)).max() <= 1
    off = s.sample(prompt, 11)
    assert not np.array_equal(off.image, want.image)


def test_adapter_loader_in_the_lina_workflow(comfy, tmp_path):
    """LINA Adapter Loader -> LINA Plan's adapter input in the example LINA workflow: the prior-reproducing
    adapter for PhysWorld's encoder gives the prior's image; a file that is not an adapter is a clear error."""
    from lina_nodes.cli import main as lina_main
    from lina_nodes.inprocess.sampler import InProcessSampler
    from lina_nodes.intervention.adapter import load_adapter
    from lina_nodes.paths import PHYSWORLD_DEFAULT_WEIGHTS as DEFAULT_WEIGHTS
    from lina_nodes.server.workflow_format import apply_sets

    path = comfy.base_dir / "models" / "lina_adapters" / "lina_adapter_pw.safetensors"
    path.parent.mkdir(parents=True, exist_ok=True)
    assert lina_main(["adapter", "prior", "--out", str(path)]) == 0
    api = json.loads((WORKFLOWS / "physworld_lina_guider.api.json").read_text())
    api["20"] = {"class_type": "LINAAdapterLoader", "inputs": {"adapter_name": "(none: use adapter_path)",
                                                               "adapter_path": str(path)}}
    api["3"]["inputs"]["adapter"] = ["20", 0]
    api = apply_sets(api, ["8.noise_seed=12", "12.filename_prefix=pw_lina_adapter"])
    saved = [f for f in comfy.output_files(comfy.run(api)) if "pw_lina_adapter" in f.name]
    assert len(saved) == 1
    s = InProcessSampler.physworld(DEFAULT_WEIGHTS)
    want = s.sample(api["2"]["inputs"]["prompt"], 12, lina="adapter", adapter=load_adapter(path), mode="substitute")
    assert want.plan.source == "adapter"
    assert np.abs(load_png(saved[0]).astype(int) - want.image.astype(int)).max() <= 1
    api["20"]["inputs"]["adapter_path"] = str(DEFAULT_WEIGHTS)   # a model file, not an adapter
    err = execution_error(comfy.run(api, expect_error=True))
    assert err["node_type"] == "LINAAdapterLoader" and "not a LINA adapter" in err["exception_message"]
