"""Training loop: rectified flow on the PhysWorld train split, EMA, periodic checkpoints, resume.

``train(cfg, run_dir)`` writes into ``run_dir``:
  ckpt-<step>.safetensors   full training state (model, EMA, AdamW), the newest ``keep_checkpoints``
  physworld_model.safetensors   the EMA model (what ships in weights/), refreshed at each checkpoint
  log.jsonl                 one line per ``log_every`` steps: step, loss, images/s, lr, elapsed
  config.json               the run's config (a resumed run must have the same one)
Batches and noise are functions of (seed, step), so a resumed run continues exactly.
"""
from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from pathlib import Path

import torch

from ..errors import LinaError
from .config import Config
from .data import TrainData
from .diffusion import flow_loss, from_uint8
from .model import build_denoiser, build_text_encoder
from .tokenizer import WordTokenizer, build_vocab
from .weights_io import load_checkpoint, save_checkpoint, save_model

MODEL_FILE = "physworld_model.safetensors"


class TrainError(LinaError):
    """A training run that cannot start or resume."""


class _Joint(torch.nn.Module):
    def __init__(self, te, dn):
        super().__init__()
        self.text_encoder = te
        self.denoiser = dn


def _lr(step: int, tc) -> float:
    if step < tc.warmup:
        return tc.lr * (step + 1) / tc.warmup
    p = min(1.0, (step - tc.warmup) / max(1, tc.steps - tc.warmup))
    return tc.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def _checkpoints(run_dir: Path) -> list[Path]:
    return sorted(run_dir.glob("ckpt-*.safetensors"))


def _progress(total, initial, enabled):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True, file=sys.stderr)


def train(cfg: Config, run_dir, resume: bool = True, progress: bool = True, log=None,
          max_steps: int | None = None) -> dict:
    """Train (or resume) until cfg.train.steps, the time budget, ``max_steps`` more steps, or SIGTERM.
    Returns a summary dict (steps, losses, images/s, files)."""
    tc = cfg.train
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    torch.set_num_threads(max(1, tc.num_threads))
    torch.manual_seed(tc.seed)

    vocab = build_vocab()
    tok = WordTokenizer(vocab, cfg.text.max_len)
    te = build_text_encoder(cfg.to_dict()["text"], len(tok))
    dn = build_denoiser(cfg.to_dict()["denoiser"])
    net = _Joint(te, dn)
    ema = _Joint(build_text_encoder(cfg.to_dict()["text"], len(tok)), build_denoiser(cfg.to_dict()["denoiser"]))
    ema.load_state_dict(net.state_dict())
    ema.requires_grad_(False)
    decay, no_decay = [], []
    for n, p in net.named_parameters():
        (no_decay if p.ndim < 2 or n.endswith(".pos") else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": tc.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=tc.lr, betas=(0.9, 0.99))
    data = TrainData(cfg.data, tc.seed)
    data_hash = data.data_hash()

    cfg_path = run / "config.json"
    step, elapsed, history = 0, 0.0, []
    ckpts = _checkpoints(run)
    if ckpts and resume:
        if cfg_path.is_file():
            old = json.loads(cfg_path.read_text())
            old_t, new_t = dict(old.get("train", {})), cfg.to_dict()["train"]
            for k in ("steps", "time_budget_s", "log_every", "checkpoint_every", "keep_checkpoints", "num_threads"):
                old_t.pop(k, None)
                new_t.pop(k, None)
            if {**old, "train": old_t} != {**cfg.to_dict(), "train": new_t}:
                raise TrainError(f"{run} holds a run with a different config ({cfg_path}).", field="run_dir",
                                 fix="use a new --out directory, pass the same --config, or --no-resume.")
        m_sd, e_sd, o_sd, meta = load_checkpoint(ckpts[-1])
        if meta.get("data_hash") != data_hash:
            log(f"warning: the training data changed since {ckpts[-1].name} (data hash differs); resuming anyway")
        net.load_state_dict(m_sd)
        ema.load_state_dict(e_sd)
        o_sd["state"] = {k: {n: (v if n != "step" else v.reshape(())) for n, v in st.items()}
                         for k, st in o_sd["state"].items()}
        opt.load_state_dict(o_sd)
        step, elapsed, history = int(meta["step"]), float(meta.get("elapsed_s", 0.0)), meta.get("history", [])
        log(f"resumed from {ckpts[-1]} at step {step} ({elapsed:.0f} s trained)")
    elif ckpts and not resume:
        raise TrainError(f"{run} already has checkpoints.", field="run_dir", fix="use a new --out directory, or resume.")
    cfg_path.write_text(json.dumps(cfg.to_dict(), indent=2, sort_keys=True))

    n_params = sum(p.numel() for p in net.parameters())
    log(f"PhysWorld model: {n_params / 1e6:.2f} M parameters; vocab {len(tok)}; data hash {data_hash[:12]}; "
        f"{tc.num_threads} thread(s)")

    stop = {"flag": False}

    def _sig(signum, frame):
        stop["flag"] = True
    old_handlers = {}
    for s in (signal.SIGTERM, signal.SIGINT):
        try:
            old_handlers[s] = signal.signal(s, _sig)
        except ValueError:   # not the main thread
            pass

    def checkpoint(final=False):
        ema_sd = ema.state_dict()
        meta = {"step": step, "elapsed_s": elapsed, "history": history[-400:], "data_hash": data_hash,
                "seed": tc.seed, "config": cfg.to_dict()}
        p = save_checkpoint(run / f"ckpt-{step:07d}.safetensors", net.state_dict(), ema_sd, opt.state_dict(), meta)
        for old in _checkpoints(run)[:-max(1, tc.keep_checkpoints)]:
            old.unlink()
        info = {"steps": step, "images_seen": step * tc.batch_size, "elapsed_s": round(elapsed, 1),
                "seed": tc.seed, "loss": history[-1]["loss"] if history else None, "final": final,
                "data": cfg.to_dict()["data"], "train": cfg.to_dict()["train"]}
        mp = save_model(run / MODEL_FILE, {k[13:]: v for k, v in ema_sd.items() if k.startswith("text_encoder.")},
                        {k[9:]: v for k, v in ema_sd.items() if k.startswith("denoiser.")},
                        cfg.model_dict(), tok.vocab, data_hash, info, ood_split=cfg.data.split)
        return p, mp

    target = tc.steps if max_steps is None else min(tc.steps, step + max_steps)
    bar = _progress(target, step, progress)
    run_loss, run_n, t_last, n_last = 0.0, 0, time.perf_counter(), step
    first_loss = None
    gen = torch.Generator()
    net.train()
    reason = "steps"
    try:
        while step < target:
            if elapsed >= tc.time_budget_s:
                reason = "time budget"
                break
            if stop["flag"]:
                reason = "signal"
                break
            t0 = time.perf_counter()
            imgs, prompts = data.batch(step, tc.batch_size)
            x0 = from_uint8(imgs)
            ids = torch.as_tensor(tok.encode_batch(prompts))
            gen.manual_seed(tc.seed * 1_000_003 + step)
            for g in opt.param_groups:
                g["lr"] = _lr(step, tc)
            ctx, _ = net.text_encoder(ids)
            loss = flow_loss(net.denoiser, x0, ctx, gen, cfg.diffusion.t_logit_mean, cfg.diffusion.t_logit_std)
            if not torch.isfinite(loss):
                raise TrainError(f"the loss became {float(loss)} at step {step}.", field="train.lr",
                                 fix="lower the learning rate or resume from the previous checkpoint.")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), tc.grad_clip)
            opt.step()
            d = min(tc.ema, (1 + step) / (10 + step))
            with torch.no_grad():
                for pe, pn in zip(ema.parameters(), net.parameters()):
                    pe.lerp_(pn, 1 - d)
                for be, bn in zip(ema.buffers(), net.buffers()):
                    be.copy_(bn)
            step += 1
            elapsed += time.perf_counter() - t0
            lv = float(loss.detach())
            first_loss = lv if first_loss is None else first_loss
            run_loss += lv
            run_n += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{lv:.4f}")
            if step % tc.log_every == 0 or step == target:
                now = time.perf_counter()
                ips = (step - n_last) * tc.batch_size / max(1e-9, now - t_last)
                rec = {"step": step, "loss": round(run_loss / run_n, 5), "img_per_s": round(ips, 2),
                       "lr": round(_lr(step - 1, tc), 7), "elapsed_s": round(elapsed, 1)}
                history.append(rec)
                with open(run / "log.jsonl", "a") as f:
                    f.write(json.dumps(rec) + "\n")
                if bar is None:
                    log(f"step {step}/{target} loss {rec['loss']:.4f} {ips:.1f} img/s elapsed {elapsed:.0f}s")
                run_loss, run_n, t_last, n_last = 0.0, 0, now, step
            if step % tc.checkpoint_every == 0 and step < target:
                checkpoint()
    finally:
        if bar is not None:
            bar.close()
        for s, h in old_handlers.items():
            signal.signal(s, h)
    if run_n:
        history.append({"step": step, "loss": round(run_loss / run_n, 5), "elapsed_s": round(elapsed, 1)})
    ck, mp = checkpoint(final=step >= tc.steps)
    log(f"stopped at step {step} ({reason}); checkpoint {ck}; model {mp}")
    return {"steps": step, "stopped_by": reason, "elapsed_s": round(elapsed, 1), "first_loss": first_loss,
            "history": history[-20:], "checkpoint": ck, "model": mp, "data_hash": data_hash,
            "params": n_params, "pid": os.getpid()}
