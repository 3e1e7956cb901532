"""PhysWorld model core: tokenizer, text encoder, denoiser, config and the flow schedule (no ComfyUI)."""
from __future__ import annotations

import json

import pytest
import torch

from lina_nodes.physworld_model.config import Config, ConfigError, load_config
from lina_nodes.physworld_model.denoiser import PhysWorldDenoiser
from lina_nodes.physworld_model.diffusion import add_noise, comfy_sigmas, denoise, sample
from lina_nodes.physworld_model.text_encoder import TextEncoder
from lina_nodes.physworld_model.tokenizer import WordTokenizer, build_vocab

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def vocab():
    return build_vocab(n_scenes=700)


def test_vocab_covers_templates_and_tokenizer_pads(vocab):
    assert vocab[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    for w in ("ball", "cube", "cone", "cylinder", "mirror", "lamp", "sun", "eats", "dirt", "sand", "red", "pink"):
        assert w in vocab
    tok = WordTokenizer(vocab, max_len=12)
    ids = tok.encode("A small RED ball, on a Table!")
    assert len(ids) == 12 and ids[0] == tok.bos_id
    assert tok.decode(ids) == "a small red ball on a table"
    assert ids[8] == tok.eos_id and ids[9:] == [tok.pad_id] * 3
    assert tok.encode("a zebra ball")[2] == tok.unk_id
    assert tok.unknown_words("a zebra ball") == ["zebra"]
    long = tok.encode(" ".join(["ball"] * 50))
    assert len(long) == 12 and long[-1] == tok.eos_id
    assert tok.encode("") == [tok.bos_id, tok.eos_id] + [tok.pad_id] * 10


def test_text_encoder_shapes_and_padding_mask(vocab):
    torch.manual_seed(0)
    te = TextEncoder(len(vocab), max_len=16, dim=32, layers=1, heads=2).eval()
    tok = WordTokenizer(vocab, 16)
    ids = torch.as_tensor(tok.encode_batch(["a red ball", "a blue cube on a shelf"]))
    cond, pooled = te(ids)
    assert cond.shape == (2, 16, 32) and pooled.shape == (2, 32)
    assert torch.equal(pooled, cond[:, 0])
    # pads are keys that nobody attends to: changing a pad embedding leaves real tokens unchanged
    with torch.no_grad():
        te.tok.weight[tok.pad_id] += 5.0
    cond2, _ = te(ids)
    assert torch.allclose(cond[0, :5], cond2[0, :5], atol=1e-5)
    with pytest.raises(ValueError, match="16 token ids"):
        te(ids[:, :10])


def test_denoiser_comfy_signature_and_shapes():
    torch.manual_seed(0)
    dn = PhysWorldDenoiser(patch=2, channels=(16, 32), num_res_blocks=(1, 1), attention=(False, True),
                           time_dim=32, context_dim=24, heads=2, predict="v", device="cpu", dtype=torch.float32,
                           operations=object())
    x = torch.randn(3, 3, 32, 32)
    ctx = torch.randn(3, 7, 24)
    out = dn(x, torch.tensor([10.0, 500.0, 990.0]), context=ctx, control=None, transformer_options={})
    assert out.shape == x.shape
    assert dn.dtype == torch.float32
    assert torch.count_nonzero(out) == 0          # zero-initialised output layer
    with torch.no_grad():   # undo the zero inits so every path carries signal
        for p in dn.parameters():
            p.normal_(0.0, 0.1)
    a = dn(x, torch.tensor([500.0] * 3), context=ctx)
    b = dn(x, torch.tensor([500.0] * 3), context=ctx + 1.0)
    assert not torch.allclose(a, b)                # the text conditioning reaches the output
    one = dn(x, torch.tensor(500.0), context=ctx[:1])   # one prompt, scalar timestep for the batch
    assert one.shape == x.shape
    with pytest.raises(ValueError, match="context"):
        dn(x, torch.tensor([1.0] * 3))


def test_x0_parameterisation_gives_comfy_the_network_image():
    """predict='x0': forward returns v = (x - x0_hat) / sigma, so ComfyUI's x - sigma * v is x0_hat."""
    torch.manual_seed(0)
    kw = {"patch": 2, "channels": (16, 32), "num_res_blocks": (1, 1), "attention": (False, True), "time_dim": 32,
          "context_dim": 24, "heads": 2}
    dx, dv = PhysWorldDenoiser(predict="x0", **kw), PhysWorldDenoiser(predict="v", **kw)
    with torch.no_grad():
        for p in dx.parameters():
            p.normal_(0.0, 0.1)
    dv.load_state_dict(dx.state_dict())   # same network: dv returns the raw image x0_hat
    x, ctx = torch.randn(2, 3, 16, 16), torch.randn(2, 5, 24)
    for sigma in (0.05, 0.5, 1.0):
        t = torch.full((2,), 1000.0 * sigma)
        v = dx(x, t, context=ctx)
        assert torch.allclose(x - sigma * v, dv(x, t, context=ctx), atol=1e-4)
    with pytest.raises(ValueError, match="predict"):
        PhysWorldDenoiser(predict="eps", **kw)


def test_comfy_simple_schedule_and_euler_sampler():
    s = comfy_sigmas(20, "simple")
    assert len(s) == 21 and float(s[0]) == 1.0 and float(s[-1]) == 0.0
    assert torch.allclose(s[:-1], torch.linspace(1.0, 0.05, 20), atol=1e-6)
    assert torch.all(s[1:] < s[:-1])
    n = comfy_sigmas(7, "normal", shift=3.0)
    assert len(n) == 8 and torch.all(n[1:] < n[:-1])
    with pytest.raises(ValueError):
        comfy_sigmas(5, "karras")

    # a perfect velocity predictor for a fixed x0 recovers x0 exactly with Euler
    x0 = torch.rand(2, 3, 8, 8) * 2 - 1

    class Oracle(torch.nn.Module):
        def forward(self, x, t, context=None):
            sig = (t / 1000.0).view(-1, 1, 1, 1)
            eps = (x - (1 - sig) * x0.repeat(x.shape[0] // 2, 1, 1, 1)) / sig
            return eps - x0.repeat(x.shape[0] // 2, 1, 1, 1)

    ctx = torch.zeros(2, 4, 8)
    out = sample(Oracle(), ctx, ctx, torch.randn(2, 3, 8, 8), comfy_sigmas(10), cfg=3.0)
    assert torch.allclose(out, x0, atol=1e-4)
    xt = add_noise(x0, torch.zeros_like(x0), torch.tensor([0.5, 0.5]))
    assert torch.allclose(denoise(Oracle(), xt, 0.5, ctx, None, 1.0), x0, atol=1e-5)


def test_config_defaults_validation_and_overrides(tmp_path):
    cfg = load_config()
    assert cfg.denoiser.image_size == 64 and cfg.train.num_threads == 2 and cfg.data.split == "v2"
    assert cfg.train.steps == 12000 and cfg.train.time_budget_s == 7200.0
    assert cfg.denoiser.context_dim == cfg.text.dim
    c2 = load_config(None, {"train.steps": 12, "train.lr": 1})
    assert c2.train.steps == 12 and c2.train.lr == 1.0
    with pytest.raises(ConfigError, match="unknown field"):
        load_config(None, {"train.stpes": 3})
    with pytest.raises(ConfigError, match="context_dim"):
        load_config(None, {"denoiser.context_dim": 64})
    with pytest.raises(ConfigError, match="expected int"):
        load_config(None, {"train.steps": "many"})
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.json")
    rt = Config.from_dict(json.loads(cfg.to_json()))
    assert rt == cfg
