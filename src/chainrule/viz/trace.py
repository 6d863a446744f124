"""The chain rule, step by step: what backward does at each node, with the numbers.

``trace_backward(J)`` runs the real backward pass and watches it (the engine calls an observer after
each node), writing down, for each operation in the order backward visits them:

- the gradient arriving from above, ``dJ/d out`` (summed when the tensor was used more than once),
- for each input, the local derivative ``d out / d input`` (its formula and its value),
- the gradient sent to that input: arriving times local, ``dJ/d input = dJ/d out * d out / d input``.

For ``J = 3 * u``, ``u = a + v``, ``v = b * c`` at a = 5, b = 3, c = 2 it reads::

    step  operation    output  gradient arriving  input  local derivative  gradient sent
       1  MulBackward  J       dJ/dJ = 1          u      dJ/du = 3         dJ/du = 1 × 3 = 3
       2  AddBackward  u       dJ/du = 3          a      du/da = 1         dJ/da = 3 × 1 = 3
    ...

The local derivative's value is the operation's backward applied to a gradient of ones: for an
elementwise operation that is exactly d out / d input, element by element. Where the Jacobian is not
elementwise (a matrix product) the value is left out and the formula says what backward computes.
"""
import math

from chainrule.autograd.engine import call_backward, fit_to_input, run_backward
from chainrule.autograd.function import AccumulateGrad
from chainrule.backend import xp
from chainrule.tensor import Tensor, tensor_from_array
from chainrule.viz.formatting import as_term, collapse_constant, derivative, format_number, summarize_array, text_table, to_plain
from chainrule.viz.graph_model import ComputationGraph

# The local derivative of each operation with respect to each of its inputs, keyed by node class,
# written with the tensors' own names: {0}, {1}, ... are the inputs', {out} the output's, {p} a
# power's exponent. Operations not listed show the derivative line of their docstring.
LOCAL_DERIVATIVES = {
    "AddBackward": ("1", "1"),
    "SubBackward": ("1", "-1"),
    "MulBackward": ("{1}", "{0}"),
    "DivBackward": ("1/{1}", "-{0}/{1}²"),
    "PowBackward": ("{p}·{0}^({p}-1)", "{out}·ln {0}"),
    "NegBackward": ("-1",),
    "ExpBackward": ("e^{0} = {out}",),
    "LogBackward": ("1/{0}",),
    "Log1pBackward": ("1/(1 + {0})",),
    "SqrtBackward": ("1/(2√{0})",),
    "SinBackward": ("cos {0}",),
    "CosBackward": ("-sin {0}",),
    "TanBackward": ("1 + tan²{0}",),
    "AbsBackward": ("sign({0})",),
    "SigmoidBackward": ("{out}·(1 - {out})",),
    "TanhBackward": ("1 - {out}²",),
    "MatmulBackward": ("grad @ {1}ᵀ", "{0}ᵀ @ grad"),
    "LinearBackward": ("grad @ {1}", "gradᵀ @ {0}", "grad summed over examples"),
}


class TraceEdge:
    """One input of a step: its argument position and name, the local derivative (formula text and
    value, ``None`` when it is not elementwise) and the gradient sent to it."""

    def __init__(self, position, input_name, formula, local, grad_sent):
        self.position = position
        self.input_name = input_name
        self.formula = formula
        self.local = local
        self.grad_sent = grad_sent


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

    def __init__(self, graph, steps, grads):
        self.graph = graph
        self.steps = steps
        self._grads = grads  # TensorInfo id -> gradient array

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
            arriving = f"{derivative(output, step.output_name)} = {_sum_text(step.grad_terms)}"
            if step.is_leaf:
                lines.append((str(step.number), step.operation, step.output_name, arriving, "", "", f"→ {step.output_name}.grad"))
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
    (``dict(model.named_parameters())``) or intermediates (``{"u": u, "v": v}``). This is the real
    backward pass, watched node by node: the leaves' ``.grad`` are filled as by ``output.backward()``,
    so call it instead of backward, not after.
    """
    graph = ComputationGraph(output, params)
    if output.array.size != 1:
        raise RuntimeError(
            f"trace_backward: the output must be a single number (a loss) but has shape "
            f"{tuple(output.shape)}; reduce it first, e.g. output.sum()"
        )
    recorder = _Recorder(graph)
    seed = tensor_from_array(xp.ones(output.array.shape, dtype=output.array.dtype))
    run_backward((output,), (seed,), retain_graph=retain_graph, observer=recorder.observe)
    return BackwardTrace(graph, recorder.steps, recorder.grads)


def local_derivative_text(output_name, edge):
    """``dv/db = c = 2``: the local derivative's formula, then its value when it differs."""
    text = f"{derivative(output_name, edge.input_name)} = {edge.formula}"
    if edge.local is not None:
        value = summarize_array(collapse_constant(edge.local))
        if value != edge.formula:
            text += f" = {value}"
    return text


def gradient_sent_text(output_name, grad_output, edge):
    """``dJ/db = 3 × 2 = 6``: arriving times local (when elementwise), then the gradient sent."""
    if edge.grad_sent is None:
        return "(none)"
    text = f"{derivative(output_name, edge.input_name)} = "
    if edge.local is not None:
        text += f"{summarize_array(collapse_constant(grad_output))} × {summarize_array(collapse_constant(edge.local))} = "
    return text + summarize_array(edge.grad_sent)


class _Recorder:
    """The engine's observer: called after each node's backward, it writes down one TraceStep."""

    def __init__(self, graph):
        self.graph = graph
        self.steps = []
        self.grads = {}  # TensorInfo id -> gradient array
        self.arrived = {}  # (node, output_nr) -> the gradients sent to it so far, one per use

    def observe(self, node, grads, input_grads):
        if type(node) is AccumulateGrad:
            info = self.graph.slot(node)
            terms = self.arrived.get((node, 0)) or ([grads[0].array] if grads[0] is not None else [])
            self.steps.append(TraceStep(len(self.steps) + 1, "AccumulateGrad", info.name, terms, node=node))
            self.grads[info.id] = self.steps[-1].grad_output
            return
        operation = self.graph.operation(node)
        grad_outputs = [
            grad.array if grad is not None else xp.zeros(shape, dtype=dtype)
            for grad, (shape, dtype) in zip(grads, node.output_meta)
        ]
        for info, grad in zip(operation.outputs, grad_outputs):
            if info is not None:
                self.grads[info.id] = grad
        local_grads = _local_grads(node)
        names = [info.name if info is not None else "?" for info in operation.inputs]
        used_outputs = [info for info in operation.outputs if info is not None]
        output_name = ", ".join(info.name for info in used_outputs)
        formulas = _formulas(node, names, output_name)
        edges = []
        for position, ((next_node, output_nr), grad, meta) in enumerate(zip(node.next_functions, input_grads, node.input_meta)):
            if next_node is None:
                continue
            sent = None
            if grad is not None:
                sent = fit_to_input(grad, meta, node).array
                self.arrived.setdefault((next_node, output_nr), []).append(sent)
            local = _elementwise_local(local_grads, position, grad_outputs[0], sent, meta, node)
            edges.append(TraceEdge(position, names[position], formulas[position], local, sent))
        first_used = used_outputs[0].output_nr
        terms = self.arrived.get((node, first_used)) or [grad_outputs[first_used]]
        self.steps.append(TraceStep(len(self.steps) + 1, node.name(), output_name, terms, edges, node))


def _values(gradient):
    """A gradient's array: backward formulas may give tensors, arrays or NumPy scalars."""
    return gradient.array if isinstance(gradient, Tensor) else xp.asarray(gradient)


def _local_grads(node):
    """For a one-output node: backward applied to a gradient of ones (the local derivatives, if the
    operation is elementwise), and to an uneven probe gradient, with the probe itself."""
    if len(node.output_meta) != 1:
        return None
    shape, dtype = node.output_meta[0]
    ones = call_backward(node, [tensor_from_array(xp.ones(shape, dtype=dtype))])
    probe = (1 + 0.37 * xp.arange(math.prod(shape))).reshape(shape).astype(dtype)
    return ones, probe, call_backward(node, [tensor_from_array(probe)])


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
    for arriving, expected in ((_values(grad_output), sent), (probe, fit_to_input(probe_grads[position], meta, node).array)):
        try:
            product = fit_to_input(tensor_from_array(arriving * local), meta, node).array
        except (ValueError, RuntimeError):
            return None
        scale = max(1.0, float(xp.abs(expected).max())) if expected.size else 1.0
        if product.shape != expected.shape or not xp.allclose(product, expected, rtol=1e-4, atol=1e-6 * scale):
            return None
    return local


def _formulas(node, names, output_name):
    """The local derivative's formula for each input, from LOCAL_DERIVATIVES or the docstring."""
    fallback = _docstring_formula(node.function)
    templates = LOCAL_DERIVATIVES.get(node.name(), ())
    exponent = getattr(node, "exponent", None)
    exponent_text = names[1] if isinstance(exponent, Tensor) else format_number(exponent) if exponent is not None else "p"
    formulas = []
    for position in range(len(names)):
        try:
            formulas.append(templates[position].format(*map(as_term, names), out=as_term(output_name), p=exponent_text))
        except IndexError:
            formulas.append(fallback)
    return formulas


def _docstring_formula(function):
    """The derivatives stated in an operation's docstring: its first line that has one
    (``out = x**2;   d out / d x = 2 x`` gives ``d out / d x = 2 x``)."""
    for line in (function.__doc__ or "").splitlines():
        for part in line.split(";"):
            if "/ d" in part:
                return part.strip(" ,")
    return f"see {function.__name__}.backward"


def _sum_arrays(arrays):
    total = None
    for array in arrays:
        total = array if total is None else total + array
    return total


def _sum_text(terms):
    """``3`` or, for a tensor used in several places, ``2 + 4 = 6``."""
    if not terms:
        return "(none)"
    total = summarize_array(_sum_arrays(terms))
    if len(terms) == 1:
        return total
    return " + ".join(summarize_array(term) for term in terms) + f" = {total}"
