"""Configuration of the PhysWorld model and its training run (dataclasses <-> JSON).

``default.json`` next to this module is the shipped recipe; ``load_config(path)`` reads a user
file, fills missing fields from the defaults and rejects unknown fields with a clear message.
"""
from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..errors import LinaError
from ..physworld.split import DEFAULT_SPLIT

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default.json")


class ConfigError(LinaError):
    """Bad PhysWorld model / training configuration."""


@dataclass
class TextConfig:
    max_len: int = 32          # tokens incl. <bos>/<eos>; prompts are padded to exactly this length
    dim: int = 128
    layers: int = 2
    heads: int = 4
    ff_mult: int = 2


@dataclass
class DenoiserConfig:
    image_size: int = 64       # training resolution (the network is convolutional; 64 is the target)
    in_channels: int = 3
    patch: int = 4             # pixel-unshuffle factor of the stem (64x64x3 -> 16x16x48)
    channels: list = field(default_factory=lambda: [64, 128])
    num_res_blocks: list = field(default_factory=lambda: [2, 2])
    attention: list = field(default_factory=lambda: [False, True])
    heads: int = 4
    time_dim: int = 256
    context_dim: int = 128     # must equal text.dim
    groups: int = 8
    predict: str = "x0"        # what the network outputs: "x0" (clean image) or "v"; forward returns v either way


@dataclass
class DiffusionConfig:
    kind: str = "rectified_flow"   # x_t = (1-t) x0 + t eps, the model predicts v = eps - x0
    shift: float = 1.0             # ComfyUI ModelSamplingDiscreteFlow shift
    t_logit_mean: float = 0.0      # logit-normal training-time distribution
    t_logit_std: float = 1.0


@dataclass
class DataConfig:
    image_size: int = 64
    dataset: str = ""              # a built PhysWorld dataset dir; "" = render the train split on the fly
    dataset_seed: int = 0          # BuildConfig.seed of the on-the-fly stream
    categories: list = field(default_factory=list)   # empty = all PhysWorld categories
    cond_dropout: float = 0.1      # share of prompts replaced by "" (classifier-free guidance)
    split: str = DEFAULT_SPLIT     # OOD split version the training stream leaves out (physworld.split)


@dataclass
class TrainConfig:
    seed: int = 0
    steps: int = 6000
    batch_size: int = 32
    lr: float = 5e-4
    warmup: int = 200
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    ema: float = 0.999
    num_threads: int = 1
    log_every: int = 25
    checkpoint_every: int = 250
    keep_checkpoints: int = 2
    time_budget_s: float = 7200.0  # stop (with a checkpoint) after this much training time


@dataclass
class SampleConfig:
    steps: int = 20
    cfg: float = 4.0
    sampler: str = "euler"
    scheduler: str = "simple"


@dataclass
class Config:
    text: TextConfig = field(default_factory=TextConfig)
    denoiser: DenoiserConfig = field(default_factory=DenoiserConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    sample: SampleConfig = field(default_factory=SampleConfig)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def model_dict(self) -> dict:
        """The part that defines the network (stored in weights metadata)."""
        d = self.to_dict()
        return {k: d[k] for k in ("text", "denoiser", "diffusion", "sample")}

    @classmethod
    def from_dict(cls, d: dict, where: str = "config") -> Config:
        if not isinstance(d, dict):
            raise ConfigError(f"expected a JSON object, got {type(d).__name__}", field=where)
        out = {}
        for f in fields(cls):
            sub = d.get(f.name, {})
            sub_cls = f.default_factory
            if not isinstance(sub, dict):
                raise ConfigError(f"expected an object, got {type(sub).__name__}", field=f"{where}.{f.name}")
            base = asdict(sub_cls())
            unknown = set(sub) - set(base)
            if unknown:
                raise ConfigError(f"unknown field(s) {sorted(unknown)}", field=f"{where}.{f.name}",
                                  fix=f"use only {sorted(base)}.")
            merged = copy.deepcopy(base)
            for k, v in sub.items():
                if base[k] is not None and not isinstance(v, type(base[k])) and not (
                        isinstance(base[k], float) and isinstance(v, int)):
                    raise ConfigError(f"expected {type(base[k]).__name__}, got {v!r}", field=f"{where}.{f.name}.{k}")
                merged[k] = float(v) if isinstance(base[k], float) else v
            out[f.name] = sub_cls(**merged)
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"unknown section(s) {sorted(unknown)}", field=where,
                              fix="use text, denoiser, diffusion, data, train, sample.")
        cfg = cls(**out)
        cfg.validate(where)
        return cfg

    def validate(self, where: str = "config") -> None:
        dn, tx = self.denoiser, self.text
        if dn.context_dim != tx.dim:
            raise ConfigError(f"denoiser.context_dim ({dn.context_dim}) differs from text.dim ({tx.dim})",
                              field=f"{where}.denoiser.context_dim", fix="make them equal.")
        n = len(dn.channels)
        if not (len(dn.num_res_blocks) == len(dn.attention) == n) or n < 1:
            raise ConfigError("channels, num_res_blocks and attention need the same (non-zero) length",
                              field=f"{where}.denoiser")
        if any(c % dn.groups for c in dn.channels):
            raise ConfigError(f"every channel count must be divisible by groups={dn.groups}",
                              field=f"{where}.denoiser.channels")
        down = dn.patch * 2 ** (n - 1)
        if dn.image_size % down or self.data.image_size % down:
            raise ConfigError(f"image size must be a multiple of patch * 2^(levels-1) = {down}",
                              field=f"{where}.denoiser.image_size")
        if tx.dim % tx.heads or dn.channels[-1] % dn.heads:
            raise ConfigError("dims must be divisible by the number of heads", field=f"{where}.heads")
        if self.train.batch_size < 1 or self.train.steps < 1:
            raise ConfigError("steps and batch_size must be >= 1", field=f"{where}.train")
        if self.data.image_size != dn.image_size:
            raise ConfigError(f"data.image_size ({self.data.image_size}) differs from denoiser.image_size "
                              f"({dn.image_size})", field=f"{where}.data.image_size", fix="make them equal.")
        if not 0.0 <= self.data.cond_dropout < 1.0:
            raise ConfigError("cond_dropout must be in [0, 1)", field=f"{where}.data.cond_dropout")
        if dn.predict not in ("x0", "v"):
            raise ConfigError(f"unknown prediction {dn.predict!r}", field=f"{where}.denoiser.predict",
                              fix="use 'x0' or 'v'.")
        if self.diffusion.kind != "rectified_flow":
            raise ConfigError(f"unsupported diffusion kind {self.diffusion.kind!r}",
                              field=f"{where}.diffusion.kind", fix="use 'rectified_flow'.")


def load_config(path: str | Path | None = None, overrides: dict | None = None) -> Config:
    """Read a config JSON (default: the shipped ``default.json``), then apply dotted overrides
    such as ``{"train.steps": 10}``."""
    p = Path(path) if path else DEFAULT_CONFIG_PATH
    try:
        d = json.loads(p.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {p} does not exist", field="config",
                          fix="pass an existing JSON file, or omit --config for the default.") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"config file {p} is not valid JSON ({e})", field="config") from None
    for key, value in (overrides or {}).items():
        parts = key.split(".")
        if len(parts) != 2:
            raise ConfigError(f"override {key!r} must look like section.field", field="config")
        d.setdefault(parts[0], {})[parts[1]] = value
    return Config.from_dict(d, where=str(p.name))
