"""Judge validation: pass rate on clean renders, catch rate per injected violation and false-alarm
rate on the untouched constraints, under clean/blur/noise/shift/all degradations."""
from __future__ import annotations

import collections

import numpy as np

from .corrupt import KINDS, corrupt, degrade, misplace
from .csg_build import to_csg
from .judge import judge
from .render import render
from .scene import CATEGORIES, sample_scene

MODES = ("clean", "blur", "noise", "shift", "all", "misplace")


def validate(n_scenes: int = 200, size: int = 64, modes=MODES, seed: int = 0, progress=None,
             register: int = 0) -> dict:
    """Per mode: clean-pass rate, per-kind catch rate and false-alarm rate (plus counts).
    ``register=k`` judges every image against the nearest of k layouts of its prompt
    (``register.judge_registered``), as the text-to-image evaluation does."""
    if register:
        from .register import judge_registered

        def judge_fn(img, csg, sc):
            return judge_registered(img, sc, k=register)
    else:
        def judge_fn(img, csg, sc):
            return judge(img, csg)
    scenes = [sample_scene(seed * 100003 + i, CATEGORIES[i % len(CATEGORIES)]) for i in range(n_scenes)]
    out = {}
    it = [(m, i) for m in modes for i in range(n_scenes)]
    stats = {m: {"clean": [0, 0], "kinds": collections.defaultdict(lambda: [0, 0, 0, 0]), "fails": collections.Counter(),
                 "examples": []} for m in modes}
    for m, i in (progress(it) if progress else it):
        sc = scenes[i]
        csg = to_csg(sc)
        rng = np.random.default_rng([seed, i, MODES.index(m)])
        if m == "misplace":     # objects moved 2-4 px each; judged against the true layout
            sc = misplace(sc, rng, size)
            m_img = "clean"
        else:
            m_img = m
        img, _ = render(sc, size)
        j = judge_fn(degrade(img, m_img, rng), csg, scenes[i])
        st = stats[m]
        st["clean"][0] += sum(v.passed for v in j.checked)
        st["clean"][1] += len(j.checked)
        for v in j.checked:
            if not v.passed:
                st["fails"][f"{sc.category}/{v.kind}"] += 1
        for kind in KINDS:
            cor = corrupt(sc, csg, kind, rng)
            if cor is None or not cor.target:
                continue
            cimg, _ = render(cor.scene, size)
            jc = judge_fn(degrade(cimg, m_img, rng), csg, scenes[i]).by_id()
            k = st["kinds"][kind]
            caught = any(not jc[t].passed for t in cor.target)
            k[0] += caught
            k[1] += 1
            untouched = [v for cid, v in jc.items() if cid not in cor.affected]
            k[2] += sum(not v.passed for v in untouched)
            k[3] += len(untouched)
            if not caught and len(st["examples"]) < 40:
                st["examples"].append({"scene": i, "sub": sc.subcategory, "corruption": kind, "missed": True})
            for v in untouched:
                if not v.passed and len(st["examples"]) < 40:
                    st["examples"].append({"scene": i, "sub": sc.subcategory, "corruption": kind,
                                           "false_alarm": v.kind, "detail": v.to_dict()["detail"]})
    for m in modes:
        st = stats[m]
        out[m] = {
            "clean_pass": st["clean"][0] / max(1, st["clean"][1]),
            "clean_constraints": st["clean"][1],
            "clean_failures": dict(st["fails"].most_common(8)),
            "examples": st["examples"],
            "kinds": {k: {"caught": v[0] / max(1, v[1]), "n": v[1], "false_alarm": v[2] / max(1, v[3]),
                          "untouched": v[3]} for k, v in sorted(st["kinds"].items())},
        }
    return out


def format_report(res: dict) -> str:
    lines = []
    for m, r in res.items():
        lines.append(f"[{m}] clean renders: {100 * r['clean_pass']:.2f}% of {r['clean_constraints']} constraints pass"
                     + (f"  (failures: {r['clean_failures']})" if r["clean_failures"] else ""))
        for k, v in r["kinds"].items():
            lines.append(f"    {k:18s} caught {100 * v['caught']:6.2f}% of {v['n']:4d}   "
                         f"false alarms {100 * v['false_alarm']:5.2f}% of {v['untouched']} untouched")
    return "\n".join(lines)
