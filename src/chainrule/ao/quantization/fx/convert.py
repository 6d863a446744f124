"""Lowering a calibrated model to quantized operations, as PyTorch's ``convert_fx`` (its
reference model and its lowering to native operations, in one pass).

The graph is rebuilt node by node, each value kept as float, quantized, or both (a dequantize):

- an input observer on a float value becomes ``quantize_per_tensor(x, scale, zero_point,
  quint8)``, its parameters buffers of the model named after the module the value is used in
  (``conv_input_scale_0``, for a value no qconfig quantizes: a model input) or produced in
  (``relu_scale_0``, ``_scale_0`` at the top level); PyTorch gives every observer it converts
  the next number in its scope, those on values already quantized and on weights too, so the
  numbers here count those as well; an observer on a value already quantized (a layer's
  output, a shared observer) disappears;
- a quantized layer is swapped for its quantized form (``mappings``: ``nnq.Conv2d``,
  ``nniq.LinearReLU``... with its output observer's scale), or its dynamic form;
- ``F.linear(x, w, b)`` / ``F.conv2d(x, w, b, ...)`` becomes ``chainrule.ops.quantized.linear(x,
  _packed_weight_0, scale, zero_point)`` (``linear_relu`` with a following ReLU), its weight
  quantized by its weight observer and packed with the bias (``linear_prepack``...) into an
  attribute of the model;
- ``+`` / ``*`` of two quantized tensors become ``chainrule.ops.quantized.add`` / ``mul``
  (``add_relu`` with a following ReLU) with the output observer's parameters; with a number,
  ``add(x, 2.0)`` (the kernel chooses the parameters); ``chainrule.matmul`` becomes ``matmul``;
- functional hardswish, ELU, leaky ReLU and layer norm become their ``ops.quantized`` forms,
  given ``output_scale=`` and ``output_zero_point=``;
- the operations that keep their input's parameters or have fixed ones run as they are, on
  quantized tensors; any other operation gets float values (``x.dequantize()`` inserted);
- the model's outputs are dequantized; what no longer feeds them (a folded weight) goes.

A new operation is named as PyTorch's lowering names it, which creates it while the node it
replaces is still there: ``add`` becomes ``add_1`` (the next free number); the layers as
functions keep their node's name.

Observers are per-tensor, so is every activation here (per-channel weights are the layers' business).
"""
import functools
import operator

import chainrule
from chainrule.ao.nn.quantized.conv import per_dimension
from chainrule.ao.nn.quantized.weights import quantized_weight
from chainrule.ao.quantization import mappings
from chainrule.ao.quantization.fx import patterns
from chainrule.ao.quantization.fx.prepare import has_no_tensors, is_observer_node
from chainrule.ao.quantization.quantize import swap_module
from chainrule.dtypes import qint8, quint8
from chainrule.quantized.schemes import per_tensor_affine, per_tensor_symmetric
from chainrule.fx import Graph, GraphModule, Node, map_arg
from chainrule.fx.node import map_aggregate
from chainrule.nn import functional as F
from chainrule.ops import quantized as quantized_ops

#: The quantized operation of each binary operation, without and with a ReLU fused.
QUANTIZED_BINARY = {
    operator.add: (quantized_ops.add, quantized_ops.add_relu), chainrule.add: (quantized_ops.add, quantized_ops.add_relu),
    operator.mul: (quantized_ops.mul, quantized_ops.mul_relu), chainrule.mul: (quantized_ops.mul, quantized_ops.mul_relu),
    chainrule.matmul: (quantized_ops.matmul, None),
}
#: Where ``F.conv2d`` and the like keep their geometry (then ``groups`` at 6): (keyword, position, default).
CONVOLUTION_GEOMETRY = (("stride", 3, 1), ("padding", 4, 0), ("dilation", 5, 1))


class Lowering:
    """Builds the converted graph of one prepared model (see the module docstring)."""

    def __init__(self, model):
        self.model, self.graph = model, Graph()
        self.float_values, self.quantized_values = {}, {}
        self.no_tensor_cache = {}
        self.prepared_names = {node.name for node in model.graph.nodes}
        self.parameters_of = {}  # observer node -> names of the buffers of its scale and zero point
        self.quantize_count = 0  # per-tensor observers converted so far (PyTorch numbers its quantize_per_tensor by them)

    # ------------------------------------------------------------------ values
    def as_float(self, value):
        """The new graph's float node for ``value`` (a node of the prepared graph; anything else as it is)."""
        if not isinstance(value, Node):
            return value
        if value not in self.float_values:
            quantized = self.quantized_values[value]
            name = "dequantize_" + value.name.rpartition("_")[2] if is_observer_node(value, self.model) else "dequantize"
            self.float_values[value] = self.graph.create_node("call_method", "dequantize", (quantized,), name=name)
        return self.float_values[value]

    def float_arguments(self, node):
        return map_arg((node.args, node.kwargs), self.as_float)

    def quantized_arguments(self, node, pattern=None):
        """``node``'s arguments as quantized values (float where ``pattern`` leaves them float: a
        layer norm's weight), or None where one of them has none."""
        missing = []
        float_values = set()
        if pattern is not None:
            float_values = {value for position, value in enumerate(node.args) if pattern.argument_role(position, None) == "float"}
            float_values |= {value for key, value in node.kwargs.items() if pattern.argument_role(None, key) == "float"}

        def quantized(value):
            if value in float_values:
                return self.as_float(value)
            if value not in self.quantized_values and has_no_tensors(value, self.no_tensor_cache):
                return self.float_values[value]  # (a size or shape: no tensor to quantize)
            if value not in self.quantized_values:
                missing.append(value)
            return self.quantized_values.get(value)

        arguments = map_arg((node.args, node.kwargs), quantized)
        return None if missing else arguments

    def observer_parameters(self, observer_node):
        """Names of the buffers holding the scale and zero point ``observer_node``'s observer chose
        (per-channel weights: one per channel), registered on first ask as ``{scope}_scale_{i}``
        and ``{scope}_zero_point_{i}`` (see the module docstring)."""
        if observer_node not in self.parameters_of:
            scale, zero_point = self.model.get_submodule(observer_node.target).calculate_qparams()
            if scale.numel() == 1:
                scale, zero_point = chainrule.tensor(float(scale)), chainrule.tensor(int(zero_point))
            names = []
            for key, value in (("_scale_", scale), ("_zero_point_", zero_point)):
                prefix = (self.observer_scope(observer_node) + key).replace(".", "_")
                index = 0
                while hasattr(self.model, f"{prefix}{index}"):
                    index += 1
                self.model.register_buffer(f"{prefix}{index}", value)
                names.append(f"{prefix}{index}")
            self.parameters_of[observer_node] = names
        return self.parameters_of[observer_node]

    def parameter_nodes(self, observer_node):
        """get_attr nodes of the scale and zero point of ``observer_node`` (see ``observer_parameters``)."""
        return [self.graph.get_attr(name) for name in self.observer_parameters(observer_node)]

    @staticmethod
    def observer_scope(observer_node):
        """The module an observer's parameters are named after, as PyTorch: where the value is
        made, or, for a value no qconfig quantizes (a model input), where it is used (first in an
        ``F.linear``), then ``_input``."""
        value = observer_node.args[0]
        if value.op != "placeholder" and (value.op == "get_attr" or value.meta.get("qconfig") is not None):
            return value.meta.get("scope", ("", None))[0]
        users = list(observer_node.users)
        user = next((each for each in users if each.op == "call_function" and each.target is F.linear), users[0] if users else value)
        return user.meta.get("scope", ("", None))[0] + "_input"

    def fresh_name(self, base):
        """A name for a new operation, ``base`` or ``base_N``: free in the prepared graph and this one."""
        taken = self.prepared_names | {node.name for node in self.graph.nodes}
        name, number = base, 0
        while name in taken:
            number += 1
            name = f"{base}_{number}"
        return name

    # ------------------------------------------------------------------ nodes
    def lower(self, node):
        match = node.meta.get("quantization")
        if node.op == "output":
            self.graph.output(map_aggregate(node.args[0], self.as_float))
        elif is_observer_node(node, self.model):
            self.lower_observer(node)
        elif match is None and has_no_tensors(node, self.no_tensor_cache):  # x.size(0): of the value as it is
            self.float_values[node] = self.graph.node_copy(node, lambda value: self.quantized_values.get(value) or self.as_float(value))
        elif match is None or not self.lower_quantized(node, match):
            if match is not None and match.root != node.name:  # (a relu whose add waited for it)
                root = self.root_of(node, match)
                self.float_values[root] = self.graph.node_copy(root, self.as_float)
            self.float_values[node] = self.graph.node_copy(node, self.as_float)

    def lower_observer(self, node):
        observer, value = self.model.get_submodule(node.target), node.args[0]
        static = observer.dtype in (quint8, qint8) and not getattr(observer, "is_dynamic", False)
        quantize_name = "quantize_per_tensor"
        if static and not all(has_none_qconfig(each) for each in (*node.args, *node.users)):
            self.observer_parameters(node)  # (numbered where PyTorch converts it, even if it disappears here)
            if observer.qscheme in (per_tensor_affine, per_tensor_symmetric):
                quantize_name += f"_{self.quantize_count}" if self.quantize_count else ""
                self.quantize_count += 1
        if not static or value in self.quantized_values or is_weight_observer(node):
            for values in (self.float_values, self.quantized_values):
                if value in values:
                    values[node] = values[value]
            if any(user.op == "output" or "quantization" not in user.meta and not has_no_tensors(user, self.no_tensor_cache) for user in node.users):
                self.as_float(node)  # (dequantized where the observer was, as PyTorch's lowering leaves it)
            return
        scale, zero_point = self.parameter_nodes(node)
        self.quantized_values[node] = self.graph.create_node(
            "call_function", chainrule.quantize_per_tensor, (self.as_float(value), scale, zero_point, observer.dtype), name=quantize_name
        )

    @staticmethod
    def root_of(node, match):
        return node if node.name == match.root else next(each for each in node.graph.nodes if each.name == match.root)

    def output_observer(self, node):
        return next((user for user in node.users if is_observer_node(user, self.model)), None)

    def lower_quantized(self, node, match):
        """Lower a node of a quantized match; False where it must stay float after all (an input
        was left float) or waits for the rest of its match (``add`` before its ``relu``)."""
        if node.name != match.last:
            return True
        root = self.root_of(node, match)
        activation = match.qconfig.activation()
        kind = match.pattern.kind
        if kind == "layer" and (activation.is_dynamic or activation.dtype not in (quint8, qint8)):
            self.swap(node, match, mappings.DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS if activation.is_dynamic else mappings.DEFAULT_STATIC_QUANT_MODULE_MAPPINGS)
            self.float_values[node] = self.graph.node_copy(node, self.as_float)
            return True
        if kind == "weighted":
            new = self.lower_weighted(node, root)
        else:
            arguments = self.binary_arguments(root) if kind == "binary" else self.quantized_arguments(root, match.pattern)
            new = None if arguments is None else self.lower_with_arguments(node, root, match, *arguments)
        if new is None:
            return False
        self.quantized_values[node] = new
        return True

    def lower_with_arguments(self, node, root, match, args, kwargs):
        """The new node of a quantized match whose arguments are ``args`` and ``kwargs`` (quantized)."""
        kind = match.pattern.kind
        if kind == "layer":
            self.swap(node, match, mappings.DEFAULT_STATIC_QUANT_MODULE_MAPPINGS)
            return self.graph.create_node("call_module", node.target, args, kwargs, name=node.name)
        if kind == "binary":
            return self.lower_binary(node, root, args)
        if kind == "output_qparams":
            operation = getattr(quantized_ops, node.target.__name__)
            kwargs = {key: value for key, value in kwargs.items() if not (key == "inplace" and operation is not quantized_ops.leaky_relu)}
            scale, zero_point = self.parameter_nodes(self.output_observer(node))
            kwargs = {**kwargs, "output_scale": scale, "output_zero_point": zero_point}
            return self.graph.create_node("call_function", operation, args, kwargs, name=self.fresh_name(operation.__name__))
        return self.graph.create_node(node.op, node.target, args, kwargs, name=node.name)

    def lower_weighted(self, node, root):
        """``F.linear`` / ``F.conv2d``... (then ``relu``) as ``ops.quantized.linear(x, packed, scale,
        zero_point)``...; None where its input is float or its weight or bias is not an attribute."""
        weight_observer, bias = argument(root, 1, "weight"), argument(root, 2, "bias")
        if root.args[0] not in self.quantized_values or not is_weight_observer(weight_observer):
            return None
        if weight_observer.args[0].op != "get_attr" or isinstance(bias, Node) and bias.op != "get_attr":
            return None
        weight = attribute(self.model, weight_observer.args[0].target)
        bias = attribute(self.model, bias.target) if isinstance(bias, Node) else bias
        quantized = quantized_weight(weight.float(), self.model.get_submodule(weight_observer.target))
        name = patterns.WEIGHTED_FUNCTIONS[root.target]
        if name == "linear":
            packed = quantized_ops.linear_prepack(quantized, bias)
        else:
            spatial = int(name[-2])
            geometry = [per_dimension(argument(root, position, keyword, default), spatial) for keyword, position, default in CONVOLUTION_GEOMETRY]
            packed = getattr(quantized_ops, f"{name}_prepack")(quantized, bias, *geometry, argument(root, 6, "groups", 1))
        prefix = (root.meta.get("scope", ("", None))[0] + "_packed_weight_").replace(".", "_")
        index = 0
        while hasattr(self.model, f"{prefix}{index}"):
            index += 1
        setattr(self.model, f"{prefix}{index}", packed)
        packed_node = self.graph.get_attr(f"{prefix}{index}")
        scale, zero_point = self.parameter_nodes(self.output_observer(node))
        operation = getattr(quantized_ops, name + ("_relu" if node is not root else ""))
        arguments = (self.quantized_values[root.args[0]], packed_node, scale, zero_point)
        return self.graph.create_node("call_function", operation, arguments, name=root.name)

    def binary_arguments(self, node):
        """The operands of a binary operation: quantized tensors, the tensor first where one is a number."""
        operands = [self.quantized_values.get(arg, arg if not isinstance(arg, Node) else None) for arg in node.args[:2]]
        if None in operands or node.kwargs:
            return None
        if not isinstance(node.args[0], Node):
            operands.reverse()
        return operands, {}

    def lower_binary(self, node, root, operands):
        function = QUANTIZED_BINARY[root.target][node is not root]
        if isinstance(operands[1], Node):
            operands = [*operands, *self.parameter_nodes(self.output_observer(node))]
        return self.graph.create_node("call_function", function, tuple(operands), name=self.fresh_name(function.__name__))

    def swap(self, node, match, mapping):
        """Put the quantized (or dynamic) form of the layer ``node`` calls in its place."""
        module = self.model.get_submodule(node.target)
        module.qconfig = match.qconfig
        observer_node = self.output_observer(node)
        if observer_node is not None:
            module.activation_post_process = self.model.get_submodule(observer_node.target)
        swapped = swap_module(module, mapping)
        for attribute in ("qconfig", "activation_post_process"):
            if attribute in swapped.__dict__ or attribute in swapped._modules:
                delattr(swapped, attribute)
        self.model.add_submodule(node.target, swapped)


def argument(node, position, keyword, default=None):
    """The argument of ``node`` at ``position`` or named ``keyword``, else ``default``."""
    return node.args[position] if len(node.args) > position else node.kwargs.get(keyword, default)


def attribute(model, target):
    """The tensor at the dotted path ``target`` of ``model`` (a get_attr node's)."""
    return functools.reduce(getattr, target.split("."), model)


def has_none_qconfig(node):
    """Whether ``node`` is one no qconfig quantizes (a model input, or a None in the mapping), as PyTorch's convert judges."""
    if not isinstance(node, Node):
        return False
    return node.op in ("placeholder", "output") or "qconfig" in node.meta and node.meta["qconfig"] is None


def is_weight_observer(node):
    """Whether observer ``node`` watches the weight of the ``F.linear`` / ``F.conv2d``... that use it."""
    users = list(node.users)
    return bool(users) and all(
        "quantization" in user.meta and user.meta["quantization"].pattern.kind == "weighted" and argument(user, 1, "weight") is node
        for user in users
    )


def lowered(prepared):
    """The quantized GraphModule of ``prepared`` (a calibrated copy, changed in place)."""
    lowering = Lowering(prepared)
    for node in prepared.graph.nodes:
        lowering.lower(node)
    lowering.graph.eliminate_dead_code()
    return GraphModule(prepared, lowering.graph, "GraphModule")
