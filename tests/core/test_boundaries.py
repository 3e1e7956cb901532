"""The host boundary, checked on the source (every import statement, at any depth: lazy imports count).

- The pure packages never import ComfyUI, nor the pack's ComfyUI-bound packages.
- ``server/`` (ComfyUI as a subprocess) uses the standard library (and websocket-client, optional) only.
- Nothing outside ``comfy_nodes/`` imports from ``comfy_nodes/`` (node classes are not a library).
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "lina_nodes"
COMFY_MODULES = {"comfy", "comfy_api", "comfy_extras", "comfy_execution", "folder_paths", "latent_preview",
                 "nodes", "execution", "node_helpers", "comfyui_version"}
PURE = ("csg", "intervention", "physworld", "physworld_model", "diffusers", "errors.py", "paths.py")
HOST_BOUND = ("comfy_nodes", "inprocess", "evaluation", "cli", "devtools")


def imports_of(path: Path) -> list[str]:
    """Absolute module names imported anywhere in ``path`` (relative imports resolved against lina_nodes)."""
    rel = path.relative_to(PKG.parent).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                out += [mod] if node.module else [f"{mod}.{a.name}" for a in node.names]
            else:
                out.append(node.module or "")
    return out


def files_under(*names: str) -> list[Path]:
    out = []
    for n in names:
        p = PKG / n
        out += [p] if p.is_file() else sorted(p.rglob("*.py"))
    return out


def violations(files, forbidden) -> list[str]:
    return [f"{f.relative_to(PKG.parent)} imports {m}" for f in files for m in imports_of(f) if forbidden(m)]


def is_comfy(m: str) -> bool:
    return m.split(".")[0] in COMFY_MODULES


def is_host_bound(m: str) -> bool:
    parts = m.split(".")
    return parts[0] == "lina_nodes" and len(parts) > 1 and parts[1] in HOST_BOUND


def test_pure_packages_never_import_comfyui_or_host_code():
    files = files_under(*PURE)
    assert len(files) > 40
    assert violations(files, lambda m: is_comfy(m) or is_host_bound(m)) == []


def test_server_package_is_stdlib_only():
    stdlib = set(sys.stdlib_module_names)
    ok = lambda m: m.split(".")[0] in stdlib | {"websocket"} or m in ("lina_nodes.errors", "lina_nodes.paths") \
        or m.startswith("lina_nodes.server")  # noqa: E731
    assert violations(files_under("server"), lambda m: not ok(m)) == []


def test_nothing_outside_comfy_nodes_imports_node_classes():
    outside = [f for f in PKG.rglob("*.py") if "comfy_nodes" not in f.parts]
    assert violations(outside, lambda m: m.startswith("lina_nodes.comfy_nodes")) == []


@pytest.mark.parametrize("source,expect", [
    ("def f():\n    import comfy.samplers\n", "comfy.samplers"),
    ("from ..inprocess.sampler import InProcessSampler\n", "lina_nodes.inprocess.sampler"),
    ("def g():\n    from ..comfy_nodes.types import PlanType\n", "lina_nodes.comfy_nodes.types"),
])
def test_the_checks_catch_a_forbidden_import(tmp_path, monkeypatch, source, expect):
    """A lazy ComfyUI import, or a pure module reaching the host code, is reported (the checks can fail)."""
    fake = PKG / "csg" / "_boundary_probe_tmp.py"
    monkeypatch.setattr(sys.modules[__name__], "files_under", lambda *n: [fake])
    try:
        fake.write_text(source)
        assert expect in imports_of(fake)
        assert violations([fake], lambda m: is_comfy(m) or is_host_bound(m) or m.startswith("lina_nodes.comfy_nodes"))
    finally:
        fake.unlink()
