"""Tiny random-weight models of real ComfyUI architectures, for the test rig and the demo.

Each file has the exact key layout of a real model family, taken from ComfyUI's own model classes
(built on the ``meta`` device, so nothing is allocated), so ComfyUI's normal loaders detect it as
that family. Only the free sizes are shrunk (levels, blocks, widths that detection reads from the
shapes). The weights are random, so the pictures are noise: the files exist to exercise loaders,
samplers, conditioning and decoders quickly on a CPU.

Roles (file names relative to the output folder, which is laid out like ComfyUI's ``models/``):

    sd15_ckpt  checkpoints/lina_tiny_sd15.safetensors        CheckpointLoaderSimple -> SD15
    clip_l     text_encoders/lina_tiny_clip_l.safetensors     CLIPLoader type stable_diffusion / sd3
    sd3_unet   diffusion_models/lina_tiny_sd3.safetensors     UNETLoader -> SD3 (flow)
    taesd16    vae/lina_tiny_taesd16.safetensors              VAELoader (16-channel TAESD, SD3 path)
    wan_unet   diffusion_models/lina_tiny_wan21.safetensors   UNETLoader -> WAN21 (text-to-video)
    taehv      vae/lina_tiny_taehv.safetensors                VAELoader (TAEHV video autoencoder)

Usage (a subprocess, because it imports ComfyUI):

    python -m lina_nodes.devtools.tiny_models --comfy .comfyui/ComfyUI --out DIR [--seed 0] [--json]
    python -m lina_nodes.devtools.tiny_models --comfy .comfyui/ComfyUI --out DIR --verify --json

or ``build_all(comfy_dir, out_dir, seed=0)`` from a process that may import ComfyUI.

Output is deterministic for a given seed, torch version and ComfyUI version: every tensor is drawn
from its own ``torch.Generator`` seeded from (seed, family, key), and safetensors writes tensors
in a fixed order. ``lina_tiny_manifest.json`` in the output folder records each file's sha256,
size, mtime and the build spec; a file whose spec, size and mtime match is skipped without reading
it (a file whose mtime changed is re-hashed), so a warm re-run does not even import torch.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path

from ..errors import LinaError

BUILDER_VERSION = 1
MANIFEST_NAME = "lina_tiny_manifest.json"
LOCK_NAME = ".lina_tiny.lock"

# role -> (ComfyUI models subfolder, file name)
ROLES: dict[str, tuple[str, str]] = {
    "sd15_ckpt": ("checkpoints", "lina_tiny_sd15.safetensors"),
    "clip_l": ("text_encoders", "lina_tiny_clip_l.safetensors"),
    "sd3_unet": ("diffusion_models", "lina_tiny_sd3.safetensors"),
    "taesd16": ("vae", "lina_tiny_taesd16.safetensors"),
    "wan_unet": ("diffusion_models", "lina_tiny_wan21.safetensors"),
    "taehv": ("vae", "lina_tiny_taehv.safetensors"),
}

# --- architecture settings -------------------------------------------------------------------
# SD1.5 UNet: SD15 detection pins model_channels 320, context_dim 768, conv (not linear)
# proj_in, no adm; levels, res blocks, transformer depth and the middle block are read from the keys.
SD15_UNET = {
    "image_size": 32, "in_channels": 4, "out_channels": 4, "model_channels": 320, "num_res_blocks": [1],
    "channel_mult": [1], "transformer_depth": [1], "transformer_depth_output": [1, 1],
    "transformer_depth_middle": -2, "use_linear_in_transformer": False, "context_dim": 768, "num_heads": 8,
    "num_head_channels": -1, "use_spatial_transformer": True, "legacy": False, "adm_in_channels": None,
    "use_temporal_resblock": False, "use_temporal_attention": False, "use_checkpoint": False,
}
# SD3 MMDiT: hidden size = 64 * depth; context 4096 and pooled 2048 are what CLIPLoader(type sd3)
# produces from CLIP-L alone (zero-padded); pos_embed 32x32 patches = latents up to 64x64 (512 px).
SD3_DEPTH = 2
SD3_POS_EMBED_MAX = 32
SD3_MMDIT = {
    "input_size": None, "patch_size": 2, "in_channels": 16, "out_channels": 16, "depth": SD3_DEPTH,
    "adm_in_channels": 2048,
    "context_embedder_config": {"target": "torch.nn.Linear",
                                "params": {"in_features": 4096, "out_features": 64 * SD3_DEPTH}},
    "num_patches": SD3_POS_EMBED_MAX ** 2, "pos_embed_max_size": SD3_POS_EMBED_MAX,
    "pos_embed_scaling_factor": None, "x_block_self_attn_layers": [],
}
# Wan 2.1 text-to-video DiT: detection sets num_heads = dim // 128, so dim 128 is one head.
WAN21 = {
    "model_type": "t2v", "patch_size": (1, 2, 2), "text_len": 512, "in_dim": 16, "dim": 128, "ffn_dim": 256,
    "freq_dim": 256, "text_dim": 4096, "out_dim": 16, "num_heads": 1, "num_layers": 2, "window_size": (-1, -1),
    "qk_norm": True, "cross_attn_norm": True, "eps": 1e-6, "image_model": "wan2.1",
}
CLIP_FP8 = True  # store CLIP-L's 2-D weights as float8_e4m3fn (half the size; loads and encodes)
# TAESD scale/shift as ComfyUI's own taesd/taesd3 loaders set them, so decode sees raw latents.
TAESD_SCALE = {4: (0.18215, 0.0), 16: (1.5305, 0.0609)}

# Keys that make ComfyUI pick each architecture (used by the tests and --verify).
TRIGGER_KEYS = {
    "sd15_ckpt": ["model.diffusion_model.input_blocks.0.0.weight",
                  "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight",
                  "cond_stage_model.transformer.text_model.encoder.layers.11.mlp.fc1.weight",
                  "first_stage_model.taesd_decoder.1.weight"],
    "clip_l": ["text_model.encoder.layers.0.mlp.fc1.weight",
               "text_model.encoder.layers.11.mlp.fc1.weight", "text_projection.weight"],
    "sd3_unet": ["joint_blocks.0.context_block.attn.qkv.weight", "x_embedder.proj.weight",
                 "context_embedder.weight", "y_embedder.mlp.0.weight", "pos_embed"],
    "taesd16": ["taesd_decoder.1.weight", "taesd_encoder.0.weight"],
    "wan_unet": ["head.modulation", "head.head.weight", "patch_embedding.weight",
                 "blocks.1.ffn.0.weight", "text_embedding.0.weight"],
    "taehv": ["decoder.22.bias", "decoder.1.weight", "encoder.0.weight"],
}


# --- small helpers (no torch) ----------------------------------------------------------------

def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def _torch_version() -> str:
    try:
        from importlib.metadata import version
        return version("torch")
    except (ImportError, ValueError):  # PackageNotFoundError is an ImportError
        return "unknown"


def _comfy_version(comfy_dir: Path) -> str:
    f = comfy_dir / "comfyui_version.py"
    try:
        for line in f.read_text().splitlines():
            if line.startswith("__version__"):
                return line.split("=", 1)[1].strip().strip("\"'")
    except OSError:
        pass
    return "unknown"


def _spec(role: str, seed: int, comfy_dir: Path) -> str:
    return f"v{BUILDER_VERSION}|{role}|seed={seed}|torch={_torch_version()}|comfy={_comfy_version(comfy_dir)}"


def rel_path(role: str) -> str:
    sub, name = ROLES[role]
    return f"{sub}/{name}"


def _check_comfy_dir(comfy_dir) -> Path:
    p = Path(comfy_dir).resolve() if comfy_dir else None
    if p is None or not (p / "comfy" / "ldm").is_dir():
        raise LinaError(f"not a ComfyUI tree: {comfy_dir!s} (no comfy/ldm folder).", field="comfy",
                        fix="pass the folder holding ComfyUI's main.py, e.g. .comfyui/ComfyUI.")
    return p


@contextlib.contextmanager
def _locked(out_dir: Path):
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / LOCK_NAME, "a+") as fh:
        try:
            import fcntl
            fcntl.flock(fh, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - non-POSIX
            pass
        yield


def _read_manifest(out_dir: Path) -> dict:
    try:
        m = json.loads((out_dir / MANIFEST_NAME).read_text())
        if isinstance(m, dict) and isinstance(m.get("files"), dict):
            return m
    except (OSError, ValueError):
        pass
    return {"builder_version": BUILDER_VERSION, "files": {}}


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _is_current(out_dir: Path, entry: dict | None, spec: str) -> bool:
    """True when the file matches its manifest entry (spec, size and mtime; else re-hash it).
    A re-hash that matches updates ``entry["mtime_ns"]``."""
    if not entry or entry.get("spec") != spec:
        return False
    path = out_dir / entry["path"]
    try:
        st = path.stat()
    except OSError:
        return False
    if st.st_size != entry.get("size"):
        return False
    if st.st_mtime_ns == entry.get("mtime_ns"):
        return True
    if _sha256_file(path) == entry.get("sha256"):  # touched or copied: same content
        entry["mtime_ns"] = st.st_mtime_ns
        return True
    return False


# --- torch side --------------------------------------------------------------------------------

class _Comfy:
    """Lazy access to ComfyUI's model classes (imported once, CPU mode)."""

    def __init__(self, comfy_dir: Path):
        if str(comfy_dir) not in sys.path:
            sys.path.insert(0, str(comfy_dir))
        import comfy.cli_args
        import torch  # noqa: F401
        comfy.cli_args.args.cpu = True  # before comfy.model_management is imported
        import comfy.ops
        self.ops = comfy.ops.disable_weight_init

    def meta(self, build):
        import torch
        with torch.device("meta"):
            return build()

    def sd15_unet(self):
        from comfy.ldm.modules.diffusionmodules.openaimodel import UNetModel
        return self.meta(lambda: UNetModel(**SD15_UNET, operations=self.ops))

    def clip_l(self):
        import comfy.clip_model
        cfg = json.loads((Path(comfy.clip_model.__file__).parent / "sd1_clip_config.json").read_text())
        return self.meta(lambda: comfy.clip_model.CLIPTextModel(cfg, None, None, self.ops))

    def taesd(self, latent_channels):
        from comfy.taesd.taesd import TAESD
        return self.meta(lambda: TAESD(latent_channels=latent_channels))

    def mmdit(self):
        from comfy.ldm.modules.diffusionmodules.mmdit import MMDiT
        return self.meta(lambda: MMDiT(**SD3_MMDIT, operations=self.ops))

    def wan21(self):
        from comfy.ldm.wan.model import WanModel
        return self.meta(lambda: WanModel(**WAN21, operations=self.ops))

    def taehv(self):
        from comfy.taesd.taehv import TAEHV
        return self.meta(lambda: TAEHV(latent_channels=16, latent_format=None))


def _tensor_seed(seed: int, family: str, key: str) -> int:
    d = hashlib.sha256(f"{seed}|{family}|{key}".encode()).digest()
    return int.from_bytes(d[:8], "little") & ((1 << 63) - 1)


def _random_state(module, family: str, seed: int, dtype_for, special=None) -> dict:
    """Random tensors for every state-dict key of ``module`` (a meta-device model).

    Norm weights are 1 and biases 0; weight matrices/kernels are N(0, 1/fan_in); embeddings and
    other free parameters N(0, 0.02) unless ``special`` gives a value (float) or std (("std", s)).
    """
    import torch
    special = special or {}
    out = {}
    for key, t in module.state_dict().items():
        owner_name, _, leaf = key.rpartition(".")
        owner = module.get_submodule(owner_name) if owner_name else module
        shape = tuple(t.shape)
        dtype = dtype_for(key, shape)
        kind = type(owner).__name__
        if key in special and not isinstance(special[key], tuple):
            v = torch.full(shape, float(special[key]))
        elif "Norm" in kind and leaf in ("weight", "scale"):
            v = torch.ones(shape)
        elif leaf == "bias" or ("Norm" in kind):
            v = torch.zeros(shape)
        else:
            if key in special:
                std = special[key][1]
            elif "Embedding" in kind or len(shape) < 2 or leaf != "weight":
                std = 0.02
            else:
                std = 1.0 / math.sqrt(max(1, math.prod(shape[1:])))
            g = torch.Generator().manual_seed(_tensor_seed(seed, family, key))
            v = torch.randn(shape, generator=g) * std
        out[key] = v.to(dtype).contiguous()
    return out


def _fp16(key, shape):
    import torch
    return torch.float16


def _clip_dtype(key, shape):
    import torch
    return torch.float8_e4m3fn if (CLIP_FP8 and len(shape) == 2) else torch.float16


class _Builder:
    def __init__(self, comfy_dir: Path, seed: int):
        self.c = _Comfy(comfy_dir)
        self.seed = seed
        self._clip = None

    def clip_tensors(self) -> dict:
        if self._clip is None:  # shared by the checkpoint and the stand-alone text encoder
            self._clip = _random_state(self.c.clip_l(), "clip_l", self.seed, _clip_dtype)
        return self._clip

    def taesd_tensors(self, ch: int) -> dict:
        scale, shift = TAESD_SCALE[ch]
        return _random_state(self.c.taesd(ch), f"taesd{ch}", self.seed, _fp16,
                             {"vae_scale": scale, "vae_shift": shift})

    def build(self, role: str) -> dict:
        if role == "sd15_ckpt":
            sd = {f"model.diffusion_model.{k}": v for k, v in
                  _random_state(self.c.sd15_unet(), "sd15_unet", self.seed, _fp16).items()}
            # SD1.5 checkpoints carry no text_projection (SD1.5 uses the hidden states)
            sd.update({f"cond_stage_model.transformer.{k}": v for k, v in self.clip_tensors().items()
                       if not k.startswith("text_projection")})
            sd.update({f"first_stage_model.{k}": v for k, v in self.taesd_tensors(4).items()})
            return sd
        if role == "clip_l":
            return dict(self.clip_tensors())
        if role == "sd3_unet":
            return _random_state(self.c.mmdit(), "sd3_mmdit", self.seed, _fp16)
        if role == "taesd16":
            return self.taesd_tensors(16)
        if role == "wan_unet":
            m = self.c.wan21()
            special = {k: ("std", 1.0 / math.sqrt(WAN21["dim"])) for k in m.state_dict()
                       if k.endswith("modulation")}
            return _random_state(m, "wan21", self.seed, _fp16, special)
        if role == "taehv":
            return _random_state(self.c.taehv(), "taehv", self.seed, _fp16)
        raise LinaError(f"unknown role {role!r}.", field="roles", fix=f"use one of {sorted(ROLES)}.")


_ST_DTYPES = {"float32": "F32", "float16": "F16", "bfloat16": "BF16", "float8_e4m3fn": "F8_E4M3",
              "float8_e5m2": "F8_E5M2", "int64": "I64", "int32": "I32"}


def _write_safetensors(path: Path, role: str, tensors: dict, seed: int) -> tuple[int, str]:
    """Write a safetensors file with a byte-stable layout; return (size, sha256).

    (safetensors' own ``save`` writes the ``__metadata__`` entries in hash-map order, which
    changes from run to run, so the header is written here: keys sorted, tensors ordered by
    item size then name so every tensor stays aligned.)
    """
    import torch
    order = sorted(tensors, key=lambda k: (-tensors[k].element_size(), k))
    header: dict = {"__metadata__": {"format": "pt", "lina_tiny_builder": str(BUILDER_VERSION),
                                     "lina_tiny_role": role, "lina_tiny_seed": str(seed)}}
    off = 0
    for k in order:
        t = tensors[k]
        n = t.numel() * t.element_size()
        header[k] = {"dtype": _ST_DTYPES[str(t.dtype).replace("torch.", "")],
                     "shape": list(t.shape), "data_offsets": [off, off + n]}
        off += n
    hb = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    h = hashlib.sha256()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        for chunk in (len(hb).to_bytes(8, "little"), hb):
            f.write(chunk)
            h.update(chunk)
        for k in order:
            buf = memoryview(tensors[k].contiguous().view(-1).view(torch.uint8).numpy())
            f.write(buf)
            h.update(buf)
    os.replace(tmp, path)
    return 8 + len(hb) + off, h.hexdigest()


def build(comfy_dir, out_dir, seed: int = 0, roles=None) -> dict:
    """Build (or reuse) the tiny models. Returns a report: files (role -> relative path), built,
    skipped, sizes (bytes), params (element counts), sha256 and seconds."""
    t0 = time.perf_counter()
    out_dir = Path(out_dir).resolve()
    comfy_dir = _check_comfy_dir(comfy_dir)
    roles = list(ROLES) if roles is None else list(roles)
    for r in roles:
        if r not in ROLES:
            raise LinaError(f"unknown role {r!r}.", field="roles", fix=f"use some of {sorted(ROLES)}.")
    built, skipped = [], []
    with _locked(out_dir):
        manifest = _read_manifest(out_dir)
        files = manifest["files"]
        builder = None
        before = json.dumps(files, sort_keys=True)
        for role in roles:
            rel = rel_path(role)
            spec = _spec(role, seed, comfy_dir)
            if _is_current(out_dir, files.get(rel), spec):
                skipped.append(role)
                continue
            if builder is None:
                builder = _Builder(comfy_dir, seed)
            tensors = builder.build(role)
            path = out_dir / rel
            size, sha = _write_safetensors(path, role, tensors, seed)
            files[rel] = {"path": rel, "role": role, "spec": spec, "size": size, "sha256": sha,
                          "params": int(sum(t.numel() for t in tensors.values())),
                          "mtime_ns": path.stat().st_mtime_ns}
            built.append(role)
            del tensors
        manifest["builder_version"] = BUILDER_VERSION
        if json.dumps(files, sort_keys=True) != before or not (out_dir / MANIFEST_NAME).exists():
            _write_atomic(out_dir / MANIFEST_NAME, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
    rels = {r: rel_path(r) for r in roles}
    return {
        "files": rels, "built": built, "skipped": skipped,
        "sizes": {r: files[rels[r]]["size"] for r in roles},
        "params": {r: files[rels[r]]["params"] for r in roles},
        "sha256": {r: files[rels[r]]["sha256"] for r in roles},
        "seconds": round(time.perf_counter() - t0, 3),
    }


def build_all(comfy_dir, out_dir, seed: int = 0) -> dict[str, str]:
    """Build every role into ``out_dir``; return role -> path relative to ``out_dir``."""
    return build(comfy_dir, out_dir, seed)["files"]


# --- verification through ComfyUI's own loaders (no server) ------------------------------------

def verify(comfy_dir, out_dir, roles=None) -> dict:
    """Load each file with ComfyUI's loader functions and run a tiny forward pass.

    Returns role -> {"detected": model/VAE/text-encoder class, "finite": bool, ...}.
    """
    comfy_dir = _check_comfy_dir(comfy_dir)
    out_dir = Path(out_dir).resolve()
    _Comfy(comfy_dir)
    import comfy.sd
    import comfy.utils
    import torch

    roles = list(ROLES) if roles is None else list(roles)
    res = {}

    def enc(clip):
        tok = clip.tokenize("a red ball on a table")
        cond, pooled = clip.encode_from_tokens(tok, return_pooled=True)
        return {"cond_shape": list(cond.shape), "pooled_shape": list(pooled.shape),
                "finite": bool(torch.isfinite(cond).all() and torch.isfinite(pooled).all())}

    for role in roles:
        path = str(out_dir / rel_path(role))
        info: dict = {}
        if role == "sd15_ckpt":
            model, clip, vae = comfy.sd.load_checkpoint_guess_config(path)[:3]
            info["detected"] = type(model.model.model_config).__name__
            info["model_type"] = model.model.model_type.name
            info["vae"] = type(vae.first_stage_model).__name__
            e = enc(clip)
            img = vae.decode(torch.randn(1, 4, 8, 8))
            info.update(cond_shape=e["cond_shape"], image_shape=list(img.shape),
                        finite=e["finite"] and bool(torch.isfinite(img).all()))
        elif role == "clip_l":
            for name, ct in (("stable_diffusion", comfy.sd.CLIPType.STABLE_DIFFUSION), ("sd3", comfy.sd.CLIPType.SD3)):
                clip = comfy.sd.load_clip([path], clip_type=ct)
                info[name] = dict(detected=type(clip.cond_stage_model).__name__, **enc(clip))
            info["finite"] = all(info[n]["finite"] for n in ("stable_diffusion", "sd3"))
        elif role in ("sd3_unet", "wan_unet"):
            model = comfy.sd.load_diffusion_model(path)
            info["detected"] = type(model.model.model_config).__name__
            info["model_type"] = model.model.model_type.name
            info["params"] = comfy.utils.calculate_parameters(model.model.diffusion_model.state_dict())
        elif role in ("taesd16", "taehv"):
            sd = comfy.utils.load_torch_file(path)
            vae = comfy.sd.VAE(sd=sd)
            info["detected"] = type(vae.first_stage_model).__name__
            info["latent_channels"] = vae.latent_channels
            lat = torch.randn(1, 16, 8, 8) if role == "taesd16" else torch.randn(1, 16, 3, 8, 8)
            img = vae.decode(lat)
            info["image_shape"] = list(img.shape)
            info["finite"] = bool(torch.isfinite(img).all())
        res[role] = info
    return res


# --- command line ------------------------------------------------------------------------------

def _default_comfy() -> str | None:
    try:
        from ..server.runtime import find_comfyui
        return str(find_comfyui())
    except LinaError:
        return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m lina_nodes.devtools.tiny_models",
                                description="Write tiny random-weight models of real ComfyUI architectures.")
    p.add_argument("--comfy", default=None, help="ComfyUI tree (folder with main.py); default: the bundled one")
    p.add_argument("--out", required=True, help="output folder, laid out like ComfyUI's models/")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--roles", default=None, help=f"comma-separated subset of {','.join(ROLES)}")
    p.add_argument("--verify", action="store_true", help="also load each file with ComfyUI's loaders")
    p.add_argument("--json", action="store_true", help="print one JSON line on stdout")
    a = p.parse_args(argv)
    roles = a.roles.split(",") if a.roles else None
    try:
        rep = build(a.comfy or _default_comfy(), a.out, a.seed, roles)
        if a.verify:
            rep["verify"] = verify(a.comfy or _default_comfy(), a.out, roles)
    except LinaError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if a.json:
        print(json.dumps(rep, default=str))
    else:
        for r, rel in rep["files"].items():
            state = "built" if r in rep["built"] else "up to date"
            print(f"{r:10s} {rel:48s} {rep['sizes'][r] / 1e6:8.1f} MB {rep['params'][r] / 1e6:8.2f} M params  {state}")
        if "verify" in rep:
            for r, info in rep["verify"].items():
                print(f"verify {r}: {json.dumps(info)}")
        print(f"{rep['seconds']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
