"""The embedded PhysWorld text-to-image model as genuine ComfyUI objects.

MODEL: a ``comfy.model_base.BaseModel`` (FLOW, ModelSamplingDiscreteFlow, shift 1, multiplier 1000)
whose diffusion model is ``physworld_model.denoiser.PhysWorldDenoiser``, in a ``ModelPatcher``.
CLIP:  a ``comfy.sd.CLIP`` around the word-level tokenizer and transformer text encoder; conditioning
is [B, 32, 128] plus a pooled [B, 128].
VAE:   ComfyUI's own pixel-space VAE (the model works on 64x64 RGB pixels in -1..1), so an empty
latent is ``EmptyChromaRadianceLatentImage`` / ``EmptyImage`` + VAEEncode, or ``EmptyLatentImage``
at 8x the size (its zeros are re-shaped only in channels, see the docs).
"""
from __future__ import annotations

import logging
import time
from typing import ClassVar

import comfy.latent_formats
import comfy.model_base
import comfy.model_management
import comfy.model_patcher
import comfy.sd
import comfy.supported_models_base
import torch

from ..errors import WeightsError
from ..physworld_model.denoiser import PhysWorldDenoiser
from ..physworld_model.model import build_text_encoder, denoiser_kwargs
from ..physworld_model.tokenizer import WordTokenizer
from ..physworld_model.weights_io import load_model, load_state_checked

log = logging.getLogger("lina")

TOKEN_KEY = "physworld"


# ---- ComfyUI model config ---------------------------------------------------------------------
class PhysWorldLatent(comfy.latent_formats.LatentFormat):
    """RGB pixels in -1..1: 3 channels, no scaling (previews show the image itself)."""
    latent_channels = 3
    latent_dimensions = 2

    def __init__(self):
        self.latent_rgb_factors = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
        self.latent_rgb_factors_bias = [0.0, 0.0, 0.0]

    def process_in(self, latent):
        return latent

    def process_out(self, latent):
        return latent


class PhysWorldConfig(comfy.supported_models_base.BASE):
    unet_config: ClassVar[dict] = {}
    unet_extra_config: ClassVar[dict] = {}
    sampling_settings: ClassVar[dict] = {"shift": 1.0, "multiplier": 1000}
    latent_format = PhysWorldLatent
    memory_usage_factor = 0.05
    supported_inference_dtypes: ClassVar[list] = [torch.float32]

    def model_type(self, state_dict, prefix=""):
        return comfy.model_base.ModelType.FLOW


# ---- ComfyUI text encoder ---------------------------------------------------------------------
class PhysWorldComfyTokenizer:
    def __init__(self, embedding_directory=None, tokenizer_data=None):
        tokenizer_data = tokenizer_data or {}
        self.tok = WordTokenizer(tokenizer_data["physworld_vocab"], tokenizer_data["physworld_max_len"])

    def tokenize_with_weights(self, text: str, return_word_ids=False, **kwargs):
        ids = self.tok.encode(text)
        if return_word_ids:
            return {TOKEN_KEY: [[(t, 1.0, i) for i, t in enumerate(ids)]]}
        return {TOKEN_KEY: [[(t, 1.0) for t in ids]]}

    def untokenize(self, token_weight_pair):
        return [(p, self.tok.vocab[p[0]]) for p in token_weight_pair]

    def state_dict(self):
        return {}


class PhysWorldComfyTextModel(torch.nn.Module):
    """cond_stage_model for comfy.sd.CLIP: encode_token_weights -> (cond [B, L, D], pooled [B, D])."""

    def __init__(self, text_config=None, vocab_size=0, state_dict=None, device=None, dtype=None, model_options=None,
                 weights_path=""):
        super().__init__()
        self.encoder = build_text_encoder(text_config, vocab_size)
        if state_dict is not None:
            load_state_checked(self.encoder, state_dict, weights_path, "text encoder")
        self.encoder.eval()
        self.dtypes = {torch.float32}   # tiny: always fp32, whatever text_encoder_dtype says
        if device is not None:
            self.to(device)

    def reset_clip_options(self):
        pass

    def set_clip_options(self, options):
        pass

    def encode_token_weights(self, token_weight_pairs):
        chunks = token_weight_pairs[TOKEN_KEY] if isinstance(token_weight_pairs, dict) else token_weight_pairs
        dev = self.encoder.tok.weight.device
        ids = torch.tensor([[int(p[0]) for p in ch] for ch in chunks], dtype=torch.long, device=dev)
        with torch.no_grad():
            cond, pooled = self.encoder(ids)
        # several chunks (never produced by our tokenizer) would be concatenated along tokens, as CLIP does
        cond = cond.reshape(1, -1, cond.shape[-1]).float().cpu()
        return cond, pooled[:1].float().cpu()

    def load_sd(self, sd):
        return self.encoder.load_state_dict(sd, strict=False)


# ---- building -------------------------------------------------------------------------------
def build_comfy_objects(weights_path) -> tuple:
    """(ModelPatcher, comfy.sd.CLIP, comfy.sd.VAE) for a PhysWorld weights file."""
    t0 = time.perf_counter()
    w = load_model(weights_path)
    cfg = w.config
    try:
        tok_data = {"physworld_vocab": w.vocab, "physworld_max_len": int(cfg["text"]["max_len"])}
        WordTokenizer(w.vocab, tok_data["physworld_max_len"])
        dn_kwargs = denoiser_kwargs(cfg["denoiser"])
        shift = float(cfg["diffusion"].get("shift", 1.0))
    except (KeyError, TypeError, ValueError) as e:
        raise WeightsError(f"{weights_path}: tampered header: bad config or vocabulary ({e}).", field="weights") from None

    mc = PhysWorldConfig(dn_kwargs)
    mc.sampling_settings = {"shift": shift, "multiplier": 1000}
    mc.set_inference_dtype(torch.float32, None)
    load_device = comfy.model_management.get_torch_device()
    offload = comfy.model_management.unet_offload_device()
    base = comfy.model_base.BaseModel(mc, model_type=comfy.model_base.ModelType.FLOW, device=offload,
                                      unet_model=PhysWorldDenoiser)
    load_state_checked(base.diffusion_model, w.denoiser, weights_path, "denoiser")
    base.diffusion_model.eval()
    model = comfy.model_patcher.ModelPatcher(base, load_device=load_device, offload_device=offload)

    target = comfy.supported_models_base.ClipTarget(PhysWorldComfyTokenizer, PhysWorldComfyTextModel)
    target.params = {"text_config": cfg["text"], "vocab_size": len(w.vocab), "state_dict": w.text_encoder,
                     "weights_path": str(weights_path)}
    n_te = sum(v.numel() for v in w.text_encoder.values())
    clip = comfy.sd.CLIP(target=target, tokenizer_data=tok_data, parameters=n_te)

    vae = comfy.sd.VAE(sd={"pixel_space_vae": torch.tensor(1.0)})
    log.info("LINA PhysWorld model %s loaded in %.2f s", weights_path, time.perf_counter() - t0)
    return model, clip, vae
