"""Plug-ins for testing ``lina adapter train`` without a model (pure numpy): a runner whose image encodes the
prompt and the action, judges that like one action for action prompts, raise, or return NaN."""
from __future__ import annotations

import hashlib
import os

import numpy as np
import torch

from ..csg import parse
from ..intervention.adapter import features
from ..intervention.subspace import Subspace


def _h(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


class FakeRunner:
    """Image: the first pixel holds a hash of the action's changes; ``calls`` counts samples (per process) and
    ``LINA_FAKE_CALLS`` (a file path), when set, gets one line per sample across processes."""
    family, name = "fake", "fake"
    calls = 0

    def __init__(self, width: int = 8):
        q = torch.linalg.qr(torch.randn(width, 4, generator=torch.Generator().manual_seed(0)))[0].T
        self._sub = Subspace(P=q[:2], T=q[2:], P_pooled=None, T_pooled=None, width=width, fingerprint="fake-enc")

    def plan_key(self, prompt, changes):
        """The prior plan with the changes (as the real runner: equal plans, one sample)."""
        from ..intervention.plan import plan_key
        from ..intervention.prior import prior_plan

        return plan_key(prior_plan(parse(prompt)).updated(**changes))

    def __call__(self, prompt, seed, changes):
        FakeRunner.calls += 1
        if os.environ.get("LINA_FAKE_CALLS"):
            with open(os.environ["LINA_FAKE_CALLS"], "a") as f:
                f.write(f"{prompt}\n")
        img = np.zeros((8, 8, 3), dtype=np.uint8)
        img[0, 0, 0] = _h(self.plan_key(prompt, changes)) % 251
        img[0, 0, 1] = 1 if changes.get("counterfactual_share", 0) > 0 else 0
        return img, 10

    def subspace(self):
        return self._sub

    def features(self, prompt):
        return features(parse(prompt), None, self._sub)


def action_judge(image, item) -> float:
    """The counterfactual action: 1 on a prompt with an action verb, 0.25 on any other; anything else 0.5."""
    is_action = " eats " in item["prompt"] or " pushes " in item["prompt"]
    if image[0, 0, 1] == 1:
        return 1.0 if is_action else 0.25
    return 0.5


def failing_judge(image, item) -> float:
    if "pushes" in item["prompt"]:
        raise RuntimeError("detector crashed")
    return 0.5


def nan_judge(image, item) -> float:
    return float("nan")
