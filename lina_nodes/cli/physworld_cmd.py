"""`lina physworld`: render scenes, build the biased dataset, judge images (JSON summary on stdout)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import CLIError, emit


def _bar(desc):
    def make(total):
        try:
            from tqdm import tqdm
        except ImportError:  # pragma: no cover
            return None
        return tqdm(total=total, desc=desc, file=sys.stderr, leave=False, dynamic_ncols=True,
                    disable=total is not None and total < 50)
    return make


def register(sub) -> None:
    from ..physworld.split import DEFAULT_SPLIT, SPLITS

    p = sub.add_parser("physworld", help="PhysWorld: procedural causal scenes, dataset and judge",
                       description="PhysWorld, the measurable world LINA is evaluated in: render scenes with masks and "
                                   "their true CSG, build the biased train / id_test / ood_test dataset, judge images.")
    ps = p.add_subparsers(dest="pw_command", metavar="ACTION")

    r = ps.add_parser("render", help="render scenes to PNG + JSON (prompt, CSG, scene)")
    r.add_argument("--out", default="physworld_render", help="output directory (default physworld_render)")
    r.add_argument("--category", default=None, help="shadow, reflection, support, container, spatial, region, action")
    r.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    r.add_argument("--count", type=int, default=8)
    r.add_argument("--size", type=int, default=64)
    r.add_argument("--masks", action="store_true", help="also write one PNG mask per CSG node")
    r.add_argument("--set", action="append", default=[], metavar="FACTOR=VALUE",
                   help="fix a scene factor, e.g. --set shape=cone --set side=right (repeatable)")
    r.set_defaults(func=run_render)

    b = ps.add_parser("build", help="build the dataset (train, id_test, ood_test shards)")
    b.add_argument("out", help="output directory")
    b.add_argument("--size", type=int, default=64)
    b.add_argument("--train", type=int, default=30000)
    b.add_argument("--id-test", type=int, default=1000)
    b.add_argument("--ood-test", type=int, default=1000)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--shard", type=int, default=5000, help="images per shard file")
    b.add_argument("--no-masks", action="store_true", help="do not store masks (smaller, faster)")
    b.add_argument("--rare", type=float, default=0.0, help="share of training scenes allowed to match an OOD rule")
    b.add_argument("--split", default=DEFAULT_SPLIT, choices=SPLITS,
                   help=f"OOD split version: which combinations training never shows (default {DEFAULT_SPLIT}; "
                        "docs/physworld.md)")
    b.add_argument("--pap", action="store_true", help="also export id_test and ood_test as PAP parquet files")
    b.set_defaults(func=run_build)

    j = ps.add_parser("judge", help="judge images against their CSGs; JSON summary to stdout",
                      description="PATH is a PhysWorld dataset directory, a directory of NAME.png + NAME.json "
                                  "(a CSG, or an object with a 'csg' key), or a PAP-layout .parquet file.")
    j.add_argument("path")
    j.add_argument("--split", default=None, help="dataset split(s), comma-separated (default: all)")
    j.add_argument("--limit", type=int, default=None, help="judge at most this many images per split")
    j.add_argument("--per-image", default=None, metavar="FILE", help="also write one JSON line of verdicts per image")
    j.set_defaults(func=run_judge)

    # the embedded text-to-image model (lina_nodes.physworld_model): train and evaluate
    from . import physworld_model_cmd as model_cli

    t = ps.add_parser("train", help="train the embedded PhysWorld text-to-image model (resumable)",
                      description="Train the tiny PhysWorld text-to-image model on the PhysWorld training split, "
                                  "with periodic checkpoints; re-running the same command resumes.")
    model_cli.add_train_args(t)
    t.set_defaults(func=model_cli.train_main)
    e = ps.add_parser("eval", help="generate with the PhysWorld model and score with the judge (JSON + contact sheet)")
    model_cli.add_eval_args(e)
    e.set_defaults(func=model_cli.eval_main)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


def _parse_sets(items):
    out = {}
    for s in items:
        if "=" not in s:
            raise CLIError(f"--set expects FACTOR=VALUE, got {s!r}")
        k, v = s.split("=", 1)
        out[k.strip()] = {"true": True, "false": False}.get(v.strip().lower(), v.strip())
    return out


def run_render(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image

    from ..errors import LinaError
    from ..physworld.csg_build import to_csg
    from ..physworld.render import render
    from ..physworld.scene import sample_scene
    from ..physworld.split import ood_rules
    from ..physworld.templates import prompt_for

    if args.count < 1 or not 16 <= args.size <= 512:
        raise CLIError("--count must be >= 1 and --size 16..512")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    factors = _parse_sets(args.set)
    bar = _bar("render")(args.count)
    files = []
    try:
        for k in range(args.count):
            sc = sample_scene(args.seed + k, args.category, **factors)
            prompt = prompt_for(sc)
            csg = to_csg(sc, prompt)
            img, masks = render(sc, args.size)
            name = f"{sc.category}_{sc.seed:06d}"
            Image.fromarray(img).save(out / f"{name}.png")
            meta = {"prompt": prompt, "csg": csg.to_dict(), "scene": sc.to_dict(), "ood_rules": ood_rules(sc)}
            (out / f"{name}.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
            if args.masks:
                for nid, m in masks.items():
                    Image.fromarray(m.astype(np.uint8) * 255).save(out / f"{name}.mask.{nid}.png")
            files.append({"image": str(out / f"{name}.png"), "prompt": prompt})
            if bar is not None:
                bar.update(1)
    except LinaError as e:
        raise CLIError(str(e)) from e
    finally:
        if bar is not None:
            bar.close()
    emit(args, {"out": str(out), "images": files},
         "\n".join(f"{f['image']}: {f['prompt']}" for f in files))
    return 0


def run_build(args: argparse.Namespace) -> int:
    from ..errors import LinaError
    from ..physworld.dataset import BuildConfig, build

    cfg = BuildConfig(size=args.size, train=args.train, id_test=args.id_test, ood_test=args.ood_test,
                      seed=args.seed, shard=max(1, args.shard), masks=not args.no_masks, rare=args.rare,
                      split=args.split)
    if min(cfg.train, cfg.id_test, cfg.ood_test) < 0:
        raise CLIError("split sizes must be >= 0")
    try:
        man = build(args.out, cfg, progress=_bar("build"))
        if args.pap:
            from ..physworld.pap import export_dataset
            for split in ("id_test", "ood_test"):
                export_dataset(args.out, Path(args.out) / f"{split}.parquet", split, progress=_bar(f"pap {split}"))
            man["pap"] = [str(Path(args.out) / f"{s}.parquet") for s in ("id_test", "ood_test")]
    except LinaError as e:
        raise CLIError(str(e)) from e
    data = {"out": args.out, "size": man["size"], "splits": {k: v["n"] for k, v in man["splits"].items()},
            "build_seconds": man["build_seconds"], "pap": man.get("pap")}
    emit(args, data, f"PhysWorld dataset in {args.out}: " + ", ".join(f"{k}={v}" for k, v in data["splits"].items())
         + f" at {man['size']}x{man['size']} in {man['build_seconds']} s")
    return 0


def _judge_items(path: Path, args):
    """Yield (image, csg or None, groups, row-or-None, name)."""
    from ..csg.model import CSG
    if path.is_file() and path.suffix == ".parquet":
        from ..physworld.pap import read_pap
        for row in read_pap(path, args.limit):
            groups = [f"category:{row.get('category')}"]
            meta = row["metadata"]
            if meta.get("split"):
                groups.append(f"split:{meta['split']}")
            for rule in meta.get("ood_rules", []) or []:
                groups.append(f"ood_rule:{rule}")
            yield row["image"], row["csg"], groups, row, row.get("id")
        return
    if (path / "manifest.json").is_file():
        from ..physworld.dataset import iter_split, read_manifest
        man = read_manifest(path)
        splits = args.split.split(",") if args.split else list(man["splits"])
        for split in splits:
            for k, (img, rec) in enumerate(iter_split(path, split)):
                if args.limit is not None and k >= args.limit:
                    break
                groups = [f"split:{split}", f"category:{rec['category']}"] + [f"ood_rule:{r}" for r in rec["ood_rules"]]
                yield img, CSG.from_dict(rec["csg"]), groups, None, f"{split}/{rec['index']}"
        return
    if path.is_dir():
        import numpy as np
        from PIL import Image
        pngs = sorted(p for p in path.glob("*.png") if ".mask." not in p.name)
        if args.limit is not None:
            pngs = pngs[: args.limit]
        for p in pngs:
            side = p.with_suffix(".json")
            if not side.is_file():
                yield None, None, [], None, p.name
                continue
            meta = json.loads(side.read_text(encoding="utf-8"))
            csg = CSG.from_dict(meta["csg"] if "csg" in meta else meta)
            img = np.asarray(Image.open(p).convert("RGB"))
            groups = [f"category:{csg.meta.get('category', 'unknown')}"] + [f"ood_rule:{r}" for r in meta.get("ood_rules", [])]
            yield img, csg, groups, None, p.name
        return
    raise CLIError(f"{path}: not a dataset directory, image directory or .parquet file")


def run_judge(args: argparse.Namespace) -> int:
    from ..errors import LinaError
    from ..physworld.judge import judge
    from ..physworld.pap import mask_reflection_check
    from ..physworld.summary import Summary

    path = Path(args.path)
    if not path.exists():
        raise CLIError(f"{path} does not exist")
    summ = Summary()
    per = open(args.per_image, "w", encoding="utf-8") if args.per_image else None
    bar = _bar("judge")(None)
    try:
        for img, csg, groups, row, name in _judge_items(path, args):
            if img is None or csg is None:
                if row is not None:
                    summ.add_mask_check(mask_reflection_check(row))
                else:
                    summ.skipped += 1
                continue
            if img.shape[0] != img.shape[1]:
                summ.skipped += 1
                continue
            j = judge(img, csg)
            summ.add(j, groups)
            if per:
                per.write(json.dumps({"name": name, **j.to_dict()}, default=str) + "\n")
            if bar is not None:
                bar.update(1)
    except LinaError as e:
        raise CLIError(str(e)) from e
    finally:
        if per:
            per.close()
        if bar is not None:
            bar.close()
    data = summ.to_dict()
    data["skipped"] = summ.skipped
    print(json.dumps(data, indent=2))
    return 0
