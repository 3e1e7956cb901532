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


def merged_rows(cfg: TrainConfig, out: Path, with_runs=()) -> list[dict]:
    """Rows of ``out`` plus those of other runs of the same pool and action space (e.g. another ``seed``: more
    seeds per prompt and action, averaged by the fit)."""
    rows = read_rows(out)
    for run in with_runs:
        run = Path(run)
        try:
            other = TrainConfig.from_dict(json.loads((run / "config.json").read_text()))
        except OSError:
            raise TrainError(f"{run} holds no training run (no config.json).", field="--with-run") from None
        if (other.pools, other.exclude, other.actions, other.judge) != (cfg.pools, cfg.exclude, cfg.actions, cfg.judge):
            raise TrainError(f"{run} searched another pool, action space or judge.", field="--with-run",
                             fix="merge only runs of the same config (another seed is fine).")
        if other.seed == cfg.seed:
            raise TrainError(f"{run} used the same seed as {out}: its rows would repeat the same samples.",
                             field="--with-run", fix="merge runs with different config seeds.")
        rows += read_rows(run)
    return rows


def searched_features(cfg: TrainConfig, out, runner=None, with_runs=()) -> tuple[list[dict], dict, object]:
    """(rows of every complete item of ``out`` and ``with_runs``, {key: feature vector}, the runner)."""
    rows = merged_rows(cfg, Path(out), with_runs)
    done = complete_keys(rows, cfg)
    items = {it["key"]: it for it in build_items(cfg.pools, cfg.exclude)[0]}
    if runner is None:
        runner = load_object(cfg.runner, "config.runner")(**cfg.runner_args)
    feats = {k: runner.features(items[k]["prompt"]).numpy() for k in done if k in items}
    return [r for r in rows if r["key"] in feats], feats, runner


def fit_adapter(cfg: TrainConfig, out, runner=None, name: str = "adapter.safetensors", log=print,
                with_runs=()) -> dict:
    """Fit the head on every complete item in ``out``'s checkpoint (and ``with_runs``'), write the adapter and
    its report."""
    out = Path(out)
    rows, feats, runner = searched_features(cfg, out, runner, with_runs)
    W, b, support, rep = fit_head(cfg, rows, feats)
    Wt, bt = to_tensors(W, b)
    training = {"pools": list(cfg.pools), "exclude": list(cfg.exclude), "judge": cfg.judge, "runner": cfg.runner,
                "seeds": cfg.seeds, "seed": cfg.seed, "with_runs": [str(r) for r in with_runs], "holdout": cfg.holdout, "ridge": cfg.ridge,
                "items": rep["all"]["n"], "model": Path(str(getattr(runner, "name", ""))).name, "report": rep["all"]}
    adapter = make_adapter(runner.subspace(), cfg.actions, Wt, bt, family=getattr(runner, "family", ""),
                           training=training, support=support, outside_support=cfg.outside_support)
    path = save_adapter(adapter, out / name)
    report = {"adapter": path, "config": cfg.to_dict(), "with_runs": [str(r) for r in with_runs], **rep}
    (out / (Path(name).stem + "_report.json")).write_text(json.dumps(report, indent=1))
    a = rep["all"]
    log(f"fitted on {a['n']} prompts ({rep['selected']}, {rep['support_rows']} supported CSG feature rows): prior {100 * a['prior']:.1f}, adapter (cross-validated) "
        f"{100 * a['adapter_cv']:.1f}, in-sample {100 * a['adapter_in_sample']:.1f}, best single action "
        f"{rep['best_single_action']} {100 * a['best_single']:.1f}, oracle {100 * a['oracle']:.1f} -> {path}")
    if "held_out" in rep:
        h = rep["held_out"]
        log(f"on the {h['n']} held-out searched prompts ({cfg.holdout}): prior {100 * h['prior']:.1f}, adapter "
            f"{100 * h['adapter']:.1f} ({100 * (h['adapter'] - h['prior']):+.1f}), oracle {100 * h['oracle']:.1f}; "
            f"chosen {h['chosen']}")
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
