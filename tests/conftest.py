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

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lina_nodes.server.client import ComfyClient, execution_error, output_files
from lina_nodes.server.runtime import ComfyServer, find_comfyui

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / "tests" / "workflows"
# kept between sessions (git-ignored out/): the tiny models the in-process tests load from files
TEST_CACHE = Path(os.environ.get("LINA_TEST_CACHE", REPO / "out" / "test-cache"))


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


@pytest.fixture(scope="session")
def tiny_model_files():
    """``get(*roles) -> {role: Path}``: tiny models built once into ``out/test-cache/tiny-models`` and reused by
    later sessions (the builder skips a file whose manifest entry matches and re-hashes a touched one). Imports
    ComfyUI in this process: for tests/inprocess only. A lock keeps concurrent sessions from writing at once."""
    def get(*roles: str) -> dict[str, Path]:
        from lina_nodes.devtools.tiny_models import build

        out = TEST_CACHE / "tiny-models"
        out.mkdir(parents=True, exist_ok=True)
        with open(out / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            rep = build(find_comfyui(), out, roles=list(roles))
        return {role: out / rep["files"][role] for role in roles}
    return get


def load_workflow(name: str) -> dict:
    return json.loads((WORKFLOWS / name).read_text())


# ---- markers by what a test needs, from the folder a test lives in ------------------------------------------
# tests/core       pure: imports no ComfyUI and starts no process                      -> core
# tests/inprocess  imports ComfyUI in the test process, or spawns a process            -> inprocess
# tests/server     starts the real ComfyUI server (the ``comfy`` fixture)               -> server
# tests/browser    the real frontend in headless Chromium against that server          -> browser, server
# tests/diffusers  tiny diffusers pipelines                                            -> diffusers
# ``slow`` (any folder): inherently long runs (long Hypothesis runs, training, statistical sweeps over hundreds
# of renders, spawning ComfyUI), listed here by file or by ``file::test`` (every parametrization).
# Slow tests run only with ``--run-slow`` (or LINA_RUN_SLOW=1); ``scripts/test.sh``, the CI command, passes it.
# So ``pytest -m "not server"`` is the quick loop (under a minute); ``pytest --run-slow`` is everything.
FOLDER_MARKERS = {"core": ("core",), "inprocess": ("inprocess",), "server": ("server",),
                  "browser": ("browser", "server"), "diffusers": ("diffusers",)}
SLOW = {
    "core/test_csg_fuzz.py",                     # Hypothesis: 12,000 generated prompts and JSON documents
    "core/test_security_core.py::test_parse_any_prompt_gives_a_graph_or_a_clear_error",   # Hypothesis: 4 x 2,500
    "core/test_security_core.py::test_csg_json_gives_a_graph_or_a_clear_error",
    "core/test_security_core.py::test_masks_any_widgets",
    "core/test_security_core.py::test_numbers_are_finite_or_refused_naming_the_field",
    "core/test_physworld_model_train.py",        # training runs (40 + 40 + 6 steps)
    "core/test_physworld_judge.py::test_clean_renders_pass",                       # judge validation: 140 scenes
    "core/test_physworld_judge.py::test_every_violation_is_caught_without_false_alarms",  # x modes x kinds
    "core/test_physworld_register.py::test_another_layout_of_the_same_prompt_passes_only_with_registration",
    "core/test_physworld_register.py::test_violations_are_still_caught_with_registration",  # 140 scenes x 6 kinds
    "inprocess/test_tiny_models.py",             # builds the tiny models twice and loads them in ComfyUI (subprocesses)
    "inprocess/test_adapter_train_smoke.py",     # an adapter training run with two worker processes
    "inprocess/test_diagnose.py::test_subspace_and_multihop_on_a_checkpoint_with_a_user_judge",  # builds a checkpoint
}
TESTS = Path(__file__).resolve().parent


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the tests marked slow (fuzzers at full count, training runs, sweeps); "
                          "scripts/test.sh passes it; LINA_RUN_SLOW=1 does the same")


def pytest_collection_modifyitems(config, items):
    import os

    run_slow = config.getoption("--run-slow") or os.environ.get("LINA_RUN_SLOW") == "1"
    skip_slow = pytest.mark.skip(reason="slow: run with --run-slow (scripts/test.sh does)")
    for item in items:
        try:
            rel = Path(str(item.fspath)).resolve().relative_to(TESTS)
        except ValueError:   # a test file outside tests/
            continue
        for name in FOLDER_MARKERS.get(rel.parts[0], ()):
            item.add_marker(getattr(pytest.mark, name))
        file = rel.as_posix()
        if file in SLOW or f"{file}::{getattr(item, 'originalname', item.name)}" in SLOW:
            item.add_marker(pytest.mark.slow)
            if not run_slow:
                item.add_marker(skip_slow)
