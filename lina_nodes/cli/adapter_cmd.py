"""`lina adapter`: write and inspect LINA adapter files (format: lina_nodes/intervention/adapter.py)."""
from __future__ import annotations

import json

from . import CLIError, emit


def register(sub) -> None:
    p = sub.add_parser("adapter", help="write or inspect LINA adapter files",
                       description="LINA adapter files hold a plan predictor and the physics / texture subspaces "
                                   "of one text encoder. 'prior' writes the adapter that reproduces the training-free "
                                   "prior for a model's text encoder (the starting point of adapter training); "
                                   "'show' validates a file and prints its metadata.")
    s = p.add_subparsers(dest="adapter_cmd", required=True)
    pr = s.add_parser("prior", help="write the prior-reproducing adapter for a model's text encoder")
    pr.add_argument("--out", required=True, help="output .safetensors (name it lina_adapter_*.safetensors for the "
                                                  "loader node's list)")
    pr.add_argument("--weights", default=None, help="PhysWorld weights (default: the shipped model)")
    pr.add_argument("--checkpoint", default=None, help="any ComfyUI checkpoint with a text encoder instead")
    pr.set_defaults(func=run_prior)
    tr = s.add_parser("train", help="train an adapter by amortised search (docs/adapter_training.md)",
                      description="Per prompt of the pool, sample every action of the action space with the frozen "
                                  "model, score each image with the judge, then fit the predictor (ridge regression "
                                  "of the score on the prompt's features, one row per action). Writes OUT/"
                                  "adapter.safetensors, OUT/adapter_report.json, OUT/rows.jsonl (the checkpoint) and "
                                  "OUT/config.json.")
    tr.add_argument("--out", required=True, help="run folder (checkpoint, adapter, report)")
    tr.add_argument("--config", default=None, help="training config JSON (fields: lina_nodes/training/config.py; "
                                                    "default: PhysWorld, docs/adapter_training.md)")
    tr.add_argument("--set", action="append", default=[], metavar="FIELD=JSON",
                    help="override one config field, e.g. --set workers=2 --set 'pools=[\"physworld:ood_test:1000:8\"]'")
    tr.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    tr.add_argument("--fit-only", action="store_true", help="skip the search; fit on the rows already in --out")
    tr.add_argument("--with-run", action="append", default=[], metavar="DIR",
                    help="with --fit-only: also fit on the rows of another run of the same config with another seed")
    tr.add_argument("--holdout", default="", metavar="LABEL=VALUE",
                    help="fit without the items whose label has this value (leave-one-rule-out: rule=reversed_action); "
                         "the adapter is written as adapter_holdout_VALUE.safetensors")
    tr.add_argument("--no-progress", action="store_true", help="no progress bar")
    tr.set_defaults(func=run_train)
    sh = s.add_parser("show", help="validate an adapter file and print its metadata")
    sh.add_argument("path")
    sh.set_defaults(func=run_show)


def run_prior(args) -> int:
    from ..errors import LinaError
    from ..inprocess.sampler import InProcessSampler

    try:
        if args.checkpoint:
            smp = InProcessSampler.checkpoint(args.checkpoint)
            family = "checkpoint"
        else:
            from ..paths import PHYSWORLD_DEFAULT_WEIGHTS as DEFAULT_WEIGHTS

            smp = InProcessSampler.physworld(args.weights or DEFAULT_WEIGHTS)
            family = "physworld"
        from ..inprocess.plan_build import encoder_subspace
        from ..intervention.adapter import prior_adapter, save_adapter

        sub = encoder_subspace(smp.clip)
        path = save_adapter(prior_adapter(sub, family=family), args.out,
                            training={"source": "prior", "model": smp.name})
    except LinaError as e:
        raise CLIError(str(e)) from None
    emit(args, {"adapter": path, "encoder_fingerprint": sub.fingerprint, "width": sub.width},
         f"wrote {path} (encoder {sub.fingerprint}, width {sub.width})")
    return 0


def _train_config(args):
    from ..training.config import TrainConfig, TrainError

    base = TrainConfig.load(args.config).to_dict() if args.config else TrainConfig().to_dict()
    for item in args.set:
        key, eq, val = item.partition("=")
        if not eq or key not in base:
            raise TrainError(f"--set {item!r}: expected FIELD=JSON with FIELD one of {', '.join(sorted(base))}.",
                             field="--set")
        try:
            base[key] = json.loads(val)
        except ValueError:
            base[key] = val   # a bare string (e.g. --set judge=pkg.mod:fn)
    if args.holdout:
        label, eq, value = args.holdout.partition("=")
        if not eq or not label or not value:
            raise TrainError(f"--holdout {args.holdout!r}: expected LABEL=VALUE.", field="--holdout")
        base["holdout"] = {label: value}
    return TrainConfig.from_dict(base)


def run_train(args) -> int:
    from pathlib import Path

    from ..errors import LinaError
    from ..training.train import fit_adapter, train

    log = (lambda *a, **k: None) if args.json else print
    try:
        cfg = _train_config(args)
        if args.fit_only:
            if not (Path(args.out) / "config.json").exists():
                raise CLIError(f"{args.out} holds no search to fit on (no config.json).")
            name = (f"adapter_holdout_{next(iter(cfg.holdout.values()))}.safetensors" if cfg.holdout
                    else "adapter.safetensors")
            rep = fit_adapter(cfg, args.out, name=name, log=log, with_runs=args.with_run)
        else:
            rep = train(cfg, args.out, resume=args.resume, progress=not args.no_progress and not args.json, log=log)
    except LinaError as e:
        raise CLIError(str(e)) from None
    emit(args, rep, f"report: {Path(args.out) / 'adapter_report.json'}" if not args.fit_only else None)
    return 0


def run_show(args) -> int:
    from ..intervention.adapter import AdapterError, load_adapter

    try:
        a = load_adapter(args.path)
    except AdapterError as e:
        raise CLIError(str(e)) from None
    info = {"path": a.path, "encoder_fingerprint": a.fingerprint, "width": a.width, "family": a.family,
            "source": a.source, "actions": list(a.action_names),
            "support_rows": None if a.support is None else int(len(a.support)), "outside_support": a.outside_support,
            "training": json.loads(a.training or "{}")}
    emit(args, info, json.dumps(info, indent=1))
    return 0
