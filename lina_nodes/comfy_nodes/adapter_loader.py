"""LINA Adapter Loader: a LINA adapter .safetensors (plan predictor + the encoder's subspaces) for LINA Plan."""
from __future__ import annotations

from pathlib import Path

from comfy_api.latest import io

from ..intervention.adapter import AdapterError, load_adapter
from .intervention_nodes import AdapterType
from .physworld_loader import PACK_WEIGHTS
FOLDER = "lina_adapters"   # ComfyUI's models/lina_adapters
NONE = "(none: use adapter_path)"


def _folders() -> list[Path]:
    out = [PACK_WEIGHTS]
    try:
        import folder_paths

        if FOLDER not in folder_paths.folder_names_and_paths:
            folder_paths.add_model_folder_path(FOLDER, str(Path(folder_paths.models_dir) / FOLDER))
        out += [Path(p) for p in folder_paths.get_folder_paths(FOLDER)]
    except Exception:  # noqa: BLE001 - folder_paths is ComfyUI's; the pack's own folder still works
        pass
    return out


def adapter_files() -> list[str]:
    names = set()
    for d in _folders():
        if d.is_dir():
            names.update(p.name for p in d.glob("*.safetensors") if p.name.startswith("lina_adapter"))
    return sorted(names) or [NONE]


def resolve_adapter(name: str, path: str = "") -> Path:
    if path and path.strip():
        return Path(path.strip()).expanduser()
    if not name or name == NONE or Path(name).name != name:
        raise AdapterError(f"{name!r} is not an adapter file name.", field="adapter_name",
                           fix="choose a file from the list (models/lina_adapters or the pack's weights folder), "
                               "or give a full path in adapter_path.")
    for d in _folders():
        if (d / name).is_file():
            return d / name
    raise AdapterError(f"{name} is in none of {', '.join(str(d) for d in _folders())}.", field="adapter_name",
                       fix="refresh the node list, or give a full path in adapter_path.")


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
                                tooltip="Optional full path of an adapter file; used instead of adapter_name."),
            ],
            outputs=[AdapterType.Output("adapter", tooltip="The adapter, for LINA Plan's adapter input.")],
        )

    @classmethod
    def execute(cls, adapter_name, adapter_path="") -> io.NodeOutput:
        return io.NodeOutput(load_adapter(resolve_adapter(adapter_name, adapter_path or "")))


NODES = [LINAAdapterLoader]
