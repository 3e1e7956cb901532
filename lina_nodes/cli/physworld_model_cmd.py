"""Command-line entry points, wired by the lead as ``lina physworld train|eval``.

    add_train_args(parser); train_main(args) -> int
    add_eval_args(parser);  eval_main(args) -> int
Also runnable as ``python -m lina_nodes.cli.physworld_model_cmd train|eval ...``.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from ..errors import LinaError
from ..paths import PACK_WEIGHTS as REPO_WEIGHTS
from ..paths import PHYSWORLD_DEFAULT_WEIGHTS as DEFAULT_WEIGHTS


def _emit(args, data, text):
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, default=str))
    else:
        print(text)


def _overrides(pairs) -> dict:
    out = {}
    for p in pairs or []:
        if "=" not in p:
            raise LinaError(f"--set {p!r} must look like section.field=value", field="--set")
        k, v = p.split("=", 1)
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


# ---------------------------------------------------------------------------------------------
def add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=None, help="config JSON (default: the shipped physworld_model/default.json)")
    p.add_argument("--out", default="out/physworld_run", help="run directory (checkpoints, log, model)")
    p.add_argument("--set", action="append", metavar="SECTION.FIELD=VALUE",
                   help="override one config field, e.g. --set train.steps=20 (repeatable)")
    p.add_argument("--steps", type=int, default=None, help="shortcut for --set train.steps=N")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many more steps (keeps the schedule)")
    p.add_argument("--no-resume", action="store_true", help="refuse to continue an existing run directory")
    p.add_argument("--no-progress", action="store_true", help="log lines instead of a progress bar")
    p.add_argument("--export", default=None, metavar="PATH",
                   help=f"copy the trained model there at the end (e.g. {DEFAULT_WEIGHTS.relative_to(REPO_WEIGHTS.parent)})")


def train_main(args) -> int:
    from ..physworld_model.config import load_config
    from ..physworld_model.train import train

    try:
        ov = _overrides(args.set)
        if args.steps is not None:
            ov["train.steps"] = args.steps
        cfg = load_config(args.config, ov)
        res = train(cfg, args.out, resume=not args.no_resume, progress=not args.no_progress,
                    max_steps=args.max_steps)
        if args.export:
            Path(args.export).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(res["model"], args.export)
            res["exported"] = args.export
    except LinaError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    last = res["history"][-1]["loss"] if res["history"] else None
    _emit(args, res, f"trained to step {res['steps']} ({res['stopped_by']}), loss {res['first_loss']} -> {last}; "
                     f"model {res.get('exported') or res['model']}")
    return 0


# ---------------------------------------------------------------------------------------------
def add_eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help="model .safetensors file")
    p.add_argument("--split", choices=("id", "ood"), default="id", help="in-distribution or out-of-distribution prompts")
    p.add_argument("--n", type=int, default=50, help="number of prompts")
    p.add_argument("--seeds", type=int, default=1, help="noise seeds per prompt")
    p.add_argument("--steps", type=int, default=None, help="sampling steps (default: the model's, 20)")
    p.add_argument("--cfg", type=float, default=None, help="guidance scale (default: the model's, 4)")
    p.add_argument("--batch", type=int, default=16, help="images per sampling batch")
    p.add_argument("--out", default="out/physworld_eval", help="directory for the JSON report and contact sheet")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--register", type=int, default=256, metavar="K",
                   help="judge each image against the nearest of K valid layouts of its prompt (0: against the "
                        "sample's own random layout only)")
    p.add_argument("--lina", choices=("off", "prior", "adapter"), default="off",
                   help="LINA at sampling time: off, the training-free prior plan from each prompt's parsed CSG, or "
                        "the plan a LINA adapter predicts (--adapter FILE); LINA Guider + Causal Scheduler, through "
                        "ComfyUI's sampler in this process")
    p.add_argument("--adapter", default="", help="LINA adapter .safetensors for --lina adapter")
    p.add_argument("--ablate", action="append", choices=("prompt", "latent", "schedule", "structure"), default=[],
                   help="remove one LINA component (repeatable): prompt (no physics-subspace edit), latent (no "
                        "latent term), schedule (base scheduler), structure (no structure-prompt phase)")
    p.add_argument("--mode", choices=("add", "substitute"), default="",
                   help="LINA latent mode: add (guidance term, extra evaluations) or substitute (c' replaces c in "
                        "the early window, no extra evaluations); default: the plan's")
    p.add_argument("--prompt-scale", type=float, default=1.0,
                   help="multiply the plan's prompt-edit strength (LINA Plan's prompt_scale; default 1)")
    p.add_argument("--latent-scale", type=float, default=1.0,
                   help="multiply the plan's latent guidance strength (LINA Plan's latent_scale; default 1)")
    p.add_argument("--structure-share", type=float, default=None,
                   help="share of the early window conditioned on the structure prompt, for plans that have one "
                        "(default: the plan's, 0.5 from the prior)")


def eval_main(args) -> int:
    from ..evaluation.physworld_eval import evaluate

    try:
        rep = evaluate(args.weights, split=args.split, n=args.n, seeds=args.seeds, steps=args.steps, cfg=args.cfg,
                       batch=args.batch, out_dir=args.out, threads=args.threads, register=args.register,
                       lina=args.lina, ablate=tuple(args.ablate), mode=args.mode,
                       prompt_scale=args.prompt_scale, latent_scale=args.latent_scale,
                       structure_share=args.structure_share, adapter=args.adapter)
    except LinaError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    lines = [(f"{args.split}: physical-alignment score {100 * rep['score']:.1f}% "
              f"(all constraints met {100 * rep['all_pass']:.1f}%) over {rep['images']} images; "
              f"against the samples' own layouts {100 * rep['score_fixed_layout']:.1f}%")]
    for c, v in sorted(rep["per_category"].items()):
        lines.append(f"  {c:12s} {100 * v['score']:5.1f}%  (n={v['n']})")
    lines.append(f"LINA {rep['lina']['setting']}; {rep['nfe_per_image']:.1f} model evaluations per image")
    lines.append(f"report {rep['report']}; contact sheet {rep['contact_sheet']}")
    _emit(args, rep, "\n".join(lines))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lina_nodes.cli.physworld_model_cmd")
    ap.add_argument("--json", action="store_true")
    sub = ap.add_subparsers(dest="cmd", required=True)
    add_train_args(sub.add_parser("train", help="train the PhysWorld model"))
    add_eval_args(sub.add_parser("eval", help="score the model with the PhysWorld judge"))
    args = ap.parse_args(argv)
    return train_main(args) if args.cmd == "train" else eval_main(args)


if __name__ == "__main__":
    sys.exit(main())
