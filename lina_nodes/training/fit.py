"""Fit the adapter's head from search rows: per action, ridge regression of the judge score on the prompt
features (``intervention.adapter.FEATURES``); the adapter then picks the action of highest predicted score,
leaving the prior only when an action's predicted gain over it exceeds a margin (folded into the biases).
For a prompt whose CSG features it saw fewer than ``min_support`` times in training (outside its support) it
does what ``config.outside_support`` says (``adapter.OUTSIDE_SUPPORT``): keep the prior's plan, or ("add",
the default) choose only among actions that keep every lever the prior turns on, so a lever learned on one
failure type can reach a new one while a failure type unlike anything trained on never loses the prior's
treatment.
The ridge penalty and the margin are chosen by repeated k-fold cross-validation from ``PENALTIES`` x
``MARGINS`` (``config.ridge`` is added to the grid), then the minimum support from ``SUPPORTS``.

With ``config.holdout``, the report's ``held_out`` block scores the fit on the searched prompts it held out
(prior, oracle and the adapter's choices: leave-one-rule-out on the training pool). ``report`` scores the fit
honestly on the searched prompts: the prior, the oracle (best action per prompt,
with the judge in the loop: an upper bound inflated by seed noise), a single best action for all prompts, and
the adapter under nested cross-validation (each outer fold's prompts chosen for by a head whose penalty and
margin were selected and fitted without them).
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch

from ..intervention.adapter import CSG_FEATURES
from ..intervention.adapter import outside_allowed as adapter_outside_allowed
from .config import TrainConfig, TrainError


def score_table(rows: list[dict], actions: list[str]) -> tuple[list[str], np.ndarray, dict]:
    """(keys, scores [items, actions] averaged over seeds, labels per key) of items complete for every action."""
    acc: dict = defaultdict(lambda: defaultdict(list))
    labels = {}
    for r in rows:
        acc[r["key"]][r["action"]].append(float(r["score"]))
        labels[r["key"]] = r.get("labels", {})
    keys = sorted(k for k, d in acc.items() if all(a in d for a in actions))
    S = np.array([[np.mean(acc[k][a]) for a in actions] for k in keys], dtype=np.float64).reshape(len(keys),
                                                                                                  len(actions))
    return keys, S, labels


def ridge(X: np.ndarray, S: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """W [A, F], b [A] minimising ||X W^T + b - S||^2 + lam ||W||^2 (intercept not penalised)."""
    mx, ms = X.mean(0), S.mean(0)
    Xc, Sc = X - mx, S - ms
    W = np.linalg.solve(Xc.T @ Xc + lam * np.eye(X.shape[1]), Xc.T @ Sc).T
    return W, ms - W @ mx


def choose(W: np.ndarray, b: np.ndarray, X: np.ndarray) -> np.ndarray:
    return np.argmax(X @ W.T + b, axis=1)


PENALTIES = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0)
MARGINS = (0.0, 0.01, 0.02, 0.04, 0.08)


def with_margin(b: np.ndarray, margin: float, prior: int) -> np.ndarray:
    """Biases that leave the prior only for a predicted gain above ``margin``."""
    out = b - margin
    out[prior] = b[prior]
    return out


def _folds(n: int, k: int, seed: int) -> list:
    return np.array_split(np.random.default_rng(seed).permutation(n), min(k, n))


REPEATS = 3   # cross-validation splits averaged when choosing the penalty and the margin


def _cv_heads(X: np.ndarray, S: np.ndarray, lam: float, folds: int, seed: int) -> list:
    """(held-out indices, training indices, W, b) of every fold of ``REPEATS`` cross-validation splits."""
    heads = []
    for r in range(REPEATS):
        for f in _folds(len(X), folds, seed + 1000 * r):
            tr = np.setdiff1d(np.arange(len(X)), f)
            heads.append((f, tr, *ridge(X[tr], S[tr], lam)))
    return heads


def select(X: np.ndarray, S: np.ndarray, prior: int, folds: int, seed: int, extra=()) -> tuple[float, float]:
    """(penalty, margin) with the best cross-validated score of the chosen actions, averaged over ``REPEATS``
    splits (ties: larger values, the more conservative choice)."""
    best, arg = -1.0, (PENALTIES[0], MARGINS[0])
    for lam in sorted(set(PENALTIES) | set(extra)):
        heads = _cv_heads(X, S, lam, folds, seed)
        for m in MARGINS:
            score = sum(S[f, choose(W, with_margin(b, m, prior), X[f])].sum() for f, _, W, b in heads) \
                / (len(X) * REPEATS)
            if score >= best - 1e-12:
                best, arg = score, (lam, m)
    return arg


def fit_selected(X: np.ndarray, S: np.ndarray, prior: int, folds: int, seed: int, extra=()):
    """(W, b with the margin folded in, penalty, margin)."""
    lam, m = select(X, S, prior, folds, seed, extra)
    W, b = ridge(X, S, lam)
    return W, with_margin(b, m, prior), lam, m


SUPPORTS = (1, 3, 5, 8, 12)   # candidate minimum counts of a CSG feature row for the adapter to act on it


def _csg_part(X: np.ndarray) -> np.ndarray:
    return np.round(X[:, :len(CSG_FEATURES)], 4)


def support_rows(X: np.ndarray, k: int) -> np.ndarray:
    """The distinct CSG feature rows seen at least ``k`` times."""
    rows, counts = np.unique(_csg_part(X), axis=0, return_counts=True)
    return rows[counts >= k]


def supported(rows: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Whether each row of X has its CSG part among ``rows``."""
    C = _csg_part(X)
    if not len(rows):
        return np.zeros(len(X), dtype=bool)
    return (np.abs(C[:, None, :] - rows[None, :, :]).max(-1) < 1e-4).any(1)


def choose_supported(W, b, X, rows, prior: int, allowed=None) -> np.ndarray:
    """The chosen actions; outside the support the best of the ``allowed`` actions (a mask; None: the prior)."""
    pick = choose(W, b, X)
    if allowed is None:
        outside = np.full(len(X), prior)
    else:
        outside = np.argmax(np.where(np.asarray(allowed, dtype=bool), X @ W.T + b, -np.inf), axis=1)
    return np.where(supported(rows, X), pick, outside)


def fit_full(X: np.ndarray, S: np.ndarray, prior: int, folds: int, seed: int, extra=(), allowed=None):
    """(W, b, support rows, selection): the head as ``fit_selected``, then the minimum support (``SUPPORTS``)
    with the best cross-validated score when outside it the adapter keeps the prior (``allowed`` None) or
    chooses among the ``allowed`` actions (ties: larger)."""
    W, b, lam, m = fit_selected(X, S, prior, folds, seed, extra)
    best, k_best = -1.0, SUPPORTS[0]
    heads = _cv_heads(X, S, lam, folds, seed)
    for k in SUPPORTS:
        total = sum(S[f, choose_supported(Wf, with_margin(bf, m, prior), X[f], support_rows(X[tr], k), prior,
                                          allowed)].sum()
                    for f, tr, Wf, bf in heads)
        if total / (len(X) * REPEATS) >= best - 1e-12:
            best, k_best = total / (len(X) * REPEATS), k
    return W, b, support_rows(X, k_best), {"ridge": lam, "margin": m, "min_support": k_best}


def outside_allowed(cfg: TrainConfig):
    """The action mask used outside the support (None: the prior alone), from ``config.outside_support``."""
    allowed = adapter_outside_allowed(list(cfg.actions.values()), cfg.outside_support)
    return None if allowed is None else np.array(allowed, dtype=bool)


def keep(labels: dict, holdout: dict) -> bool:
    """False for an item the config holds out: a label equal to the held-out value, or naming it among
    "+"-joined values (a prompt of two held-out rules is held out with either)."""
    return not any(str(v) in str(labels.get(k)).split("+") for k, v in holdout.items())


def fit_head(cfg: TrainConfig, rows: list[dict], feats: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """(W, b, support rows, report) from search rows and {key: feature vector}."""
    actions = list(cfg.actions)
    keys, S, labels = score_table(rows, actions)
    keys_fit = [k for k in keys if keep(labels[k], cfg.holdout)]
    if len(keys_fit) < 2:
        raise TrainError(f"only {len(keys_fit)} searched prompt(s) to fit on.", field="config.pools",
                         fix="search more prompts (or hold out fewer).")
    idx = [keys.index(k) for k in keys_fit]
    X = np.stack([np.asarray(feats[k], dtype=np.float64) for k in keys_fit])
    Sf = S[idx]
    W, b, rows, sel = fit_full(X, Sf, actions.index("prior"), cfg.folds, cfg.seed, (cfg.ridge,),
                               outside_allowed(cfg))
    rep = report(cfg, keys_fit, X, Sf, labels, (W, b, rows))
    rep["selected"] = {**sel, "outside_support": cfg.outside_support}
    out = [i for i, k in enumerate(keys) if not keep(labels[k], cfg.holdout) and k in feats]
    if out:   # the searched prompts the fit never saw: leave-one-rule-out on the training pool itself
        X_out = np.stack([np.asarray(feats[keys[i]], dtype=np.float64) for i in out])
        rep["held_out"] = held_out_report(cfg, X_out, S[out], (W, b, rows))
    rep["support_rows"] = int(len(rows))
    return W, b, rows, rep


def held_out_report(cfg: TrainConfig, X: np.ndarray, S: np.ndarray, head) -> dict:
    """The fitted head's choices on searched prompts it was not fitted on, scored from their rows."""
    actions = list(cfg.actions)
    p = actions.index("prior")
    pick = choose_supported(head[0], head[1], X, head[2], p, outside_allowed(cfg))
    return {"n": int(len(X)), "prior": float(S[:, p].mean()), "oracle": float(S.max(1).mean()),
            "adapter": float(S[np.arange(len(X)), pick].mean()),
            "chosen": {a: int((pick == j).sum()) for j, a in enumerate(actions) if (pick == j).any()}}


def report(cfg: TrainConfig, keys: list[str], X: np.ndarray, S: np.ndarray, labels: dict, head) -> dict:
    """Scores on the fitted prompts: prior, oracle, best single action, adapter in-sample and under nested
    cross-validation (outer folds seeded apart from the inner ones)."""
    actions = list(cfg.actions)
    n = len(keys)
    p = actions.index("prior")
    allowed = outside_allowed(cfg)
    cv_pick = np.zeros(n, dtype=int)
    for f in _folds(n, cfg.folds, cfg.seed + 1):
        tr = np.setdiff1d(np.arange(n), f)
        if len(tr) < 2:
            cv_pick[f] = p
            continue
        W, b, rows, _ = fit_full(X[tr], S[tr], p, cfg.folds, cfg.seed, (cfg.ridge,), allowed)
        cv_pick[f] = choose_supported(W, b, X[f], rows, p, allowed)
    pick = choose_supported(head[0], head[1], X, head[2], p, allowed)
    best_single = int(np.argmax(S.mean(0)))

    def block(ii):
        ii = np.asarray(ii, dtype=int)
        return {"n": int(len(ii)), "prior": float(S[ii, p].mean()), "oracle": float(S[ii].max(1).mean()),
                "best_single": float(S[ii, best_single].mean()), "adapter_in_sample": float(S[ii, pick[ii]].mean()),
                "adapter_cv": float(S[ii, cv_pick[ii]].mean()),
                "per_action": {a: float(S[ii, j].mean()) for j, a in enumerate(actions)},
                "chosen": {a: int((pick[ii] == j).sum()) for j, a in enumerate(actions) if (pick[ii] == j).any()}}

    rules = sorted({str(labels[k].get("rule", "")) for k in keys})
    return {"all": block(range(n)), "best_single_action": actions[best_single],
            "by_rule": {r: block([i for i, k in enumerate(keys) if str(labels[k].get("rule", "")) == r])
                        for r in rules}}


def to_tensors(W: np.ndarray, b: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor(W, dtype=torch.float32), torch.tensor(b, dtype=torch.float32)
