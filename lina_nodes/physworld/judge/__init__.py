"""The PhysWorld judge: image + CSG -> a verdict per constraint and a physical-alignment score.

It reads the CSG's constraints and layout boxes and measures the image itself: objects are found
by hue among saturated pixels near their box (so a 2-4 px shift, blur or noise does not matter),
the floor line (horizon) gives the vertical offset, mirrors/water/wood/fills are found by their
material colours. Each check returns pass/fail plus the measured numbers behind it.

Modules, one job each:
  results     Verdict, Judgement (score = share of the checked constraints met)
  measure     the image measured once per judgement (_Ctx: floats, hue labels, floor line, object
              localisation) and the measurements shared by several checks (mirror/water extent, shadow row)
  objects     present, color, size          reflection  reflection_inside, reflection_matches
  shadow      shadow_opposite_light         contact     touches_support, on_top, below
  spatial     left_of, right_of, inside, near, far
  fill        fill_at_least, fill_at_most, fill_between, material
  action      action_direction
  dispatch    CHECKS (constraint kind -> check function) and ``judge``
A check is ``fn(constraint, ctx) -> (passed, detail dict)``.
"""
from __future__ import annotations

from .contact import TOL
from .dispatch import CHECKS, judge
from .measure import FILL_FRAC, REFL_CHROMA, _smooth, _to_float
from .reflection import MIN_VISIBLE_PX
from .results import Judgement, Verdict

__all__ = ["CHECKS", "FILL_FRAC", "MIN_VISIBLE_PX", "REFL_CHROMA", "TOL", "Judgement", "Verdict", "judge",
           "_smooth", "_to_float"]
