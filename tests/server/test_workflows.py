"""Every example workflow in workflows/ (editor format) converts back to its API twin with the live
/object_info (so the widget order cannot drift); the ones that name the pack's own or the rig's models run here
(the family examples, which name real model files, run on stand-ins in test_family_workflows.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from lina_nodes.server.workflow_format import is_ui_format, ui_to_api

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "workflows").glob("*.json"))
FAMILY_STEMS = {e["stem"] for e in json.loads((REPO / "tests" / "workflows" / "families.json").read_text())["examples"]}
RUNNABLE = [p for p in EXAMPLES if p.stem not in FAMILY_STEMS]


def test_there_are_image_and_video_examples():
    names = [p.name for p in EXAMPLES]
    assert any("image" in n for n in names) and any("video" in n for n in names), names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_matches_api_twin(comfy, path):
    ui = json.loads(path.read_text())
    assert is_ui_format(ui)
    twin = REPO / "tests" / "workflows" / (path.stem + ".api.json")
    api = json.loads(twin.read_text())
    assert ui_to_api(ui, comfy.object_info()) == api


@pytest.mark.parametrize("path", RUNNABLE, ids=lambda p: p.stem)
def test_example_runs(comfy, path):
    api = ui_to_api(json.loads(path.read_text()), comfy.object_info())
    for node in api.values():  # a new seed so the server really executes
        if "noise_seed" in node["inputs"]:
            node["inputs"]["noise_seed"] = 4242
    entry = comfy.run(api, timeout=300)
    assert comfy.output_files(entry)
