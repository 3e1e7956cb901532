"""`lina knee` (= `lina diagnose knee`): measure when structure forms in a model (x0 probe and prompt swap,
judged), report the knee, write knee.json and knee.png."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import CLIError, emit

DESCRIPTION = ("Sample prompts with the model while (1) judging the predicted clean image at every step and "
               "(2) swapping in the prompt only at progress p; report both curves (95% bootstrap intervals), their "
               "knees and the recommended LINA window_end; write knee.json and the figure knee.png. Default: the "
               "embedded PhysWorld model and its judge on in-distribution prompts. Point --checkpoint and --judge "
               "at your own model and judge.")


def register(sub) -> None:
    p = sub.add_parser("knee", help="measure when structure forms in a model and recommend the early-window end "
                                    "(same as `lina diagnose knee`)", description=DESCRIPTION)
    add_arguments(p)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", default=None, help="PhysWorld weights (default: the shipped model)")
    p.add_argument("--checkpoint", default=None, help="any ComfyUI checkpoint (model + CLIP + VAE) instead")
    p.add_argument("--judge", default=None, metavar="MODULE:CALLABLE",
                   help="judge(image uint8 HxWx3, prompt str[, csg dict]) -> score in [0, 1] or a dict with 'score' "
                        "(docs/diagnostics.md); default: the PhysWorld judge (registered against each prompt's scene)")
    p.add_argument("--prompts", default=None, help="text file, one prompt per line (default: PhysWorld prompts)")
    p.add_argument("--split", choices=("id", "ood"), default="id", help="PhysWorld prompts when --prompts is not given")
    p.add_argument("--n", type=int, default=20, help="number of PhysWorld prompts")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--cfg", type=float, default=4.0)
    p.add_argument("--size", type=int, default=64, help="image size in pixels")
    p.add_argument("--swaps", default=None, help="comma-separated swap progresses (default 0,.05,...,1)")
    p.add_argument("--swap-from", default="", help="prompt used before the swap (default: the empty prompt)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--out", default="out/knee", help="directory for knee.json and knee.png")
    p.add_argument("--no-figure", action="store_true", help="skip knee.png (no matplotlib needed)")
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable JSON output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..errors import LinaError
    from ..evaluation.diagnose_common import Item, call_judge, load_judge, load_sampler, physworld_items, read_prompts
    from ..evaluation.knee_probe import DEFAULT_SWAPS, format_report, measure

    torch.set_num_threads(max(1, args.threads))
    try:
        swaps = DEFAULT_SWAPS if not args.swaps else tuple(float(v) for v in args.swaps.split(","))
    except ValueError:
        raise CLIError(f"--swaps must be comma-separated numbers, got {args.swaps!r}") from None
    if args.n < 1 or args.seeds < 1:
        raise CLIError("--n and --seeds must be >= 1")
    try:
        if args.checkpoint and not args.judge:
            raise CLIError("--checkpoint needs --judge MODULE:CALLABLE "
                           "(the PhysWorld judge only reads PhysWorld scenes)")
        if args.prompts:
            if not args.judge:
                raise CLIError("--prompts needs --judge MODULE:CALLABLE (the PhysWorld judge needs PhysWorld scenes)")
            items = [Item(p) for p in read_prompts(args.prompts)]
        else:
            items = physworld_items(args.n, args.split, args.size, args.weights)
        if args.judge:
            user = load_judge(args.judge)

            def judge(img, i):
                return call_judge(user, img, items[i])["score"]
        else:
            from ..physworld.register import judge_registered

            def judge(img, i):
                return judge_registered(img, items[i].scene).score
        sampler = load_sampler(args.checkpoint, args.weights)
        bar = None
        if not getattr(args, "json", False) and sys.stderr.isatty():
            from tqdm import tqdm

            def bar(total):
                return tqdm(total=total, desc="knee", file=sys.stderr)
        rep = measure(sampler, [it.prompt for it in items], judge, seeds=args.seeds, steps=args.steps, cfg=args.cfg,
                      size=args.size, swaps=swaps, swap_from=args.swap_from, progress=bar)
    except LinaError as e:
        raise CLIError(str(e)) from None
    rep["diagnostic"] = "knee"
    rep["model"] = sampler.name
    rep["judge"] = args.judge or "physworld (registered)"
    rep["threads"] = max(1, args.threads)
    rep["judged_images"] = len(items) * args.seeds * (len(rep["x0_probe"]["progress"]) + len(rep["prompt_swap"]["progress"]))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rep["report"] = str(out / "knee.json")
    rep["figure"] = None
    if not args.no_figure:
        from ..evaluation.figures import knee_figure

        try:
            rep["figure"] = knee_figure(rep, out / "knee.png")
        except LinaError as e:
            raise CLIError(str(e)) from None
    (out / "knee.json").write_text(json.dumps(rep, indent=2))
    emit(args, rep, format_report(rep) + f"\nreport {rep['report']}" + (f"\nfigure {rep['figure']}" if rep["figure"] else ""))
    return 0
