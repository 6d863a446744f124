"""What ``torch.jit.trace(module, example_inputs)`` gives: a ``TopLevelTracedModule``, a copy of the
module sharing its parameters and buffers (as a scripted one, ``_script.py``), whose submodules are
``TracedModule``s, printed as PyTorch prints one (``Net(original_name=Net ...)``).

Tracing runs the module on the example inputs, as PyTorch does: an input it cannot take raises
there, and what a run changes happens as often as in PyTorch (a training-mode BatchNorm's running
statistics, the random stream of a dropout): once for the trace, and with ``check_trace`` (the
default) three or four times more for each set of check inputs (``run_as_traced``). Unlike PyTorch's trace, which records the operations
of that one run, the copy runs the module's Python ``forward`` at every call: control flow is not
frozen at the example (a branch on ``self.training`` or on a shape follows the call's).
"""
import warnings

from chainrule.jit._script import ScriptedCopy, copy_as
from chainrule.tensor import Tensor
from chainrule.tracing import TracerWarning, tracing
from chainrule.testing import assert_close
from chainrule.testing.comparison import default_tolerances
from chainrule.utils._pytree import tree_leaves, tree_map_only


class TracedModule(ScriptedCopy):
    """A traced submodule (see the module docstring)."""

    def _get_name(self):
        return self.original_name


class TopLevelTracedModule(TracedModule):
    """The module ``torch.jit.trace`` returns (see the module docstring)."""


def run_as_traced(function, example_inputs, example_kwarg_inputs, check_trace, check_inputs, check_tolerance, is_module):
    """Call ``function`` as PyTorch's trace does: on the example inputs (a tuple of arguments, or one
    argument: a tensor or a dict), or on ``example_kwarg_inputs`` (a dict of keyword arguments),
    once; then with ``check_trace``, for each set of ``check_inputs`` (the example when none), on
    copies of the inputs: again (PyTorch's second trace), as the trace (a module's; a function's
    trace runs no Python), as the Python code, and, when those two outputs agree within
    ``check_tolerance``, as the second trace (a module's); where they differ (a dropout in training
    mode), PyTorch's TracerWarning."""
    if example_kwarg_inputs is not None:
        def call(inputs):
            return function(**inputs)
        example = example_kwarg_inputs
    else:
        def call(inputs):
            return function(*_as_arguments(inputs))
        example = example_inputs
    with tracing():
        call(example)
    if not check_trace:
        return
    for inputs in check_inputs or [example]:
        with tracing():
            call(_cloned(inputs))
        if not is_module:
            call(_cloned(inputs))
            continue
        traced, python = call(_cloned(inputs)), call(_cloned(inputs))
        if _outputs_agree(traced, python, check_tolerance):
            call(_cloned(inputs))


def _as_arguments(inputs):
    """PyTorch's reading of example inputs: a tensor or a dict is the one argument; any other
    iterable holds the arguments (None is PyTorch's TypeError: it is not iterable)."""
    if isinstance(inputs, (Tensor, dict)):
        return (inputs,)
    return tuple(inputs)


def _cloned(inputs):
    """The inputs with each tensor a detached copy (its ``requires_grad`` and gradient kept), as
    PyTorch's checks copy them."""
    return tree_map_only(Tensor, _cloned_tensor, inputs)


def _cloned_tensor(tensor):
    copy = tensor.detach().clone().requires_grad_(tensor.requires_grad)
    if tensor.grad is not None:
        copy.grad = _cloned_tensor(tensor.grad)
    return copy


def _outputs_agree(traced, python, check_tolerance):
    """PyTorch's comparison of the trace's tensors with the Python code's, output by output (in
    float64, relative tolerance ``check_tolerance``, NaNs equal), warning of each that differs."""
    agree = True
    for number, (first, second) in enumerate(zip(_tensors_in(traced), _tensors_in(python)), start=1):
        atol = default_tolerances(first.dtype, second.dtype)[1]
        if not (first.is_complex() or second.is_complex()):
            first, second = first.double(), second.double()
        try:
            assert_close(first, second, rtol=check_tolerance, atol=atol, equal_nan=True)
        except AssertionError as error:
            warnings.warn(
                f"Output nr {number}. of the traced function does not match the corresponding output of the Python function. "
                f"Detailed error:\n{error}",
                TracerWarning, stacklevel=5,
            )
            agree = False
    return agree


def _tensors_in(output):
    """The tensors of an output, in order (a tensor, or a tuple/list/dict holding them)."""
    return [leaf for leaf in tree_leaves(output) if isinstance(leaf, Tensor)]


def trace_module_of(module, example_inputs=None, example_kwarg_inputs=None, check_trace=False, check_inputs=None, check_tolerance=1e-5):
    """``torch.jit.trace(module, ...)``: the module run as traced (when given inputs), then its traced copy."""
    if example_inputs is not None or example_kwarg_inputs is not None:
        run_as_traced(module, example_inputs, example_kwarg_inputs, check_trace, check_inputs, check_tolerance, is_module=True)
    return copy_as(module, TopLevelTracedModule, TracedModule)
