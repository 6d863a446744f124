"""Observer insertion, as PyTorch's ``prepare_fx`` places them.

Each node gets the dtype it wants for its inputs and gives its output: a quantized node (one of
``patterns.py`` with a qconfig that the pattern supports) wants ``qconfig.activation``'s dtype
in and gives it out; any other node float; ``x.size(0)`` and the like no tensor at all. Then,
node by node in order:

- an input whose producer gives float where the node wants quint8 gets an observer (one per
  value and observer type, shared among the nodes that read it); a dynamic qconfig gets its
  placeholder observer on the first input only; the weight of ``F.linear`` / ``F.conv2d``... gets
  the qconfig's weight observer, its bias none;
- a quantized output gets an observer of its own (``activation_post_process_N``), which the
  nodes after it read;
- an operation that keeps its input's scale (``"shares_input"``: pools, reshapes, ``cat``...)
  has its output observer made the very same module as its input's, found by walking back to
  the nearest observer; ``cat`` makes the observers of all its inputs that one too. Calibration
  then feeds that one observer every value that must share its parameters.

A pattern of two nodes (``add`` then ``relu``, ``F.linear`` then ``relu``) takes its input observers at the first node and
its output observer after the last. Each quantized node keeps what convert needs in
``node.meta["quantization"]``.
"""
import dataclasses

from chainrule.ao.quantization.fake_quantize import FakeQuantizeBase, FixedQParamsFakeQuantize
from chainrule.ao.quantization.fx.patterns import is_relu, pattern_of
from chainrule.ao.quantization.observer import FixedQParamsObserver, ObserverBase, ReuseInputObserver
from chainrule.dtypes import float16, float32, qint8, qint32, quint8
from chainrule.fx import Node

#: The dtypes an observer is inserted for (a float tensor needs none).
OBSERVED_DTYPES = (quint8, qint8, qint32, float16)


@dataclasses.dataclass
class NodeQuantization:
    """What convert needs of a quantized node: its pattern, qconfig, and the names of the first
    (``root``) and last node of the match it belongs to (the same node but for ``add``-``relu``)."""

    pattern: object
    qconfig: object
    root: str
    last: str


def is_observer_node(node, model):
    """Whether ``node`` calls an observer or fake quantizer of ``model``."""
    return isinstance(node, Node) and node.op == "call_module" and isinstance(
        model.get_submodule(node.target), (ObserverBase, FakeQuantizeBase)
    )


def has_no_tensors(node, cache):
    """Whether the value of ``node`` is no tensor (``x.size(0)``, ``x.shape``, arithmetic on those), as PyTorch judges."""
    if not isinstance(node, Node):
        return True
    if node not in cache:
        if node.op in ("placeholder", "call_module", "get_attr"):
            cache[node] = False
        elif node.op == "call_method" and node.target == "size" or node.op == "call_function" and node.target is getattr and node.args[1] in ("ndim", "shape"):
            cache[node] = True
        else:
            arguments = [item for arg in node.args for item in (arg if isinstance(arg, (list, tuple)) else [arg])]
            cache[node] = all(isinstance(arg, int) or isinstance(arg, Node) and has_no_tensors(arg, cache) for arg in arguments)
    return cache[node]


def matches(graph_module, qconfigs):
    """``{node: NodeQuantization}`` for the nodes whose pattern and qconfig quantize them, a ReLU
    after an addition, a product or a functional layer (whose only user it is) joining that
    operation's match."""
    modules = dict(graph_module.named_modules(remove_duplicate=False))
    found = {}
    for node in graph_module.graph.nodes:
        pattern = pattern_of(node, modules)
        if pattern is None or qconfigs.get(node) is None or node in found:  # (a relu joined to its add)
            continue
        found[node] = NodeQuantization(pattern, qconfigs[node], node.name, node.name)
        if pattern.fuses_relu and len(node.users) == 1:
            (user,) = node.users
            if is_relu(user, modules) and user.args[:1] == (node,):
                found[user] = found[node] = NodeQuantization(pattern, qconfigs[node], node.name, user.name)
    return {node: match for node, match in found.items() if is_supported(match)}


def tensor_arguments(node):
    """How many of a binary operation's two operands are graph values (not numbers)."""
    return sum(isinstance(arg, Node) for arg in node.args[:2])


def is_supported(match):
    """Whether the qconfig asks for a dtype the pattern supports (a fixed-range operation also
    needs the FixedQParamsObserver of its range)."""
    activation = match.qconfig.activation()
    output_dtype = float32 if activation.is_dynamic else activation.dtype
    if (activation.dtype, output_dtype, bool(activation.is_dynamic)) not in match.pattern.dtype_configs:
        return False
    if match.pattern.fixed_qparams is None:
        return True
    fixed = activation.activation_post_process if isinstance(activation, FixedQParamsFakeQuantize) else activation
    return isinstance(fixed, FixedQParamsObserver) and (float(fixed.scale[0]), int(fixed.zero_point[0])) == match.pattern.fixed_qparams


class ObserverInserter:
    """Inserts the observers of one prepared model (see the module docstring)."""

    def __init__(self, model, node_matches):
        self.model, self.graph, self.matches = model, model.graph, node_matches
        self.no_tensor_cache = {}

    def output_dtype(self, node):
        """``(dtype, is_dynamic)`` of the value ``node`` gives (an observer: that of the value it observes)."""
        if is_observer_node(node, self.model):
            node = node.args[0]
        if has_no_tensors(node, self.no_tensor_cache):
            return None, False
        match = self.matches.get(node)
        if match is None:
            return float32, False
        activation = match.qconfig.activation()
        return activation.dtype, bool(activation.is_dynamic)

    def new_observer(self, observer, after):
        """A node calling ``observer`` (registered as ``activation_post_process_N``) on ``after``'s value."""
        index = 0
        while hasattr(self.model, f"activation_post_process_{index}"):
            index += 1
        name = f"activation_post_process_{index}"
        setattr(self.model, name, observer)
        with self.graph.inserting_after(after):
            return self.graph.create_node("call_module", name, (after,), {}, name=name)

    def observed_input(self, node, arg, match, is_first, role="input"):
        """``arg`` of ``node``, through an input observer where the node wants another dtype than it
        gets (the weight observer for a ``"weight"`` argument; none for a ``"float"`` one)."""
        if isinstance(arg, (list, tuple)):
            return type(arg)(self.observed_input(node, item, match, False, role) for item in arg)
        if not isinstance(arg, Node) or role == "float":
            return arg
        observer = match.qconfig.weight() if role == "weight" else match.qconfig.activation()
        given, _ = self.output_dtype(arg)
        if observer.is_dynamic:
            needed = is_first
        elif isinstance(observer, ReuseInputObserver):
            needed = False
        else:
            needed = observer.dtype in OBSERVED_DTYPES and given in (*OBSERVED_DTYPES, float32) and given != observer.dtype
        if not needed:
            return arg
        for user in arg.users:
            if user.op == "call_module":
                existing = self.model.get_submodule(user.target)
                if type(existing) is type(observer) and existing.dtype == observer.dtype:
                    return user
        return self.new_observer(observer, arg)

    def observe(self, node):
        match = self.matches.get(node)
        if match is None or has_no_tensors(node, self.no_tensor_cache):
            return
        if node.name == match.root:
            role = match.pattern.argument_role
            node.args = tuple(
                self.observed_input(node, arg, match, index == 0, role(index, None)) for index, arg in enumerate(node.args)
            )
            node.kwargs = {key: self.observed_input(node, value, match, False, role(None, key)) for key, value in node.kwargs.items()}
        node.meta["quantization"] = match
        if node.name != match.last:
            return
        observer = match.qconfig.activation()
        if observer.is_dynamic or observer.dtype not in OBSERVED_DTYPES:
            return
        users = list(node.users)
        observer_node = self.new_observer(observer, node)
        for user in users:
            user.replace_input_with(node, observer_node)
        root = node if node.name == match.root else node.args[0]  # (a relu's add)
        shares = match.pattern.kind == "shares_input" or match.pattern.kind == "binary" and tensor_arguments(root) < 2
        if (shares or isinstance(observer, ReuseInputObserver)) and not self.share_input_observer(node):
            observer_node.replace_all_uses_with(node)
            self.graph.erase_node(observer_node)
            delattr(self.model, observer_node.target)

    def nearest_observer(self, value, first_node_argument):
        """The observer node found walking back from ``value`` (through each node's first
        argument, or its first graph-value argument), or None."""
        while not is_observer_node(value, self.model):
            if not isinstance(value, Node) or value.op == "placeholder":
                return None
            arguments = [arg for arg in value.args if isinstance(arg, Node)] if first_node_argument else list(value.args[:1])
            if not arguments:
                return None
            value = arguments[0]
        return value

    def share_input_observer(self, node):
        """Make the output observer of ``node`` (and, for a list of inputs, their observers) the
        module of its first input's observer; False where there is none to share."""
        first = next((arg for arg in node.args if isinstance(arg, (Node, list, tuple))), None)
        if first is None:
            return False
        inputs = list(first) if isinstance(first, (list, tuple)) else [first]
        source = self.nearest_observer(inputs[0], first_node_argument=True)
        if source is None:
            return False
        shared = self.model.get_submodule(source.target)
        for other in inputs[1:]:
            observer_node = self.nearest_observer(other, first_node_argument=False)
            if observer_node is None:
                return False
            setattr(self.model, observer_node.target, shared)
        for user in node.users:
            setattr(self.model, user.target, shared)
        return True


def insert_observers(model, node_matches):
    """Insert the observers of ``model`` (a fused GraphModule) for ``node_matches``, in place."""
    inserter = ObserverInserter(model, node_matches)
    for node in list(model.graph.nodes):
        if node.op in ("call_module", "call_method", "call_function"):
            inserter.observe(node)
    model.recompile()
    return model
