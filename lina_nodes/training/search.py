"""Per-prompt search over the action space on the frozen model, scored by the judge; checkpointed and resumable.

Every item of the pool is sampled with every action (``seeds`` seeds each) and judged. Actions whose plan
equals an earlier action's for that prompt (``runner.plan_key``) reuse its images' scores instead of
sampling again. One item is the unit of work and of checkpointing: its rows are appended to
``rows.jsonl`` (one JSON object per action and seed) when the whole item is done, so a stopped run resumes
with ``resume=True`` and loses at most the items in flight. A resumed run may also extend the action space
(the old actions kept, with the same settings): only the (action, seed) rows an item lacks are sampled, with the
same per-item seeds, so the rows equal those of a run that searched the whole space at once. Items run in ``workers`` processes
(multiprocessing, spawn); under a multi-process launcher (``accelerate launch`` / ``torchrun``: ``RANK`` and
``WORLD_SIZE`` set) each process takes every WORLD_SIZE-th item and writes ``rows-rank{RANK}.jsonl``.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .config import TrainConfig, TrainError
from .plugins import call_judge, load_object
from .pool import build_items

_STATE: dict = {}


def search_seed(cfg: TrainConfig, item_index: int, k: int) -> int:
    return (cfg.seed * 7919 + 1_000_003 * (k + 1) + item_index) % (2**31)


def _init(cfg_json: str) -> None:
    """Worker set-up: the config, the items, the runner and the judge (once per process)."""
    cfg = TrainConfig.from_dict(json.loads(cfg_json))
    import torch

    torch.set_num_threads(cfg.threads)
    items, _ = build_items(cfg.pools, cfg.exclude)
    _STATE.update(cfg=cfg, items=items, runner=load_object(cfg.runner, "config.runner")(**cfg.runner_args),
                  judge=load_object(cfg.judge, "config.judge"))


def search_item(i: int, have=()) -> list[dict]:
    """The rows of item ``i`` (needs ``_init``), but those of the (action, k) pairs in ``have``."""
    cfg, item, runner, judge = _STATE["cfg"], _STATE["items"][i], _STATE["runner"], _STATE["judge"]
    rows, seen, have = [], {}, set(map(tuple, have))
    for name, changes in cfg.actions.items():
        key = runner.plan_key(item["prompt"], changes)
        for k in range(cfg.seeds):
            if (name, k) in have:
                continue
            seed = search_seed(cfg, i, k)
            if (key, k) in seen:
                score, nfe, same = *seen[(key, k)][:2], seen[(key, k)][2]
            else:
                image, nfe = runner(item["prompt"], seed, changes)
                score, same = call_judge(judge, cfg.judge, image, item), name
                seen[(key, k)] = (score, nfe, name)
            rows.append({"key": item["key"], "index": i, "action": name, "seed": seed, "k": k, "score": score,
                         "nfe": nfe, "same_as": same, "labels": item["labels"]})
    return rows


def _call(task):
    i, have = task
    try:
        return i, search_item(i, have), None
    except TrainError as e:   # re-raised in the parent with the same text
        return i, None, str(e)


def rows_path(out: Path) -> Path:
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    return out / ("rows.jsonl" if world <= 1 else f"rows-rank{rank}.jsonl")


def read_rows(out: Path) -> list[dict]:
    """Every checkpointed row under ``out`` (all ranks); a torn last line of a killed run is skipped."""
    rows = []
    for p in sorted(Path(out).glob("rows*.jsonl")):
        for line in p.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    return rows


def done_pairs(rows: list[dict], cfg: TrainConfig) -> dict:
    """{item key: {(action, k) rows present}} for the config's actions and seeds."""
    out: dict = {}
    for r in rows:
        if r.get("action") in cfg.actions and 0 <= int(r.get("k", -1)) < cfg.seeds:
            out.setdefault(r["key"], set()).add((r["action"], int(r["k"])))
    return out


def complete_keys(rows: list[dict], cfg: TrainConfig) -> set:
    want = len(cfg.actions) * cfg.seeds
    return {k for k, pairs in done_pairs(rows, cfg).items() if len(pairs) >= want}


def _same_run(old: TrainConfig, cfg: TrainConfig) -> bool:
    """A resumable config: the same pool, seeds, judge and runner; the old actions kept with the same settings."""
    kept = all(cfg.actions.get(n) == ch for n, ch in old.actions.items())
    return kept and (old.pools, old.exclude, old.seeds, old.seed, old.judge, old.runner_args) == \
        (cfg.pools, cfg.exclude, cfg.seeds, cfg.seed, cfg.judge, cfg.runner_args)


def run_search(cfg: TrainConfig, out, resume: bool = False, progress: bool = True, log=print) -> dict:
    """Search every item not yet in the checkpoint; returns {"items", "searched", "skipped", "dropped", "seconds"}."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg_file = out / "config.json"
    if cfg_file.exists() and not resume:
        raise TrainError(f"{out} already holds a training run.", field="out",
                         fix="pass --resume to continue it, or choose another --out.")
    if cfg_file.exists():
        old = TrainConfig.from_dict(json.loads(cfg_file.read_text()))
        if not _same_run(old, cfg):
            raise TrainError(f"{out} was started with another pool, action space, seeds, judge or runner.",
                             field="config", fix="resume with the same config (see config.json there); a resumed "
                                                 "run may only add actions.")
        added = sorted(set(cfg.actions) - set(old.actions))
        if added:
            log(f"extending the action space by {', '.join(added)}: only the missing rows are searched")
    cfg_file.write_text(cfg.to_json())
    items, dropped = build_items(cfg.pools, cfg.exclude)
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    rows = read_rows(out)
    pairs, done = done_pairs(rows, cfg), complete_keys(rows, cfg)
    todo = [(i, sorted(pairs.get(it["key"], ()))) for i, it in enumerate(items)
            if i % world == rank and it["key"] not in done]
    log(f"{len(items)} items ({dropped} pool prompts dropped: equal to an excluded evaluation prompt), "
        f"{len(done)} done, {len(todo)} to search with {cfg.workers} worker(s)")
    t0 = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc="search", unit="prompt")
    path = rows_path(out)
    with path.open("a") as f:
        def write(rows):
            f.write("".join(json.dumps(r) + "\n" for r in rows))
            f.flush()
            if bar is not None:
                bar.update(1)

        if cfg.workers == 1 or len(todo) <= 1:
            _init(cfg.to_json())
            for i, have in todo:
                write(search_item(i, have))
        else:
            import multiprocessing as mp

            ctx = mp.get_context("spawn")
            with ctx.Pool(cfg.workers, initializer=_init, initargs=(cfg.to_json(),)) as pool:
                for _i, rows, err in pool.imap_unordered(_call, todo):
                    if err is not None:
                        pool.terminate()
                        raise TrainError(err)
                    write(rows)
                pool.close()
                pool.join()
    if bar is not None:
        bar.close()
    return {"items": len(items), "searched": len(todo), "skipped": len(done), "dropped": dropped,
            "seconds": round(time.perf_counter() - t0, 1)}
