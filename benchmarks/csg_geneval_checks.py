"""GenEval-style explicit checks of the CSG parser: objects, counts, colours and positions.

    .venv/bin/python benchmarks/csg_geneval_checks.py [--verbose]

Data: tests/data/csg_everyday_geneval.jsonl, GenEval's prompts/evaluation_metadata.jsonl (553 prompts with
structured metadata; github.com/djghosh13/geneval, MIT licence, Copyright (c) 2023 Dhruba Ghosh), committed
unchanged as data. For each prompt, every "include" entry must be a parsed node of that class (same name,
or same last word: "sports ball" ~ "ball"), with that count and colour; a "position" [rel, k] needs the
spatial edge  class -rel-> class_k  (left of, right of, above, below). A prompt passes when all its checks
pass. tests/core/test_csg_everyday.py holds the floor (it must not drop).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lina_nodes.csg.parser import parse  # noqa: E402

DATA = ROOT / "tests" / "data" / "csg_everyday_geneval.jsonl"
RELATIONS = {"left of": "left_of", "right of": "right_of", "above": "above", "below": "below"}


def _same(cls: str, name: str) -> bool:
    return cls == name or cls.split()[-1] == name.split()[-1]


def check(item: dict) -> list[str]:
    """The failed checks of one GenEval prompt (empty: all pass)."""
    g = parse(item["prompt"], layout=False)
    nodes = [n for n in g.nodes if n.explicit and not n.negated]
    found, fails = [], []
    for k, inc in enumerate(item["include"]):
        cands = [n for n in nodes if _same(inc["class"], n.name) and n not in found]
        exact = [n for n in cands if n.name == inc["class"]]
        node = (exact or cands or [None])[0]
        found.append(node)
        if node is None:
            fails.append(f"object {inc['class']!r} missing")
            continue
        if node.count != inc["count"]:
            fails.append(f"{inc['class']}: count {node.count} (want {inc['count']})")
        if "color" in inc and node.texture.get("color") != inc["color"]:
            fails.append(f"{inc['class']}: colour {node.texture.get('color')!r} (want {inc['color']!r})")
    for k, inc in enumerate(item["include"]):
        if "position" not in inc or found[k] is None or found[inc["position"][1]] is None:
            continue
        rel, other = RELATIONS[inc["position"][0]], found[inc["position"][1]]
        if not any(e.src == found[k].id and e.dst == other.id and e.relation == rel and not e.negated
                   for e in g.edges):
            fails.append(f"{inc['class']} {inc['position'][0]} {item['include'][inc['position'][1]]['class']}: no edge")
    return fails


def run(path: Path = DATA) -> tuple[int, int, list]:
    items = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    bad = [(it["prompt"], f) for it in items for f in [check(it)] if f]
    return len(items) - len(bad), len(items), bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    ok, total, bad = run()
    print(f"GenEval-style explicit checks (objects, counts, colours, positions): {ok}/{total} = {ok / total:.3f}")
    if args.verbose:
        for prompt, f in bad:
            print(f"  {prompt!r}: {'; '.join(f)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
