"""Foundation benchmark: set-up time (cold and warm), server start time, and the LINA Causal Scheduler's
cost per call against ComfyUI's BasicScheduler, side by side in the same run.

    .venv/bin/python benchmarks/foundation_bench.py [--skip-cold] [--starts 3] [--calls 2000]

The cold set-up runs in a fresh `git clone` of this repo in a temp dir (it never touches .venv/).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(cmd, cwd) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def bench_setup() -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="lina-bench-"))
    try:
        subprocess.run(["git", "clone", "-q", str(ROOT), str(tmp / "repo")], check=True)
        repo = tmp / "repo"
        cold = timed(["python3", "scripts/setup_env.py", "--quiet"], repo)
        warm = [timed(["python3", "scripts/setup_env.py", "--quiet"], repo) for _ in range(3)]
        return {"setup_cold_s": round(cold, 1), "setup_warm_s": round(statistics.median(warm), 2)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_server(n: int) -> dict:
    from lina_nodes.server.runtime import ComfyServer

    times = []
    for _ in range(n):
        base = Path(tempfile.mkdtemp(prefix="lina-srv-"))
        t = time.perf_counter()
        server = ComfyServer(base_dir=base).start()
        times.append(time.perf_counter() - t)
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
    return {"server_start_s_median": round(statistics.median(times), 2), "server_start_s_all": [round(x, 2) for x in times]}


def bench_scheduler(calls: int) -> dict:
    from lina_nodes.inprocess.comfy_import import SamplingOnlyModel, import_comfy

    import_comfy()
    from comfy_extras.nodes_custom_sampler import BasicScheduler

    from lina_nodes.comfy_nodes.scheduler import LINACausalScheduler

    rows = []
    for fam, sched, steps in [("sd15", "karras", 20), ("sd15", "normal", 50), ("sd3", "simple", 20), ("wan21", "simple", 30)]:
        m = SamplingOnlyModel(fam)

        def per_call(fn):
            fn()  # warm-up
            best = []
            for _ in range(3):
                t = time.perf_counter()
                for _ in range(calls):
                    fn()
                best.append((time.perf_counter() - t) / calls)
            return min(best)

        base = per_call(lambda: BasicScheduler.execute(m, sched, steps, 1.0))
        ours = per_call(lambda: LINACausalScheduler.execute(m, steps, sched, 0.0, 0.35, 1.0))
        rows.append({"family": fam, "scheduler": sched, "steps": steps, "basic_us": round(base * 1e6, 1),
                     "lina_us": round(ours * 1e6, 1), "ratio": round(ours / base, 2)})
    return {"scheduler": rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--skip-cold", action="store_true", help="skip the cold set-up (about 80 s)")
    ap.add_argument("--starts", type=int, default=3)
    ap.add_argument("--calls", type=int, default=500)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = {}
    if not args.skip_cold:
        res.update(bench_setup())
    res["setup_warm_here_s"] = round(timed(["python3", "scripts/setup_env.py", "--quiet"], ROOT), 2)
    res.update(bench_server(args.starts))
    res.update(bench_scheduler(args.calls))
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    for k, v in res.items():
        if k != "scheduler":
            print(f"{k:28s} {v}")
    print(f"\n{'family':8s} {'scheduler':10s} {'steps':>5s} {'Basic us':>10s} {'LINA us':>10s} {'ratio':>6s}")
    for r in res["scheduler"]:
        print(f"{r['family']:8s} {r['scheduler']:10s} {r['steps']:>5d} {r['basic_us']:>10.1f} {r['lina_us']:>10.1f} {r['ratio']:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
