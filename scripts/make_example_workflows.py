"""Write the example workflows: the family examples (built here), their API twins, the editor files,
thumbnails, and the manifest the tests read.

    .venv/bin/python scripts/make_example_workflows.py

- Family examples (SD1.5, SDXL, SD3.5 Large / Medium, FLUX.1 dev / schnell, Qwen-Image, Wan 2.1 T2V
  1.3B, Wan 2.2 T2V A14B, HunyuanVideo) are defined in FAMILIES below, with the model file names,
  download links and folders of ComfyUI's official templates (the ``comfyui-workflow-templates``
  0.7.25 packages that ComfyUI 0.3.75 pins: ``default``, ``sdxl_simple_example``,
  ``sd3.5_simple_example``, ``flux_dev_full_text_to_image``, ``flux_schnell_full_text_to_image``,
  ``image_qwen_image``, ``text_to_video_wan``, ``video_wan2_2_14B_t2v``,
  ``hunyuan_video_text_to_video``; SD3.5 Medium has no official template there, its all-in-one file
  comes from the same Comfy-Org repository as SD3.5 Large's) and each family's usual sampler settings.
  Their API twins are written to tests/workflows/<stem>.api.json.
- Every tests/workflows/*.api.json (the PhysWorld and tiny-model ones too) becomes
  workflows/<stem>.json, laid out with no overlapping nodes, using the live /object_info of a fresh
  server (so widget order is exactly what ComfyUI expects), plus workflows/<stem>.jpg, the thumbnail
  ComfyUI's template browser shows for a custom node's example (it lists the file stem as the title,
  so family examples have human-readable stems).
- tests/workflows/families.json: per family example, the model class, files, LINA's default window
  and its source, and the tiny stand-ins the tests map the model names to (or none: validated only).
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lina_nodes import __version__  # noqa: E402
from lina_nodes.intervention.schedule import family_from_config_name, knee_for_family, knee_source  # noqa: E402
from lina_nodes.server.workflow_format import api_to_ui, ui_to_api  # noqa: E402

WF_DIR = ROOT / "workflows"
TWIN_DIR = ROOT / "tests" / "workflows"
MANIFEST = TWIN_DIR / "families.json"

IMAGE_PROMPT = "a red ball on a wooden table in front of a small mirror, under a lamp"
VIDEO_PROMPT = "a snake eats a bird on a sandy beach, the shadow falls away from the sun"
NEG = "blurry, low quality, watermark, text"
WAN_NEG = "blurry, static, overexposed, low quality, watermark, subtitles, deformed, extra limbs"
TEMPLATES = "comfyui-workflow-templates 0.7.25 (ComfyUI 0.3.75)"

HF = "https://huggingface.co/"
F = {  # official file -> (folder, url, template it comes from)
    "sd15": ("v1-5-pruned-emaonly-fp16.safetensors", "checkpoints",
             HF + "Comfy-Org/stable-diffusion-v1-5-archive/resolve/main/v1-5-pruned-emaonly-fp16.safetensors", "default"),
    "sdxl": ("sd_xl_base_1.0.safetensors", "checkpoints",
             HF + "stabilityai/stable-diffusion-xl-base-1.0/resolve/main/sd_xl_base_1.0.safetensors",
             "sdxl_simple_example"),
    "sd35l": ("sd3.5_large_fp8_scaled.safetensors", "checkpoints",
              HF + "Comfy-Org/stable-diffusion-3.5-fp8/resolve/main/sd3.5_large_fp8_scaled.safetensors",
              "sd3.5_simple_example"),
    "sd35m": ("sd3.5_medium_incl_clips_t5xxlfp8scaled.safetensors", "checkpoints",
              HF + "Comfy-Org/stable-diffusion-3.5-fp8/resolve/main/sd3.5_medium_incl_clips_t5xxlfp8scaled.safetensors",
              "none in 0.7.25: the Comfy-Org SD3.5 repository of sd3.5_simple_example"),
    "flux_dev": ("flux1-dev.safetensors", "diffusion_models",
                 HF + "Comfy-Org/flux1-dev/resolve/main/flux1-dev.safetensors", "flux_dev_full_text_to_image"),
    "flux_schnell": ("flux1-schnell.safetensors", "diffusion_models",
                     HF + "Comfy-Org/flux1-schnell/resolve/main/flux1-schnell.safetensors",
                     "flux_schnell_full_text_to_image"),
    "clip_l": ("clip_l.safetensors", "text_encoders",
               HF + "comfyanonymous/flux_text_encoders/resolve/main/clip_l.safetensors", "flux_dev_full_text_to_image"),
    "t5xxl": ("t5xxl_fp16.safetensors", "text_encoders",
              HF + "comfyanonymous/flux_text_encoders/resolve/main/t5xxl_fp16.safetensors", "flux_dev_full_text_to_image"),
    "ae": ("ae.safetensors", "vae",
           HF + "Comfy-Org/Lumina_Image_2.0_Repackaged/resolve/main/split_files/vae/ae.safetensors",
           "flux_dev_full_text_to_image"),
    "qwen_unet": ("qwen_image_fp8_e4m3fn.safetensors", "diffusion_models",
                  HF + "Comfy-Org/Qwen-Image_ComfyUI/resolve/main/split_files/diffusion_models/qwen_image_fp8_e4m3fn.safetensors",
                  "image_qwen_image"),
    "qwen_te": ("qwen_2.5_vl_7b_fp8_scaled.safetensors", "text_encoders",
                HF + "Comfy-Org/Qwen-Image_ComfyUI/resolve/main/split_files/text_encoders/qwen_2.5_vl_7b_fp8_scaled.safetensors",
                "image_qwen_image"),
    "qwen_vae": ("qwen_image_vae.safetensors", "vae",
                 HF + "Comfy-Org/Qwen-Image_ComfyUI/resolve/main/split_files/vae/qwen_image_vae.safetensors",
                 "image_qwen_image"),
    "wan13": ("wan2.1_t2v_1.3B_fp16.safetensors", "diffusion_models",
              HF + "Comfy-Org/Wan_2.1_ComfyUI_repackaged/resolve/main/split_files/diffusion_models/wan2.1_t2v_1.3B_fp16.safetensors",
              "text_to_video_wan"),
    "umt5": ("umt5_xxl_fp8_e4m3fn_scaled.safetensors", "text_encoders",
             HF + "Comfy-Org/Wan_2.1_ComfyUI_repackaged/resolve/main/split_files/text_encoders/umt5_xxl_fp8_e4m3fn_scaled.safetensors",
             "text_to_video_wan"),
    "wan_vae": ("wan_2.1_vae.safetensors", "vae",
                HF + "Comfy-Org/Wan_2.1_ComfyUI_repackaged/resolve/main/split_files/vae/wan_2.1_vae.safetensors",
                "text_to_video_wan"),
    "wan22_high": ("wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors", "diffusion_models",
                   HF + "Comfy-Org/Wan_2.2_ComfyUI_Repackaged/resolve/main/split_files/diffusion_models/wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors",
                   "video_wan2_2_14B_t2v"),
    "wan22_low": ("wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors", "diffusion_models",
                  HF + "Comfy-Org/Wan_2.2_ComfyUI_Repackaged/resolve/main/split_files/diffusion_models/wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors",
                  "video_wan2_2_14B_t2v"),
    "wan22_vae": ("wan_2.1_vae.safetensors", "vae",
                  HF + "Comfy-Org/Wan_2.2_ComfyUI_Repackaged/resolve/main/split_files/vae/wan_2.1_vae.safetensors",
                  "video_wan2_2_14B_t2v"),
    "hy_unet": ("hunyuan_video_t2v_720p_bf16.safetensors", "diffusion_models",
                HF + "Comfy-Org/HunyuanVideo_repackaged/resolve/main/split_files/diffusion_models/hunyuan_video_t2v_720p_bf16.safetensors",
                "hunyuan_video_text_to_video"),
    "hy_llava": ("llava_llama3_fp8_scaled.safetensors", "text_encoders",
                 HF + "Comfy-Org/HunyuanVideo_repackaged/resolve/main/split_files/text_encoders/llava_llama3_fp8_scaled.safetensors",
                 "hunyuan_video_text_to_video"),
    "hy_vae": ("hunyuan_video_vae_bf16.safetensors", "vae",
               HF + "Comfy-Org/HunyuanVideo_repackaged/resolve/main/split_files/vae/hunyuan_video_vae_bf16.safetensors",
               "hunyuan_video_text_to_video"),
}

# Tiny stand-ins (lina_nodes.devtools.tiny_models roles) the tests map each official file to.
TINY = {"sd15": "lina_tiny_sd15.safetensors", "clip_l": "lina_tiny_clip_l.safetensors",
        "sd3": "lina_tiny_sd3.safetensors", "taesd16": "lina_tiny_taesd16.safetensors",
        "wan": "lina_tiny_wan21.safetensors", "taehv": "lina_tiny_taehv.safetensors"}


class Graph:
    """An API-format graph built node by node (ids 1, 2, ... in insertion order)."""

    def __init__(self):
        self.api: dict[str, dict] = {}
        self.files: dict[str, list[str]] = {}  # node id -> keys of F it loads

    def add(self, class_type: str, title: str | None = None, files=(), **inputs) -> str:
        nid = str(len(self.api) + 1)
        self.api[nid] = {"class_type": class_type, "inputs": inputs}
        if title:
            self.api[nid]["_meta"] = {"title": title}
        if files:
            self.files[nid] = list(files)
        return nid


def out(nid: str, slot: int = 0) -> list:
    return [nid, slot]


def lina_front(g: Graph, clip, prompt: str, mode: str = "add"):
    """CSG Parse -> LINA Plan with the family's CLIP; returns the plan node id."""
    parse = g.add("LINACSGParse", prompt=prompt, seed=0, backend="rules")
    return g.add("LINAPlan", csg=out(parse), clip=clip, prompt_scale=1.0, latent_scale=1.0, mode=mode)


def custom_sampling(g: Graph, model, plan, negative, latent, steps: int, cfg: float, sampler: str, scheduler: str,
                    seed: int, positive=None, lina_positive=None, guider_model=None, use_guider=True):
    """LINA Guider (or CFGGuider on a patched model) + LINA Causal Scheduler + SamplerCustomAdvanced."""
    positive = positive or out(plan, 1)
    lina_positive = lina_positive or out(plan, 2)
    if use_guider:
        guider = g.add("LINAGuider", model=model, positive=positive, negative=negative, lina_positive=lina_positive,
                       plan=out(plan, 0), cfg=cfg)
    else:
        guider = g.add("CFGGuider", model=guider_model, positive=positive, negative=negative, cfg=cfg)
    sched = g.add("LINACausalScheduler", model=model, steps=steps, scheduler=scheduler, beta=0.0, rho=0.35,
                  denoise=1.0, plan=out(plan, 0))
    ks = g.add("KSamplerSelect", sampler_name=sampler)
    noise = g.add("RandomNoise", noise_seed=seed)
    return g.add("SamplerCustomAdvanced", noise=out(noise), guider=out(guider), sampler=out(ks), sigmas=out(sched),
                 latent_image=latent)


def save_image(g: Graph, samples, vae, prefix: str):
    dec = g.add("VAEDecode", samples=samples, vae=vae)
    g.add("SaveImage", images=out(dec), filename_prefix=prefix)


def save_video(g: Graph, samples, vae, prefix: str, fps: float):
    dec = g.add("VAEDecode", samples=samples, vae=vae)
    vid = g.add("CreateVideo", images=out(dec), fps=fps)
    g.add("SaveVideo", video=out(vid), filename_prefix=prefix, format="auto", codec="auto")


def ckpt_image(key, prefix, latent_class, size, steps, cfg, sampler, scheduler, patch=False):
    g = Graph()
    ck = g.add("CheckpointLoaderSimple", files=[key], ckpt_name=F[key][0])
    plan = lina_front(g, out(ck, 1), IMAGE_PROMPT)
    neg = g.add("CLIPTextEncode", clip=out(ck, 1), text=NEG)
    lat = g.add(latent_class, width=size, height=size, batch_size=1)
    if patch:  # the MODEL-patch route: LINA Model Patch + the stock CFGGuider
        pm = g.add("LINAModelPatch", model=out(ck), lina_positive=out(plan, 2), plan=out(plan, 0))
        s = custom_sampling(g, out(ck), plan, out(neg), out(lat), steps, cfg, sampler, scheduler, 0,
                            use_guider=False, guider_model=out(pm))
    else:
        s = custom_sampling(g, out(ck), plan, out(neg), out(lat), steps, cfg, sampler, scheduler, 0)
    save_image(g, out(s), out(ck, 2), prefix)
    return g


def build_sd15():
    return ckpt_image("sd15", "lina/sd15", "EmptyLatentImage", 512, 20, 7.0, "euler", "normal")


def build_sdxl():
    return ckpt_image("sdxl", "lina/sdxl", "EmptyLatentImage", 1024, 25, 7.0, "euler", "normal", patch=True)


def build_sd35l():
    return ckpt_image("sd35l", "lina/sd35_large", "EmptySD3LatentImage", 1024, 28, 4.5, "euler", "sgm_uniform")


def build_sd35m():
    return ckpt_image("sd35m", "lina/sd35_medium", "EmptySD3LatentImage", 1024, 40, 4.5, "euler", "sgm_uniform")


def flux_like(unet_key, prefix, steps, guidance):
    g = Graph()
    unet = g.add("UNETLoader", files=[unet_key], unet_name=F[unet_key][0], weight_dtype="default")
    clip = g.add("DualCLIPLoader", files=["clip_l", "t5xxl"], clip_name1=F["clip_l"][0], clip_name2=F["t5xxl"][0],
                 type="flux", device="default")
    vae = g.add("VAELoader", files=["ae"], vae_name=F["ae"][0])
    plan = lina_front(g, out(clip), IMAGE_PROMPT, mode="substitute")
    neg = g.add("CLIPTextEncode", clip=out(clip), text="")
    pos, lpos = out(plan, 1), out(plan, 2)
    if guidance is not None:  # FLUX.1 dev is guidance-distilled: the guidance goes on both conditionings
        pos = out(g.add("FluxGuidance", conditioning=pos, guidance=guidance))
        lpos = out(g.add("FluxGuidance", conditioning=lpos, guidance=guidance))
    lat = g.add("EmptySD3LatentImage", width=1024, height=1024, batch_size=1)
    s = custom_sampling(g, out(unet), plan, out(neg), out(lat), steps, 1.0, "euler", "simple", 0,
                        positive=pos, lina_positive=lpos)
    save_image(g, out(s), out(vae), prefix)
    return g


def build_flux_dev():
    return flux_like("flux_dev", "lina/flux_dev", 20, 3.5)


def build_flux_schnell():
    return flux_like("flux_schnell", "lina/flux_schnell", 4, None)


def build_qwen():
    g = Graph()
    unet = g.add("UNETLoader", files=["qwen_unet"], unet_name=F["qwen_unet"][0], weight_dtype="default")
    clip = g.add("CLIPLoader", files=["qwen_te"], clip_name=F["qwen_te"][0], type="qwen_image", device="default")
    vae = g.add("VAELoader", files=["qwen_vae"], vae_name=F["qwen_vae"][0])
    ms = g.add("ModelSamplingAuraFlow", model=out(unet), shift=3.1)
    plan = lina_front(g, out(clip), IMAGE_PROMPT)
    neg = g.add("CLIPTextEncode", clip=out(clip), text="")
    lat = g.add("EmptySD3LatentImage", width=1328, height=1328, batch_size=1)
    s = custom_sampling(g, out(ms), plan, out(neg), out(lat), 20, 2.5, "euler", "simple", 0)
    save_image(g, out(s), out(vae), "lina/qwen_image")
    return g


def build_wan21():
    g = Graph()
    unet = g.add("UNETLoader", files=["wan13"], unet_name=F["wan13"][0], weight_dtype="default")
    clip = g.add("CLIPLoader", files=["umt5"], clip_name=F["umt5"][0], type="wan", device="default")
    vae = g.add("VAELoader", files=["wan_vae"], vae_name=F["wan_vae"][0])
    ms = g.add("ModelSamplingSD3", model=out(unet), shift=8.0)
    plan = lina_front(g, out(clip), VIDEO_PROMPT)
    neg = g.add("CLIPTextEncode", clip=out(clip), text=WAN_NEG)
    lat = g.add("EmptyHunyuanLatentVideo", width=832, height=480, length=33, batch_size=1)
    s = custom_sampling(g, out(ms), plan, out(neg), out(lat), 30, 6.0, "uni_pc", "simple", 0)
    save_video(g, out(s), out(vae), "lina/wan21_t2v", 16.0)
    return g


def build_wan22():
    g = Graph()
    high = g.add("UNETLoader", title="Load high-noise expert", files=["wan22_high"], unet_name=F["wan22_high"][0],
                 weight_dtype="default")
    low = g.add("UNETLoader", title="Load low-noise expert", files=["wan22_low"], unet_name=F["wan22_low"][0],
                weight_dtype="default")
    clip = g.add("CLIPLoader", files=["umt5"], clip_name=F["umt5"][0], type="wan", device="default")
    vae = g.add("VAELoader", files=["wan22_vae"], vae_name=F["wan22_vae"][0])
    msh = g.add("ModelSamplingSD3", model=out(high), shift=8.0)
    msl = g.add("ModelSamplingSD3", model=out(low), shift=8.0)
    plan = lina_front(g, out(clip), VIDEO_PROMPT)
    neg = g.add("CLIPTextEncode", clip=out(clip), text=WAN_NEG)
    patched = g.add("LINAModelPatch", title="LINA Model Patch (high-noise pass)", model=out(msh),
                    lina_positive=out(plan, 2), plan=out(plan, 0))
    lat = g.add("EmptyHunyuanLatentVideo", width=640, height=640, length=81, batch_size=1)
    k1 = g.add("KSamplerAdvanced", title="High-noise pass (steps 0-10, LINA)", model=out(patched),
               add_noise="enable", noise_seed=0, steps=20, cfg=3.5, sampler_name="euler", scheduler="simple",
               positive=out(plan, 1), negative=out(neg), latent_image=out(lat), start_at_step=0, end_at_step=10,
               return_with_leftover_noise="enable")
    k2 = g.add("KSamplerAdvanced", title="Low-noise pass (steps 10-20)", model=out(msl), add_noise="disable",
               noise_seed=0, steps=20, cfg=3.5, sampler_name="euler", scheduler="simple", positive=out(plan, 1),
               negative=out(neg), latent_image=out(k1), start_at_step=10, end_at_step=10000,
               return_with_leftover_noise="disable")
    save_video(g, out(k2), out(vae), "lina/wan22_a14b_t2v", 16.0)
    return g


def build_hunyuan():
    g = Graph()
    unet = g.add("UNETLoader", files=["hy_unet"], unet_name=F["hy_unet"][0], weight_dtype="default")
    clip = g.add("DualCLIPLoader", files=["clip_l", "hy_llava"], clip_name1=F["clip_l"][0],
                 clip_name2=F["hy_llava"][0], type="hunyuan_video", device="default")
    vae = g.add("VAELoader", files=["hy_vae"], vae_name=F["hy_vae"][0])
    ms = g.add("ModelSamplingSD3", model=out(unet), shift=7.0)
    plan = lina_front(g, out(clip), VIDEO_PROMPT, mode="substitute")
    neg = g.add("CLIPTextEncode", clip=out(clip), text="")
    pos = out(g.add("FluxGuidance", conditioning=out(plan, 1), guidance=6.0))
    lpos = out(g.add("FluxGuidance", conditioning=out(plan, 2), guidance=6.0))
    lat = g.add("EmptyHunyuanLatentVideo", width=848, height=480, length=73, batch_size=1)
    s = custom_sampling(g, out(ms), plan, out(neg), out(lat), 20, 1.0, "euler", "simple", 0,
                        positive=pos, lina_positive=lpos)
    save_video(g, out(s), out(vae), "lina/hunyuan_video", 24.0)
    return g


# stem (the template browser's title), family label, ComfyUI model class, builder, settings text, stand-ins
FAMILIES = [
    ("SD1.5 - LINA text to image", "SD1.5", "SD15", build_sd15,
     "20 steps, CFG 7, euler, normal base schedule, 512 x 512", {"sd15": "sd15"}),
    ("SDXL - LINA text to image (Model Patch)", "SDXL", "SDXL", build_sdxl,
     "25 steps, CFG 7, euler, normal, 1024 x 1024 (base model only, no refiner pass)", None),
    ("SD3.5 Large - LINA text to image", "SD3.5 Large", "SD3", build_sd35l,
     "28 steps, CFG 4.5, euler, sgm_uniform, 1024 x 1024", {"sd35l": "sd3_split"}),
    ("SD3.5 Medium - LINA text to image", "SD3.5 Medium", "SD3", build_sd35m,
     "40 steps, CFG 4.5, euler, sgm_uniform, 1024 x 1024", {"sd35m": "sd3_split"}),
    ("FLUX.1 dev - LINA text to image (substitute)", "FLUX.1 dev", "Flux", build_flux_dev,
     "20 steps, CFG 1 with FluxGuidance 3.5 (on both conditionings), euler, simple, 1024 x 1024; LINA in "
     "substitute mode (no negative needed, no extra model evaluation)", None),
    ("FLUX.1 schnell - LINA text to image (substitute)", "FLUX.1 schnell", "FluxSchnell", build_flux_schnell,
     "4 steps, CFG 1, euler, simple, 1024 x 1024; LINA in substitute mode (one early step of four)", None),
    ("Qwen-Image - LINA text to image", "Qwen-Image", "QwenImage", build_qwen,
     "20 steps, CFG 2.5, euler, simple, ModelSamplingAuraFlow shift 3.1, 1328 x 1328", None),
    ("Wan 2.1 T2V 1.3B - LINA text to video", "Wan 2.1 T2V 1.3B", "WAN21_T2V", build_wan21,
     "30 steps, CFG 6, uni_pc, simple, ModelSamplingSD3 shift 8, 832 x 480, 33 frames at 16 fps",
     {"wan13": "wan", "umt5": "wan_te", "wan_vae": "taehv"}),
    ("Wan 2.2 T2V A14B - LINA text to video (two experts)", "Wan 2.2 T2V A14B", "WAN21_T2V", build_wan22,
     "20 steps, CFG 3.5, euler, simple, shift 8 on both experts; high-noise expert steps 0-10 with LINA Model Patch "
     "(LINA's window, 0.20 of denoising, lies inside it), low-noise expert steps 10-20; 640 x 640, 81 frames at 16 fps",
     {"wan22_high": "wan", "wan22_low": "wan", "umt5": "wan_te", "wan22_vae": "taehv"}),
    ("HunyuanVideo - LINA text to video (substitute)", "HunyuanVideo", "HunyuanVideo", build_hunyuan,
     "20 steps, CFG 1 with FluxGuidance 6, euler, simple, ModelSamplingSD3 shift 7, 848 x 480, 73 frames at 24 fps; "
     "LINA in substitute mode", None),
]


def note_text(label: str, config: str, g: Graph, settings: str, standin) -> str:
    fam = family_from_config_name(config)
    files, seen = [], set()
    for keys in g.files.values():
        for k in keys:
            name, folder, url, tmpl = F[k]
            if name not in seen:
                seen.add(name)
                files.append(f"- `{name}` -> `ComfyUI/models/{folder}/` : [download]({url})")
    tmpls = sorted({F[k][3] for keys in g.files.values() for k in keys})
    lines = [
        f"## {label} with LINA", "",
        "**Model files** (names as in ComfyUI's official templates; put each in the folder shown):", "",
        *files, "",
        f"Source: ComfyUI's official template(s) {', '.join(tmpls)} ({TEMPLATES}).", "",
        f"**Settings**: {settings}.", "",
        "**LINA**: CSG Parse -> LINA Plan (this model's text encoder) -> "
        + ("LINA Model Patch on the sampler's model" if any(v["class_type"] == "LINAModelPatch" for v in g.api.values())
           else "LINA Guider") +
        (" + LINA Causal Scheduler" if any(v["class_type"] == "LINACausalScheduler" for v in g.api.values()) else "")
        + f". Model class `{config}` -> family `{fam}`: window end {knee_for_family(fam):.2f} of denoising progress "
          f"({knee_source(fam)}). Measure your model's own knee with `lina knee` and set the scheduler's beta to it.",
        "",
        "Tested here: " + ("end to end on tiny random-weight stand-ins of the same architecture (output is noise)."
                           if standin else "validated against ComfyUI's node definitions only (no small stand-in of "
                                           "this architecture)."),
    ]
    return "\n".join(lines)


# --- layout -----------------------------------------------------------------------------------------

TITLE_H = 30  # LiteGraph draws the title bar above pos
GAP_X, GAP_Y = 50, 40


def node_size(node: dict, info: dict) -> list[int]:
    """A size at least as large as the frontend computes: slots, widgets (multiline text taller), previews."""
    if node["type"] in ("MarkdownNote", "Note"):
        return [460, 520]
    specs = {**(info["input"].get("required") or {}), **(info["input"].get("optional") or {})}
    widgets = 0
    extra = 0
    width = 330
    for name, spec in specs.items():
        if isinstance(spec, (list, tuple)) and spec and (isinstance(spec[0], list) or spec[0] in
                                                          ("INT", "FLOAT", "STRING", "BOOLEAN", "COMBO")):
            widgets += 1
            opts = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
            if opts.get("multiline"):
                extra += 90
                width = 400
            if opts.get("control_after_generate") or name in ("seed", "noise_seed"):
                widgets += 1
    slots = max(len(node.get("inputs") or []), len(node.get("outputs") or []))
    h = 10 + 22 * slots + 26 * widgets + extra
    if node["type"] in ("LINACSGParse", "SaveImage", "LINAPlan", "SaveVideo"):
        h += 300  # image / text preview shown after a run
        width = max(width, 400)
    return [width, max(80, h)]


def layout(ui: dict, info: dict, note: str | None) -> dict:
    """Columns by depth (from api_to_ui's x), rows stacked with their real heights; a Note on the left."""
    cols: dict[int, list[dict]] = {}
    for n in ui["nodes"]:
        cols.setdefault(int(n["pos"][0]), []).append(n)
    x = 40
    if note is not None:
        nid = ui["last_node_id"] + 1
        ui["nodes"].append({"id": nid, "type": "MarkdownNote", "pos": [x, 40 + TITLE_H], "size": [460, 520],
                            "flags": {}, "order": len(ui["nodes"]), "mode": 0, "inputs": [], "outputs": [],
                            "title": "Model files and settings", "properties": {}, "widgets_values": [note],
                            "color": "#432", "bgcolor": "#653"})
        ui["last_node_id"] = nid
        x += 460 + GAP_X
    for cx in sorted(cols):
        y = 40 + TITLE_H
        width = 0
        for n in sorted(cols[cx], key=lambda n: n["pos"][1]):
            n["size"] = node_size(n, info[n["type"]])
            n["pos"] = [x, y]
            y += n["size"][1] + TITLE_H + GAP_Y
            width = max(width, n["size"][0])
        x += width + GAP_X
    return ui


def add_model_links(ui: dict, g: Graph) -> None:
    """Loader nodes carry properties.models (name, url, directory), as ComfyUI's templates do, so the
    frontend offers the missing files for download."""
    by_id = {str(n["id"]): n for n in ui["nodes"]}
    for nid, keys in g.files.items():
        by_id[nid]["properties"]["models"] = [{"name": F[k][0], "url": F[k][2], "directory": F[k][1]} for k in keys]


# --- thumbnails -------------------------------------------------------------------------------------

def thumbnail(path: Path, title: str, subtitle: str, chain: list[str]) -> None:
    from PIL import Image, ImageDraw, ImageFont

    def font(s):
        try:
            return ImageFont.load_default(size=s)
        except TypeError:
            return ImageFont.load_default()
    img = Image.new("RGB", (512, 512), (24, 32, 56))
    d = ImageDraw.Draw(img)
    words, lines, cur = title.split(), [], ""
    for w in words:
        if d.textlength(cur + " " + w, font=font(40)) > 470 and cur:
            lines.append(cur)
            cur = w
        else:
            cur = (cur + " " + w).strip()
    lines.append(cur)
    y = 28
    for line in lines[:4]:
        d.text((24, y), line, fill=(245, 245, 245), font=font(40))
        y += 48
    d.text((24, y + 6), subtitle, fill=(250, 210, 80), font=font(24))
    y = max(y + 60, 250)
    for i, step in enumerate(chain):
        d.rounded_rectangle([40, y, 472, y + 40], radius=10, fill=(40, 60, 90), outline=(120, 200, 230), width=2)
        d.text((56, y + 8), step, fill=(235, 235, 235), font=font(22))
        if i < len(chain) - 1:
            d.line([256, y + 40, 256, y + 52], fill=(120, 200, 230), width=3)
        y += 52
    img.save(path, quality=88)


def chain_of(api: dict) -> list[str]:
    order = ["LINACSGParse", "LINAPlan", "LINAModelPatch", "LINAGuider", "LINACausalScheduler", "LINAPhysWorldLoader",
             "KSamplerAdvanced", "SamplerCustomAdvanced", "KSampler"]
    names = {"LINACSGParse": "LINA CSG Parse", "LINAPlan": "LINA Plan", "LINAModelPatch": "LINA Model Patch",
             "LINAGuider": "LINA Guider", "LINACausalScheduler": "LINA Causal Scheduler",
             "LINAPhysWorldLoader": "PhysWorld model", "KSamplerAdvanced": "KSamplerAdvanced x2",
             "SamplerCustomAdvanced": "SamplerCustomAdvanced", "KSampler": "KSampler"}
    present = {v["class_type"] for v in api.values()}
    return [names[c] for c in order if c in present][:5]


# --- main -------------------------------------------------------------------------------------------

def normalise(api: dict, info: dict) -> dict:
    """The API graph exactly as the editor file converts back (every widget value explicit)."""
    return ui_to_api(api_to_ui(api, info, pack_id="lina", pack_version=__version__), info)


def build_all(info: dict) -> list[dict]:
    manifest = []
    built = {}
    for stem, label, config, builder, settings, standin in FAMILIES:
        g = builder()
        api = normalise(g.api, info)
        (TWIN_DIR / f"{stem}.api.json").write_text(json.dumps(api, indent=1) + "\n")
        built[stem] = (g, label, config, settings, standin)
        fam = family_from_config_name(config)
        manifest.append({
            "stem": stem, "family": label, "model_class": config, "family_key": fam,
            "kind": "video" if "video" in stem else "image",
            "window_end": knee_for_family(fam), "window_source": knee_source(fam), "settings": settings,
            "files": [{"node": nid, "name": F[k][0], "directory": F[k][1], "url": F[k][2], "template": F[k][3]}
                      for nid, keys in g.files.items() for k in keys],
            "run_here": "tiny stand-in end to end" if standin else "validated only",
            "standin": standin_spec(g, standin) if standin else None,
        })
    MANIFEST.write_text(json.dumps({"templates": TEMPLATES, "examples": manifest}, indent=1) + "\n")
    return built


def standin_spec(g: Graph, standin: dict) -> dict:
    """How the tests map this graph's official files to the tiny stand-ins, node by node.

    ``set``: node id -> inputs to change; ``split``: checkpoint node id -> [UNETLoader, CLIPLoader, VAELoader]
    inputs (its MODEL / CLIP / VAE outputs are re-linked to them)."""
    spec: dict = {"set": {}, "split": {}}
    for nid, keys in g.files.items():
        node = g.api[nid]
        for k in keys:
            role = standin.get(k)
            if role == "sd15":
                spec["set"][nid] = {"ckpt_name": TINY["sd15"]}
            elif role == "sd3_split":
                spec["split"][nid] = [
                    {"class_type": "UNETLoader", "inputs": {"unet_name": TINY["sd3"], "weight_dtype": "default"}},
                    {"class_type": "CLIPLoader", "inputs": {"clip_name": TINY["clip_l"], "type": "sd3",
                                                            "device": "default"}},
                    {"class_type": "VAELoader", "inputs": {"vae_name": TINY["taesd16"]}}]
            elif role == "wan":
                spec["set"][nid] = {"unet_name": TINY["wan"]}
            elif role == "wan_te":  # CLIP-L through the SD3 text path gives Wan's 4096-wide context
                spec["set"][nid] = {"clip_name": TINY["clip_l"], "type": "sd3"}
            elif role == "taehv":
                spec["set"][nid] = {"vae_name": TINY["taehv"]}
            else:
                raise SystemExit(f"no stand-in role {role!r} for {k}")
        del node
    small = {"EmptyLatentImage": {"width": 64, "height": 64}, "EmptySD3LatentImage": {"width": 64, "height": 64},
             "EmptyHunyuanLatentVideo": {"width": 64, "height": 64, "length": 5}}
    for nid, node in g.api.items():
        if node["class_type"] in small:
            spec["set"].setdefault(nid, {}).update(small[node["class_type"]])
        if node["class_type"] == "LINACausalScheduler":
            spec["set"].setdefault(nid, {})["steps"] = 6
        if node["class_type"] == "KSamplerAdvanced":
            spec["set"].setdefault(nid, {}).update({"steps": 6, "start_at_step": node["inputs"]["start_at_step"] and 3,
                                                    "end_at_step": 3 if node["inputs"]["end_at_step"] == 10 else 10000})
    return spec


def write_editor_files(info: dict, built: dict) -> None:
    for api_path in sorted(TWIN_DIR.glob("*.api.json")):
        stem = api_path.name[: -len(".api.json")]
        api = json.loads(api_path.read_text())
        ui = api_to_ui(api, info, pack_id="lina", pack_version=__version__)
        if stem in built:
            g, label, config, settings, standin = built[stem]
            add_model_links(ui, g)
            ui = layout(ui, info, note_text(label, config, g, settings, standin))
            sub = f"{config} | LINA window {knee_for_family(family_from_config_name(config)):.2f}"
        else:
            ui = layout(ui, info, None)
            sub = "test rig (tiny models)" if "physworld" not in stem else "PhysWorld (ships with LINA)"
        assert ui_to_api(ui, info) == api, f"{stem}: the editor file does not convert back to its API twin"
        (WF_DIR / f"{stem}.json").write_text(json.dumps(ui, indent=1) + "\n")
        thumbnail(WF_DIR / f"{stem}.jpg", stem.replace("_", " "), sub, chain_of(api))
        print(f"{api_path.relative_to(ROOT)} -> workflows/{stem}.json (+ .jpg)")


def main() -> int:
    from lina_nodes.server.client import ComfyClient
    from lina_nodes.server.runtime import ComfyServer

    with tempfile.TemporaryDirectory() as tmp, ComfyServer(base_dir=Path(tmp)) as server:
        info = ComfyClient(server.url).object_info()
    built = build_all(info)
    write_editor_files(info, built)
    return 0


if __name__ == "__main__":
    sys.exit(main())
