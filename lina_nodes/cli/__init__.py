"""The ``lina`` command-line tool.

Each subcommand lives in its own module of this package and exposes ``register(subparsers)``,
which adds an argparse parser and sets ``func`` to a handler ``handler(args) -> int``.
Every handler honours the global ``--json`` flag: JSON on stdout for machines, readable text
otherwise. Problems go to stderr with a non-zero exit code.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys

# Module names (in this package) that provide subcommands, in the order shown by --help.
SUBCOMMANDS = [
    "comfy_cmd",
    "run_cmd",
    "schedule_cmd",
    "parse_cmd",
    "physworld_cmd",
    "knee_cmd",
    "diagnose_cmd",
    "adapter_cmd",
]


class CLIError(Exception):
    """An error a user can fix; printed without a traceback."""


def emit(args: argparse.Namespace, data, text: str | None = None) -> None:
    """Print ``data`` as JSON when ``--json`` is set, else ``text`` (or a readable JSON dump)."""
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, default=str))
    else:
        print(text if text is not None else json.dumps(data, indent=2, default=str))


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="lina", description="LINA for ComfyUI: command-line tools.")
    parser.add_argument("--version", action="version", version=f"lina {__version__}")
    parser.add_argument("--json", action="store_true", help="machine-readable JSON output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            mod = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:  # a subcommand module not written yet
            if e.name and e.name.endswith(name):
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from ..errors import LinaError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (CLIError, LinaError) as e:   # the one home of CLI error wrapping: a user error, no traceback
        if getattr(args, "json", False):
            print(json.dumps({"ok": False, "error": str(e)}))
        print(f"lina: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
