"""Parse latency of the offline CSG parser: median and p99 per prompt (ms).

    .venv/bin/python benchmarks/csg_latency.py [--repeats 20] [--no-layout] [--json]

Prompts: every prompt of the gold and held-out sets (248; `--everyday`: also csg_everyday_*.jsonl), each parsed
--repeats times after one warm-up pass (knowledge file cached, as in a running ComfyUI). Full
pipeline: chunking, parsing, physics rules, constraints, layout, and the CSG object (no JSON
validation, which `CSG.from_json` adds; its cost is reported separately). Wall-clock and CPU time
are both reported: on a busy shared machine the wall-clock tail is mostly time the process was
not running.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lina_nodes.csg.model import CSG  # noqa: E402
from lina_nodes.csg.parser import parse  # noqa: E402


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _prompt_files(everyday: bool) -> list:
    """The hand-written gold and held-out sets (248 prompts); with ``everyday`` also issue 18's sets."""
    data = ROOT / "tests" / "data"
    files = sorted(data.glob("csg_gold*.jsonl")) + sorted(data.glob("csg_heldout*.jsonl"))
    return files + (sorted(data.glob("csg_everyday_*.jsonl")) if everyday else [])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--no-layout", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--everyday", action="store_true",
                    help="also the everyday sets and GenEval's prompts (tests/data/csg_everyday_*.jsonl)")
    args = ap.parse_args()
    prompts = []
    for path in _prompt_files(args.everyday):
        prompts += [(lambda d: d.get("p") or d["prompt"])(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
    for p in prompts:  # warm-up
        parse(p)
    times, vtimes, cpu = [], [], []
    for _ in range(args.repeats):
        for p in prompts:
            t0, c0 = time.perf_counter(), time.process_time()
            g = parse(p, layout=not args.no_layout)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            text = g.to_json()
            t0 = time.perf_counter()
            CSG.from_json(text)
            vtimes.append((time.perf_counter() - t0) * 1000)
    res = {"prompts": len(prompts), "repeats": args.repeats, "samples": len(times),
           "parse_median_ms": statistics.median(times), "parse_p99_ms": pct(times, 0.99),
           "parse_max_ms": max(times), "parse_cpu_median_ms": statistics.median(cpu),
           "parse_cpu_p99_ms": pct(cpu, 0.99), "from_json_validate_median_ms": statistics.median(vtimes),
           "from_json_validate_p99_ms": pct(vtimes, 0.99), "python": sys.version.split()[0]}
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"{len(prompts)} prompts x {args.repeats} repeats = {len(times)} parses")
        print(f"parse (text -> CSG with implied nodes, constraints, layout): median {res['parse_median_ms']:.3f} ms, "
              f"p99 {res['parse_p99_ms']:.3f} ms, max {res['parse_max_ms']:.3f} ms (wall clock)")
        print(f"parse, CPU time of this process: median {res['parse_cpu_median_ms']:.3f} ms, "
              f"p99 {res['parse_cpu_p99_ms']:.3f} ms (the wall-clock tail includes preemption on a shared machine)")
        print(f"CSG.from_json (JSON -> validated CSG): median {res['from_json_validate_median_ms']:.3f} ms, "
              f"p99 {res['from_json_validate_p99_ms']:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
