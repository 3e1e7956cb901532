"""Physics / texture subspaces of a text encoder, estimated on the fly from contrastive prompt pairs.

Physics pairs keep the texture and change the physics ("a red ball resting on a table" / "a red ball
floating above a table"); texture pairs keep the physics and change the texture ("a red ball ..." /
"a blue ball ..."). Each prompt is encoded with the user's own text encoder (``encode(text) ->
(tokens [L, D] or [1, L, D], pooled [Dp] or None)``) and summarised by its mean token. [ours]

* T: orthonormal basis of the top singular directions of the texture differences.
* P: the physics differences with their T component removed (orthogonalised against texture), then
  their top singular directions, orthonormal. The same for the pooled vector when there is one.

Subspaces are cached per encoder fingerprint (width + encoder class + a hash of the encoding of a
fixed probe sentence), so each encoder pays the estimate once per process. Nothing imports ComfyUI.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..errors import LinaError

PROBE = "a red ball rests on a wooden table next to a small mirror"
DEFAULT_OBJECTS = ("ball", "cube", "vase", "cup")
COLORS = ("red", "blue", "green", "yellow")
MATERIALS = ("wooden", "metal", "glass", "stone")
PHYSICS_TEMPLATES = (
    ("a {c} {o} resting on a table", "a {c} {o} floating above a table"),
    ("a {c} {o} in front of a mirror, its reflection inside the mirror",
     "a {c} {o} in front of a mirror, its reflection outside the mirror"),
    ("a {c} {o} lit from the left, its shadow falls to the right",
     "a {c} {o} lit from the left, its shadow falls to the left"),
    ("a {c} {o} next to a glass jar that is completely full of water",
     "a {c} {o} next to a glass jar that is completely empty"),
    ("a {c} {o} on top of a box", "a {c} {o} under a box"),
    ("a {c} {o} falling into water with a splash", "a {c} {o} lying still beside calm water"),
)
TEXTURE_TEMPLATE = "a {c} {m} {o} resting on a table in front of a mirror"
MAX_CACHE = 8

Encode = Callable[[str], tuple]


@dataclass(frozen=True)
class Subspace:
    P: torch.Tensor            # [kP, D] orthonormal rows
    T: torch.Tensor            # [kT, D]
    P_pooled: torch.Tensor | None
    T_pooled: torch.Tensor | None
    width: int
    fingerprint: str

    def project(self, v: torch.Tensor) -> torch.Tensor:
        """P(v): the component of v [..., D] in the physics subspace."""
        return _proj(v, self.P)

    def project_pooled(self, v: torch.Tensor) -> torch.Tensor | None:
        return None if self.P_pooled is None or v.shape[-1] != self.P_pooled.shape[-1] else _proj(v, self.P_pooled)


def _proj(v: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    b = basis.to(device=v.device, dtype=torch.float32)
    return ((v.float() @ b.T) @ b).to(v.dtype)


def contrastive_pairs(objects=(), max_objects: int = 1) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(physics pairs, texture pairs) from a vocabulary of object names (the CSG's, then defaults)."""
    objs = [o for o in dict.fromkeys(list(objects) + list(DEFAULT_OBJECTS)) if o and o.isascii()][:max_objects]
    phys, tex = [], []
    for i, o in enumerate(objs):
        c = COLORS[i % len(COLORS)]
        phys += [(a.format(c=c, o=o), b.format(c=c, o=o)) for a, b in PHYSICS_TEMPLATES]
        for j in range(2):
            m = MATERIALS[(i + j) % len(MATERIALS)]
            tex.append((TEXTURE_TEMPLATE.format(c=COLORS[j], m=m, o=o), TEXTURE_TEMPLATE.format(c=COLORS[j + 1], m=m, o=o)))
            tex.append((TEXTURE_TEMPLATE.format(c=c, m=MATERIALS[j], o=o),
                        TEXTURE_TEMPLATE.format(c=c, m=MATERIALS[j + 1], o=o)))
    return phys, tex


def _summary(encoded) -> tuple[torch.Tensor, torch.Tensor | None]:
    tokens, pooled = encoded
    t = tokens.detach().float()
    if t.ndim == 3:
        t = t[0]
    if t.ndim != 2:
        raise LinaError(f"the text encoder returned tokens of shape {tuple(tokens.shape)}; expected [L, D].",
                        field="clip")
    p = None if pooled is None else pooled.detach().float().reshape(-1)
    return t.mean(0), p


def _basis(diffs: torch.Tensor, k: int, rel_tol: float = 1e-3) -> torch.Tensor:
    """Top-k right singular vectors of diffs [N, D] (those above rel_tol of the largest)."""
    if diffs.numel() == 0:
        return diffs.new_zeros((0, diffs.shape[-1]))
    _, s, vh = torch.linalg.svd(diffs.double(), full_matrices=False)
    if s.numel() == 0 or float(s[0]) <= 0:
        return diffs.new_zeros((0, diffs.shape[-1]))
    keep = int(min(k, int((s > rel_tol * s[0]).sum())))
    return vh[:keep].float()


def _remove(diffs: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    return diffs - (diffs @ basis.T) @ basis if basis.shape[0] else diffs


def estimate(encode: Encode, objects=(), k_physics: int = 4, k_texture: int = 4, fingerprint: str = "") -> Subspace:
    """Estimate P and T (and their pooled counterparts) with ``encode``."""
    phys, tex = contrastive_pairs(objects)
    cache: dict[str, tuple] = {}

    def enc(text):
        if text not in cache:
            cache[text] = _summary(encode(text))
        return cache[text]

    def diffs(pairs, pooled: bool):
        rows = []
        for a, b in pairs:
            ea, eb = enc(a), enc(b)
            va, vb = (ea[1], eb[1]) if pooled else (ea[0], eb[0])
            if va is None or vb is None:
                return None
            rows.append(va - vb)
        return torch.stack(rows)

    dp, dt = diffs(phys, False), diffs(tex, False)
    if not (torch.isfinite(dp).all() and torch.isfinite(dt).all()):
        raise LinaError("the text encoder returned NaN or infinite values for the contrastive prompts.", field="clip",
                        fix="check the text encoder file (it may be corrupted or loaded in a broken dtype).")
    T = _basis(dt, k_texture)
    P = _basis(_remove(dp, T), k_physics)
    pp, pt = diffs(phys, True), diffs(tex, True)
    P_pooled = T_pooled = None
    if pp is not None and pt is not None and torch.isfinite(pp).all() and torch.isfinite(pt).all():
        T_pooled = _basis(pt, k_texture)
        P_pooled = _basis(_remove(pp, T_pooled), k_physics)
    return Subspace(P=P, T=T, P_pooled=P_pooled, T_pooled=T_pooled, width=int(dp.shape[-1]), fingerprint=fingerprint)


def fingerprint(encode: Encode, encoder_id: str = "") -> str:
    """Identity of an encoder: its width, id, and a hash of its encoding of a fixed sentence."""
    tok, pooled = _summary(encode(PROBE))
    h = hashlib.sha256()
    h.update(encoder_id.encode())
    h.update(str(tok.shape[-1]).encode())
    h.update(tok.to(torch.float32).cpu().numpy().round(4).tobytes())
    if pooled is not None:
        h.update(pooled.to(torch.float32).cpu().numpy().round(4).tobytes())
    return f"{encoder_id or 'encoder'}-{tok.shape[-1]}-{h.hexdigest()[:16]}"


class SubspaceCache:
    """A small LRU of subspaces keyed by encoder fingerprint (thread-safe)."""

    def __init__(self, size: int = MAX_CACHE):
        self.size = size
        self._d: OrderedDict[str, Subspace] = OrderedDict()
        self._lock = threading.Lock()
        self.misses = 0

    def get(self, encode: Encode, encoder_id: str = "", objects=()) -> Subspace:
        fp = fingerprint(encode, encoder_id)
        if objects:
            fp = f"{fp}|{','.join(objects)}"
        with self._lock:
            if fp in self._d:
                self._d.move_to_end(fp)
                return self._d[fp]
        sub = estimate(encode, objects, fingerprint=fp)
        with self._lock:
            self.misses += 1
            self._d[fp] = sub
            while len(self._d) > self.size:
                self._d.popitem(last=False)
        return sub


CACHE = SubspaceCache()
