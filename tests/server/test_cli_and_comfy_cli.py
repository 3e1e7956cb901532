"""The `lina` command line and comfy-cli against real servers."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lina_nodes.server.runtime import find_comfyui, free_port, is_ready, stop_pid

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
LINA = [sys.executable, "-m", "lina_nodes.cli"]
IMAGE_WF = REPO / "workflows" / "lina_image_sd15_causal_scheduler.json"
VIDEO_WF = REPO / "workflows" / "lina_video_wan_causal_scheduler.json"


def lina(*args, timeout=300):
    return subprocess.run([*LINA, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO)


def test_lina_schedule_json():
    r = lina("--json", "schedule", "--family", "sd3", "--steps", "12", "--rho", "0.5")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert len(data["sigmas"]) == 13 and data["sigmas"][-1] == 0.0
    assert data["early_steps"] == 6 and data["base_early_steps"] < 6
    assert data["sigmas"][0] == data["base_sigmas"][0]


def test_lina_schedule_bad_family_is_clear():
    r = lina("schedule", "--family", "nope")
    assert r.returncode == 2
    assert "family" in r.stderr and "sd15" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("wf", [IMAGE_WF, VIDEO_WF], ids=["image", "video"])
def test_lina_run_ui_workflow_with_set(comfy, wf):
    r = lina("--json", "run", str(wf), "--server", comfy.url, "--set", "RandomNoise.noise_seed=1234", timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    res = json.loads(r.stdout)["results"][0]
    assert res["ok"] and res["outputs"], res
    for f in res["outputs"]:
        assert (comfy.output_dir / f["subfolder"] / f["filename"]).is_file()


def test_lina_run_reports_bad_set(comfy):
    r = lina("run", str(IMAGE_WF), "--server", comfy.url, "--set", "NoSuchNode.x=1")
    assert r.returncode == 1
    assert "NoSuchNode" in r.stdout and "Traceback" not in r.stderr


def test_lina_comfy_background_status_stop(tmp_path):
    base = tmp_path / "base"
    r = lina("--json", "comfy", "--background", "--threads", "1", "--base-dir", str(base), timeout=180)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    try:
        assert info["url"].startswith("http://127.0.0.1:") and is_ready(info["url"])
        env = open(f"/proc/{info['pid']}/environ", "rb").read().split(b"\0")
        assert b"OMP_NUM_THREADS=1" in env   # --threads reaches the server's torch
        st = json.loads(lina("--json", "comfy", "--status", "--base-dir", str(base)).stdout)
        assert st["running"] and st["pid"] == info["pid"]
        again = lina("comfy", "--background", "--base-dir", str(base))
        assert again.returncode == 2 and "already running" in again.stderr
        stop = json.loads(lina("--json", "comfy", "--stop", "--base-dir", str(base)).stdout)
        assert stop["stopped"]
        assert not is_ready(info["url"])
    finally:
        stop_pid(info["pid"], 5)


def test_comfy_cli_launches_bundled_workspace_and_runs_pack_workflow(comfy, tmp_path):
    """`comfy --workspace <bundled ComfyUI> launch -- --cpu` loads the pack (linked into its custom_nodes/ by the
    set-up); `comfy run --workflow` runs a pack workflow. Writable folders are redirected to tmp_path."""
    workspace = find_comfyui()
    assert (workspace / "custom_nodes" / "lina" / "__init__.py").is_file()
    port = free_port()
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "DO_NOT_TRACK": "1", "COMFY_KNOWLEDGE_FILE": str(tmp_path / "none.json"),
           "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(VENV_BIN.parent)}
    paths = tmp_path / "extra_paths.yaml"
    m = comfy.base_dir / "models"
    paths.write_text("tiny:\n" + "".join(f"    {k}: {m / k}\n" for k in ("checkpoints", "diffusion_models", "text_encoders", "vae")))
    out_dir = tmp_path / "output"
    for sub in ("output", "user", "temp", "input"):
        (tmp_path / sub).mkdir()
    comfy_args = ["--cpu", "--listen", "127.0.0.1", "--port", str(port), "--output-directory", str(out_dir),
                  "--user-directory", str(tmp_path / "user"), "--temp-directory", str(tmp_path / "temp"),
                  "--input-directory", str(tmp_path / "input"), "--database-url", f"sqlite:///{tmp_path / 'db.sqlite'}",
                  "--extra-model-paths-config", str(paths), "--disable-api-nodes"]
    comfy_cli = str(VENV_BIN / "comfy")
    launch = subprocess.run([comfy_cli, "--skip-prompt", "--workspace", str(workspace), "launch", "--background", "--",
                             *comfy_args], env=env, capture_output=True, text=True, timeout=240)
    url = f"http://127.0.0.1:{port}"
    try:
        assert launch.returncode == 0, launch.stdout + launch.stderr
        deadline = time.monotonic() + 120
        while not is_ready(url) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert is_ready(url), launch.stdout + launch.stderr
        from lina_nodes.server.client import ComfyClient

        assert "LINACausalScheduler" in ComfyClient(url).object_info()
        run = subprocess.run([comfy_cli, "--skip-prompt", "--workspace", str(workspace), "run", "--workflow", str(IMAGE_WF),
                              "--wait", "--host", "127.0.0.1", "--port", str(port), "--timeout", "180"],
                             env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        written = list(out_dir.rglob("*.png"))
        assert written, f"no image written; comfy run said:\n{run.stdout}\n{run.stderr}"
    finally:
        subprocess.run([comfy_cli, "--skip-prompt", "stop"], env=env, capture_output=True, text=True, timeout=60)
        if is_ready(url):  # belt and braces: find the server by its port and stop it
            subprocess.run(["pkill", "-f", f"--port {port}"], check=False)


def test_lina_comfy_rejects_zero_threads(tmp_path):
    r = lina("comfy", "--background", "--threads", "0", "--base-dir", str(tmp_path / "b"))
    assert r.returncode != 0 and "threads" in r.stderr
