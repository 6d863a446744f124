"""chainrule's operations, one family per file; each is a Function with forward and backward side by side.

The package is also ``torch.ops``: the operator namespaces ``torch.library`` defines are set on it,
``aten`` holds PyTorch's built-in operators by their ATen names, and ``load_library`` answers a
library of compiled operators (which chainrule cannot load)."""


def load_library(path):
    """``torch.ops.load_library``: load a shared library of compiled operators. chainrule cannot:
    such a library registers its kernels with libtorch's C++ dispatcher, which chainrule does not
    have. It raises OSError, as PyTorch does for a library that fails to load, which is the error
    libraries that ship compiled operators (torchvision, pyg-lib...) catch to go on without them."""
    raise OSError(
        f"Could not load this library: {path}. chainrule cannot load operators compiled against libtorch; "
        f"define the operator in Python with torch.library.custom_op (or torch.library.define and impl) instead."
    )


def __getattr__(name):
    """``torch.ops.aten``, PyTorch's built-in operators by their ATen names (``chainrule.library.aten``),
    and ``torch.ops.quantized`` (``ops/quantized.py``), loaded on first use; the namespaces
    ``torch.library`` defines are set here as they are made."""
    if name == "aten":
        from chainrule.library.aten import aten

        return aten
    if name == "quantized":
        import importlib

        return importlib.import_module("chainrule.ops.quantized")
    raise AttributeError(f"module 'chainrule.ops' has no attribute {name!r}")
