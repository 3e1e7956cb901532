"""Word-level tokenizer over the PhysWorld vocabulary (lower-case words, <unk> for anything else).

The vocabulary is built once from the prompt templates (``build_vocab``) and stored in the weights'
metadata, so a model always decodes with the exact vocabulary it was trained with.
Every prompt becomes exactly ``max_len`` ids: <bos> words... <eos> <pad>...
"""
from __future__ import annotations

import re

import numpy as np

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Lower-case alphanumeric words; punctuation and weights syntax are dropped."""
    return _WORD.findall(str(text).lower())


class WordTokenizer:
    def __init__(self, vocab: list[str], max_len: int = 32):
        vocab = list(vocab)
        if tuple(vocab[:4]) != SPECIALS:
            vocab = list(SPECIALS) + [w for w in vocab if w not in SPECIALS]
        if len(set(vocab)) != len(vocab):
            raise ValueError("vocabulary has duplicate words")
        if max_len < 3:
            raise ValueError("max_len must be >= 3")
        self.vocab = vocab
        self.index = {w: i for i, w in enumerate(vocab)}
        self.max_len = int(max_len)
        self.pad_id, self.unk_id, self.bos_id, self.eos_id = range(4)

    def __len__(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> list[int]:
        ids = [self.index.get(w, self.unk_id) for w in words(text)][: self.max_len - 2]
        ids = [self.bos_id] + ids + [self.eos_id]
        return ids + [self.pad_id] * (self.max_len - len(ids))

    def encode_batch(self, texts) -> np.ndarray:
        return np.asarray([self.encode(t) for t in texts], dtype=np.int64)

    def decode(self, ids) -> str:
        return " ".join(self.vocab[i] for i in ids if int(i) >= 4)

    def unknown_words(self, text: str) -> list[str]:
        return [w for w in words(text) if w not in self.index]


def build_vocab(n_scenes: int = 4000, seed: int = 0) -> list[str]:
    """Every word the PhysWorld prompt templates produce (all categories, all paraphrases),
    sorted, after the special tokens. Deterministic."""
    from ..physworld.scene import CATEGORIES, sample_scene
    from ..physworld.templates import prompt_for

    seen = set()
    for i in range(n_scenes):
        sc = sample_scene(seed * 1_000_003 + i, CATEGORIES[i % len(CATEGORIES)])
        for v in range(3):
            seen.update(words(prompt_for(sc, variant=v)))
    return list(SPECIALS) + sorted(seen)
