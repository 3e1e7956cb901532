"""LINA adapter files: a plan predictor and its encoder's physics / texture subspaces in one .safetensors.

Format ``lina-adapter`` version 1 (LINA_METHOD.md 2.5) [ours]:

* tensors ``subspace.P`` [kP, D], ``subspace.T`` [kT, D] (orthonormal rows), optionally
  ``subspace.P_pooled`` / ``subspace.T_pooled`` [k, Dp]; ``head.weight`` [len(OUTPUTS), len(FEATURES)]
  and ``head.bias`` [len(OUTPUTS)];
* metadata: ``format``, ``format_version``, ``encoder_fingerprint`` (``subspace.fingerprint`` of the
  text encoder it was made for: width, encoder class and a hash of one fixed encoding), ``width``,
  ``family``, ``features`` and ``outputs`` (JSON lists, checked against this code's), ``source``
  (``prior`` for an adapter that reproduces the training-free prior, ``trained`` otherwise) and a free
  JSON ``training`` record (data hash, judge, scores).

The predictor reads CSG features (``csg_features``) and bounds every output to its plan range:
``out = lo + (hi - lo) * sigmoid(W f + b)``. ``prior_adapter`` writes the weights that reproduce
the training-free prior exactly (hop one-hot features), the starting point that amortised search
refines. Loading never unpickles anything and refuses, naming the field: a file that is not
safetensors, another format or version, missing or mis-shaped tensors, NaN / infinite values, and
(at LINA Plan) an encoder other than the one the adapter was made for.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from ..csg.model import CSG
from ..errors import LinaError
from .plan import RANGES
from .prior import W_IMPLIED, hop_strengths, node_weights, plan_hop
from .structure import STRUCTURE_SHARES, structure_plan
from .subspace import Subspace

FORMAT = "lina-adapter"
FORMAT_VERSION = "2"   # 2: + defers_placement_only (the fine-placement structure prompt)
FEATURES = ("hop0", "hop1", "hop2", "implied_nodes", "causal_edges", "spatial_edges", "action_edges",
            "comparative_edges", "has_structure_prompt", "defers_placement_only")
OUTPUTS = {k: RANGES[k] for k in    # plan field -> (lo, hi): the plan's own ranges
           ("prompt_strength", "latent_strength", "latent_decay", "early_share", "structure_share")}
_OFF = -30.0   # logit that rounds to the range's low end


class AdapterError(LinaError):
    """A LINA adapter file that is missing, corrupted, of another format, or made for another encoder."""


def csg_features(g: CSG) -> torch.Tensor:
    """The predictor's input for one graph: hop one-hot (deepest hop of a weighted node, capped at 2),
    counts of implied nodes and of causal / spatial / action / comparative edges (each / 4, capped at 1),
    and whether the graph has a structure prompt."""
    w = node_weights(g)
    active = [n for n in g.nodes if w.get(n.id, 0.0) > 0]
    hop = plan_hop(g, w)
    kinds = [e.kind for e in g.edges]
    f = [float(hop == 0), float(hop == 1), float(hop == 2),
         min(sum(1 for n in active if w[n.id] >= W_IMPLIED) / 4.0, 1.0)]
    f += [min(kinds.count(k) / 4.0, 1.0) for k in ("causal", "spatial", "action", "comparative")]
    _, _, deferred = structure_plan(g)
    grounds = [d for d in deferred if d != "fine placement"]
    f += [float(bool(deferred)), float(bool(deferred) and not grounds)]
    return torch.tensor(f, dtype=torch.float32)


@dataclass(frozen=True)
class LinaAdapter:
    subspace: Subspace
    weight: torch.Tensor        # [len(OUTPUTS), len(FEATURES)]
    bias: torch.Tensor          # [len(OUTPUTS)]
    family: str = ""
    source: str = "trained"
    training: str = "{}"
    path: str = ""

    @property
    def fingerprint(self) -> str:
        return self.subspace.fingerprint

    @property
    def width(self) -> int:
        return self.subspace.width

    def predict(self, g: CSG) -> dict:
        """{plan field: value} for one graph, each inside its plan range (rounded to 4 decimals)."""
        z = torch.sigmoid(self.weight @ csg_features(g) + self.bias)
        return {k: round(lo + (hi - lo) * float(v), 4) for (k, (lo, hi)), v in zip(OUTPUTS.items(), z)}

    def plan_overrides(self, csg: CSG, pooled=None) -> dict:
        """LINA Plan's adapter interface (``pooled`` is accepted for predictors that read it; version 1 does not).
        A graph with no physical node or relation gets no override: the prior's no-op plan stands."""
        if not any(v > 0 for v in node_weights(csg).values()):
            return {}
        out = self.predict(csg)
        if out["structure_share"] > 0.0 and not structure_plan(csg)[2]:
            out["structure_share"] = 0.0
        return out


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def prior_adapter(subspace: Subspace, family: str = "") -> LinaAdapter:
    """An adapter whose predictor reproduces the training-free prior (``prior.py``) for any graph with a
    physical node: ``hop_strengths`` of its hop, structure share 0.5 when it has a structure prompt, else 0."""
    W = torch.zeros(len(OUTPUTS), len(FEATURES))
    b = torch.zeros(len(OUTPUTS))
    rows = list(OUTPUTS)
    for h in range(3):   # hop one-hot: the logit of the prior's value for that hop
        for name, v in hop_strengths(h).items():
            lo, hi = OUTPUTS[name]
            W[rows.index(name), FEATURES.index(f"hop{h}")] = _logit((v - lo) / (hi - lo))
    lo, hi = OUTPUTS["structure_share"]
    b[rows.index("structure_share")] = _OFF
    ground, placement = (_logit((v - lo) / (hi - lo)) for v in (STRUCTURE_SHARES["ground_cover"],
                                                                STRUCTURE_SHARES["placement"]))
    W[rows.index("structure_share"), FEATURES.index("has_structure_prompt")] = ground - _OFF
    W[rows.index("structure_share"), FEATURES.index("defers_placement_only")] = placement - ground
    return LinaAdapter(subspace, W, b, family=family, source="prior")


def save_adapter(adapter: LinaAdapter, path, training: dict | None = None) -> str:
    from safetensors.torch import save_file

    s = adapter.subspace
    tensors = {"subspace.P": s.P, "subspace.T": s.T, "head.weight": adapter.weight, "head.bias": adapter.bias}
    if s.P_pooled is not None and s.T_pooled is not None:
        tensors.update({"subspace.P_pooled": s.P_pooled, "subspace.T_pooled": s.T_pooled})
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "encoder_fingerprint": s.fingerprint,
            "width": str(s.width), "family": adapter.family, "features": json.dumps(list(FEATURES)),
            "outputs": json.dumps(list(OUTPUTS)), "source": adapter.source,
            "training": json.dumps(training if training is not None else json.loads(adapter.training or "{}"))}
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().float().cpu().clone().contiguous() for k, v in tensors.items()}, str(p), metadata=meta)
    return str(p)


MAX_ADAPTER_BYTES = 256 * 1024 * 1024
MAX_ADAPTER_HEADER = 1024 * 1024
MAX_WIDTH = 16384
MAX_RANK = 1024


def _check_header(p: Path) -> None:
    """Size and header-length bounds, read from the first 8 bytes, before safetensors parses anything."""
    size = p.stat().st_size
    if size > MAX_ADAPTER_BYTES:
        raise AdapterError(f"{p}: larger than {MAX_ADAPTER_BYTES // 2**20} MB; not a LINA adapter.", field="adapter")
    with open(p, "rb") as f:
        head = f.read(8)
    n = int.from_bytes(head, "little") if len(head) == 8 else -1
    if not 1 < n <= min(MAX_ADAPTER_HEADER, size - 8):
        raise AdapterError(f"{p}: not a readable safetensors file (bad or oversized header).", field="adapter",
                           fix="use a LINA adapter .safetensors (pickled .pt/.ckpt files are never loaded).")


def _check_shapes(p: Path, meta: dict, shapes: dict) -> None:
    """Tensor names and shapes, from the header only, before any tensor is read."""
    for k, shape in shapes.items():
        if k not in ("subspace.P", "subspace.T", "subspace.P_pooled", "subspace.T_pooled", "head.weight",
                     "head.bias"):
            raise AdapterError(f"{p}: unexpected tensor {k[:80]!r}.", field="adapter", fix="re-export the adapter.")
        if len(shape) > 2 or any(d > MAX_WIDTH for d in shape) or (k.startswith("subspace.") and shape
                                                                     and shape[0] > MAX_RANK):
            raise AdapterError(f"{p}: tensor {k!r} has shape {shape}, beyond an adapter's bounds "
                               f"(rank <= {MAX_RANK}, width <= {MAX_WIDTH}).", field=f"adapter.{k}",
                               fix="re-export the adapter.")


def _check_version(p, meta: dict) -> None:
    have = str(meta.get("format_version", "")).split(".")[0]
    if have != FORMAT_VERSION:
        how = ("version 1 adapters predate the fine-placement feature: write this encoder's prior adapter again with "
               "`lina adapter prior --out FILE [--checkpoint CKPT]`" if have == "1" else "re-export it with this LINA")
        raise AdapterError(f"{p}: format version {meta.get('format_version')!r} is not supported (this LINA reads "
                           f"{FORMAT_VERSION}).", field="adapter.format_version", fix=how + ".")


def load_adapter(path) -> LinaAdapter:
    """Read and validate an adapter file (see the module docstring); raises AdapterError naming the field."""
    from safetensors import safe_open

    p = Path(str(path))
    if not p.is_file():
        raise AdapterError(f"{p}: no such file.", field="adapter", fix="give the path of a LINA adapter .safetensors.")
    _check_header(p)
    try:
        with safe_open(str(p), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {}
            if meta.get("format") == FORMAT:   # another format is refused below, by name, without reading it
                _check_version(p, meta)
                _check_shapes(p, meta, {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()})
                tensors = {k: f.get_tensor(k) for k in f.keys()}
    except AdapterError:
        raise
    except Exception as e:  # noqa: BLE001 - safetensors raises its own, unexported error types
        raise AdapterError(f"{p}: not a readable safetensors file ({str(e)[:200]}).", field="adapter",
                           fix="use a LINA adapter .safetensors (pickled .pt/.ckpt files are never loaded).") from None
    if meta.get("format") != FORMAT:
        raise AdapterError(f"{p}: metadata format is {meta.get('format')!r}, not {FORMAT!r}.", field="adapter.format",
                           fix="this is not a LINA adapter (a PhysWorld model or checkpoint goes into a loader node).")
    for key, want in (("features", FEATURES), ("outputs", tuple(OUTPUTS))):
        try:
            got = tuple(json.loads(meta.get(key, "null")) or ())
        except ValueError:
            got = None
        if got != want:
            raise AdapterError(f"{p}: {key} {got} do not match this LINA's {list(want)}.", field=f"adapter.{key}",
                               fix="re-export the adapter with this version of LINA.")
    for k in ("subspace.P", "subspace.T", "head.weight", "head.bias"):
        if k not in tensors:
            raise AdapterError(f"{p}: tensor {k!r} is missing.", field=f"adapter.{k}", fix="re-export the adapter.")
    for k, t in tensors.items():
        if not torch.isfinite(t).all():
            raise AdapterError(f"{p}: tensor {k!r} has NaN or infinite values.", field=f"adapter.{k}",
                               fix="re-export the adapter.")
    P, T = tensors["subspace.P"], tensors["subspace.T"]
    try:
        width = int(meta.get("width", "0"))
    except ValueError:
        width = 0
    if P.ndim != 2 or T.ndim != 2 or P.shape[1] != width or T.shape[1] != width:
        raise AdapterError(f"{p}: subspaces {tuple(P.shape)} / {tuple(T.shape)} do not match width {width}.",
                           field="adapter.subspace", fix="re-export the adapter.")
    W, b = tensors["head.weight"], tensors["head.bias"]
    if tuple(W.shape) != (len(OUTPUTS), len(FEATURES)) or tuple(b.shape) != (len(OUTPUTS),):
        raise AdapterError(f"{p}: head shapes {tuple(W.shape)} / {tuple(b.shape)}, expected "
                           f"({len(OUTPUTS)}, {len(FEATURES)}) / ({len(OUTPUTS)},).", field="adapter.head",
                           fix="re-export the adapter.")
    if not meta.get("encoder_fingerprint"):
        raise AdapterError(f"{p}: no encoder_fingerprint in the metadata.", field="adapter.encoder_fingerprint",
                           fix="re-export the adapter.")
    sub = Subspace(P=P, T=T, P_pooled=tensors.get("subspace.P_pooled"), T_pooled=tensors.get("subspace.T_pooled"),
                   width=width, fingerprint=meta["encoder_fingerprint"])
    return LinaAdapter(sub, W, b, family=meta.get("family", ""), source=meta.get("source", "trained"),
                       training=meta.get("training", "{}"), path=str(p))
