#!/usr/bin/env bash
# The demo: set up (idempotent), start ComfyUI headless with the LINA pack, run the PhysWorld example
# workflows and a fixed list of PhysWorld prompts (plain and LINA), judge them, and write images, a contact
# sheet and scores to out/demo/ (summary in out/demo/summary.json). --all-workflows adds the SD1.5 / Wan
# examples on tiny random-weight models.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/setup_env.py --quiet
exec .venv/bin/python scripts/demo.py "$@"
