"""QConfigMapping: which qconfig each operation of a model gets in graph mode quantization
(``prepare_fx``), as PyTorch's ``torch.ao.quantization.QConfigMapping``.

An operation's qconfig is the first that applies, from the most specific to the least:

1. ``set_module_name_object_type_order(module_name, object_type, index, qconfig)``: the
   ``index``-th call of ``object_type`` (a function such as ``chainrule.add``) in the forward of
   the module ``module_name``;
2. ``set_module_name(name, qconfig)``: the module ``name`` (and what its forward calls), a prefix
   of the name standing for its submodules;
3. ``set_module_name_regex(regex, qconfig)``: the first regular expression that matches the module name;
4. ``set_object_type(type_or_function_or_method_name, qconfig)``: a layer class (``nn.Linear``),
   a function (``chainrule.add``, ``operator.add``) or a method's name (``"reshape"``);
5. ``set_global(qconfig)``.

A qconfig of None leaves the operation in float.
"""
from collections import OrderedDict

import chainrule
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.ao.quantization.fake_quantize import FixedQParamsFakeQuantize, default_weight_fake_quant
from chainrule.ao.quantization.observer import (
    default_fixed_qparams_range_0to1_observer,
    default_fixed_qparams_range_neg1to1_observer,
    default_placeholder_observer,
    default_weight_observer,
)
from chainrule.ao.quantization.qconfig import (
    QConfig,
    default_quint8_weight_qconfig,
    default_reuse_input_qconfig,
    get_default_qat_qconfig,
    get_default_qconfig,
)

#: The keys of ``to_dict`` / ``from_dict`` (PyTorch's "qconfig_dict" format).
GLOBAL_KEY, OBJECT_TYPE_KEY, REGEX_KEY, MODULE_NAME_KEY, ORDER_KEY = (
    "", "object_type", "module_name_regex", "module_name", "module_name_object_type_order"
)
#: The attributes in the order ``repr`` prints them.
STYLE_ORDER = ["global_qconfig", "object_type_qconfigs", "module_name_regex_qconfigs", "module_name_qconfigs",
               "module_name_object_type_order_qconfigs"]


class QConfigMapping:
    """Qconfigs by global default, object type, module name regex, module name, and (module name,
    object type, call index); each ``set_*`` returns the mapping, so that calls chain."""

    def __init__(self):
        self.global_qconfig = None
        self.object_type_qconfigs = OrderedDict()
        self.module_name_regex_qconfigs = OrderedDict()
        self.module_name_qconfigs = OrderedDict()
        self.module_name_object_type_order_qconfigs = OrderedDict()

    def set_global(self, global_qconfig):
        self.global_qconfig = global_qconfig
        return self

    def set_object_type(self, object_type, qconfig):
        """For a layer class, a function, or a method name (``"reshape"``)."""
        self.object_type_qconfigs[object_type] = qconfig
        return self

    def set_module_name_regex(self, module_name_regex, qconfig):
        """For the modules whose names match ``module_name_regex`` (tried in the order set)."""
        self.module_name_regex_qconfigs[module_name_regex] = qconfig
        return self

    def set_module_name(self, module_name, qconfig):
        self.module_name_qconfigs[module_name] = qconfig
        return self

    def set_module_name_object_type_order(self, module_name, object_type, index, qconfig):
        """For the ``index``-th (from 0) call of ``object_type`` in the forward of ``module_name``."""
        self.module_name_object_type_order_qconfigs[(module_name, object_type, index)] = qconfig
        return self

    def __repr__(self):
        output = type(self).__name__ + " ("
        for style_name in STYLE_ORDER:
            output += f"\n {style_name}"
            qconfigs = getattr(self, style_name)
            if isinstance(qconfigs, OrderedDict) and qconfigs:
                output += "".join(f"\n  {key}: {qconfig}" for key, qconfig in qconfigs.items())
            else:
                output += f"\n  {qconfigs}"
        return output + "\n)"

    def to_dict(self):
        """``{"": global, "object_type": [(type, qconfig)...], "module_name_regex": [...],
        "module_name": [...], "module_name_object_type_order": [(name, type, index, qconfig)...]}``."""
        return {
            GLOBAL_KEY: self.global_qconfig,
            OBJECT_TYPE_KEY: list(self.object_type_qconfigs.items()),
            REGEX_KEY: list(self.module_name_regex_qconfigs.items()),
            MODULE_NAME_KEY: list(self.module_name_qconfigs.items()),
            ORDER_KEY: [(*key, qconfig) for key, qconfig in self.module_name_object_type_order_qconfigs.items()],
        }

    @classmethod
    def from_dict(cls, qconfig_dict):
        """The mapping of a dict in ``to_dict``'s format (every key optional)."""
        mapping = cls()
        if GLOBAL_KEY in qconfig_dict:
            mapping.set_global(qconfig_dict[GLOBAL_KEY])
        for object_type, qconfig in qconfig_dict.get(OBJECT_TYPE_KEY, []):
            mapping.set_object_type(object_type, qconfig)
        for regex, qconfig in qconfig_dict.get(REGEX_KEY, []):
            mapping.set_module_name_regex(regex, qconfig)
        for module_name, qconfig in qconfig_dict.get(MODULE_NAME_KEY, []):
            mapping.set_module_name(module_name, qconfig)
        for module_name, object_type, index, qconfig in qconfig_dict.get(ORDER_KEY, []):
            mapping.set_module_name_object_type_order(module_name, object_type, index, qconfig)
        return mapping


def fixed_qparams_observers():
    """The operations whose output range is fixed, and the observer of that range: [0, 1] for
    the sigmoids and softmax, [-1, 1] for tanh (functions, layers and method names)."""
    zero_to_one, minus_one_to_one = default_fixed_qparams_range_0to1_observer, default_fixed_qparams_range_neg1to1_observer
    return {
        nn.Hardsigmoid: zero_to_one, F.hardsigmoid: zero_to_one, "hardsigmoid": zero_to_one, "hardsigmoid_": zero_to_one,
        nn.Sigmoid: zero_to_one, chainrule.sigmoid: zero_to_one, "sigmoid": zero_to_one, "sigmoid_": zero_to_one,
        nn.Softmax: zero_to_one,
        nn.Tanh: minus_one_to_one, chainrule.tanh: minus_one_to_one, "tanh": minus_one_to_one, "tanh_": minus_one_to_one,
    }


def _default_mapping(is_qat, backend, version):
    """PyTorch's default mapping: the backend's qconfig globally; per-tensor weights for the
    transposed convolutions on x86/fbgemm; float (placeholder) weights for layer norm; the fixed
    ranges of sigmoid, tanh...; ``reshape`` reusing its input's observer."""
    qconfig = get_default_qat_qconfig(backend, version) if is_qat else get_default_qconfig(backend, version)
    default_weight = default_weight_fake_quant if is_qat else default_weight_observer
    transposed = QConfig(activation=qconfig.activation, weight=default_weight) if backend in ("fbgemm", "x86") else qconfig
    layer_norm = QConfig(activation=qconfig.activation, weight=default_placeholder_observer)
    mapping = QConfigMapping().set_global(qconfig).set_object_type("reshape", default_reuse_input_qconfig)
    for transposed_type in (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, F.conv_transpose1d, F.conv_transpose2d,
                            F.conv_transpose3d):
        mapping.set_object_type(transposed_type, transposed)
    mapping.set_object_type(F.layer_norm, layer_norm).set_object_type(nn.LayerNorm, layer_norm)
    mapping.set_object_type(nn.PReLU, default_quint8_weight_qconfig)
    qconfig_of_observer = {}
    for operation, observer in fixed_qparams_observers().items():
        if observer not in qconfig_of_observer:
            activation = FixedQParamsFakeQuantize.with_args(observer=observer) if is_qat else observer
            qconfig_of_observer[observer] = QConfig(activation=activation, weight=default_weight)
        mapping.set_object_type(operation, qconfig_of_observer[observer])
    return mapping


def get_default_qconfig_mapping(backend="x86", version=0):
    """The mapping of post-training quantization for ``backend`` ("x86", "fbgemm", "qnnpack", "onednn")."""
    return _default_mapping(False, backend, version)


def get_default_qat_qconfig_mapping(backend="x86", version=1):
    """The mapping of quantization-aware training for ``backend`` (fake quantizers)."""
    return _default_mapping(True, backend, version)


__all__ = ["QConfigMapping", "get_default_qat_qconfig_mapping", "get_default_qconfig_mapping"]
