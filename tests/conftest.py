"""Test rig: a real ComfyUI 0.3.75 server with this pack and tiny random-weight models.

The session fixture ``comfy`` starts ``main.py --cpu`` on a free 127.0.0.1 port with
``--base-directory`` in a temp dir (models/, custom_nodes/ -> this pack, output/...), a temp-file
SQLite database, and tiny models of real architectures written at test time
(lina_nodes.devtools.tiny_models). It stops the server by pid at the end of the session.

    comfy.run(prompt, timeout=120, expect_error=False) -> /history entry (raises on failure unless expect_error)
    comfy.post_prompt(prompt) -> (http_status, json body)
    comfy.object_info(node_id=None) -> dict
    comfy.output_dir -> Path;  comfy.output_files(entry) -> list[Path]
    comfy.models -> {role: filename as the loaders list it}
    comfy.client -> lina_nodes.server.client.ComfyClient
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lina_nodes.server.client import ComfyClient, execution_error, output_files
from lina_nodes.server.runtime import ComfyServer, find_comfyui

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / "tests" / "workflows"


class ComfyHandle:
    def __init__(self, server: ComfyServer, models: dict[str, str]):
        self.server = server
        self.client = ComfyClient(server.url)
        self.models = models
        self.base_dir = Path(server.base_dir)
        self.output_dir = self.base_dir / "output"

    @property
    def url(self) -> str:
        return self.server.url

    def object_info(self, node_id: str | None = None) -> dict:
        return self.client.object_info(node_id)

    def post_prompt(self, prompt: dict):
        return self.client.post_prompt(prompt)

    def run(self, prompt: dict, timeout: float = 120.0, expect_error: bool = False) -> dict:
        entry = self.client.wait(self.client.queue(prompt), timeout)
        err = execution_error(entry)
        if expect_error:
            assert err is not None, f"expected the prompt to fail, it succeeded: {entry.get('outputs')}"
        else:
            assert err is None, f"prompt failed: {err.get('node_type')}: {err.get('exception_message')}\n" \
                                f"{''.join(err.get('traceback', []))[-3000:]}\nserver log:\n{self.server.log_tail()}"
        return entry

    def output_files(self, entry: dict) -> list[Path]:
        return [Path(f["path"]) for f in output_files(entry, self.base_dir)]


def build_tiny_models(models_dir: Path) -> dict[str, str]:
    """Write the tiny models (subprocess: it imports ComfyUI) and return role -> loader filename."""
    out = subprocess.run(
        [sys.executable, "-m", "lina_nodes.devtools.tiny_models", "--comfy", str(find_comfyui()),
         "--out", str(models_dir), "--json"], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, f"tiny model build failed:\n{out.stderr[-4000:]}"
    rel = json.loads(out.stdout.strip().splitlines()[-1])
    rel = rel.get("files", rel)
    # loaders list files relative to their folder (checkpoints/, vae/...): strip the folder part
    return {role: Path(p).name for role, p in rel.items()}


@pytest.fixture(scope="session")
def comfy(tmp_path_factory):
    base = tmp_path_factory.mktemp("comfy-base")
    models = build_tiny_models(base / "models")
    server = ComfyServer(base_dir=base).start(timeout=180)
    try:
        yield ComfyHandle(server, models)
    finally:
        server.stop()


def load_workflow(name: str) -> dict:
    return json.loads((WORKFLOWS / name).read_text())


# ---- markers by what a test needs (so `pytest -m "not server and not inprocess"` is the fast core run) ----
_INPROCESS = {"test_core_is_comfy_free.py", "test_intervention_nodes_inprocess.py", "test_node_registration.py",
              "test_scheduler_vs_comfy.py", "test_tiny_models.py", "test_setup.py", "test_lina_sampling_and_knee.py",
              "test_security_files.py", "test_family_defaults.py", "test_lint.py"}
_SLOW = {"test_physworld_model_train.py", "test_csg_fuzz.py", "test_security_core.py", "test_csg_everyday.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath))
        where = path.parent.name
        if where in ("server", "browser"):
            item.add_marker(pytest.mark.server)
        elif where == "diffusers":
            item.add_marker(pytest.mark.diffusers)
        elif path.name in _INPROCESS:
            item.add_marker(pytest.mark.inprocess)
        if path.name in _SLOW:
            item.add_marker(pytest.mark.slow)
