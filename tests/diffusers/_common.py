"""Shared helpers of the diffusers tests (tiny random pipelines, recorders)."""
from __future__ import annotations

import torch

from lina_nodes.diffusers import testing as T

STEPS = 6
PROMPT = "a red ball on a table under a lamp"
STRUCT_PROMPT = "a cone close to the water and in the sand"   # the prior gives it a structure prompt
FAMILIES = ("sd15", "sdxl", "sd3", "flux", "wan")
_PIPES: dict = {}


def pipe_of(family: str):
    if family not in _PIPES:
        _PIPES[family] = T.BUILDERS[family]()
    return _PIPES[family]


def call_args(family: str, lina_kwargs: dict | None = None, **extra) -> dict:
    kw = dict(T.CALL_ARGS[family], num_inference_steps=STEPS, generator=torch.Generator().manual_seed(0))
    if lina_kwargs is None:
        kw["prompt"] = PROMPT
        if family in T.MAX_SEQ:
            kw["max_sequence_length"] = T.MAX_SEQ[family]
    else:
        kw.update(lina_kwargs)
    kw.update(extra)
    return kw


def msl(family: str):
    return T.MAX_SEQ.get(family)


def denoisers(pipe, family_obj):
    return [getattr(pipe, n) for n in family_obj.denoisers if isinstance(getattr(pipe, n, None), torch.nn.Module)]


class Recorder:
    """Records every denoiser call's inputs (after LINA's pre-hook: register it inside the ``with``) and outputs."""

    def __init__(self, modules, family_obj):
        self.fam, self.calls, self.handles, self._open = family_obj, [], [], []
        for m in modules:
            self.handles.append(m.register_forward_pre_hook(self._pre, with_kwargs=True))
            self.handles.append(m.register_forward_hook(self._post, with_kwargs=True))

    def _pre(self, module, args, kwargs):
        from lina_nodes.diffusers.runtime import LinaRun

        kw = LinaRun._as_kwargs(module, args, kwargs)
        self._open.append(len(self.calls))      # calls nest: LINA's extra c' call runs inside the outer one
        self.calls.append({"module": module, "kw": kw, "ctx": kw[self.fam.context_arg].detach().clone()})

    def _post(self, module, args, kwargs, output):
        out = output[0] if isinstance(output, tuple) else getattr(output, "sample", output)
        self.calls[self._open.pop()]["out"] = out.detach().clone()

    def remove(self):
        for h in self.handles:
            h.remove()


def step_latents(store: dict):
    """A callback_on_step_end that keeps the latents after step 0."""
    def cb(pipe, i, t, kwargs):
        if i == 0:
            store["latents"] = kwargs["latents"].detach().clone()
        return kwargs
    return cb
