"""Paired bootstrap 95% interval of the score difference between two `lina physworld eval --json` reports of the
same prompts and seeds (e.g. LINA vs plain):  .venv/bin/python benchmarks/paired_ci.py A.json B.json"""
from __future__ import annotations

import json
import sys

import numpy as np


def scores(path) -> dict:
    rep = json.load(open(path))
    return {(d["prompt"], d["seed"]): d["score"] for d in rep["images_detail"]}


def main(argv=None) -> int:
    a_path, b_path = (argv or sys.argv[1:])[:2]
    a, b = scores(a_path), scores(b_path)
    keys = sorted(set(a) & set(b))
    d = np.array([a[k] - b[k] for k in keys])
    rng = np.random.default_rng(0)
    boot = rng.choice(d, size=(10000, len(d)), replace=True).mean(1)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    print(f"{len(keys)} paired images: mean difference {100 * d.mean():+.1f} points, 95% CI [{100 * lo:+.1f}, {100 * hi:+.1f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
