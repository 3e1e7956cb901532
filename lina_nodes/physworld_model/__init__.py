"""The embedded PhysWorld text-to-image model: a word-level tokenizer, a small transformer text
encoder and a pixel-space rectified-flow UNet, trained here on PhysWorld scenes.

Nothing in this package imports ComfyUI: ``lina_nodes.comfy_nodes.physworld_loader`` wraps these
modules as genuine ComfyUI MODEL / CLIP / VAE objects.
"""
FORMAT_NAME = "lina-physworld"
FORMAT_VERSION = 1
