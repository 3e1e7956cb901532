"""Where the pack's own files live (one home for these paths)."""
from __future__ import annotations

from pathlib import Path

PACK_ROOT = Path(__file__).resolve().parents[1]
PACK_WEIGHTS = PACK_ROOT / "weights"
PHYSWORLD_DEFAULT_FILE = "physworld_default.safetensors"
PHYSWORLD_DEFAULT_WEIGHTS = PACK_WEIGHTS / PHYSWORLD_DEFAULT_FILE
PACK_WORKFLOWS = PACK_ROOT / "workflows"
