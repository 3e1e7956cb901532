"""The deliberately biased split: combinations the training set never shows (the OOD rules).

Every attribute value of an OOD combination is seen in training, only never in that pairing,
so a model that can recombine factors could draw it. ``ood_rules(scene, split)`` names the rules
a scene matches; training and in-distribution test scenes match none, OOD test scenes at least one.

Splits are versioned (a model is evaluated on the split it was trained with; its weights file
records it): ``v1`` held out five rules; the model trained on it composed two of them as well as
in-distribution scenes (shadow side x shape 99%, dirt level 100%), so ``v2`` (the default) drops
those two and holds out cones in reflections instead (an upside-down cone is never seen).
"""
from __future__ import annotations

from .scene import Scene

_RULE_DEFS = {
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
    "cone_reflection": {
        "doc": "a CONE in front of a mirror or above water (its reflection is an upside-down cone). Training shows "
               "cones in every other category and balls, cubes and cylinders reflected (whose reflections look "
               "like the upright shape).",
        "category": "reflection", "factors": {"shape": "cone"}},
}
SPLIT_RULES = {
    "v1": ("small_mirror_edge", "light_right_cone_cylinder", "more_dirt_than_empty", "reversed_action",
           "sand_close_to_water"),
    "v2": ("small_mirror_edge", "cone_reflection", "reversed_action", "sand_close_to_water"),
}
DEFAULT_SPLIT = "v2"
SPLITS = tuple(SPLIT_RULES)


def rules(split: str = DEFAULT_SPLIT) -> dict:
    """{rule name: definition} of one split version."""
    if split not in SPLIT_RULES:
        from ..errors import PhysWorldError
        raise PhysWorldError(f"unknown split version {split!r}", field="split",
                             fix=f"use one of {', '.join(SPLIT_RULES)}.")
    return {k: _RULE_DEFS[k] for k in SPLIT_RULES[split]}


RULES = rules(DEFAULT_SPLIT)


def ood_rules(sc: Scene, split: str = DEFAULT_SPLIT) -> list[str]:
    """Names of the OOD rules of split version ``split`` this scene matches ([] = in distribution)."""
    keep = rules(split)
    return [r for r in _matches(sc) if r in keep]


def _matches(sc: Scene) -> list[str]:
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
    if sc.category == "reflection" and sc.objects and sc.objects[0].shape == "cone":
        out.append("cone_reflection")
    return out
