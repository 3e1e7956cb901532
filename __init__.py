"""ComfyUI entry point of the LINA node pack.

ComfyUI imports this file from ``custom_nodes/<folder>/``. Nodes are registered through
``comfy_entrypoint`` (V3). Do not define ``NODE_CLASS_MAPPINGS`` here: when a module defines it,
ComfyUI never calls ``comfy_entrypoint``.
"""
import logging

WEB_DIRECTORY = "./web"

try:
    import comfy_api.latest  # noqa: F401  (present in ComfyUI >= 0.3.48)
except ImportError:  # imported outside ComfyUI (e.g. by a test runner), or a ComfyUI that is too old
    logging.getLogger("lina").warning(
        "LINA: comfy_api.latest is not importable; the LINA nodes need ComfyUI >= 0.3.48 (0.3.75 tested).")
    __all__ = ["WEB_DIRECTORY"]
else:
    from .lina_nodes.comfy_nodes import comfy_entrypoint  # noqa: F401

    __all__ = ["comfy_entrypoint", "WEB_DIRECTORY"]
