"""The pack's custom link types (one home: every node module takes them from here)."""
from __future__ import annotations

from comfy_api.latest import io

CSGType = io.Custom("LINA_CSG")
PlanType = io.Custom("LINA_PLAN")
AdapterType = io.Custom("LINA_ADAPTER")
