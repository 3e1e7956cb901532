"""`lina comfy`: start the bundled ComfyUI headless with this pack on a loopback port; stop it cleanly."""
from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

from . import CLIError, emit


def add_server_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base-dir", default=None,
                   help="ComfyUI base directory (models/, output/, custom_nodes/...); default .comfyui/base "
                        "in the repo or $LINA_HOME/comfy-base")
    p.add_argument("--comfyui", default=None, help="ComfyUI tree to run (default: the bundled 0.3.75)")
    p.add_argument("--tiny-models", action="store_true",
                   help="write the tiny random-weight test models into the base directory's models/ first")


def register(sub) -> None:
    p = sub.add_parser("comfy", help="start (or stop) a headless ComfyUI with the LINA pack",
                       description="Start the bundled ComfyUI headless on 127.0.0.1 with this pack loaded and print "
                                   "its URL. In the foreground, Ctrl-C stops it cleanly.")
    add_server_args(p)
    p.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--background", action="store_true", help="leave the server running and return")
    p.add_argument("--stop", action="store_true", help="stop the background server of this base directory")
    p.add_argument("--status", action="store_true", help="print whether a background server is running")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the server to answer")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for torch in the server (default: torch's; 1 on a busy shared machine)")
    p.set_defaults(func=run)


def base_dir_of(args) -> Path:
    from ..server.runtime import default_base_dir

    return Path(args.base_dir).resolve() if args.base_dir else default_base_dir()


def ensure_tiny_models(args, base: Path) -> dict:
    from ..server.runtime import find_comfyui

    out = subprocess.run(
        [sys.executable, "-m", "lina_nodes.devtools.tiny_models", "--comfy", str(find_comfyui(args.comfyui)),
         "--out", str(base / "models"), "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        raise CLIError(f"building the tiny models failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_server(args, base: Path, port=None, timeout=120.0):
    from ..server.runtime import ComfyServer
    from ..errors import LinaError

    if getattr(args, "tiny_models", False):
        ensure_tiny_models(args, base)
    try:
        return ComfyServer(base_dir=base, port=port, comfyui_dir=args.comfyui,
                           threads=getattr(args, "threads", None)).start(timeout=timeout)
    except LinaError as e:
        raise CLIError(str(e)) from e


def run(args: argparse.Namespace) -> int:
    from ..server.runtime import read_state, stop_pid

    base = base_dir_of(args)
    state = read_state(base)
    if args.status:
        emit(args, {"running": bool(state), **(state or {})},
             f"running at {state['url']} (pid {state['pid']})" if state else "not running")
        return 0
    if args.stop:
        if not state:
            emit(args, {"stopped": False, "reason": "not running"}, "no background server is running for " + str(base))
            return 0
        stop_pid(int(state["pid"]))
        (base / "user" / "lina-server.json").unlink(missing_ok=True)
        emit(args, {"stopped": True, "pid": state["pid"]}, f"stopped ComfyUI (pid {state['pid']})")
        return 0
    if state:
        raise CLIError(f"a server for {base} is already running at {state['url']} (pid {state['pid']}); "
                       "stop it with `lina comfy --stop` or use another --base-dir")
    server = start_server(args, base, args.port, args.timeout)
    info = {"url": server.url, "pid": server.proc.pid, "base_dir": str(base), "log": str(server.log_path)}
    emit(args, info, f"ComfyUI with LINA is running at {server.url} (pid {server.proc.pid}, log {server.log_path})")
    sys.stdout.flush()
    if args.background:
        return 0
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    try:
        while not done.is_set() and server.proc.poll() is None:
            done.wait(0.5)
    finally:
        server.stop()
    if not args.json:
        print("ComfyUI stopped.")
    return 0
