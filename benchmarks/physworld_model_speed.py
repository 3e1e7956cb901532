"""PhysWorld model speed on this machine: load time, 64x64 generation time (20 steps, CFG 4) and
training throughput. Prints figures (use --json for machine output); asserts nothing.

    .venv/bin/python benchmarks/physworld_model_speed.py [--weights PATH] [--threads 1 2] [--comfy]

--comfy also times the LINA PhysWorld Loader path inside ComfyUI (in-process, CPU): building the
MODEL/CLIP/VAE objects and KSampler(euler, simple, 20 steps, cfg 4) + VAEDecode for one image.
Without --weights, a model with the default architecture and random weights is timed (the speed
does not depend on the weight values).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lina_nodes.physworld_model.config import load_config
from lina_nodes.physworld_model.data import TrainData
from lina_nodes.physworld_model.diffusion import flow_loss, from_uint8
from lina_nodes.physworld_model.evaluate import generate
from lina_nodes.physworld_model.model import build_denoiser, build_text_encoder, load_bundle
from lina_nodes.physworld_model.tokenizer import WordTokenizer, build_vocab
from lina_nodes.physworld_model.weights_io import save_model

PROMPT = "a small red ball on a shelf"


def default_weights(tmp: Path) -> Path:
    cfg = load_config()
    vocab = build_vocab()
    te, dn = build_text_encoder(cfg.to_dict()["text"], len(vocab)), build_denoiser(cfg.to_dict()["denoiser"])
    return Path(save_model(tmp / "physworld_bench.safetensors", te.state_dict(), dn.state_dict(), cfg.model_dict(),
                           vocab, "0" * 64, {}))


def time_generation(path, threads, repeats, steps, cfg):
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    b = load_bundle(path)
    load_s = time.perf_counter() - t0
    generate(b, [PROMPT], [0], steps=2, cfg=cfg)    # warm-up
    ts = []
    for r in range(repeats):
        t0 = time.perf_counter()
        generate(b, [PROMPT], [r + 1], steps=steps, cfg=cfg)
        ts.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    generate(b, [PROMPT] * 8, list(range(8)), steps=steps, cfg=cfg, batch=8)
    b8 = (time.perf_counter() - t0) / 8
    return {"threads": threads, "load_s": round(load_s, 3), "gen_1img_median_s": round(statistics.median(ts), 3),
            "gen_1img_max_s": round(max(ts), 3), "gen_per_img_batch8_s": round(b8, 3)}


def time_training(threads, steps, batch, overrides=None):
    torch.set_num_threads(threads)
    cfg = load_config(None, overrides)
    vocab = build_vocab()
    tok = WordTokenizer(vocab, cfg.text.max_len)
    te, dn = build_text_encoder(cfg.to_dict()["text"], len(vocab)), build_denoiser(cfg.to_dict()["denoiser"])
    opt = torch.optim.AdamW(list(te.parameters()) + list(dn.parameters()), lr=1e-4)
    data = TrainData(cfg.data, 0)
    g = torch.Generator().manual_seed(0)
    t_data = t_all = 0.0
    for s in range(steps + 1):
        t0 = time.perf_counter()
        imgs, prompts = data.batch(s, batch)
        t1 = time.perf_counter()
        ctx, _ = te(torch.as_tensor(tok.encode_batch(prompts)))
        loss = flow_loss(dn, from_uint8(imgs), ctx, g)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if s:   # skip the first (warm-up) step
            t_data += t1 - t0
            t_all += time.perf_counter() - t0
    return {"threads": threads, "batch": batch, "train_img_per_s": round(steps * batch / t_all, 1),
            "data_share": round(t_data / t_all, 3)}


def time_comfy(path, threads, steps, cfg):
    torch.set_num_threads(threads)
    from lina_nodes.inprocess.comfy_import import import_comfy
    sys.argv = sys.argv[:1]
    import_comfy()
    import nodes as comfy_nodes

    from lina_nodes.inprocess.physworld_objects import build_comfy_objects
    t0 = time.perf_counter()
    model, clip, vae = build_comfy_objects(path)
    load_s = time.perf_counter() - t0
    pos = comfy_nodes.CLIPTextEncode().encode(clip, PROMPT)[0]
    neg = comfy_nodes.CLIPTextEncode().encode(clip, "")[0]
    lat = {"samples": torch.zeros(1, 3, 64, 64)}
    comfy_nodes.common_ksampler(model, 0, 2, cfg, "euler", "simple", pos, neg, lat)
    ts = []
    for r in range(3):
        t0 = time.perf_counter()
        out = comfy_nodes.common_ksampler(model, r + 1, steps, cfg, "euler", "simple", pos, neg, lat)[0]
        vae.decode(out["samples"])
        ts.append(time.perf_counter() - t0)
    return {"threads": threads, "comfy_load_s": round(load_s, 3), "comfy_ksampler_decode_median_s":
            round(statistics.median(ts), 3)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=None)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--cfg", type=float, default=4.0)
    ap.add_argument("--train-steps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--comfy", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=JSON",
                    help="config override for the training timing, e.g. --set denoiser.patch=2 "
                         "--set data.image_size=64 (repeatable)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(a.weights) if a.weights else default_weights(Path(tmp))
        res = {"weights": str(path) if a.weights else "random weights, default architecture",
               "file_mb": round(path.stat().st_size / 1e6, 2), "generation": [], "training": [], "comfy": []}
        for th in a.threads:
            res["generation"].append(time_generation(path, th, a.repeats, a.steps, a.cfg))
            if a.train_steps:
                ov = {k: json.loads(v) for k, v in (x.split("=", 1) for x in a.set)}
                res["training"].append(time_training(th, a.train_steps, a.batch, ov))
            if a.comfy:
                res["comfy"].append(time_comfy(path, th, a.steps, a.cfg))
    if a.json:
        print(json.dumps(res, indent=2))
        return
    print(f"weights: {res['weights']} ({res['file_mb']} MB)")
    for g in res["generation"]:
        print(f"[{g['threads']} thread(s)] load {g['load_s']} s; one 64x64 image, {a.steps} steps, cfg {a.cfg}: "
              f"median {g['gen_1img_median_s']} s (max {g['gen_1img_max_s']} s); batch of 8: "
              f"{g['gen_per_img_batch8_s']} s/img")
    for t in res["training"]:
        print(f"[{t['threads']} thread(s)] training {t['train_img_per_s']} img/s at batch {t['batch']} "
              f"(data rendering {100 * t['data_share']:.0f}% of the time)")
    for c in res["comfy"]:
        print(f"[{c['threads']} thread(s)] ComfyUI: loader {c['comfy_load_s']} s; KSampler + VAEDecode "
              f"{c['comfy_ksampler_decode_median_s']} s")


if __name__ == "__main__":
    main()
