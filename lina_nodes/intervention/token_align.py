"""Align CSG nodes and relations to the text encoder's tokens (pure Python; the tokenizer is a callable).

The ComfyUI tokenizers give token ids without character offsets, so alignment works by words: every
whitespace-separated word of the prompt is tokenized alone (``word_ids``), and its id sequence is found,
in order, in the ids of the whole prompt (``full_ids``). CLIP's BPE and T5's SentencePiece tokenize a word
the same way alone and in context, so the match is exact; a word that is not found is skipped (it gets no
weight) rather than guessed.

A node is aligned to the words its ``span`` (character span in the prompt) overlaps; a relation (an
edge between two explicit nodes) to the words strictly between the two nodes' spans ("in front of").
Implied nodes have no words (that is why they fail): their weight goes to the words of the node they
belong to (``physics["of"]``) and of the nodes on their causal edges.
"""
from __future__ import annotations

import re

_WORD = re.compile(r"\S+")


def words_with_spans(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(text or "")]


def _find(seq: list[int], sub: list[int], start: int) -> int:
    n = len(sub)
    if n == 0:
        return -1
    for i in range(start, len(seq) - n + 1):
        if seq[i:i + n] == sub:
            return i
    return -1


def align_words(full_ids: list[int], word_ids: list[list[int]]) -> list[list[int]]:
    """Token positions of each word in ``full_ids`` (in order; [] for a word not found)."""
    out, cursor = [], 0
    for ids in word_ids:
        pos = _find(full_ids, list(ids), cursor)
        if pos < 0:
            out.append([])
            continue
        out.append(list(range(pos, pos + len(ids))))
        cursor = pos + len(ids)
    return out


def _overlaps(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


def node_words(g, words: list[tuple[str, int, int]], weights: dict[str, float]) -> list[float]:
    """Weight of each prompt word: the max weight of the nodes / relations aligned to it."""
    w = [0.0] * len(words)
    by = {n.id: n for n in g.nodes}

    def add_span(span, wt):
        if span is None or wt <= 0:
            return
        for i, (_, s, e) in enumerate(words):
            if _overlaps(s, e, span[0], span[1]):
                w[i] = max(w[i], wt)

    # implied nodes lend their weight to their owners and causal partners
    lent: dict[str, float] = {}
    for n in g.nodes:
        wt = weights.get(n.id, 0.0)
        if n.span is None and wt > 0:
            for other in [n.physics.get("of")] + [e.src for e in g.edges if e.dst == n.id and e.kind == "causal"]:
                if other in by:
                    lent[other] = max(lent.get(other, 0.0), wt)
    for n in g.nodes:
        add_span(n.span, max(weights.get(n.id, 0.0), lent.get(n.id, 0.0)))
    for e in g.edges:
        s, d = by.get(e.src), by.get(e.dst)
        if s is None or d is None or s.span is None or d.span is None:
            continue
        lo, hi = (s.span[1], d.span[0]) if s.span[1] <= d.span[0] else (d.span[1], s.span[0])
        if lo < hi:
            add_span((lo, hi), min(weights.get(s.id, 0.0), weights.get(d.id, 0.0)))
    return w


def token_weights(length: int, word_positions: list[list[int]], word_weights: list[float]) -> list[float]:
    """Per-token weight vector of ``length`` (positions past ``length`` are dropped)."""
    out = [0.0] * length
    for pos, wt in zip(word_positions, word_weights):
        for p in pos:
            if 0 <= p < length:
                out[p] = max(out[p], wt)
    return out


def phrase_positions(full_ids: list[int], phrase_ids: list[int], start: int = 0) -> list[int]:
    """All token positions of every occurrence of ``phrase_ids`` at or after ``start``."""
    out, i = [], start
    while True:
        p = _find(full_ids, phrase_ids, i)
        if p < 0:
            return out
        out.extend(range(p, p + len(phrase_ids)))
        i = p + len(phrase_ids)


# ---- ComfyUI tokenizer output (plain data: {encoder key: [[(id, weight[, word]), ...], ...]}) ----------

def flat_ids(batches) -> list[int]:
    """Token ids of one encoder key, chunks concatenated in order (embedding tokens become -1)."""
    out = []
    for chunk in batches or []:
        for t in chunk:
            tid = t[0] if isinstance(t, (tuple, list)) else t
            out.append(int(tid) if isinstance(tid, int) or (hasattr(tid, "__int__") and not hasattr(tid, "shape"))
                       else -1)
    return out


def choose_layout(tokens: dict, length: int) -> list[tuple[str, int]]:
    """Which encoder keys make up the conditioning's L tokens, with their offsets: [(key, offset)].

    One key whose token count is L (SD1.5 "l", Flux/Wan "t5xxl"/"umt5xxl"...), or a CLIP key followed by
    a T5 key (SD3: CLIP-L/G tokens then T5 tokens). [] when the layout is not recognised.
    """
    lens = {k: len(flat_ids(v)) for k, v in tokens.items()}
    for k in tokens:
        if lens[k] == length:
            return [(k, 0)]
    clip = next((k for k in ("l", "g") if k in lens), None)
    for k in tokens:
        if clip and k not in ("l", "g") and lens[clip] + lens[k] == length:
            return [(clip, 0), (k, lens[clip])]
    return []


def align_prompt(g, weights: dict, prompt: str, causal: str, tok_prompt: dict, tok_causal: dict, tokenize,
                 length: int, causal_length: int) -> tuple[list[float], list[list[int]], list[str]]:
    """Token weights [L] and causal target positions [L][...] for the prompt edit; plus notes.

    ``tokenize(text) -> {key: batches}`` is the user's tokenizer.
    """
    notes: list[str] = []
    layout = choose_layout(tok_prompt, length)
    clayout = dict(choose_layout(tok_causal, causal_length))
    tw, groups = [0.0] * length, [[] for _ in range(length)]
    if not layout:
        notes.append(f"token alignment: unrecognised token layout for {length} tokens; prompt edit skipped")
        return tw, groups, notes
    words = words_with_spans(prompt)
    wweights = node_words(g, words, weights)
    specials = {k: set(flat_ids(v)) for k, v in tokenize("").items()}
    word_tok = {w: tokenize(w) for w, _, _ in words}
    for key, off in layout:
        ids = flat_ids(tok_prompt[key])
        sp = specials.get(key, set())
        wids = [[t for t in flat_ids(word_tok[w].get(key, [])) if t not in sp] for w, _, _ in words]
        pos = align_words(ids, wids)
        found = sum(1 for p in pos if p)
        if words and not found:
            notes.append(f"token alignment: no prompt word found in the {key!r} tokens")
            continue
        vec = token_weights(len(ids), pos, wweights)
        cids = flat_ids(tok_causal.get(key, []))
        coff = clayout.get(key)
        cpos = align_words(cids, wids)  # the prompt is the causal prompt's prefix
        prefix_end = max([p[-1] + 1 for p in cpos if p] or [0])
        for p, wt, wi in zip(pos, wweights, wids):
            if wt <= 0 or not p or coff is None:
                continue
            occ = [q + coff for q in phrase_positions(cids, wi, prefix_end) if q + coff < causal_length]
            for q in p:
                if q + off < length:
                    groups[q + off] = occ
        for i, v in enumerate(vec):
            if i + off < length:
                tw[i + off] = max(tw[i + off], v)
    for i in range(length):  # a token with weight but no causal target cannot move
        if not groups[i]:
            tw[i] = 0.0
    if not any(tw):
        notes.append("token alignment: no weighted word reappears in the causal completion; prompt edit is a no-op")
    return tw, groups, notes
