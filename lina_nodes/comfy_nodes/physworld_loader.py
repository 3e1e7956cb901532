"""LINA PhysWorld Loader: the embedded PhysWorld model (``inprocess.physworld_objects``) from the pack's weights."""
from __future__ import annotations

from comfy_api.latest import io

from ..errors import WeightsError
from ..inprocess import file_access
from ..inprocess.physworld_objects import build_comfy_objects
from ..paths import PHYSWORLD_DEFAULT_FILE as DEFAULT_FILE


def weight_files() -> list[str]:
    names = [n for n in file_access.list_files("physworld", "physworld_") if n != DEFAULT_FILE]
    return [DEFAULT_FILE] + names


def load_weights(name, path=""):
    """MODEL, CLIP, VAE from a file in models/lina_physworld or the pack's weights/ (``path`` wins when set);
    the file is checked (header, shapes, finiteness) before any network is built."""
    if isinstance(path, str) and path.strip():
        return file_access.load_file("physworld", path, "weights_path", build_comfy_objects, WeightsError)
    return file_access.load_file("physworld", name if isinstance(name, str) else "", "weights",
                                 build_comfy_objects, WeightsError)


class LINAPhysWorldLoader(io.ComfyNode):
    """Load the embedded PhysWorld model (MODEL, CLIP, VAE) from the pack's weights folder."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LINAPhysWorldLoader",
            display_name="LINA PhysWorld Loader",
            category="LINA/physworld",
            description=(
                "Loads LINA's embedded PhysWorld text-to-image model: a small pixel-space rectified-flow UNet, its "
                "word-level text encoder and ComfyUI's pixel-space VAE. It draws 64x64 PhysWorld scenes in about a "
                "second on a CPU with KSampler (euler, simple, 20 steps, cfg 4) and is LINA's measurable test subject."
            ),
            inputs=[
                io.Combo.Input("weights", options=weight_files(), default=DEFAULT_FILE,
                               tooltip="A physworld_*.safetensors file in ComfyUI's models/lina_physworld or the "
                                       "LINA pack's weights/ folder (written by `lina physworld train --export`)."),
                io.String.Input("weights_path", default="", optional=True,
                                tooltip="A PhysWorld .safetensors file by name or path inside models/lina_physworld "
                                        "or the pack's weights/; when set it is used instead of 'weights'. Paths "
                                        "elsewhere need the operator setting LINA_ALLOW_ANY_PATH=1."),
            ],
            outputs=[
                io.Model.Output(tooltip="The denoiser (a flow model) for KSampler / SamplerCustomAdvanced."),
                io.Clip.Output(tooltip="The PhysWorld text encoder for CLIPTextEncode (lower-case PhysWorld words; "
                                       "other words become <unk>)."),
                io.Vae.Output(tooltip="ComfyUI's pixel-space VAE: VAEDecode turns the 3-channel latent into the image."),
            ],
        )

    @classmethod
    def execute(cls, weights, weights_path="") -> io.NodeOutput:
        model, clip, vae = load_weights(weights, weights_path or "")
        return io.NodeOutput(model, clip, vae)


NODES = [LINAPhysWorldLoader]
