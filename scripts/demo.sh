#!/usr/bin/env bash
# The demo: set up (idempotent), start ComfyUI headless with the LINA pack and tiny models, run every
# workflow in workflows/, and write the outputs to out/demo/ (a summary in out/demo/summary.json).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/setup_env.py --quiet
exec .venv/bin/python scripts/demo.py "$@"
