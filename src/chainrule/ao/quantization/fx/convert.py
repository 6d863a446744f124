"""Lowering a calibrated model to quantized operations, as PyTorch's ``convert_fx`` (its
reference model and its lowering to native operations, in one pass).

The graph is rebuilt node by node, each value kept as float, quantized, or both (a dequantize):

- an input observer on a float value becomes ``quantize_per_tensor(x, scale, zero_point,
  quint8)``, its parameters buffers of the model named after the module the value is used in
  (``conv_input_scale_0``) or produced in (``relu_scale_0``, ``_scale_0`` at the top level); an
  observer on a value already quantized (a layer's output, a shared observer) disappears;
- a quantized layer is swapped for its quantized form (``mappings``: ``nnq.Conv2d``,
  ``nniq.LinearReLU``... with its output observer's scale), or its dynamic form;
- ``+`` / ``*`` of two quantized tensors become ``chainrule.ops.quantized.add`` / ``mul``
  (``add_relu`` with a following ReLU) with the output observer's parameters; with a number,
  ``add(x, 2.0)`` (the kernel chooses the parameters);
- the operations that keep their input's parameters or have fixed ones run as they are, on
  quantized tensors; any other operation gets float values (``x.dequantize()`` inserted);
- the model's outputs are dequantized.

Observers are per-tensor, so is every activation here (per-channel weights are the layers' business).
"""
import operator

import chainrule
from chainrule.ao.quantization import mappings
from chainrule.ao.quantization.fx.prepare import has_no_tensors, is_observer_node
from chainrule.ao.quantization.quantize import swap_module
from chainrule.dtypes import qint8, quint8
from chainrule.fx import Graph, GraphModule, Node, map_arg
from chainrule.fx.node import map_aggregate
from chainrule.ops import quantized as quantized_ops

ADDITIONS = (operator.add, chainrule.add)
QUANTIZED_BINARY = {("add", False): quantized_ops.add, ("add", True): quantized_ops.add_relu,
                    ("mul", False): quantized_ops.mul, ("mul", True): quantized_ops.mul_relu}


class Lowering:
    """Builds the converted graph of one prepared model (see the module docstring)."""

    def __init__(self, model):
        self.model, self.graph = model, Graph()
        self.float_values, self.quantized_values = {}, {}
        self.no_tensor_cache = {}

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

    def quantized_arguments(self, node):
        """``node``'s arguments as quantized values, or None where one of them has none."""
        missing = []

        def quantized(value):
            if value not in self.quantized_values and has_no_tensors(value, self.no_tensor_cache):
                return self.float_values[value]  # (a size or shape: no tensor to quantize)
            if value not in self.quantized_values:
                missing.append(value)
            return self.quantized_values.get(value)

        arguments = map_arg((node.args, node.kwargs), quantized)
        return None if missing else arguments

    def parameter_nodes(self, scope, observer):
        """get_attr nodes of the scale and zero point ``observer`` chose, kept as buffers named ``{scope}_scale_{i}``."""
        scale, zero_point = observer.calculate_qparams()
        nodes = []
        for key, value in (("_scale_", chainrule.tensor(float(scale))), ("_zero_point_", chainrule.tensor(int(zero_point)))):
            prefix = (scope + key).replace(".", "_")
            index = 0
            while hasattr(self.model, f"{prefix}{index}"):
                index += 1
            self.model.register_buffer(f"{prefix}{index}", value)
            nodes.append(self.graph.get_attr(f"{prefix}{index}"))
        return nodes

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
        if not static or value in self.quantized_values:
            for values in (self.float_values, self.quantized_values):
                if value in values:
                    values[node] = values[value]
            if any(user.op == "output" or "quantization" not in user.meta and not has_no_tensors(user, self.no_tensor_cache) for user in node.users):
                self.as_float(node)  # (dequantized where the observer was, as PyTorch's lowering leaves it)
            return
        produced_by_quantized = "quantization" in value.meta
        scope_node = value if produced_by_quantized else next(iter(node.users), value)
        scope = scope_node.meta.get("scope", ("", None))[0] + ("" if produced_by_quantized else "_input")
        scale, zero_point = self.parameter_nodes(scope, observer)
        self.quantized_values[node] = self.graph.call_function(
            chainrule.quantize_per_tensor, (self.as_float(value), scale, zero_point, observer.dtype)
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
        arguments = self.quantized_arguments(root) if kind != "binary" else self.binary_arguments(root)
        if arguments is None:
            return False
        args, kwargs = arguments
        if kind == "layer":
            self.swap(node, match, mappings.DEFAULT_STATIC_QUANT_MODULE_MAPPINGS)
            new = self.graph.create_node("call_module", node.target, args, kwargs, name=node.name)
        elif kind == "binary":
            new = self.lower_binary(node, root, args)
        else:
            new = self.graph.create_node(node.op, node.target, args, kwargs, name=node.name)
        self.quantized_values[node] = new
        return True

    def binary_arguments(self, node):
        """The operands of a binary operation: quantized tensors, the tensor first where one is a number."""
        operands = [self.quantized_values.get(arg, arg if not isinstance(arg, Node) else None) for arg in node.args[:2]]
        if None in operands or node.kwargs:
            return None
        if not isinstance(node.args[0], Node):
            operands.reverse()
        return operands, {}

    def lower_binary(self, node, root, operands):
        operation = "add" if root.target in ADDITIONS else "mul"
        function = QUANTIZED_BINARY[(operation, node is not root)]
        if isinstance(operands[1], Node):
            scope = node.meta.get("scope", ("", None))[0]
            operands = [*operands, *self.parameter_nodes(scope, self.model.get_submodule(self.output_observer(node).target))]
        return self.graph.call_function(function, tuple(operands))

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


def lowered(prepared):
    """The quantized GraphModule of ``prepared`` (a calibrated copy, changed in place)."""
    lowering = Lowering(prepared)
    for node in prepared.graph.nodes:
        lowering.lower(node)
    return GraphModule(prepared, lowering.graph, "GraphModule")
