"""Optional LLM backend: an OpenAI-compatible chat endpoint (e.g. a local Ollama server) writes the
explicit part of the CSG; LINA validates it against the schema, adds the implied nodes, constraints
and layout, and falls back to the rule parser on ANY failure (timeout, HTTP error, bad JSON,
schema error). Off by default; stdlib HTTP only.
"""
from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import CSGError
from .knowledge import Knowledge, load_knowledge
from .model import CSG, EDGE_KINDS, NODE_KINDS, SCHEMA_VERSION, SPATIAL_RELATIONS

DEFAULT_URL = "http://127.0.0.1:11434/v1"
DEFAULT_MODEL = "llama3.1"
MAX_RESPONSE_BYTES = 2_000_000

SYSTEM_PROMPT = f"""You convert an image prompt into a Causal Scene Graph, as ONE JSON object and nothing else.
Format: {{"nodes": [...], "edges": [...]}}.
Node: {{"id": "ball_0", "name": "ball" (singular head noun), "kind": one of {", ".join(NODE_KINDS[:7])},
"count": int (0 only with "negated": true), "texture": {{"color"?, "material"?, "pattern"?}},
"physics": {{"size"?: small|medium|large, "fill"?: 0..1, "state"?, "side"?}}, "negated": bool}}.
Edge: {{"src": id, "dst": id, "kind": one of {", ".join(EDGE_KINDS)}, "relation": str, "negated": bool, "attrs": {{}}}}.
Spatial relations: {", ".join(SPATIAL_RELATIONS)} (src is the located thing; "between" puts the second
reference in attrs.third). Action: relation is the verb in 3rd person ("eats"), src the agent, dst the patient
(passive voice: "a snake is eaten by a bird" -> src bird, dst snake). Comparative: more_than/less_than with
attrs.quantity ("amount", "count", "size"). Only list what the prompt states; do not add reflections or shadows.
Example: "two blue cubes left of a red ball" -> {{"nodes": [{{"id": "cube_0", "name": "cube", "kind": "object",
"count": 2, "texture": {{"color": "blue"}}}}, {{"id": "ball_0", "name": "ball", "kind": "object",
"texture": {{"color": "red"}}}}], "edges": [{{"src": "cube_0", "dst": "ball_0", "kind": "spatial",
"relation": "left_of"}}]}}"""


def _extract_json(text: str) -> dict:
    text = text.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fence:
        text = fence.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise CSGError("the LLM reply holds no JSON object.", field="llm")
    try:
        data = json.loads(text[start:end + 1])
    except ValueError as e:
        raise CSGError(f"the LLM reply is not valid JSON ({e}).", field="llm") from None
    if not isinstance(data, dict):
        raise CSGError("the LLM reply is not a JSON object.", field="llm")
    return data


def _normalise(data: dict, prompt: str) -> dict:
    """Fill the fields an LLM may leave out, keep only schema fields; the schema check comes after."""
    nodes = []
    for n in data.get("nodes", []) if isinstance(data.get("nodes"), list) else []:
        if not isinstance(n, dict):
            nodes.append(n)
            continue
        m = {k: n[k] for k in ("id", "name", "kind", "count", "texture", "physics", "negated") if k in n}
        m.setdefault("kind", "object")
        m["explicit"], m["hop"] = True, 0
        if m.get("negated") is True and "count" not in m:
            m["count"] = 0
        nodes.append(m)
    edges = []
    for e in data.get("edges", []) if isinstance(data.get("edges"), list) else []:
        edges.append({k: e[k] for k in ("src", "dst", "kind", "relation", "negated", "attrs") if k in e}
                     if isinstance(e, dict) else e)
    return {"version": SCHEMA_VERSION, "prompt": prompt, "nodes": nodes, "edges": edges, "constraints": [],
            "meta": {}}


def chat(prompt: str, url: str, model: str, timeout: float, api_key: str | None = None) -> str:
    body = json.dumps({
        "model": model, "temperature": 0, "stream": False,
        "response_format": {"type": "json_object"},
        "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}],
    }).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    key = api_key or os.environ.get("LINA_LLM_API_KEY")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    endpoint = url.rstrip("/") + "/chat/completions"
    req = urllib.request.Request(endpoint, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (user-configured URL)
        raw = resp.read(MAX_RESPONSE_BYTES + 1)
    if len(raw) > MAX_RESPONSE_BYTES:
        raise CSGError("the LLM reply is too large.", field="llm")
    reply = json.loads(raw.decode("utf-8"))
    return reply["choices"][0]["message"]["content"]


def parse_llm(prompt: str, *, url: str = DEFAULT_URL, model: str = DEFAULT_MODEL, timeout: float = 20.0,
              knowledge: str | Path | Knowledge | None = None, seed: int = 0, api_key: str | None = None) -> CSG:
    """LLM parse with validation; on any failure, the rule parser's CSG (meta.llm_error says why)."""
    from .constraints import explicit_constraints
    from .layout import solve_layout
    from .parser import MAX_PROMPT_CHARS, parse
    from .rules import apply_rules

    kb = knowledge if isinstance(knowledge, Knowledge) else load_knowledge(knowledge)
    if not isinstance(prompt, str) or len(prompt) > MAX_PROMPT_CHARS:
        return parse(prompt, knowledge=kb, seed=seed)  # raises the parser's clear error
    try:
        content = chat(prompt, url, model, timeout, api_key)
        data = _normalise(_extract_json(content), prompt)
        g = CSG.from_dict(data)  # schema + graph validation
        g = g.with_(constraints=explicit_constraints(g, tuple(kb.empty_words), kb.mass_nouns),
                    meta={"parser": "llm", "llm_model": model, "seed": int(seed),
                          "knowledge_sha256": kb.sha256[:16]})
        g = solve_layout(apply_rules(g, kb), seed=seed)
        CSG.from_dict(g.to_dict())  # the completed graph must validate too
        return g
    except Exception as e:  # noqa: BLE001 - any failure falls back, by design
        reason = f"{type(e).__name__}: {e}"[:300]
        g = parse(prompt, knowledge=kb, seed=seed)
        return g.with_(meta={**g.meta, "llm_error": reason, "llm_fallback": True})
