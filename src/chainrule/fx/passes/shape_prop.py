"""ShapeProp: run a GraphModule on example inputs and record, in each node's ``meta['tensor_meta']``,
the shape, dtype and strides of the tensor it computed (a tuple of them for several)."""
from typing import NamedTuple

from chainrule.fx.interpreter import Interpreter
from chainrule.fx.node import map_aggregate
from chainrule.memory_layout import contiguous_format
from chainrule.tensor import Tensor


class TensorMetadata(NamedTuple):
    shape: tuple
    dtype: object
    requires_grad: bool
    stride: tuple
    memory_format: object
    is_quantized: bool
    qparams: dict


def _extract_tensor_metadata(result):
    return TensorMetadata(result.shape, result.dtype, result.requires_grad, result.stride(), contiguous_format if result.is_contiguous() else None, False, {})


class ShapeProp(Interpreter):
    """``ShapeProp(gm).propagate(*example_inputs)``: see the module docstring."""

    def run_node(self, n):
        result = super().run_node(n)
        found = []

        def metadata(value):
            if isinstance(value, Tensor):
                found.append(True)
                return _extract_tensor_metadata(value)
            return value

        meta = map_aggregate(result, metadata)
        if found:
            n.meta["tensor_meta"] = meta
        n.meta["type"] = type(result)
        return result

    def propagate(self, *args):
        return self.run(*args)
