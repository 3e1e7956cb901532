"""Developer tools (test rig and demo helpers). Not used by the nodes at run time.

``tiny_models`` writes tiny random-weight models of real ComfyUI architectures. It imports ComfyUI's
own model classes to get the exact key layouts, so run it as a subprocess
(``python -m lina_nodes.devtools.tiny_models --comfy DIR --out DIR``) or call ``build_all`` from a
process that may import ComfyUI.
"""
