"""The counterfactual negative: the prompt with each action's roles reversed, to guide *away* from. [ours]

A model that falls back on its training data draws "a cone pushes a cylinder" when asked for "a cylinder
pushes a cone". Classifier-free guidance with the reversed prompt as its negative (instead of the empty
prompt) pushes the sample away from exactly that mistake at no extra model evaluation. The reversal reads
only the parsed CSG: for every action edge whose two endpoints carry a text span, the two head nouns swap
places in the prompt, their attributes stay ("a large cyan cylinder pushes a small yellow cone" -> "a large
cyan cone pushes a small yellow cylinder"; swapping whole phrases measured worse, README). Graphs without such an edge get "" (the lever is then off).

The plan carries the text (``counterfactual_prompt``) and the share of denoising progress, from the start,
in which it replaces the negative (``counterfactual_share``, 0 = off, 1 = the whole run).
"""
from __future__ import annotations

from ..csg.model import CSG

REVERSIBLE = ("action",)   # edge kinds whose roles can be swapped; spatial swaps measured harmful (README)


def _head(g: CSG, node) -> tuple[int, int] | None:
    """The span of a node's head noun (its name, last occurrence inside the node's phrase)."""
    s0, s1 = node.span
    at = g.prompt.lower().rfind(node.name.lower(), s0, s1)
    return (at, at + len(node.name)) if at >= 0 else None


def _spans(g: CSG) -> list[tuple[int, int]]:
    """Disjoint (start, end) pairs of head nouns to swap, one pair per reversible edge, in prompt order."""
    nodes = {n.id: n for n in g.nodes}
    taken: set[int] = set()
    pairs = []
    for e in g.edges:
        if e.kind not in REVERSIBLE or e.negated:
            continue
        a, b = nodes.get(e.src), nodes.get(e.dst)
        if a is None or b is None or not a.span or not b.span:
            continue
        sa, sb = _head(g, a), _head(g, b)
        if sa is None or sb is None or sa == sb or not (sa[1] <= sb[0] or sb[1] <= sa[0]):
            continue
        chars = set(range(*sa)) | set(range(*sb))
        if chars & taken:
            continue
        taken |= chars
        pairs.append(tuple(sorted((sa, sb))))
    return pairs


def counterfactual_prompt(g: CSG) -> str:
    """The prompt with the head nouns of each action's agent and patient swapped ("" when there is none)."""
    text = g.prompt
    pairs = _spans(g)
    if not pairs:
        return ""
    for (a0, a1), (b0, b1) in sorted(pairs, key=lambda p: -p[1][1]):   # right to left keeps offsets valid
        text = text[:a0] + text[b0:b1] + text[a1:b0] + text[a0:a1] + text[b1:]
    return text if text != g.prompt else ""
