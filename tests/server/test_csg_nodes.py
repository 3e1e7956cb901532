"""CSG nodes in a real ComfyUI server: schema, parse -> masks / causal prompt, JSON in and out,
clear validation errors that do not stop the server."""
from __future__ import annotations

import json

import numpy as np
from PIL import Image

from lina_nodes.server.client import execution_error

CSG_NODES = {
    "LINACSGParse": ("LINA CSG Parse", ["LINA_CSG", "STRING", "IMAGE"]),
    "LINACSGFromJSON": ("LINA CSG From JSON", ["LINA_CSG", "STRING"]),
    "LINACSGMasks": ("LINA CSG Masks", ["MASK", "STRING"]),
    "LINACSGCausalPrompt": ("LINA CSG Causal Prompt", ["STRING"]),
}
PROMPT = "a red ball in front of a small mirror under a lamp on the left"


def parse_node(prompt=PROMPT, **kw):
    return {"class_type": "LINACSGParse", "inputs": {"prompt": prompt, "seed": 0, "backend": "rules", **kw}}


def test_schemas_are_registered_with_tooltips(comfy):
    info = comfy.object_info()
    for node_id, (display, outputs) in CSG_NODES.items():
        assert node_id in info, node_id
        node = info[node_id]
        assert node["display_name"] == display and node["category"] == "LINA/csg"
        assert node["output"] == outputs
        for section in ("required", "optional"):
            for name, spec in node["input"].get(section, {}).items():
                assert spec[1].get("tooltip"), f"{node_id}.{name} has no tooltip"
    assert info["LINACSGParse"]["output_node"] is True


def test_parse_returns_json_and_preview(comfy):
    entry = comfy.run({"p": parse_node()})
    out = entry["outputs"]["p"]
    data = json.loads(out["csg_json"][0])
    assert data["version"] == "1.0" and data["prompt"] == PROMPT
    kinds = {n["kind"] for n in data["nodes"]}
    assert {"reflection", "shadow"} <= kinds
    images = out.get("images", [])
    assert images, out.keys()
    # the on-node preview (ComfyUI's temp folder) is the square one, readable at node size, and a real drawing;
    # the full-size 1024 x 512 drawing is the IMAGE output
    img_path = comfy.base_dir / "temp" / images[0].get("subfolder", "") / images[0]["filename"]
    assert img_path.exists(), img_path
    arr = np.asarray(Image.open(img_path))
    assert arr.shape[:2] == (512, 512) and arr.std() > 5


def test_masks_per_node_for_video_frames(comfy):
    g = {
        "p": parse_node(),
        "m": {"class_type": "LINACSGMasks", "inputs": {"csg": ["p", 0], "width": 64, "height": 48, "frames": 2,
                                                        "mode": "node", "select": ""}},
        "i": {"class_type": "PreviewAny", "inputs": {"source": ["m", 1]}},
        "img": {"class_type": "MaskToImage", "inputs": {"mask": ["m", 0]}},
        "s": {"class_type": "SaveImage", "inputs": {"images": ["img", 0], "filename_prefix": "lina_csg_masks"}},
    }
    entry = comfy.run(g)
    data = json.loads(entry["outputs"]["p"]["csg_json"][0])
    index = entry["outputs"]["i"]["text"][0].splitlines()
    assert len(index) == len(data["nodes"])
    assert index[0] == f"0-1: {data['nodes'][0]['id']}"
    files = sorted(f for f in comfy.output_files(entry) if f.name.startswith("lina_csg_masks"))
    assert len(files) == 2 * len(data["nodes"])
    # batch index 2*k is node k: its white pixels sit on the node's box
    for k, node in enumerate(data["nodes"]):
        arr = np.asarray(Image.open(files[2 * k]).convert("L"), dtype=np.float32) / 255.0
        assert arr.shape == (48, 64)
        if node["box"] is None:
            assert arr.max() == 0
            continue
        x0, y0, x1, y1 = node["box"]
        cy, cx = int((y0 + y1) / 2 * 48), int((x0 + x1) / 2 * 64)
        assert arr[cy, cx] > 0.9, node["id"]


def test_from_json_to_causal_prompt(comfy):
    first = comfy.run({"p": parse_node("more dirt than empty space in the jar")})
    csg_json = first["outputs"]["p"]["csg_json"][0]
    g = {
        "j": {"class_type": "LINACSGFromJSON", "inputs": {"csg_json": csg_json, "complete": True, "seed": 0}},
        "c": {"class_type": "LINACSGCausalPrompt", "inputs": {"csg": ["j", 0], "include_original": True,
                                                               "include_explicit": True}},
    }
    entry = comfy.run(g)
    text = entry["outputs"]["c"]["text"][0]
    assert text.startswith("more dirt than empty space in the jar") and "70% full of dirt" in text


def test_validation_error_names_the_field_and_server_keeps_serving(comfy):
    bad = json.loads(comfy.run({"p": parse_node("a cat")})["outputs"]["p"]["csg_json"][0])
    bad["nodes"][0]["texture"]["color"] = 7
    g = {"j": {"class_type": "LINACSGFromJSON", "inputs": {"csg_json": json.dumps(bad), "complete": True, "seed": 0}},
         "c": {"class_type": "LINACSGCausalPrompt", "inputs": {"csg": ["j", 0], "include_original": True,
                                                                "include_explicit": True}}}
    entry = comfy.run(g, expect_error=True)
    err = execution_error(entry)
    assert "nodes[0].texture.color: expected a string" in err["exception_message"]
    g["j"]["inputs"]["csg_json"] = "{not json"
    err = execution_error(comfy.run(g, expect_error=True))
    assert "csg_json" in err["exception_message"] or "json" in err["exception_message"]
    # the server still works
    entry = comfy.run({"p": parse_node("a dog chases a cat")})
    assert "chases" in entry["outputs"]["p"]["csg_json"][0]


def test_llm_backend_falls_back_when_unreachable(comfy):
    entry = comfy.run({"p": parse_node("a snake is eaten by a bird", backend="llm",
                                       llm_url="http://127.0.0.1:9/v1", llm_timeout=1.0)})
    data = json.loads(entry["outputs"]["p"]["csg_json"][0])
    assert data["meta"]["llm_fallback"] is True
    assert any(e["relation"] == "eats" for e in data["edges"])


def test_masks_select_error_is_clear(comfy):
    g = {"p": parse_node("a cat"),
         "m": {"class_type": "LINACSGMasks", "inputs": {"csg": ["p", 0], "width": 32, "height": 32, "frames": 1,
                                                         "mode": "node", "select": "dragon_0"}},
         "i": {"class_type": "PreviewAny", "inputs": {"source": ["m", 1]}}}
    err = execution_error(comfy.run(g, expect_error=True))
    assert "select" in err["exception_message"] and "cat_0" in err["exception_message"]
