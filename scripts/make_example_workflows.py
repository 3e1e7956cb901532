"""Regenerate the editor (UI-format) example workflows in workflows/ from their API-format twins.

    .venv/bin/python scripts/make_example_workflows.py

Each tests/workflows/<name>.api.json becomes workflows/<name>.json, laid out for the editor, using the
live /object_info of a fresh server (so widget order is exactly what ComfyUI expects). The test suite
checks that every workflows/*.json converts back to its API twin.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from lina_nodes import __version__
from lina_nodes.comfy_client import ComfyClient
from lina_nodes.comfy_runtime import ComfyServer
from lina_nodes.workflow_format import api_to_ui

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp, ComfyServer(base_dir=Path(tmp)) as server:
        info = ComfyClient(server.url).object_info()
    for api_path in sorted((ROOT / "tests" / "workflows").glob("*.api.json")):
        api = json.loads(api_path.read_text())
        ui = api_to_ui(api, info, pack_id="lina", pack_version=__version__)
        dest = ROOT / "workflows" / api_path.name.replace(".api.json", ".json")
        dest.write_text(json.dumps(ui, indent=1) + "\n")
        print(f"{api_path.relative_to(ROOT)} -> {dest.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
