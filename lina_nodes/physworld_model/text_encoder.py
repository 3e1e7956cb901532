"""Text encoder: word embedding + learned positions + a small pre-LN transformer.

``forward(ids) -> (tokens [B, L, D], pooled [B, D])``; pooled is the output at <bos> (position 0),
which attends to the whole prompt. Pad positions are masked as keys but still produce outputs, so
the conditioning always has exactly ``max_len`` tokens (ComfyUI can batch cond and uncond).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class _Block(nn.Module):
    def __init__(self, dim: int, heads: int, ff_mult: int):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, ff_mult * dim), nn.GELU(), nn.Linear(ff_mult * dim, dim))

    def forward(self, x, key_mask):
        B, L, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(B, L, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask)
        x = x + self.proj(a.transpose(1, 2).reshape(B, L, D))
        return x + self.ff(self.ln2(x))


class TextEncoder(nn.Module):
    def __init__(self, vocab_size: int, max_len: int = 32, dim: int = 128, layers: int = 2, heads: int = 4,
                 ff_mult: int = 2, pad_id: int = 0):
        super().__init__()
        self.pad_id = pad_id
        self.max_len = max_len
        self.dim = dim
        self.tok = nn.Embedding(vocab_size, dim)
        self.pos = nn.Parameter(torch.zeros(1, max_len, dim))
        nn.init.normal_(self.tok.weight, std=0.02)
        nn.init.normal_(self.pos, std=0.02)
        self.blocks = nn.ModuleList([_Block(dim, heads, ff_mult) for _ in range(layers)])
        self.ln = nn.LayerNorm(dim)

    def forward(self, ids: torch.Tensor):
        ids = ids.long()
        if ids.shape[1] != self.max_len:
            raise ValueError(f"expected {self.max_len} token ids per prompt, got {ids.shape[1]}")
        x = self.tok(ids) + self.pos.to(self.tok.weight.dtype)
        keep = ids != self.pad_id
        mask = keep[:, None, None, :]   # [B, 1, 1, L] bool: attend only to real tokens
        for b in self.blocks:
            x = b(x, mask)
        x = self.ln(x)
        return x, x[:, 0]
