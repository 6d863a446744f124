"""The chain rule, step by step: what backward does at each node, with the numbers.

``trace_backward(J)`` runs the real backward pass and watches it (the engine calls an observer after
each node), writing down, for each operation in the order backward visits them:

- the gradient arriving from above, ``dJ/d out`` (summed when the tensor was used more than once),
- for each input, the local derivative ``d out / d input`` (its formula and its value),
- the gradient sent to that input: arriving times local, ``dJ/d input = dJ/d out * d out / d input``.

For ``J = 3 * u``, ``u = a + v``, ``v = b * c`` at a = 5, b = 3, c = 2 it reads::

    step  operation     output  gradient arriving  input  local derivative  gradient sent
    1     MulBackward0  J       dJ/dJ = 1          u      dJ/du = 3         dJ/du = 1 × 3 = 3
    2     AddBackward0  u       dJ/du = 3          a      du/da = 1         dJ/da = 3 × 1 = 3
    ...
    6     AccumulateGrad a      dJ/da = 3                                   a.grad = 3

The local derivative's formula is the one the operation declares next to its backward (``Mul``'s
``derivatives = ("b", "a")``), written with the tensors' names. A tensor used in several places
receives one part of its gradient from each use: the parts are marked ``part of dJ/da``, and where
they meet the sum is shown, ``a.grad = 1 + 3 + 3 = 7``.

The local derivative's value is the operation's backward applied to a gradient of ones: for an
elementwise operation that is exactly d out / d input, element by element. Where the Jacobian is not
elementwise (a matrix product) the value is left out and the formula says what backward computes.
"""
import math

from chainrule.autograd.engine import call_backward, fit_to_input, run_backward
from chainrule.autograd.function import AccumulateGrad
from chainrule.backend import xp
from chainrule.tensor import Tensor, tensor_from_array
from chainrule.viz.formatting import collapse_constant, derivative, summarize_array, text_table, to_plain
from chainrule.viz.formulas import formulas_of
from chainrule.viz.graph_model import ComputationGraph, caller_tensors


class TraceEdge:
    """One input of a step: its argument position and name, the local derivative (formula text and
    value, ``None`` when it is not elementwise), the gradient sent to it, and how many places use
    that input (``uses`` > 1: what is sent is one part of its gradient)."""

    def __init__(self, position, input_name, formula, local, grad_sent, uses=1):
        self.position = position
        self.input_name = input_name
        self.formula = formula
        self.local = local
        self.grad_sent = grad_sent
        self.uses = uses


class TraceStep:
    """One node visited by backward: an operation, or a leaf receiving its ``.grad``.

    ``grad_terms`` are the gradients that arrived for the output, one from each place it was used;
    ``grad_output`` is their sum. An operation with several outputs lists them all in
    ``output_name`` and its ``grad_output`` is the first used output's. ``node`` is the graph node
    (``None`` for a graph that is a single leaf).
    """

    def __init__(self, number, operation, output_name, grad_terms, edges=(), node=None):
        self.number = number
        self.node = node
        self.operation = operation
        self.output_name = output_name
        self.grad_terms = grad_terms
        self.grad_output = _sum_arrays(grad_terms)
        self.edges = list(edges)

    @property
    def is_leaf(self):
        return self.operation == "AccumulateGrad"


class BackwardTrace:
    """What ``trace_backward`` recorded: ``steps`` in the order backward ran them, the ``graph``
    (a ComputationGraph), and the gradient of every tensor in it (``grad_of``).

    ``str(trace)`` is a text table, ``to_dicts()`` one plain dict per row, ``to_dataframe()`` a
    pandas DataFrame of the same rows.
    """

    def __init__(self, graph, steps, grads, parts):
        self.graph = graph
        self.steps = steps
        self._grads = grads  # TensorInfo id -> gradient array
        self._parts = parts  # TensorInfo id -> the gradients that arrived from each use, summed into it

    def grad_parts(self, info):
        """The gradients that arrived at ``info`` from each place it is used (one for most tensors;
        ``[1, 3, 3]`` for ``a`` in ``J = a * a + a``), whose sum is ``grad_of(info)``."""
        return self._parts.get(info.id, [])

    def grad_text(self, info):
        """``7``, or ``1 + 3 + 3 = 7`` where the gradient is a sum of parts; None when unknown."""
        parts = self.grad_parts(info)
        if parts:
            return sum_text(parts)
        grad = self.grad_of(info)
        return None if grad is None else summarize_array(grad)

    @property
    def output_name(self):
        return self.graph.output_info.name

    def grad_of(self, info):
        """The gradient of the output with respect to the tensor ``info`` (a TensorInfo), or None."""
        return self._grads.get(info.id)

    @property
    def gradients(self):
        """``{leaf name: gradient array}``: the gradient the chain rule delivers to each leaf (what
        backward adds to its ``.grad``, unless a hook registered on the leaf changes it)."""
        return {info.name: self._grads[info.id] for info in self.graph.leaves if info.id in self._grads}

    def to_dicts(self):
        """One dict per row: a row per (operation, input), and one per leaf receiving its gradient."""
        rows = []
        for step in self.steps:
            common = {
                "step": step.number,
                "operation": step.operation,
                "output": step.output_name,
                "grad_output": to_plain(step.grad_output),
                "grad_terms": [to_plain(term) for term in step.grad_terms],
            }
            if step.is_leaf:
                rows.append({**common, "input": None, "local_formula": None, "local": None, "grad_sent": None})
            for edge in step.edges:
                rows.append(
                    {
                        **common,
                        "input": edge.input_name,
                        "local_formula": local_derivative_text(step.output_name, edge),
                        "local": to_plain(edge.local),
                        "grad_sent": to_plain(edge.grad_sent),
                    }
                )
        return rows

    def to_dataframe(self):
        """The rows of ``to_dicts()`` as a pandas DataFrame (needs pandas)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("BackwardTrace.to_dataframe needs pandas: pip install pandas (or use to_dicts())") from None
        return pandas.DataFrame(self.to_dicts())

    def __str__(self):
        output = self.output_name
        header = ("step", "operation", "output", "gradient arriving", "input", "local derivative", "gradient sent")
        lines = []
        for step in self.steps:
            arriving = f"{derivative(output, step.output_name)} = {sum_text(step.grad_terms)}"
            if step.is_leaf:
                lines.append((str(step.number), step.operation, step.output_name, arriving, "", "", f"{step.output_name}.grad = {sum_text(step.grad_terms)}"))
            for index, edge in enumerate(step.edges):
                first = index == 0
                lines.append(
                    (
                        str(step.number) if first else "",
                        step.operation if first else "",
                        step.output_name if first else "",
                        arriving if first else "",
                        edge.input_name,
                        local_derivative_text(step.output_name, edge),
                        gradient_sent_text(output, step.grad_output, edge),
                    )
                )
        return f"backward from {output}: one row per input of each operation\n" + text_table([header, *lines])

    def __repr__(self):
        return f"<BackwardTrace of {self.output_name}: {len(self.steps)} steps>"


def trace_backward(output, params=None, retain_graph=False):
    """Run ``output.backward()`` and record each step of the chain rule (see the module docstring).

    ``output`` must be a single number (a loss). ``params`` names tensors: parameters
    (``dict(model.named_parameters())``) or intermediates (``{"u": u, "v": v}``); tensors not named
    there or by their ``name`` take the names of the caller's variables that hold them (``J``,
    ``u``), and a model held in a variable names its parameters as ``named_parameters()`` does.
    This is the real backward pass, watched node by node: the leaves' ``.grad`` are filled as by
    ``output.backward()``, so call it instead of backward, not after. ``draw_graph(output)`` and
    ``explore(output)`` afterwards show the gradients it recorded.
    """
    graph = ComputationGraph(output, params, caller_tensors())
    if output._array.size != 1:
        raise RuntimeError(
            f"trace_backward: the output must be a single number (a loss) but has shape "
            f"{tuple(output.shape)}; reduce it first, e.g. output.sum()"
        )
    recorder = _Recorder(graph)
    seed = tensor_from_array(xp.ones(output._array.shape, dtype=output._array.dtype))
    run_backward((output,), (seed,), retain_graph=retain_graph, observer=recorder.observe)
    trace = BackwardTrace(graph, recorder.steps, recorder.grads, recorder.parts)
    remember_trace(output, trace)
    return trace


_last_trace = [None]  # the latest trace: kept so that draw_graph(J) after trace_backward(J) finds it


def remember_trace(output, trace):
    """Keep ``trace`` for ``output`` (the traced backward freed its graph), so that
    ``draw_graph(output)`` and ``explore(output)`` right after can show it. Only the latest trace is
    kept, so memory stays bounded in a loop."""
    _last_trace[0] = trace


def trace_of(output):
    """The trace of ``output`` if it is the one ``trace_backward`` recorded last, else None."""
    trace = _last_trace[0]
    return trace if trace is not None and trace.graph.output is output else None


def local_derivative_text(output_name, edge):
    """``dv/db = c = 2``: the local derivative's formula, then its value when it differs."""
    text = f"{derivative(output_name, edge.input_name)} = {edge.formula}"
    if edge.local is not None:
        value = summarize_array(collapse_constant(edge.local))
        if value != edge.formula:
            text += f" = {value}"
    return text


def gradient_sent_text(output_name, grad_output, edge):
    """``dJ/db = 3 × 2 = 6``: arriving times local (when elementwise), then the gradient sent;
    ``part of dJ/da: 1 × 3 = 3`` for an input used in several places."""
    if edge.grad_sent is None:
        return "(none)"
    whole = derivative(output_name, edge.input_name)
    text = f"part of {whole}: " if edge.uses > 1 else f"{whole} = "
    if edge.local is not None:
        text += f"{summarize_array(collapse_constant(grad_output))} × {summarize_array(collapse_constant(edge.local))} = "
    return text + summarize_array(edge.grad_sent)


class _Recorder:
    """The engine's observer: called after each node's backward, it writes down one TraceStep.

    In a plain backward the engine hands it arrays (the gradients arriving and sent), as it hands
    them to each operation's backward.
    """

    def __init__(self, graph):
        self.graph = graph
        self.steps = []
        self.grads = {}  # TensorInfo id -> gradient array
        self.parts = {}  # TensorInfo id -> the gradients summed into it, one per use
        self.arrived = {}  # (node, output_nr) -> the gradients sent to it so far, one per use

    def observe(self, node, grads, input_grads):
        if type(node) is AccumulateGrad:
            info = self.graph.slot(node)
            terms = self.arrived.get((node, 0)) or ([_values(grads[0])] if grads[0] is not None else [])
            self.steps.append(TraceStep(len(self.steps) + 1, "AccumulateGrad", info.name, terms, node=node))
            self.grads[info.id] = self.steps[-1].grad_output
            self.parts[info.id] = terms
            return
        operation = self.graph.operation(node)
        grad_outputs = [
            _values(grad) if grad is not None else xp.zeros(shape, dtype=dtype)
            for grad, (shape, dtype) in zip(grads, node.output_meta)
        ]
        for output_nr, (info, grad) in enumerate(zip(operation.outputs, grad_outputs)):
            if info is not None:
                self.grads[info.id] = grad
                self.parts[info.id] = self.arrived.get((node, output_nr)) or [grad]
        local_grads = _local_grads(node)
        names = [info.name if info is not None else None for info in operation.inputs]
        used_outputs = [info for info in operation.outputs if info is not None]
        output_name = ", ".join(info.name for info in used_outputs)
        formulas = formulas_of(node, names, output_name).derivatives
        edges = []
        for position, ((next_node, output_nr), grad, meta) in enumerate(zip(node.argument_edges, input_grads, node.input_meta)):
            if next_node is None:
                continue
            sent = None
            if grad is not None:
                sent = _values(fit_to_input(grad, *meta, node))
                self.arrived.setdefault((next_node, output_nr), []).append(sent)
            local = _elementwise_local(local_grads, position, grad_outputs[0], sent, meta, node)
            info = operation.inputs[position]
            uses = len(info.consumers) if info is not None else 1
            edges.append(TraceEdge(position, names[position] or "?", formulas[position] or "0", local, sent, uses))
        first_used = used_outputs[0].output_nr
        terms = self.arrived.get((node, first_used)) or [grad_outputs[first_used]]
        self.steps.append(TraceStep(len(self.steps) + 1, node.name(), output_name, terms, edges, node))


def _values(gradient):
    """A gradient's array: the engine carries arrays, a custom Function's backward may give tensors."""
    return gradient._array if isinstance(gradient, Tensor) else xp.asarray(gradient)


def _local_grads(node):
    """For a one-output node: backward applied to a gradient of ones (the local derivatives, if the
    operation is elementwise), and to an uneven probe gradient, with the probe itself.

    Arrays, as the engine hands them in a plain backward (a custom Function gets tensors from
    ``call_backward`` itself)."""
    if len(node.output_meta) != 1:
        return None
    shape, dtype = node.output_meta[0]
    ones = call_backward(node, [xp.ones(shape, dtype=dtype)])
    probe = (1 + 0.37 * xp.arange(math.prod(shape))).reshape(shape).astype(dtype)
    return ones, probe, call_backward(node, [probe])


def _elementwise_local(local_grads, position, grad_output, sent, meta, node):
    """The local derivative's value when the operation acts elementwise on this input, else None.

    Elementwise means the gradient sent is the arriving gradient times the local derivative, for
    the real gradient and for an uneven probe alike: a uniform gradient (after a sum) would make a
    matrix product or a softmax look elementwise.
    """
    if local_grads is None or sent is None:
        return None
    ones, probe, probe_grads = local_grads
    if ones[position] is None or probe_grads[position] is None:
        return None
    local = _values(ones[position])
    for arriving, expected in ((_values(grad_output), sent), (probe, _values(fit_to_input(probe_grads[position], *meta, node)))):
        try:
            product = _values(fit_to_input(arriving * local, *meta, node))
        except (ValueError, RuntimeError):
            return None
        scale = max(1.0, float(xp.abs(expected).max())) if expected.size else 1.0
        if product.shape != expected.shape or not xp.allclose(product, expected, rtol=1e-4, atol=1e-6 * scale):
            return None
    return local


def _sum_arrays(arrays):
    total = None
    for array in arrays:
        total = array if total is None else total + array
    return total


def sum_text(terms):
    """``3`` or, for a tensor used in several places, ``2 + 4 = 6``."""
    if not terms:
        return "(none)"
    total = summarize_array(_sum_arrays(terms))
    if len(terms) == 1:
        return total
    return " + ".join(summarize_array(term) for term in terms) + f" = {total}"
