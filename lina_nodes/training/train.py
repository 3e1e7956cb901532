"""``lina adapter train`` end to end: search (``search.py``), fit (``fit.py``), write the adapter and a JSON
report into the run folder (``adapter.safetensors``, ``report.json``, ``rows*.jsonl``, ``config.json``)."""
from __future__ import annotations

import json
import time
from pathlib import Path

from ..intervention.adapter import make_adapter, save_adapter
from .config import TrainConfig, TrainError
from .fit import fit_head, to_tensors
from .plugins import load_object
from .pool import build_items
from .search import complete_keys, read_rows, run_search


def fit_adapter(cfg: TrainConfig, out, runner=None, name: str = "adapter.safetensors", log=print) -> dict:
    """Fit the head on every complete item in ``out``'s checkpoint and write the adapter and its report."""
    out = Path(out)
    rows = read_rows(out)
    done = complete_keys(rows, cfg)
    items = {it["key"]: it for it in build_items(cfg.pools, cfg.exclude)[0]}
    if runner is None:
        runner = load_object(cfg.runner, "config.runner")(**cfg.runner_args)
    feats = {k: runner.features(items[k]["prompt"]).numpy() for k in done if k in items}
    W, b, rep = fit_head(cfg, [r for r in rows if r["key"] in feats], feats)
    Wt, bt = to_tensors(W, b)
    training = {"pools": list(cfg.pools), "exclude": list(cfg.exclude), "judge": cfg.judge, "runner": cfg.runner,
                "seeds": cfg.seeds, "seed": cfg.seed, "holdout": cfg.holdout, "ridge": cfg.ridge,
                "items": rep["all"]["n"], "model": getattr(runner, "name", ""), "report": rep["all"]}
    adapter = make_adapter(runner.subspace(), cfg.actions, Wt, bt, family=getattr(runner, "family", ""),
                           training=training)
    path = save_adapter(adapter, out / name)
    report = {"adapter": path, "config": cfg.to_dict(), **rep}
    (out / (Path(name).stem + "_report.json")).write_text(json.dumps(report, indent=1))
    a = rep["all"]
    log(f"fitted on {a['n']} prompts: prior {100 * a['prior']:.1f}, adapter (cross-validated) "
        f"{100 * a['adapter_cv']:.1f}, in-sample {100 * a['adapter_in_sample']:.1f}, best single action "
        f"{rep['best_single_action']} {100 * a['best_single']:.1f}, oracle {100 * a['oracle']:.1f} -> {path}")
    return report


def train(cfg: TrainConfig, out, resume: bool = False, progress: bool = True, log=print) -> dict:
    """Search then fit; returns the report (also in ``out/adapter_report.json``)."""
    t0 = time.perf_counter()
    info = run_search(cfg, out, resume=resume, progress=progress, log=log)
    import os

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        log("multi-process launch: this rank's search is done; fit with `lina adapter train --fit-only` "
            "once every rank has finished.")
        return {"search": info}
    if info["items"] == 0:
        raise TrainError("the pool is empty after excluding evaluation prompts.", field="config.pools")
    rep = fit_adapter(cfg, out, log=log)
    rep["search"] = info
    rep["seconds"] = round(time.perf_counter() - t0, 1)
    (Path(out) / "adapter_report.json").write_text(json.dumps(rep, indent=1))
    return rep
