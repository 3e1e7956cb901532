#!/usr/bin/env bash
# The test command: set up (idempotent; seconds when nothing changed), then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/setup_env.py --quiet
exec .venv/bin/python -m pytest tests "$@"
