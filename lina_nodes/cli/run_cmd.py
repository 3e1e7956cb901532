"""`lina run`: run an API- or UI-format workflow on a running or freshly started ComfyUI; print its outputs."""
from __future__ import annotations

import argparse
import time

from . import emit
from .comfy_cmd import add_server_args, base_dir_of, start_server


def register(sub) -> None:
    p = sub.add_parser("run", help="run a workflow JSON (API or UI format) and print the files it wrote",
                       description="Run a workflow on --server, on this base directory's background server, or on "
                                   "a fresh server started for this run (and stopped after).")
    p.add_argument("workflows", nargs="+", metavar="WORKFLOW.json")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="NODE.INPUT=VALUE",
                   help="override an input; NODE is a node id, title or unique class type; VALUE is JSON or text")
    p.add_argument("--server", default=None, help="URL of a running ComfyUI (default: background or fresh server)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for each workflow")
    add_server_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..server.client import ComfyClient, output_files
    from ..server.runtime import read_state
    from ..errors import LinaError
    from ..server.workflow_format import apply_sets, is_api_format, load_workflow, ui_to_api

    base = base_dir_of(args)
    server = None
    url = args.server
    if url is None:
        state = read_state(base)
        if state:
            url = state["url"]
        else:
            server = start_server(args, base)
            url = server.url
    results, failed = [], 0
    try:
        client = ComfyClient(url)
        info = None
        for wf_path in args.workflows:
            t0 = time.perf_counter()
            rec = {"workflow": wf_path}
            try:
                data = load_workflow(wf_path)
                if not is_api_format(data) or args.sets:
                    info = info or client.object_info()
                if not is_api_format(data):
                    data = ui_to_api(data, info)
                prompt = apply_sets(data, args.sets, info)
                entry = client.run(prompt, timeout=args.timeout)
                rec.update(ok=True, outputs=output_files(entry, base if args.server is None else None))
            except LinaError as e:
                rec.update(ok=False, error=str(e))
                failed += 1
            rec["seconds"] = round(time.perf_counter() - t0, 3)
            results.append(rec)
    finally:
        if server is not None:
            server.stop()
    lines = []
    for r in results:
        if r["ok"]:
            lines.append(f"{r['workflow']}: ok in {r['seconds']:.2f} s")
            for f in r["outputs"]:
                lines.append(f"  {f.get('path') or f['filename']}")
        else:
            lines.append(f"{r['workflow']}: FAILED in {r['seconds']:.2f} s\n  {r['error']}")
    emit(args, {"server": url, "results": results}, "\n".join(lines))
    return 1 if failed else 0
