"""PhysWorld weights files: round trip, and a clear error naming the file for every kind of bad file."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from lina_nodes.errors import WeightsError
from lina_nodes.physworld_model.model import build_denoiser, build_text_encoder, load_bundle
from lina_nodes.physworld_model.tokenizer import build_vocab
from lina_nodes.physworld_model.weights_io import load_model, save_checkpoint, save_model

TEXT = {"max_len": 16, "dim": 32, "layers": 1, "heads": 2, "ff_mult": 2}
DEN = {"image_size": 32, "in_channels": 3, "patch": 2, "channels": [16, 32], "num_res_blocks": [1, 1],
       "attention": [False, True], "heads": 2, "time_dim": 32, "context_dim": 32, "groups": 8}
CONFIG = {"text": TEXT, "denoiser": DEN, "diffusion": {"kind": "rectified_flow", "shift": 1.0, "t_logit_mean": 0.0,
                                                      "t_logit_std": 1.0},
          "sample": {"steps": 4, "cfg": 2.0, "sampler": "euler", "scheduler": "simple"}}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    torch.manual_seed(0)
    vocab = build_vocab(n_scenes=300)
    te, dn = build_text_encoder(TEXT, len(vocab)), build_denoiser(DEN)
    p = tmp_path_factory.mktemp("w") / "physworld_tiny.safetensors"
    save_model(p, te.state_dict(), dn.state_dict(), CONFIG, vocab, "ab" * 32, {"steps": 0})
    return p, te, dn


def rewrite_header(src: Path, dst: Path, edit) -> Path:
    b = src.read_bytes()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    edit(h)
    raw = json.dumps(h).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    dst.write_bytes(struct.pack("<Q", len(raw)) + raw + b[8 + n:])
    return dst


def expect(path, *words):
    with pytest.raises(WeightsError) as ei:
        load_bundle(path)
    msg = str(ei.value)
    assert str(path) in msg, msg
    for w in words:
        assert w in msg, msg
    return msg


def test_round_trip(good):
    p, te, dn = good
    b = load_bundle(p)
    for k, v in dn.state_dict().items():
        assert torch.equal(v, b.denoiser.state_dict()[k])
    ids = torch.as_tensor(b.tokenizer.encode_batch(["a red ball"]))
    assert torch.equal(te.eval()(ids)[0], b.text_encoder(ids)[0])
    assert b.metadata["data_hash"] == "ab" * 32


def test_missing_file(tmp_path):
    expect(tmp_path / "physworld_none.safetensors", "not found", "lina physworld train")


def test_not_safetensors_and_truncated(good, tmp_path):
    p, _, _ = good
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    expect(junk, "corrupted")
    tiny = tmp_path / "tiny.safetensors"
    tiny.write_bytes(b"abc")
    expect(tiny, "too short")
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(p.read_bytes()[:-1000])
    expect(cut, "corrupted")
    pickled = tmp_path / "model.ckpt.safetensors"
    torch.save({"a": torch.zeros(2)}, pickled)   # a pickle in disguise is rejected, never unpickled
    expect(pickled, "corrupted")


def test_tensor_bytes_modified(good, tmp_path):
    p, _, _ = good
    b = bytearray(p.read_bytes())
    b[-5] ^= 0xFF
    q = tmp_path / "flipped.safetensors"
    q.write_bytes(bytes(b))
    expect(q, "checksum")


def test_tampered_headers(good, tmp_path):
    p, _, _ = good

    def meta_edit(fn):
        return lambda h: fn(h["__metadata__"])

    def bigger(m):
        c = json.loads(m["config"])
        c["denoiser"]["channels"] = [16, 64]
        m["config"] = json.dumps(c)
    expect(rewrite_header(p, tmp_path / "arch.safetensors", meta_edit(bigger)), "do not fit the architecture")
    expect(rewrite_header(p, tmp_path / "cfgjson.safetensors", meta_edit(lambda m: m.update(config="{oops"))),
           "tampered header", "config")
    expect(rewrite_header(p, tmp_path / "vocab.safetensors", meta_edit(lambda m: m.update(vocab='"abc"'))),
           "tampered header", "vocab")
    expect(rewrite_header(p, tmp_path / "nosum.safetensors", meta_edit(lambda m: m.pop("tensors_sha256"))),
           "tensors_sha256")
    expect(rewrite_header(p, tmp_path / "badcfg.safetensors",
                          meta_edit(lambda m: m.update(config=m["config"].replace('"context_dim": 32',
                                                                                  '"context_dim": 48')))),
           "tampered header", "context_dim")

    def dtype(h):
        k = next(k for k in h if k != "__metadata__")
        h[k]["dtype"] = "F16"
    expect(rewrite_header(p, tmp_path / "dtype.safetensors", dtype), "inconsistent")
    expect(rewrite_header(p, tmp_path / "nometa.safetensors", lambda h: h.pop("__metadata__")),
           "not a LINA PhysWorld model")


def test_other_format_version_and_other_files(good, tmp_path):
    p, _, _ = good
    v2 = rewrite_header(p, tmp_path / "v2.safetensors", lambda h: h["__metadata__"].update(format_version="2"))
    expect(v2, "format version '2'", "is not supported")
    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(3)}, str(other), metadata={"format": "pt"})
    expect(other, "not a LINA PhysWorld model")
    ck = tmp_path / "ckpt.safetensors"
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(2))])
    save_checkpoint(ck, {"a": torch.zeros(1)}, {"a": torch.zeros(1)}, opt.state_dict(), {"step": 1})
    expect(ck, "training checkpoint")
    with pytest.raises(WeightsError, match="physworld_tiny"):   # load_model names the file too
        load_model(rewrite_header(p, tmp_path / "physworld_tiny.safetensors",
                                  lambda h: h["__metadata__"].update(format="x")))


def test_nothing_in_the_package_unpickles():
    root = Path(__file__).resolve().parents[2] / "lina_nodes"
    files = list((root / "physworld_model").glob("*.py")) + [root / "comfy_nodes" / "physworld_loader.py"]
    for f in files:
        src = f.read_text()
        assert "torch.load(" not in src and "import pickle" not in src, f
