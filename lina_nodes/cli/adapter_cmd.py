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


def run_show(args) -> int:
    from ..intervention.adapter import AdapterError, load_adapter

    try:
        a = load_adapter(args.path)
    except AdapterError as e:
        raise CLIError(str(e)) from None
    info = {"path": a.path, "encoder_fingerprint": a.fingerprint, "width": a.width, "family": a.family,
            "source": a.source, "training": json.loads(a.training or "{}")}
    emit(args, info, json.dumps(info, indent=1))
    return 0
