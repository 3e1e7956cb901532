"""PNG figures of the diagnostics (matplotlib, Agg backend, imported only here and only when drawing)."""
from __future__ import annotations

from pathlib import Path

from .diagnose_common import DiagnoseError

COLORS = {"plain": "#7f7f7f", "lina": "#d62728", "adapter": "#1f77b4", "physics": "#d62728", "texture": "#1f77b4"}


def _plt():
    try:
        import matplotlib
    except ImportError:
        raise DiagnoseError("matplotlib is not installed, so no figure can be drawn.", field="figure",
                            fix="pip install 'lina[diagnose]' (or pip install matplotlib), or pass --no-figure.") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _err(r: dict) -> tuple:
    v = r["rate"] if r["rate"] is not None else 0.0
    return v, max(0.0, v - r["ci95"][0]), max(0.0, r["ci95"][1] - v)


def _save(fig, path) -> str:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    fig.clf()
    return str(path)


def multihop_figure(rep: dict, path) -> str:
    """Recovery rate by hop depth, one bar per arm, 95% Wilson intervals."""
    plt = _plt()
    hops = list(rep["by_hop"])
    arms = rep["arms"]
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    w = 0.8 / len(arms)
    for j, arm in enumerate(arms):
        vals = [_err(rep["by_hop"][h][arm]) for h in hops]
        xs = [i + (j - (len(arms) - 1) / 2) * w for i in range(len(hops))]
        ax.bar(xs, [v[0] for v in vals], w, yerr=[[v[1] for v in vals], [v[2] for v in vals]], capsize=3,
               color=COLORS.get(arm, None), label={"lina": "LINA prior"}.get(arm, arm))
    names = {"0": "hop 0\nexplicit object", "1": "hop 1\ncontact / support", "2": "hop 2\nreflection / shadow"}
    ax.set_xticks(range(len(hops)))
    ax.set_xticklabels([f"{names.get(h, h)}\nn={rep['by_hop'][h][arms[0]]['n']}" for h in hops], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("node recovered (judge)")
    ax.set_title("Masked inpainting of one CSG node (95% CI)", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    return _save(fig, path)


def subspace_figure(rep: dict, path) -> str:
    """Physics and texture accuracy against the step along P (left) and T (right), 95% bands."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), sharey=True)
    for ax, which in zip(axes, ("P", "T")):
        rows = rep["along"][which]
        xs = [r["alpha"] for r in rows]
        for key in ("physics", "texture"):
            ys = [r[key]["rate"] if r[key]["rate"] is not None else float("nan") for r in rows]
            lo = [r[key]["ci95"][0] for r in rows]
            hi = [r[key]["ci95"][1] for r in rows]
            ax.plot(xs, ys, "o-", color=COLORS[key], label=f"{key} checks")
            ax.fill_between(xs, lo, hi, color=COLORS[key], alpha=0.15)
        ax.axvline(0, color="k", lw=0.5)
        ax.set_xlabel(f"step along {which} ({'physics' if which == 'P' else 'texture'} subspace), x |c|")
        ax.set_title(f"moving along {which}", fontsize=10)
        ax.set_ylim(0, 1.05)
    axes[0].set_ylabel("judge accuracy")
    axes[0].legend(fontsize=8, loc="lower left")
    return _save(fig, path)


def knee_figure(rep: dict, path) -> str:
    """Alignment (judge score) against denoising progress: x0 probe and prompt swap, knees marked."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.6, 3.4))
    for key, label, color in (("x0_probe", "x0 probe: predicted clean image", "#1f77b4"),
                              ("prompt_swap", "prompt swapped in at p: final image", "#d62728")):
        c = rep[key]
        ax.plot(c["progress"], c["score"], "o-", ms=3, color=color, label=label)
        if c.get("ci95"):
            ax.fill_between(c["progress"], [v[0] for v in c["ci95"]], [v[1] for v in c["ci95"]], color=color,
                            alpha=0.15)
    if rep.get("recommended_window_end") is not None:
        ax.axvline(rep["recommended_window_end"], color="k", ls="--", lw=1,
                   label=f"window end {rep['recommended_window_end']:.2f}")
    ax.set_xlabel("denoising progress p")
    ax.set_ylabel("judge score (alignment)")
    ax.set_ylim(0, 1.05)
    ax.set_title("When structure forms (95% CI)", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)
