"""``chainrule.backends.quantized``: which kernel library quantized layers use, as PyTorch's
``torch.backends.quantized.engine`` ("x86", "fbgemm", "qnnpack", "onednn").

chainrule computes quantized layers one way (FBGEMM's arithmetic, ``ao/nn/quantized``); the
engine is a setting that can be read and set, checked as PyTorch checks it. The 7-bit activations
of the x86 and FBGEMM engines are chosen by the qconfig (``get_default_qconfig(engine)``), as in
PyTorch.
"""
import sys

from chainrule.module_pickling import PickledByName

supported_engines = ["qnnpack", "onednn", "x86", "fbgemm"]


class QuantizedEngine(PickledByName):
    """This module, with ``engine`` a checked property (PyTorch's module is such an object too),
    pickled by its name as chainrule's other modules are."""

    _engine = "x86"

    @property
    def engine(self):
        return self._engine

    @engine.setter
    def engine(self, name):
        if name == "none":
            raise RuntimeError("quantized engine NoQEngine is not supported")
        if name not in supported_engines:
            raise RuntimeError(f"{name} is not a valid value for quantized engine (choose one of {supported_engines})")
        type(self)._engine = name


sys.modules[__name__].__class__ = QuantizedEngine
