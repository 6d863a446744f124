"""QuantStub and DeQuantStub: the places in a float model where quantization starts and ends. They
do nothing in float; ``prepare`` gives QuantStub an observer, and ``convert`` swaps them for
``Quantize`` (with the observed scale and zero point) and ``DeQuantize``."""
from chainrule.nn.module import Module


class Stub(Module):
    """A marker that does nothing until converted (its ``qconfig``, when given, is its own)."""

    def __init__(self, qconfig=None):
        super().__init__()
        if qconfig:
            self.qconfig = qconfig

    def forward(self, x):
        return x


class QuantStub(Stub):
    """Identity until converted: there, ``float -> quantized``."""


class DeQuantStub(Stub):
    """Identity until converted: there, ``quantized -> float``."""


class QuantWrapper(Module):
    """``module`` between a QuantStub and a DeQuantStub (its qconfig theirs too)."""

    def __init__(self, module):
        super().__init__()
        qconfig = getattr(module, "qconfig", None)
        self.add_module("quant", QuantStub(qconfig))
        self.add_module("dequant", DeQuantStub(qconfig))
        self.add_module("module", module)
        self.train(module.training)

    def forward(self, X):
        return self.dequant(self.module(self.quant(X)))
