"""lina_nodes.devtools.tiny_models: deterministic tiny models with the real ComfyUI key layouts.

The builder imports ComfyUI, so it runs in a subprocess here (as the test rig runs it).
Headers are read with the standard library (safetensors = 8-byte length + JSON header + data).
"""
from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from lina_nodes.devtools.tiny_models import MANIFEST_NAME, ROLES, TRIGGER_KEYS
from lina_nodes.errors import LinaError

REPO = Path(__file__).resolve().parents[2]


def _comfy_dir() -> Path:
    from lina_nodes.server.runtime import find_comfyui
    try:
        return find_comfyui()
    except LinaError as e:  # no ComfyUI tree: nothing to build against
        pytest.skip(f"ComfyUI tree not available: {e}")


def _start(out: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "lina_nodes.devtools.tiny_models", "--comfy", str(_comfy_dir()),
           "--out", str(out), "--json", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)


def _report(p: subprocess.Popen) -> dict:
    out, err = p.communicate()
    assert p.returncode == 0, err[-4000:]
    return json.loads(out.strip().splitlines()[-1])


def _run(out: Path, *extra: str) -> dict:
    return _report(_start(out, *extra))


def _header(path: Path) -> dict:
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _params(header: dict) -> int:
    total = 0
    for k, v in header.items():
        if k != "__metadata__":
            n = 1
            for d in v["shape"]:
                n *= d
            total += n
    return total


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    a = tmp_path_factory.mktemp("tiny_a")
    b = tmp_path_factory.mktemp("tiny_b")
    pa, pb = _start(a), _start(b)   # two independent builds, side by side
    return a, _report(pa), b, _report(pb)


def test_roles_files_and_folders(built):
    a, rep, _, _ = built
    assert set(rep["files"]) == set(ROLES)
    assert rep["built"] == list(ROLES)
    for role, rel in rep["files"].items():
        sub, name = ROLES[role]
        assert rel == f"{sub}/{name}" and name.startswith("lina_tiny_")
        assert sub in ("checkpoints", "diffusion_models", "text_encoders", "vae")
        p = a / rel
        assert p.is_file() and p.stat().st_size == rep["sizes"][role]
        assert _sha(p) == rep["sha256"][role]  # the manifest hash is the real content hash
    manifest = json.loads((a / MANIFEST_NAME).read_text())
    assert {e["role"] for e in manifest["files"].values()} == set(ROLES)


def test_same_seed_same_bytes(built):
    a, rep_a, b, rep_b = built
    assert rep_a["sha256"] == rep_b["sha256"]
    for rel in rep_a["files"].values():
        assert _sha(a / rel) == _sha(b / rel)


def test_other_seed_other_bytes(built, tmp_path):
    _, rep, _, _ = built
    other = _run(tmp_path, "--seed", "1", "--roles", "wan_unet,taesd16")
    assert set(other["files"]) == {"wan_unet", "taesd16"}
    for role in other["files"]:
        assert other["sha256"][role] != rep["sha256"][role]
        assert other["params"][role] == rep["params"][role]


def test_warm_rerun_skips_and_repairs(built):
    a, rep, _, _ = built
    warm = _run(a)
    assert warm["built"] == [] and sorted(warm["skipped"]) == sorted(ROLES)
    assert warm["sha256"] == rep["sha256"]
    # same size, different content: must be rebuilt back to the recorded bytes
    p = a / rep["files"]["wan_unet"]
    data = bytearray(p.read_bytes())
    data[-1] ^= 0xFF
    p.write_bytes(bytes(data))
    fixed = _run(a)
    assert fixed["built"] == ["wan_unet"]
    assert _sha(p) == rep["sha256"]["wan_unet"]
    # a deleted file is rebuilt too
    (a / rep["files"]["taesd16"]).unlink()
    again = _run(a, "--roles", "taesd16")
    assert again["built"] == ["taesd16"] and _sha(a / rep["files"]["taesd16"]) == rep["sha256"]["taesd16"]


def test_trigger_keys_and_shapes(built):
    a, rep, _, _ = built
    h = {role: _header(a / rel) for role, rel in rep["files"].items()}
    for role, keys in TRIGGER_KEYS.items():
        missing = [k for k in keys if k not in h[role]]
        assert not missing, f"{role}: missing {missing}"

    sd15 = h["sd15_ckpt"]
    assert sd15["model.diffusion_model.input_blocks.0.0.weight"]["shape"] == [320, 4, 3, 3]
    assert sd15["model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"]["shape"] == [320, 768]
    assert len(sd15["model.diffusion_model.input_blocks.1.1.proj_in.weight"]["shape"]) == 4  # conv: SD1.x
    assert sd15["first_stage_model.taesd_decoder.1.weight"]["shape"][1] == 4
    assert not any(k.startswith("model.diffusion_model.middle_block.") for k in sd15)
    # the full 12-layer CLIP-L, and no 13th layer
    layers = {k.split(".")[5] for k in sd15 if k.startswith("cond_stage_model.transformer.text_model.encoder.layers.")}
    assert layers == {str(i) for i in range(12)}
    clip = h["clip_l"]
    assert {k for k in clip if k != "__metadata__"} == \
        {k[len("cond_stage_model.transformer."):] for k in sd15 if k.startswith("cond_stage_model.")} | {"text_projection.weight"}
    assert clip["text_model.embeddings.token_embedding.weight"]["shape"] == [49408, 768]
    assert clip["text_model.encoder.layers.0.mlp.fc1.weight"]["dtype"] == "F8_E4M3"
    assert clip["text_model.final_layer_norm.weight"]["dtype"] == "F16"

    sd3 = h["sd3_unet"]
    assert sd3["x_embedder.proj.weight"]["shape"] == [128, 16, 2, 2]  # depth = 128 // 64 = 2
    assert sd3["context_embedder.weight"]["shape"] == [128, 4096]
    assert sd3["y_embedder.mlp.0.weight"]["shape"][1] == 2048
    assert {k.split(".")[1] for k in sd3 if k.startswith("joint_blocks.")} == {"0", "1"}

    wan = h["wan_unet"]
    assert wan["head.modulation"]["shape"] == [1, 2, 128]  # dim 128 -> one head
    assert wan["patch_embedding.weight"]["shape"] == [128, 16, 1, 2, 2]
    assert wan["text_embedding.0.weight"]["shape"] == [128, 4096]
    assert wan["head.head.weight"]["shape"][0] == 16 * 4
    assert {k.split(".")[1] for k in wan if k.startswith("blocks.")} == {"0", "1"}
    assert "img_emb.proj.0.bias" not in wan  # text-to-video, not i2v

    assert h["taesd16"]["taesd_decoder.1.weight"]["shape"] == [64, 16, 3, 3]
    assert h["taehv"]["decoder.1.weight"]["shape"] == [256, 16, 3, 3]
    assert h["taehv"]["decoder.1.weight"]["dtype"] == "F16"
    for role in ("sd15_ckpt", "sd3_unet", "taesd16", "wan_unet", "taehv"):
        dtypes = {v["dtype"] for k, v in h[role].items() if k != "__metadata__" and not k.startswith("cond_stage_model.")}
        assert dtypes == {"F16"}, (role, dtypes)
    assert all(h[r]["__metadata__"]["lina_tiny_role"] == r for r in ROLES)


@pytest.mark.parametrize("role, lo, hi", [
    ("sd15_ckpt", 130e6, 160e6),   # CLIP-L 123.1 M + UNet ~18.7 M + TAESD 2.4 M
    ("clip_l", 123e6, 124.5e6),
    ("sd3_unet", 1.5e6, 3e6),
    ("taesd16", 2e6, 3e6),
    ("wan_unet", 0.8e6, 1.5e6),
    ("taehv", 9e6, 14e6),
])
def test_parameter_counts(built, role, lo, hi):
    a, rep, _, _ = built
    n = _params(_header(a / rep["files"][role]))
    assert n == rep["params"][role]
    assert lo <= n <= hi, f"{role}: {n} params"


def test_comfyui_detects_each_architecture(built):
    """ComfyUI's own loaders (no server) pick the intended model classes and produce finite output."""
    a, _, _, _ = built
    v = _run(a, "--verify")["verify"]
    assert v["sd15_ckpt"]["detected"] == "SD15" and v["sd15_ckpt"]["model_type"] == "EPS"
    assert v["sd15_ckpt"]["vae"] == "TAESD" and v["sd15_ckpt"]["finite"]
    assert v["clip_l"]["stable_diffusion"]["cond_shape"] == [1, 77, 768]
    assert v["clip_l"]["sd3"]["cond_shape"][-1] == 4096 and v["clip_l"]["finite"]
    assert v["sd3_unet"]["detected"] == "SD3" and v["sd3_unet"]["model_type"] == "FLOW"
    assert v["wan_unet"]["detected"] == "WAN21_T2V" and v["wan_unet"]["model_type"] == "FLOW"
    assert v["taesd16"]["detected"] == "TAESD" and v["taesd16"]["latent_channels"] == 16
    assert v["taehv"]["detected"] == "TAEHV" and v["taehv"]["image_shape"][1] == 9  # 3 latent frames -> 9
    assert v["taesd16"]["finite"] and v["taehv"]["finite"]
