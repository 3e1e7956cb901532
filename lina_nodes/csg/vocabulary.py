"""The CSG v1 vocabulary: format version, node / edge / constraint kinds, relations and keys.

Shared by the data model (``model.py``) and the validator (``validate.py``), which import it and not
each other's internals; ``model`` re-exports every name, so ``from lina_nodes.csg.model import
NODE_KINDS`` keeps working. Names may be extended, never renamed or removed (docs/csg_data_model.md).
"""
from __future__ import annotations

SCHEMA_VERSION = "1.0"

#: Kinds of explicit (hop 0) nodes, stated in the prompt.
EXPLICIT_KINDS = ("object", "agent", "surface", "medium", "light", "container", "region")
#: Kinds of implied (hop >= 1) nodes the physics knowledge adds.
IMPLIED_KINDS = ("reflection", "shadow", "contact", "fill", "splash", "refraction", "ripple", "occlusion")
NODE_KINDS = EXPLICIT_KINDS + IMPLIED_KINDS

EDGE_KINDS = ("spatial", "causal", "action", "comparative")
SPATIAL_RELATIONS = ("on", "under", "in", "inside", "above", "below", "left_of", "right_of",
                     "in_front_of", "behind", "next_to", "near", "close_to", "far_from", "between")
CAUSAL_RELATIONS = ("reflects", "casts", "supports", "fills", "refracts", "splashes", "ripples", "occludes")
COMPARATIVE_RELATIONS = ("more_than", "less_than", "as_much_as")

CONSTRAINT_KINDS = (
    "present", "absent", "color", "count", "size", "left_of", "right_of", "above", "below", "on_top",
    "inside", "in_front_of", "behind", "near", "far", "reflection_inside", "reflection_matches",
    "shadow_opposite_light", "touches_support", "fill_at_least", "fill_at_most", "fill_between",
    "action_direction", "material", "more_than", "refraction_inside", "splash_at_contact",
)

TEXTURE_KEYS = ("color", "material", "pattern")
PHYSICS_KEYS = ("size", "fill", "state", "support", "pose", "side")
SIZES = ("small", "medium", "large")
