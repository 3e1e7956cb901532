"""Nothing LINA installs survives the call: hooks, wrappers and scheduler state are gone, weights untouched,
and the next plain run gives the same image as the plain run before (also after an exception mid-call)."""
from __future__ import annotations

import pytest

pytest.importorskip("diffusers", reason="diffusers is not installed: pip install -e '.[diffusers]'")
pytest.importorskip("transformers", reason="transformers is not installed: pip install -e '.[diffusers]'")

import hashlib  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from _common import PROMPT, STRUCT_PROMPT, call_args, msl, pipe_of  # noqa: E402
from lina_nodes.diffusers import apply  # noqa: E402
from lina_nodes.diffusers import testing as T  # noqa: E402

pytestmark = [pytest.mark.timeout(120),
              # diffusers' own EulerDiscreteScheduler under numpy 2 (not LINA code)
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]


def snapshot(pipe) -> dict:
    out = {"components": {k: id(v) for k, v in pipe.components.items()}}
    for name, comp in pipe.components.items():
        if isinstance(comp, torch.nn.Module):
            h = hashlib.sha256()
            for k, v in comp.state_dict().items():
                h.update(k.encode())
                h.update(v.detach().cpu().float().numpy().tobytes())
            out[name] = h.hexdigest()
            out[name + ".hooks"] = sum(len(m._forward_pre_hooks) + len(m._forward_hooks) for m in comp.modules())
            out[name + ".instance_forward"] = [n for n, m in comp.named_modules() if "forward" in m.__dict__]
    sched = pipe.scheduler
    out["scheduler"] = (type(sched).__name__, sorted(sched.__dict__), "set_timesteps" in sched.__dict__,
                        dict(sched.config))
    for k in ("sigmas", "timesteps"):
        v = getattr(sched, k, None)
        out["scheduler." + k] = None if v is None else v.detach().cpu().numpy().tobytes()
    out["pipe_dict"] = sorted(pipe.__dict__)
    return out


@pytest.mark.parametrize("family", ["sd15", "flux", "wan"])
@pytest.mark.parametrize("mode", ["add", "substitute"])
def test_pipeline_is_unchanged_after_the_call(family, mode):
    pipe = pipe_of(family)
    before_img = T.output_of(pipe(**call_args(family)))
    before = snapshot(pipe)
    run = apply(pipe, STRUCT_PROMPT, mode=mode, max_sequence_length=msl(family))
    with run as kw:
        assert "set_timesteps" in pipe.scheduler.__dict__          # installed during the call...
        pipe(**call_args(family, kw))
    assert run.stats["matched_calls"] > 0 and run.schedule is not None
    assert snapshot(pipe) == before                               # ...and gone after it
    assert np.array_equal(T.output_of(pipe(**call_args(family))), before_img)


def test_pipeline_is_unchanged_after_an_exception_mid_call():
    pipe = pipe_of("sd15")
    before_img = T.output_of(pipe(**call_args("sd15")))
    before = snapshot(pipe)

    def boom(pipe_, i, t, kwargs):
        if i == 1:
            raise RuntimeError("user callback failed")
        return kwargs

    with pytest.raises(RuntimeError, match="user callback failed"):
        with apply(pipe, PROMPT) as kw:
            pipe(**call_args("sd15", kw, callback_on_step_end=boom))
    assert snapshot(pipe) == before
    assert np.array_equal(T.output_of(pipe(**call_args("sd15"))), before_img)


def test_a_run_cannot_be_entered_twice():
    pipe = pipe_of("sd15")
    run = apply(pipe, PROMPT)
    with run:
        with pytest.raises(ValueError, match="already active"):
            run.__enter__()
    # and it can be reused once it has exited
    with run as kw:
        out = T.output_of(pipe(**call_args("sd15", kw)))
    assert np.isfinite(out).all()
