"""The operators ``torch.library`` defines, and how a call to one runs (PyTorch's dispatcher, in small).

Each operator is an ``OpOverload``: a schema and the kernels registered for it, one per dispatch key
(``CPU``, ``CUDA``, ``Meta``, ``CompositeExplicitAutograd`` for every device,
``CompositeImplicitAutograd`` for a kernel that is differentiated through, ``Autograd`` for one that
handles gradients itself). ``torch.ops.<namespace>.<name>`` reaches its ``OpOverloadPacket`` and
``.default`` the overload. A call is bound to the schema (with PyTorch's errors for a wrong
argument), then runs as PyTorch's dispatcher would run it:

0. under ``vmap`` (innermost among the running ``torch.func`` transforms), an operator given a vmap
   rule (``register_vmap``, PyTorch's ``FuncTorchBatched`` kernel) runs through it;
1. an ``Autograd`` kernel while grad mode is on, or a ``CompositeImplicitAutograd`` kernel: called as
   it is, the graph records the operations inside;
2. an operator with an autograd formula slot (every ``custom_op``, or one given ``register_autograd``):
   when an input requires grad, an ``autograd.Function`` whose forward runs the backend kernel and
   whose backward is the registered formula (without one, backward raises, as in PyTorch);
3. otherwise the backend kernel of the inputs' device (``CPU``..., else ``CompositeExplicitAutograd``;
   on ``meta`` tensors the fake implementation). An operator defined with ``Library`` that has no
   autograd registration runs it with the graph recording, and warns when backward goes through it,
   as PyTorch's autograd fallback does.
"""
import ast
import warnings

from chainrule import dtypes
from chainrule.autograd import Function, grad_mode, no_grad
from chainrule.device import device
from chainrule.func import custom_functions
from chainrule.tensor import Tensor

#: The dispatch key of each device type's kernels (``torch._C._dispatch_key_for_device``).
DEVICE_KEYS = {"cpu": "CPU", "cuda": "CUDA", "meta": "Meta", "mps": "MPS", "xpu": "XPU", "hpu": "HPU", "xla": "XLA"}
#: The keys a kernel can be registered to, besides the devices' (PyTorch accepts many more).
COMPOSITE_KEYS = ("CompositeImplicitAutograd", "CompositeExplicitAutograd", "Autograd")


def fallthrough_kernel():
    """A kernel that stands for "skip this key" (PyTorch's ``torch.library.fallthrough_kernel``):
    registered to ``Autograd`` it declares the operator not differentiable, so its backend kernel
    runs without the graph recording and without a warning. It is never called itself."""
    raise NotImplementedError("fallthrough_kernel() should never be called.")


def dispatch_key(key):
    """``key`` as a dispatch key: ``"cpu"`` is ``"CPU"``, ``"AutogradCPU"`` is ``"Autograd"``; a key
    PyTorch has but chainrule does not run raises ValueError."""
    if key in DEVICE_KEYS:
        return DEVICE_KEYS[key]
    if key in DEVICE_KEYS.values() or key in COMPOSITE_KEYS:
        return key
    if key.startswith("Autograd") and key[len("Autograd") :] in DEVICE_KEYS.values():
        return "Autograd"
    raise ValueError(
        f"Unknown dispatch key or device type {key!r}: chainrule runs the keys {sorted(DEVICE_KEYS.values())} and "
        f"{list(COMPOSITE_KEYS)}, or a device type such as 'cpu'"
    )


class OpOverload:
    """One overload of an operator (PyTorch's ``torch._ops.OpOverload``): ``_schema``, the kernels
    registered for it by dispatch key, its fake implementation, and its autograd formula."""

    def __init__(self, schema):
        self._schema = schema
        self._namespace, self._opname = schema.name.split("::")
        self._overloadname = schema.overload_name or "default"
        self.kernels = {}  # dispatch key -> kernel
        self.fake = None  # the fake (meta) implementation: output shapes and dtypes, no values
        self.backward, self.setup_context = None, None
        self.vmap_rule = None  # register_vmap's rule(info, in_dims, *args, **kwargs) -> (output, out_dims)
        self.has_autograd_slot = False  # autograd through a generated Function (custom ops, register_autograd)
        self._autograd_function = None

    def name(self):
        """``ns::op``, or ``ns::op.overload``, as PyTorch's ``OpOverload.name()``."""
        return self._schema.name + (f".{self._schema.overload_name}" if self._schema.overload_name else "")

    def __repr__(self):
        return f"{self._namespace}.{self._opname}.{self._overloadname}"

    __str__ = __repr__

    def __call__(self, *args, **kwargs):
        return call(self, args, kwargs)


class OpOverloadPacket:
    """All overloads of one operator name (PyTorch's ``torch._ops.OpOverloadPacket``): each is an
    attribute (``.default``); calling the packet calls the default overload."""

    def __init__(self, namespace, name):
        self._namespace, self._name, self._overloads = namespace, name, {}

    @property
    def _qualified_op_name(self):
        return f"{self._namespace}::{self._name}"

    def overloads(self):
        return list(self._overloads)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self.__dict__["_overloads"][name]
        except KeyError:
            raise AttributeError(f"The underlying op of '{self._namespace}.{self._name}' has no overload name '{name}'") from None

    def __repr__(self):
        return f"{self._namespace}.{self._name}"

    def __call__(self, *args, **kwargs):
        overload = self._overloads.get("default") or next(iter(self._overloads.values()))
        return overload(*args, **kwargs)


class OpNamespace:
    """``torch.ops.<namespace>``: its operators' packets as attributes."""

    def __init__(self, name):
        self.name, self.packets = name, {}

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self.__dict__["packets"][name]
        except KeyError:
            raise AttributeError(f"'_OpNamespace' '{self.name}' object has no attribute '{name}'") from None

    def __repr__(self):
        return f"torch.ops.{self.name}"


_namespaces = {}


def namespace(name):
    """The ``OpNamespace`` of ``name`` (made empty on first use, as ``torch.ops.<name>`` is)."""
    if name not in _namespaces:
        _namespaces[name] = OpNamespace(name)
        _attach_to_torch_ops(name, _namespaces[name])
    return _namespaces[name]


def _attach_to_torch_ops(name, op_namespace):
    """Make ``chainrule.ops.<name>`` the namespace, so that ``torch.ops.<name>.<op>`` reads as in
    PyTorch. ``chainrule.ops`` is also the package of chainrule's own operations: a namespace named
    as one of its modules is left off (reach it as ``chainrule.library.ops.<name>``)."""
    import importlib.util

    import chainrule.ops

    if hasattr(chainrule.ops, name) or importlib.util.find_spec(f"chainrule.ops.{name}") is not None:
        return
    setattr(chainrule.ops, name, op_namespace)


class _Ops:
    """``chainrule.library.ops``: every namespace ``torch.library`` defined, as ``torch.ops`` has them."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return namespace(name)


ops = _Ops()


def define_operator(schema):
    """Add the operator of ``schema`` (named ``ns::op[.overload]``) to its namespace; RuntimeError
    if that overload is defined already."""
    namespace_name, _, op_name = schema.name.partition("::")
    packet = namespace(namespace_name).packets.setdefault(op_name, OpOverloadPacket(namespace_name, op_name))
    overload_name = schema.overload_name or "default"
    if overload_name in packet._overloads:
        raise RuntimeError(
            f"Tried to register an operator ({schema}) with the same name and overload name multiple times. Each "
            f"overload's schema should only be registered with a single call to def()."
        )
    packet._overloads[overload_name] = op = OpOverload(schema)
    return op


def undefine_operator(op):
    """Remove ``op`` (its library was destroyed); its namespace stays."""
    packet = _namespaces[op._namespace].packets[op._opname]
    del packet._overloads[op._overloadname]
    if not packet._overloads:
        del _namespaces[op._namespace].packets[op._opname]


def lookup_operator(qualname):
    """The ``OpOverload`` named ``"ns::op"`` or ``"ns::op.overload"``; AttributeError (PyTorch's
    words) when there is none."""
    namespace_name, _, name = qualname.partition("::")
    op_name, _, overload_name = name.partition(".")
    return getattr(getattr(namespace(namespace_name), op_name), overload_name or "default")


def _default_value(argument):
    """The Python value of ``argument``'s default as its schema writes it."""
    text = argument.default
    if argument.base_type == "ScalarType" and hasattr(dtypes, text):
        return getattr(dtypes, text)
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return device(value) if argument.base_type == "Device" and isinstance(value, str) else value


def _type_name(argument):
    name = {"SymInt": "int", "Scalar": "number"}.get(argument.base_type, argument.base_type)
    if argument.is_list:
        name = f"List[{name}]"
    return f"Optional[{name}]" if argument.is_optional else name


def _one_matches(base_type, value):
    if base_type == "Tensor":
        return isinstance(value, Tensor)
    if base_type == "SymInt" or base_type == "int":
        return isinstance(value, int)
    if base_type == "float":
        return isinstance(value, (int, float))
    if base_type == "bool":
        return isinstance(value, bool)
    if base_type == "str":
        return isinstance(value, str)
    if base_type == "Scalar":
        return isinstance(value, (int, float, complex))
    if base_type == "ScalarType":
        return isinstance(value, dtypes.dtype)
    if base_type == "Device":
        return isinstance(value, (device, str, int))
    return True


def _matches(argument, value):
    if value is None:
        return argument.is_optional
    if not argument.is_list:
        return _one_matches(argument.base_type, value)
    element_optional = argument.type.split("[")[0].endswith("?")
    return isinstance(value, (list, tuple)) and all(
        (element is None and element_optional) or _one_matches(argument.base_type, element) for element in value
    )


def bind(op, args, kwargs):
    """``args`` and ``kwargs`` of a call to ``op`` as its kernels take them: the arguments before
    ``*`` positionally, the keyword-only ones by name, defaults filled in; RuntimeError (PyTorch's
    words) for too many, unknown, missing or mistyped arguments."""
    schema, name = op._schema, op._schema.name
    positional_arguments = [argument for argument in schema.arguments if not argument.kwarg_only]
    if len(args) > len(positional_arguments):
        raise RuntimeError(
            f"{name}() takes {len(positional_arguments)} positional argument(s) but {len(args)} was/were given.  Declaration: {schema}"
        )
    given = dict(zip([argument.name for argument in positional_arguments], args))
    names = {argument.name for argument in schema.arguments}
    for key, value in kwargs.items():
        if key not in names:
            raise RuntimeError(f"Unknown keyword argument '{key}' for operator '{name}'. Schema: {schema}")
        if key in given:
            raise RuntimeError(f"{name}() got multiple values for argument '{key}'. Declaration: {schema}")
        given[key] = value
    positional, keyword_only = [], {}
    for position, argument in enumerate(schema.arguments):
        if argument.name in given:
            value = given[argument.name]
            if not _matches(argument, value):
                raise RuntimeError(
                    f"{name}() Expected a value of type '{_type_name(argument)}' for argument '{argument.name}' but instead "
                    f"found type '{type(value).__name__}'.\nPosition: {position}\nValue: {value}\nDeclaration: {schema}\n"
                    f"Cast error details: Unable to cast {value} to {_type_name(argument)}"
                )
            if argument.base_type == "SymInt" and type(value) is bool:  # a bool where an int goes: 0 or 1, as PyTorch casts it
                value = int(value)
        elif argument.default is not None:
            value = _default_value(argument)
        else:
            raise RuntimeError(f"{name}() is missing value for argument '{argument.name}'. Declaration: {schema}")
        if argument.kwarg_only:
            keyword_only[argument.name] = value
        else:
            positional.append(value)
    return positional, keyword_only


def as_given(op, positional, keyword_only):
    """The bound arguments as PyTorch passes them to a Python kernel (and a vmap rule): the
    positional ones less those at the end that hold their defaults, the keyword-only ones that
    do not hold theirs."""
    schema_arguments = [argument for argument in op._schema.arguments if not argument.kwarg_only]
    end = len(positional)
    while end and _holds_default(schema_arguments[end - 1], positional[end - 1]):
        end -= 1
    arguments = {argument.name: argument for argument in op._schema.arguments}
    return tuple(positional[:end]), {name: value for name, value in keyword_only.items() if not _holds_default(arguments[name], value)}


def _holds_default(argument, value):
    if argument.default is None or tensors_in([value]):
        return False
    return value == _default_value(argument)


def tensors_in(values):
    """The tensors among ``values``, and inside the lists among them."""
    found = []
    for value in values:
        if isinstance(value, Tensor):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(each for each in value if isinstance(each, Tensor))
    return found


def device_type_of(op, positional, keyword_only):
    """The device type whose kernel runs: the first tensor argument's, else a ``Device`` argument's,
    else ``"cpu"``."""
    values = [*positional, *keyword_only.values()]
    tensors = tensors_in(values)
    if tensors:
        return tensors[0].device.type
    for argument, value in zip(op._schema.arguments, values):
        if argument.base_type == "Device" and value is not None:
            return device(value).type
    return "cpu"


def backend_kernel(op, device_type):
    """The kernel that computes ``op`` on ``device_type``'s tensors: the device's own, else the
    ``CompositeExplicitAutograd`` one; on ``meta`` tensors the fake implementation comes first.
    NotImplementedError (PyTorch's words) when there is none."""
    key = DEVICE_KEYS.get(device_type, device_type.upper())
    if key == "Meta" and "Meta" not in op.kernels and op.fake is not None:
        return op.fake
    for candidate in (key, "CompositeExplicitAutograd"):
        if candidate in op.kernels:
            return op.kernels[candidate]
    available = sorted(op.kernels) + (["Meta"] if op.fake is not None and "Meta" not in op.kernels else [])
    raise NotImplementedError(
        f"Could not run '{op.name()}' with arguments from the '{key}' backend. This could be because the operator "
        f"doesn't exist for this backend. '{op.name()}' is only available for these backends: [{', '.join(available)}]. "
        f"Register a kernel for '{device_type}' (torch.library.register_kernel) or one for every device (device_types=None)."
    )


def call(op, args, kwargs):
    """Run ``op`` on ``args`` and ``kwargs`` as PyTorch's dispatcher does (see the module's docstring)."""
    positional, keyword_only = bind(op, args, kwargs)
    if op.vmap_rule is not None and custom_functions.vmap_is_innermost():
        given, given_keywords = as_given(op, positional, keyword_only)
        return custom_functions.through_vmap_rule(op.vmap_rule, given, given_keywords, lambda: op(*given, **given_keywords))
    grad_enabled = grad_mode.is_grad_enabled()
    autograd_kernel = op.kernels.get("Autograd")
    if autograd_kernel is not None and autograd_kernel is not fallthrough_kernel and grad_enabled:
        return autograd_kernel(*positional, **keyword_only)
    if "CompositeImplicitAutograd" in op.kernels:
        return op.kernels["CompositeImplicitAutograd"](*positional, **keyword_only)
    kernel = backend_kernel(op, device_type_of(op, positional, keyword_only))
    requires_grad = grad_enabled and any(tensor.requires_grad for tensor in tensors_in([*positional, *keyword_only.values()]))
    if op.has_autograd_slot:
        if not op._schema.is_mutable:
            # through its Function also when nothing is recorded: one call, whose inside chainrule.compile
            # does not record (PyTorch's compile does not trace into a custom operator either)
            return autograd_function(op).apply_with_lists(kernel, positional, keyword_only, requires_grad)
        with no_grad():
            return kernel(*positional, **keyword_only)
    if autograd_kernel is fallthrough_kernel or not requires_grad:
        with no_grad():
            return kernel(*positional, **keyword_only)
    result = kernel(*positional, **keyword_only)
    _warn_at_backward(op, result)
    return result


def _warn_at_backward(op, result):
    """PyTorch's autograd fallback: gradients flow through what the kernel recorded, with a warning."""
    message = (
        f"{op.name()}: an autograd kernel was not registered to the Autograd key(s) but we are trying to backprop "
        f"through it. This may lead to silently incorrect behavior. This behavior is deprecated and will be removed in a "
        f"future version of PyTorch. If your operator is differentiable, please ensure you have registered an autograd "
        f"kernel to the correct Autograd key (e.g. DispatchKey::Autograd, DispatchKey::CompositeImplicitAutograd). If "
        f"your operator is not differentiable, or to squash this warning and use the previous behavior, please register "
        f"torch::CppFunction::makeFallthrough() to DispatchKey::Autograd."
    )

    def warn(grad_outputs):
        warnings.warn(message, UserWarning, stacklevel=2)

    for output in tensors_in(result if isinstance(result, (tuple, list)) else [result]):
        if output.grad_fn is not None:
            output.grad_fn.register_prehook(warn)


class ListLayout:
    """Where the tensor lists are among an operator's positional arguments (or outputs): a Function
    takes and returns tensors one by one, so lists are spread out and gathered again. ``tensor_lists``
    says, per value, whether it is one (a ``Tensor[]`` of the schema); without it every list is: an
    ``int[]`` argument (a crop's box) stays one argument."""

    def __init__(self, values, tensor_lists=None):
        self.lengths = [
            len(value) if isinstance(value, list) and (tensor_lists is None or tensor_lists[position]) else None
            for position, value in enumerate(values)
        ]

    def flat(self, values):
        spread = []
        for value, length in zip(values, self.lengths):
            spread.extend(value) if length is not None else spread.append(value)
        return spread

    def gathered(self, flat):
        values, position = [], 0
        for length in self.lengths:
            if length is None:
                values.append(flat[position])
                position += 1
            else:
                values.append(list(flat[position : position + length]))
                position += length
        return tuple(values)


class Call:
    """What the generated Function's forward needs besides the tensors: the kernel, the keyword-only
    arguments, how lists were spread out (inputs) and are to be gathered (outputs), and whether
    autograd records the call (only then does ``setup_context`` run, as in PyTorch)."""

    def __init__(self, kernel, keyword_only, inputs, recorded):
        self.kernel, self.keyword_only, self.inputs, self.recorded = kernel, keyword_only, inputs, recorded
        self.outputs, self.output_is_tuple = None, False


def autograd_function(op):
    """The ``autograd.Function`` of ``op`` (PyTorch's ``GeneratedBackwardFor_<ns>_<op>_<overload>``):
    forward runs the backend kernel and ``setup_context``, backward the registered formula."""
    if op._autograd_function is not None:
        return op._autograd_function
    keyword_only_arguments = any(argument.kwarg_only for argument in op._schema.arguments)

    def forward(ctx, *flat):
        call_ = flat[-1]
        inputs = call_.inputs.gathered(flat[:-1])
        result = call_.kernel(*inputs, **call_.keyword_only)
        if op.setup_context is not None and call_.recorded:
            if keyword_only_arguments:
                op.setup_context(ctx=ctx, inputs=inputs, keyword_only_inputs=call_.keyword_only, output=result)
            else:
                op.setup_context(ctx=ctx, inputs=inputs, output=result)
        ctx._call = call_
        call_.output_is_tuple = isinstance(result, tuple)
        outputs = result if call_.output_is_tuple else (result,)
        call_.outputs = ListLayout(outputs)
        spread = call_.outputs.flat(outputs)
        return spread[0] if call_.outputs.lengths == [None] and not call_.output_is_tuple else tuple(spread)

    def backward(ctx, *grads):
        if op.backward is None:
            raise RuntimeError(
                f"Trying to backward through {op} but no autograd formula was registered. Please use register_autograd to add one."
            )
        call_ = ctx._call
        needs_input_grad = ctx.needs_input_grad
        ctx.needs_input_grad = call_.inputs.gathered(needs_input_grad[:-1])
        try:
            gathered = call_.outputs.gathered(grads)
            result = op.backward(ctx, *gathered)
        finally:
            ctx.needs_input_grad = needs_input_grad
        result = result if isinstance(result, tuple) else (result,)
        return (*call_.inputs.flat(result), None)

    name = f"GeneratedBackwardFor_{op._namespace}_{op._opname}_{op._overloadname}"
    # batched_by_fallback: under vmap, an operator runs once per element (func/custom_functions.py)
    members = {"forward": staticmethod(forward), "backward": staticmethod(backward), "batched_by_fallback": True}
    generated = type(name, (Function,), members)

    def apply_with_lists(kernel, positional, keyword_only, recorded):
        tensor_lists = [argument.is_list and argument.is_tensor_like for argument in op._schema.arguments[: len(positional)]]
        call_ = Call(kernel, keyword_only, ListLayout(positional, tensor_lists), recorded)
        result = generated.apply(*call_.inputs.flat(positional), call_)
        spread = result if isinstance(result, tuple) else (result,)
        gathered = call_.outputs.gathered(spread)
        return gathered if call_.output_is_tuple else gathered[0]

    generated.apply_with_lists = staticmethod(apply_with_lists)
    op._autograd_function = generated
    return generated
