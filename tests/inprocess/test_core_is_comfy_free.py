"""The core (everything but the node classes and the ComfyUI-bound packages) never imports ComfyUI at import time.

Checked in a fresh interpreter, so that other tests importing ComfyUI cannot hide or fake a result.
"""
import pkgutil
import subprocess
import sys
from pathlib import Path

import lina_nodes

COMFY_USERS = ("lina_nodes.comfy_nodes", "lina_nodes.inprocess", "lina_nodes.devtools")


def core_modules():
    mods = []
    for info in pkgutil.walk_packages(lina_nodes.__path__, "lina_nodes."):
        if info.name.startswith(COMFY_USERS) or info.name.endswith("__main__"):
            continue
        mods.append(info.name)
    return mods


def test_core_modules_do_not_import_comfyui():
    mods = core_modules()
    assert "lina_nodes.intervention.schedule" in mods and "lina_nodes.csg.parser" in mods and "lina_nodes.physworld.judge" in mods
    code = ("import importlib, sys\n"
            f"for m in {mods!r}:\n    importlib.import_module(m)\n"
            "bad = sorted(m for m in sys.modules if m == 'comfy' or m.startswith(('comfy.', 'comfy_api', 'comfy_extras')))\n"
            "print(bad)\nsys.exit(1 if bad else 0)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 0, r.stdout + r.stderr
