"""Why the evaluation registers layouts: renders of the same prompt at another random layout, judged
against the first layout's CSG (fixed) and against the prompt (registered, 256 candidate layouts).

    .venv/bin/python benchmarks/judge_registration.py [--scenes 6000] [--pairs 300] [--size 64]

Draws the first --scenes training samples, groups them by prompt content, and for the first --pairs
contents with two scenes judges the second scene's image against the first. Prints the mean score per
category and overall, both ways. A perfect text-to-image model would score the "registered" figure.
"""
from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lina_nodes.physworld.dataset import BuildConfig, make_sample  # noqa: E402
from lina_nodes.physworld.judge import judge  # noqa: E402
from lina_nodes.physworld.register import content_key, judge_registered  # noqa: E402
from lina_nodes.physworld.scene import Scene  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenes", type=int, default=6000)
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--size", type=int, default=64)
    args = ap.parse_args()
    t = time.perf_counter()
    cfg = BuildConfig(size=args.size, masks=False)
    by = collections.defaultdict(list)
    for i in range(args.scenes):
        s = make_sample("train", i, cfg)
        by[content_key(Scene.from_dict(s.record["scene"]))].append(s)
    pairs = [(v[0], v[1]) for v in by.values() if len(v) >= 2][: args.pairs]
    fixed, reg = collections.defaultdict(list), collections.defaultdict(list)
    for a, b in pairs:
        cat = a.record["category"]
        for d, score in ((fixed, judge(b.image, a.record["csg"]).score),
                         (reg, judge_registered(b.image, a.record["scene"]).score)):
            d[cat].append(score)
            d["ALL"].append(score)
    print(f"{len(pairs)} pairs (same prompt content, two random layouts) from {args.scenes} training scenes, "
          f"{args.size}px ({time.perf_counter() - t:.0f} s)")
    print(f"{'category':12s} {'n':>4s} {'fixed layout':>13s} {'registered':>11s}")
    for c in sorted(fixed, key=lambda c: (c == "ALL", c)):
        print(f"{c:12s} {len(fixed[c]):4d} {100 * np.mean(fixed[c]):12.1f}% {100 * np.mean(reg[c]):10.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
