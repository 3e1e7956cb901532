"""Adapter training by amortised search (pure: no ComfyUI import; the runner is a plug-in by import path).

``config`` the validated training config; ``pool`` prompt pools (PhysWorld splits, JSONL files); ``plugins``
the runner and judge interfaces and their loading; ``search`` the per-prompt search over the action space
(parallel workers, checkpoints, resume); ``fit`` the predictor (ridge regression of judge scores on prompt
features, one row per action) and the leave-one-out report.
"""
