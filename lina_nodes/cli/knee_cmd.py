"""`lina knee`: measure when structure forms in a model (x0 probe and prompt swap, judged), report the knee."""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from . import CLIError, emit


def register(sub) -> None:
    p = sub.add_parser(
        "knee", help="measure when structure forms in a model and recommend the early-window end",
        description="Sample prompts with the model while (1) judging the predicted clean image at every step and "
                    "(2) swapping in the prompt only at progress p; report both curves, their knees and the "
                    "recommended LINA window_end. Default: the embedded PhysWorld model and its judge on "
                    "in-distribution prompts. Point --checkpoint and --judge at your own model and judge.")
    p.add_argument("--weights", default=None, help="PhysWorld weights (default: the shipped model)")
    p.add_argument("--checkpoint", default=None, help="any ComfyUI checkpoint (model + CLIP + VAE) instead")
    p.add_argument("--judge", default=None, metavar="MODULE:FUNCTION",
                   help="judge(image uint8 HxWx3, prompt str) -> score in [0, 1]; default: the PhysWorld judge "
                        "(registered against each prompt's scene)")
    p.add_argument("--prompts", default=None, help="text file, one prompt per line (needed with --judge)")
    p.add_argument("--split", choices=("id", "ood"), default="id", help="PhysWorld prompts when --prompts is not given")
    p.add_argument("--n", type=int, default=20, help="number of PhysWorld prompts")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--cfg", type=float, default=4.0)
    p.add_argument("--size", type=int, default=64, help="image size in pixels")
    p.add_argument("--swaps", default=None, help="comma-separated swap progresses (default 0,.05,...,1)")
    p.add_argument("--swap-from", default="", help="prompt used before the swap (default: the empty prompt)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--out", default="out/knee", help="directory for knee.json")
    p.set_defaults(func=run)


def _load_judge(spec: str):
    if ":" not in spec:
        raise CLIError(f"--judge must be MODULE:FUNCTION, got {spec!r}")
    mod, fn = spec.split(":", 1)
    sys.path.insert(0, str(Path.cwd()))
    try:
        f = getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError) as e:
        raise CLIError(f"--judge {spec}: {e}") from None
    if not callable(f):
        raise CLIError(f"--judge {spec} is not callable")
    return f


def run(args: argparse.Namespace) -> int:
    import torch

    from ..errors import LinaError
    from ..inprocess.sampler import InProcessSampler
    from ..evaluation.knee_probe import DEFAULT_SWAPS, format_report, measure
    from ..paths import PHYSWORLD_DEFAULT_WEIGHTS as DEFAULT_WEIGHTS

    torch.set_num_threads(max(1, args.threads))
    try:
        swaps = DEFAULT_SWAPS if not args.swaps else tuple(float(v) for v in args.swaps.split(","))
    except ValueError:
        raise CLIError(f"--swaps must be comma-separated numbers, got {args.swaps!r}") from None
    if args.n < 1 or args.seeds < 1:
        raise CLIError("--n and --seeds must be >= 1")
    try:
        if args.checkpoint and args.weights:
            raise CLIError("pass either --weights (PhysWorld) or --checkpoint, not both")
        if args.checkpoint and not args.judge:
            raise CLIError("--checkpoint needs --judge MODULE:FUNCTION "
                           "(the PhysWorld judge only reads PhysWorld scenes)")
        if args.judge:
            if not args.prompts:
                raise CLIError("--judge needs --prompts FILE")
            path = Path(args.prompts)
            if not path.is_file():
                raise CLIError(f"--prompts {path}: no such file")
            prompts = [x.strip() for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
            user = _load_judge(args.judge)

            def judge(img, i):
                return user(img, prompts[i])
        else:
            from ..physworld.register import judge_registered
            from ..physworld_model.data import eval_samples
            from ..physworld_model.weights_io import weights_split

            samples = eval_samples("id_test" if args.split == "id" else "ood_test", args.n, size=args.size,
                                   version=weights_split(args.weights or DEFAULT_WEIGHTS))
            prompts = [s.record["prompt"] for s in samples]

            def judge(img, i):
                return judge_registered(img, samples[i].record["scene"]).score
        if args.checkpoint:
            sampler = InProcessSampler.checkpoint(args.checkpoint)
        else:
            sampler = InProcessSampler.physworld(args.weights or DEFAULT_WEIGHTS)
        bar = None
        if not args.json and sys.stderr.isatty():
            from tqdm import tqdm

            def bar(total):
                return tqdm(total=total, desc="knee", file=sys.stderr)
        rep = measure(sampler, prompts, judge, seeds=args.seeds, steps=args.steps, cfg=args.cfg, size=args.size,
                      swaps=swaps, swap_from=args.swap_from, progress=bar)
    except LinaError as e:
        raise CLIError(str(e)) from None
    rep["model"] = sampler.name
    rep["judge"] = args.judge or "physworld (registered)"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "knee.json").write_text(json.dumps(rep, indent=2))
    rep["report"] = str(out / "knee.json")
    emit(args, rep, format_report(rep) + f"\nreport {rep['report']}")
    return 0
