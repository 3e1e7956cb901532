"""The family example workflows (SD1.5 ... HunyuanVideo): every API twin validates against the live
server's /object_info; the editor files carry the model files (Note + download links), a thumbnail and a
layout with no overlapping nodes; each family with a tiny stand-in runs end to end with its official
model names mapped to the stand-ins, and LINA changes the result against the same graph without LINA.
Plus `comfy node validate` and `lina run --set` with a misspelled input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _graphs import without_lina
from lina_nodes.server.workflow_format import WorkflowError, apply_sets, ui_to_api

REPO = Path(__file__).resolve().parents[2]
TWINS = REPO / "tests" / "workflows"
MANIFEST = json.loads((TWINS / "families.json").read_text())
EXAMPLES = {e["stem"]: e for e in MANIFEST["examples"]}
RUNNABLE = [s for s, e in EXAMPLES.items() if e["standin"]]
EDITOR_FILES = sorted((REPO / "workflows").glob("*.json"))
FAMILIES = ["SD1.5", "SDXL", "SD3.5 Large", "SD3.5 Medium", "FLUX.1 dev", "FLUX.1 schnell", "Qwen-Image",
            "Wan 2.1 T2V 1.3B", "Wan 2.2 T2V A14B", "HunyuanVideo"]
LINA_CHAIN = {"LINACSGParse", "LINAPlan", "LINACausalScheduler"}


def twin(stem: str) -> dict:
    return json.loads((TWINS / f"{stem}.api.json").read_text())


def test_every_family_has_an_example():
    assert sorted(e["family"] for e in EXAMPLES.values()) == sorted(FAMILIES)
    for stem, e in EXAMPLES.items():
        assert (REPO / "workflows" / f"{stem}.json").is_file() and (TWINS / f"{stem}.api.json").is_file()
        types = {n["class_type"] for n in twin(stem).values()}
        assert {"LINACSGParse", "LINAPlan"} <= types, stem
        assert types & {"LINAGuider", "LINAModelPatch"}, stem
        if e["family"] != "Wan 2.2 T2V A14B":  # two KSamplerAdvanced passes take no SIGMAS
            assert "LINACausalScheduler" in types, stem
        assert not any("lina_tiny" in json.dumps(n) for n in twin(stem).values()), "official names only"


def _validate(api: dict, info: dict, model_files: set[str]) -> list[str]:
    errs = []
    for nid, node in api.items():
        spec = info.get(node["class_type"])
        if spec is None:
            errs.append(f"{nid}: unknown class {node['class_type']}")
            continue
        req = spec["input"].get("required") or {}
        opt = spec["input"].get("optional") or {}
        for name in req:
            if name not in node["inputs"]:
                errs.append(f"{nid} {node['class_type']}: missing required input {name}")
        for name, val in node["inputs"].items():
            s = req.get(name) or opt.get(name)
            if s is None:
                errs.append(f"{nid} {node['class_type']}: unknown input {name}")
                continue
            kind, opts = s[0], (s[1] if len(s) > 1 and isinstance(s[1], dict) else {})
            if isinstance(val, list) and len(val) == 2 and isinstance(val[0], str):
                src = api.get(val[0])
                if src is None:
                    errs.append(f"{nid}.{name}: link to missing node {val[0]}")
                    continue
                out_type = info[src["class_type"]]["output"][val[1]]
                want = "COMBO" if isinstance(kind, list) else kind
                if want != out_type and "*" not in (want, out_type):
                    errs.append(f"{nid}.{name}: {out_type} linked to a {want} input")
            elif isinstance(kind, list) or kind == "COMBO":
                options = kind if isinstance(kind, list) else opts.get("options", [])
                if val not in options and val not in model_files:
                    errs.append(f"{nid}.{name}: {val!r} not in the list")
            elif kind in ("INT", "FLOAT"):
                if ("min" in opts and val < opts["min"]) or ("max" in opts and val > opts["max"]):
                    errs.append(f"{nid}.{name}: {val} out of range")
    return errs


@pytest.mark.parametrize("path", sorted(TWINS.glob("*.api.json")), ids=lambda p: p.name[:-9])
def test_api_twin_validates_against_object_info(comfy, path):
    """Node types, required inputs, link types, combo values and ranges; model file names may be the
    official ones listed in the manifest (they are not in this test server's folders)."""
    stem = path.name[: -len(".api.json")]
    files = {f["name"] for f in EXAMPLES[stem]["files"]} if stem in EXAMPLES else set()
    assert _validate(json.loads(path.read_text()), comfy.object_info(), files) == []


@pytest.mark.parametrize("path", EDITOR_FILES, ids=lambda p: p.stem)
def test_editor_layout_has_no_overlaps_and_a_thumbnail(path):
    ui = json.loads(path.read_text())
    rects = [(n["id"], n["pos"][0], n["pos"][1] - 30, n["size"][0], n["size"][1] + 30) for n in ui["nodes"]]
    for i, (a, ax, ay, aw, ah) in enumerate(rects):
        for b, bx, by, bw, bh in rects[i + 1:]:
            assert not (ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah), \
                f"{path.name}: nodes {a} and {b} overlap"
    thumb = path.with_suffix(".jpg")  # the template browser's thumbnail for a custom node's example
    assert thumb.is_file() and Image.open(thumb).size == (512, 512)


@pytest.mark.parametrize("stem", sorted(EXAMPLES), ids=str)
def test_note_lists_files_links_and_folders(stem):
    ui = json.loads((REPO / "workflows" / f"{stem}.json").read_text())
    notes = [n for n in ui["nodes"] if n["type"] == "MarkdownNote"]
    assert len(notes) == 1
    text = notes[0]["widgets_values"][0]
    for f in EXAMPLES[stem]["files"]:
        assert f["name"] in text and f["url"] in text and f"models/{f['directory']}/" in text
        node = next(n for n in ui["nodes"] if str(n["id"]) == f["node"])
        assert {"name": f["name"], "url": f["url"], "directory": f["directory"]} in node["properties"]["models"]
    assert "lina knee" in text and f"{EXAMPLES[stem]['window_end']:.2f}" in text


@pytest.mark.parametrize("path", [p for p in EDITOR_FILES if p.stem in EXAMPLES], ids=lambda p: p.stem)
def test_editor_file_converts_to_twin(comfy, path):
    assert ui_to_api(json.loads(path.read_text()), comfy.object_info()) == twin(path.stem)


# --- end to end on the tiny stand-ins -------------------------------------------------------------

def to_standins(api: dict, spec: dict, prefix: str) -> dict:
    """Map the official loaders to the tiny stand-ins (manifest spec), shrink sizes, save frames as PNG."""
    g = json.loads(json.dumps(api))
    for nid, inputs in spec["set"].items():
        g[nid]["inputs"].update(inputs)
    relink = {}
    for nid, parts in spec["split"].items():  # checkpoint -> UNET + CLIP + VAE loaders
        del g[nid]
        for slot, part in enumerate(parts):
            new = f"{nid}{900 + slot}"
            g[new] = json.loads(json.dumps(part))
            relink[(nid, slot)] = [new, 0]
    for node in g.values():
        for k, v in node["inputs"].items():
            if isinstance(v, list) and len(v) == 2 and (v[0], v[1]) in relink:
                node["inputs"][k] = relink[(v[0], v[1])]
    for nid in [k for k, n in g.items() if n["class_type"] == "CreateVideo"]:
        frames = g.pop(nid)["inputs"]["images"]
        for k, n in list(g.items()):
            if n["class_type"] == "SaveVideo" and n["inputs"]["video"][0] == nid:
                g[k] = {"class_type": "SaveImage", "inputs": {"images": frames, "filename_prefix": prefix}}
    for n in g.values():
        if n["class_type"] == "SaveImage":
            n["inputs"]["filename_prefix"] = prefix
    return g


def frames(comfy, entry, prefix: str) -> np.ndarray:
    """The frames SaveImage wrote with ``prefix`` (not the CSG preview, which is a temp file)."""
    name = prefix.rsplit("/", 1)[-1]
    files = sorted(p for p in comfy.output_files(entry) if p.suffix == ".png" and p.name.startswith(name))
    assert files, entry.get("outputs")
    return np.stack([np.asarray(Image.open(p).convert("RGB"), dtype=np.int16) for p in files])


@pytest.mark.parametrize("stem", RUNNABLE, ids=str)
def test_family_runs_on_standins_and_lina_changes_the_result(comfy, stem):
    spec = EXAMPLES[stem]["standin"]
    tag = stem.split(" - ")[0].replace(" ", "_").replace(".", "")
    lina = frames(comfy, comfy.run(to_standins(twin(stem), spec, f"fam/{tag}_lina"), timeout=300), f"fam/{tag}_lina")
    plain = frames(comfy, comfy.run(to_standins(without_lina(twin(stem)), spec, f"fam/{tag}_plain"), timeout=300),
                   f"fam/{tag}_plain")
    assert lina.shape == plain.shape
    diff = np.abs(lina - plain)
    if any(n["class_type"] == "LINACausalScheduler" for n in twin(stem).values()):
        assert diff.mean() > 0.5, f"{stem}: LINA did not change the output"
    else:   # the model patch alone (Wan 2.2's KSamplerAdvanced passes): a small, early-window-only change
        assert diff.max() >= 1, f"{stem}: LINA did not change the output"


def test_lina_at_zero_strength_equals_plain_cfg(comfy):
    """Where LINA is a no-op (prompt and latent scales 0, no structure prompt), the LINA Guider gives
    exactly the CFGGuider result on the same (causal) schedule."""
    stem = "SD1.5 - LINA text to image"
    api = twin(stem)
    plan = next(k for k, n in api.items() if n["class_type"] == "LINAPlan")
    api[plan]["inputs"].update(prompt_scale=0.0, latent_scale=0.0)
    plain = json.loads(json.dumps(api))
    for k, n in plain.items():
        if n["class_type"] == "LINAGuider":
            i = n["inputs"]
            plain[k] = {"class_type": "CFGGuider", "inputs": {"model": i["model"], "positive": i["positive"],
                                                               "negative": i["negative"], "cfg": i["cfg"]}}
    spec = EXAMPLES[stem]["standin"]
    a = frames(comfy, comfy.run(to_standins(api, spec, "fam/noop_lina"), timeout=300), "fam/noop_lina")
    b = frames(comfy, comfy.run(to_standins(plain, spec, "fam/noop_plain"), timeout=300), "fam/noop_plain")
    assert np.array_equal(a, b)


# --- registry metadata and CLI ------------------------------------------------------------------

def test_comfy_node_validate_passes():
    exe = Path(sys.executable).with_name("comfy")
    if not exe.exists():
        pytest.skip("comfy-cli not installed")
    r = subprocess.run([str(exe), "node", "validate"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "passed" in r.stdout + r.stderr, r.stdout + r.stderr


def test_registry_metadata():
    import tomllib
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    urls = meta["project"]["urls"]
    assert "Issues" in urls and "Bug Tracker" not in urls
    base = urls["Repository"].rstrip("/")
    assert all(u.startswith(base) for u in urls.values()), urls
    icon = meta["tool"]["comfy"]["Icon"]
    assert icon.endswith("/docs/icon.png") and (REPO / "docs" / "icon.png").is_file()
    assert Image.open(REPO / "docs" / "icon.png").size == (400, 400)
    assert (REPO / "CHANGELOG.md").is_file()


def test_set_with_unknown_input_names_node_and_inputs(comfy):
    api = twin("SD1.5 - LINA text to image")
    info = comfy.object_info()
    sched = next(k for k, n in api.items() if n["class_type"] == "LINACausalScheduler")
    with pytest.raises(WorkflowError) as e:
        apply_sets(api, [f"{sched}.stpes=10"], info)
    msg = str(e.value)
    assert f"node {sched} (LINACausalScheduler" in msg and "'stpes'" in msg and "steps" in msg and "rho" in msg
    assert apply_sets(api, [f"{sched}.steps=10"], info)[sched]["inputs"]["steps"] == 10
    # optional inputs the workflow leaves unset are still accepted
    parse = next(k for k, n in api.items() if n["class_type"] == "LINACSGParse")
    assert apply_sets(api, [f"{parse}.knowledge_path=x"], info)[parse]["inputs"]["knowledge_path"] == "x"


def test_lina_run_set_typo_is_an_error(comfy, tmp_path):
    wf = tmp_path / "wf.json"
    wf.write_text(json.dumps(twin("SD1.5 - LINA text to image")))
    r = subprocess.run([sys.executable, "-m", "lina_nodes.cli", "run", str(wf), "--server", comfy.url,
                        "--set", "KSamplerSelect.sampler=euler"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode != 0
    assert "KSamplerSelect" in r.stdout + r.stderr and "sampler_name" in r.stdout + r.stderr
