"""What a ComfyUI install pulls in: pyproject's dependencies for pip and the Comfy Registry, requirements.txt for
ComfyUI-Manager's git installs. Beyond what ComfyUI ships, both name the same packages."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_WITH_COMFYUI = {"numpy", "safetensors", "pillow"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def test_requirements_txt_lists_what_comfyui_does_not_ship():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    extra = {_name(d) for d in deps} - SHIPPED_WITH_COMFYUI
    lines = [ln for ln in (ROOT / "requirements.txt").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert {_name(ln) for ln in lines} == extra == {"lemminflect"}
