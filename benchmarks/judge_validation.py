"""PhysWorld judge validation: clean-render pass rate, violations caught per corruption type, and false
alarms on the untouched constraints of the same image; clean and under blur, noise, 2-4 px shifts, all three.

    .venv/bin/python benchmarks/judge_validation.py [--scenes 700] [--sizes 64,128,32] [--seed 0] [--json] [--register 256]

--register K judges every image against the nearest of K layouts of its prompt (layout registration,
as `lina physworld eval` does for generated images).

Thresholds (issue 4): clean >= 99% pass; each violation >= 95% caught with < 2% false alarms.
Exit code 1 when a threshold fails at a size listed in --required (default 64,128).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lina_nodes.physworld.validation import MODES, format_report, validate  # noqa: E402


def check(res) -> list[str]:
    bad = []
    for m, r in res.items():
        if r["clean_pass"] < 0.99:
            bad.append(f"{m}: clean pass {r['clean_pass']:.4f} < 0.99")
        for k, v in r["kinds"].items():
            if v["caught"] < 0.95:
                bad.append(f"{m}: {k} caught {v['caught']:.4f} < 0.95")
            if v["false_alarm"] >= 0.02:
                bad.append(f"{m}: {k} false alarms {v['false_alarm']:.4f} >= 0.02")
    return bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenes", type=int, default=700, help="scenes per size (cycled over the 7 categories)")
    ap.add_argument("--sizes", default="64,128,32")
    ap.add_argument("--required", default="64,128", help="sizes whose thresholds decide the exit code")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--register", type=int, default=0, help="layout registration with K candidates (0 = off)")
    args = ap.parse_args()
    all_res, failed = {}, False
    for s in (int(v) for v in args.sizes.split(",")):
        t = time.perf_counter()
        res = validate(args.scenes, s, MODES, args.seed, register=args.register)
        bad = check(res)
        all_res[s] = {"result": res, "violations_of_thresholds": bad, "seconds": round(time.perf_counter() - t, 1)}
        if not args.json:
            print(f"=== {s}x{s}, {args.scenes} scenes, seed {args.seed}, register {args.register} ({all_res[s]['seconds']} s)")
            print(format_report(res))
            print("thresholds: " + ("all met" if not bad else "NOT MET: " + "; ".join(bad)))
        if bad and str(s) in args.required.split(","):
            failed = True
    if args.json:
        print(json.dumps(all_res, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
