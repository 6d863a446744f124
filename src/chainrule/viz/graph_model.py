"""The graph behind a result, as the drawing, the trace and the explorer show it.

``backward`` needs only the nodes (the ``grad_fn``s) and their ``next_functions``. A learner wants to
see the tensors between them too, as in the drawings of the course notes: the leaves, each
intermediate result and the constants that went into each operation. ``ComputationGraph(output)``
walks the nodes from ``output`` and puts the tensors back:

- every operation (``MulBackward``, ...) and each of its outputs that something uses,
- every leaf that requires grad (reached through its ``AccumulateGrad`` node),
- every constant input (a tensor that needs no gradient, like the 3 in ``3 * u``) that the
  operation saved for backward.

A node keeps no reference to the tensors it made, so their values are found in three ways, most
exact first: the tensors the caller hands in (the output and ``params``), the tensors the operations
saved for backward (``Mul`` keeps both operands, ``Sigmoid`` its result), and for the rest, running
the operation's ``forward`` again on the values of its inputs.
"""
import inspect

from chainrule.autograd import function as function_module
from chainrule.autograd import grad_mode
from chainrule.autograd.function import AccumulateGrad
from chainrule.nn.module import Module
from chainrule.tensor import Tensor, tensor_from_array
from chainrule.viz.formatting import format_number

LEAF, INTERMEDIATE, CONSTANT = "leaf", "intermediate", "constant"


class TensorInfo:
    """One tensor of the graph: a leaf, an operation's output, or a constant input.

    ``array`` holds its values when they could be found (``None`` otherwise), ``tensor`` the tensor
    object itself when the graph has it, ``producer`` the operation that made it (``None`` for leaves
    and constants) and ``consumers`` the ``(operation, input position)`` pairs that use it.
    """

    def __init__(self, kind, shape, tensor=None, producer=None, output_nr=0):
        self.kind = kind
        self.shape = tuple(shape)
        self.tensor = tensor
        self._array = tensor._array if tensor is not None else None
        self.producer = producer
        self.output_nr = output_nr
        self.consumers = []
        self.name = None
        self.id = None
        self.is_output = False

    @property
    def grad(self):
        """The tensor's ``.grad`` array when it has one (leaves after backward, retained non-leaves)."""
        grad = None if self.tensor is None else self.tensor._grad  # (.grad of a non-leaf warns)
        return None if grad is None else grad._array

    def __repr__(self):
        return f"<TensorInfo {self.name} {self.kind} shape={self.shape}>"


class OperationInfo:
    """One operation of the graph: its node, and the tensors it took (``inputs``, one entry per
    argument of ``forward``, ``None`` for what the graph cannot show) and made (``outputs``)."""

    def __init__(self, node, index):
        self.node = node
        self.index = index
        self.id = f"op{index}"
        self.name = node.name()
        self.inputs = [None] * len(node.argument_edges)
        self.outputs = [None] * len(node.output_meta)

    @property
    def function(self):
        return self.node.function

    def __repr__(self):
        return f"<OperationInfo {self.name}>"


def named_tensors(params):
    """``params`` as ``{name: tensor}``: a dict as it is, ``(name, tensor)`` pairs (what
    ``named_parameters()`` yields) as a dict, bare tensors as ``params[i]`` (or their ``name``)."""
    if params is None or isinstance(params, dict):
        return params or {}
    items = list(params)
    if all(isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str) for item in items):
        return dict(items)
    if not all(isinstance(item, Tensor) for item in items):
        raise TypeError(
            "params must be a dict of name -> tensor, named_parameters(), or a list of tensors; "
            f"got an item of type {next(type(item).__name__ for item in items if not isinstance(item, Tensor))}"
        )
    return {item.name or f"params[{index}]": item for index, item in enumerate(items)}


class ComputationGraph:
    """The operations and tensors that produced ``output``, in forward order (inputs first).

    ``params`` maps names to tensors (``dict(model.named_parameters())``, or any tensor of the
    graph you want labelled); ``model.named_parameters()`` itself, or a list of tensors
    (``model.parameters()``, named ``params[0]``, ... unless they carry a ``name``), work too. Tensors are named from ``params``, then their ``name`` attribute, then
    from ``variables`` (``{name: tensor}``, usually the caller's variables: ``caller_tensors()``),
    then automatically ``t0``, ``t1``, ... in forward order.
    """

    def __init__(self, output, params=None, variables=None):
        if not isinstance(output, Tensor):
            raise TypeError(f"expected the Tensor whose graph to show, got {type(output).__name__}")
        if not output.requires_grad:
            raise RuntimeError(
                "this tensor has no graph: it does not require grad. Create the inputs with "
                "requires_grad=True (and compute outside no_grad()) to record the operations."
            )
        params = named_tensors(params)
        self.output = output
        self.operations = []  # OperationInfo, forward order
        self.tensors = []  # TensorInfo, forward order
        self._slots = {}  # (node, output_nr) -> TensorInfo of an operation's output
        self._leaves = {}  # id(leaf tensor) -> its TensorInfo
        self._operations_by_node = {}
        names = {id(tensor): name for name, tensor in (params or {}).items()}
        variable_names = {}
        for name, tensor in (variables or {}).items():
            variable_names.setdefault(id(tensor), name)

        if output.grad_fn is None:
            self._add_leaf(output).id = "t0"
            self.output_info = self.tensors[0]
        else:
            self._build(output.grad_fn, {id(tensor) for tensor in (params or {}).values()})
            self.output_info = self.slot(output.grad_fn, output.output_nr)
        self.output_info.is_output = True
        self._attach_known_tensors([*(params or {}).values(), *(variables or {}).values()])
        self._replay_missing_values()
        self._name_tensors(names, variable_names)

    # ----------------------------------------------------------------- lookups
    def slot(self, node, output_nr=0):
        """The TensorInfo for output ``output_nr`` of ``node`` (for an AccumulateGrad node: its leaf)."""
        if type(node) is AccumulateGrad:
            return self._leaves.get(id(node.variable))
        return self._slots.get((node, output_nr))

    def operation(self, node):
        """The OperationInfo of ``node``."""
        return self._operations_by_node[node]

    @property
    def leaves(self):
        return [info for info in self.tensors if info.kind == LEAF]

    # ----------------------------------------------------------------- building
    def _build(self, root, declared):
        for node in forward_order(root):
            if type(node) is AccumulateGrad:
                self._add_leaf(node.variable)
                continue
            operation = OperationInfo(node, len(self.operations))
            for position, (next_node, output_nr) in enumerate(node.argument_edges):
                if next_node is not None:
                    self._connect(self.slot(next_node, output_nr), operation, position)
            for position, constant in _saved_constants(node, declared):
                info = TensorInfo(CONSTANT, constant._array.shape, tensor=constant)
                self._add_tensor(info)
                self._connect(info, operation, position)
            self.operations.append(operation)
            self._operations_by_node[node] = operation
            for output_nr, (shape, _dtype) in enumerate(node.output_meta):
                info = TensorInfo(INTERMEDIATE, shape, producer=operation, output_nr=output_nr)
                operation.outputs[output_nr] = info
                self._slots[(node, output_nr)] = info
        # Show only the outputs that something uses (or the result itself): a max() whose indices
        # are ignored draws one tensor, not two.
        used = {id(info) for operation in self.operations for info in operation.inputs if info is not None}
        root_slot = self._slots[(root, self.output.output_nr)]
        for operation in self.operations:
            for output_nr, info in enumerate(operation.outputs):
                if id(info) in used or info is root_slot:
                    self._add_tensor(info)
                else:
                    operation.outputs[output_nr] = None
        self.tensors.sort(key=self._forward_position)
        for position, info in enumerate(self.tensors):
            info.id = f"t{position}"

    @staticmethod
    def _forward_position(info):
        """Sort key: leaves first (in walk order), a constant just before its first use, an
        operation's outputs right after it."""
        if info.kind == LEAF:
            return (-1, 0)
        if info.producer is not None:
            return (info.producer.index * 2 + 1, info.output_nr)
        return (min(operation.index for operation, _ in info.consumers) * 2, 0)

    def _add_tensor(self, info):
        self.tensors.append(info)

    def _add_leaf(self, tensor):
        info = self._leaves[id(tensor)] = TensorInfo(LEAF, tensor._array.shape, tensor=tensor)
        self._add_tensor(info)
        return info

    def _connect(self, info, operation, position):
        operation.inputs[position] = info
        info.consumers.append((operation, position))

    def _attach_known_tensors(self, known):
        """Tensors handed in, and tensors saved by operations, give exact values (and names)."""
        candidates = [self.output, *known]
        for operation in self.operations:
            candidates.extend(saved for saved in _saved_tensors(operation.node) if saved is not None)
        for tensor in candidates:
            if not isinstance(tensor, Tensor) or tensor.grad_fn is None:
                continue
            info = self._slots.get((tensor.grad_fn, tensor.output_nr))
            if info is not None and info.tensor is None:
                info.tensor = tensor
                info._array = tensor._array

    def _replay_missing_values(self):
        """Run ``forward`` again for operations whose outputs' values are unknown but inputs' known."""
        for operation in self.operations:
            if all(info is None or info._array is not None for info in operation.outputs):
                continue
            if any(info is None or info._array is None for info in operation.inputs):
                continue
            scratch_ctx = type(operation.node)()
            scratch_ctx.needs_input_grad = operation.node.needs_input_grad
            arguments = [info._array if operation.function.on_arrays else tensor_from_array(info._array) for info in operation.inputs]
            with grad_mode.no_grad():
                results = operation.function.forward(scratch_ctx, *arguments)
            if type(results) is not tuple:
                results = (results,)
            for info, result in zip(operation.outputs, results):
                if info is not None and info._array is None:
                    info._array = result._array if isinstance(result, Tensor) else result

    def _name_tensors(self, names, variable_names):
        named_on_node = {
            id(info): node._output_names[output_nr]
            for (node, output_nr), info in self._slots.items()
            if node._output_names and output_nr in node._output_names
        }
        automatic = 0
        for info in self.tensors:
            tensor = info.tensor
            if tensor is not None and id(tensor) in names:
                info.name = names[id(tensor)]
            elif tensor is not None and tensor.name:
                info.name = tensor.name
            elif id(info) in named_on_node:
                info.name = named_on_node[id(info)]
            elif tensor is not None and id(tensor) in variable_names:
                info.name = variable_names[id(tensor)]
            elif info.kind == CONSTANT and info._array is not None and info._array.size == 1:
                info.name = format_number(info._array.reshape(()).item())
            else:
                info.name = f"t{automatic}"
                automatic += 1


def caller_tensors():
    """``{name: tensor}`` from the variables of the code that called into ``chainrule.viz`` (the
    first frame outside it): its tensors by their variable names, and the parameters of each model
    it holds by their ``named_parameters()`` names. This is how ``trace_backward(J)`` names ``J``,
    ``u`` and ``v`` without being told."""
    frame = inspect.currentframe()
    try:
        while frame is not None and frame.f_globals.get("__name__", "").startswith("chainrule.viz"):
            frame = frame.f_back
        if frame is None:
            return {}
        found = {}
        for name, value in list(frame.f_locals.items()):
            if name.startswith("_"):
                continue
            if isinstance(value, Tensor):
                found.setdefault(name, value)
            elif isinstance(value, Module):
                for parameter_name, parameter in value.named_parameters():
                    found.setdefault(parameter_name, parameter)
        return found
    finally:
        del frame  # a frame held in a local would keep every variable of the caller alive


def forward_order(root):
    """The nodes reachable from ``root``, each after every node it takes inputs from.

    An iterative depth-first walk (no recursion, so deep graphs are fine), visiting inputs in
    argument order: for ``3 * (a + b * c)`` the order is a, b, c, b*c, a + b*c, the product.
    """
    order = []
    visited = {root}
    stack = [(root, iter(_input_nodes(root)))]
    while stack:
        node, remaining_inputs = stack[-1]
        for next_node in remaining_inputs:
            if next_node not in visited:
                visited.add(next_node)
                stack.append((next_node, iter(_input_nodes(next_node))))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def _input_nodes(node):
    return [next_node for next_node, _ in node.argument_edges if next_node is not None]


def _saved_tensors(node):
    """What ``node`` saved for backward, or nothing once the graph was freed or changed in place."""
    try:
        with function_module.backward_running():  # (a built-in node answers only then, as PyTorch's answer none)
            return node.saved_tensors
    except RuntimeError:
        return ()


def _saved_constants(node, declared):
    """``(position, tensor)`` for each constant input of ``node`` that it saved.

    Operations save what backward needs, not necessarily their inputs, so the saved tensors are read
    as inputs only when they all are: each one that requires grad is found by its gradient edge
    (``Mul`` saves ``(b, a)``, PyTorch's order), and the constants fill the argument positions that
    need no gradient, in order. A constant is taken when the operation saved one tensor per argument
    (for ``3 * u``, ``Mul`` saves the 3) or when the caller named it (``declared``: ids of the
    tensors in ``params``; ``Linear`` saves ``(x, weight)`` of its three).
    """
    saved = _saved_tensors(node)
    next_functions = node.argument_edges
    if len(saved) > len(next_functions):
        return []
    found = []
    for tensor in saved:
        if tensor is None:  # backward did not need it (Mul keeps only the operand the other's gradient uses)
            continue
        if not isinstance(tensor, Tensor):
            return []
        if any(next_node is not None and _is_input(tensor, next_node, output_nr) for next_node, output_nr in next_functions):
            continue
        if tensor.grad_fn is not None or tensor.requires_grad:  # not an input: a result, an intermediate
            return []
        found.append(tensor)
    free_positions = [position for position, (next_node, _) in enumerate(next_functions) if next_node is None]
    return [
        (position, tensor)
        for position, tensor in zip(free_positions, found)
        if len(saved) == len(next_functions) or id(tensor) in declared
    ]


def _is_input(tensor, node, output_nr):
    if type(node) is AccumulateGrad:
        return tensor is node.variable
    return tensor.grad_fn is node and tensor.output_nr == output_nr

