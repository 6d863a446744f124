"""Utilities: data loading (``data``), activation checkpointing (``checkpoint``), hook handles
(``hooks``), TensorBoard logging (``tensorboard``) and timing (``benchmark``). Each is imported when first used, so that
``hooks``, which the tensor itself needs, comes without the rest."""
import importlib

__all__ = ["benchmark", "checkpoint", "data", "hooks", "tensorboard"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
