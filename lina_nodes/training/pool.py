"""Prompt pools for adapter training. A spec names where prompts come from:

* ``physworld:SPLIT:START:COUNT``: PhysWorld samples ``START .. START+COUNT-1`` of ``id_test`` / ``ood_test``
  (dataset seed 0, the shipped model's OOD split); items carry the scene for PhysWorld's judge;
* a path to a ``.jsonl`` file: one JSON object per line with ``prompt`` and any other fields (labels, whatever
  your judge reads); confined to the file, read as JSON only.

An item is ``{"key", "prompt", "labels": {...}, "payload": {...}}``; keys are unique within a pool.
"""
from __future__ import annotations

import json
from pathlib import Path

from .config import TrainError

MAX_ITEMS = 100_000


def _physworld(spec: str) -> list[dict]:
    try:
        _, split, start, count = spec.split(":")
        start, count = int(start), int(count)
    except ValueError:
        raise TrainError(f"bad PhysWorld pool spec {spec!r}.", field="config.pools",
                         fix="use physworld:SPLIT:START:COUNT, e.g. physworld:ood_test:1000:160.") from None
    if split not in ("id_test", "ood_test") or start < 0 or not 0 < count <= MAX_ITEMS:
        raise TrainError(f"bad PhysWorld pool spec {spec!r}.", field="config.pools",
                         fix="SPLIT is id_test or ood_test, START >= 0, 0 < COUNT <= 100000.")
    from ..physworld import dataset as pw_dataset
    from ..physworld_model.data import DEFAULT_SPLIT

    bcfg = pw_dataset.BuildConfig(size=64, seed=0, masks=False, split=DEFAULT_SPLIT)
    items = []
    for i in range(start, start + count):
        rec = pw_dataset.make_sample(split, i, bcfg).record
        rule = "+".join(rec.get("ood_rules") or []) or "in_distribution"
        items.append({"key": f"{split}:{i}", "prompt": rec["prompt"],
                      "labels": {"rule": rule, "category": rec["category"], "split": split},
                      "payload": {"scene": rec["scene"]}})
    return items


def _jsonl(spec: str) -> list[dict]:
    p = Path(spec)
    if p.suffix != ".jsonl" or not p.is_file():
        raise TrainError(f"{spec!r} is neither a PhysWorld spec nor a .jsonl file.", field="config.pools",
                         fix="use physworld:SPLIT:START:COUNT or the path of a .jsonl file of {\"prompt\": ...}.")
    items = []
    for n, line in enumerate(p.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except ValueError as e:
            raise TrainError(f"{p}:{n}: not JSON ({e}).", field="config.pools") from None
        if not isinstance(d, dict) or not isinstance(d.get("prompt"), str) or not d["prompt"].strip():
            raise TrainError(f"{p}:{n}: needs a non-empty \"prompt\".", field="config.pools")
        labels = {k: v for k, v in d.items() if k != "prompt" and isinstance(v, (str, int, float))}
        items.append({"key": f"{p.name}:{n}", "prompt": d["prompt"], "labels": labels, "payload": d})
        if len(items) > MAX_ITEMS:
            raise TrainError(f"{p}: more than {MAX_ITEMS} prompts.", field="config.pools")
    return items


def load_pool(spec: str) -> list[dict]:
    return _physworld(spec) if spec.startswith("physworld:") else _jsonl(spec)


def build_items(pools, exclude=()) -> tuple[list[dict], int]:
    """The training items: every pool's items whose prompt text is not in an excluded pool (the evaluation
    prompts), first occurrence of each key. Returns (items, number of prompts dropped as excluded)."""
    banned = {it["prompt"].strip().lower() for spec in exclude for it in load_pool(spec)}
    items, keys, dropped = [], set(), 0
    for spec in pools:
        for it in load_pool(spec):
            if it["prompt"].strip().lower() in banned:
                dropped += 1
                continue
            if it["key"] not in keys:
                keys.add(it["key"])
                items.append(it)
    return items, dropped
