"""`lina diagnose multihop|subspace|knee`: the three insights behind LINA as measurements, each with a JSON
report and a PNG figure (docs/diagnostics.md)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import CLIError, emit
from . import knee_cmd

JUDGE_HELP = ("your judge: judge(image uint8 HxWx3, prompt str, csg dict) -> {'score': 0..1, optional 'checks', "
              "'nodes', 'physics', 'texture'} (docs/diagnostics.md); default: the registered PhysWorld judge")


def register(sub) -> None:
    p = sub.add_parser("diagnose", help="the paper's three insights as diagnostics: multihop, subspace, knee",
                       description="Measure the three findings LINA rests on, on the embedded PhysWorld model (no "
                                   "arguments) or your checkpoint and judge. Each writes a JSON report and a PNG figure.")
    dsub = p.add_subparsers(dest="diagnostic", metavar="DIAGNOSTIC")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    m = dsub.add_parser("multihop", help="insight 1: masked inpainting of one CSG node at a time, recovery by hop",
                        description="Mask one CSG node of a PhysWorld reference render at a time (its box, dilated), "
                                    "inpaint it with the model's own masked sampling (ComfyUI's latent noise mask), "
                                    "judge whether the node comes back right; recovery by hop depth and node kind, "
                                    "without and with LINA, 95% Wilson intervals.")
    _common(m, n=140, out="out/diagnose/multihop", prompts=False)
    m.add_argument("--dilate", type=int, default=2, help="pixels the node's box is grown by")
    m.add_argument("--adapter", default=None, help="also run LINA with this adapter file (a third arm)")
    m.add_argument("--no-lina", action="store_true", help="plain model only")
    m.add_argument("--empty-mask", action="store_true", help="mask nothing (a check: every node must come back)")
    m.set_defaults(func=run_multihop)

    s = dsub.add_parser("subspace", help="insight 2: physics vs texture accuracy when the conditioning moves along "
                                         "the physics (P) and texture (T) subspaces",
                        description="Estimate the text encoder's physics and texture subspaces (as LINA Plan does), "
                                    "move the conditioning along each, judge physics and colour/material checks; "
                                    "also the principal angles and explained variance. 95% bootstrap intervals.")
    _common(s, n=56, out="out/diagnose/subspace", prompts=True)
    s.add_argument("--alphas", default=None, help="comma-separated steps in units of |c| (default -.5,-.25,0,.25,.5,1)")
    s.set_defaults(func=run_subspace)

    k = dsub.add_parser("knee", help="insight 3: when structure forms (same as `lina knee`)",
                        description=knee_cmd.DESCRIPTION)
    knee_cmd.add_arguments(k)
    k.set_defaults(out="out/diagnose/knee")


def _common(p, n: int, out: str, prompts: bool) -> None:
    p.add_argument("--n", type=int, default=n, help=f"number of PhysWorld prompts (default {n}, categories in turn)")
    p.add_argument("--seeds", type=int, default=1, help="seeds per prompt")
    p.add_argument("--out", default=out, help="directory for the JSON report and the PNG figure")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable JSON output")
    p.add_argument("--weights", default=None, help="PhysWorld weights (default: the shipped model)")
    p.add_argument("--checkpoint", default=None, help="a ComfyUI checkpoint (model + CLIP + VAE) instead")
    p.add_argument("--judge", default=None, metavar="MODULE:CALLABLE", help=JUDGE_HELP)
    if prompts:
        p.add_argument("--prompts", default=None, help="text file, one prompt per line (with --judge)")
    p.add_argument("--split", choices=("id", "ood"), default="id", help="PhysWorld split of the prompts")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--cfg", type=float, default=4.0)
    p.add_argument("--size", type=int, default=64, help="image size in pixels")
    p.add_argument("--no-figure", action="store_true", help="skip the PNG (no matplotlib needed)")


def _setup(args):
    import torch

    torch.set_num_threads(max(1, args.threads))
    if args.n < 1 or args.seeds < 1:
        raise CLIError("--n and --seeds must be >= 1")


def _bar(args, name):
    if getattr(args, "json", False) or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return lambda total: tqdm(total=total, desc=name, file=sys.stderr)


def _finish(args, rep: dict, name: str, draw, text: str) -> int:
    from ..errors import LinaError

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rep["report"] = str(out / f"{name}.json")
    rep["figure"] = None
    if not args.no_figure:
        try:
            rep["figure"] = draw(rep, out / f"{name}.png")
        except LinaError as e:
            raise CLIError(str(e)) from None
    (out / f"{name}.json").write_text(json.dumps(rep, indent=2, default=str))
    emit(args, rep, text + f"\nreport {rep['report']}" + (f"\nfigure {rep['figure']}" if rep["figure"] else ""))
    return 0


def run_multihop(args: argparse.Namespace) -> int:
    from ..errors import LinaError
    from ..evaluation import diagnose_multihop as mh
    from ..evaluation.diagnose_common import load_sampler, make_judge, physworld_items
    from ..evaluation.figures import multihop_figure

    _setup(args)
    try:
        adapter = None
        if args.adapter:
            from ..intervention.adapter import load_adapter

            adapter = load_adapter(args.adapter)
        arms = ("plain",) + (() if args.no_lina else ("lina",)) + (("adapter",) if adapter is not None else ())
        items = physworld_items(args.n, args.split, args.size, args.weights)
        sampler = load_sampler(args.checkpoint, args.weights)
        rep = mh.measure(sampler, items, make_judge(args.judge), seeds=args.seeds, steps=args.steps, cfg=args.cfg,
                         size=args.size, arms=arms, dilate_px=args.dilate, empty_mask=args.empty_mask,
                         adapter=adapter, progress=_bar(args, "multihop"))
    except LinaError as e:
        raise CLIError(str(e)) from None
    rep.update(diagnostic="multihop", model=sampler.name, judge=args.judge or "physworld (registered)",
               threads=max(1, args.threads))
    return _finish(args, rep, "multihop", multihop_figure, mh.format_report(rep))


def run_subspace(args: argparse.Namespace) -> int:
    from ..errors import LinaError
    from ..evaluation import diagnose_subspace as ds
    from ..evaluation.diagnose_common import Item, load_sampler, make_judge, physworld_items, read_prompts
    from ..evaluation.figures import subspace_figure

    _setup(args)
    try:
        alphas = ds.DEFAULT_ALPHAS if not args.alphas else tuple(float(v) for v in args.alphas.split(","))
    except ValueError:
        raise CLIError(f"--alphas must be comma-separated numbers, got {args.alphas!r}") from None
    try:
        if args.checkpoint and not args.judge:
            raise CLIError("--checkpoint needs --judge MODULE:CALLABLE (the PhysWorld judge reads PhysWorld images)")
        if args.prompts and not args.judge:
            raise CLIError("--prompts needs --judge MODULE:CALLABLE (the PhysWorld judge needs PhysWorld scenes)")
        items = [Item(p) for p in read_prompts(args.prompts)] if args.prompts else \
            physworld_items(args.n, args.split, args.size, args.weights)
        sampler = load_sampler(args.checkpoint, args.weights)
        rep = ds.measure(sampler, items, make_judge(args.judge), alphas=alphas, seeds=args.seeds, steps=args.steps,
                         cfg=args.cfg, size=args.size, progress=_bar(args, "subspace"))
    except LinaError as e:
        raise CLIError(str(e)) from None
    rep.update(diagnostic="subspace", model=sampler.name, judge=args.judge or "physworld (registered)",
               threads=max(1, args.threads))
    return _finish(args, rep, "subspace", subspace_figure, ds.format_report(rep))
