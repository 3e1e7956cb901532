"""The deliberately biased split: combinations the training set never shows (the OOD rules).

Every attribute value of an OOD combination is seen in training, only never in that pairing,
so a model that can recombine factors could draw it. ``ood_rules(scene)`` names the rules a
scene matches; training and in-distribution test scenes match none, OOD test scenes at least one.
"""
from __future__ import annotations

from .scene import Scene

RULES = {
    "small_mirror_edge": {
        "doc": "an object near the edge of a SMALL MIRROR (its reflection clipped by the mirror's edge). Training "
               "shows small mirrors with the object in the middle, large mirrors and ponds with the object at the "
               "edge (so clipping itself is seen).",
        "category": "reflection", "factors": {"reflector": "mirror", "mirror_size": "small", "placement": "edge"}},
    "light_right_cone_cylinder": {
        "doc": "a lamp or sun on the RIGHT lighting a CONE or CYLINDER (shadow to the left). Training shows cones and "
               "cylinders lit from the left or above, and balls and cubes lit from every side.",
        "category": "shadow", "factors": {"side": "right", "shape": ("cone", "cylinder")}},
    "more_dirt_than_empty": {
        "doc": "'more DIRT than empty space'. Training shows 'more sand/water than empty space', 'less dirt than "
               "empty space' and 'nearly full of dirt' (so high dirt levels are seen).",
        "category": "container", "factors": {"material": "dirt", "fill_phrase": "more_than"}},
    "reversed_action": {
        "doc": "agent/patient pairs in the reverse direction of the training food chain (ball>cube>cone>cylinder>ball): "
               "training shows 'a ball eats/pushes a cube', the test 'a cube eats/pushes a ball'. Every shape is an "
               "agent and a patient in training.",
        "category": "action", "factors": {"reverse": True}},
    "sand_close_to_water": {
        "doc": "an object IN THE SAND and CLOSE TO THE WATER. Training shows sand far from the water, grass close to "
               "the water and objects in the water.",
        "category": "region", "factors": {"land": "sand", "placement": "near"}},
}


def ood_rules(sc: Scene) -> list[str]:
    """Names of the OOD rules this scene matches ([] = in distribution)."""
    out = []
    if sc.reflector and sc.reflector["kind"] == "mirror" and sc.reflector["size"] == "small" \
            and sc.reflector["placement"].startswith("edge"):
        out.append("small_mirror_edge")
    if sc.category == "shadow" and sc.light["side"] == "right" and sc.objects[0].shape in ("cone", "cylinder"):
        out.append("light_right_cone_cylinder")
    if sc.category == "container" and sc.container["material"] == "dirt" and sc.container["phrase"] == "more_than":
        out.append("more_dirt_than_empty")
    if sc.action and sc.action.get("reverse"):
        out.append("reversed_action")
    if sc.regions and sc.regions["land"] == "sand" and sc.regions["placement"] == "near":
        out.append("sand_close_to_water")
    return out
