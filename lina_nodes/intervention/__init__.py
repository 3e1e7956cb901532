"""LINA interventions at sampling time (LINA_METHOD.md 2.2-2.4), core math with no ComfyUI import.

plan.py (the LinaPlan + JSON + validation), prior.py (training-free prior), token_align.py (CSG nodes ->
tokens), subspace.py (physics / texture subspaces, cached per encoder), prompt_edit.py (c -> c'),
latent_guidance.py (lambda(sigma), CSG masks for 4-D / 5-D latents, the combination formula).
"""
from .plan import LinaPlan, PlanError, as_plan  # noqa: F401
