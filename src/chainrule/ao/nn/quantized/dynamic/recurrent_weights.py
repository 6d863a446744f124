"""The weights of a dynamically quantized recurrent layer or cell: per layer and direction, two
dynamic Linear layers, the input's product ``W_ih x + b_ih`` and the hidden state's
``W_hh h + b_hh`` (``Products``), quantized from the float module's weights as its qconfig says."""
from collections import namedtuple

import chainrule
from chainrule.ao.nn.quantized.dynamic.linear import SUPPORTED_DTYPES, Linear

#: The two products of one layer and direction (or of a cell), dynamic Linear layers.
Products = namedtuple("Products", ["input", "hidden"])


def weight_dtype(mod, layer_kind):
    """The dtype the float recurrent ``mod``'s weights are quantized to: its qconfig's weight
    observer's (int8 by default, ``default_dynamic_qconfig``), checked as PyTorch checks it."""
    if not hasattr(mod, "qconfig"):
        raise AssertionError(f"Input float module must have qconfig defined (give the {layer_kind} a qconfig, or use quantize_dynamic)")
    if mod.qconfig is not None and mod.qconfig.weight is not None:
        dtype = mod.qconfig.weight().dtype
    else:
        dtype = chainrule.qint8
    if dtype not in SUPPORTED_DTYPES:
        raise RuntimeError(f"Unsupported dtype for dynamic RNN quantization: {dtype} (use chainrule.qint8 or chainrule.float16)")
    return dtype


def quantized_products(mod, suffix=""):
    """The Products of the float ``mod``'s ``weight_ih{suffix}``, ``bias_ih{suffix}``,
    ``weight_hh{suffix}``, ``bias_hh{suffix}``, each weight quantized by a fresh weight observer of
    ``mod.qconfig`` (as ``dynamic.Linear.from_float``)."""
    if not mod.bias:
        raise AssertionError(
            f"mod.bias must be True (a dynamically quantized {type(mod).__name__} needs biases: keep this one float)"
        )
    return Products(*(
        Linear.from_weight(getattr(mod, f"weight_{kind}{suffix}"), getattr(mod, f"bias_{kind}{suffix}"), mod.qconfig)
        for kind in ("ih", "hh")
    ))


def initial_products(weight_ih, weight_hh, bias_ih, bias_hh, dtype, weight_scale):
    """The Products of a freshly built layer or cell (before ``from_float`` or ``load_state_dict``),
    from the random float weights its constructor drew, as PyTorch's do: int8 weights quantized per
    tensor with ``weight_scale`` and zero point 0, or float16 ones. The biases may be None."""
    if dtype == chainrule.qint8:
        weight_ih, weight_hh = (
            chainrule.quantize_per_tensor(weight, weight_scale, 0, chainrule.qint8) for weight in (weight_ih, weight_hh)
        )
    return Products(*(
        Linear.from_packed(weight, bias, dtype) for weight, bias in ((weight_ih, bias_ih), (weight_hh, bias_hh))
    ))


def saved(products):
    """What a state dict holds for Products: ``((W_ih, b_ih), (W_hh, b_hh))``, weights int8 or float16."""
    return tuple(linear.packed() for linear in products)


def loaded(entry):
    """The Products saved as ``entry`` (see ``saved``)."""
    return Products(*(Linear.from_packed(weight, bias) for weight, bias in entry))
