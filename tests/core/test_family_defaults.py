"""Per-family default windows against ComfyUI 0.3.75's real model classes (read from
comfy/supported_models.py without importing it), and the note an unknown family gets."""
from __future__ import annotations

import ast

import pytest

from lina_nodes.intervention.schedule import (
    FAMILY_KNEES,
    family_from_config_name,
    family_info,
    family_note,
    knee_for_family,
)
from lina_nodes.server.runtime import find_comfyui

# classes that are not text-to-image/video diffusion LINA targets (audio, 3D, upscalers, cascade, SVD)
NOT_TARGETS = {"StableAudio", "ACEStep", "Hunyuan3Dv2", "Hunyuan3Dv2_1", "Hunyuan3Dv2mini", "Stable_Cascade_C",
               "Stable_Cascade_B", "SVD_img2vid", "SV3D_u", "SV3D_p", "Stable_Zero123"}


def comfy_model_classes() -> dict[str, list[str]]:
    try:
        src = (find_comfyui() / "comfy" / "supported_models.py").read_text()
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"no ComfyUI tree: {e}")
    tree = ast.parse(src)
    return {n.name: [getattr(b, "id", getattr(b, "attr", "")) for b in n.bases]
            for n in tree.body if isinstance(n, ast.ClassDef)}


def test_every_comfy_image_and_video_class_has_a_family():
    classes = comfy_model_classes()
    missing = [c for c in classes if c not in NOT_TARGETS and family_from_config_name(c) == "default"]
    assert missing == []


def test_wan22_experts_and_5b():
    classes = comfy_model_classes()
    assert "WAN21_T2V" in classes and "WAN22_T2V" in classes and "WAN22" not in classes
    assert family_from_config_name("WAN21_T2V") == "wan21"  # Wan 2.1 and Wan 2.2 A14B's two experts
    assert family_from_config_name("WAN22_T2V") == "wan22"  # Wan 2.2 TI2V 5B
    assert classes["WAN22_T2V"] == ["WAN21_T2V"]


@pytest.mark.parametrize("name,family", [("HunyuanVideo", "hunyuan_video"), ("HunyuanVideo15", "hunyuan_video"),
                                         ("LTXV", "ltxv"), ("Chroma", "chroma"), ("HiDream", "hidream"),
                                         ("QwenImage", "qwen_image"), ("Flux2", "flux2"), ("FluxSchnell", "flux"),
                                         ("SD3", "sd3"), ("SDXL", "sdxl"), ("SD15", "sd15")])
def test_named_families(name, family):
    assert family_from_config_name(name) == family
    assert knee_for_family(family) == FAMILY_KNEES[family]


def test_unknown_family_gets_default_window_and_a_visible_note():
    info = family_info("BrandNewDiT")
    assert info["family"] == "default" and not info["known"]
    assert info["window_end"] == FAMILY_KNEES["default"]
    note = family_note("BrandNewDiT")
    assert "unknown model family" in note and "BrandNewDiT" in note and "lina knee" in note and "0.20" in note


def test_notes_for_published_and_prior_families():
    assert family_note("SD3") == "" and family_note("QwenImage") == ""  # published figures
    assert "prior" in family_note("SD15") and "lina knee" in family_note("SD15")
    assert "borrowed" in family_note("Flux")
    assert "prefix" in family_note("WAN22_FutureThing")
