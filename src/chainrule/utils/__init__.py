"""Utilities: data loading (``data``), activation checkpointing (``checkpoint``), hook handles
(``hooks``), memory shared with other libraries (``dlpack``), TensorBoard logging (``tensorboard``),
timing (``benchmark``), the switches of old compatibility warnings (``backcompat``), nested containers (``_pytree``, PyTorch's private but widely used module)
and ``swap_tensors``. Each is imported when first used, so that ``hooks``, which the tensor itself
needs, comes without the rest."""
import importlib

__all__ = ["benchmark", "checkpoint", "data", "hooks", "swap_tensors", "tensorboard"]

_MODULES = {"backcompat", "benchmark", "checkpoint", "data", "dlpack", "hooks", "model_zoo", "tensorboard", "_pytree"}


def __getattr__(name):
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "swap_tensors":
        from chainrule.utils.tensor_swap import swap_tensors

        return swap_tensors
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
