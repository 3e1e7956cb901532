"""Adapter size and prediction time (issue 13 target: under 5 MB, under 1 ms per prompt), against parsing the
same prompts (the step before it) side by side.

    .venv/bin/python benchmarks/adapter_speed.py [--adapter weights/lina_adapter_physworld.safetensors] [--n 600]

Prediction = the adapter's features of the parsed CSG and pooled output, the action scores and the choice
(``LinaAdapter.plan_overrides``); parse = ``lina_nodes.csg.parse`` of the same prompt. Median and 95th
percentile over ``--n`` PhysWorld test prompts (ID and OOD), one thread.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adapter", default=str(Path(__file__).resolve().parents[1] / "weights" /
                                             "lina_adapter_physworld.safetensors"))
    ap.add_argument("--n", type=int, default=600)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from lina_nodes.csg import parse
    from lina_nodes.intervention.adapter import load_adapter
    from lina_nodes.physworld_model.data import eval_samples

    adapter = load_adapter(args.adapter)
    prompts = [s.record["prompt"] for split in ("id_test", "ood_test") for s in eval_samples(split, args.n // 2)]
    g = torch.Generator().manual_seed(0)
    pooled = torch.randn(1, adapter.subspace.P_pooled.shape[1], generator=g) if adapter.subspace.P_pooled is not None \
        else None
    t_parse, t_pred, graphs = [], [], []
    for p in prompts:
        t0 = time.perf_counter()
        graphs.append(parse(p))
        t_parse.append(time.perf_counter() - t0)
    with torch.inference_mode():
        for gr in graphs:
            t0 = time.perf_counter()
            adapter.plan_overrides(gr, pooled)
            t_pred.append(time.perf_counter() - t0)
    size = Path(args.adapter).stat().st_size
    ms = lambda v, q: 1000 * float(np.percentile(v, q))  # noqa: E731
    print(f"adapter {args.adapter}: {size / 1024:.1f} KB ({size / 2**20:.3f} MB; target < 5 MB), "
          f"{len(adapter.actions)} actions")
    print(f"{'':12s} {'median ms':>10s} {'p95 ms':>10s}")
    print(f"{'parse':12s} {ms(t_parse, 50):10.3f} {ms(t_parse, 95):10.3f}")
    print(f"{'predict':12s} {ms(t_pred, 50):10.3f} {ms(t_pred, 95):10.3f}   (target < 1 ms)")
    print(f"predict / parse (median): {np.median(t_pred) / np.median(t_parse):.2f}x over {len(prompts)} prompts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
