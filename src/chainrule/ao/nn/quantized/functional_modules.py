"""FloatFunctional, FXFloatFunctional and QFunctional: additions, products and concatenations in a model to quantize
(a residual ``x + f(x)``), as modules, so that an observer can watch their results. In float,
``FloatFunctional().add(x, y)`` is ``x + y``; ``convert`` makes it a ``QFunctional`` that adds
quantized tensors and quantizes the sum to the observed scale and zero point (in float32 here;
PyTorch's integer kernels may round a value at a tie the other way: one step)."""
import chainrule
from chainrule.ao.nn.quantized import integer_arithmetic
from chainrule.backend import xp
from chainrule.nn.module import Module
from chainrule.nn.linear import Identity


class FXFloatFunctional(Module):
    """``add``, ``add_scalar``, ``mul``, ``mul_scalar``, ``cat``, ``add_relu``, ``matmul`` on float
    tensors, as modules (what graph mode quantization puts for a FloatFunctional: its observers
    go into the traced graph instead)."""

    def forward(self, x):
        raise RuntimeError("FloatFunctional is not intended to use the 'forward'. Please use the underlying operation")

    def observed(self, result):
        """What watches a result: nothing here, the observer in FloatFunctional."""
        return result

    def add(self, x, y):
        return self.observed(x + y)

    def add_scalar(self, x, y):
        return x + y  # PyTorch does not observe it: the quantized form keeps x's scale

    def mul(self, x, y):
        return self.observed(x * y)

    def mul_scalar(self, x, y):
        return x * y

    def cat(self, x, dim=0):
        return self.observed(chainrule.cat(x, dim=dim))

    def add_relu(self, x, y):
        return self.observed(chainrule.relu(x + y))

    def matmul(self, x, y):
        return self.observed(chainrule.matmul(x, y))


class FloatFunctional(FXFloatFunctional):
    """FXFloatFunctional's operations, each result (but the scalar ones') passed through
    ``activation_post_process`` (an observer once prepared)."""

    def __init__(self):
        super().__init__()
        self.activation_post_process = Identity()

    def observed(self, result):
        return self.activation_post_process(result)


class QFunctional(Module):
    """FloatFunctional's operations on quantized tensors, the results quantized to ``scale`` and
    ``zero_point``: ``(N, *) quint8, (N, *) quint8 -> (N, *) quint8``."""

    def __init__(self):
        super().__init__()
        self.scale, self.zero_point = 1.0, 0
        self.activation_post_process = Identity()

    def _get_name(self):
        return "QFunctional"

    def extra_repr(self):
        return f"scale={self.scale}, zero_point={self.zero_point}"

    def forward(self, x):
        raise RuntimeError("Functional is not intended to use the 'forward'. Please use the underlying operation")

    def requantized(self, values):
        return integer_arithmetic.requantized(values._array.astype(xp.float32), self.scale, self.zero_point)

    def add(self, x, y):
        return self.requantized(x.dequantize() + y.dequantize())

    def add_scalar(self, x, y):
        return chainrule.quantize_per_tensor(x.dequantize() + y, x.q_scale(), x.q_zero_point(), x.dtype)

    def mul(self, x, y):
        return self.requantized(x.dequantize() * y.dequantize())

    def mul_scalar(self, x, y):
        return chainrule.quantize_per_tensor(x.dequantize() * y, x.q_scale(), x.q_zero_point(), x.dtype)

    def cat(self, x, dim=0):
        return self.requantized(chainrule.cat([each.dequantize() for each in x], dim=dim))

    def add_relu(self, x, y):
        return self.requantized(chainrule.relu(x.dequantize() + y.dequantize()))

    def matmul(self, x, y):
        return self.requantized(chainrule.matmul(x.dequantize(), y.dequantize()))

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        quantized = cls()
        quantized.scale, quantized.zero_point = float(scale), int(zero_point)
        return quantized
