"""Adapter training without a model (the fake plug-ins of lina_nodes.devtools.fake_training): the config is
validated naming the field, evaluation prompts never enter the pool, the search dedupes equal plans, the fit
learns a per-prompt choice that beats every single action, two worker processes give the rows one gives, a
failing judge stops training naming itself and the prompt, and a resumed run keeps completed prompts."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from lina_nodes.csg import parse
from lina_nodes.devtools.fake_training import FakeRunner
from lina_nodes.errors import LinaError
from lina_nodes.intervention.adapter import load_adapter
from lina_nodes.training.config import TrainConfig, TrainError
from lina_nodes.training.pool import build_items
from lina_nodes.training.search import read_rows
from lina_nodes.training.train import train

POOL = str(Path(__file__).resolve().parents[1] / "data" / "adapter_train_pool.jsonl")
FAKE = "lina_nodes.devtools.fake_training:"


def config(**kw) -> TrainConfig:
    base = {"pools": [POOL], "exclude": [], "runner": FAKE + "FakeRunner", "judge": FAKE + "action_judge",
            "actions": {"prior": {"mode": "substitute"}, "counterfactual": {"mode": "substitute",
                                                                             "counterfactual_share": 1.0},
                        "no_structure": {"mode": "substitute", "structure_share": 0.0}},
            "folds": 3, "ridge": 0.01, "outside_support": "prior"}
    return TrainConfig.from_dict({**base, **kw})


@pytest.mark.parametrize("change,field", [
    ({"seeds": 0}, "config.seeds"), ({"workers": "2"}, "config.workers"), ({"ridge": float("nan")}, "config.ridge"),
    ({"judge": "nocolon"}, "config.judge"), ({"actions": {"x": {"mode": "substitute"}}}, "config.actions"),
    ({"actions": {"prior": {"latent_strength": 50}}}, "config.actions.prior.latent_strength"),
    ({"actions": {"prior": {"regions": []}}}, "config.actions.prior.regions"), ({"bogus": 1}, "config"),
    ({"pools": "physworld:ood_test:0:5"}, "config.pools"), ({"version": "0"}, "config.version"),
    ({"outside_support": "always"}, "config.outside_support")])
def test_bad_config_names_the_field(change, field):
    with pytest.raises(LinaError) as e:
        config(**change)
    assert str(e.value).startswith(field)


def test_evaluation_prompts_never_enter_the_pool():
    items, dropped = build_items(["physworld:ood_test:195:10"], ["physworld:ood_test:0:200"])
    evals = {it["prompt"] for it in build_items(["physworld:ood_test:0:200"])[0]}
    assert dropped >= 5 and all(int(it["key"].split(":")[1]) >= 200 for it in items)   # 195-199 are evaluation prompts
    items, dropped = build_items(["physworld:ood_test:1000:60"], ["physworld:ood_test:0:200"])
    assert items and not {it["prompt"] for it in items} & evals and len(items) + dropped == 60
    with pytest.raises(TrainError, match="config.pools"):
        build_items(["physworld:train:0:5"])
    with pytest.raises(TrainError, match="config.pools"):
        build_items(["/etc/passwd"])


def test_search_fit_and_adapter(tmp_path):
    FakeRunner.calls = 0
    rep = train(config(), tmp_path, progress=False, log=lambda *a: None)
    rows = read_rows(tmp_path)
    assert len(rows) == 9 * 3
    # plans equal to an earlier action's are not sampled again: no_structure changes nothing on 8 of 9 prompts
    assert FakeRunner.calls < 27 and sum(r["same_as"] != r["action"] for r in rows) == 27 - FakeRunner.calls
    a = rep["all"]
    assert a["oracle"] == pytest.approx((6 * 1.0 + 3 * 0.5) / 9)
    assert a["best_single"] == pytest.approx((6 * 1.0 + 3 * 0.25) / 9)        # counterfactual for every prompt
    assert a["adapter_in_sample"] == pytest.approx(a["oracle"])                # per prompt beats any one action
    assert a["adapter_cv"] == pytest.approx(a["oracle"])                       # and on prompts it did not see
    ad = load_adapter(tmp_path / "adapter.safetensors")
    assert ad.choose(parse("a red cube eats a blue ball")) == "counterfactual"     # an unseen action prompt
    assert ad.plan_overrides(parse("a red cube eats a blue ball"))["counterfactual_share"] == 1.0
    assert ad.choose(parse("a red ball in front of a small mirror")) != "counterfactual"
    # outside its support (CSG features seen too rarely in training) this one keeps the prior's plan
    assert ad.support is not None and not ad.supports(parse("a large red cube eats a small blue ball"))
    assert ad.plan_overrides(parse("a large red cube eats a small blue ball")) == {"mode": "substitute"}
    assert json.loads(ad.training)["items"] == 9 and ad.source == "trained"
    assert json.loads((tmp_path / "adapter_report.json").read_text())["search"]["searched"] == 9


def test_outside_support_add_lets_a_learned_lever_reach_an_unseen_prompt(tmp_path):
    """The default: outside its support the adapter picks among the actions that keep the prior's levers, so the
    counterfactual learned on action prompts reaches an action prompt whose CSG features it never saw."""
    assert TrainConfig().outside_support == "add"
    train(config(outside_support="add"), tmp_path, progress=False, log=lambda *a: None)
    ad = load_adapter(tmp_path / "adapter.safetensors")
    unseen = parse("a large red cube eats a small blue ball")
    assert ad.outside_support == "add" and not ad.supports(unseen)
    assert ad.plan_overrides(unseen)["counterfactual_share"] == 1.0
    assert json.loads((tmp_path / "adapter_report.json").read_text())["selected"]["outside_support"] == "add"


def test_holdout_fits_without_the_held_out_items(tmp_path):
    rep = train(config(holdout={"rule": "action"}), tmp_path, progress=False, log=lambda *a: None)
    assert rep["all"]["n"] == 3                           # only the three non-action prompts are fitted
    # the report scores the six held-out action prompts from their searched rows (leave one rule out in the pool)
    assert rep["held_out"] == {"n": 6, "prior": 0.5, "oracle": 1.0, "adapter": 0.5, "chosen": {"prior": 6}}
    ad = load_adapter(tmp_path / "adapter.safetensors")
    assert ad.plan_overrides(parse("a red cube eats a blue ball")) == {"mode": "substitute"}   # never saw one: prior


def test_two_workers_give_the_rows_of_one(tmp_path):
    train(config(), tmp_path / "one", progress=False, log=lambda *a: None)
    train(config(workers=2), tmp_path / "two", progress=False, log=lambda *a: None)
    key = lambda r: (r["key"], r["action"], r["k"])   # noqa: E731
    one = sorted(read_rows(tmp_path / "one"), key=key)
    two = sorted(read_rows(tmp_path / "two"), key=key)
    assert [(key(r), r["score"], r["seed"]) for r in one] == [(key(r), r["score"], r["seed"]) for r in two]


@pytest.mark.parametrize("judge,match", [("failing_judge", "raised RuntimeError: detector crashed on the prompt "
                                                           "'a red cone pushes a blue cylinder'"),
                                         ("nan_judge", "returned nan")])
def test_bad_judge_stops_training_and_resume_keeps_completed_prompts(tmp_path, monkeypatch, judge, match):
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("LINA_FAKE_CALLS", str(calls))
    with pytest.raises(TrainError, match=match) as e:
        train(config(judge=FAKE + judge), tmp_path / "run", progress=False, log=lambda *a: None)
    assert judge in str(e.value)
    kept = {r["key"] for r in read_rows(tmp_path / "run")}
    assert len(kept) == (1 if judge == "failing_judge" else 0)   # the first prompt finished before the failure
    with pytest.raises(TrainError, match="another pool, action space"):
        train(config(), tmp_path / "run", resume=True, progress=False, log=lambda *a: None)
    with pytest.raises(TrainError, match="--resume"):
        train(config(judge=FAKE + judge), tmp_path / "run", progress=False, log=lambda *a: None)
    calls.write_text("")
    # resuming needs the same config; a fixed judge under the same name is what a user does: swap the module attr
    import lina_nodes.devtools.fake_training as ft

    monkeypatch.setattr(ft, judge, ft.action_judge)
    rep = train(config(judge=FAKE + judge), tmp_path / "run", resume=True, progress=False, log=lambda *a: None)
    assert rep["search"]["skipped"] == len(kept) and rep["search"]["searched"] == 9 - len(kept)
    resampled = calls.read_text().splitlines()
    assert not set(resampled) & {it["prompt"] for it in build_items([POOL])[0] if it["key"] in kept}


def test_resume_extends_the_action_space_with_the_rows_of_a_whole_search(tmp_path, monkeypatch):
    """A resumed run may add actions: only the missing rows are sampled, and the rows equal a run that searched
    the whole space at once; changing a kept action's settings is refused."""
    small = config()
    wide = dict(small.actions, window_long={"mode": "substitute", "window_end": 0.6})
    train(small, tmp_path / "ext", progress=False, log=lambda *a: None)
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("LINA_FAKE_CALLS", str(calls))
    logs = []
    rep = train(config(actions=wide), tmp_path / "ext", resume=True, progress=False, log=logs.append)
    assert any("extending the action space by window_long" in str(m) for m in logs)
    assert rep["search"]["searched"] == 9 and len(calls.read_text().splitlines()) <= 9   # one action, one seed each
    monkeypatch.delenv("LINA_FAKE_CALLS")
    train(config(actions=wide), tmp_path / "whole", progress=False, log=lambda *a: None)
    key = lambda r: (r["key"], r["action"], r["k"])   # noqa: E731
    ext = sorted(read_rows(tmp_path / "ext"), key=key)
    whole = sorted(read_rows(tmp_path / "whole"), key=key)
    assert [(key(r), r["score"], r["seed"]) for r in ext] == [(key(r), r["score"], r["seed"]) for r in whole]
    changed = dict(wide, counterfactual={"mode": "substitute", "counterfactual_share": 0.5})
    with pytest.raises(TrainError, match="may only add actions"):
        train(config(actions=changed), tmp_path / "ext", resume=True, progress=False, log=lambda *a: None)


def test_fit_merges_runs_of_other_seeds_only(tmp_path):
    from lina_nodes.training.train import fit_adapter, merged_rows

    train(config(), tmp_path / "s0", progress=False, log=lambda *a: None)
    train(config(seed=1), tmp_path / "s1", progress=False, log=lambda *a: None)
    train(config(), tmp_path / "same", progress=False, log=lambda *a: None)
    rows = merged_rows(config(), tmp_path / "s0", [tmp_path / "s1"])
    assert len(rows) == 2 * 27 and len({r["seed"] for r in rows}) == 18          # 9 prompts x 2 seeds
    rep = fit_adapter(config(), tmp_path / "s0", runner=FakeRunner(), log=lambda *a: None, with_runs=[tmp_path / "s1"])
    assert rep["all"]["n"] == 9 and rep["with_runs"] == [str(tmp_path / "s1")]
    with pytest.raises(TrainError, match="same seed"):
        merged_rows(config(), tmp_path / "s0", [tmp_path / "same"])
    with pytest.raises(TrainError, match="another pool"):
        train(config(pools=[POOL, "physworld:ood_test:1000:1"], seed=2), tmp_path / "p", progress=False,
              log=lambda *a: None)
        merged_rows(config(), tmp_path / "s0", [tmp_path / "p"])


def test_multi_process_launch_shards_by_rank_and_fit_only_merges(tmp_path, monkeypatch):
    """Under accelerate / torchrun (RANK, WORLD_SIZE) each rank searches its share into rows-rank{R}.jsonl and
    stops; --fit-only on the folder fits on every rank's rows."""
    from lina_nodes.training.train import fit_adapter

    monkeypatch.setenv("WORLD_SIZE", "2")
    for rank in ("0", "1"):
        monkeypatch.setenv("RANK", rank)
        out = train(config(), tmp_path, resume=rank == "1", progress=False, log=lambda *a: None)
        assert set(out) == {"search"} and out["search"]["searched"] == (5 if rank == "0" else 4)
    assert sorted(p.name for p in tmp_path.glob("rows*.jsonl")) == ["rows-rank0.jsonl", "rows-rank1.jsonl"]
    monkeypatch.delenv("WORLD_SIZE")
    monkeypatch.delenv("RANK")
    rep = fit_adapter(config(), tmp_path, runner=FakeRunner(), log=lambda *a: None)
    assert rep["all"]["n"] == 9 and rep["all"]["adapter_cv"] == pytest.approx(rep["all"]["oracle"])
