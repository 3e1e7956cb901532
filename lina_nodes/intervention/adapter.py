"""LINA adapter files: a per-prompt action predictor and its encoder's physics / texture subspaces in one
.safetensors.

Format ``lina-adapter`` version 3 [ours]:

* tensors ``subspace.P`` [kP, D], ``subspace.T`` [kT, D] (orthonormal rows), optionally
  ``subspace.P_pooled`` / ``subspace.T_pooled`` [k, Dp]; ``head.weight`` [A, len(FEATURES)] and
  ``head.bias`` [A], one row per action; optionally ``support.patterns`` [M, len(CSG_FEATURES)], the CSG
  feature rows the adapter saw often enough in training (what it does outside them: ``outside_support``);
* metadata: ``format``, ``format_version``, ``encoder_fingerprint`` (``subspace.fingerprint`` of the
  text encoder it was made for), ``width``, ``family``, ``features`` (JSON list, checked against this
  code's), ``actions`` (JSON {name: {plan field: value}}, the action space it was trained on, checked
  against the plan's ranges), ``action_space`` (its version), ``source`` (``prior`` or ``trained``),
  ``outside_support`` (``OUTSIDE_SUPPORT``; absent: ``prior``) and a free JSON ``training`` record (pool, judge,
  scores, seeds).

The predictor reads the prompt's CSG features and, where the encoder has a pooled output, that output
projected on the physics subspace (``features``), scores every action linearly (``head.weight @ f +
head.bias``: the expected judge score, fitted by ``lina adapter train``) and returns the best action's plan
changes, each inside its plan range. ``prior_adapter`` writes the one-action adapter that reproduces the
training-free prior. Loading never unpickles anything and refuses, naming the file and the field: a file
that is not safetensors, another format or version (1 and 2 with how to convert), missing or mis-shaped
tensors, NaN / infinite values, an unknown action or out-of-range value, and (at LINA Plan) an encoder
other than the one the adapter was made for.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from ..csg.model import CSG
from ..errors import LinaError
from .action_space import ACTION_SPACE_VERSION, COMPATIBLE, check_actions, keeps_prior
from .plan import PlanError
from .prior import W_IMPLIED, node_weights, plan_hop
from .structure import structure_plan
from .subspace import Subspace

FORMAT = "lina-adapter"
FORMAT_VERSION = "3"   # 3: an action predictor over a named action space (2: five plan scalars)
POOLED_DIMS = 8        # pooled output projected on the first physics directions (zeros without one)
CSG_FEATURES = ("hop0", "hop1", "hop2", "implied_nodes", "causal_edges", "spatial_edges", "action_edges",
                "comparative_edges", "has_structure_prompt", "defers_placement_only", "subject_small", "subject_large",
                "reference_small", "reference_large", "has_counterfactual")
FEATURES = CSG_FEATURES + tuple(f"pooled_{i}" for i in range(POOLED_DIMS))
MAX_ACTIONS = 256
# What an adapter does for a prompt whose CSG feature row it never trained on: "prior" keeps the prior's plan;
# "add" chooses its best action among those that keep every lever the prior turns on (``keeps_prior``), so a
# lever learned on one failure type may reach a new one, but nothing the prior does is ever taken away there.
OUTSIDE_SUPPORT = ("prior", "add")


def outside_allowed(changes: list, outside_support: str) -> list[bool] | None:
    """Which actions (their plan changes, in head-row order) an adapter may choose outside its support; None
    when it keeps the prior's plan there."""
    return [keeps_prior(ch) for ch in changes] if outside_support == "add" else None


class AdapterError(LinaError):
    """A LINA adapter file that is missing, corrupted, of another format, or made for another encoder."""


def csg_features(g: CSG) -> torch.Tensor:
    """The CSG part of the predictor's input: hop one-hot (deepest hop of a weighted node, capped at 2),
    counts of implied nodes and of causal / spatial / action / comparative edges (each / 4, capped at 1),
    whether the graph has a structure prompt and whether it defers only a fine placement, whether the subject
    (source) / the reference (destination) of a spatial or action edge is small / large, and whether it has a
    counterfactual (an action whose roles reverse)."""
    from .counterfactual import counterfactual_prompt

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
    size = {n.id: n.physics.get("size") for n in g.nodes}
    rel = [e for e in g.edges if e.kind in ("spatial", "action") and not e.negated]
    subj, ref = {size.get(e.src) for e in rel}, {size.get(e.dst) for e in rel}
    f += [float("small" in subj), float("large" in subj), float("small" in ref), float("large" in ref),
          float(bool(counterfactual_prompt(g)))]
    return torch.tensor(f, dtype=torch.float32)


def pooled_features(pooled, subspace: Subspace | None) -> torch.Tensor:
    """The pooled output (unit norm) on the first ``POOLED_DIMS`` pooled physics directions; zeros when the
    encoder has no pooled output or the subspace no pooled directions."""
    out = torch.zeros(POOLED_DIMS)
    P = getattr(subspace, "P_pooled", None)
    if not isinstance(pooled, torch.Tensor) or P is None or pooled.shape[-1] != P.shape[-1]:
        return out
    v = pooled.detach().float().reshape(-1, pooled.shape[-1])[0].cpu()
    z = P[:POOLED_DIMS].float() @ (v / v.norm().clamp_min(1e-8))
    out[: z.shape[0]] = z
    return out


def features(g: CSG, pooled=None, subspace: Subspace | None = None) -> torch.Tensor:
    """The predictor's whole input for one prompt (``FEATURES``)."""
    return torch.cat([csg_features(g), pooled_features(pooled, subspace)])


@dataclass(frozen=True)
class LinaAdapter:
    subspace: Subspace
    weight: torch.Tensor        # [A, len(FEATURES)]: expected score of each action
    bias: torch.Tensor          # [A]
    actions: tuple = (("prior", ()),)   # ((name, ((plan field, value), ...)), ...) in head-row order
    support: torch.Tensor | None = None   # [M, len(CSG_FEATURES)]: CSG feature rows trained on (None: any)
    family: str = ""
    source: str = "trained"
    training: str = "{}"
    path: str = ""
    outside_support: str = "prior"   # OUTSIDE_SUPPORT

    @property
    def fingerprint(self) -> str:
        return self.subspace.fingerprint

    @property
    def width(self) -> int:
        return self.subspace.width

    @property
    def action_names(self) -> tuple:
        return tuple(name for name, _ in self.actions)

    def _scores(self, fc: torch.Tensor, pooled) -> torch.Tensor:
        f = torch.cat([fc, pooled_features(pooled, self.subspace)])
        return self.weight.float() @ f + self.bias.float()

    def _supported(self, fc: torch.Tensor) -> bool:
        if self.support is None:
            return True
        return bool(len(self.support)) and bool(((self.support - fc).abs().max(dim=1).values < 1e-4).any())

    def scores(self, g: CSG, pooled=None) -> torch.Tensor:
        """Expected judge score of every action for one prompt."""
        return self._scores(csg_features(g), pooled)

    def choose(self, g: CSG, pooled=None) -> str:
        """The action with the highest expected score (ties: the first, i.e. the prior)."""
        return self.action_names[int(torch.argmax(self.scores(g, pooled)))]

    def predict(self, g: CSG, pooled=None) -> dict:
        """{plan field: value} of the chosen action (each inside its plan range)."""
        return dict(dict(self.actions)[self.choose(g, pooled)])

    def supports(self, g: CSG) -> bool:
        """Whether the graph's CSG features are among those the adapter was trained on often enough."""
        return self._supported(csg_features(g))

    def plan_overrides(self, csg: CSG, pooled=None) -> dict:
        """LINA Plan's adapter interface. A graph with no physical node or relation gets no override (the prior's
        no-op plan stands); one whose CSG features the adapter has no training support for gets its ``prior``
        action (the prior's plan in the action space's mode), or with ``outside_support`` "add" its best action
        among those that keep the prior's levers."""
        if not any(v > 0 for v in node_weights(csg).values()):
            return {}
        fc = csg_features(csg)   # computed once: the support check and the scores read it
        allowed = [True] * len(self.actions) if self._supported(fc) else \
            outside_allowed([ch for _, ch in self.actions], self.outside_support)
        if allowed is None:
            return dict(dict(self.actions).get("prior", ()))
        scores = self._scores(fc, pooled).masked_fill(~torch.tensor(allowed), float("-inf"))
        return dict(self.actions[int(torch.argmax(scores))][1])


def _freeze(actions: dict) -> tuple:
    return tuple((name, tuple(sorted(ch.items()))) for name, ch in actions.items())


def _check_outside_support(value, where: str) -> str:
    if value not in OUTSIDE_SUPPORT:
        raise AdapterError(f"{where}outside_support is {str(value)[:40]!r}; expected one of "
                           f"{', '.join(OUTSIDE_SUPPORT)}.", field="adapter.outside_support",
                           fix="re-export the adapter with this LINA.")
    return value


def make_adapter(subspace: Subspace, actions: dict, weight, bias, family: str = "", source: str = "trained",
                 training: dict | None = None, support=None, outside_support: str = "prior") -> LinaAdapter:
    """A validated adapter from an action space {name: changes}, its head and (optionally) its support and what
    it does outside it (``OUTSIDE_SUPPORT``)."""
    actions = check_actions(dict(actions))
    W, b = torch.as_tensor(weight, dtype=torch.float32), torch.as_tensor(bias, dtype=torch.float32)
    if tuple(W.shape) != (len(actions), len(FEATURES)) or tuple(b.shape) != (len(actions),):
        raise AdapterError(f"head shapes {tuple(W.shape)} / {tuple(b.shape)} do not match {len(actions)} actions x "
                           f"{len(FEATURES)} features.", field="adapter.head", fix="refit the adapter.")
    sup = None if support is None else torch.as_tensor(support, dtype=torch.float32).reshape(-1, len(CSG_FEATURES))
    return LinaAdapter(subspace, W, b, _freeze(actions), sup, family=family, source=source,
                       training=json.dumps(training or {}),
                       outside_support=_check_outside_support(outside_support, ""))


def prior_adapter(subspace: Subspace, family: str = "") -> LinaAdapter:
    """The one-action adapter that reproduces the training-free prior (``prior.py``) exactly."""
    return make_adapter(subspace, {"prior": {}}, torch.zeros(1, len(FEATURES)), torch.zeros(1), family=family,
                        source="prior")


def save_adapter(adapter: LinaAdapter, path, training: dict | None = None) -> str:
    from safetensors.torch import save_file

    s = adapter.subspace
    tensors = {"subspace.P": s.P, "subspace.T": s.T, "head.weight": adapter.weight, "head.bias": adapter.bias}
    if adapter.support is not None:
        tensors["support.patterns"] = adapter.support
    if s.P_pooled is not None and s.T_pooled is not None:
        tensors.update({"subspace.P_pooled": s.P_pooled, "subspace.T_pooled": s.T_pooled})
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "encoder_fingerprint": s.fingerprint,
            "width": str(s.width), "family": adapter.family, "features": json.dumps(list(FEATURES)),
            "actions": json.dumps({n: dict(ch) for n, ch in adapter.actions}),
            "action_space": ACTION_SPACE_VERSION, "source": adapter.source,
            "outside_support": adapter.outside_support,
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
                     "head.bias", "support.patterns"):
            raise AdapterError(f"{p}: unexpected tensor {k[:80]!r}.", field="adapter", fix="re-export the adapter.")
        if len(shape) > 2 or any(d > MAX_WIDTH for d in shape) or (k.startswith("subspace.") and shape
                                                                     and shape[0] > MAX_RANK):
            raise AdapterError(f"{p}: tensor {k!r} has shape {shape}, beyond an adapter's bounds "
                               f"(rank <= {MAX_RANK}, width <= {MAX_WIDTH}).", field=f"adapter.{k}",
                               fix="re-export the adapter.")


def _check_version(p, meta: dict) -> None:
    have = str(meta.get("format_version", "")).split(".")[0]
    if have != FORMAT_VERSION:
        how = (f"version {have} adapters predict five plan scalars from an older feature set, not actions: write this "
               "encoder's prior adapter again with `lina adapter prior --out FILE [--checkpoint CKPT]`, or train one "
               "with `lina adapter train`" if have in ("1", "2") else "re-export it with this LINA")
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
    try:
        got = tuple(json.loads(meta.get("features", "null")) or ())
    except ValueError:
        got = None
    if got != FEATURES:
        raise AdapterError(f"{p}: features {got} do not match this LINA's {list(FEATURES)}.", field="adapter.features",
                           fix="re-export the adapter with this version of LINA.")
    if meta.get("action_space") not in COMPATIBLE:
        raise AdapterError(f"{p}: action space version {meta.get('action_space')!r}, this LINA reads "
                           f"{', '.join(COMPATIBLE)}.", field="adapter.action_space",
                           fix="retrain the adapter with `lina adapter train` on this version.")
    try:
        raw = json.loads(meta.get("actions", "null"))
        if isinstance(raw, dict) and len(raw) > MAX_ACTIONS:
            raise PlanError(f"{len(raw)} actions; at most {MAX_ACTIONS}.", field="actions")
        actions = check_actions(raw, "adapter.actions")
    except (ValueError, PlanError) as e:
        raise AdapterError(f"{p}: {str(e)[:300]}", field="adapter.actions", fix="retrain or re-export the adapter.") \
            from None
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
    if tuple(W.shape) != (len(actions), len(FEATURES)) or tuple(b.shape) != (len(actions),):
        raise AdapterError(f"{p}: head shapes {tuple(W.shape)} / {tuple(b.shape)}, expected "
                           f"({len(actions)}, {len(FEATURES)}) / ({len(actions)},).", field="adapter.head",
                           fix="re-export the adapter.")
    sup = tensors.get("support.patterns")
    if sup is not None and (sup.ndim != 2 or sup.shape[1] != len(CSG_FEATURES)):
        raise AdapterError(f"{p}: support.patterns has shape {tuple(sup.shape)}, expected (M, {len(CSG_FEATURES)}).",
                           field="adapter.support.patterns", fix="re-export the adapter.")
    if not meta.get("encoder_fingerprint"):
        raise AdapterError(f"{p}: no encoder_fingerprint in the metadata.", field="adapter.encoder_fingerprint",
                           fix="re-export the adapter.")
    sub = Subspace(P=P, T=T, P_pooled=tensors.get("subspace.P_pooled"), T_pooled=tensors.get("subspace.T_pooled"),
                   width=width, fingerprint=meta["encoder_fingerprint"])
    outside = _check_outside_support(meta.get("outside_support", "prior"), f"{p}: ")
    return LinaAdapter(sub, W, b, _freeze(actions), sup, family=meta.get("family", ""),
                       source=meta.get("source", "trained"), training=meta.get("training", "{}"), path=str(p),
                       outside_support=outside)
