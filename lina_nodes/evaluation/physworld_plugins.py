"""Built-in plug-ins of ``lina adapter train`` (interfaces: ``lina_nodes.training.plugins``): the runner is the
in-process ComfyUI model through ``InProcessSampler`` (the code the nodes run), the judge PhysWorld's
registered judge (it reads the item's true scene: training only, never at inference)."""
from __future__ import annotations

from ..inprocess.sampler import InProcessSampler


class _Runner:
    family = "checkpoint"

    def __init__(self, smp: InProcessSampler, steps: int = 20, cfg: float = 4.0, size: int = 64):
        self.smp, self.steps, self.cfg, self.size = smp, int(steps), float(cfg), int(size)
        self.name = smp.name
        self._sub = None

    def plan_key(self, prompt: str, changes: dict) -> str:
        from ..intervention.plan import as_plan, plan_key

        return plan_key(as_plan(self.smp.plan_for(prompt, plan_changes=changes)[0]))

    def __call__(self, prompt: str, seed: int, changes: dict):
        r = self.smp.sample(prompt, seed, steps=self.steps, cfg=self.cfg, size=self.size, lina="prior",
                            plan_changes=changes)
        return r.image, r.nfe

    def subspace(self):
        if self._sub is None:
            from ..inprocess.plan_build import encoder_subspace

            self._sub = encoder_subspace(self.smp.clip)
        return self._sub

    def features(self, prompt: str):
        from ..csg import parse
        from ..intervention.adapter import features

        pooled = self.smp.encode(prompt)[0][1].get("pooled_output")
        return features(parse(prompt), pooled, self.subspace())


class PhysWorldRunner(_Runner):
    """The embedded PhysWorld model (``weights``: default the shipped one)."""
    family = "physworld"

    def __init__(self, weights: str = "", **kw):
        from ..paths import PHYSWORLD_DEFAULT_WEIGHTS

        super().__init__(InProcessSampler.physworld(weights or PHYSWORLD_DEFAULT_WEIGHTS), **kw)


class CheckpointRunner(_Runner):
    """Any checkpoint ComfyUI's loader reads (``checkpoint=PATH``; model, text encoder and VAE)."""

    def __init__(self, checkpoint: str, **kw):
        super().__init__(InProcessSampler.checkpoint(checkpoint), **kw)


def physworld_judge(image, item) -> float:
    """PhysWorld's registered judge score of ``image`` for a pool item that carries its scene."""
    from ..physworld.register import judge_registered

    return float(judge_registered(image, item["payload"]["scene"], item["prompt"]).score)
