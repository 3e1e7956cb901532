"""The adapter-training config: a frozen, validated, JSON-able object (``lina adapter train --config FILE``)."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..errors import LinaError
from ..intervention.action_space import ACTIONS, check_actions

CONFIG_VERSION = "1"


class TrainError(LinaError):
    """A training config, pool, runner or judge that cannot be used, or a judge that failed."""


@dataclass(frozen=True)
class TrainConfig:
    pools: tuple = ("physworld:ood_test:1000:200", "physworld:id_test:1000:40")   # what is searched
    exclude: tuple = ("physworld:ood_test:0:200", "physworld:id_test:0:100")      # prompts never trained on
    actions: dict = field(default_factory=lambda: {k: dict(v) for k, v in ACTIONS.items()})
    seeds: int = 1                 # seeds searched per prompt and action
    seed: int = 0                  # base of every search seed
    workers: int = 1               # parallel search processes
    threads: int = 1               # torch threads per worker
    runner: str = "lina_nodes.evaluation.physworld_plugins:PhysWorldRunner"
    runner_args: dict = field(default_factory=dict)
    judge: str = "lina_nodes.evaluation.physworld_plugins:physworld_judge"
    ridge: float = 1.0             # L2 penalty of the per-action regression
    holdout: dict = field(default_factory=dict)   # {label: value}: items with that label are not fitted on
    folds: int = 5                 # cross-validation folds of the report
    outside_support: str = "add"   # outside the fitted support: "add" (actions that keep the prior's levers) / "prior"
    version: str = CONFIG_VERSION

    def to_dict(self) -> dict:
        d = asdict(self)
        d["pools"], d["exclude"] = list(self.pools), list(self.exclude)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        if not isinstance(d, dict):
            raise TrainError("the config must be a JSON object.", field="config", fix="see docs/adapter_training.md.")
        known = {f.name for f in fields(cls)}
        bad = sorted(set(d) - known)
        if bad:
            raise TrainError(f"unknown field(s) {', '.join(bad)}.", field="config",
                             fix=f"use only {', '.join(sorted(known))}.")
        kw = dict(d)
        for k in ("pools", "exclude"):
            if k in kw:
                if isinstance(kw[k], str) or not all(isinstance(x, str) for x in kw[k]):
                    raise TrainError("expected a list of pool specs (strings).", field=f"config.{k}")
                kw[k] = tuple(kw[k])
        return validate(cls(**kw))

    @classmethod
    def load(cls, path) -> TrainConfig:
        p = Path(path)
        try:
            text = p.read_text()
            return cls.from_dict(json.loads(text))
        except OSError as e:
            raise TrainError(f"{p}: cannot read ({e.strerror}).", field="config", fix="give a JSON config file.") \
                from None
        except ValueError as e:
            raise TrainError(f"{p}: not valid JSON ({e}).", field="config", fix="fix the JSON.") from None


def validate(c: TrainConfig) -> TrainConfig:
    """Check every field (names the field); returns the config with the actions checked."""
    ints = {"seeds": (1, 64), "workers": (1, 256), "threads": (1, 256), "folds": (2, 100), "seed": (0, 2**31 - 1)}
    for name, (lo, hi) in ints.items():
        v = getattr(c, name)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise TrainError(f"must be an integer in [{lo}, {hi}], got {v!r}.", field=f"config.{name}")
    if isinstance(c.ridge, bool) or not isinstance(c.ridge, (int, float)) or not math.isfinite(c.ridge) or c.ridge < 0:
        raise TrainError(f"must be a finite number >= 0, got {c.ridge!r}.", field="config.ridge")
    if not c.pools:
        raise TrainError("no pool to search.", field="config.pools", fix='e.g. ["physworld:ood_test:1000:160"].')
    for k in ("runner", "judge"):
        v = getattr(c, k)
        if not isinstance(v, str) or ":" not in v:
            raise TrainError(f"expected 'module:attribute', got {v!r}.", field=f"config.{k}")
    for k in ("runner_args", "holdout"):
        if not isinstance(getattr(c, k), dict):
            raise TrainError("expected a JSON object.", field=f"config.{k}")
    from ..intervention.adapter import OUTSIDE_SUPPORT

    if c.outside_support not in OUTSIDE_SUPPORT:
        raise TrainError(f"must be one of {', '.join(OUTSIDE_SUPPORT)}, got {c.outside_support!r}.",
                         field="config.outside_support")
    if c.version != CONFIG_VERSION:
        raise TrainError(f"config version {c.version!r}; this LINA reads {CONFIG_VERSION!r}.", field="config.version")
    actions = check_actions(c.actions, "config.actions")
    if "prior" not in actions:
        raise TrainError("the action space must contain 'prior' (the fallback and the baseline).",
                         field="config.actions", fix='add "prior": {"mode": "substitute"}.')
    from dataclasses import replace

    return replace(c, actions=actions, seed=int(c.seed), ridge=float(c.ridge))
