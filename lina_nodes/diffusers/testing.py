"""Tiny random-weight pipelines of every supported family, built from configs (no download), for the tests and
``benchmarks/diffusers_overhead.py``. Their images are noise; they exercise the code paths, not quality.

Tokenizers are built locally too: a character-level CLIP BPE vocabulary (every ASCII letter, digit and
punctuation mark, plain and word-final) and a SentencePiece unigram model trained on a few sentences for T5.
"""
from __future__ import annotations

import atexit
import functools
import json
import shutil
import string
import tempfile
from pathlib import Path

import torch

T5_CORPUS = [
    "a red ball rests on a wooden table next to a small mirror",
    "a blue cube in front of a large mirror, its reflection inside the mirror",
    "a green cone lit from the left, its shadow falls to the right",
    "a yellow cylinder next to a glass jar that is completely full of water",
    "a snake eats a bird on the sand close to the water under the sun",
    "a cup floating above a table under a lamp with a shadow and a reflection",
    "more dirt than empty space in the jar, a vase on a shelf, a box under a box",
    "the metal stone glass ball cube vase cup resting falling into calm water with a splash",
]
CLIP_VOCAB = 100
T5_VOCAB = 160
CHARS = string.ascii_lowercase + string.digits + ".,'!?-:;\"()"


@functools.lru_cache(maxsize=1)
def _tok_dir() -> str:
    d = Path(tempfile.mkdtemp(prefix="lina-tiny-tok-"))
    atexit.register(shutil.rmtree, str(d), True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in CHARS:
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    assert len(vocab) <= CLIP_VOCAB
    (d / "vocab.json").write_text(json.dumps(vocab))
    (d / "merges.txt").write_text("#version: 0.2\n")
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(sentence_iterator=iter(T5_CORPUS * 4), model_prefix=str(d / "t5"),
                                   vocab_size=T5_VOCAB, model_type="unigram", pad_id=0, eos_id=1, unk_id=2,
                                   bos_id=-1, hard_vocab_limit=False, minloglevel=2)
    return str(d)


def clip_tokenizer():
    from transformers import CLIPTokenizer

    d = Path(_tok_dir())
    return CLIPTokenizer(str(d / "vocab.json"), str(d / "merges.txt"), model_max_length=77,
                         pad_token="<|endoftext|>")


def t5_tokenizer(max_length: int = 32):
    from transformers import T5Tokenizer

    return T5Tokenizer(str(Path(_tok_dir()) / "t5.model"), extra_ids=0, model_max_length=max_length, legacy=True)


def clip_config(hidden: int = 32, projection: int = 32):
    from transformers import CLIPTextConfig

    return CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=hidden, intermediate_size=37,
                          layer_norm_eps=1e-05, num_attention_heads=4, num_hidden_layers=2, vocab_size=CLIP_VOCAB,
                          hidden_act="gelu", projection_dim=projection, max_position_embeddings=77)


def t5_encoder(umt5: bool = False):
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    kw = dict(vocab_size=T5_VOCAB + 8, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
              relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    return UMT5EncoderModel(UMT5Config(**kw)) if umt5 else T5EncoderModel(T5Config(**kw))


def _eval(pipe):
    for v in pipe.components.values():
        if isinstance(v, torch.nn.Module):
            v.eval()
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _sd_vae_and_scheduler():
    """The tiny 4-channel VAE and the Euler scheduler the SD1.5 and SDXL stand-ins share."""
    from diffusers import AutoencoderKL, EulerDiscreteScheduler

    vae = AutoencoderKL(block_out_channels=[4, 8], in_channels=3, out_channels=3,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        latent_channels=4, norm_num_groups=2, sample_size=16)
    sched = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                   timestep_spacing="trailing", steps_offset=1)
    return vae, sched


def sd15(seed: int = 0):
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(block_out_channels=(4, 8), layers_per_block=1, sample_size=8, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
                                norm_num_groups=2, attention_head_dim=2)
    vae, sched = _sd_vae_and_scheduler()
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=CLIPTextModel(clip_config()), tokenizer=clip_tokenizer(),
                                   unet=unet, scheduler=sched, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    return _eval(pipe)


def sdxl(seed: int = 0):
    from diffusers import StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(block_out_channels=(4, 8), layers_per_block=1, sample_size=8, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), attention_head_dim=(2, 4),
                                use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=8,
                                transformer_layers_per_block=(1, 1), projection_class_embeddings_input_dim=80,
                                cross_attention_dim=64, norm_num_groups=2)
    vae, sched = _sd_vae_and_scheduler()
    pipe = StableDiffusionXLPipeline(vae=vae, text_encoder=CLIPTextModel(clip_config()),
                                     text_encoder_2=CLIPTextModelWithProjection(clip_config()),
                                     tokenizer=clip_tokenizer(), tokenizer_2=clip_tokenizer(), unet=unet,
                                     scheduler=sched, force_zeros_for_empty_prompt=True, add_watermarker=False)
    return _eval(pipe)


def _flow_vae(latent_channels: int):
    from diffusers import AutoencoderKL

    return AutoencoderKL(sample_size=32, in_channels=3, out_channels=3, block_out_channels=(4,), layers_per_block=1,
                         latent_channels=latent_channels, norm_num_groups=1, use_quant_conv=False,
                         use_post_quant_conv=False, shift_factor=0.0609, scaling_factor=1.5035)


def sd3(seed: int = 0):
    from diffusers import FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel, StableDiffusion3Pipeline
    from transformers import CLIPTextModelWithProjection

    torch.manual_seed(seed)
    tr = SD3Transformer2DModel(sample_size=32, patch_size=1, in_channels=4, num_layers=1, attention_head_dim=8,
                               num_attention_heads=4, caption_projection_dim=32, joint_attention_dim=32,
                               pooled_projection_dim=64, out_channels=4)
    pipe = StableDiffusion3Pipeline(transformer=tr, scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
                                    vae=_flow_vae(4), text_encoder=CLIPTextModelWithProjection(clip_config()),
                                    tokenizer=clip_tokenizer(),
                                    text_encoder_2=CLIPTextModelWithProjection(clip_config()),
                                    tokenizer_2=clip_tokenizer(), text_encoder_3=t5_encoder(),
                                    tokenizer_3=t5_tokenizer())
    return _eval(pipe)


def flux(seed: int = 0):
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
    from transformers import CLIPTextModel

    torch.manual_seed(seed)
    tr = FluxTransformer2DModel(patch_size=1, in_channels=4, num_layers=1, num_single_layers=1, attention_head_dim=16,
                                num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=32,
                                axes_dims_rope=[4, 4, 8])
    sched = FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True, base_shift=0.5, max_shift=1.15,
                                            base_image_seq_len=256, max_image_seq_len=4096)
    pipe = FluxPipeline(scheduler=sched, vae=_flow_vae(1), text_encoder=CLIPTextModel(clip_config()),
                        tokenizer=clip_tokenizer(), text_encoder_2=t5_encoder(), tokenizer_2=t5_tokenizer(),
                        transformer=tr)
    return _eval(pipe)


def wan(seed: int = 0):
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

    torch.manual_seed(seed)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    tr = WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16,
                               out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2,
                               cross_attn_norm=True, qk_norm="rms_norm_across_heads", rope_max_seq_len=32)
    pipe = WanPipeline(tokenizer=t5_tokenizer(), text_encoder=t5_encoder(umt5=True), transformer=tr, vae=vae,
                       scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0))
    return _eval(pipe)


BUILDERS = {"sd15": sd15, "sdxl": sdxl, "sd3": sd3, "flux": flux, "wan": wan}
# per family: pipe(...) arguments of one tiny image / video (the steps are set by the caller)
CALL_ARGS = {
    "sd15": dict(height=16, width=16, guidance_scale=5.0, output_type="np"),
    "sdxl": dict(height=16, width=16, guidance_scale=5.0, output_type="np"),
    "sd3": dict(height=8, width=8, guidance_scale=5.0, output_type="np"),
    "flux": dict(height=8, width=8, guidance_scale=3.5, output_type="np"),
    "wan": dict(height=16, width=16, num_frames=5, guidance_scale=5.0, output_type="np"),
}
MAX_SEQ = {"sd3": 32, "flux": 32, "wan": 32}


def output_of(result):
    """The images (or Wan's frames) of a pipeline result as one float numpy array."""
    out = getattr(result, "images", None)
    if out is None:
        out = result.frames
    return torch.as_tensor(out).float().numpy()
