"""``opcheck``: tests that an operator's registrations agree with each other (PyTorch's
``torch.library.opcheck``), run on one sample of arguments.

- ``test_schema``: the kernel writes only the arguments the schema marks written, and returns no
  input (the kernel itself refuses outputs that alias inputs);
- ``test_autograd_registration``: when an input requires grad, the operator has an autograd path
  (a custom op, ``register_autograd``, or an ``Autograd``/``CompositeImplicitAutograd`` kernel);
- ``test_faketensor``: the fake implementation gives outputs of the kernel's shapes and dtypes;
- ``test_aot_dispatch_static``/``_dynamic``: PyTorch traces the operator with fake tensors and
  compiles forward and backward; chainrule compiles neither, so these run the fake implementation
  and then forward and backward eagerly, and fail where PyTorch's tracing would (no fake
  implementation, no autograd formula).
"""
from chainrule.autograd import backward as run_backward
from chainrule.library import operators
from chainrule.library.registration import _operator
from chainrule.tensor import Tensor

DEFAULT_TEST_UTILS = ("test_schema", "test_autograd_registration", "test_faketensor", "test_aot_dispatch_dynamic")
ALL_TEST_UTILS = ("test_schema", "test_autograd_registration", "test_faketensor", "test_aot_dispatch_static", "test_aot_dispatch_dynamic")


class OpCheckError(Exception):
    """A test of ``opcheck`` failed."""


def _copied(value, to=None):
    """``value`` with each tensor in it copied (to the ``meta`` device when ``to`` says so), keeping
    ``requires_grad``."""
    if isinstance(value, Tensor):
        copy = value.detach().clone() if to is None else value.detach().to(to)
        return copy.requires_grad_(value.requires_grad) if value.is_floating_point() else copy
    if isinstance(value, (list, tuple)):
        return type(value)(_copied(each, to) for each in value)
    if isinstance(value, dict):
        return {key: _copied(each, to) for key, each in value.items()}
    return value


def _outputs(result):
    return operators.tensors_in(result if isinstance(result, (tuple, list)) else [result])


def _test_schema(op, args, kwargs):
    copies, originals = _copied(args), _copied(args)
    op(*copies, **_copied(kwargs))
    positional = [argument for argument in op._schema.arguments if not argument.kwarg_only]
    for argument, before, after in zip(positional, originals, copies):
        for old, new in zip(operators.tensors_in([before]), operators.tensors_in([after])):
            if not argument.is_write and not old.detach().equal(new.detach()):
                raise RuntimeError(f"Argument {argument.name} is not defined as mutable but was mutated")


def _test_autograd_registration(op, args, kwargs):
    if not any(tensor.requires_grad for tensor in operators.tensors_in([*args, *kwargs.values()])):
        return
    if op.has_autograd_slot or "Autograd" in op.kernels or "CompositeImplicitAutograd" in op.kernels:
        return
    raise AssertionError(
        f"{op.name()}: at least one input tensor requires grad but the operator has no autograd kernel: its backend kernel "
        f"is not differentiable by autograd. Please register one with torch.library.register_autograd (or a kernel to "
        f"CompositeImplicitAutograd)."
    )


def _test_faketensor(op, args, kwargs):
    real = _outputs(op(*_copied(args), **_copied(kwargs)))
    if "CompositeImplicitAutograd" in op.kernels:
        return
    fake = _outputs(operators.backend_kernel(op, "meta")(*_copied(args, "meta"), **_copied(kwargs, "meta")))
    if len(fake) != len(real):
        raise RuntimeError(f"{op.name()}: the fake impl returned {len(fake)} tensors, the kernel {len(real)}")
    for position, (kernel_output, fake_output) in enumerate(zip(real, fake)):
        if kernel_output.shape != fake_output.shape or kernel_output.dtype != fake_output.dtype:
            raise RuntimeError(
                f"{op.name()}: output {position} of the fake impl has shape {tuple(fake_output.shape)} and dtype "
                f"{fake_output.dtype}, the kernel's has shape {tuple(kernel_output.shape)} and dtype {kernel_output.dtype}"
            )


def _test_aot_dispatch(op, args, kwargs):
    _test_faketensor(op, args, kwargs)
    inputs, keyword_inputs = _copied(args), _copied(kwargs)
    outputs = [output for output in _outputs(op(*inputs, **keyword_inputs)) if output.requires_grad]
    if outputs:
        run_backward(outputs, [output.new_ones(output.shape) for output in outputs])


_TESTS = {
    "test_schema": _test_schema,
    "test_autograd_registration": _test_autograd_registration,
    "test_faketensor": _test_faketensor,
    "test_aot_dispatch_static": _test_aot_dispatch,
    "test_aot_dispatch_dynamic": _test_aot_dispatch,
}


def opcheck(op, args, kwargs=None, *, test_utils=DEFAULT_TEST_UTILS, raise_exception=True, atol=None, rtol=None):
    """Run ``test_utils`` on ``op`` (a CustomOpDef, an OpOverload or its name) called with ``args``
    and ``kwargs`` (copies of them: the originals are left as they are). Returns
    ``{test name: "SUCCESS" or the exception}``; with ``raise_exception`` the first failure raises
    OpCheckError instead."""
    if isinstance(test_utils, str):
        test_utils = (test_utils,)
    if not set(test_utils) <= set(ALL_TEST_UTILS):
        raise ValueError(
            f"opcheck(op, ..., test_utils={tuple(test_utils)}), expected test_utils to be subset of {ALL_TEST_UTILS} but it was not"
        )
    target, kwargs = _operator(op), kwargs or {}
    results = {}
    for name in test_utils:
        try:
            _TESTS[name](target, tuple(args), kwargs)
        except Exception as error:
            if raise_exception:
                raise OpCheckError(f"opcheck(op, ...): {name} failed with {error} (scroll up for stack trace)") from error
            results[name] = error
        else:
            results[name] = "SUCCESS"
    return results
