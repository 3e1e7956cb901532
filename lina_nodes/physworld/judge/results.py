"""Judge results: a verdict per constraint and the judgement (all verdicts, score)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Verdict:
    id: str
    kind: str
    subject: str
    passed: bool
    detail: dict = field(default_factory=dict)

    def to_dict(self):
        return {"id": self.id, "kind": self.kind, "subject": self.subject,
                "passed": None if self.passed is None else bool(self.passed),
                "detail": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.detail.items()}}


@dataclass
class Judgement:
    verdicts: list

    @property
    def checked(self) -> list:
        """Verdicts of the constraints the judge could check (``passed`` is None for skipped ones)."""
        return [v for v in self.verdicts if v.passed is not None]

    @property
    def score(self) -> float:
        """Physical-alignment score: share of the checked constraints met (1.0 when there are none)."""
        chk = self.checked
        return float(np.mean([v.passed for v in chk])) if chk else 1.0

    @property
    def all_passed(self) -> bool:
        return all(v.passed for v in self.checked)

    def by_id(self) -> dict:
        return {v.id: v for v in self.verdicts}

    def to_dict(self):
        return {"score": round(self.score, 4), "all": self.all_passed, "verdicts": [v.to_dict() for v in self.verdicts]}
