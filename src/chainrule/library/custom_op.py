"""``custom_op``: a Python function turned into an operator (PyTorch's ``torch.library.custom_op``).

The function's type hints give the schema; the function becomes the operator's kernel. A NumPy
computation, say, is then an operator that autograd can differentiate once given a formula::

    @torch.library.custom_op("mylib::numpy_sin", mutates_args=())
    def numpy_sin(x: Tensor) -> Tensor:
        return torch.from_numpy(np.sin(x.numpy()))

    numpy_sin.register_autograd(lambda ctx, grad: grad * ctx.x.cos(),
                                setup_context=lambda ctx, inputs, output: setattr(ctx, "x", inputs[0]))

Called with an input that requires grad, a custom operator records a node whose backward is that
formula; without one, backward raises RuntimeError, as in PyTorch.
"""
import contextlib
import inspect

from chainrule.autograd.graph import increment_version
from chainrule.backend import memory_owner
from chainrule.library import operators
from chainrule.library.registration import Library
from chainrule.library.schema import infer_schema, parse_schema
from chainrule.tensor import Tensor

_custom_ops = {}  # qualname -> CustomOpDef
_libraries = {}  # qualname -> the Library holding it: defining the name again replaces it


def defined_custom_op(qualname):
    """The CustomOpDef named ``qualname``, or None."""
    return _custom_ops.get(qualname)


class CustomOpDef:
    """An operator ``custom_op`` made (PyTorch's ``CustomOpDef``): calling it calls the operator;
    its methods register kernels for devices, the fake implementation and the autograd formula."""

    def __init__(self, namespace, name, schema, fn):
        self._namespace, self._name, self._schema = namespace, name, schema
        self._init_fn = fn
        self._backend_fns = {}  # device type (None: every device) -> kernel
        self._disabled_kernel = set()
        self._abstract_fn = None
        self._backward_fn, self._setup_context_fn = None, None
        qualname = self._qualname
        if qualname in _libraries:  # a custom op defined again under its name replaces the old one
            _libraries[qualname]._destroy()
        self._lib = _libraries[qualname] = Library(namespace, "FRAGMENT")
        parsed = parse_schema(name + schema)
        keyword_only_tensors = [argument for argument in parsed.arguments if argument.kwarg_only and argument.is_tensor_like]
        if keyword_only_tensors:
            raise NotImplementedError(
                f"custom_op with kwarg-only Tensor args. Please make your tensors not kwarg-only. Got: {name + schema}"
            )
        self._lib.define(name + schema)
        self._opoverload = operators.lookup_operator(qualname)
        self._opoverload.has_autograd_slot = True
        self._lib._register_fake(name, self._fake_impl)
        _custom_ops[qualname] = self

    @property
    def _qualname(self):
        return f"{self._namespace}::{self._name}"

    def __repr__(self):
        return f"<CustomOpDef({self._qualname})>"

    def __call__(self, *args, **kwargs):
        return self._opoverload(*args, **kwargs)

    def register_kernel(self, device_types, fn=None, /):
        """Register ``fn`` as the kernel for ``device_types`` (``"cpu"``, ``("cpu", "cuda")``; None
        for every device). Without ``fn``, a decorator."""
        schema = self._opoverload._schema
        if device_types is not None and not any(argument.is_tensor_like for argument in schema.arguments):
            if not any(argument.base_type == "Device" for argument in schema.arguments):
                raise ValueError("Functions without tensor inputs are required to have a `device: torch.device` argument")

        def register(function):
            for device_type in [device_types] if device_types is None or isinstance(device_types, str) else list(device_types):
                if device_type not in self._backend_fns:
                    key = "CompositeExplicitAutograd" if device_type is None else device_type
                    self._lib.impl(self._name, self._kernel(device_type), key)
                self._backend_fns[device_type] = function
            return function

        return register if fn is None else register(fn)

    def _kernel(self, device_type):
        """The kernel registered for ``device_type``: it calls the function registered last (the
        original one while the device's kernel is disabled), bumps the versions of the tensors the
        schema says it writes, and refuses outputs that alias inputs (PyTorch's rule)."""
        schema = self._opoverload._schema
        written = [position for position, argument in enumerate(schema.arguments) if argument.is_write]

        def kernel(*args, **kwargs):
            function = self._init_fn if device_type in self._disabled_kernel else self._backend_fns[device_type]
            result = function(*args, **kwargs)
            for position in written:
                value = args[position] if position < len(args) else kwargs[schema.arguments[position].name]
                if value is not None:
                    increment_version(value if isinstance(value, Tensor) else [each for each in value if each is not None])
            if not schema.is_view():
                self._check_no_aliasing(function, args, kwargs, result)
            return result

        return kernel

    def _check_no_aliasing(self, function, args, kwargs, result):
        inputs = operators.tensors_in([*args, *kwargs.values()])
        outputs = operators.tensors_in(result if isinstance(result, (tuple, list)) else [result])
        owners = [memory_owner(tensor._array) for tensor in inputs]
        for position, output in enumerate(outputs):
            owner = memory_owner(output._array)
            if any(owner is other for other in owners) or any(memory_owner(other._array) is owner for other in outputs[:position]):
                raise RuntimeError(
                    f"{self._name} (with implementation in {inspect.getmodule(function)}): The output of this custom operator "
                    f"(1) must not also be an input to this custom operator and (2) may not alias any inputs to this custom "
                    f"operator or other returns. The most common way to trigger this error is if we have y = custom_op(x) and "
                    f"y and x are the same Tensor. Please instead return a clone of the offending output tensor(s) (e.g. "
                    f"return x.clone()) or refactor the custom operator to not return y."
                )

    @contextlib.contextmanager
    def set_kernel_enabled(self, device_type, enabled=True):
        """Within the block, the kernel of ``device_type`` is (``enabled=False``: is not) used; when
        it is not, the function ``custom_op`` decorated runs instead."""
        originally_disabled = device_type in self._disabled_kernel
        if enabled:
            self._disabled_kernel.discard(device_type)
        else:
            self._disabled_kernel.add(device_type)
        try:
            yield
        finally:
            if originally_disabled:
                self._disabled_kernel.add(device_type)
            else:
                self._disabled_kernel.discard(device_type)

    def register_fake(self, fn, /):
        """Register ``fn`` as the fake implementation: the outputs' shapes and dtypes from inputs
        that hold no values (``meta`` tensors)."""
        self._abstract_fn = fn
        return fn

    def _fake_impl(self, *args, **kwargs):
        if self._abstract_fn is not None:
            return self._abstract_fn(*args, **kwargs)
        if not self._opoverload._schema.returns:  # nothing returned: the fake needs no outputs
            return None
        raise RuntimeError(
            f"There was no fake impl registered for {self}. This is necessary for torch.compile/export/fx tracing to "
            f"work. Please use `{self._init_fn.__name__}.register_fake` to add an fake impl."
        )

    def register_autograd(self, backward, /, *, setup_context=None):
        """Register the backward formula (``backward(ctx, *grads)``, one gradient per input) and
        ``setup_context(ctx, inputs, output)``, which saves what it needs; see
        ``torch.library.register_autograd``."""
        schema = self._opoverload._schema
        if schema.is_mutable:
            raise RuntimeError(
                f"Cannot register autograd formula for non-functional operator {self} with schema {schema}. Please create "
                f"a functional operator and register an autograd formula for that."
            )
        self._backward_fn, self._setup_context_fn = backward, setup_context
        self._opoverload.backward, self._opoverload.setup_context = backward, setup_context


    def register_vmap(self, func=None):
        """Register ``func(info, in_dims, *args, **kwargs) -> (output, out_dims)`` as the rule that
        computes this operator under ``vmap``; see ``torch.library.register_vmap``. Without ``func``,
        a decorator (that returns None, as PyTorch's)."""

        def register(function):
            self._lib._register_vmap(self._name, function)

        return register if func is None else register(func)


def custom_op(name, fn=None, /, *, mutates_args, device_types=None, schema=None):
    """Turn ``fn`` into the operator ``name`` (``"mylib::my_linear"``) and return its CustomOpDef.
    ``mutates_args`` names the arguments ``fn`` writes to (``"unknown"``: every tensor);
    ``device_types`` the devices ``fn`` is the kernel of (None: all); ``schema`` replaces the one
    inferred from ``fn``'s type hints. Without ``fn``, a decorator."""

    def make(function):
        schema_text = infer_schema(function, mutates_args=mutates_args) if schema is None else schema
        namespace, separator, op_name = name.partition("::")
        if not separator or "::" in op_name:
            raise ValueError(f"custom_op name must look like 'namespace::name' (e.g. 'mylib::my_linear'), got {name!r}")
        result = CustomOpDef(namespace, op_name, schema_text, function)
        if schema is not None:
            expected = {argument.name for argument in result._opoverload._schema.arguments if argument.is_write}
            if expected != set(mutates_args):
                raise ValueError(
                    f"Attempted to create a custom op with `mutates_args={mutates_args}` and `schema={schema}. The schema "
                    f"suggests that the op mutates {expected}which is different from what was provided to us in "
                    f"`mutates_args`. Please make these consistent."
                )
        result.register_kernel(device_types)(function)
        return result

    return make if fn is None else make(fn)
