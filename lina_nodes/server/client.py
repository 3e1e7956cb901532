"""A small client for ComfyUI's HTTP API (stdlib only; the websocket part uses websocket-client if present)."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..errors import LinaError


class PromptError(LinaError):
    """ComfyUI rejected a prompt (HTTP 400) or the prompt failed while executing."""

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.details = details or {}


def _format_node_errors(body: dict) -> str:
    lines = []
    err = body.get("error") or {}
    if err:
        lines.append(f"{err.get('type', 'error')}: {err.get('message', '')} {err.get('details', '')}".strip())
    for node_id, info in (body.get("node_errors") or {}).items():
        for e in info.get("errors", []):
            extra = e.get("extra_info", {}) or {}
            lines.append(f"node {node_id} ({info.get('class_type')}): {e.get('message')}: {e.get('details')}"
                         + (f" [input {extra['input_name']}]" if extra.get("input_name") else ""))
    return "\n".join(lines) or json.dumps(body)


def execution_error(entry: dict) -> dict | None:
    """The ``execution_error`` message data of a /history entry, if the prompt failed."""
    for msg in (entry.get("status") or {}).get("messages", []):
        if msg and msg[0] == "execution_error":
            return msg[1]
    return None


@dataclass
class ComfyClient:
    url: str
    client_id: str = ""

    def __post_init__(self):
        self.url = self.url.rstrip("/")
        self.client_id = self.client_id or uuid.uuid4().hex

    # -- raw HTTP --------------------------------------------------------------------------------
    def _request(self, path: str, data: dict | None = None, timeout: float = 30.0):
        body = None if data is None else json.dumps(data).encode()
        req = urllib.request.Request(self.url + path, data=body,
                                     headers={"Content-Type": "application/json"} if body is not None else {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read().decode() or "null")
        except urllib.error.HTTPError as e:
            raw = e.read().decode(errors="replace")
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, {"error": {"type": "http", "message": raw}}
        except (urllib.error.URLError, OSError) as e:
            raise LinaError(f"cannot reach ComfyUI at {self.url} ({e}).", field="server",
                            fix="start it with `lina comfy`, or pass the right --server URL.") from e

    def get(self, path: str, timeout: float = 30.0):
        status, body = self._request(path, timeout=timeout)
        if status != 200:
            raise LinaError(f"GET {path} answered HTTP {status}: {body}")
        return body

    # -- API ---------------------------------------------------------------------------------------
    def object_info(self, node: str | None = None) -> dict:
        return self.get("/object_info" + (f"/{urllib.parse.quote(node)}" if node else ""))

    def post_prompt(self, prompt: dict, extra_data: dict | None = None) -> tuple[int, dict]:
        payload = {"prompt": prompt, "client_id": self.client_id}
        if extra_data:
            payload["extra_data"] = extra_data
        return self._request("/prompt", payload)

    def queue(self, prompt: dict, extra_data: dict | None = None) -> str:
        status, body = self.post_prompt(prompt, extra_data)
        if status != 200 or "prompt_id" not in body:
            raise PromptError(f"ComfyUI rejected the prompt (HTTP {status}):\n{_format_node_errors(body)}", body)
        return body["prompt_id"]

    def history(self, prompt_id: str) -> dict | None:
        body = self.get(f"/history/{prompt_id}")
        return body.get(prompt_id) if body else None

    def wait(self, prompt_id: str, timeout: float = 300.0, poll: float = 0.1) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            entry = self.history(prompt_id)
            if entry and (entry.get("status") or {}).get("completed") is not None:
                if entry["status"].get("status_str") in ("success", "error"):
                    return entry
            time.sleep(poll)
        raise LinaError(f"prompt {prompt_id} did not finish within {timeout:.0f} s.", field="timeout",
                        fix="raise --timeout, or check the server log.")

    def run(self, prompt: dict, timeout: float = 300.0, raise_on_error: bool = True) -> dict:
        entry = self.wait(self.queue(prompt), timeout)
        err = execution_error(entry)
        if err and raise_on_error:
            raise PromptError(f"node {err.get('node_id')} ({err.get('node_type')}) failed: "
                              f"{err.get('exception_type')}: {err.get('exception_message')}", err)
        return entry

    def wait_ws(self, prompt_id: str, timeout: float = 300.0) -> list[dict]:
        """Follow the websocket until the prompt ends; returns its JSON messages (needs websocket-client)."""
        import websocket  # optional dependency (dev extra)

        ws = websocket.create_connection(
            f"ws://{self.url.split('://', 1)[1]}/ws?clientId={self.client_id}", timeout=timeout)
        msgs = []
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                raw = ws.recv()
                if not isinstance(raw, str):
                    continue  # binary preview frames
                msg = json.loads(raw)
                data = msg.get("data", {})
                if data.get("prompt_id") not in (None, prompt_id):
                    continue
                msgs.append(msg)
                if msg["type"] in ("execution_error", "execution_interrupted", "execution_success"):
                    return msgs
                if msg["type"] == "executing" and data.get("node") is None and data.get("prompt_id") == prompt_id:
                    return msgs
        finally:
            ws.close()
        raise LinaError(f"no end of prompt {prompt_id} on the websocket within {timeout:.0f} s.")


def output_files(entry: dict, base_dir: Path | None = None) -> list[dict]:
    """Files a finished prompt wrote: dicts with node, filename, subfolder, type (and path if base_dir)."""
    files = []
    for node_id, out in (entry.get("outputs") or {}).items():
        for key, items in out.items():
            if not isinstance(items, list):
                continue
            for it in items:
                if isinstance(it, dict) and "filename" in it:
                    rec = {"node": node_id, "kind": key, "filename": it["filename"],
                           "subfolder": it.get("subfolder", ""), "type": it.get("type", "output")}
                    if base_dir is not None:
                        rec["path"] = str(Path(base_dir) / rec["type"] / rec["subfolder"] / rec["filename"])
                    files.append(rec)
    return files
