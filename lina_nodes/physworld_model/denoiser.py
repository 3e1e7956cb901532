"""Denoiser: a small pixel-space UNet for rectified flow, text-conditioned.

``forward(x, timesteps, context=None, **kwargs)`` matches what ComfyUI's BaseModel calls on its
``diffusion_model`` (x: [B, 3, H, W] in -1..1 at noise level t, timesteps: [B] = 1000 * sigma, sigma in [0, 1],
context: [B, L, D] text tokens); it returns the velocity v = eps - x0. With ``predict="x0"`` (the
default) the network itself outputs the clean image x0_hat and the velocity is (x - x0_hat) / sigma,
so a pixel-space model never has to carry the noise through its patch bottleneck (JiT-style). The stem pixel-unshuffles
by ``patch`` (64x64x3 -> 32x32x12), so a 64x64 image costs about what a 32x32 one would.
Conditioning: FiLM from (time embedding + context[:, 0]) in every ResBlock, cross-attention to all
text tokens (and self-attention) at the levels flagged in ``attention`` and in the middle.
Plain torch: the ComfyUI-only kwargs (device, dtype, operations, control, transformer_options)
are accepted and ignored.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    a = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(a), torch.sin(a)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb_dim: int, groups: int):
        super().__init__()
        self.n1 = nn.GroupNorm(groups, cin)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.n2 = nn.GroupNorm(groups, cout)
        self.film = nn.Linear(emb_dim, 2 * cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        nn.init.zeros_(self.c2.weight)
        nn.init.zeros_(self.c2.bias)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb):
        h = self.c1(F.silu(self.n1(x)))
        scale, shift = self.film(emb)[:, :, None, None].chunk(2, dim=1)
        h = self.n2(h) * (1 + scale) + shift
        h = self.c2(F.silu(h))
        return self.skip(x) + h


class AttnBlock(nn.Module):
    """Self-attention over pixels, then cross-attention to the text tokens."""

    def __init__(self, ch: int, ctx_dim: int, heads: int, groups: int):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(groups, ch)
        self.qkv = nn.Linear(ch, 3 * ch)
        self.proj = nn.Linear(ch, ch)
        self.ln_x = nn.LayerNorm(ch)
        self.q = nn.Linear(ch, ch)
        self.kv = nn.Linear(ctx_dim, 2 * ch)
        self.proj_x = nn.Linear(ch, ch)
        for lin in (self.proj, self.proj_x):
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    def _split(self, t):
        B, N, C = t.shape
        return t.view(B, N, self.heads, C // self.heads).transpose(1, 2)

    def forward(self, x, ctx):
        B, C, H, W = x.shape
        h = self.norm(x).flatten(2).transpose(1, 2)
        q, k, v = self.qkv(h).chunk(3, dim=-1)
        a = F.scaled_dot_product_attention(self._split(q), self._split(k), self._split(v))
        t = x.flatten(2).transpose(1, 2) + self.proj(a.transpose(1, 2).reshape(B, H * W, C))
        q = self._split(self.q(self.ln_x(t)))
        k, v = self.kv(ctx).chunk(2, dim=-1)
        a = F.scaled_dot_product_attention(q, self._split(k), self._split(v))
        t = t + self.proj_x(a.transpose(1, 2).reshape(B, H * W, C))
        return t.transpose(1, 2).reshape(B, C, H, W)


class PhysWorldDenoiser(nn.Module):
    def __init__(self, in_channels: int = 3, patch: int = 2, channels=(64, 96, 128), num_res_blocks=(1, 2, 2),
                 attention=(False, False, True), heads: int = 4, time_dim: int = 256, context_dim: int = 128,
                 groups: int = 8, image_size: int = 64, predict: str = "x0", dtype=None, device=None, operations=None,
                 **_ignored):
        super().__init__()
        if predict not in ("x0", "v"):
            raise ValueError(f"predict must be 'x0' or 'v', got {predict!r}")
        self.predict = predict
        self.in_channels = in_channels
        self.patch = patch
        self.time_dim = time_dim
        self.context_dim = context_dim
        ch = list(channels)
        cp = in_channels * patch * patch
        self.t_mlp = nn.Sequential(nn.Linear(time_dim, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim))
        self.pool_proj = nn.Linear(context_dim, time_dim)
        self.stem = nn.Conv2d(cp, ch[0], 3, padding=1)
        self.down = nn.ModuleList()
        skips = [ch[0]]
        cur = ch[0]
        for i, c in enumerate(ch):
            for _ in range(num_res_blocks[i]):
                blk = nn.ModuleList([ResBlock(cur, c, time_dim, groups)])
                if attention[i]:
                    blk.append(AttnBlock(c, context_dim, heads, groups))
                self.down.append(blk)
                cur = c
                skips.append(cur)
            if i < len(ch) - 1:
                self.down.append(nn.ModuleList([nn.Conv2d(cur, cur, 3, stride=2, padding=1)]))
                skips.append(cur)
        self.mid1 = ResBlock(cur, cur, time_dim, groups)
        self.mid_attn = AttnBlock(cur, context_dim, heads, groups)
        self.mid2 = ResBlock(cur, cur, time_dim, groups)
        self.up = nn.ModuleList()
        for i in reversed(range(len(ch))):
            c = ch[i]
            for _ in range(num_res_blocks[i] + 1):
                blk = nn.ModuleList([ResBlock(cur + skips.pop(), c, time_dim, groups)])
                if attention[i]:
                    blk.append(AttnBlock(c, context_dim, heads, groups))
                self.up.append(blk)
                cur = c
            if i > 0:
                self.up.append(nn.ModuleList([nn.Upsample(scale_factor=2, mode="nearest"),
                                              nn.Conv2d(cur, cur, 3, padding=1)]))
        self.out_norm = nn.GroupNorm(groups, cur)
        self.out = nn.Conv2d(cur, cp, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        if dtype is not None or device is not None:
            self.to(device=device, dtype=dtype)

    @property
    def dtype(self) -> torch.dtype:   # ComfyUI's BaseModel.get_dtype reads this
        return self.stem.weight.dtype

    def forward(self, x, timesteps, context=None, **kwargs):
        if context is None:
            raise ValueError("the PhysWorld denoiser needs text conditioning (context)")
        B, _, H, W = x.shape
        p = self.patch
        if H % p or W % p:
            raise ValueError(f"image size {H}x{W} must be a multiple of {p * 2 ** 2}")
        dt = self.dtype
        ctx = context.to(dt)
        if ctx.shape[0] != B:   # one prompt for a batch of images
            ctx = ctx.expand(B, -1, -1) if ctx.shape[0] == 1 else ctx.repeat_interleave(B // ctx.shape[0], 0)
        t = timesteps.reshape(-1).to(x.device)
        if t.numel() == 1:
            t = t.expand(B)
        emb = F.silu(self.t_mlp(timestep_embedding(t, self.time_dim).to(dt)) + self.pool_proj(ctx[:, 0]))
        h = self.stem(F.pixel_unshuffle(x.to(dt), p) if p > 1 else x.to(dt))
        hs = [h]
        for blk in self.down:
            if isinstance(blk[0], ResBlock):
                h = blk[0](h, emb)
                if len(blk) > 1:
                    h = blk[1](h, ctx)
            else:
                h = blk[0](h)
            hs.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb), ctx), emb)
        for blk in self.up:
            if isinstance(blk[0], ResBlock):
                h = blk[0](torch.cat([h, hs.pop()], dim=1), emb)
                if len(blk) > 1:
                    h = blk[1](h, ctx)
            else:
                h = blk[1](blk[0](h))
        h = self.out(F.silu(self.out_norm(h)))
        h = F.pixel_shuffle(h, p) if p > 1 else h
        if self.predict == "v":
            return h
        # x0-parameterisation: the network draws the clean image; return the velocity ComfyUI expects,
        # so that its denoised estimate x - sigma * v is exactly that image
        sigma = (t.to(dt) / 1000.0).clamp(min=1e-3).view(-1, 1, 1, 1)
        return (x.to(dt) - h) / sigma
