"""Causal Scene Graph (CSG): data model, validation, offline parser, physics knowledge, layout,
causal prompt rendering, masks and preview. Core code: no ComfyUI imports here.

    from lina_nodes.csg import parse, CSG
    g = parse("a red ball in front of a small mirror")
    CSG.from_json(g.to_json()) == g
"""
from .model import CSG, SCHEMA_VERSION, Constraint, Edge, Node  # noqa: F401


def parse(prompt, **kwargs):
    """Rule-based offline parse (see ``parser.parse``)."""
    from .parser import parse as _parse
    return _parse(prompt, **kwargs)


def causal_prompt(g, **kwargs):
    from .causal_prompt import causal_prompt as _cp
    return _cp(g, **kwargs)
