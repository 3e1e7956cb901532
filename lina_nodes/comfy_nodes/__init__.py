"""ComfyUI node classes for LINA (V3 schema, registered through ``comfy_entrypoint``).

This is the only sub-package that imports ComfyUI. Each module listed in ``NODE_MODULES`` exposes
``NODES``: a list of ``io.ComfyNode`` classes. A module that fails to import (for example because
an API it uses is missing in an older ComfyUI) is logged and skipped, so the rest of the pack
still loads. Node ids start with ``LINA`` and are frozen once published.
"""
from __future__ import annotations

import importlib
import logging

from comfy_api.latest import ComfyExtension, io  # ComfyUI >= 0.3.48

log = logging.getLogger("lina")

# Modules of this package that define nodes, in menu order.
NODE_MODULES = [
    "scheduler",
    "csg_nodes",
    "physworld_loader",
    "intervention_nodes",
    "adapter_loader",
]


def collect_nodes() -> list[type[io.ComfyNode]]:
    nodes: list[type[io.ComfyNode]] = []
    for name in NODE_MODULES:
        try:
            mod = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as e:
            if e.name and e.name.endswith(name):
                continue  # module not written yet
            log.exception("LINA: could not load node module %s; its nodes are unavailable", name)
            continue
        except Exception:
            log.exception("LINA: could not load node module %s; its nodes are unavailable", name)
            continue
        for node_cls in getattr(mod, "NODES", []):
            try:  # one node with a broken schema must not take the whole pack down
                node_cls.GET_SCHEMA()
            except Exception:
                log.exception("LINA: node %s in %s has an invalid schema; it is unavailable", node_cls.__name__, name)
                continue
            nodes.append(node_cls)
    return nodes


class LinaExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return collect_nodes()


async def comfy_entrypoint() -> LinaExtension:
    return LinaExtension()
