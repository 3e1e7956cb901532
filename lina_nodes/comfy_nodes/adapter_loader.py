"""LINA Adapter Loader: a LINA adapter .safetensors (plan predictor + the encoder's subspaces) for LINA Plan."""
from __future__ import annotations

from comfy_api.latest import io

from ..inprocess import file_access
from ..intervention.adapter import AdapterError, load_adapter
from .types import AdapterType

NONE = "(none: use adapter_path)"


def adapter_files() -> list[str]:
    return file_access.list_files("adapter", "lina_adapter") or [NONE]


def load_adapter_file(name, path=""):
    """The adapter named (``path`` wins when set), only from models/lina_adapters or the pack's weights/."""
    if isinstance(path, str) and path.strip():
        return file_access.load_file("adapter", path, "adapter_path", load_adapter, AdapterError)
    if not isinstance(name, str) or not name or name == NONE:
        raise AdapterError("no adapter chosen.", field="adapter_name",
                           fix="choose a file from the list (models/lina_adapters or the pack's weights folder), "
                               "or give its name in adapter_path.")
    return file_access.load_file("adapter", name, "adapter_name", load_adapter, AdapterError)


class LINAAdapterLoader(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LINAAdapterLoader",
            display_name="LINA Adapter Loader",
            category="LINA/intervention",
            description="Load a LINA adapter (.safetensors: a plan predictor and the physics / texture subspaces of "
                        "the text encoder it was made for) for LINA Plan's adapter input. Validated on load; LINA "
                        "Plan refuses it on any other text encoder.",
            inputs=[
                io.Combo.Input("adapter_name", options=adapter_files(),
                               tooltip="An adapter file in ComfyUI's models/lina_adapters or the pack's weights folder "
                                       "(names starting with lina_adapter)."),
                io.String.Input("adapter_path", default="", optional=True,
                                tooltip="Optional adapter file by name or path inside models/lina_adapters or the "
                                        "pack's weights/; used instead of adapter_name. Paths elsewhere need the "
                                        "operator setting LINA_ALLOW_ANY_PATH=1."),
            ],
            outputs=[AdapterType.Output("adapter", tooltip="The adapter, for LINA Plan's adapter input.")],
        )

    @classmethod
    def execute(cls, adapter_name, adapter_path="") -> io.NodeOutput:
        return io.NodeOutput(load_adapter_file(adapter_name, adapter_path or ""))


NODES = [LINAAdapterLoader]
