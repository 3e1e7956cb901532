"""CSG nodes: parse a prompt into a Causal Scene Graph, load/edit one as JSON, masks, causal prompt.

The graph travels over links as the custom type ``LINA_CSG`` (a ``lina_nodes.csg.model.CSG``, never
mutated); API callers use the JSON strings (inputs and outputs, and the ``csg_json`` / ``text`` UI
entries in /history).
"""
from __future__ import annotations

import comfy.model_management
import numpy as np
import torch
from comfy_api.latest import io, ui

from ..csg.causal_prompt import causal_prompt
from ..csg.constraints import explicit_constraints
from ..csg.knowledge import load_knowledge
from ..csg.layout import solve_layout
from ..csg.llm import DEFAULT_MODEL, DEFAULT_URL, LLMCancelled, parse_llm
from ..csg.masks import csg_masks
from ..csg.model import CSG, as_csg
from ..csg.parser import parse
from ..csg.preview import render_node_preview, render_preview
from ..csg.rules import apply_rules
from ..errors import CSGError, short
from ..inprocess import file_access
from ..security import require_finite
from .types import CSGType


def _preview_tensor(g: CSG, on_node: bool = False) -> torch.Tensor:
    """The full-size preview (the IMAGE output), or the square one readable at node size (the node's UI)."""
    img = render_node_preview(g) if on_node else render_preview(g)
    arr = np.asarray(img, dtype=np.float32) / 255.0
    return torch.from_numpy(arr).unsqueeze(0)  # [1, H, W, 3]


def _ui(cls, g: CSG, preview: torch.Tensor | None = None, text: str | None = None) -> dict:
    out = {"csg_json": [g.to_json()]}
    if preview is not None:
        out.update(ui.PreviewImage(preview, cls=cls).as_dict())
    if text is not None:
        out["text"] = [text]
    return out


def _knowledge(knowledge_path):
    """The knowledge file a caller named, only from the allowed folders (None = the bundled file)."""
    value = (knowledge_path or "").strip() if isinstance(knowledge_path, str) else knowledge_path
    if not value:
        return None
    return file_access.load_file("knowledge", value, "knowledge_path", load_knowledge, CSGError)


def _parse_with_llm(prompt, llm_url, llm_model, llm_timeout, knowledge, seed: int) -> CSG:
    """The LLM backend, only towards an operator-configured endpoint, under a hard deadline that
    ComfyUI's /interrupt cuts short; anything else is the rule parser with meta.llm_error saying why."""
    deadline = require_finite(llm_timeout, "llm_timeout", CSGError, lo=0.0)
    endpoint, why = file_access.select_llm_endpoint(llm_url if isinstance(llm_url, str) else "")
    if endpoint is None:
        g = parse(prompt, knowledge=knowledge, seed=seed)
        return g.replaced(meta={**g.meta, "llm_error": why, "llm_fallback": True})
    try:
        return parse_llm(prompt, url=endpoint, model=llm_model or DEFAULT_MODEL,
                         timeout=max(0.1, min(deadline, file_access.llm_max_seconds())), knowledge=knowledge,
                         seed=seed, api_key=file_access.llm_api_key() or "",
                         cancel=comfy.model_management.processing_interrupted)
    except LLMCancelled:
        comfy.model_management.throw_exception_if_processing_interrupted()
        raise


class LINACSGParse(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LINACSGParse",
            display_name="LINA CSG Parse",
            category="LINA/csg",
            description=(
                "Parse a prompt into a Causal Scene Graph: the entities with their colour, material, size and "
                "count, spatial / action / comparative relations, the physical effects the prompt implies "
                "(reflections, shadows, contact, fill level, refraction, splashes) with their hop depth, "
                "checkable constraints, and a layout box for every node. Offline and deterministic by default."
            ),
            is_output_node=True,
            inputs=[
                io.String.Input("prompt", multiline=True, default="a red ball in front of a small mirror",
                                tooltip="The text prompt to analyse (the same text you give the text encoder)."),
                io.Int.Input("seed", default=0, min=0, max=0xFFFFFFFF,
                             tooltip="Layout seed: the same prompt and seed always give the same boxes."),
                io.Combo.Input("backend", options=["rules", "llm"], default="rules",
                               tooltip="rules: the built-in offline parser. llm: an OpenAI-compatible chat endpoint "
                                       "(e.g. a local Ollama server); its output is validated and any failure falls "
                                       "back to the rule parser."),
                io.String.Input("llm_url", default=DEFAULT_URL, optional=True,
                                tooltip="Which of the server operator's LLM endpoints to use (backend=llm only; "
                                        "empty = the first). Only endpoints the operator configured "
                                        "(LINA_LLM_ENDPOINTS or lina_settings.json) are contacted; with none "
                                        "configured the LLM backend is off and the rule parser answers."),
                io.String.Input("llm_model", default=DEFAULT_MODEL, optional=True,
                                tooltip="Model name on that endpoint (backend=llm only)."),
                io.Float.Input("llm_timeout", default=20.0, min=1.0, max=600.0, step=1.0, optional=True,
                               tooltip="Hard deadline in seconds for the whole LLM exchange (capped by the "
                                       "operator) before falling back to the rule parser; /interrupt stops it."),
                io.String.Input("knowledge_path", default="", optional=True,
                                tooltip="Your own physics knowledge JSON (word lists and rules), by name in "
                                        "models/lina_knowledge; empty = the bundled physics.json."),
            ],
            outputs=[
                CSGType.Output("csg", tooltip="The Causal Scene Graph, for the other LINA nodes."),
                io.String.Output("csg_json", tooltip="The same graph as CSG v1 JSON (for API callers and editing)."),
                io.Image.Output("preview", tooltip="A drawing of the layout boxes and of the graph by hop depth."),
            ],
        )

    @classmethod
    def execute(cls, prompt, seed=0, backend="rules", llm_url=DEFAULT_URL, llm_model=DEFAULT_MODEL,
                llm_timeout=20.0, knowledge_path="") -> io.NodeOutput:
        knowledge = _knowledge(knowledge_path)
        if backend == "llm":
            g = _parse_with_llm(prompt, llm_url, llm_model, llm_timeout, knowledge, int(seed))
        elif backend == "rules":
            g = parse(prompt, knowledge=knowledge, seed=int(seed))
        else:
            raise CSGError(f"expected 'rules' or 'llm', got {short(backend, 40)}.", field="backend")
        preview = _preview_tensor(g)
        return io.NodeOutput(g, g.to_json(), preview, ui=_ui(cls, g, _preview_tensor(g, on_node=True)))


class LINACSGFromJSON(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LINACSGFromJSON",
            display_name="LINA CSG From JSON",
            category="LINA/csg",
            description=(
                "Load a Causal Scene Graph from CSG v1 JSON (edited by hand, or written by another tool). It is "
                "validated; an error names the exact field, e.g. nodes[2].texture.color: expected a string. "
                "With complete on, the implied nodes, constraints and missing layout boxes are added."
            ),
            inputs=[
                io.String.Input("csg_json", multiline=True, default="",
                                tooltip="CSG v1 JSON, as LINA CSG Parse outputs it (see the JSON Schema in "
                                        "lina_nodes/csg/schema/csg-1.schema.json)."),
                io.Boolean.Input("complete", default=True,
                                 tooltip="Add the implied nodes and constraints from the physics knowledge, and "
                                         "boxes for nodes without one. Nodes and boxes you wrote are kept."),
                io.Int.Input("seed", default=0, min=0, max=0xFFFFFFFF,
                             tooltip="Layout seed for nodes that have no box."),
            ],
            outputs=[
                CSGType.Output("csg", tooltip="The validated Causal Scene Graph."),
                io.String.Output("normalized_json", tooltip="The graph as normalised CSG v1 JSON (after completion)."),
            ],
        )

    @classmethod
    def execute(cls, csg_json, complete=True, seed=0) -> io.NodeOutput:
        if not isinstance(csg_json, str) or not csg_json.strip():
            raise CSGError("is empty.", field="csg_json",
                           fix="paste CSG JSON, or connect the csg_json output of LINA CSG Parse.")
        g = as_csg(csg_json, "csg_json")
        if complete:
            kb = load_knowledge()
            if not g.constraints:
                g = g.replaced(constraints=explicit_constraints(g, tuple(kb.empty_words), kb.mass_nouns))
            g = solve_layout(apply_rules(g, kb), seed=int(seed))
            CSG.from_dict(g.to_dict())
        return io.NodeOutput(g, g.to_json())


class LINACSGMasks(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LINACSGMasks",
            display_name="LINA CSG Masks",
            category="LINA/csg",
            description=(
                "Masks from the graph's layout boxes: one per node (in graph order) or one per node kind. "
                "For video, frames > 1 repeats each mask per frame, node-major: mask i, frame f is batch "
                "index i*frames + f; set select to one node id or kind to get a [frames, H, W] video mask."
            ),
            inputs=[
                CSGType.Input("csg", tooltip="The Causal Scene Graph (from LINA CSG Parse or From JSON)."),
                io.Int.Input("width", default=512, min=8, max=8192, step=8, tooltip="Mask width in pixels."),
                io.Int.Input("height", default=512, min=8, max=8192, step=8, tooltip="Mask height in pixels."),
                io.Int.Input("frames", default=1, min=1, max=4096,
                             tooltip="Frames per mask (video); the layout is static, so frames are copies."),
                io.Combo.Input("mode", options=["node", "kind"], default="node",
                               tooltip="node: one mask per node. kind: one mask per node kind present (union of "
                                       "its boxes), e.g. all reflections."),
                io.String.Input("select", default="", optional=True,
                                tooltip="Optional: one node id (mode node) or kind (mode kind) to output alone."),
            ],
            outputs=[
                io.Mask.Output("masks", tooltip="MASK batch [B, H, W] in 0..1 (B = entries x frames)."),
                io.String.Output("index", tooltip="Which batch index is which node or kind, one line each."),
            ],
        )

    @classmethod
    def execute(cls, csg, width=512, height=512, frames=1, mode="node", select="") -> io.NodeOutput:
        g = as_csg(csg)
        masks, index = csg_masks(g, int(width), int(height), int(frames), mode, select or "")
        return io.NodeOutput(torch.from_numpy(masks), "\n".join(index))


class LINACSGCausalPrompt(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LINACSGCausalPrompt",
            display_name="LINA CSG Causal Prompt",
            category="LINA/csg",
            description=(
                "Render the graph back into an explicit causal prompt that states what the prompt only implies "
                "(\"its reflection appears only inside the small mirror\", \"the shadow falls away from the "
                "lamp\", \"the jar is about 70% full of dirt\"). Encode it with your text encoder for the "
                "prompt-space intervention."
            ),
            is_output_node=True,
            inputs=[
                CSGType.Input("csg", tooltip="The Causal Scene Graph."),
                io.Boolean.Input("include_original", default=True,
                                 tooltip="Start with the original prompt text."),
                io.Boolean.Input("include_explicit", default=True,
                                 tooltip="Also restate the explicit relations (who eats whom, what is on what)."),
            ],
            outputs=[io.String.Output("causal_prompt", tooltip="The causal prompt text.")],
        )

    @classmethod
    def execute(cls, csg, include_original=True, include_explicit=True) -> io.NodeOutput:
        g = as_csg(csg)
        text = causal_prompt(g, include_original=bool(include_original), include_explicit=bool(include_explicit))
        return io.NodeOutput(text, ui={"text": [text]})


NODES = [LINACSGParse, LINACSGFromJSON, LINACSGMasks, LINACSGCausalPrompt]
