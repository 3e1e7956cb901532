"""Aggregate judge verdicts over many images into a JSON-able summary."""
from __future__ import annotations

import collections


class Summary:
    def __init__(self):
        self.n = 0
        self.scores = []
        self.all_pass = 0
        self.kinds = collections.defaultdict(lambda: [0, 0])
        self.groups = collections.defaultdict(lambda: [0.0, 0, 0])   # sum score, all-pass, n
        self.skipped = 0
        self.mask_checks = [0, 0]

    def add(self, judgement, groups=()):
        self.n += 1
        s = judgement.score
        self.scores.append(s)
        self.all_pass += judgement.all_passed
        for v in judgement.checked:
            k = self.kinds[v.kind]
            k[0] += v.passed
            k[1] += 1
        for g in groups:
            G = self.groups[g]
            G[0] += s
            G[1] += judgement.all_passed
            G[2] += 1

    def add_mask_check(self, res):
        if res is None:
            self.skipped += 1
            return
        self.mask_checks[0] += res["passed"]
        self.mask_checks[1] += 1

    def to_dict(self) -> dict:
        r = lambda x: round(float(x), 4)  # noqa: E731
        out = {
            "images": self.n,
            "physical_alignment_score": r(sum(self.scores) / self.n) if self.n else None,
            "all_constraints_met": r(self.all_pass / self.n) if self.n else None,
            "constraints": {k: {"pass_rate": r(v[0] / v[1]), "n": v[1]} for k, v in sorted(self.kinds.items())},
            "groups": {g: {"score": r(v[0] / v[2]), "all_met": r(v[1] / v[2]), "n": v[2]}
                       for g, v in sorted(self.groups.items())},
        }
        if self.mask_checks[1] or self.skipped:
            out["mask_reflection_checks"] = {"pass_rate": r(self.mask_checks[0] / max(1, self.mask_checks[1])),
                                             "n": self.mask_checks[1], "rows_without_csg_or_masks": self.skipped}
        return out
