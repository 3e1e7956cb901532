"""LINA adapter files (format 3, an action predictor): the prior-reproducing adapter, a trained head choosing
per prompt, save / load round trip, every refused file (versions 1 and 2 with how to convert them)."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from lina_nodes.csg import parse
from lina_nodes.intervention.action_space import ACTIONS
from lina_nodes.intervention.adapter import (CSG_FEATURES, FEATURES, AdapterError, csg_features, features,
                                             load_adapter, make_adapter, prior_adapter, save_adapter)
from lina_nodes.intervention.prior import prior_plan
from lina_nodes.intervention.subspace import Subspace

PROMPTS = ["a red ball in front of a small mirror", "a small red cone lit by a lamp from the right",
           "a large purple cone close to the water and in the sand", "a large cube eats a small ball",
           "more dirt than empty space in the jar", "a cat on a table", "a small cyan cube near the edge of a small mirror",
           "a small mirror with a small pink ball standing at its edge, in the grass"]


def subspace(width=16, seed=0, pooled=True):
    g = torch.Generator().manual_seed(seed)
    q = torch.linalg.qr(torch.randn(width, 8, generator=g))[0].T
    return Subspace(P=q[:4], T=q[4:], P_pooled=q[:2] if pooled else None, T_pooled=q[2:4] if pooled else None,
                    width=width, fingerprint=f"fake-{width}-{seed}")


@pytest.mark.parametrize("prompt", PROMPTS)
def test_prior_adapter_reproduces_the_prior(prompt):
    g = parse(prompt)
    assert prior_adapter(subspace()).plan_overrides(g, None) == {}    # the prior plan stands, unchanged
    assert csg_features(g).shape == (len(CSG_FEATURES),)
    assert features(g, None, subspace()).shape == (len(FEATURES),)


def test_trained_head_chooses_per_prompt_and_reads_the_pooled_output():
    names = list(ACTIONS)
    W = torch.zeros(len(names), len(FEATURES))
    W[names.index("counterfactual"), FEATURES.index("has_counterfactual")] = 1.0   # actions: guide away
    W[names.index("no_structure"), FEATURES.index("reference_large")] = 0.5
    W[names.index("layout_focus"), FEATURES.index("pooled_0")] = 10.0
    a = make_adapter(subspace(), dict(ACTIONS), W, torch.zeros(len(names)))
    assert a.choose(parse("a large cube eats a small ball")) == "counterfactual"
    assert a.predict(parse("a large cube eats a small ball")) == {"mode": "substitute", "counterfactual_share": 1.0}
    assert a.choose(parse("a large green cone near the edge of a large mirror")) == "no_structure"
    assert a.choose(parse("a red ball in front of a mirror")) == "prior"        # ties go to the first action
    sub = subspace()
    pooled = sub.P_pooled[0:1] * 3.0       # a pooled output along the first pooled physics direction
    assert a.choose(parse("a red ball in front of a mirror"), pooled) == "layout_focus"
    assert a.choose(parse("a red ball in front of a mirror"), -pooled) == "prior"


def test_no_physical_node_gets_no_override():
    g = parse("a ball")
    assert prior_plan(g).latent_strength == 0.0
    assert prior_adapter(subspace()).plan_overrides(g) == {}


def test_round_trip_and_trained_weights_change_the_prediction(tmp_path):
    a = prior_adapter(subspace(), family="physworld")
    p = save_adapter(a, tmp_path / "lina_adapter_x.safetensors", training={"judge": "physworld"})
    b = load_adapter(p)
    assert b.fingerprint == a.fingerprint and b.width == 16 and b.family == "physworld" and b.source == "prior"
    assert json.loads(b.training) == {"judge": "physworld"}
    assert torch.equal(b.subspace.P, a.subspace.P) and torch.equal(b.subspace.P_pooled, a.subspace.P_pooled)
    g = parse(PROMPTS[0])
    assert b.predict(g) == a.predict(g) == {}
    W = torch.randn(len(ACTIONS), len(FEATURES), generator=torch.Generator().manual_seed(0))
    t = load_adapter(save_adapter(make_adapter(subspace(), dict(ACTIONS), W, torch.zeros(len(ACTIONS))),
                                  tmp_path / "t.safetensors"))
    assert t.actions == make_adapter(subspace(), dict(ACTIONS), W, torch.zeros(len(ACTIONS))).actions
    assert [t.choose(parse(p)) for p in PROMPTS] == \
        [make_adapter(subspace(), dict(ACTIONS), W, torch.zeros(len(ACTIONS))).choose(parse(p)) for p in PROMPTS]
    no_pool = load_adapter(save_adapter(prior_adapter(subspace(pooled=False)), tmp_path / "np.safetensors"))
    assert no_pool.subspace.P_pooled is None


def test_outside_its_support_an_adapter_never_drops_a_prior_lever(tmp_path):
    """A prompt outside the support: "prior" keeps the prior's plan; "add" takes the best action that keeps every
    lever the prior turns on, even when an action that drops one (no structure prompt) scores higher. A file
    without the key behaves as before ("prior")."""
    names = ["prior", "no_structure", "regions"]
    acts = {n: dict(ACTIONS[n]) for n in names}
    b = torch.tensor([0.0, 2.0, 1.0])                       # no_structure > regions > prior for every prompt
    far = torch.zeros(1, len(CSG_FEATURES))                 # support: one row no physical prompt has
    g = parse("a red ball in front of a mirror")
    add = make_adapter(subspace(), acts, torch.zeros(3, len(FEATURES)), b, support=far, outside_support="add")
    assert not add.supports(g) and add.plan_overrides(g) == acts["regions"]
    keep = make_adapter(subspace(), acts, torch.zeros(3, len(FEATURES)), b, support=far)
    assert keep.outside_support == "prior" and keep.plan_overrides(g) == acts["prior"]
    inside = make_adapter(subspace(), acts, torch.zeros(3, len(FEATURES)), b, support=csg_features(g)[None],
                          outside_support="add")
    assert inside.plan_overrides(g) == acts["no_structure"]      # inside the support every action may be chosen
    assert load_adapter(save_adapter(add, tmp_path / "add.safetensors")).plan_overrides(g) == acts["regions"]
    old = _tamper(tmp_path, "old.safetensors", meta={"outside_support": None})
    assert load_adapter(old).outside_support == "prior"
    with pytest.raises(AdapterError, match="adapter.outside_support"):
        make_adapter(subspace(), acts, torch.zeros(3, len(FEATURES)), b, outside_support="maybe")


def _tamper(tmp_path, name, tensors=None, meta=None):
    a = prior_adapter(subspace())
    p = save_adapter(a, tmp_path / "good.safetensors")
    from safetensors import safe_open

    with safe_open(p, framework="pt") as f:
        t = {k: f.get_tensor(k) for k in f.keys()}
        m = dict(f.metadata())
    t.update(tensors or {})
    for k, v in (meta or {}).items():
        if v is None:
            m.pop(k, None)
        else:
            m[k] = v
    t = {k: v for k, v in t.items() if v is not None}
    out = tmp_path / name
    save_file(t, str(out), metadata=m)
    return out


def test_bad_files_are_refused_naming_the_field(tmp_path):
    with pytest.raises(AdapterError, match="no such file"):
        load_adapter(tmp_path / "missing.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00\x01 not a safetensors file" * 10)
    with pytest.raises(AdapterError, match="not a readable safetensors"):
        load_adapter(junk)
    pickled = tmp_path / "adapter.pt"
    torch.save({"head.weight": torch.zeros(2)}, pickled)
    with pytest.raises(AdapterError, match="never loaded"):
        load_adapter(pickled)
    cases = [
        ({}, {"format": "lina-physworld-model"}, "adapter.format"),
        ({}, {"format_version": "1"}, "adapter.format_version"),
        ({}, {"format_version": "2"}, "lina adapter prior"),
        ({}, {"action_space": "0"}, "adapter.action_space"),
        ({"support.patterns": torch.zeros(2, 3)}, {}, "adapter.support.patterns"),
        ({}, {"actions": json.dumps({"prior": {"latent_strength": 99}})}, "adapter.actions"),
        ({}, {"actions": json.dumps({"prior": {"regions": 1}})}, "adapter.actions"),
        ({}, {"actions": "[1, 2"}, "adapter.actions"),
        ({}, {"format_version": "9"}, "adapter.format_version"),
        ({}, {"features": json.dumps(["hop0"])}, "adapter.features"),
        ({}, {"encoder_fingerprint": None}, "adapter.encoder_fingerprint"),
        ({"head.bias": None}, {}, "head.bias"),
        ({"head.weight": torch.zeros(3, 3)}, {}, "adapter.head"),
        ({"subspace.P": torch.full((4, 16), float("nan"))}, {}, "subspace.P"),
        ({}, {"width": "32"}, "adapter.subspace"),
        ({}, {"outside_support": "anything"}, "adapter.outside_support"),
    ]
    for i, (t, m, field) in enumerate(cases):
        bad = _tamper(tmp_path, f"bad{i}.safetensors", t, m)
        with pytest.raises(AdapterError, match=field.replace(".", r"\.")) as e:
            load_adapter(bad)
        assert str(bad) in str(e.value)        # the message names the file
