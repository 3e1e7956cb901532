"""Builders: the networks of a config, and a ready-to-sample bundle loaded from a weights file."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import WeightsError
from .denoiser import PhysWorldDenoiser
from .text_encoder import TextEncoder
from .tokenizer import WordTokenizer
from .weights_io import load_model, load_state_checked


def denoiser_kwargs(dn: dict) -> dict:
    keys = ("in_channels", "patch", "channels", "num_res_blocks", "attention", "heads", "time_dim",
            "context_dim", "groups", "image_size", "predict")
    out = {k: (tuple(dn[k]) if isinstance(dn[k], list) else dn[k]) for k in keys if k in dn}
    out.setdefault("predict", "v")   # files written before the option existed
    return out


def build_text_encoder(text: dict, vocab_size: int) -> TextEncoder:
    return TextEncoder(vocab_size, max_len=text["max_len"], dim=text["dim"], layers=text["layers"],
                       heads=text["heads"], ff_mult=text["ff_mult"])


def build_denoiser(dn: dict) -> PhysWorldDenoiser:
    return PhysWorldDenoiser(**denoiser_kwargs(dn))


@dataclass
class PhysWorldBundle:
    """Everything needed to turn prompts into images without ComfyUI."""
    path: str
    config: dict
    tokenizer: WordTokenizer
    text_encoder: TextEncoder
    denoiser: PhysWorldDenoiser
    metadata: dict

    @torch.no_grad()
    def encode(self, prompts) -> tuple[torch.Tensor, torch.Tensor]:
        ids = torch.as_tensor(self.tokenizer.encode_batch(list(prompts)))
        return self.text_encoder(ids)


def load_bundle(path: str | Path, verify: bool = True) -> PhysWorldBundle:
    w = load_model(path, verify=verify)   # header, config (weights_io.check_config), shapes and values checked
    try:
        tok = WordTokenizer(w.vocab, max_len=w.config["text"]["max_len"])
    except ValueError as e:
        raise WeightsError(f"{path}: tampered header: bad vocabulary ({e}).", field="weights") from None
    te = build_text_encoder(w.config["text"], len(tok))
    dn = build_denoiser(w.config["denoiser"])
    load_state_checked(te, w.text_encoder, path, "text encoder")
    load_state_checked(dn, w.denoiser, path, "denoiser")
    te.eval()
    dn.eval()
    return PhysWorldBundle(str(path), w.config, tok, te, dn, w.metadata)
