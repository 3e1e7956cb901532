"""LINA on tiny random-weight pipelines of every family: runs, window, masks, schedule, embeddings, plain run."""
from __future__ import annotations

import pytest

pytest.importorskip("diffusers", reason="diffusers is not installed: pip install -e '.[diffusers]'")
pytest.importorskip("transformers", reason="transformers is not installed: pip install -e '.[diffusers]'")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from _common import (FAMILIES, PROMPT, STEPS, STRUCT_PROMPT, Recorder, call_args, denoisers, msl,  # noqa: E402
                     pipe_of, step_latents)
from lina_nodes.csg import parse  # noqa: E402
from lina_nodes.diffusers import apply, family_of, progress_to_sigma  # noqa: E402
from lina_nodes.diffusers import testing as T  # noqa: E402
from lina_nodes.diffusers.encoders import PipelineTextIO  # noqa: E402
from lina_nodes.intervention.conditioning_edit import build_conditioning  # noqa: E402
from lina_nodes.intervention.schedule import reallocate  # noqa: E402

pytestmark = [pytest.mark.timeout(120),
              # diffusers' own EulerDiscreteScheduler under numpy 2 (not LINA code)
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]


@pytest.mark.parametrize("family", FAMILIES)
def test_runs_finite_and_off_is_the_plain_run(family):
    pipe = pipe_of(family)
    plain = T.output_of(pipe(**call_args(family)))
    with apply(pipe, PROMPT, enabled=False, max_sequence_length=msl(family)) as kw:
        off = T.output_of(pipe(**call_args(family, kw)))
    assert np.array_equal(plain, off)
    run = apply(pipe, PROMPT, max_sequence_length=msl(family))
    with run as kw:
        lina = T.output_of(pipe(**call_args(family, kw)))
    assert np.isfinite(lina).all() and lina.shape == plain.shape
    assert not np.array_equal(lina, plain)          # LINA on changes the image
    assert run.stats["matched_calls"] == STEPS      # every step found the prompt's rows


@pytest.mark.parametrize("family", FAMILIES)
def test_noop_plan_through_the_hooks_equals_the_plain_run(family):
    """prompt_embeds route + hooks + set_timesteps wrapper with nothing to do == pipe(prompt)."""
    pipe = pipe_of(family)
    plain = T.output_of(pipe(**call_args(family)))
    base = apply(pipe, PROMPT, max_sequence_length=msl(family)).plan
    noop = base.updated(latent_strength=0.0, structure_share=0.0, structure_prompt="").to_json()
    run = apply(pipe, PROMPT, plan_json=noop, schedule=False, max_sequence_length=msl(family))
    with run as kw:
        out = T.output_of(pipe(**call_args(family, kw)))
    assert np.array_equal(out, plain)
    assert run.stats["extra_calls"] == 0 and all(t["phase"] is None for t in run.trace)


@pytest.mark.parametrize("family", FAMILIES)
def test_schedule_is_reallocate_of_the_schedulers_own_sigmas(family):
    pipe = pipe_of(family)
    pipe(**call_args(family))
    own = pipe.scheduler.sigmas.detach().cpu().clone()        # what the pipeline itself used
    run = apply(pipe, PROMPT, max_sequence_length=msl(family))
    with run as kw:
        rec = Recorder(denoisers(pipe, run.family), run.family)
        try:
            pipe(**call_args(family, kw))
        finally:
            rec.remove()
    assert torch.equal(run.base_sigmas, own)
    want = reallocate(own, run.window.sigma_beta, run.plan.early_share)
    assert torch.equal(run.schedule.sigmas, want.sigmas)
    assert run.schedule.early_steps == want.early_steps and len(want.sigmas) == STEPS + 1
    # the pipeline really stepped through it: each denoiser call's sigma is a schedule sigma, in order
    used = sorted({round(t["sigma"], 5) for t in run.trace}, reverse=True)
    assert np.allclose(used, want.sigmas[:-1].double().numpy(), rtol=1e-4)
    # the window end is ComfyUI's percent_to_sigma on this scheduler
    beta = run.window.beta
    cfg = pipe.scheduler.config
    if family in ("sd15", "sdxl"):
        acp = pipe.scheduler.alphas_cumprod.double()
        table = ((1 - acp) / acp).sqrt().log().numpy()
        expect = float(np.exp(np.interp((1 - beta) * 999, np.arange(1000), table)))
    elif cfg.get("use_dynamic_shifting"):
        seq = (call_args(family)["height"] // 2) * (call_args(family)["width"] // 2)
        m = (cfg.max_shift - cfg.base_shift) / (cfg.max_image_seq_len - cfg.base_image_seq_len)
        mu = seq * m + cfg.base_shift - m * cfg.base_image_seq_len
        expect = float(np.exp(mu) / (np.exp(mu) + (1 / (1 - beta) - 1)))
    else:
        s, sh = 1 - beta, cfg.shift
        expect = sh * s / (1 + (sh - 1) * s)
    assert run.window.sigma_beta == pytest.approx(expect, rel=1e-6)
    assert progress_to_sigma(pipe.scheduler, 0.0, None if not cfg.get("use_dynamic_shifting") else 0.5) \
        == pytest.approx(run.window.sigma_max)


@pytest.mark.parametrize("family", FAMILIES)
def test_edited_embeddings_equal_the_cores(family):
    pipe = pipe_of(family)
    enc = PipelineTextIO(pipe, family_of(pipe), msl(family))
    lc = build_conditioning(parse(PROMPT), enc)
    run = apply(pipe, PROMPT, max_sequence_length=msl(family))
    for mine, core in ((run.conditioning.positive, lc.positive), (run.conditioning.edited, lc.edited)):
        assert torch.equal(mine[0][0], core[0][0])
        p1, p2 = mine[0][1].get("pooled_output"), core[0][1].get("pooled_output")
        assert (p1 is None and p2 is None) or torch.equal(p1, p2)
    assert not torch.equal(lc.edited[0][0], lc.positive[0][0])     # the edit moved some tokens
    assert torch.equal(run.kwargs["prompt_embeds"], lc.positive[0][0])
    # c is the pipeline's own encoding of the prompt
    own = enc.encode(PROMPT)[0]
    assert torch.equal(own, lc.positive[0][0])


def _pooled_of(kw, fam):
    if fam.pooled_arg is None:
        return None
    if fam.pooled_arg == "added_cond_kwargs.text_embeds":
        return kw["added_cond_kwargs"]["text_embeds"]
    return kw[fam.pooled_arg]


def _label(row, run) -> str:
    lc = run.conditioning
    for name, entry in (("c", lc.positive), ("edit", lc.edited), ("structure", lc.structure)):
        if entry is not None and torch.equal(row, entry[0][0][0].to(row)):
            return name
    return "other"


@pytest.mark.parametrize("family", FAMILIES)
def test_substitute_swaps_only_in_the_window_and_adds_no_call(family):
    pipe = pipe_of(family)
    fam = family_of(pipe)
    rec0 = Recorder(denoisers(pipe, fam), fam)
    try:
        pipe(**call_args(family, prompt=STRUCT_PROMPT))
    finally:
        rec0.remove()
    # rho 0.6: 4 of the 6 steps in the window, so the structure phase and the c' phase both get steps
    run = apply(pipe, STRUCT_PROMPT, mode="substitute", rho=0.6, max_sequence_length=msl(family))
    assert run.conditioning.structure is not None
    with run as kw:
        rec = Recorder(denoisers(pipe, fam), fam)
        try:
            pipe(**call_args(family, kw))
        finally:
            rec.remove()
    assert len(rec.calls) == len(rec0.calls)                 # substitute mode: no extra evaluation
    assert run.stats["extra_calls"] == 0
    per_step = len(rec.calls) // STEPS
    w, sig = run.window, run.schedule.sigmas
    seen = set()
    for i, call in enumerate(rec.calls):
        s = float(sig[i // per_step])
        want = "structure" if s > w.sigma_structure else ("edit" if s > w.sigma_beta else "c")
        row_labels = [_label(r, run) for r in call["ctx"]]
        labels = set(row_labels) - {"other"}
        if labels:
            assert labels == {want}, (i, s, labels, want)
            seen.add(want)
            pooled = _pooled_of(call["kw"], fam)
            if pooled is not None:      # SDXL / SD3 / Flux: the pooled vector is swapped with the tokens
                entry = {"c": run.conditioning.positive, "edit": run.conditioning.edited,
                         "structure": run.conditioning.structure}[want]
                for r, lab in zip(pooled, row_labels):
                    if lab != "other":
                        assert torch.equal(r, entry[0][1]["pooled_output"][0].to(r))
    assert seen == {"structure", "edit", "c"}


@pytest.mark.parametrize("family", FAMILIES)
def test_add_mode_changes_only_inside_the_window_and_the_mask(family):
    pipe = pipe_of(family)
    fam = family_of(pipe)
    base = apply(pipe, PROMPT, max_sequence_length=msl(family)).plan
    left = base.updated(mode="add", latent_strength=2.0, structure_share=0.0, structure_prompt="", mask_floor=0.0,
                      regions=({"node": "left", "box": [0.0, 0.0, 0.5, 1.0], "weight": 1.0},))
    plain_store, lina_store = {}, {}
    pipe(**call_args(family, callback_on_step_end=step_latents(plain_store)))
    run = apply(pipe, PROMPT, plan_json=left.to_json(), schedule=False, max_sequence_length=msl(family))
    with run as kw:
        rec = Recorder(denoisers(pipe, fam), fam)
        try:
            pipe(**call_args(family, kw, callback_on_step_end=step_latents(lina_store)))
        finally:
            rec.remove()
    # mask: after the first (in-window) step, latents differ only in the left half
    d = (lina_store["latents"] - plain_store["latents"]).abs()
    if fam.packed:
        n = d.shape[1]
        side = int(round(n ** 0.5))
        d = d.reshape(d.shape[0], side, side, -1).permute(0, 3, 1, 2)
    half = d.shape[-1] // 2
    assert float(d[..., half:].max()) == 0.0
    assert float(d[..., :half].max()) > 0.0
    # window: the output the pipeline got differs from the raw denoiser output only at sigma > sigma_beta
    in_window, idx = 0, 0
    for t in run.trace:
        call = rec.calls[idx]
        idx += 2 if (t["phase"] == "add" and t["rows"]) else 1   # the extra c' call follows its call
        with torch.no_grad():
            raw = call["module"].forward(**call["kw"])
        raw = raw[0] if isinstance(raw, tuple) else getattr(raw, "sample", raw)
        if t["sigma"] > run.window.sigma_beta:
            in_window += 1
            assert not torch.equal(raw, call["out"])
        else:
            assert torch.equal(raw, call["out"])
    assert idx == len(rec.calls)
    assert 0 < in_window < len(run.trace)
    steps_in = sum(1 for s in run.base_sigmas[:-1] if float(s) > run.window.sigma_beta)
    assert run.stats["extra_calls"] == steps_in


def test_user_mask_and_several_images_per_prompt():
    """A user MASK multiplies the CSG mask (top half off -> only the bottom half changes), and with
    num_images_per_prompt=2 both conditional rows are found and guided."""
    family = "sd15"
    pipe = pipe_of(family)
    base = apply(pipe, PROMPT).plan
    full = base.updated(mode="add", latent_strength=2.0, structure_share=0.0, structure_prompt="", regions=())
    user = torch.zeros(16, 16)
    user[8:] = 1.0
    plain_store, lina_store = {}, {}
    pipe(**call_args(family, num_images_per_prompt=2, callback_on_step_end=step_latents(plain_store)))
    run = apply(pipe, PROMPT, plan_json=full.to_json(), schedule=False, mask=user)
    with run as kw:
        pipe(**call_args(family, kw, num_images_per_prompt=2, callback_on_step_end=step_latents(lina_store)))
    assert all(len(t["rows"]) == 2 and t["batch"] == 4 for t in run.trace)
    d = (lina_store["latents"] - plain_store["latents"]).abs()
    assert d.shape[0] == 2
    assert float(d[..., :4, :].max()) == 0.0
    assert float(d[0, :, 4:, :].max()) > 0.0 and float(d[1, :, 4:, :].max()) > 0.0
