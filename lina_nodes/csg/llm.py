"""Optional LLM backend: an OpenAI-compatible chat endpoint (e.g. a local Ollama server) writes the
explicit part of the CSG; LINA validates it against the schema, adds the implied nodes, constraints
and layout, and falls back to the rule parser on ANY failure (timeout, HTTP error, bad JSON,
schema error). Off by default; stdlib HTTP only.

The exchange is bounded for a shared server: http(s) base URLs only (no query / fragment / user
info), no redirect followed (so the key never leaves the URL's host), a hard wall-clock deadline on
the whole exchange, a reply size cap, strict JSON (no NaN), a ``cancel`` callable polled meanwhile,
and failure reasons that say nothing about what exists on the network. Which URLs a ComfyUI node may
use is the operator's choice (``inprocess/file_access.py``), not this module's.
"""
from __future__ import annotations

import http.client
import json
import math
import os
import re
import socket
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Callable

from ..errors import CSGError, short
from ..security import loads_strict
from .knowledge import Knowledge, load_knowledge
from .model import CSG, EDGE_KINDS, NODE_KINDS, SCHEMA_VERSION, SPATIAL_RELATIONS

DEFAULT_URL = "http://127.0.0.1:11434/v1"
DEFAULT_MODEL = "llama3.1"
MAX_RESPONSE_BYTES = 2_000_000
CHUNK_TIMEOUT = 30.0    # per socket operation; the caller's deadline is the real bound
POLL_S = 0.05           # how often the deadline and cancel() are checked

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
    data = loads_strict(text[start:end + 1], "llm", CSGError, MAX_RESPONSE_BYTES)
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


class LLMCancelled(Exception):
    """The caller's ``cancel()`` answered True (ComfyUI's /interrupt): not a fallback, the run stops."""


def check_url(url: str) -> urllib.parse.SplitResult:
    """http(s) base URL with a host and nothing that reaches another path (no query, fragment, user info)."""
    if not isinstance(url, str) or len(url) > 2048 or any(c in url for c in "\r\n\t\x00 "):
        raise CSGError("is not a usable URL.", field="llm_url")
    u = urllib.parse.urlsplit(url.strip())
    try:
        port = u.port
    except ValueError:
        port = -1
    if u.scheme not in ("http", "https") or not u.hostname or u.username or u.password or u.query \
            or u.fragment or "?" in url or "#" in url or (port is not None and not 0 < port < 65536):
        raise CSGError("expected an http:// or https:// base URL with a host and no query, fragment or user info.",
                       field="llm_url")
    return u


def _exchange(u: urllib.parse.SplitResult, body: bytes, headers: dict, box: dict, conn_box: list) -> None:
    """One POST; the result or the exception goes into ``box`` (run in a thread the caller may abandon)."""
    try:
        cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
        conn = cls(u.hostname, u.port, timeout=CHUNK_TIMEOUT)
        conn_box.append(conn)
        conn.request("POST", (u.path.rstrip("/") or "") + "/chat/completions", body=body, headers=headers)
        resp = conn.getresponse()
        if 300 <= resp.status < 400:
            raise CSGError(f"the LLM endpoint answered a redirect (HTTP {resp.status}); redirects are not followed.",
                           field="llm")
        if resp.status != 200:
            raise CSGError(f"the LLM endpoint answered HTTP {resp.status}.", field="llm")
        length = resp.getheader("Content-Length")
        if length and length.isdigit() and int(length) > MAX_RESPONSE_BYTES:
            raise CSGError("the LLM reply is too large.", field="llm")
        chunks, total = [], 0
        while True:
            chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
            if not chunk:
                break
            total += len(chunk)
            if total > MAX_RESPONSE_BYTES:
                raise CSGError("the LLM reply is too large.", field="llm")
            chunks.append(chunk)
        box["raw"] = b"".join(chunks)
    except BaseException as e:  # noqa: BLE001 - handed to the waiting caller
        box["error"] = e
    finally:
        for c in conn_box:
            c.close()


def _generic(e: BaseException) -> CSGError:
    """A network failure as a message that says nothing about what exists on the network or disk."""
    if isinstance(e, CSGError):
        return e
    if isinstance(e, (TimeoutError, socket.timeout)):
        return CSGError("the LLM endpoint timed out.", field="llm")
    return CSGError("the LLM endpoint could not be reached or gave no usable reply.", field="llm")


def chat(prompt: str, url: str, model: str, timeout: float, api_key: str | None = None,
         cancel: Callable[[], bool] | None = None) -> str:
    """POST the prompt; ``timeout`` is a hard wall-clock deadline on the whole exchange (connect, send, every
    byte of the reply), ``cancel()`` is polled meanwhile (True raises LLMCancelled). No redirect is followed, so
    ``api_key`` only ever goes to ``url``'s host."""
    u = check_url(url)
    deadline = float(timeout)
    if not math.isfinite(deadline) or deadline <= 0:
        raise CSGError("expected a positive number of seconds.", field="llm_timeout")
    body = json.dumps({
        "model": model, "temperature": 0, "stream": False,
        "response_format": {"type": "json_object"},
        "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}],
    }).encode("utf-8")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    box: dict = {}
    conns: list = []
    worker = threading.Thread(target=_exchange, args=(u, body, headers, box, conns), daemon=True,
                              name="lina-llm")
    end = time.monotonic() + deadline
    worker.start()
    try:
        while worker.is_alive():
            if cancel is not None and cancel():
                raise LLMCancelled("interrupted")
            left = end - time.monotonic()
            if left <= 0:
                raise CSGError(f"the LLM endpoint timed out (no complete reply within {deadline:g} s).", field="llm")
            worker.join(min(POLL_S, left))
    finally:
        if worker.is_alive():
            for c in list(conns):   # unblock the abandoned thread's socket; it ends on its own
                try:
                    if c.sock is not None:
                        c.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
    if "error" in box:
        raise _generic(box["error"])
    reply = loads_strict(box.get("raw", b""), "llm", CSGError, MAX_RESPONSE_BYTES)
    try:
        content = reply["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise CSGError("the LLM reply has no choices[0].message.content.", field="llm") from None
    if not isinstance(content, str):
        raise CSGError("the LLM reply's content is not text.", field="llm")
    return content


def parse_llm(prompt: str, *, url: str = DEFAULT_URL, model: str = DEFAULT_MODEL, timeout: float = 20.0,
              knowledge: str | Path | Knowledge | None = None, seed: int = 0, api_key: str | None = None,
              cancel: Callable[[], bool] | None = None) -> CSG:
    """LLM parse with validation; on any failure, the rule parser's CSG (meta.llm_error says why).

    ``timeout`` is a hard deadline on the whole HTTP exchange; ``cancel()`` (polled) stops it with
    LLMCancelled, which is not a fallback. ``api_key`` None = ``LINA_LLM_API_KEY`` (sent to ``url`` only)."""
    from .constraints import explicit_constraints
    from .layout import solve_layout
    from .parser import MAX_PROMPT_CHARS, parse
    from .rules import apply_rules

    kb = knowledge if isinstance(knowledge, Knowledge) else load_knowledge(knowledge)
    if not isinstance(prompt, str) or len(prompt) > MAX_PROMPT_CHARS:
        return parse(prompt, knowledge=kb, seed=seed)  # raises the parser's clear error
    if api_key is None:
        api_key = os.environ.get("LINA_LLM_API_KEY") or None
    try:
        if not isinstance(model, str) or not 0 < len(model) <= 200:
            raise CSGError(f"expected a model name of 1 to 200 characters, got {short(model, 40)}.", field="llm_model")
        content = chat(prompt, url, model, timeout, api_key, cancel)
        data = _normalise(_extract_json(content), prompt)
        g = CSG.from_dict(data)  # schema + graph validation
        g = g.replaced(constraints=explicit_constraints(g, tuple(kb.empty_words), kb.mass_nouns),
                    meta={"parser": "llm", "llm_model": model, "seed": int(seed),
                          "knowledge_sha256": kb.sha256[:16]})
        g = solve_layout(apply_rules(g, kb), seed=seed)
        CSG.from_dict(g.to_dict())  # the completed graph must validate too
        return g
    except LLMCancelled:
        raise
    except Exception as e:  # noqa: BLE001 - any failure falls back, by design
        reason = short(str(e) if isinstance(e, CSGError) else f"{type(e).__name__}: {short(str(e), 200)}", 300)
        g = parse(prompt, knowledge=kb, seed=seed)
        return g.replaced(meta={**g.meta, "llm_error": reason, "llm_fallback": True})
