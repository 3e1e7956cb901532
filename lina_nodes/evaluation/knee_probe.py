"""Measure when structure forms in a model (insight 3): the harness behind ``lina knee``.

Two curves, both judged on images, for any model ``InProcessSampler`` can load and any judge
``judge(image_uint8, index) -> score in [0, 1]``:

* x0 probe: the judge score of the predicted clean image at every step, against denoising
  progress. It rises as the image takes shape.
* prompt swap: sample with ``swap_from`` (default: the empty prompt) until progress p, then with the
  real prompt; the final image's score against p. It stays high while the swap comes early enough
  for the prompt to set the structure, and falls once structure is fixed.

The knee of each curve (``intervention.knee``) and the progress where the swap curve has lost half
its height are reported. That half-drop point is the recommended early-window end ``beta`` (the
plan's ``window_end``): past it the prompt has lost most of its say over the structure (the swap
curve's Kneedle knee marks where it has lost all of it, too late for an intervention).
"""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ..errors import LinaError
from ..intervention.knee import knee, reach

DEFAULT_SWAPS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7, 1.0)


def measure(sampler, prompts: list, judge: Callable, seeds: int = 1, steps: int = 20, cfg: float = 4.0,
            size: int = 64, swaps=DEFAULT_SWAPS, swap_from: str = "", progress=None) -> dict:
    """Both curves averaged over prompts x seeds, their knees and the recommended window end."""
    if not prompts:
        raise LinaError("no prompts to measure.", field="prompts", fix="pass --prompts FILE or --n N.")
    swaps = sorted({float(p) for p in swaps})
    if len(swaps) < 3 or swaps[0] < 0 or swaps[-1] > 1:
        raise LinaError(f"need at least 3 swap points in [0, 1], got {swaps}.", field="swaps")
    t0 = time.perf_counter()
    jobs = [(i, k) for k in range(seeds) for i in range(len(prompts))]
    bar = progress(len(jobs) * (1 + len(swaps))) if progress else None
    x0_scores, x0_prog = [], None
    for i, k in jobs:
        r = sampler.sample(prompts[i], 1000 * k + i, steps=steps, cfg=cfg, size=size, probe=True)
        prog = [p for p, _ in r.probes]
        x0_prog = prog if x0_prog is None else x0_prog
        x0_scores.append([_score(judge, img, i) for _, img in r.probes] + [_score(judge, r.image, i)])
        if bar:
            bar.update(1)
    x0_prog = list(x0_prog) + [1.0]
    x0_mean = np.mean(np.asarray(x0_scores, np.float64), axis=0)
    x0_ci = [_mean_ci(col) for col in np.asarray(x0_scores, np.float64).T]
    swap_mean, swap_ci = [], []
    for p in swaps:
        vals = []
        for i, k in jobs:
            r = sampler.sample(prompts[i], 1000 * k + i, steps=steps, cfg=cfg, size=size, swap_from=swap_from,
                               swap_at=p)
            vals.append(_score(judge, r.image, i))
            if bar:
                bar.update(1)
        swap_mean.append(float(np.mean(vals)))
        swap_ci.append(_mean_ci(vals))
    if bar:
        bar.close()
    k_x0 = knee(x0_prog, x0_mean)
    k_swap = knee(swaps, swap_mean, falling=True)
    half = reach(swaps, swap_mean, 0.5, falling=True)
    return {
        "prompts": len(prompts), "seeds": seeds, "steps": steps, "cfg": cfg, "swap_from": swap_from,
        "x0_probe": {"progress": [round(float(p), 4) for p in x0_prog], "score": [round(float(s), 4) for s in x0_mean],
                     "ci95": x0_ci, "knee": k_x0, "reach_90": reach(x0_prog, x0_mean, 0.9)},
        "prompt_swap": {"progress": swaps, "score": [round(s, 4) for s in swap_mean], "ci95": swap_ci, "knee": k_swap,
                        "half_drop": half},
        "recommended_window_end": half,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _mean_ci(vals, reps: int = 2000) -> list:
    """95% percentile bootstrap interval of the mean score over prompts x seeds."""
    v = np.asarray(vals, np.float64)
    bs = v[np.random.default_rng(0).integers(0, v.size, (reps, v.size))].mean(1)
    return [round(float(x), 4) for x in np.percentile(bs, [2.5, 97.5])]


def _score(judge, img, i) -> float:
    s = judge(img, i)
    try:
        s = float(s)
    except (TypeError, ValueError):
        raise LinaError(f"the judge returned {type(s).__name__}, not a number.", field="judge",
                        fix="make the judge return a float score in [0, 1].") from None
    if not np.isfinite(s):
        raise LinaError("the judge returned a non-finite score.", field="judge")
    return s


def format_report(rep: dict) -> str:
    lines = [f"x0 probe (judge score of the predicted clean image) over {rep['prompts']} prompts x "
             f"{rep['seeds']} seeds:"]
    for j, (p, s) in enumerate(zip(rep["x0_probe"]["progress"], rep["x0_probe"]["score"])):
        lines.append(f"  progress {p:5.2f}  score {100 * s:5.1f}%{_ci(rep['x0_probe'], j)}  " + "#" * int(round(40 * s)))
    lines.append(f"  knee {_fmt(rep['x0_probe']['knee'])}; 90% of the rise by {_fmt(rep['x0_probe']['reach_90'])}")
    lines.append(f"prompt swap ({rep['swap_from']!r} until p, then the prompt): final score against p:")
    for j, (p, s) in enumerate(zip(rep["prompt_swap"]["progress"], rep["prompt_swap"]["score"])):
        lines.append(f"  swap at {p:5.2f}  score {100 * s:5.1f}%{_ci(rep['prompt_swap'], j)}  " + "#" * int(round(40 * s)))
    lines.append(f"  knee {_fmt(rep['prompt_swap']['knee'])}; half the drop by {_fmt(rep['prompt_swap']['half_drop'])}")
    lines.append(f"recommended early-window end (window_end / beta): {_fmt(rep['recommended_window_end'])}")
    return "\n".join(lines)


def _ci(curve: dict, j: int) -> str:
    ci = curve.get("ci95")
    return f" [{100 * ci[j][0]:5.1f}, {100 * ci[j][1]:5.1f}]" if ci else ""


def _fmt(v) -> str:
    return "n/a (flat curve)" if v is None else f"{v:.2f}"
