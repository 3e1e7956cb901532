"""The dispatch table (constraint kind -> check function) and ``judge``, which runs it over a CSG."""
from __future__ import annotations

from .action import _action
from .contact import _below, _on_top, _touches
from .fill import _fill, _material
from .measure import _Ctx
from .objects import _color, _present, _size
from .reflection import _reflection_inside, _reflection_matches
from .results import Judgement, Verdict
from .shadow import _shadow
from .spatial import _inside, _lr, _near_far


CHECKS = {
    "present": _present, "color": _color, "size": _size, "reflection_inside": _reflection_inside,
    "reflection_matches": _reflection_matches, "shadow_opposite_light": _shadow, "touches_support": _touches,
    "on_top": _on_top, "below": _below, "left_of": _lr, "right_of": _lr, "inside": _inside, "near": _near_far,
    "far": _near_far, "fill_at_least": _fill, "fill_at_most": _fill, "fill_between": _fill,
    "material": _material, "action_direction": _action,
}


def judge(image, csg) -> Judgement:
    """Check every constraint of ``csg`` (a lina_nodes.csg.CSG or its dict) in ``image`` (HxWx3, uint8 or 0..1)."""
    if isinstance(csg, dict):
        from ...csg.model import CSG
        csg = CSG.from_dict(csg)
    cx = _Ctx(image, csg)
    out = []
    for c in csg.constraints:
        fn = CHECKS.get(c.kind)
        if fn is None:   # e.g. a parser's "count" or "in_front_of": not measurable here, not scored
            out.append(Verdict(c.id, c.kind, c.subject, None, {"skipped": f"no check for {c.kind!r}"}))
            continue
        need = [c.subject] + ([c.object] if c.object else []) + ([c.params["caster"]] if c.params.get("caster") else [])
        if any(cx.nodes[k].box is None for k in need if k in cx.nodes):
            out.append(Verdict(c.id, c.kind, c.subject, None, {"skipped": "a node has no layout box"}))
            continue
        ok, detail = fn(c, cx)
        out.append(Verdict(c.id, c.kind, c.subject, bool(ok), detail))
    return Judgement(out)
