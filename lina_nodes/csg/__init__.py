"""Causal Scene Graph (CSG): data model, validation, offline parser, physics knowledge, layout,
causal prompt rendering, masks and preview. Core code: no ComfyUI imports here.

    from lina_nodes.csg import parse, CSG
    g = parse("a red ball in front of a small mirror")
    CSG.from_json(g.to_json()) == g
"""
from .model import CSG, SCHEMA_VERSION, Constraint, Edge, Node  # noqa: F401
from .parser import parse  # noqa: F401

# Import the function under the submodule's name *after* the submodule, so that
# ``lina_nodes.csg.causal_prompt`` stays the function even once the submodule is imported.
from .causal_prompt import causal_prompt  # noqa: F401,E402
