"""`lina diagnose multihop|subspace|knee` on a tiny budget: the reports' fields and 95% intervals, the PNG
figures, the user-judge interface, and baselines a broken diagnostic would miss (masking nothing recovers
every node; a zero step along P is the plain image; a step along P leaves the T component alone)."""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
import torch

from lina_nodes.cli import main as lina_main
from lina_nodes.evaluation import diagnose_common as dc
from lina_nodes.evaluation import diagnose_multihop as mh
from lina_nodes.evaluation import diagnose_subspace as ds

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def pw():
    torch.set_num_threads(1)
    return dc.load_sampler()


@pytest.fixture(scope="module")
def items():
    return dc.physworld_items(2)          # a shadow and a reflection prompt: hops 0, 1 and 2


def _is_png(path) -> bool:
    from pathlib import Path

    b = Path(path).read_bytes()
    return b[:8] == PNG and b"IEND" in b[-16:] and len(b) > 1000


def _check_rate(r):
    assert set(r) >= {"k", "n", "rate", "ci95"}
    lo, hi = r["ci95"]
    assert 0.0 <= lo <= hi <= 1.0
    if r["rate"] is not None:
        assert lo - 1e-9 <= r["rate"] <= hi + 1e-9


def test_wilson_interval_known_values():
    assert dc.wilson(5, 10) == pytest.approx([0.2366, 0.7634], abs=1e-4)
    assert dc.wilson(0, 10)[0] == 0.0 and dc.wilson(10, 10)[1] == 1.0
    assert dc.wilson(0, 0) == [0.0, 1.0]
    r = dc.ratio_bootstrap([1, 1, 0, 1], [1, 1, 1, 1])
    assert r["rate"] == 0.75 and r["ci95"][0] < 0.75 <= r["ci95"][1]


def test_node_masks_and_hops(items):
    csg = items[0].csg                      # shadow scene: object, lamp, floor, contact, shadow
    hops = {n["kind"]: mh.hop_depth(n) for n in csg["nodes"]}
    assert hops["object"] == 0 and hops["contact"] == 1 and hops["shadow"] == 2
    m = mh.node_mask((0.25, 0.25, 0.5, 0.5), 64, dilate_px=2)
    assert m.sum() == (16 + 4) ** 2 and m[13, 13] == 0 and m[14, 14] == 1 and m[33, 33] == 1 and m[34, 34] == 0
    contact = next(n["id"] for n in csg["nodes"] if n["kind"] == "contact")
    kinds = {c["id"]: c["kind"] for c in csg["constraints"]}
    assert {kinds[c] for c in dc.node_constraints(csg, contact)} == {"touches_support"}


def test_inpainting_keeps_the_unmasked_pixels(pw, items):
    it = items[0]
    m = mh.node_mask(next(n["box"] for n in it.csg["nodes"] if n["kind"] == "object"), 64)
    r = pw.sample(it.prompt, 0, init_image=it.image, noise_mask=m)
    d = np.abs(r.image.astype(int) - it.image.astype(int)).max(-1)
    assert d[m == 0].max() <= 1                       # kept (uint8 truncation of the VAE round trip)
    assert d[m == 1].mean() > 5                        # resampled


def test_masking_nothing_recovers_every_node(pw, items):
    rep = mh.measure(pw, items, dc.make_judge(None), steps=6, empty_mask=True)
    assert rep["valid_trials"] > 0
    for arm in ("plain", "lina"):
        assert rep["overall"][arm]["rate"] == 1.0


def test_cli_multihop(tmp_path, capsys):
    rc = lina_main(["--json", "diagnose", "multihop", "--n", "2", "--steps", "6", "--out", str(tmp_path)])
    assert rc == 0
    rep = json.loads(capsys.readouterr().out)
    saved = json.loads((tmp_path / "multihop.json").read_text())
    assert saved["by_hop"] == rep["by_hop"] and rep["diagnostic"] == "multihop"
    assert set(rep["by_hop"]) == {"0", "1", "2"} and rep["arms"] == ["plain", "lina"]
    for table in (rep["by_hop"], rep["by_kind"], {"all": rep["overall"]}):
        for row in table.values():
            for arm in ("plain", "lina"):
                _check_rate(row[arm])
    assert rep["judged_images"] == 2 * rep["trials"] + 2
    assert _is_png(tmp_path / "multihop.png")


def test_multihop_with_a_user_judge(tmp_path, capsys, monkeypatch):
    (tmp_path / "my_judges.py").write_text(textwrap.dedent("""
        def nodes_ok(image, prompt, csg):
            return {"score": 1.0, "nodes": {n["id"]: n["kind"] != "shadow" for n in csg["nodes"]}}
    """))
    monkeypatch.chdir(tmp_path)
    rc = lina_main(["--json", "diagnose", "multihop", "--n", "1", "--steps", "3", "--no-lina", "--no-figure",
                    "--judge", "my_judges:nodes_ok", "--out", str(tmp_path / "o")])
    assert rc == 0
    rep = json.loads(capsys.readouterr().out)
    # the judge says the shadow is wrong even on the reference: those trials are not valid, the rest pass
    assert rep["reference_pass"]["k"] == rep["trials"] - 1 and rep["overall"]["plain"]["rate"] == 1.0
    assert rep["figure"] is None and not (tmp_path / "o" / "multihop.png").exists()
    assert lina_main(["diagnose", "multihop", "--n", "1", "--judge", "my_judges:missing"]) != 0
    assert "my_judges:missing" in capsys.readouterr().err


def test_zero_step_along_P_is_the_plain_image(pw, items):
    sub = __import__("lina_nodes.inprocess.plan_build", fromlist=["x"]).encoder_subspace(pw.clip)
    c = pw.encode(items[0].prompt)
    assert torch.equal(ds.move(c, sub, "P", 0.0)[0][0], c[0][0])
    moved = ds.move(c, sub, "P", 0.5)[0][0]
    # a step along P changes the conditioning by half its norm and leaves its T component as it was
    assert float((moved - c[0][0]).norm(dim=-1).div(c[0][0].norm(dim=-1)).mean()) == pytest.approx(0.5, abs=1e-3)
    assert torch.allclose(ds._proj(moved, sub.T), ds._proj(c[0][0], sub.T), atol=1e-4)
    judge = dc.make_judge(None)
    rep = ds.measure(pw, items, judge, alphas=(0.0, 0.5), steps=6)
    plain = [judge(pw.sample(it.prompt, i, steps=6).image, it) for i, it in enumerate(items)]
    zero = next(r for r in rep["along"]["P"] if r["alpha"] == 0.0)
    assert zero["score"]["rate"] == round(float(np.mean([p["score"] for p in plain])), 4)
    assert zero["delta_physics"]["delta"] == 0.0


def test_cli_subspace(tmp_path, capsys):
    rc = lina_main(["--json", "diagnose", "subspace", "--n", "2", "--steps", "4", "--alphas", "0,0.5",
                    "--out", str(tmp_path)])
    assert rc == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["judged_images"] == 2 * 3 and set(rep["along"]) == {"P", "T"}
    for which in ("P", "T"):
        for row in rep["along"][which]:
            for key in ("physics", "texture", "score"):
                _check_rate(row[key])
            assert set(row["delta_physics"]) == {"delta", "ci95", "n"}
    g = rep["geometry"]
    assert all(abs(a - 90.0) < 0.01 for a in g["principal_angles_P_T_deg"])     # P is orthogonalised against T
    assert g["variance_explained"]["texture_pair_differences"]["T"] > 0.99
    assert _is_png(tmp_path / "subspace.png") and (tmp_path / "subspace.json").is_file()
    assert lina_main(["diagnose", "subspace", "--alphas", "x"]) != 0


def test_cli_knee_in_the_family_and_as_the_old_alias(tmp_path, capsys):
    rc = lina_main(["--json", "diagnose", "knee", "--n", "1", "--steps", "4", "--swaps", "0,0.5,1",
                    "--out", str(tmp_path / "d")])
    assert rc == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["diagnostic"] == "knee" and len(rep["prompt_swap"]["ci95"]) == 3
    assert all(lo <= s <= hi for s, (lo, hi) in zip(rep["x0_probe"]["score"], rep["x0_probe"]["ci95"]))
    assert _is_png(tmp_path / "d" / "knee.png")
    assert lina_main(["knee", "--n", "1", "--steps", "3", "--swaps", "0,0.5,1", "--no-figure",
                      "--out", str(tmp_path / "k")]) == 0
    assert (tmp_path / "k" / "knee.json").is_file() and not (tmp_path / "k" / "knee.png").exists()


def test_subspace_and_multihop_on_a_checkpoint_with_a_user_judge(tmp_path, capsys, monkeypatch):
    from lina_nodes.devtools.tiny_models import build
    from lina_nodes.server.runtime import find_comfyui

    rep = build(find_comfyui(), tmp_path / "models", roles=["sd15_ckpt"])
    ckpt = str(tmp_path / "models" / rep["files"]["sd15_ckpt"])
    (tmp_path / "my_judge.py").write_text(textwrap.dedent("""
        def bright(image, prompt, csg):
            m = float(image.mean()) / 255.0
            return {"score": m, "physics": m, "texture": 1 - m,
                    "nodes": {n["id"]: True for n in (csg or {}).get("nodes", [])}}
    """))
    monkeypatch.chdir(tmp_path)
    assert lina_main(["--json", "diagnose", "subspace", "--checkpoint", ckpt, "--judge", "my_judge:bright", "--n", "1",
                      "--steps", "2", "--alphas", "0,0.5", "--no-figure", "--out", "s"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["geometry"]["width"] == 768 and out["along"]["P"][0]["physics"]["rate"] is not None
    assert lina_main(["--json", "diagnose", "multihop", "--checkpoint", ckpt, "--judge", "my_judge:bright", "--n", "1",
                      "--steps", "2", "--no-lina", "--no-figure", "--out", "m"]) == 0
    assert json.loads(capsys.readouterr().out)["overall"]["plain"]["rate"] == 1.0
    assert lina_main(["diagnose", "subspace", "--checkpoint", ckpt]) != 0
    assert "needs --judge" in capsys.readouterr().err
