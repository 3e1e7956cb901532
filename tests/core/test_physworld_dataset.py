"""PhysWorld dataset builder (biased split), PAP parquet interchange and the `lina physworld` CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest

from lina_nodes.cli import main as cli_main
from lina_nodes.errors import PhysWorldError
from lina_nodes.physworld.dataset import BuildConfig, build, iter_split, load_split, read_manifest
from lina_nodes.physworld.judge import judge
from lina_nodes.physworld.render import render
from lina_nodes.physworld.scene import Scene, sample_scene
from lina_nodes.physworld.split import DEFAULT_SPLIT, RULES, SPLIT_RULES, ood_rules, rules


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    d = tmp_path_factory.mktemp("pw")
    build(d, BuildConfig(size=32, train=140, id_test=35, ood_test=50, shard=60))
    return d


def test_manifest_and_shards(ds):
    m = read_manifest(ds)
    assert m["size"] == 32 and {k: v["n"] for k, v in m["splits"].items()} == {"train": 140, "id_test": 35,
                                                                                  "ood_test": 50}
    assert len(m["splits"]["train"]["shards"]) == 3
    imgs, recs = load_split(ds, "train")
    assert imgs.shape == (140, 32, 32, 3) and imgs.dtype == np.uint8 and len(recs) == 140
    assert {r["category"] for r in recs} == {"shadow", "reflection", "support", "container", "spatial", "region",
                                             "action"}


def test_split_is_biased_as_documented(ds):
    train = [r for _, r in iter_split(ds, "train")]
    idt = [r for _, r in iter_split(ds, "id_test")]
    ood = [r for _, r in iter_split(ds, "ood_test")]
    assert all(not r["ood_rules"] for r in train + idt)
    assert all(r["ood_rules"] for r in ood)
    assert {x for r in ood for x in r["ood_rules"]} == set(RULES)
    seeds = [{r["seed"] for r in s} for s in (train, idt, ood)]
    assert not (seeds[0] & seeds[1]) and not (seeds[0] & seeds[2]) and not (seeds[1] & seeds[2])
    # the rules are about combinations: each held-out factor value is seen in training
    scenes = [Scene.from_dict(r["scene"]) for r in train]
    assert any(s.reflector and s.reflector["kind"] == "mirror" and s.reflector["size"] == "small" for s in scenes)
    assert any(s.reflector and s.reflector["placement"].startswith("edge") for s in scenes)
    assert any(s.light and s.light["side"] == "right" for s in scenes)
    assert any(s.container and s.container.get("material") == "dirt" for s in scenes)
    assert any(s.objects and s.objects[0].shape == "cone" for s in scenes)   # cones: seen, never reflected
    assert any(s.reflector for s in scenes)


def test_ood_rules_examples():
    assert DEFAULT_SPLIT == "v2" and set(RULES) == set(SPLIT_RULES["v2"])
    edge = dict(reflector="mirror", mirror_size="small", placement="edge")
    assert ood_rules(sample_scene(0, "reflection", shape="ball", **edge)) == ["small_mirror_edge"]
    assert ood_rules(sample_scene(0, "reflection", shape="cone", **edge)) == ["small_mirror_edge", "cone_reflection"]
    assert ood_rules(sample_scene(0, "reflection", shape="cone", **edge), "v1") == ["small_mirror_edge"]
    assert ood_rules(sample_scene(0, "reflection", shape="ball", reflector="mirror", mirror_size="large",
                                  placement="edge")) == []
    assert ood_rules(sample_scene(0, "reflection", shape="cone", reflector="water")) == ["cone_reflection"]
    # v1's two rules that the v1 model composed anyway are in-distribution in v2
    assert ood_rules(sample_scene(0, "shadow", side="right", shape="cone")) == []
    assert ood_rules(sample_scene(0, "shadow", side="right", shape="cone"), "v1") == ["light_right_cone_cylinder"]
    assert ood_rules(sample_scene(0, "container", material="dirt", fill_phrase="more_than"), "v1") == \
        ["more_dirt_than_empty"]
    assert ood_rules(sample_scene(0, "container", material="dirt", fill_phrase="more_than")) == []
    assert ood_rules(sample_scene(0, "shadow", side="right", shape="ball"), "v1") == []
    assert ood_rules(sample_scene(0, "action", reverse=True)) == ["reversed_action"]


def test_split_versions_build_their_own_ood_tests(tmp_path):
    with pytest.raises(PhysWorldError, match="split version 'v9'"):
        rules("v9")
    build(tmp_path / "v1", BuildConfig(size=16, train=20, id_test=5, ood_test=10, split="v1"))
    m = read_manifest(tmp_path / "v1")
    assert m["split_version"] == "v1" and set(m["rules"]) == set(SPLIT_RULES["v1"])
    ood = [r for _, r in iter_split(tmp_path / "v1", "ood_test")]
    assert {x for r in ood for x in r["ood_rules"]} == set(SPLIT_RULES["v1"])
    train = [r for _, r in iter_split(tmp_path / "v1", "train")]
    assert not any(r["ood_rules"] for r in train)


def test_records_reproduce_images_and_masks(ds):
    for k, (img, rec, masks) in enumerate(iter_split(ds, "ood_test", with_masks=True)):
        again, m2 = render(Scene.from_dict(rec["scene"]), 32)
        assert np.array_equal(img, again)
        assert set(masks) == set(m2) and all(np.array_equal(masks[n], m2[n]) for n in masks)
        assert rec["prompt"] == rec["csg"]["prompt"]
        if k > 10:
            break


def test_ground_truth_passes_the_judge(ds):
    scores = [judge(img, rec["csg"]).score for img, rec in iter_split(ds, "id_test")]
    assert np.mean(scores) >= 0.98


def test_pap_round_trip(ds, tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from lina_nodes.physworld.pap import COLUMNS, export_dataset, mask_reflection_check, read_pap
    out = tmp_path / "ood.parquet"
    assert export_dataset(ds, out, "ood_test", limit=20) == 20
    assert tuple(pq.read_schema(out).names) == COLUMNS
    rows = list(read_pap(out))
    src = [(img, rec) for _, (img, rec) in zip(range(20), iter_split(ds, "ood_test"))]
    for row, (img, rec) in zip(rows, src):
        assert np.array_equal(row["image"], img)
        assert row["prompt"] == rec["prompt"] and row["category"] == rec["category"]
        assert row["csg"].to_dict() == rec["csg"]
        has_obj = any(n["kind"] in ("object", "agent") for n in rec["csg"]["nodes"])
        assert (row["mask_object"] is not None and row["mask_object"].sum() > 0) == has_obj
        assert judge(row["image"], row["csg"]).score >= 0.8
    mirror_rows = [r for r in rows if r["mask_mirror"] is not None and r["metadata"]["csg"]["meta"]["category"] ==
                   "reflection"]
    assert mirror_rows and all(mask_reflection_check(r)["passed"] for r in mirror_rows)


def test_bad_dataset_dir_is_a_user_error(tmp_path):
    with pytest.raises(PhysWorldError, match="manifest"):
        read_manifest(tmp_path)


def test_cli_render_then_judge(tmp_path, capsys):
    out = tmp_path / "r"
    assert cli_main(["physworld", "render", "--out", str(out), "--count", "4", "--category", "shadow",
                     "--set", "side=right", "--size", "48", "--masks"]) == 0
    assert len(list(out.glob("shadow_*.png"))) == 4 + len(list(out.glob("*.mask.*.png")))
    capsys.readouterr()
    assert cli_main(["physworld", "judge", str(out)]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["images"] == 4 and res["physical_alignment_score"] >= 0.95
    assert "shadow_opposite_light" in res["constraints"]


def test_cli_build_and_judge_dataset(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    d = tmp_path / "ds"
    assert cli_main(["--json", "physworld", "build", str(d), "--size", "32", "--train", "14", "--id-test", "7",
                     "--ood-test", "10", "--pap"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["splits"] == {"train": 14, "id_test": 7, "ood_test": 10} and len(info["pap"]) == 2
    assert cli_main(["physworld", "judge", str(d), "--split", "ood_test"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["images"] == 10 and "split:ood_test" in res["groups"]
    assert cli_main(["physworld", "judge", str(d / "ood_test.parquet")]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["images"] == 10 and any(k.startswith("ood_rule:") for k in res["groups"])


def test_cli_errors(tmp_path, capsys):
    assert cli_main(["physworld", "judge", str(tmp_path / "nope")]) == 2
    assert cli_main(["physworld", "render", "--out", str(tmp_path), "--category", "volcano", "--count", "1"]) == 2
    assert "category" in capsys.readouterr().err
