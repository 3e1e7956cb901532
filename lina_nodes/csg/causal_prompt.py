"""Causal prompt rendering: CSG -> an explicit text that states the implied nodes and constraints.

``causal_sentences`` gives (sentence, node ids it is about) pairs, so the prompt-space intervention
can align tokens to CSG nodes; ``causal_prompt`` joins them after the original prompt.
"""
from __future__ import annotations

from .model import CSG, Node

REL_WORDS = {
    "on": "on", "under": "under", "in": "in", "inside": "inside", "above": "above", "below": "below",
    "left_of": "to the left of", "right_of": "to the right of", "in_front_of": "in front of", "behind": "behind",
    "next_to": "next to", "near": "near", "close_to": "close to", "far_from": "far from", "between": "between",
}


def lemma(verb3: str) -> str:
    """"eats" -> "eat", "pushes" -> "push", "carries" -> "carry" (for "does not eat")."""
    if verb3.endswith("ies") and len(verb3) > 4:
        return verb3[:-3] + "y"
    if verb3.endswith(("ches", "shes", "sses", "xes", "zes", "oes")):
        return verb3[:-2]
    if verb3.endswith("s") and not verb3.endswith("ss"):
        return verb3[:-1]
    return verb3


def _the(n: Node) -> str:
    return f"the {n.label()}" if n.count == 1 else f"the {n.label()}"


def _pct(f: float) -> str:
    if f >= 0.95:
        return "completely full"
    if f <= 0.05:
        return "empty"
    if abs(f - 0.5) < 0.02:
        return "exactly half full"
    return f"about {round(f * 100)}% full"


def causal_sentences(g: CSG, include_explicit: bool = True) -> list[tuple[str, list[str]]]:
    by = {n.id: n for n in g.nodes}
    out: list[tuple[str, list[str]]] = []

    def src_of(nid: str, relation: str, exclude: str | None) -> Node | None:
        for e in g.edges:
            if e.dst == nid and e.relation == relation and e.src != exclude and e.src in by:
                return by[e.src]
        return None

    if include_explicit:
        for e in g.edges:
            s, d = by.get(e.src), by.get(e.dst)
            if s is None or d is None:
                continue
            nots = " not" if e.negated else ""
            verb = "are" if s.count > 1 else "is"
            if e.kind == "spatial":
                words = REL_WORDS.get(e.relation, e.relation.replace("_", " "))
                if e.relation == "between" and e.attrs.get("third") in by:
                    t = by[e.attrs["third"]]
                    out.append((f"{_the(s).capitalize()} {verb}{nots} between {_the(d)} and {_the(t)}.", [s.id, d.id, t.id]))
                else:
                    out.append((f"{_the(s).capitalize()} {verb}{nots} {words} {_the(d)}.", [s.id, d.id]))
            elif e.kind == "action":
                v = e.relation.replace("_", " ")
                if e.negated:
                    out.append((f"{_the(s).capitalize()} does not {lemma(v)} {_the(d)}.", [s.id, d.id]))
                else:
                    out.append((f"{_the(s).capitalize()} {v} {_the(d)}; {_the(s)} is the one acting and "
                                f"{_the(d)} is the one acted on, not the other way round.", [s.id, d.id]))
            elif e.kind == "comparative":
                q = e.attrs.get("quantity", "amount")
                more = "more" if e.relation == "more_than" else "less"
                if q in ("amount", "count"):
                    out.append((f"There is{nots} clearly {more} {s.name} than {d.name}.", [s.id, d.id]))
                else:
                    out.append((f"{_the(s).capitalize()} is{nots} clearly {'greater' if more == 'more' else 'smaller'} "
                                f"in {q} than {_the(d)}.", [s.id, d.id]))
    for n in g.nodes:
        if n.negated:
            owner = by.get(n.physics.get("of", ""))
            tail = f" of {_the(owner)}" if owner else ""
            out.append((f"There is no {n.name}{tail} anywhere in the image.", [n.id]))
            continue
        if n.explicit and n.kind not in ("reflection", "shadow", "contact", "fill", "splash", "refraction", "ripple"):
            continue
        a = by.get(n.physics.get("of", ""))
        if a is None:
            continue
        if n.kind == "reflection":
            s = src_of(n.id, "reflects", a.id)
            if s is not None:
                where = "below it, mirrored upside down" if s.name not in ("mirror", "window") and \
                    any(e.src == a.id and e.dst == s.id and e.relation in ("on", "above", "in") for e in g.edges) \
                    else "mirrored left to right"
                out.append((f"The reflection of {_the(a)} appears only inside {_the(s)}, {where}, with the same "
                            f"colour and shape, and it is cut off at the edge of {_the(s)}.", [n.id, a.id, s.id]))
        elif n.kind == "shadow":
            light = src_of(n.id, "casts", a.id)
            if light is not None:
                side = ""
                if a.box and light.box:
                    side = " to the right" if (light.box[0] + light.box[2]) <= (a.box[0] + a.box[2]) else " to the left"
                out.append((f"{_the(light).capitalize()} lights {_the(a)}, which cast{'s' if a.count == 1 else ''} a dark shadow on the ground"
                            f"{side}, on the side away from {_the(light)}.", [n.id, a.id, light.id]))
        elif n.kind == "contact":
            sup = src_of(n.id, "supports", a.id)
            if sup is not None:
                rest, touch = ("rests", "touches") if a.count == 1 else ("rest", "touch")
                out.append((f"{_the(a).capitalize()} {rest} directly on {_the(sup)} and {touch} it; nothing floats.",
                            [n.id, a.id, sup.id]))
        elif n.kind == "fill":
            contents = [by[e.src] for e in g.edges if e.dst == n.id and e.relation == "fills" and e.src != a.id
                        and e.src in by]
            what = f" of {contents[0].name}" if contents else ""
            fill = a.physics.get("fill")
            if fill is not None:
                text = f"{_the(a).capitalize()} is {_pct(float(fill))}{what}; the fill level is clearly visible."
            else:
                text = f"{_the(a).capitalize()} is visibly filled{' with ' + contents[0].name if contents else ''}."
            out.append((text, [n.id, a.id]))
        elif n.kind == "occlusion":
            back = next((by[e.dst] for e in g.edges if e.src == a.id and e.kind == "spatial"
                         and e.relation == "in_front_of" and e.dst in by), None)
            back = back or next((by[e.src] for e in g.edges if e.dst == a.id and e.relation == "behind"
                                 and e.src in by), None)
            if back is not None:
                out.append((f"{_the(a).capitalize()} is closer to the viewer and partly hides {_the(back)}.",
                            [n.id, a.id, back.id]))
        elif n.kind == "refraction":
            liq = src_of(n.id, "refracts", a.id)
            if liq is not None:
                out.append((f"Where {_the(a)} enters the {liq.name}, it looks bent and shifted by refraction.",
                            [n.id, a.id, liq.id]))
        elif n.kind == "splash":
            liq = src_of(n.id, "splashes", a.id)
            if liq is not None:
                out.append((f"{_the(a).capitalize()} hits the {liq.name} with a splash of droplets where it enters.",
                            [n.id, a.id, liq.id]))
        elif n.kind == "ripple":
            liq = src_of(n.id, "ripples", a.id)
            if liq is not None:
                out.append((f"Circular ripples spread on the {liq.name} around {_the(a)}.", [n.id, a.id, liq.id]))
    return out


def causal_prompt(g: CSG, include_original: bool = True, include_explicit: bool = True) -> str:
    """The prompt plus explicit sentences for every implied node and relation (the causal completion)."""
    parts = []
    if include_original and g.prompt.strip():
        p = g.prompt.strip()
        parts.append(p if p.endswith((".", "!", "?")) else p + ".")
    parts.extend(s for s, _ in causal_sentences(g, include_explicit=include_explicit))
    return " ".join(parts)
