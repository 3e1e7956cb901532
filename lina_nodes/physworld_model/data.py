"""Training data for the PhysWorld model: the ``train`` split of lina_nodes.physworld.dataset,
rendered on the fly (an unbounded, deterministic stream) or read from a built dataset directory.

Batches are indexed by step, so a resumed run sees exactly the batches it would have seen.
``data_hash`` identifies the data: for the stream, the build config plus the source of every
PhysWorld module that shapes an image or a prompt; for a built dataset, its shard files.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..errors import PhysWorldError
from ..physworld import dataset as pw_dataset
from ..physworld.scene import CATEGORIES
from ..physworld.split import DEFAULT_SPLIT, rules

_SOURCES = ("scene.py", "render.py", "raster.py", "geometry.py", "palette.py", "templates.py", "split.py",
            "dataset.py", "csg_build.py")


def build_config(data_cfg, size: int | None = None) -> pw_dataset.BuildConfig:
    cats = tuple(data_cfg.categories) if data_cfg.categories else CATEGORIES
    bad = [c for c in cats if c not in CATEGORIES]
    if bad:
        raise PhysWorldError(f"unknown categories {bad}", field="data.categories", fix=f"use {', '.join(CATEGORIES)}.")
    rules(data_cfg.split)   # a clear error for an unknown version, before any batch is drawn
    return pw_dataset.BuildConfig(size=size or data_cfg.image_size, seed=data_cfg.dataset_seed, masks=False,
                                  categories=cats, split=data_cfg.split)


class TrainData:
    def __init__(self, data_cfg, seed: int):
        self.cfg = data_cfg
        self.seed = int(seed)
        self.bcfg = build_config(data_cfg)
        self.images = self.records = None
        if data_cfg.dataset:
            m = pw_dataset.read_manifest(data_cfg.dataset)
            if m["size"] != data_cfg.image_size:
                raise PhysWorldError(f"dataset {data_cfg.dataset} has {m['size']}px images, the config wants "
                                     f"{data_cfg.image_size}", field="data.dataset")
            self.images, self.records = pw_dataset.load_split(data_cfg.dataset, "train")
            if len(self.records) == 0:
                raise PhysWorldError(f"dataset {data_cfg.dataset} has an empty train split", field="data.dataset")

    def _index(self, i: int) -> int:
        if self.images is None:
            return i
        n = len(self.records)
        epoch, j = divmod(i, n)
        return int(np.random.default_rng([self.seed, epoch]).permutation(n)[j])

    def batch(self, step: int, batch_size: int) -> tuple[np.ndarray, list]:
        """(uint8 [B, S, S, 3], prompts) of training step ``step``; dropped prompts are ""."""
        imgs, prompts = [], []
        for i in range(step * batch_size, (step + 1) * batch_size):
            if self.images is None:
                smp = pw_dataset.make_sample("train", i, self.bcfg)
                img, prompt = smp.image, smp.record["prompt"]
            else:
                k = self._index(i)
                img, prompt = self.images[k], self.records[k]["prompt"]
            if np.random.default_rng([self.seed, 7, i]).random() < self.cfg.cond_dropout:
                prompt = ""
            imgs.append(img)
            prompts.append(prompt)
        return np.stack(imgs), prompts

    def data_hash(self) -> str:
        h = hashlib.sha256()
        if self.images is None:
            h.update(b"stream:" + json.dumps(self.bcfg.to_dict(), sort_keys=True).encode())
            root = Path(pw_dataset.__file__).parent
            for name in _SOURCES:
                p = root / name
                h.update(name.encode() + b"\0" + (p.read_bytes() if p.is_file() else b""))
        else:
            d = Path(self.cfg.dataset)
            m = pw_dataset.read_manifest(d)
            h.update(b"dataset:")
            for name in m["splits"]["train"]["shards"]:
                for ext in (".npz", ".jsonl"):
                    h.update((d / f"{name}{ext}").read_bytes())
        return h.hexdigest()


def eval_samples(split: str, n: int, size: int = 64, dataset_seed: int = 0, categories=None,
                 version: str = DEFAULT_SPLIT) -> list:
    """n held-out samples (image, record with prompt and csg) of ``id_test`` or ``ood_test`` of
    OOD split version ``version`` (pass ``weights_io.model_split(meta)`` for a model's own)."""
    cats = tuple(categories) if categories else CATEGORIES
    bcfg = pw_dataset.BuildConfig(size=size, seed=dataset_seed, masks=False, categories=cats,
                                  split=version)
    return [pw_dataset.make_sample(split, i, bcfg) for i in range(n)]
