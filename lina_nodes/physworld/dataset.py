"""PhysWorld dataset builder: train / id_test / ood_test splits written as shards.

Format (``physworld-dataset-1``), one directory:
  manifest.json            format, image size, split sizes, shard list, OOD rules, build config
  <split>-<k>.npz          images uint8 (N,S,S,3); mask_bits uint32 (N,S,S) (bit b = record's mask_names[b]),
                           absent when built with masks off; seeds int64 (N,)
  <split>-<k>.jsonl        one record per image, same order: index, seed, prompt, category,
                           subcategory, ood_rules, mask_names, csg (CSG v1 dict), scene (re-renderable)
Splits: ``train`` and ``id_test`` never match an OOD rule (split.rules(cfg.split)); ``ood_test`` always matches
one (rules drawn in turn). Seeds of the three splits are disjoint, so every image is reproducible with
``render(Scene.from_dict(record["scene"]), size)``.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import PhysWorldError
from .csg_build import to_csg
from .render import render
from .scene import CATEGORIES, sample_scene
from .split import DEFAULT_SPLIT, ood_rules, rules
from .templates import prompt_for

FORMAT = "physworld-dataset-1"
SPLIT_SEED_BASE = {"train": 0, "id_test": 10_000_000, "ood_test": 20_000_000}


@dataclass
class BuildConfig:
    size: int = 64
    train: int = 30000
    id_test: int = 1000
    ood_test: int = 1000
    seed: int = 0
    shard: int = 5000
    masks: bool = True
    rare: float = 0.0          # share of training scenes allowed to match an OOD rule (0 = never)
    categories: tuple = CATEGORIES
    split: str = DEFAULT_SPLIT  # OOD split version (split.SPLIT_RULES)

    def to_dict(self):
        d = dict(self.__dict__)
        d["categories"] = list(self.categories)
        return d


@dataclass
class Sample:
    image: np.ndarray
    masks: dict
    record: dict = field(default_factory=dict)


def make_sample(split: str, index: int, cfg: BuildConfig) -> Sample:
    """The index-th sample of a split (deterministic in (cfg.seed, split, index))."""
    base = cfg.seed * 100_000_000 + SPLIT_SEED_BASE[split] + index * 64
    cats = list(cfg.categories)
    if split == "ood_test":
        held_out = rules(cfg.split)
        names = [r for r in held_out if held_out[r]["category"] in cats]
        if not names:
            raise PhysWorldError("no OOD rule applies to the chosen categories", field="categories")
        rule = held_out[names[index % len(names)]]
        rng = np.random.default_rng(base)
        factors = {k: (v[int(rng.integers(len(v)))] if isinstance(v, tuple) else v) for k, v in rule["factors"].items()}
        sc = sample_scene(base, rule["category"], **factors)
    else:
        allow_rare = split == "train" and cfg.rare > 0 and np.random.default_rng(base + 63).random() < cfg.rare
        for k in range(63):
            sc = sample_scene(base + k, cats[index % len(cats)])
            if allow_rare or not ood_rules(sc, cfg.split):
                break
        else:  # pragma: no cover - rules are never that common
            raise PhysWorldError("could not draw an in-distribution scene", field="categories")
    prompt = prompt_for(sc)
    csg = to_csg(sc, prompt)
    img, masks = render(sc, cfg.size)
    rec = {"index": index, "seed": sc.seed, "split": split, "prompt": prompt, "category": sc.category,
           "subcategory": sc.subcategory, "ood_rules": ood_rules(sc, cfg.split), "csg": csg.to_dict(), "scene": sc.to_dict()}
    return Sample(img, masks, rec)


def pack_masks(masks: dict, size: int) -> tuple[np.ndarray, list]:
    names = sorted(masks)[:32]
    bits = np.zeros((size, size), np.uint32)
    for b, n in enumerate(names):
        bits |= masks[n].astype(np.uint32) << np.uint32(b)
    return bits, names


def unpack_masks(bits: np.ndarray, names: list) -> dict:
    return {n: ((bits >> np.uint32(b)) & 1).astype(bool) for b, n in enumerate(names)}


def build(out_dir, cfg: BuildConfig | None = None, progress=None) -> dict:
    """Write all three splits to ``out_dir``; returns the manifest. ``progress(total)`` may return
    an object with ``update(n)`` and ``close()`` (a tqdm bar)."""
    cfg = cfg or BuildConfig()
    if cfg.size < 16 or cfg.size > 512:
        raise PhysWorldError(f"image size must be 16..512, got {cfg.size}", field="size")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    splits = {"train": cfg.train, "id_test": cfg.id_test, "ood_test": cfg.ood_test}
    bar = progress(sum(splits.values())) if progress else None
    manifest = {"format": FORMAT, "size": cfg.size, "config": cfg.to_dict(),
                "split_version": cfg.split,
                "rules": {k: v["doc"] for k, v in rules(cfg.split).items()}, "splits": {}}
    for split, n in splits.items():
        shards = []
        for s0 in range(0, n, cfg.shard):
            idx = range(s0, min(n, s0 + cfg.shard))
            imgs = np.zeros((len(idx), cfg.size, cfg.size, 3), np.uint8)
            bits = np.zeros((len(idx), cfg.size, cfg.size), np.uint32) if cfg.masks else None
            seeds = np.zeros(len(idx), np.int64)
            lines = []
            for j, i in enumerate(idx):
                smp = make_sample(split, i, cfg)
                imgs[j] = smp.image
                seeds[j] = smp.record["seed"]
                if cfg.masks:
                    bits[j], names = pack_masks(smp.masks, cfg.size)
                    smp.record["mask_names"] = names
                lines.append(json.dumps(smp.record, separators=(",", ":")))
                if bar is not None:
                    bar.update(1)
            name = f"{split}-{s0 // cfg.shard:05d}"
            arrays = {"images": imgs, "seeds": seeds}
            if cfg.masks:
                arrays["mask_bits"] = bits
            np.savez_compressed(out / f"{name}.npz", **arrays)
            (out / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
            shards.append(name)
        manifest["splits"][split] = {"n": n, "shards": shards}
    if bar is not None:
        bar.close()
    manifest["build_seconds"] = round(time.perf_counter() - t0, 2)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def read_manifest(d) -> dict:
    p = Path(d) / "manifest.json"
    if not p.is_file():
        raise PhysWorldError(f"{d} is not a PhysWorld dataset (no manifest.json)", field="dataset",
                             fix="build one with `lina physworld build OUT_DIR`.")
    m = json.loads(p.read_text(encoding="utf-8"))
    if m.get("format") != FORMAT:
        raise PhysWorldError(f"unknown dataset format {m.get('format')!r}", field="dataset")
    return m


def iter_split(d, split: str, with_masks: bool = False):
    """Yield (image uint8 HxWx3, record dict[, masks dict]) for one split of a built dataset."""
    m = read_manifest(d)
    if split not in m["splits"]:
        raise PhysWorldError(f"no split {split!r}; the dataset has {', '.join(m['splits'])}", field="split")
    for name in m["splits"][split]["shards"]:
        with np.load(Path(d) / f"{name}.npz") as z:
            imgs = z["images"]
            bits = z["mask_bits"] if (with_masks and "mask_bits" in z.files) else None
        recs = [json.loads(x) for x in (Path(d) / f"{name}.jsonl").read_text(encoding="utf-8").splitlines() if x]
        for j, rec in enumerate(recs):
            if with_masks:
                yield imgs[j], rec, (unpack_masks(bits[j], rec.get("mask_names", [])) if bits is not None else {})
            else:
                yield imgs[j], rec


def load_split(d, split: str) -> tuple[np.ndarray, list]:
    """All images (N,S,S,3) uint8 and records of a split, in order (for training)."""
    m = read_manifest(d)
    imgs, recs = [], []
    for name in m["splits"][split]["shards"]:
        with np.load(Path(d) / f"{name}.npz") as z:
            imgs.append(z["images"])
        recs += [json.loads(x) for x in (Path(d) / f"{name}.jsonl").read_text(encoding="utf-8").splitlines() if x]
    return (np.concatenate(imgs) if imgs else np.zeros((0, m["size"], m["size"], 3), np.uint8)), recs
