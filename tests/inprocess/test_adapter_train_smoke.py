"""`lina adapter train` on the embedded PhysWorld model, tiny budget (the CI smoke run): two worker processes,
the in-process ComfyUI runner and PhysWorld's judge; the adapter it writes drives LINA Plan's path."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_train_smoke_two_workers_then_sample_with_the_adapter(tmp_path):
    out = tmp_path / "run"
    actions = {"prior": {"mode": "substitute"}, "counterfactual": {"mode": "substitute", "counterfactual_share": 1.0}}
    cmd = [sys.executable, "-m", "lina_nodes.cli", "--json", "adapter", "train", "--out", str(out),
           "--set", 'pools=["physworld:ood_test:1000:3"]', "--set", "workers=2",
           "--set", "runner_args=" + json.dumps({"steps": 4}), "--set", "actions=" + json.dumps(actions)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    rep = json.loads(r.stdout)
    assert rep["search"]["items"] >= 2 and rep["all"]["n"] == rep["search"]["items"]
    rows = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines()]
    assert {x["action"] for x in rows} == set(actions) and all(0 <= x["score"] <= 1 for x in rows)
    # an action prompt gets a counterfactual plan that differs from the prior's: two samples, not one
    act = [x for x in rows if x["labels"]["rule"] == "reversed_action" and x["action"] == "counterfactual"]
    assert all(x["same_as"] == "counterfactual" for x in act)

    from lina_nodes.inprocess.sampler import InProcessSampler
    from lina_nodes.intervention.adapter import load_adapter
    from lina_nodes.paths import PHYSWORLD_DEFAULT_WEIGHTS

    adapter = load_adapter(out / "adapter.safetensors")
    # the training record names the model file, not where it lives on the machine that trained it
    assert json.loads(adapter.training)["model"] == PHYSWORLD_DEFAULT_WEIGHTS.name
    smp = InProcessSampler.physworld(PHYSWORLD_DEFAULT_WEIGHTS)
    prompt = "a large cyan cylinder pushes a small yellow cone"
    res = smp.sample(prompt, 0, steps=4, lina="adapter", adapter=adapter)
    from lina_nodes.csg import parse

    over = adapter.plan_overrides(parse(prompt), smp.encode(prompt)[0][1]["pooled_output"])
    assert res.plan.source == "adapter"
    assert res.plan.counterfactual_share == over.get("counterfactual_share", 0.0)
    # resume of a finished run searches nothing and refits the same head
    r2 = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=300)
    assert r2.returncode == 0 and json.loads(r2.stdout)["search"]["searched"] == 0
    bad = subprocess.run(cmd[:4] + ["adapter", "train", "--out", str(tmp_path / "b"), "--set", "judge=nope.mod:fn",
                                    "--set", 'pools=["physworld:ood_test:1000:1"]'],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "config.judge" in bad.stderr and "Traceback" not in bad.stderr
