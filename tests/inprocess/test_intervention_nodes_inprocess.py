"""LINA Guider / Model Patch glue in-process (ComfyUI imported on CPU, no server, no weights):
window per family, composable registration, the post-CFG term, substitute mode, bad input."""
from __future__ import annotations

import pytest
import torch

from lina_nodes.inprocess.comfy_import import SamplingOnlyModel, import_comfy

import_comfy()
import comfy.model_patcher
import comfy.patcher_extension
import comfy.samplers

from lina_nodes.inprocess import conditioning as cnd
from lina_nodes.inprocess import guider as gdr
from lina_nodes.inprocess import model_patch as mp
from lina_nodes.inprocess import plan_build as pb
from lina_nodes.inprocess.sigmas import resolve_window
from lina_nodes.csg import parse
from lina_nodes.errors import LinaError
from lina_nodes.intervention.plan import LinaPlan, PlanError
from lina_nodes.intervention.prior import prior_plan


class Holder(torch.nn.Module):
    def __init__(self, family):
        super().__init__()
        som = SamplingOnlyModel(family)
        self.model_sampling = som.get_model_object("model_sampling")
        self.model_config = som.model.model_config
        self.w = torch.nn.Parameter(torch.zeros(1))


def patcher(family="sd15"):
    return comfy.model_patcher.ModelPatcher(Holder(family), torch.device("cpu"), torch.device("cpu"))


def cond(width=768, L=77, value=0.0):
    return [[torch.full((1, L, width), value), {"pooled_output": torch.zeros(1, width)}]]


PLAN = prior_plan(parse("a red ball in front of a small mirror")).updated(encoder_width=768)


@pytest.mark.parametrize("family", ["sd15", "sdxl", "sd3", "flux", "wan21"])
def test_window_is_inside_the_model_range(family):
    w = resolve_window(patcher(family), PLAN)
    smax, sbeta, beta = w.sigma_max, w.sigma_beta, w.beta
    ms = patcher(family).get_model_object("model_sampling")
    assert smax == pytest.approx(float(ms.sigma_max)) and 0 < sbeta < smax
    assert beta == {"sd3": 0.11, "flux": 0.21}.get(family, 0.20)


def test_patch_composes_and_leaves_single_slots_alone():
    m = patcher()
    other = lambda args: args["denoised"]
    m.set_model_sampler_post_cfg_function(other)
    p = mp.patch_model(m, PLAN, cond())
    fns = p.model_options["sampler_post_cfg_function"]
    assert len(fns) == 2 and fns[0] is other
    assert "sampler_cfg_function" not in p.model_options and "model_function_wrapper" not in p.model_options
    assert len(m.model_options["sampler_post_cfg_function"]) == 1  # the input model is not changed
    keys = list(p.wrappers.get(comfy.patcher_extension.WrappersMP.OUTER_SAMPLE, {}))
    assert len(keys) == 1 and keys[0].startswith("lina_")
    p2 = mp.patch_model(p, PLAN, cond())  # two LINA patches: distinct keys
    assert len(p2.wrappers[comfy.patcher_extension.WrappersMP.OUTER_SAMPLE]) == 2
    noop = mp.patch_model(m, PLAN.updated(latent_strength=0.0), cond())
    assert len(noop.model_options["sampler_post_cfg_function"]) == 1


def _run_post_cfg(p, sigma, monkeypatch, shape=(1, 4, 8, 8), edit_value=1.0):
    key = next(iter(p.wrappers[comfy.patcher_extension.WrappersMP.OUTER_SAMPLE]))
    fn = p.model_options["sampler_post_cfg_function"][-1]

    class FakeGuider:
        conds = {key: ["edited"]}  # noqa: RUF012

    calls = []

    def fake_calc(model, conds, x, t, mo):
        calls.append(conds)
        return [torch.full_like(x, edit_value)]

    monkeypatch.setattr(comfy.samplers, "calc_cond_batch", fake_calc)
    x = torch.zeros(shape)
    args = {"denoised": torch.zeros(shape), "cond_denoised": torch.zeros(shape), "sigma": torch.tensor([sigma]),
            "input": x, "model": None, "model_options": {key: FakeGuider()}}
    return fn(args), calls


@pytest.mark.parametrize("shape", [(1, 4, 8, 8), (1, 16, 3, 8, 8)])
def test_post_cfg_term_only_in_window_and_masked(monkeypatch, shape):
    m = patcher("sd15" if len(shape) == 4 else "wan21")
    plan = PLAN.updated(regions=[{"node": "r", "box": [0.0, 0.0, 0.5, 0.5], "weight": 1.0}])
    p = mp.patch_model(m, plan, cond())
    w = resolve_window(m, plan)
    smax, sbeta = w.sigma_max, w.sigma_beta
    out, calls = _run_post_cfg(p, smax, monkeypatch, shape)
    assert len(calls) == 1 and out.shape == shape
    assert float(out.max()) == pytest.approx(PLAN.latent_strength, rel=1e-5)  # lambda_0 * M * (1 - 0), M max 1
    assert float(out.min()) == pytest.approx(PLAN.latent_strength * PLAN.mask_floor, rel=1e-5)
    out, calls = _run_post_cfg(p, sbeta * 0.9, monkeypatch, shape)
    assert not calls and float(out.abs().max()) == 0.0  # outside the window: untouched, no extra evaluation
    out, _ = _run_post_cfg(p, smax, monkeypatch, shape, edit_value=float("nan"))
    assert torch.isfinite(out).all()


def test_post_cfg_without_guider_is_a_noop(monkeypatch):
    p = mp.patch_model(patcher(), PLAN, cond())
    fn = p.model_options["sampler_post_cfg_function"][-1]
    d = torch.ones(1, 4, 8, 8)
    out = fn({"denoised": d, "cond_denoised": d, "sigma": torch.tensor([14.0]), "input": d, "model": None,
              "model_options": {}})
    assert out is d


def positives_seen(patched, sigmas, structure=False, counterfactual=False, which="positive", regions=False) -> list:
    """Run the patch's PREDICT_NOISE wrapper at each sigma over a fake guider whose conds are labels; return
    the cond ``which`` the sampler saw each time (and check every cond is restored after)."""
    key, (fn,) = next(iter(patched.wrappers[comfy.patcher_extension.WrappersMP.PREDICT_NOISE].items()))
    conds = {"positive": "c", "negative": "empty", key: "c_prime",
             **({key + "_structure": "structure"} if structure else {}),
             **({key + "_counterfactual": "reversed"} if counterfactual else {}),
             **({key + "_regions": "+regions"} if regions else {})}
    seen = []

    class Exec:
        class_obj = type("G", (), {"conds": conds})()

        def __call__(self, x, t, mo, seed):
            seen.append(conds[which])
            return x

    for sig in sigmas:
        fn(Exec(), torch.zeros(1), torch.tensor([sig]), {}, None)
    assert conds["positive"] == "c" and conds["negative"] == "empty"
    return seen


def test_substitute_mode_swaps_positive_inside_window_only():
    p = mp.patch_model(patcher(), PLAN.updated(mode="substitute"), cond())
    assert "sampler_post_cfg_function" not in p.model_options
    assert positives_seen(p, (14.0, 0.1)) == ["c_prime", "c"]


def test_bad_conditioning_and_width_are_clear_errors():
    with pytest.raises(LinaError, match="NaN"):
        cnd.check_conditioning(cond(value=float("nan")), "positive")
    with pytest.raises(LinaError, match="non-empty"):
        cnd.check_conditioning([], "positive")
    with pytest.raises(PlanError, match="different text encoders"):
        cnd.check_pair(cond(768), cond(4096), LinaPlan())
    with pytest.raises(PlanError, match="width 768"):
        cnd.check_pair(None, cond(4096), PLAN)


def test_scheduler_takes_window_and_share_from_a_plan():
    from lina_nodes.comfy_nodes.scheduler import LINACausalScheduler
    from lina_nodes.intervention.schedule import early_step_count

    model = SamplingOnlyModel("sd3")
    plain = LINACausalScheduler.execute(model, 20, "simple", 0.0, 0.35, 1.0).result[0]
    plan = PLAN.updated(window_end=0.3, early_share=0.6)
    linked = LINACausalScheduler.execute(model, 20, "simple", 0.0, 0.35, 1.0, plan=plan).result[0]
    same = LINACausalScheduler.execute(model, 20, "simple", 0.3, 0.6, 1.0).result[0]
    assert torch.equal(linked, same) and not torch.equal(linked, plain)
    sb = float(model.get_model_object("model_sampling").percent_to_sigma(0.3))
    assert early_step_count(linked, sb) == 12
    with pytest.raises(PlanError):
        LINACausalScheduler.execute(model, 20, "simple", 0.0, 0.35, 1.0, plan="{bad")


# ---- LINA Plan's build_plan with a fake CLIP of any width ---------------------------------------

class FakeClip:
    """ComfyUI CLIP API (tokenize / encode_from_tokens / encode_from_tokens_scheduled) over word tokens.

    width D, optional pooled of width Dp, optional attention mask, T5-like (no chunking, padded to 32)."""

    def __init__(self, width, pooled=None, attention_mask=False, key="t5xxl"):
        self.width, self.pooled, self.am, self.key = width, pooled, attention_mask, key
        self.encodes = 0
        self.table = torch.randn(3000, width, generator=torch.Generator().manual_seed(0)) * 0.1

    def tokenize(self, text):
        import hashlib
        ids = [10 + int(hashlib.md5(w.encode()).hexdigest(), 16) % 2900 for w in text.split()] + [1]
        return {self.key: [[(i, 1.0) for i in ids + [0] * max(0, 32 - len(ids))]]}

    def _enc(self, tokens):
        self.encodes += 1
        ids = torch.tensor([t for t, _ in tokens[self.key][0]])
        x = self.table[ids][None].clone()
        x = x + torch.cumsum(x, 1) * 0.05  # a little context, like an encoder
        out = {"cond": x}
        out["pooled_output"] = None if self.pooled is None else x.mean(1)[:, : self.pooled]
        if self.am:
            out["attention_mask"] = (ids != 0).long()[None]
        return out

    def encode_from_tokens(self, tokens, return_pooled=False, return_dict=False):
        return self._enc(tokens)

    def encode_from_tokens_scheduled(self, tokens):
        d = self._enc(tokens)
        extra = {k: v for k, v in d.items() if k != "cond"}
        return [[d["cond"], extra]]


@pytest.mark.parametrize("width,pooled,am", [(768, 768, False), (2048, 1280, False), (4096, None, True)])
def test_build_plan_edits_only_physical_tokens(width, pooled, am):
    clip = FakeClip(width, pooled, am)
    g = parse("a red ball in front of a small mirror")
    plan, pos, lpos = pb.build_plan(g, clip)
    plan = plan.plan
    assert plan.encoder_width == width and plan.prompt_strength > 0
    c, c2 = pos[0][0], lpos[0][0]
    assert c2.shape == c.shape and torch.isfinite(c2).all()
    moved = ((c2 - c).abs().amax(-1)[0] > 0).nonzero().flatten().tolist()
    words = g.prompt.split()
    assert moved and all(words[i] not in ("a",) for i in moved), moved  # never the article
    assert max(moved) < len(words)  # never EOS / padding
    assert set(lpos[0][1]) == set(pos[0][1])  # same extra keys (pooled, attention mask) carried over
    if pooled:
        assert lpos[0][1]["pooled_output"].shape == (1, pooled)
    n = clip.encodes
    pb.build_plan(g, clip)  # the subspace is cached per encoder: only the prompt + causal prompt again
    assert clip.encodes - n <= 3


def test_build_plan_bad_inputs_and_adapter():
    from lina_nodes.csg.model import CSG
    from lina_nodes.errors import CSGError

    clip = FakeClip(768, 768)
    with pytest.raises(CSGError, match="csg.prompt"):
        pb.build_plan(CSG(), clip)
    with pytest.raises(LinaError, match="clip"):
        pb.build_plan(parse("a ball on a table"), None)
    with pytest.raises(PlanError, match="width 4096"):
        pb.build_plan(parse("a ball on a table"), clip, plan_json='{"encoder_width": 4096}')

    class Adapter:
        def plan_overrides(self, csg, pooled):
            assert pooled.shape == (1, 768)
            return {"latent_strength": 7.0, "early_share": 0.5}

    plan = pb.build_plan(parse("a red ball in front of a small mirror"), clip, adapter=Adapter())[0].plan
    assert plan.source == "adapter" and plan.latent_strength == 7.0 and plan.early_share == 0.5

    class WrongWidth(Adapter):
        subspace = type("S", (), {"width": 4096})()

    with pytest.raises(PlanError, match="adapter"):
        pb.build_plan(parse("a red ball in front of a small mirror"), clip, adapter=WrongWidth())
    noop, pos, lpos = pb.build_plan(parse("a red ball"), clip)
    assert noop.plan.is_noop and torch.equal(pos[0][0], lpos[0][0])


def test_build_plan_adds_the_structure_phase_and_guider_and_patch_use_it_first():
    clip = FakeClip(768, 768)
    g = parse("a large purple cone close to the water and in the sand")
    plan, pos, lpos = pb.build_plan(g, clip)
    assert plan.plan.structure_prompt == "a large purple cone close to the water"
    assert isinstance(plan, cnd.PhasedPlan) and plan.counterfactual is None
    assert len(lpos) == 1 and not torch.equal(plan.structure[0][0], pos[0][0])   # the structure prompt's own
    assert cnd.phases_of(plan) == (plan.structure, None, None) and cnd.phases_of(plan.plan) == (None, None, None)
    assert "lina_phase" not in lpos[0][1]                     # c' is an ordinary CONDITIONING, no tags
    plan2, _, lpos2 = pb.build_plan(parse("a red ball in front of a small mirror"), clip)
    assert plan2.structure is None and len(lpos2) == 1         # nothing deferred: c' alone, as before
    assert plan.updated(mode="substitute").structure is plan.structure   # the phases survive a plan change

    for mode in ("add", "substitute"):
        p = plan.updated(mode=mode)
        gd = gdr.LinaCFGGuider(patcher(), p, lpos)
        gd.set_conds(pos, cond())
        assert gd.model_patcher.wrappers   # the guider samples the LINA-patched model
        w = resolve_window(patcher(), p.plan)
        ms = patcher().get_model_object("model_sampling")
        assert w.sigma_structure == pytest.approx(float(ms.percent_to_sigma(p.plan.structure_share * w.beta)))
        assert w.sigma_beta < w.sigma_structure < w.sigma_max
        # the patch swaps the positive for the structure prompt before sigma_structure, in both modes
        sigmas = (w.sigma_structure * 1.05, (w.sigma_structure + w.sigma_beta) / 2, w.sigma_beta * 0.5)
        middle = "c_prime" if mode == "substitute" else "c"
        assert positives_seen(mp.patch_model(patcher(), p, lpos), sigmas, structure=True) == ["structure", middle, "c"]
    # no structure phase and no latent strength: the patch is a no-op; a structure phase alone is not
    assert not mp.patch_model(patcher(), plan.updated(latent_strength=0.0, structure_share=0.0), lpos).wrappers
    assert mp.patch_model(patcher(), plan.updated(latent_strength=0.0), lpos).wrappers


def test_prior_adapter_through_build_plan_and_another_encoder_is_refused(tmp_path):
    from lina_nodes.intervention.adapter import load_adapter, prior_adapter, save_adapter

    clip = FakeClip(768, 768)
    g = parse("a large purple cone close to the water and in the sand")
    adapter = load_adapter(save_adapter(prior_adapter(pb.encoder_subspace(clip)), tmp_path / "a.safetensors"))
    plan_a, pos_a, lpos_a = pb.build_plan(g, clip, adapter=adapter)
    plan_p, pos_p, lpos_p = pb.build_plan(g, clip)
    plan_a, plan_p = plan_a.plan, plan_p.plan
    assert plan_a.source == "adapter" and plan_p.source == "prior"
    for k in ("prompt_strength", "latent_strength", "latent_decay", "early_share", "structure_share"):
        assert getattr(plan_a, k) == pytest.approx(getattr(plan_p, k), abs=1e-4)
    assert all(torch.allclose(a[0], b[0]) for a, b in zip(lpos_a, lpos_p))

    class OtherClip(FakeClip):   # same width, another encoder (other weights)
        def __init__(self):
            super().__init__(768, 768)
            self.table = torch.randn(3000, 768, generator=torch.Generator().manual_seed(1)) * 0.1

    with pytest.raises(PlanError, match="adapter.*made for the text encoder"):
        pb.build_plan(g, OtherClip(), adapter=adapter)
    with pytest.raises(PlanError, match="adapter"):
        pb.build_plan(g, FakeClip(2048, 1280), adapter=adapter)


def test_layout_focus_acts_only_in_its_phase_and_in_both_modes(monkeypatch):
    m = patcher()
    for mode in ("add", "substitute"):
        plan = PLAN.updated(mode=mode, latent_strength=0.0, layout_strength=1.0, layout_share=0.5,
                          layout_boxes=[{"node": "o", "box": [0.0, 0.0, 0.5, 0.5], "weight": 1.0}])
        p = mp.patch_model(m, plan, cond())
        w = resolve_window(m, plan)
        assert w.sigma_beta < w.sigma_layout < w.sigma_max
        fn = p.model_options["sampler_post_cfg_function"][-1]
        x = torch.randn(1, 4, 8, 8)
        args = {"denoised": x, "input": x, "model_options": p.model_options}
        early = fn({**args, "sigma": torch.tensor([w.sigma_layout * 1.01])})
        late = fn({**args, "sigma": torch.tensor([w.sigma_layout * 0.99])})
        assert late is x and not torch.equal(early, x)                       # the phase boundary is sigma_layout
        assert torch.equal(early[..., :4, :4], x[..., :4, :4])                # inside the box: untouched
    assert not mp.patch_model(m, PLAN.updated(latent_strength=0.0, layout_strength=0.0), cond()).wrappers


def test_counterfactual_negative_is_carried_and_swapped_only_in_its_share():
    clip = FakeClip(768, 768)
    g = parse("a large cube eats a small ball")
    plan, pos, lpos = pb.build_plan(g, clip, plan_changes={"counterfactual_share": 0.5, "mode": "substitute"})
    assert plan.plan.counterfactual_prompt == "a large ball eats a small cube"
    assert plan.structure is None and len(plan.counterfactual) == 1 and len(lpos) == 1
    assert cnd.phases_of(plan) == (None, plan.counterfactual, None)
    off, _, _ = pb.build_plan(g, clip)                       # share 0 (the prior): nothing encoded, nothing carried
    assert off.counterfactual is None
    assert not mp.patch_model(patcher(), off.plan.updated(mode="substitute", latent_strength=0.0), lpos).wrappers
    w = resolve_window(patcher(), plan.plan)
    assert w.sigma_counterfactual is not None
    sigmas = (w.sigma_counterfactual * 1.05, w.sigma_counterfactual * 0.95)
    assert positives_seen(mp.patch_model(patcher(), plan, lpos), sigmas, counterfactual=True,
                          which="negative") == ["reversed", "empty"]
    whole = resolve_window(patcher(), plan.plan.updated(counterfactual_share=1.0))
    assert whole.sigma_counterfactual == 0.0 and whole.in_counterfactual(1e-3)   # 1.0 = every step


def test_region_prompts_are_carried_masked_and_appended_only_in_their_share():
    clip = FakeClip(768, 768)
    g = parse("a large cube eats a small ball")
    changes = {"region_strength": 2.0, "region_share": 0.5, "mode": "substitute"}
    plan, pos, lpos = pb.build_plan(g, clip, plan_changes=changes)
    assert [r.text for r in plan.plan.region_prompts] == ["a large cube", "a small ball"]
    assert len(plan.regions) == 2 and cnd.phases_of(plan)[2] is plan.regions
    masked = cnd.masked_regions(plan.plan, plan.regions)
    assert [d["mask_strength"] for _, d in masked] == [2.0, 2.0]
    assert all(d["mask"].shape == (1, 128, 128) and 0 < float(d["mask"].mean()) < 0.5 for _, d in masked)
    assert not torch.equal(masked[0][1]["mask"], masked[1][1]["mask"])      # each phrase its own box
    off, _, _ = pb.build_plan(g, clip)                                         # the prior: strength 0, nothing carried
    assert off.regions is None and off.plan.region_prompts == plan.plan.region_prompts
    w = resolve_window(patcher(), plan.plan)
    sigmas = (w.sigma_region * 1.05, w.sigma_region * 0.95, 0.1)
    assert positives_seen(mp.patch_model(patcher(), plan, lpos), sigmas, regions=True) == \
        ["c_prime+regions", "c_prime", "c"]
    with pytest.raises(LinaError, match="region prompts"):
        cnd.masked_regions(plan.plan.updated(region_prompts=plan.plan.region_prompts[:1]), plan.regions)
