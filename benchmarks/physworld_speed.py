"""PhysWorld speed: renderer and judge images per second, and the default dataset build time.

    .venv/bin/python benchmarks/physworld_speed.py [--n 2000] [--sizes 32,64,128] [--skip-build]

Targets (issue 4): renderer >= 500 img/s and judge >= 200 img/s at 64x64. Single process, this machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lina_nodes.physworld.csg_build import to_csg  # noqa: E402
from lina_nodes.physworld.dataset import BuildConfig, build  # noqa: E402
from lina_nodes.physworld.judge import judge  # noqa: E402
from lina_nodes.physworld.render import render  # noqa: E402
from lina_nodes.physworld.scene import CATEGORIES, sample_scene  # noqa: E402
from lina_nodes.physworld.templates import prompt_for  # noqa: E402


def rate(fn, items, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        for x in items:
            fn(x)
        best = min(best, time.perf_counter() - t)
    return len(items) / best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=2000, help="scenes per measurement")
    ap.add_argument("--sizes", default="32,64,128")
    ap.add_argument("--skip-build", action="store_true")
    args = ap.parse_args()
    scenes = [sample_scene(i, CATEGORIES[i % len(CATEGORIES)]) for i in range(args.n)]
    out = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpu", "n": args.n}
    out["scene_sample_prompt_csg_per_s"] = round(rate(lambda i: to_csg(sample_scene(i, CATEGORIES[i % 7]),
                                                                       prompt_for(sample_scene(i, CATEGORIES[i % 7]))),
                                                      range(args.n), 1), 1)
    for s in (int(v) for v in args.sizes.split(",")):
        out[f"render_img_per_s_{s}"] = round(rate(lambda sc: render(sc, s), scenes), 1)
    pairs = [(render(sc, 64)[0], to_csg(sc)) for sc in scenes]
    out["judge_img_per_s_64"] = round(rate(lambda p: judge(*p), pairs), 1)
    for s in (int(v) for v in args.sizes.split(",") if int(v) != 64):
        pr = [(render(sc, s)[0], to_csg(sc)) for sc in scenes[: max(200, args.n // 4)]]
        out[f"judge_img_per_s_{s}"] = round(rate(lambda p: judge(*p), pr, 1), 1)
    if not args.skip_build:
        d = Path(tempfile.mkdtemp(prefix="physworld-bench-"))
        try:
            cfg = BuildConfig()
            t = time.perf_counter()
            build(d, cfg)
            out["default_build"] = {"config": {k: cfg.to_dict()[k] for k in ("size", "train", "id_test", "ood_test",
                                                                             "masks")},
                                    "seconds": round(time.perf_counter() - t, 1),
                                    "bytes_on_disk": sum(p.stat().st_size for p in d.iterdir())}
        finally:
            shutil.rmtree(d, ignore_errors=True)
    out["targets_met_64"] = {"render>=500/s": out["render_img_per_s_64"] >= 500,
                             "judge>=200/s": out["judge_img_per_s_64"] >= 200}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
