"""LINA's ComfyUI-bound engine, run inside a ComfyUI process (the server, or a tool that imported ComfyUI).

No node classes live here: ``comfy_nodes/`` declares schemas and calls these functions, and the CLI,
the evaluation harnesses and the in-process sampler call the same functions, so one code path serves
all of them. Modules import ComfyUI at import time; import them only once ComfyUI is importable
(inside the server, or after ``comfy_import.import_comfy()``).

- ``comfy_import``: put a ComfyUI tree on ``sys.path``; model_sampling for a family without weights.
- ``sigmas``: family of a MODEL, ``resolve_window`` (the early window and structure phase, one place),
  ``causal_sigmas`` (the Causal Scheduler for a MODEL).
- ``conditioning``: CONDITIONING checks and the structure-phase entries of ``lina_positive``.
- ``plan_build``: LINA Plan's outputs (plan, c, c') for a CSG and a CLIP.
- ``model_patch``: the early-window intervention as composable MODEL hooks (the single implementation;
  LINA Guider is a CFGGuider over the patched model).
- ``physworld_objects``: the embedded PhysWorld model as ComfyUI MODEL / CLIP / VAE.
- ``sampling``: one sampling routine (noise, sigmas, guider, progress and previews) for nodes and tools.
- ``sampler``: ``InProcessSampler``, the tool behind ``lina physworld eval --lina`` and ``lina knee``.
"""
