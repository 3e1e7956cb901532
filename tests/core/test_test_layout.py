"""The test folders say what a test needs (tests/conftest.py applies the markers from them): every test file is
in one of them, the pure folder really is pure (checked on the source), and every ``slow`` entry names a test
that exists (so a rename cannot silently move a long run back into the quick loop)."""
from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
FOLDERS = {"core", "inprocess", "server", "browser", "diffusers"}
# what a tests/core file may not import: ComfyUI itself, the ComfyUI-bound packages, process spawning
COMFY = {"comfy", "comfy_api", "comfy_extras", "comfy_execution", "folder_paths", "latent_preview", "nodes",
         "execution", "node_helpers", "comfyui_version"}
NOT_PURE = ("lina_nodes.inprocess", "lina_nodes.comfy_nodes", "lina_nodes.devtools.tiny_models",
            "lina_nodes.evaluation.knee_probe")
SPAWN = {"subprocess", "multiprocessing", "concurrent.futures"}


def _conftest_names(name: str):
    tree = ast.parse((TESTS / "conftest.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"tests/conftest.py has no {name}")


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def test_every_test_file_is_in_a_folder_by_need():
    stray = [p.relative_to(TESTS).as_posix() for p in TESTS.rglob("test_*.py")
             if p.relative_to(TESTS).parts[0] not in FOLDERS]
    assert stray == [], f"put these in one of {sorted(FOLDERS)}"
    assert set(_conftest_names("FOLDER_MARKERS")) == FOLDERS


def test_core_tests_import_no_comfyui_and_spawn_nothing():
    bad = {}
    for p in sorted((TESTS / "core").glob("*.py")):
        hits = sorted(m for m in _imports(p) if m.split(".")[0] in COMFY or m.startswith(NOT_PURE)
                      or m in SPAWN or m.split(".")[0] in SPAWN)
        if hits:
            bad[p.name] = hits
    assert bad == {}, f"these need ComfyUI or a process: move them to tests/inprocess ({bad})"


def test_slow_entries_name_existing_tests():
    missing = []
    for entry in sorted(_conftest_names("SLOW")):
        file, _, name = entry.partition("::")
        path = TESTS / file
        if not path.is_file():
            missing.append(entry)
        elif name and name not in {n.name for n in ast.walk(ast.parse(path.read_text()))
                                   if isinstance(n, ast.FunctionDef)}:
            missing.append(entry)
    assert missing == []
