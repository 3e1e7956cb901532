"""LINA Guider: ComfyUI's CFGGuider over the LINA-patched model (``model_patch``), so every step goes
through ComfyUI's own ``sampling_function`` and other packs' cond-batch, pre-CFG and post-CFG hooks compose."""
from __future__ import annotations

import comfy.samplers

from ..intervention.plan import as_plan
from .model_patch import patch_model


class LinaCFGGuider(comfy.samplers.CFGGuider):
    """CFG with LINA's early window: structure phase, then c' substituted or added (masked) by the plan's mode."""

    def __init__(self, model_patcher, plan, lina_positive, user_mask=None):
        """``plan``: LINA Plan's output (with its phases) or a bare LinaPlan; ``lina_positive``: c'."""
        self.stats: dict = {}
        super().__init__(patch_model(model_patcher, plan, lina_positive, user_mask, self.stats))
        self.plan = as_plan(plan)

    @property
    def dropped(self) -> int:
        """Non-finite guidance values replaced by plain CFG so far."""
        return int(self.stats.get("dropped", 0))
