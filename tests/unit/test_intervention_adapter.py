"""LINA adapter files: the prior-reproducing predictor, save / load round trip, every refused file, and
LINA Plan's encoder check (an adapter made for another text encoder is a clear error)."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from lina_nodes.csg import parse
from lina_nodes.intervention.adapter import (FEATURES, OUTPUTS, AdapterError, csg_features, load_adapter,
                                             prior_adapter, save_adapter)
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
    plan = prior_plan(g)
    over = prior_adapter(subspace()).plan_overrides(g, None)
    for k, v in over.items():
        assert getattr(plan, k) == pytest.approx(v, abs=1e-4), k
    assert set(over) == set(OUTPUTS)
    assert csg_features(g).shape == (len(FEATURES),)


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
    assert b.predict(g) == a.predict(g)
    w = a.weight.clone()
    w[list(OUTPUTS).index("latent_strength")] += 2.0
    c = type(a)(a.subspace, w, a.bias)
    lo, hi = OUTPUTS["latent_strength"]
    assert a.predict(g)["latent_strength"] < c.predict(g)["latent_strength"] <= hi
    no_pool = load_adapter(save_adapter(prior_adapter(subspace(pooled=False)), tmp_path / "np.safetensors"))
    assert no_pool.subspace.P_pooled is None


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
        ({}, {"format_version": "9"}, "adapter.format_version"),
        ({}, {"features": json.dumps(["hop0"])}, "adapter.features"),
        ({}, {"encoder_fingerprint": None}, "adapter.encoder_fingerprint"),
        ({"head.bias": None}, {}, "head.bias"),
        ({"head.weight": torch.zeros(3, 3)}, {}, "adapter.head"),
        ({"subspace.P": torch.full((4, 16), float("nan"))}, {}, "subspace.P"),
        ({}, {"width": "32"}, "adapter.subspace"),
    ]
    for i, (t, m, field) in enumerate(cases):
        with pytest.raises(AdapterError, match=field.replace(".", r"\.")):
            load_adapter(_tamper(tmp_path, f"bad{i}.safetensors", t, m))
