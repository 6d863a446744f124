"""``torch._higher_order_ops``: operations that take functions. ``associative_scan`` (imported by
transformers' Mamba, Jamba and Zamba models) is the one here; as in PyTorch, the package's
``associative_scan`` is the function, and its module is ``associative_scan`` in ``sys.modules``."""
from chainrule._higher_order_ops.associative_scan import associative_scan

__all__ = ["associative_scan"]
