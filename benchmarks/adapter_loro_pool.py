"""Leave one rule out on the adapter's own training pool (issue 13): for each held-out rule, the head fitted
without that rule's searched prompts, scored from their searched rows, with each outside-support rule side by
side. This is the table ``config.outside_support`` was chosen on; it never samples or reads evaluation prompts.

    .venv/bin/python benchmarks/adapter_loro_pool.py --run out/adapter_v4 \
        [--with-run out/adapter_v4_seed1 --with-run out/adapter_v4_seed2] [--set FIELD=JSON ...]

``--run`` / ``--with-run``: search runs of one pool and action space (other seeds), as ``lina adapter train
--fit-only``; ``--set``: config fields that differ from the defaults (e.g. the pools of a larger run). Prints,
per rule, the prior, the adapter for each outside-support rule (and the actions it chose) and the oracle.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RULES = ("small_mirror_edge", "cone_reflection", "reversed_action", "sand_close_to_water")


def held_out_table(cfg, run: str, with_runs=()) -> dict:
    """{rule: {outside_support: held_out report}} from one set of search rows (features computed once)."""
    from dataclasses import replace

    from lina_nodes.intervention.adapter import OUTSIDE_SUPPORT
    from lina_nodes.training.fit import fit_head
    from lina_nodes.training.train import searched_features

    rows, feats, _ = searched_features(cfg, run, with_runs=with_runs)
    out: dict = {}
    for rule in RULES:
        for mode in OUTSIDE_SUPPORT:
            rep = fit_head(replace(cfg, holdout={"rule": rule}, outside_support=mode), rows, feats)[3]
            out.setdefault(rule, {})[mode] = rep.get("held_out")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default="out/adapter_v4")
    ap.add_argument("--with-run", action="append", default=[])
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=JSON")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from lina_nodes.training.config import TrainConfig

    base = TrainConfig().to_dict()
    for item in args.set:
        key, _, val = item.partition("=")
        base[key] = json.loads(val)
    table = held_out_table(TrainConfig.from_dict(base), args.run, args.with_run)
    if args.json:
        print(json.dumps(table, indent=1))
        return 0
    print(f"{'rule left out':<22}{'n':>4} {'prior':>6} {'outside: prior':>15} {'outside: add':>13} {'oracle':>7}")
    for rule, modes in table.items():
        p, a = modes["prior"], modes["add"]
        if p is None:
            print(f"{rule:<22} no searched prompt of this rule")
            continue
        gain = {k: 100 * (m["adapter"] - m["prior"]) for k, m in modes.items()}
        print(f"{rule:<22}{p['n']:>4} {100 * p['prior']:>6.1f} {100 * p['adapter']:>8.1f} ({gain['prior']:+.1f})"
              f" {100 * a['adapter']:>6.1f} ({gain['add']:+.1f}) {100 * p['oracle']:>7.1f}")
        print(f"{'':<26}chosen with 'add': {a['chosen']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
