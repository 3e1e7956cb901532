"""UI <-> API workflow conversion on a small object_info fragment shaped like ComfyUI's."""
import pytest

from lina_nodes.server.workflow_format import WorkflowError, api_to_ui, apply_sets, is_api_format, ui_to_api

INFO = {
    "Loader": {"input": {"required": {"name": [["a.safetensors", "b.safetensors"], {}]}}, "input_order": {"required": ["name"]},
               "output": ["MODEL"], "output_name": ["MODEL"], "python_module": "nodes", "display_name": "Loader"},
    "Sampler": {"input": {"required": {"model": ["MODEL", {}], "seed": ["INT", {"default": 0, "control_after_generate": True}],
                                       "steps": ["INT", {"default": 20}], "text": ["STRING", {"default": ""}]},
                          "optional": {"extra": ["MODEL", {}]}},
                "input_order": {"required": ["model", "seed", "steps", "text"], "optional": ["extra"]},
                "output": ["IMAGE"], "output_name": ["IMAGE"], "python_module": "custom_nodes.lina", "display_name": "Sampler"},
    "Save": {"input": {"required": {"images": ["IMAGE", {}], "prefix": ["STRING", {"default": "x"}]}},
             "input_order": {"required": ["images", "prefix"]}, "output": [], "output_name": [], "python_module": "nodes",
             "display_name": "Save"},
}
API = {
    "1": {"class_type": "Loader", "inputs": {"name": "b.safetensors"}},
    "2": {"class_type": "Sampler", "inputs": {"model": ["1", 0], "seed": 5, "steps": 7, "text": "hi"}},
    "3": {"class_type": "Save", "inputs": {"images": ["2", 0], "prefix": "out"}},
}


def test_round_trip():
    ui = api_to_ui(API, INFO)
    assert not is_api_format(ui)
    assert ui_to_api(ui, INFO) == API
    sampler = next(n for n in ui["nodes"] if n["type"] == "Sampler")
    assert sampler["widgets_values"] == [5, "fixed", 7, "hi"]  # control_after_generate slot after the seed
    assert sampler["properties"]["cnr_id"] == "lina"


def test_reroute_bypass_mute_primitive_and_notes():
    ui = api_to_ui(API, INFO)
    # insert a reroute between loader and sampler, a bypassed copy of the sampler before Save, a note, a muted node
    ui["nodes"].append({"id": 10, "type": "Reroute", "inputs": [{"name": "", "type": "*", "link": 100}],
                        "outputs": [{"name": "", "type": "MODEL", "links": [101]}]})
    ui["nodes"].append({"id": 11, "type": "Note", "widgets_values": ["hello"]})
    ui["nodes"].append({"id": 12, "type": "Save", "mode": 2, "inputs": [], "widgets_values": ["muted"]})
    ui["nodes"].append({"id": 13, "type": "PrimitiveNode", "outputs": [{"type": "INT", "links": [102]}], "widgets_values": [33]})
    ui["links"] = [l for l in ui["links"] if not (l[1] == 1 and l[3] == 2)]
    ui["links"] += [[100, 1, 0, 10, 0, "MODEL"], [101, 10, 0, 2, 0, "MODEL"], [102, 13, 0, 2, 1, "INT"]]
    sampler = next(n for n in ui["nodes"] if n["type"] == "Sampler")
    sampler["inputs"] = [{"name": "model", "type": "MODEL", "link": 101},
                         {"name": "steps", "type": "INT", "link": 102, "widget": {"name": "steps"}}]
    api = ui_to_api(ui, INFO)
    assert set(api) == {"1", "2", "3"}
    assert api["2"]["inputs"]["model"] == ["1", 0]
    assert api["2"]["inputs"]["steps"] == 33  # from the primitive


def test_unknown_node_type_is_named():
    ui = api_to_ui(API, INFO)
    ui["nodes"][0]["type"] = "Missing"
    with pytest.raises(WorkflowError, match="Missing"):
        ui_to_api(ui, INFO)


def test_apply_sets():
    out = apply_sets(API, ["2.steps=9", "Save.prefix=abc", "Loader.name=a.safetensors"])
    assert out["2"]["inputs"]["steps"] == 9 and out["3"]["inputs"]["prefix"] == "abc"
    assert API["2"]["inputs"]["steps"] == 7  # input untouched
    for bad in ["nodot=1", "2.steps", "Nope.x=1"]:
        with pytest.raises(WorkflowError, match="--set"):
            apply_sets(API, [bad])
