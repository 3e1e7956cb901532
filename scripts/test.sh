#!/usr/bin/env bash
# The test command: set up (idempotent; seconds when nothing changed), then run the whole suite, slow tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/setup_env.py --quiet
# The browser tests drive the real ComfyUI frontend in Debian's Chromium; install it when we can.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[lina-test] installing chromium for the browser tests (apt-get)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "[lina-test] could not install chromium: the browser tests will be skipped"
  else
    echo "[lina-test] chromium not found and not root: the browser tests will be skipped"
  fi
fi
exec .venv/bin/python -m pytest tests --run-slow "$@"
