"""Start and stop a headless ComfyUI server with this pack loaded (a subprocess; no ComfyUI import here).

Used by ``lina comfy``, ``lina run``, the demo and the test rig. The server runs with ``--cpu`` on a
loopback port, with ``--base-directory`` pointing at a folder holding ``models/``, ``custom_nodes/``
(a link to this pack), ``input/``, ``output/`` and ``user/``, and a SQLite database file inside it,
so the ComfyUI tree itself is never written to.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LinaError
from ..paths import PACK_ROOT as PACK_DIR  # the folder holding __init__.py (the ComfyUI entry)

PACK_LINK_NAME = "lina"
STATE_FILE = "lina-server.json"


class ServerError(LinaError):
    """The ComfyUI server could not be found, started or reached."""


def find_comfyui(explicit: str | os.PathLike | None = None) -> Path:
    """The ComfyUI tree to run: ``explicit``, else $LINA_COMFYUI_DIR, else the ComfyUI this pack is installed in
    (``ComfyUI/custom_nodes/<pack>``), else the bundled ``.comfyui/ComfyUI``."""
    host = PACK_DIR.parent.parent if PACK_DIR.parent.name == "custom_nodes" else None
    candidates = [explicit, os.environ.get("LINA_COMFYUI_DIR"), host, PACK_DIR / ".comfyui" / "ComfyUI"]
    for c in candidates:
        if c and (Path(c) / "main.py").is_file():
            return Path(c).resolve()
    raise ServerError(
        "no ComfyUI tree found (looked at --comfyui, $LINA_COMFYUI_DIR, the ComfyUI whose custom_nodes/ holds this "
        "pack, and .comfyui/ComfyUI).",
        field="comfyui", fix="run `python3 scripts/setup_env.py` in the repo, or pass --comfyui /path/to/ComfyUI.",
    )


def default_base_dir() -> Path:
    env = os.environ.get("LINA_HOME")
    return Path(env) / "comfy-base" if env else PACK_DIR / ".comfyui" / "base"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def prepare_base_dir(base: Path, pack_dir: Path = PACK_DIR) -> Path:
    """Create the base-directory layout and link this pack into its custom_nodes/."""
    base = base.resolve()
    for sub in ("models", "custom_nodes", "input", "output", "temp", "user"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    link = base / "custom_nodes" / PACK_LINK_NAME
    if link.is_symlink() and link.resolve() != pack_dir.resolve():
        link.unlink()
    if not link.exists():
        link.symlink_to(pack_dir.resolve(), target_is_directory=True)
    return base


def http_json(url: str, data: dict | None = None, timeout: float = 10.0):
    body = None if data is None else json.dumps(data).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"} if body else {})
    with urllib.request.urlopen(req, timeout=timeout) as r:  # loopback only
        return json.loads(r.read().decode() or "null")


def is_ready(url: str) -> bool:
    try:
        http_json(url + "/system_stats", timeout=1.0)
        return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass
class ComfyServer:
    """A ComfyUI server process. Use ``start()``/``stop()`` or as a context manager."""

    base_dir: Path = field(default_factory=default_base_dir)
    port: int | None = None
    comfyui_dir: Path | None = None
    extra_args: list[str] = field(default_factory=list)
    python: str = sys.executable
    log_path: Path | None = None
    proc: subprocess.Popen | None = None
    threads: int | None = None   # CPU threads for torch in the server (OMP/MKL); None = torch's default

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        base = self.base_dir
        return [
            self.python, "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(self.port),
            "--base-directory", str(base), "--database-url", f"sqlite:///{base / 'user' / 'comfyui.db'}",
            "--disable-api-nodes", "--disable-auto-launch", *self.extra_args,
        ]

    def start(self, timeout: float = 120.0) -> "ComfyServer":
        self.comfyui_dir = find_comfyui(self.comfyui_dir)
        self.base_dir = prepare_base_dir(Path(self.base_dir))
        if self.port is None:
            self.port = free_port()
        elif port_in_use(self.port):
            raise ServerError(f"port {self.port} is already in use on 127.0.0.1.", field="port",
                              fix="pick another --port, or stop the server that holds it (`lina comfy --stop`).")
        self.log_path = self.log_path or (self.base_dir / "user" / f"comfyui_{self.port}.log")
        env = dict(os.environ)
        env.setdefault("HF_HUB_OFFLINE", "1")
        env.setdefault("DO_NOT_TRACK", "1")
        env["PYTHONUNBUFFERED"] = "1"
        if self.threads is not None:
            if int(self.threads) < 1:
                raise ServerError(f"threads must be >= 1, got {self.threads}.", field="threads",
                                  fix="pass a thread count of 1 or more (1 on a busy shared machine).")
            for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                env[k] = str(int(self.threads))
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            self.command(), cwd=self.comfyui_dir, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"ComfyUI exited with code {self.proc.returncode} while starting; "
                                  f"last log lines:\n{self.log_tail()}")
            if is_ready(self.url):
                self.write_state()
                return self
            time.sleep(0.2)
        self.stop()
        raise ServerError(f"ComfyUI did not answer within {timeout:.0f} s; last log lines:\n{self.log_tail()}")

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "<no log>"

    def write_state(self) -> None:
        state = {"pid": self.proc.pid, "url": self.url, "port": self.port, "log": str(self.log_path)}
        (self.base_dir / "user" / STATE_FILE).write_text(json.dumps(state))

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop_pid(self.proc.pid, timeout)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        state = self.base_dir / "user" / STATE_FILE
        if state.exists():
            state.unlink()

    def __enter__(self) -> "ComfyServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def stop_pid(pid: int, timeout: float = 15.0) -> bool:
    """SIGTERM the server's process group, then SIGKILL after ``timeout``. True if it was running."""
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return False
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:  # reap if it is our child
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return True


def read_state(base_dir: Path) -> dict | None:
    try:
        state = json.loads((Path(base_dir) / "user" / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    try:
        os.kill(int(state["pid"]), 0)
    except (ProcessLookupError, KeyError, ValueError, PermissionError):
        return None
    return state
