"""The two plug-ins of adapter training, loaded by import path (``module:attribute``).

Runner (``config.runner``, built once per worker with ``config.runner_args`` as keyword arguments):
    runner(prompt: str, seed: int, changes: dict) -> (image: uint8 HxWx3 numpy array, model evaluations: int)
        sample the frozen model with LINA's plan for ``prompt`` with the plan fields ``changes`` set;
    runner.plan_key(prompt, changes) -> str      the plan those changes give (equal keys: one sample serves both);
    runner.features(prompt) -> torch.Tensor      the adapter's input (``intervention.adapter.features``);
    runner.subspace() -> Subspace; runner.family -> str; runner.name -> str.
The built-in ``lina_nodes.evaluation.physworld_plugins:PhysWorldRunner`` is the in-process ComfyUI model
(``InProcessSampler``, the code the nodes run); ``CheckpointRunner`` there takes ``checkpoint=PATH``.

Judge (``config.judge``): judge(image, item) -> float in [0, 1], higher is better; ``item`` is the pool
item (``prompt``, ``labels``, ``payload``). PhysWorld's is built in; ``lina_nodes.training.judges:csg_box_judge``
is an example that needs no reference (it scores the image against the prompt's CSG layout boxes, as
PAP-style per-node masks would). A judge that raises or returns a non-finite or out-of-range value stops
training with its name and the prompt; completed prompts stay in the checkpoint.
"""
from __future__ import annotations

import importlib
import math

from .config import TrainError


def load_object(path: str, field: str):
    """``module:attribute`` -> the object (only import machinery; nothing is unpickled)."""
    mod, _, attr = path.partition(":")
    try:
        obj = importlib.import_module(mod)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, ValueError) as e:
        raise TrainError(f"cannot load {path!r} ({type(e).__name__}: {e}).", field=field,
                         fix="give 'package.module:callable' importable from this Python (PYTHONPATH).") from None
    if not callable(obj):
        raise TrainError(f"{path!r} is not callable.", field=field)
    return obj


def call_judge(judge, name: str, image, item) -> float:
    """The judge's score for one image, checked: a failure names the judge and the prompt."""
    try:
        v = judge(image, item)
    except Exception as e:  # noqa: BLE001 - a user's judge may raise anything; stop with its name
        raise TrainError(f"judge {name} raised {type(e).__name__}: {str(e)[:300]} on the prompt {item['prompt']!r}.",
                         field="config.judge", fix="fix the judge; `--resume` continues from the last checkpoint.") \
            from None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)) or not 0 <= v <= 1:
        raise TrainError(f"judge {name} returned {v!r} (not a finite number in [0, 1]) on the prompt "
                         f"{item['prompt']!r}.", field="config.judge",
                         fix="make the judge return a score in [0, 1]; `--resume` continues from the checkpoint.")
    return float(v)
