"""In-process sampling with the nodes' code (LINA off / prior, ablations, prompt swap, x0 probe), the
knee harness and `lina knee` / `lina physworld eval --lina`, on the shipped PhysWorld model and a tiny
SD1.5 checkpoint."""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
import torch

from lina_nodes.cli import main as lina_main
from lina_nodes.errors import LinaError
from lina_nodes.inprocess.sampler import InProcessSampler
from lina_nodes.evaluation.knee_probe import measure
from lina_nodes.paths import PHYSWORLD_DEFAULT_WEIGHTS as DEFAULT_WEIGHTS
from lina_nodes.physworld_model.evaluate import generate
from lina_nodes.physworld_model.model import load_bundle

PROMPT = "a small red cone lit by a lamp from the right"


@pytest.fixture(scope="module")
def pw():
    torch.set_num_threads(1)
    return InProcessSampler.physworld(DEFAULT_WEIGHTS)


def test_lina_off_is_the_eval_sampler_image(pw):
    r = pw.sample(PROMPT, 3)
    ref = generate(load_bundle(DEFAULT_WEIGHTS), [PROMPT], [3])[0]
    assert np.array_equal(r.image, ref)
    assert r.nfe == 40 and r.plan is None


def test_lina_prior_counts_its_extra_evaluations_and_substitute_spends_none(pw):
    off = pw.sample(PROMPT, 3)
    add = pw.sample(PROMPT, 3, lina="prior", mode="add")
    sub = pw.sample(PROMPT, 3, lina="prior", mode="substitute")
    assert add.plan is not None and add.plan.latent_strength > 0
    assert 40 < add.nfe < 60              # one extra evaluation per step inside the early window only
    assert sub.nfe == 40
    assert not np.array_equal(add.image, off.image)
    no_sched = pw.sample(PROMPT, 3, lina="prior", ablate=("schedule", "latent"))
    assert np.array_equal(no_sched.image, off.image)   # every component removed: the plain sampler


def test_bad_settings_are_user_errors(pw):
    with pytest.raises(LinaError, match="ablation"):
        pw.sample(PROMPT, 0, lina="prior", ablate=("colour",))
    with pytest.raises(LinaError, match="LINA setting"):
        pw.sample(PROMPT, 0, lina="learned")
    with pytest.raises(LinaError, match="adapter"):
        pw.sample(PROMPT, 0, lina="adapter")   # no adapter given
    with pytest.raises(LinaError, match="swap_at"):
        pw.sample(PROMPT, 0, swap_from="", swap_at=1.5)
    with pytest.raises(LinaError, match="multiple"):
        pw.latent_shape(65) if pw.vae.spacial_compression_encode() > 1 else (_ for _ in ()).throw(
            LinaError("not a multiple"))


def test_prompt_swap_and_x0_probe(pw):
    plain = pw.sample(PROMPT, 5)
    assert np.array_equal(pw.sample(PROMPT, 5, swap_from="", swap_at=0.0).image, plain.image)
    empty = pw.sample("", 5)
    assert np.array_equal(pw.sample(PROMPT, 5, swap_from="", swap_at=1.0).image, empty.image)
    r = pw.sample(PROMPT, 5, probe=True)
    prog = [p for p, _ in r.probes]
    assert len(prog) == 20 and prog[0] == pytest.approx(0.0, abs=1e-6) and all(np.diff(prog) > 0)
    assert r.probes[-1][1].shape == (64, 64, 3)


def test_knee_measure_and_judge_errors(pw):
    rep = measure(pw, [PROMPT, "a small blue ball on a table"], lambda img, i: float(img.mean() / 255.0),
                  steps=6, swaps=(0.0, 0.5, 1.0))
    assert len(rep["x0_probe"]["score"]) == len(rep["x0_probe"]["progress"]) == 7
    assert rep["prompt_swap"]["progress"] == [0.0, 0.5, 1.0]
    assert rep["recommended_window_end"] is None or 0.0 <= rep["recommended_window_end"] <= 1.0
    with pytest.raises(LinaError, match="non-finite"):
        measure(pw, [PROMPT], lambda img, i: float("nan"), steps=4, swaps=(0, 0.5, 1))
    with pytest.raises(LinaError, match="not a number"):
        measure(pw, [PROMPT], lambda img, i: "good", steps=4, swaps=(0, 0.5, 1))
    with pytest.raises(LinaError, match="swap points"):
        measure(pw, [PROMPT], lambda img, i: 0.5, steps=4, swaps=(0, 1))


def test_cli_knee_on_physworld(tmp_path, capsys):
    rc = lina_main(["--json", "knee", "--n", "2", "--steps", "6", "--swaps", "0,0.5,1", "--out", str(tmp_path)])
    assert rc == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["judge"].startswith("physworld") and (tmp_path / "knee.json").is_file()
    assert all(0.0 <= s <= 1.0 for s in rep["x0_probe"]["score"])


def test_cli_knee_on_a_checkpoint_with_a_user_judge(tmp_path, capsys, monkeypatch, tiny_model_files):
    ckpt = tiny_model_files("sd15_ckpt")["sd15_ckpt"]
    (tmp_path / "knee_judge.py").write_text(textwrap.dedent("""
        def brightness(image, prompt):
            return float(image.mean()) / 255.0
    """))
    (tmp_path / "prompts.txt").write_text("a red ball\na blue cube\n")
    monkeypatch.chdir(tmp_path)
    rc = lina_main(["--json", "knee", "--checkpoint", str(ckpt), "--judge", "knee_judge:brightness", "--prompts",
                    "prompts.txt", "--steps", "3", "--swaps", "0,0.5,1", "--out", str(tmp_path / "k")])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["prompts"] == 2 and out["judge"] == "knee_judge:brightness"
    # errors a user can fix
    assert lina_main(["knee", "--checkpoint", str(ckpt)]) != 0
    assert "needs --judge" in capsys.readouterr().err
    assert lina_main(["knee", "--judge", "knee_judge:nothing", "--prompts", "prompts.txt"]) != 0
    assert "knee_judge:nothing" in capsys.readouterr().err
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    assert lina_main(["knee", "--checkpoint", str(bad), "--judge", "knee_judge:brightness", "--prompts",
                      "prompts.txt"]) != 0
    assert "bad.safetensors" in capsys.readouterr().err


def test_cli_eval_with_lina(tmp_path, capsys):
    rc = lina_main(["--json", "physworld", "eval", "--split", "ood", "--n", "2", "--lina", "prior", "--mode",
                    "substitute", "--out", str(tmp_path)])
    assert rc == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["lina"]["setting"] == "prior" and rep["lina"]["mode"] == "substitute"
    assert rep["nfe_per_image"] == 40.0
    assert "_lina-prior" in rep["report"]
    assert lina_main(["physworld", "eval", "--n", "1", "--ablate", "latent", "--out", str(tmp_path)]) != 0
    assert "--lina prior" in capsys.readouterr().err


def test_cli_eval_strength_scales(tmp_path, capsys):
    """--latent-scale 0 turns the guidance term off (no extra evaluations); bad scales are refused."""
    rc = lina_main(["--json", "physworld", "eval", "--split", "ood", "--n", "1", "--lina", "prior", "--mode", "add",
                    "--latent-scale", "0", "--prompt-scale", "2", "--out", str(tmp_path)])
    assert rc == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["lina"]["latent_scale"] == 0.0 and rep["lina"]["prompt_scale"] == 2.0
    assert rep["nfe_per_image"] == 40.0
    assert lina_main(["physworld", "eval", "--n", "1", "--lina", "prior", "--latent-scale", "nan",
                      "--out", str(tmp_path)]) != 0
    assert "latent_scale" in capsys.readouterr().err
    assert lina_main(["physworld", "eval", "--n", "1", "--latent-scale", "2", "--out", str(tmp_path)]) != 0
    assert "--lina prior" in capsys.readouterr().err
    assert lina_main(["physworld", "eval", "--n", "1", "--lina", "prior", "--structure-share", "1.5",
                      "--out", str(tmp_path)]) != 0
    assert "structure_share" in capsys.readouterr().err
    assert lina_main(["physworld", "eval", "--n", "1", "--structure-share", "0.3", "--out", str(tmp_path)]) != 0
    assert "--lina prior" in capsys.readouterr().err


@pytest.mark.parametrize("mode", ["substitute", "add"])
def test_structure_prompt_conditions_the_first_part_of_the_window_only(pw, monkeypatch, mode):
    """Region prompt: the model sees the structure prompt's tokens exactly in the steps before
    structure_share * window end (no extra evaluation there), and the prompt itself after the window."""
    prompt = "a large purple cone close to the water and in the sand"
    dm = pw.model.model.diffusion_model
    seen, forward = [], dm.forward

    def record(x, timesteps, context=None, **kw):
        seen.append((float(timesteps.flatten()[0]) / 1000.0, context.detach().clone()))
        return forward(x, timesteps, context=context, **kw)

    monkeypatch.setattr(dm, "forward", record)
    r = pw.sample(prompt, 5, lina="prior", mode=mode)
    plan = r.plan
    assert plan.structure_prompt == "a large purple cone close to the water"
    assert r.nfe == 40 if mode == "substitute" else 40 < r.nfe < 52
    s_ctx = pw.encode(plan.structure_prompt)[0][0]
    p_ctx = pw.encode(prompt)[0][0]
    from lina_nodes.intervention.schedule import knee_for_family

    end = plan.structure_share * knee_for_family("physworld")
    used = [(pw.progress_of(sig), any(torch.allclose(row, s_ctx[0]) for row in ctx),
             any(torch.allclose(row, p_ctx[0]) for row in ctx)) for sig, ctx in seen]
    assert any(s for _, s, _ in used) and all(s == (p < end - 1e-3) for p, s, _ in used), used
    assert all(p_in for p, _, p_in in used if p > knee_for_family("physworld") + 1e-3)
    monkeypatch.setattr(dm, "forward", forward)
    off = pw.sample(prompt, 5, lina="prior", mode=mode, ablate=("structure",))
    assert not np.array_equal(off.image, r.image)
    zero = pw.sample(prompt, 5, lina="prior", mode=mode, structure_share=0.0)
    assert np.array_equal(zero.image, off.image)   # share 0 is the ablation


def test_cli_adapter_prior_show_and_eval_with_it(tmp_path, capsys):
    """`lina adapter prior` writes the prior-reproducing adapter for PhysWorld's encoder; eval with it gives
    the prior's images; an adapter without --lina adapter (and the reverse) is refused; a non-adapter is refused."""
    path = tmp_path / "lina_adapter_pw.safetensors"
    assert lina_main(["--json", "adapter", "prior", "--out", str(path)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["width"] == 128 and path.is_file()
    assert lina_main(["--json", "adapter", "show", str(path)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["source"] == "prior" and shown["actions"] == ["prior"] and shown["outside_support"] == "prior"
    reps = {}
    for lina in ("prior", "adapter"):
        extra = ["--adapter", str(path)] if lina == "adapter" else []
        assert lina_main(["--json", "physworld", "eval", "--split", "ood", "--n", "4", "--lina", lina, "--mode",
                          "substitute", "--out", str(tmp_path / lina)] + extra) == 0
        reps[lina] = json.loads(capsys.readouterr().out)
    assert reps["adapter"]["lina"]["adapter"] == str(path)
    assert [d["score"] for d in reps["adapter"]["images_detail"]] == [d["score"] for d in reps["prior"]["images_detail"]]
    assert lina_main(["physworld", "eval", "--n", "1", "--lina", "adapter", "--out", str(tmp_path)]) != 0
    assert "--adapter" in capsys.readouterr().err
    assert lina_main(["physworld", "eval", "--n", "1", "--lina", "adapter", "--adapter", str(DEFAULT_WEIGHTS),
                      "--out", str(tmp_path)]) != 0
    assert "adapter.format" in capsys.readouterr().err
    assert lina_main(["adapter", "show", str(DEFAULT_WEIGHTS)]) != 0
    assert "not a LINA adapter" in capsys.readouterr().err
