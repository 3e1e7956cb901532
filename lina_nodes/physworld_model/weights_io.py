"""PhysWorld weights and training checkpoints as .safetensors with metadata, and clear errors.

Model file (what ships in ``weights/`` and what the loader node reads): tensors
``text_encoder.*`` and ``denoiser.*`` (EMA weights) and string metadata
  format = "lina-physworld", format_version = "1", config (JSON: text/denoiser/diffusion/sample),
  vocab (JSON list), data_hash (sha256 of the training data), train (JSON summary),
  tensors_sha256 (checksum of every tensor's name, dtype, shape and bytes).
Checkpoint file (resume): ``model.*``, ``ema.*``, ``opt.<i>.<name>`` tensors and metadata
  format = "lina-physworld-checkpoint" with the full config, step, optimizer groups and history.
Nothing here unpickles anything: safetensors only, and the header is read and checked by hand
first so that a damaged file gets a message naming the file and the problem.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ..errors import WeightsError
from . import FORMAT_NAME, FORMAT_VERSION

CKPT_FORMAT = "lina-physworld-checkpoint"
CKPT_VERSION = 1
MAX_HEADER = 8 * 1024 * 1024      # a model's header is ~27 kB; a huge one costs seconds and memory to parse
MAX_TENSORS = 20_000
MAX_CONFIG_INT = 65_536           # any integer in a model config (widths, layers, sizes)
MAX_CONFIG_LIST = 16
MAX_VOCAB = 1_000_000
DTYPE_NAMES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64,
               "I32": torch.int32, "U8": torch.uint8, "BOOL": torch.bool, "F64": torch.float64}
_ELEM = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "U8": 1, "BOOL": 1, "F64": 8}


def tensors_sha256(tensors: dict) -> str:
    h = hashlib.sha256()
    for k in sorted(tensors):
        t = tensors[k].detach().contiguous().cpu()
        h.update(f"{k}|{t.dtype!s}|{tuple(t.shape)}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def _fail(path, problem, fix=None):
    raise WeightsError(f"{path}: {problem}", field="weights", fix=fix)


def read_header(path) -> tuple[dict, dict]:
    """(tensor table, metadata) of a safetensors file, checked for consistency with the file size."""
    p = Path(path)
    if not p.exists():
        _fail(p, "file not found.", "train a model with `lina physworld train`, or choose an existing "
                                    "physworld_*.safetensors file.")
    if not p.is_file():
        _fail(p, "is not a regular file.")
    size = p.stat().st_size
    with open(p, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            _fail(p, f"corrupted: only {size} bytes, too short to be a safetensors file.",
                  "re-download or re-train the weights.")
        (n,) = struct.unpack("<Q", head)
        if n > MAX_HEADER and 8 + n <= size:
            _fail(p, f"refused: the safetensors header is larger than {MAX_HEADER // (1024 * 1024)} MB.",
                  "use a PhysWorld model file written by `lina physworld train`.")
        if n <= 1 or n > MAX_HEADER or 8 + n > size:
            _fail(p, "corrupted: the header length field does not fit the file; "
                     "this is not a safetensors file, or it is truncated.", "re-download or re-train the weights.")
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        _fail(p, f"corrupted: the safetensors header is not valid JSON ({e}).", "re-download or re-train the weights.")
    if not isinstance(header, dict):
        _fail(p, "corrupted: the safetensors header is not a JSON object.")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        _fail(p, "tampered header: __metadata__ must map names to strings.")
    if len(header) > MAX_TENSORS:
        _fail(p, f"refused: the header lists more than {MAX_TENSORS} tensors.")
    data_len = size - 8 - n
    end_max = 0
    for k, info in header.items():
        try:
            dt, shape, (a, b) = info["dtype"], info["shape"], info["data_offsets"]
            count = 1
            if not isinstance(shape, list) or len(shape) > 8:
                raise ValueError("shape")
            for s in shape:
                if not isinstance(s, int) or isinstance(s, bool) or s < 0:
                    raise ValueError("shape")
                count *= s
            ok = dt in _ELEM and 0 <= a <= b <= data_len and (b - a) == count * _ELEM[dt]
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            _fail(p, f"tampered or corrupted header: tensor {k!r} has an inconsistent dtype/shape/offsets entry.",
                  "re-download or re-train the weights.")
        end_max = max(end_max, b)
    if end_max != data_len:
        _fail(p, f"corrupted: the header describes {end_max} bytes of tensor data but the file holds {data_len} "
                 "(truncated or padded).", "re-download or re-train the weights.")
    return header, meta


def _load_tensors(path, header) -> dict:
    out = {}
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            for k in header:
                out[k] = f.get_tensor(k)
    except Exception as e:  # noqa: BLE001 - safetensors raises its own, unexported error types
        _fail(path, f"corrupted: the tensors could not be read ({type(e).__name__}: {e}).",
              "re-download or re-train the weights.")
    return out


def _json_meta(path, meta, key, kind):
    if key not in meta:
        _fail(path, f"tampered header: metadata field {key!r} is missing.", "re-download or re-train the weights.")
    try:
        v = json.loads(meta[key])
    except json.JSONDecodeError as e:
        _fail(path, f"tampered header: metadata field {key!r} is not valid JSON ({e}).")
    if not isinstance(v, kind):
        _fail(path, f"tampered header: metadata field {key!r} should be a JSON {kind.__name__}.")
    return v


# ---------------------------------------------------------------------------------------------
@dataclass
class LoadedWeights:
    path: str
    config: dict        # model part of the config: text / denoiser / diffusion / sample
    vocab: list
    text_encoder: dict  # state dict
    denoiser: dict      # state dict
    metadata: dict


def save_model(path, text_sd: dict, den_sd: dict, config: dict, vocab: list, data_hash: str,
               train_info: dict | None = None, ood_split: str = "") -> str:
    tensors = {f"text_encoder.{k}": v.detach().float().contiguous().cpu() for k, v in text_sd.items()}
    tensors.update({f"denoiser.{k}": v.detach().float().contiguous().cpu() for k, v in den_sd.items()})
    meta = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION), "config": json.dumps(config, sort_keys=True),
            "vocab": json.dumps(list(vocab)), "data_hash": str(data_hash),
            "train": json.dumps(train_info or {}, sort_keys=True), "tensors_sha256": tensors_sha256(tensors)}
    if ood_split:
        meta["ood_split"] = str(ood_split)
    return _atomic_save(tensors, meta, path)


def model_split(metadata: dict | None) -> str:
    """The OOD split version a model was trained with (its ``ood_split`` metadata; files written
    before split versions existed were trained on ``v1``)."""
    return str((metadata or {}).get("ood_split") or "v1")


def weights_split(path) -> str:
    """``model_split`` of a PhysWorld weights file (reads the header only)."""
    return model_split(read_header(path)[1])


def _atomic_save(tensors, meta, path) -> str:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    save_file(tensors, str(tmp), metadata=meta)
    os.replace(tmp, p)
    return str(p)


def load_model(path, verify: bool = True) -> LoadedWeights:
    """Read and check a model file. Raises WeightsError naming the file and what is wrong."""
    header, meta = read_header(path)
    fmt = meta.get("format")
    if fmt != FORMAT_NAME:
        hint = " (it is a training checkpoint: export it with `lina physworld train --export`)" \
            if fmt == CKPT_FORMAT else ""
        _fail(path, f"not a LINA PhysWorld model: metadata format is {fmt!r}, expected {FORMAT_NAME!r}{hint}.",
              "choose a physworld_*.safetensors file written by `lina physworld train`.")
    ver = meta.get("format_version")
    if ver != str(FORMAT_VERSION):
        _fail(path, f"format version {ver!r} is not supported; this LINA reads format version {FORMAT_VERSION}.",
              "use weights written by this LINA version (re-train with `lina physworld train`), or update LINA.")
    config = _json_meta(path, meta, "config", dict)
    vocab = _json_meta(path, meta, "vocab", list)
    _json_meta(path, meta, "train", dict)
    for sec in ("text", "denoiser", "diffusion"):
        if not isinstance(config.get(sec), dict):
            _fail(path, f"tampered header: config has no {sec!r} section.")
    if not vocab or len(vocab) > MAX_VOCAB or not all(isinstance(w, str) and len(w) <= 200 for w in vocab):
        _fail(path, "tampered header: vocab must be a non-empty list of words.")
    check_config(path, config)
    check_architecture(path, config, len(vocab), header)
    tensors = _load_tensors(path, header)
    check_finite(path, tensors)
    if verify:
        want = meta.get("tensors_sha256")
        if not want:
            _fail(path, "tampered header: metadata field 'tensors_sha256' is missing.")
        if tensors_sha256(tensors) != want:
            _fail(path, "the tensor data does not match the checksum stored in its header (the file was modified).",
                  "re-download or re-train the weights.")
    te = {k[len("text_encoder."):]: v for k, v in tensors.items() if k.startswith("text_encoder.")}
    dn = {k[len("denoiser."):]: v for k, v in tensors.items() if k.startswith("denoiser.")}
    if not te or not dn:
        _fail(path, "has no text_encoder.* or no denoiser.* tensors.")
    return LoadedWeights(str(path), config, vocab, te, dn, meta)


def check_config(path, config: dict) -> None:
    """Every number in the config finite and bounded, every list short, before anything is built from it."""
    def walk(v, where):
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return
        if isinstance(v, (int, float)):
            if not math.isfinite(v) or abs(v) > MAX_CONFIG_INT:
                _fail(path, f"tampered header: config {where} = {v} is not a finite number up to {MAX_CONFIG_INT}.")
        elif isinstance(v, list):
            if len(v) > MAX_CONFIG_LIST:
                _fail(path, f"tampered header: config {where} has more than {MAX_CONFIG_LIST} entries.")
            for i, x in enumerate(v):
                walk(x, f"{where}[{i}]")
        elif isinstance(v, dict):
            if len(v) > 64:
                _fail(path, f"tampered header: config {where} has too many keys.")
            for k, x in v.items():
                walk(x, f"{where}.{str(k)[:40]}")
        else:
            _fail(path, f"tampered header: config {where} has an unexpected value.")
    walk(config, "config")
    shift = config.get("diffusion", {}).get("shift", 1.0)
    if not isinstance(shift, (int, float)) or isinstance(shift, bool) or not shift > 0:
        _fail(path, "tampered header: config diffusion.shift must be a positive finite number.")
    from .config import Config, ConfigError

    full = {k: config[k] for k in ("text", "denoiser", "diffusion", "sample") if k in config}
    if "image_size" in config["denoiser"]:
        full["data"] = {"image_size": config["denoiser"]["image_size"]}
    try:
        Config.from_dict(full, where="config")
    except (ConfigError, TypeError, ValueError, KeyError) as e:
        _fail(path, f"tampered header: its config is invalid ({str(e)[:300]}).")


def check_architecture(path, config: dict, vocab_size: int, header: dict) -> None:
    """The tensors the header lists == those of the network the config describes, names and shapes, checked on
    torch's meta device (nothing allocated) BEFORE any real network is built or any tensor is read."""
    from .model import build_denoiser, build_text_encoder   # model.py imports this module

    try:
        with torch.device("meta"):
            te = build_text_encoder(config["text"], vocab_size)
            dn = build_denoiser(config["denoiser"])
    except Exception as e:  # noqa: BLE001 - any config the builders refuse is a bad file
        _fail(path, f"tampered header: the config does not describe a PhysWorld network ({type(e).__name__}).",
              "re-download or re-train the weights.")
    want = {f"text_encoder.{k}": tuple(v.shape) for k, v in te.state_dict().items()}
    want.update({f"denoiser.{k}": tuple(v.shape) for k, v in dn.state_dict().items()})
    got = {k: tuple(v["shape"]) for k, v in header.items()}
    if want != got:
        missing = sorted(set(want) - set(got))[:3]
        extra = sorted(set(got) - set(want))[:3]
        bad = [f"{k} {got[k]} vs {want[k]}" for k in want if k in got and got[k] != want[k]][:3]
        _fail(path, f"tampered header: the tensors do not fit the architecture in the file's config: missing {missing}, "
                    f"unexpected {[e[:80] for e in extra]}, wrong shapes {bad}.",
              "the file was modified or written by another version; re-train with `lina physworld train`.")


def check_finite(path, tensors: dict) -> None:
    for k, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            _fail(path, f"tensor {k[:80]!r} has NaN or infinite values.", "re-download or re-train the weights.")


def load_state_checked(module: torch.nn.Module, sd: dict, path, what: str) -> None:
    """load_state_dict(strict) with a WeightsError naming the file and the first mismatches."""
    own = module.state_dict()
    missing = [k for k in own if k not in sd]
    extra = [k for k in sd if k not in own]
    bad = [f"{k} {tuple(sd[k].shape)} vs {tuple(own[k].shape)}" for k in own if k in sd and sd[k].shape != own[k].shape]
    if missing or extra or bad:
        parts = []
        if missing:
            parts.append(f"missing {missing[:3]}")
        if extra:
            parts.append(f"unexpected {extra[:3]}")
        if bad:
            parts.append(f"wrong shapes {bad[:3]}")
        _fail(path, f"the {what} tensors do not fit the architecture in the file's config: {'; '.join(parts)}.",
              "the file was modified or written by another version; re-train with `lina physworld train`.")
    module.load_state_dict(sd, strict=True)


# ---------------------------------------------------------------------------------------------
def save_checkpoint(path, model_sd: dict, ema_sd: dict, opt_state: dict, meta: dict) -> str:
    tensors = {f"model.{k}": v.detach().contiguous().cpu() for k, v in model_sd.items()}
    tensors.update({f"ema.{k}": v.detach().contiguous().cpu() for k, v in ema_sd.items()})
    for idx, st in opt_state["state"].items():
        for name, v in st.items():
            t = v if torch.is_tensor(v) else torch.tensor(float(v))
            tensors[f"opt.{idx}.{name}"] = t.detach().contiguous().cpu()
    groups = [{k: v for k, v in g.items()} for g in opt_state["param_groups"]]
    m = {"format": CKPT_FORMAT, "format_version": str(CKPT_VERSION),
         "opt_groups": json.dumps(groups), "meta": json.dumps(meta, sort_keys=True)}
    return _atomic_save(tensors, m, path)


def load_checkpoint(path) -> tuple[dict, dict, dict, dict]:
    """(model_sd, ema_sd, optimizer state dict, meta) of a training checkpoint."""
    header, m = read_header(path)
    if m.get("format") != CKPT_FORMAT:
        _fail(path, f"not a PhysWorld training checkpoint (format {m.get('format')!r}).",
              "pass a ckpt-*.safetensors file from the run directory.")
    if m.get("format_version") != str(CKPT_VERSION):
        _fail(path, f"checkpoint format version {m.get('format_version')!r} is not supported (want {CKPT_VERSION}).")
    meta = _json_meta(path, m, "meta", dict)
    groups = _json_meta(path, m, "opt_groups", list)
    tensors = _load_tensors(path, header)
    model = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    ema = {k[4:]: v for k, v in tensors.items() if k.startswith("ema.")}
    state: dict = {}
    for k, v in tensors.items():
        if k.startswith("opt."):
            _, idx, name = k.split(".", 2)
            state.setdefault(int(idx), {})[name] = v
    return model, ema, {"state": state, "param_groups": groups}, meta


def describe(path) -> dict:
    """Metadata summary of a model file (no tensor data read)."""
    _, meta = read_header(path)
    out = {k: meta.get(k) for k in ("format", "format_version", "data_hash", "tensors_sha256")}
    for k in ("config", "train"):
        try:
            out[k] = json.loads(meta.get(k, "null"))
        except json.JSONDecodeError:
            out[k] = None
    return out
