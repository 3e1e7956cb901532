"""Layout consistency: the share of spatial edges whose relation holds on the solved boxes.

    .venv/bin/python benchmarks/csg_layout_check.py [--seeds 3] [--verbose]

Prompts: tests/data/csg_*.jsonl (gold and held-out sets), each parsed with seeds 0..N-1. Checks
(normalised boxes, origin top-left): left_of a.x1 <= b.x0; right_of a.x0 >= b.x1; above a.y1 <= b.y0;
below a.y0 >= b.y1; under: a's centre lower than b's; on: a's bottom within 0.02 of b's top and a
inside b horizontally (on a wall: inside the wall); in/inside: a's box inside b's; in_front_of:
a's bottom at or below b's; behind: the reverse; near/next_to/close_to: gap <= 0.1; far_from:
centres >= 0.4 apart; between: a's centre between the two references (inside b for "between two
trees").
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lina_nodes.csg.layout import VERTICAL_SURFACES  # noqa: E402
from lina_nodes.csg.parser import parse  # noqa: E402

E = 1e-6


def holds(rel, a, b, t, b_name):
    cx = lambda r: (r[0] + r[2]) / 2  # noqa: E731
    cy = lambda r: (r[1] + r[3]) / 2  # noqa: E731
    inside = a[0] >= b[0] - E and a[2] <= b[2] + E and a[1] >= b[1] - E and a[3] <= b[3] + E
    if rel == "on":
        return inside if b_name in VERTICAL_SURFACES else (abs(a[3] - b[1]) < 0.02 and a[0] >= b[0] - E and a[2] <= b[2] + E)
    return {
        "left_of": lambda: a[2] <= b[0] + E, "right_of": lambda: a[0] >= b[2] - E,
        "above": lambda: a[3] <= b[1] + E, "below": lambda: a[1] >= b[3] - E, "under": lambda: cy(a) > cy(b),
        "in": lambda: inside, "inside": lambda: inside, "in_front_of": lambda: a[3] >= b[3] - E,
        "behind": lambda: a[3] <= b[3] + E,
        "near": lambda: max(a[0] - b[2], b[0] - a[2], a[1] - b[3], b[1] - a[3]) <= 0.1,
        "next_to": lambda: max(a[0] - b[2], b[0] - a[2], a[1] - b[3], b[1] - a[3]) <= 0.1,
        "close_to": lambda: max(a[0] - b[2], b[0] - a[2], a[1] - b[3], b[1] - a[3]) <= 0.1,
        "far_from": lambda: abs(cx(a) - cx(b)) >= 0.4,
        "between": lambda: (b[0] <= cx(a) <= b[2]) if t is None else min(cx(b), cx(t)) <= cx(a) <= max(cx(b), cx(t)),
    }.get(rel, lambda: True)()


def _prompt_files(everyday: bool) -> list:
    """The hand-written gold and held-out sets (248 prompts); with ``everyday`` also issue 18's sets."""
    data = ROOT / "tests" / "data"
    files = sorted(data.glob("csg_gold*.jsonl")) + sorted(data.glob("csg_heldout*.jsonl"))
    return files + (sorted(data.glob("csg_everyday_*.jsonl")) if everyday else [])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--everyday", action="store_true",
                    help="also the everyday sets and GenEval's prompts (tests/data/csg_everyday_*.jsonl)")
    args = ap.parse_args()
    prompts = []
    for path in _prompt_files(args.everyday):
        prompts += [(lambda d: d.get("p") or d["prompt"])(json.loads(x)) for x in path.read_text().splitlines() if x.strip()]
    total = good = 0
    per_rel: dict[str, list[int]] = {}
    misses = []
    for p in prompts:
        for seed in range(args.seeds):
            g = parse(p, seed=seed)
            by = {n.id: n for n in g.nodes}
            for e in g.edges:
                if e.kind != "spatial" or e.negated or by[e.src].box is None or by[e.dst].box is None:
                    continue
                t = by[e.attrs["third"]].box if e.attrs.get("third") in by else None
                ok = holds(e.relation, by[e.src].box, by[e.dst].box, t, by[e.dst].name)
                total += 1
                good += ok
                per_rel.setdefault(e.relation, [0, 0])
                per_rel[e.relation][0] += ok
                per_rel[e.relation][1] += 1
                if not ok:
                    misses.append(f"seed {seed}: {p!r}: {e.src} {e.relation} {e.dst}")
    print(f"{len(prompts)} prompts x {args.seeds} seeds: {good}/{total} spatial relations hold on the boxes "
          f"({good / max(1, total):.3f})")
    for rel, (k, n) in sorted(per_rel.items()):
        print(f"  {rel:<12} {k:>4}/{n:<4}")
    if args.verbose:
        print("\n".join(misses))
    edge_placements()
    return 0


def on_at_edge(a, b) -> bool:
    """a stands on b (bottom within 0.05 of b's top) and covers one of b's side edges or touches it."""
    return abs(a[3] - b[1]) <= 0.05 and a[0] <= b[2] and a[2] >= b[0] and (a[0] <= b[0] + 0.05 or a[2] >= b[2] - 0.05)


def edge_placements(n: int = 200) -> None:
    """PhysWorld OOD prompts 0..n-1 that place an object "at / near the edge of" something: how often the parsed
    layout puts it on that thing at its edge, as the true scene (and ordinary English) does."""
    from lina_nodes.physworld_model.data import eval_samples

    got = true = total = 0
    for s in eval_samples("ood_test", n):
        p = s.record["prompt"]
        if " edge of " not in p and " its edge" not in p:
            continue
        g = parse(p)
        by = {x.id: x for x in g.nodes}
        tb = {x["id"]: x.get("box") for x in s.record["csg"]["nodes"]}
        for e in g.edges:
            if e.kind == "spatial" and e.relation in ("near", "close_to") and by[e.dst].name == "mirror":
                total += 1
                got += on_at_edge(by[e.src].box, by[e.dst].box)
                true += bool(tb.get(e.src) and tb.get(e.dst) and on_at_edge(tb[e.src], tb[e.dst]))
    print(f"PhysWorld OOD 0-{n - 1} mirror-edge placements ('edge of a mirror', 'at its edge'): parsed layout on "
          f"the mirror at its edge {got}/{total}; true scenes {true}/{total}")


if __name__ == "__main__":
    sys.exit(main())
