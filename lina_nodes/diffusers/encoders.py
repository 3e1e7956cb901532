"""A diffusers pipeline's own text encoders as the core's ``TextEncoderIO`` (no ComfyUI import).

``encode(text)`` calls the pipeline's own ``encode_prompt`` (no classifier-free guidance, one image), so c is
exactly the tensor the pipeline would build from the prompt, and ``tokenize(text)`` gives the same tokens in
ComfyUI's layout ``{key: [[(id, 1.0), ...]]}`` with the keys the core's token alignment knows:

| family | c = prompt_embeds | pooled | token keys (length) |
|---|---|---|---|
| SD1.5 | CLIP [1, 77, D] | none | "l" (77) |
| SDXL | CLIP-L ++ CLIP-G along D [1, 77, 2048] | CLIP-G text_embeds | "l", "g" (77 each) |
| SD3 | CLIP-L/G (77 tokens) then T5 (max_sequence_length) along L | CLIP-L ++ CLIP-G | "l" (77), "t5xxl" |
| Flux | T5 [1, max_sequence_length, D] | CLIP-L | "t5xxl" |
| Wan | UMT5 [1, max_sequence_length, D] | none | "umt5xxl" |
| PhysWorld | word encoder [1, 32, 128] | (mean token, unused by the denoiser) | "physworld" |
"""
from __future__ import annotations

import torch

from .families import Family


def _ids(tokenizer, text: str, max_length: int) -> list[int]:
    out = tokenizer(text, padding="max_length", max_length=max_length, truncation=True, add_special_tokens=True)
    return [int(i) for i in out["input_ids"]]


def _device(pipe):
    try:
        return pipe._execution_device
    except AttributeError:   # pipelines whose components are not all diffusers / transformers objects
        return getattr(pipe, "device", "cpu")


def _pairs(ids: list[int]) -> list:
    return [[(i, 1.0) for i in ids]]


class PipelineTextIO:
    """``TextEncoderIO`` over a diffusers pipeline's encoders (see the module docstring)."""

    def __init__(self, pipe, family: Family, max_sequence_length: int | None = None):
        self.pipe, self.family = pipe, family
        self.max_sequence_length = int(max_sequence_length or family.t5_default_len or 0)
        encs = [type(getattr(pipe, n, None)).__name__ for n in ("text_encoder", "text_encoder_2", "text_encoder_3")
                if getattr(pipe, n, None) is not None]
        self.encoder_id = f"diffusers:{type(pipe).__name__}/{'+'.join(encs)}"
        if self.max_sequence_length:
            self.encoder_id += f"/L{self.max_sequence_length}"
        if family.key == "physworld":
            # the id LINA Plan sees for the LINA PhysWorld Loader's CLIP: adapters and subspaces carry over
            self.encoder_id = "PhysWorldComfyTextModel/PhysWorldComfyTokenizer"
        self._cache: dict = {}

    # ---- TextEncoderIO -------------------------------------------------------------------------
    def tokenize(self, text: str) -> dict:
        p, key, msl = self.pipe, self.family.key, self.max_sequence_length
        if key == "sd15":
            return {"l": _pairs(_ids(p.tokenizer, text, p.tokenizer.model_max_length))}
        if key == "sdxl":
            out = {}
            if p.tokenizer is not None:
                out["l"] = _pairs(_ids(p.tokenizer, text, p.tokenizer.model_max_length))
            out["g"] = _pairs(_ids(p.tokenizer_2, text, p.tokenizer_2.model_max_length))
            return out
        if key == "sd3":
            return {"l": _pairs(_ids(p.tokenizer, text, p.tokenizer_max_length)),
                    "t5xxl": _pairs(_ids(p.tokenizer_3, text, msl))}
        if key == "flux":
            return {"t5xxl": _pairs(_ids(p.tokenizer_2, text, msl))}
        if key == "wan21":
            return {"umt5xxl": _pairs(_ids(p.tokenizer, text, msl))}
        if key == "physworld":
            return {"physworld": _pairs(p.tokenizer.encode(text))}
        raise AssertionError(key)

    @torch.no_grad()
    def encode(self, text: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        if text in self._cache:
            return self._cache[text]
        p, key, msl = self.pipe, self.family.key, self.max_sequence_length
        dev = _device(p)
        pooled = None
        if key == "sd15":
            cond, _ = p.encode_prompt(text, dev, 1, False)
        elif key == "sdxl":
            cond, _, pooled, _ = p.encode_prompt(text, device=dev, num_images_per_prompt=1,
                                                 do_classifier_free_guidance=False)
        elif key == "sd3":
            cond, _, pooled, _ = p.encode_prompt(text, None, None, device=dev, num_images_per_prompt=1,
                                                 do_classifier_free_guidance=False, max_sequence_length=msl)
        elif key == "flux":
            cond, pooled, _ = p.encode_prompt(text, None, device=dev, num_images_per_prompt=1, max_sequence_length=msl)
        elif key == "wan21":
            cond, _ = p.encode_prompt(text, do_classifier_free_guidance=False, num_videos_per_prompt=1,
                                      max_sequence_length=msl, device=dev)
        elif key == "physworld":
            cond, pooled = p.encode_prompt(text)
        else:
            raise AssertionError(key)
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[text] = (cond, pooled)
        return cond, pooled

    def conditioning(self, text: str) -> list:
        cond, pooled = self.encode(text)
        return [[cond, {"pooled_output": pooled} if isinstance(pooled, torch.Tensor) else {}]]

    # ---- for apply() ---------------------------------------------------------------------------
    def pipeline_kwargs(self, entry: list) -> dict:
        """``pipe(...)`` keyword arguments that make the pipeline use conditioning ``entry`` ([cond, extras])."""
        cond, extras = entry
        kw = {"prompt_embeds": cond}
        if self.family.pooled_arg is not None:
            kw["pooled_prompt_embeds"] = extras["pooled_output"]
        if self.family.t5_default_len:
            kw["max_sequence_length"] = self.max_sequence_length
        return kw
