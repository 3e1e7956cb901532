"""CSG parser accuracy on the hand-annotated gold set (tests/data/csg_gold.jsonl).

    .venv/bin/python benchmarks/csg_accuracy.py [--gold PATH] [--verbose] [--json]

Reports, overall and per category:
  - explicit node precision / recall (matched by name; a compound such as "polished floor" also
    matches its head "floor" and the reverse),
  - attribute accuracy on matched nodes (color, material, pattern, size, count, fill +-0.1, negated),
  - edge precision / recall over spatial, action and comparative edges: (src name, relation,
    dst name, negated) must all agree,
  - implied node precision / recall as "kind:owner" (reflection:ball, shadow:cube...),
  - Winoground-style pairs (same words, different order): the share of pairs where, in both prompts,
    every gold edge is predicted in its direction and none is predicted reversed.
Gold annotations were written by hand from the prompts, not from the parser's output.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lina_nodes.csg.parser import parse  # noqa: E402

ATTRS = ("color", "material", "pattern", "size", "count", "fill", "negated")


def gold_nodes(item):
    out = []
    for n in item["n"]:
        out.append({"name": n} if isinstance(n, str) else dict(n))
    return out


def same_name(a: str, b: str) -> bool:
    return a == b or a.split(" ")[-1] == b or b.split(" ")[-1] == a


def match_nodes(gold, pred):
    """Greedy one-to-one match, exact names first; returns {pred id: gold index}."""
    used, mapping = set(), {}
    for exact in (True, False):
        for gi, g in enumerate(gold):
            if gi in used:
                continue
            for p in pred:
                if p.id in mapping:
                    continue
                if (p.name == g["name"]) if exact else same_name(p.name, g["name"]):
                    mapping[p.id] = gi
                    used.add(gi)
                    break
    return mapping


def attr_value(node, key):
    if key in ("color", "material", "pattern"):
        return node.texture.get(key)
    if key in ("size", "fill"):
        return node.physics.get(key)
    if key == "count":
        return node.count
    return node.negated


def evaluate(items):
    tot = defaultdict(lambda: defaultdict(int))
    fails = []
    pair_ok: dict[str, list[bool]] = defaultdict(list)
    for item in items:
        g = parse(item["p"])
        gold = gold_nodes(item)
        pred = [n for n in g.nodes if n.explicit]
        mapping = match_nodes(gold, pred)
        name_of = {n.id: (gold[mapping[n.id]]["name"] if n.id in mapping else n.name) for n in g.nodes}
        cats = [item["cat"], "ALL"]
        tp_n = len(mapping)
        a_ok = a_all = 0
        bad_attrs = []
        for pid, gi in mapping.items():
            node = next(n for n in pred if n.id == pid)
            for key in ATTRS:
                if key not in gold[gi]:
                    continue
                a_all += 1
                want, got = gold[gi][key], attr_value(node, key)
                ok = (got is not None and abs(float(got) - float(want)) <= 0.1) if key == "fill" else got == want
                a_ok += ok
                if not ok:
                    bad_attrs.append(f"{gold[gi]['name']}.{key}={got!r} (want {want!r})")
        gold_e = {(e[0], e[1], e[2], len(e) > 3 and e[3] == "not") for e in item.get("e", [])}
        pred_e = {(name_of[e.src], e.relation, name_of[e.dst], e.negated) for e in g.edges if e.kind != "causal"}
        gold_i = set(item.get("i", []))
        pred_i = {f"{n.kind}:{name_of.get(n.physics.get('of'), '?')}" for n in g.nodes if not n.explicit}
        for c in cats:
            t = tot[c]
            t["items"] += 1
            t["n_tp"] += tp_n
            t["n_pred"] += len(pred)
            t["n_gold"] += len(gold)
            t["a_ok"] += a_ok
            t["a_all"] += a_all
            t["e_tp"] += len(gold_e & pred_e)
            t["e_pred"] += len(pred_e)
            t["e_gold"] += len(gold_e)
            t["i_tp"] += len(gold_i & pred_i)
            t["i_pred"] += len(pred_i)
            t["i_gold"] += len(gold_i)
        directional = all(e in pred_e for e in gold_e) and not any((d, r, s, ng) in pred_e for s, r, d, ng in gold_e
                                                                       if s != d)
        if "pair" in item:
            pair_ok[item["pair"]].append(directional)
        if tp_n != len(gold) or len(pred) != len(gold) or gold_e != pred_e or gold_i != pred_i or bad_attrs:
            fails.append({"id": item["id"], "prompt": item["p"],
                          "nodes_missing": [x["name"] for i, x in enumerate(gold) if i not in mapping.values()],
                          "nodes_extra": [n.name for n in pred if n.id not in mapping],
                          "attrs_wrong": bad_attrs,
                          "edges_missing": sorted(map(list, gold_e - pred_e)),
                          "edges_extra": sorted(map(list, pred_e - gold_e)),
                          "implied_missing": sorted(gold_i - pred_i), "implied_extra": sorted(pred_i - gold_i)})
    pairs = {k: v for k, v in pair_ok.items() if len(v) == 2}
    return tot, fails, pairs


def ratio(a, b):
    return a / b if b else float("nan")


def summarise(t):
    np_, nr = ratio(t["n_tp"], t["n_pred"]), ratio(t["n_tp"], t["n_gold"])
    ep, er = ratio(t["e_tp"], t["e_pred"]), ratio(t["e_tp"], t["e_gold"])
    ip, ir = ratio(t["i_tp"], t["i_pred"]), ratio(t["i_tp"], t["i_gold"])
    return {"items": t["items"], "node_precision": np_, "node_recall": nr, "attr_accuracy": ratio(t["a_ok"], t["a_all"]),
            "edge_precision": ep, "edge_recall": er, "implied_precision": ip, "implied_recall": ir}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gold", default=str(ROOT / "tests" / "data" / "csg_gold.jsonl"))
    ap.add_argument("--verbose", action="store_true", help="list every prompt the parser got partly wrong")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    items = [json.loads(line) for line in Path(args.gold).read_text().splitlines() if line.strip()]
    tot, fails, pairs = evaluate(items)
    flips = sum(all(v) for v in pairs.values())
    result = {"gold": args.gold, "prompts": len(items), "by_category": {c: summarise(t) for c, t in sorted(tot.items())},
              "pairs": len(pairs), "pairs_flipped_correctly": flips, "pair_flip_share": ratio(flips, len(pairs)),
              "prompts_fully_correct": len(items) - len(fails)}
    if args.json:
        print(json.dumps({**result, "failures": fails}, indent=2))
        return 0
    print(f"gold set: {args.gold} ({len(items)} prompts, {len(pairs)} word-order pairs)")
    hdr = f"{'category':<13}{'n':>4} {'nodeP':>6} {'nodeR':>6} {'attr':>6} {'edgeP':>6} {'edgeR':>6} {'implP':>6} {'implR':>6}"
    print(hdr)
    for c, s in result["by_category"].items():
        if c == "ALL":
            continue
        print(f"{c:<13}{s['items']:>4} " + " ".join(f"{s[k]:>6.3f}" for k in list(s)[1:]))
    s = result["by_category"]["ALL"]
    print(f"{'ALL':<13}{s['items']:>4} " + " ".join(f"{s[k]:>6.3f}" for k in list(s)[1:]))
    print(f"word-order pairs whose edges flip correctly: {flips}/{len(pairs)} = {result['pair_flip_share']:.3f}")
    print(f"prompts fully correct (nodes, attributes, edges, implied): {result['prompts_fully_correct']}/{len(items)}")
    if args.verbose:
        for f in fails:
            print(json.dumps(f))
    return 0


if __name__ == "__main__":
    sys.exit(main())
