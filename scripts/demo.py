"""Run the example workflows on a fresh headless ComfyUI with the LINA pack; collect outputs in out/demo/."""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from lina_nodes.comfy_client import ComfyClient, output_files
from lina_nodes.comfy_runtime import ComfyServer, find_comfyui
from lina_nodes.workflow_format import is_api_format, load_workflow, ui_to_api

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(ROOT / "out" / "demo"))
    ap.add_argument("--workflows", nargs="*", default=None, help="default: every workflows/*.json")
    args = ap.parse_args()
    out = Path(args.out)
    base = out / "comfy-base"
    out.mkdir(parents=True, exist_ok=True)
    import subprocess

    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "lina_nodes.devtools.tiny_models", "--comfy", str(find_comfyui()),
                        "--out", str(base / "models"), "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr, file=sys.stderr)
        return 1
    paths = args.workflows or sorted(str(p) for p in (ROOT / "workflows").glob("*.json"))
    summary = {"workflows": []}
    with ComfyServer(base_dir=base) as server:
        print(f"ComfyUI with LINA at {server.url} (ready {time.perf_counter() - t0:.1f} s after start)")
        client = ComfyClient(server.url)
        info = client.object_info()
        for p in paths:
            t = time.perf_counter()
            data = load_workflow(p)
            prompt = data if is_api_format(data) else ui_to_api(data, info)
            entry = client.run(prompt, timeout=600)
            files = []
            for f in output_files(entry, base):
                dest = out / Path(p).stem / f["filename"]
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f["path"], dest)
                files.append(str(dest.relative_to(ROOT)) if dest.is_relative_to(ROOT) else str(dest))
            dt = time.perf_counter() - t
            summary["workflows"].append({"workflow": Path(p).name, "seconds": round(dt, 2), "outputs": files})
            print(f"{Path(p).name}: {dt:.2f} s -> {', '.join(files)}")
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"summary: {out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
