"""LINA core: causal scene graphs, interventions, schedules and guidance math.

Nothing in this package imports ComfyUI except ``lina_nodes.comfy_nodes`` (the node classes) and the
runtime helpers that start a ComfyUI server as a subprocess.
"""

__version__ = "0.1.0"
