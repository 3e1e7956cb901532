"""Workflow JSON formats: detect API vs UI (editor) format, convert UI -> API, apply ``--set`` overrides.

The UI format stores widget values by position; the conversion needs the server's ``/object_info``
to know which inputs are widgets and in what order. Handled: links, reroutes, primitive nodes,
muted (mode 2) and bypassed (mode 4) nodes, notes, the hidden ``control_after_generate`` value
after seed widgets, upload buttons, and dict-style ``widgets_values``. Subgraphs are not supported
(a clear error says so).
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from ..errors import LinaError

WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
UI_ONLY = {"Note", "MarkdownNote", "PrimitiveNode", "Reroute"}
CONTROL_VALUES = {"fixed", "increment", "decrement", "randomize"}


class WorkflowError(LinaError):
    """A workflow file that cannot be read or converted."""


def is_api_format(data: Any) -> bool:
    return isinstance(data, dict) and bool(data) and all(
        isinstance(v, dict) and "class_type" in v for k, v in data.items() if not str(k).startswith("#"))


def is_ui_format(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("nodes"), list) and "links" in data


def load_workflow(path) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise WorkflowError(f"cannot read {path}: {e}", field="workflow") from e
    except ValueError as e:
        raise WorkflowError(f"{path} is not valid JSON ({e}).", field="workflow",
                            fix="export the workflow again (Workflow > Export, or Export (API)).") from e
    if not (is_api_format(data) or is_ui_format(data)):
        raise WorkflowError(f"{path} is neither an API-format nor a UI-format ComfyUI workflow.", field="workflow",
                            fix="pass a file saved by ComfyUI (Save / Export / Export (API)).")
    return data


def _is_widget(spec) -> bool:
    if not isinstance(spec, (list, tuple)) or not spec:
        return False
    t = spec[0]
    return isinstance(t, list) or t in WIDGET_TYPES


def _spec_opts(spec) -> dict:
    return spec[1] if isinstance(spec, (list, tuple)) and len(spec) > 1 and isinstance(spec[1], dict) else {}


def ui_to_api(ui: dict, object_info: dict) -> dict:
    """Convert a UI-format workflow to API format using the server's ``/object_info``."""
    if (ui.get("definitions") or {}).get("subgraphs"):
        raise WorkflowError("workflows with subgraphs are not supported by this converter.", field="workflow",
                            fix="unpack the subgraphs in the editor, or export the workflow in API format.")
    nodes = {int(n["id"]): n for n in ui["nodes"]}
    links = {}
    for link in ui.get("links", []):
        if isinstance(link, dict):
            links[int(link["id"])] = (int(link["origin_id"]), int(link["origin_slot"]))
        else:
            links[int(link[0])] = (int(link[1]), int(link[2]))

    def resolve(link_id: int, depth: int = 0):
        """Follow a link back through reroutes and bypassed nodes to a real output, or a primitive's value."""
        if depth > 64:
            raise WorkflowError("link cycle through reroute/bypassed nodes.", field="workflow")
        src_id, slot = links[link_id]
        src = nodes.get(src_id)
        if src is None:
            raise WorkflowError(f"link {link_id} comes from missing node {src_id}.", field="workflow")
        if src["type"] == "Reroute" or src.get("mode") == 4:
            out_type = (src.get("outputs") or [{}])[slot].get("type") if src.get("outputs") else None
            for inp in src.get("inputs") or []:
                if inp.get("link") is not None and (src["type"] == "Reroute" or inp.get("type") == out_type):
                    return resolve(int(inp["link"]), depth + 1)
            return None
        if src["type"] == "PrimitiveNode":
            vals = src.get("widgets_values") or [None]
            return ("value", vals[0])
        if src.get("mode") == 2:
            return None
        return [str(src_id), slot]

    api: dict[str, dict] = {}
    for nid, node in sorted(nodes.items()):
        ctype = node["type"]
        if ctype in UI_ONLY or node.get("mode") in (2, 4):
            continue
        info = object_info.get(ctype)
        if info is None:
            raise WorkflowError(f"node {nid} has type {ctype!r}, which this server does not know.",
                                field=f"nodes[{nid}].type", fix="install the node pack that provides it.")
        order = info.get("input_order") or {s: list((info["input"].get(s) or {}).keys()) for s in ("required", "optional")}
        specs = {**(info["input"].get("required") or {}), **(info["input"].get("optional") or {})}
        linked = {inp["name"]: inp.get("link") for inp in node.get("inputs") or [] if inp.get("link") is not None}
        wv = node.get("widgets_values")
        inputs: dict[str, Any] = {}
        pos = 0
        for name in list(order.get("required", [])) + list(order.get("optional", [])):
            spec = specs.get(name)
            if _is_widget(spec):
                if isinstance(wv, dict):
                    value, has = wv.get(name), name in wv
                else:
                    has = wv is not None and pos < len(wv)
                    value = wv[pos] if has else None
                    pos += 1 if has else 0
                    opts = _spec_opts(spec)
                    if has and (opts.get("control_after_generate") or
                                (name in ("seed", "noise_seed") and spec[0] == "INT")):
                        if pos < len(wv) and wv[pos] in CONTROL_VALUES:
                            pos += 1
                    if has and any(k.endswith("_upload") and v for k, v in opts.items()):
                        if pos < len(wv) and isinstance(wv[pos], str) and wv[pos] in ("image", "video", "audio", "file"):
                            pos += 1
                if has:
                    inputs[name] = value
            if name in linked:
                r = resolve(int(linked[name]))
                if isinstance(r, tuple):
                    inputs[name] = r[1]
                elif r is not None:
                    inputs[name] = r
        entry = {"class_type": ctype, "inputs": inputs}
        if node.get("title"):
            entry["_meta"] = {"title": node["title"]}
        api[str(nid)] = entry
    if not api:
        raise WorkflowError("the workflow has no executable nodes.", field="workflow")
    return api


def parse_value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def node_input_names(class_type: str, object_info: dict | None, current: dict | None = None) -> list[str]:
    """The input names a node of ``class_type`` accepts (required, then optional; hidden ones excluded).

    From the server's ``/object_info`` when given, else the inputs the workflow already sets."""
    info = (object_info or {}).get(class_type)
    if info is None:
        return list(current or {})
    order = info.get("input_order") or {s: list((info.get("input", {}).get(s) or {}).keys())
                                        for s in ("required", "optional")}
    return list(order.get("required", [])) + list(order.get("optional", []))


def apply_sets(api: dict, sets: list[str], object_info: dict | None = None) -> dict:
    """Apply ``NODE.INPUT=VALUE`` overrides; NODE is a node id, a title, or a class type (if unique).

    An INPUT the node does not have is an error that names the node and lists its inputs (from
    ``object_info`` when given, else the inputs the workflow sets), so a misspelling never runs."""
    out = json.loads(json.dumps(api))
    for item in sets or []:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise WorkflowError(f"bad --set {item!r}.", field="--set", fix="write it as NODE.INPUT=VALUE, e.g. 3.seed=42.")
        target, value = item.split("=", 1)
        node_key, inp = target.rsplit(".", 1)
        if node_key in out:
            ids = [node_key]
        else:
            ids = [k for k, v in out.items() if (v.get("_meta") or {}).get("title") == node_key]
            if not ids:
                ids = [k for k, v in out.items() if v.get("class_type") == node_key]
        if not ids:
            raise WorkflowError(f"no node {node_key!r} in the workflow.", field="--set",
                                fix="use a node id, a node title or a class type present in the workflow.")
        if len(ids) > 1:
            raise WorkflowError(f"{node_key!r} matches nodes {ids}.", field="--set", fix="use the node id instead.")
        node = out[ids[0]]
        allowed = node_input_names(node.get("class_type", ""), object_info, node.get("inputs"))
        if inp not in allowed:
            title = (node.get("_meta") or {}).get("title")
            label = f"node {ids[0]} ({node.get('class_type')}" + (f", {title!r})" if title else ")")
            raise WorkflowError(f"{label} has no input {inp!r}; its inputs are: {', '.join(allowed) or '(none)'}.",
                                field="--set", fix=f"use one of those names, e.g. {ids[0]}.{allowed[0]}=VALUE."
                                if allowed else "remove this --set.")
        node["inputs"][inp] = parse_value(value)
    return out


def api_to_ui(api: dict, object_info: dict, pack_id: str = "lina", pack_version: str = "") -> dict:
    """Build an editor (UI-format) workflow from an API-format one, laid out left to right by depth.

    Used to generate the example workflows in ``workflows/`` so that they load in the editor and
    convert back (``ui_to_api``) to exactly the API graph they came from.
    """
    ids = sorted(api, key=lambda k: int(k))
    depth: dict[str, int] = {}

    def node_depth(k: str, seen=()) -> int:
        if k in depth:
            return depth[k]
        if k in seen:
            raise WorkflowError(f"cycle at node {k}.", field="workflow")
        srcs = [v[0] for v in api[k]["inputs"].values() if isinstance(v, list) and len(v) == 2 and str(v[0]) in api]
        depth[k] = 1 + max((node_depth(str(s), seen + (k,)) for s in srcs), default=-1)
        return depth[k]

    for k in ids:
        node_depth(k)
    rows: dict[int, int] = {}
    nodes, links = [], []
    out_links: dict[tuple[str, int], list[int]] = {}
    for order, k in enumerate(sorted(ids, key=lambda x: (depth[x], int(x)))):
        entry = api[k]
        info = object_info.get(entry["class_type"])
        if info is None:
            raise WorkflowError(f"node {k} has unknown type {entry['class_type']!r}.", field=f"{k}.class_type")
        io_order = info.get("input_order") or {s: list((info["input"].get(s) or {}).keys()) for s in ("required", "optional")}
        specs = {**(info["input"].get("required") or {}), **(info["input"].get("optional") or {})}
        inputs, widgets = [], []
        for name in list(io_order.get("required", [])) + list(io_order.get("optional", [])):
            spec = specs.get(name)
            val = entry["inputs"].get(name)
            linked = isinstance(val, list) and len(val) == 2 and str(val[0]) in api
            if _is_widget(spec):
                opts = _spec_opts(spec)
                widgets.append(opts.get("default") if linked or name not in entry["inputs"] else val)
                if opts.get("control_after_generate") or (name in ("seed", "noise_seed") and spec[0] == "INT"):
                    widgets.append("fixed")
            if linked:
                link_id = len(links) + 1
                src, slot = str(val[0]), int(val[1])
                src_type = object_info[api[src]["class_type"]]["output"][slot]
                links.append([link_id, int(src), slot, int(k), len(inputs), src_type])
                out_links.setdefault((src, slot), []).append(link_id)
                slot_entry = {"name": name, "type": spec[0] if isinstance(spec[0], str) else "COMBO", "link": link_id}
                if _is_widget(spec):
                    slot_entry["widget"] = {"name": name}
                inputs.append(slot_entry)
        d = depth[k]
        row = rows.get(d, 0)
        rows[d] = row + 1
        is_core = not info.get("python_module", "").startswith("custom_nodes")
        node = {
            "id": int(k), "type": entry["class_type"], "pos": [40 + 360 * d, 40 + 260 * row], "size": [320, 200],
            "flags": {}, "order": order, "mode": 0, "inputs": inputs,
            "outputs": [{"name": n, "type": t, "links": []} for n, t in zip(info.get("output_name", info["output"]), info["output"])],
            "properties": {"Node name for S&R": entry["class_type"], "cnr_id": "comfy-core" if is_core else pack_id,
                           **({} if is_core or not pack_version else {"ver": pack_version})},
            "widgets_values": widgets,
        }
        title = (entry.get("_meta") or {}).get("title")
        if title and title != info.get("display_name"):
            node["title"] = title
        nodes.append(node)
    by_id = {n["id"]: n for n in nodes}
    for (src, slot), lids in out_links.items():
        by_id[int(src)]["outputs"][slot]["links"] = lids
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "lina-workflow:" + json.dumps(api, sort_keys=True))),
        "revision": 0, "last_node_id": max(int(k) for k in ids), "last_link_id": len(links),
        "nodes": sorted(nodes, key=lambda n: n["id"]), "links": links, "groups": [], "config": {},
        "extra": {"ds": {"scale": 0.8, "offset": [0, 0]}}, "version": 0.4,
    }
