"""``Library`` and the functions that define operators and register their kernels, fake
implementations and autograd formulas (``torch.library.define``, ``impl``, ``register_kernel``,
``register_fake``, ``register_autograd``)::

    lib = torch.library.Library("mylib", "DEF")
    lib.define("mysin(Tensor x) -> Tensor")
    lib.impl("mysin", lambda x: x.sin(), "CompositeImplicitAutograd")
    torch.ops.mylib.mysin(x)

Each function takes an operator as a ``CustomOpDef`` (what ``custom_op`` made), an ``OpOverload``
or its name ``"ns::op"``.
"""
import warnings

from chainrule.library import operators
from chainrule.library.schema import parse_schema

_RESERVED_NAMESPACES = ("prim",)
#: The registrations an OpOverload holds as attributes (PyTorch's keys for them -> attribute).
_PYTHON_SLOTS = {"Fake": "fake", "FuncTorchBatched": "vmap_rule"}
_defined_namespaces = set()  # those a "DEF" Library holds: PyTorch allows one per namespace
_registered = {}  # (qualname, dispatch key) -> the Library that registered the kernel


class Library:
    """A set of definitions and kernels in namespace ``ns`` (PyTorch's ``torch.library.Library``).
    ``kind`` is ``"DEF"`` (new operators; one such library per namespace), ``"FRAGMENT"`` (more of
    them, anywhere) or ``"IMPL"`` (kernels for operators defined elsewhere); ``dispatch_key`` is the
    key ``impl`` uses when given none. ``_destroy()`` takes everything it registered away again."""

    def __init__(self, ns, kind, dispatch_key=""):
        if kind not in ("IMPL", "DEF", "FRAGMENT"):
            raise ValueError(f"Unsupported kind: {kind}")
        if ns in _RESERVED_NAMESPACES and kind in ("DEF", "FRAGMENT"):
            raise ValueError(f"{ns} is a reserved namespace. Please try creating a library with another name.")
        if kind == "DEF":
            if ns in _defined_namespaces:
                raise RuntimeError(
                    f"Only a single TORCH_LIBRARY can be used to register the namespace {ns}; please put all of your "
                    f"definitions in a single TORCH_LIBRARY block.  If you were trying to specify implementations, consider "
                    f"using TORCH_LIBRARY_IMPL (which can be duplicated).  If you really intended to define operators for a "
                    f"single namespace in a distributed way, you can use TORCH_LIBRARY_FRAGMENT to explicitly indicate this."
                )
            _defined_namespaces.add(ns)
        self.ns, self.kind, self.dispatch_key = ns, kind, dispatch_key
        self._op_defs, self._op_impls = [], []  # OpOverloads defined, (OpOverload, key) registered

    def __repr__(self):
        return f"Library(kind={self.kind}, ns={self.ns}, dispatch_key={self.dispatch_key})>"

    def define(self, schema, alias_analysis="", *, tags=()):
        """Define the operator of ``schema`` (``"sum(Tensor self) -> Tensor"``) in this namespace and
        return its name."""
        if alias_analysis not in ("", "FROM_SCHEMA", "CONSERVATIVE"):
            raise RuntimeError(f"Invalid alias_analysis type {alias_analysis}")
        parsed = parse_schema(schema)
        name = parsed.name + (f".{parsed.overload_name}" if parsed.overload_name else "")
        parsed.name = f"{self.ns}::{parsed.name}"
        self._op_defs.append(operators.define_operator(parsed))
        return name

    def impl(self, op_name, fn, dispatch_key="", *, with_keyset=False, allow_override=False):
        """Register ``fn`` as the kernel of ``op_name`` (a name in this namespace, or an OpOverload)
        for ``dispatch_key`` (this library's when empty; ``CompositeImplicitAutograd`` when that is
        empty too)."""
        if not callable(fn):
            raise TypeError(f"Input function is required to be a callable but found type {type(fn)}")
        if with_keyset:
            raise NotImplementedError(
                "Library.impl(..., with_keyset=True): chainrule has no dispatch key sets to pass; register a kernel that "
                "takes the operator's arguments only"
            )
        if isinstance(op_name, operators.OpOverload):
            op = op_name
        elif isinstance(op_name, str):
            op = operators.lookup_operator(op_name if "::" in op_name else f"{self.ns}::{op_name}")
        else:
            raise RuntimeError(
                f"impl should be passed either a name or an OpOverload object as the first argument, got {type(op_name)}"
            )
        key = operators.dispatch_key(dispatch_key or self.dispatch_key or "CompositeImplicitAutograd")
        earlier = _registered.get((op.name(), key))
        if earlier is not None and earlier is not self and not allow_override:
            raise RuntimeError(
                f"This is not allowed since there's already a kernel registered from python overriding {op._opname}'s "
                f"behavior for {key} dispatch key and {op._namespace} namespace."
            )
        if earlier is self:
            warnings.warn(
                f"Overriding a previously registered kernel for the same operator and the same dispatch key\n"
                f"  operator: {op._schema}\n  dispatch key: {key}",
                UserWarning,
                stacklevel=2,
            )
        op.kernels[key] = fn
        _registered[(op.name(), key)] = self
        self._op_impls.append((op, key))

    def _register_fake(self, op_name, fn):
        self._register_python_slot(op_name, "Fake", fn)

    def _register_vmap(self, op_name, fn):
        self._register_python_slot(op_name, "FuncTorchBatched", fn)

    def _register_python_slot(self, op_name, key, fn):
        """Make ``fn`` the operator's fake implementation (``key`` "Fake") or vmap rule ("FuncTorchBatched")."""
        op = operators.lookup_operator(op_name if "::" in op_name else f"{self.ns}::{op_name}")
        setattr(op, _PYTHON_SLOTS[key], fn)
        self._op_impls.append((op, key))

    def _destroy(self):
        """Take away every kernel and operator this library registered."""
        for op, key in self._op_impls:
            if key in _PYTHON_SLOTS:
                setattr(op, _PYTHON_SLOTS[key], None)
            elif _registered.get((op.name(), key)) is self:
                op.kernels.pop(key, None)
                del _registered[(op.name(), key)]
        for op in self._op_defs:
            operators.undefine_operator(op)
        if self.kind == "DEF":
            _defined_namespaces.discard(self.ns)
        self._op_impls, self._op_defs = [], []


_libraries = []  # the libraries the module-level functions made: kept for as long as the program runs


def _library_for(namespace, lib):
    if lib is not None:
        return lib
    made = Library(namespace, "FRAGMENT")
    _libraries.append(made)
    return made


def define(qualname, schema, *, lib=None, tags=()):
    """Define the operator ``qualname`` (``"mylib::sin"``) with ``schema`` (``"(Tensor x) -> Tensor"``).
    The older form ``define(lib, schema)`` returns a decorator that defines it and registers the
    decorated function as its kernel."""
    if isinstance(qualname, Library):
        library, alias_analysis = qualname, tags or ""

        def register(function):
            library.impl(library.define(schema, alias_analysis), function)
            return function

        return register
    if not isinstance(qualname, str) or "::" not in qualname:
        raise ValueError(f"define(qualname, schema): expected qualname to be 'namespace::name', got {qualname!r}")
    namespace, name = qualname.split("::", 1)
    return _library_for(namespace, lib).define(name + schema, tags=tags)


def _operator(op):
    """The OpOverload of ``op``: an OpOverload, a CustomOpDef or a name."""
    if isinstance(op, operators.OpOverload):
        return op
    opoverload = getattr(op, "_opoverload", None)
    if opoverload is not None:
        return opoverload
    if isinstance(op, operators.OpOverloadPacket):
        return op.default
    if isinstance(op, str):
        return operators.lookup_operator(op)
    raise ValueError(f"register(op): got unexpected type for op: {type(op)}")


def _custom_op_of(op):
    """The CustomOpDef of ``op`` when ``custom_op`` made it, else None."""
    from chainrule.library.custom_op import CustomOpDef, defined_custom_op

    if isinstance(op, CustomOpDef):
        return op
    name = op.name() if isinstance(op, operators.OpOverload) else op
    return defined_custom_op(name) if isinstance(name, str) else None


def _keys_of(types):
    """Device types and dispatch keys (``"cpu"``, ``("cpu", "cuda")``, ``"default"``) as dispatch keys."""
    types = (types,) if isinstance(types, str) else types
    return ["CompositeExplicitAutograd" if kind == "default" else operators.dispatch_key(kind) for kind in types]


def impl(qualname, types, func=None, *, lib=None):
    """Register ``func`` as the kernel of ``qualname`` for ``types``: device types (``"cpu"``,
    ``"cuda"``, ``"default"`` for all of them) or dispatch keys (``"CompositeImplicitAutograd"``).
    Without ``func``, a decorator. The older form ``impl(lib, name, dispatch_key="")`` returns a
    decorator that registers through ``lib``."""
    if isinstance(qualname, Library):
        library, name, key = qualname, types, func or ""

        def register_to(function):
            library.impl(name, function, key)
            return function

        return register_to

    def register(function):
        op = _operator(qualname)
        library = _library_for(op._namespace, lib)
        for key in _keys_of(types):
            library.impl(op, function, key)
        return function

    return register if func is None else register(func)


def register_kernel(op, device_types, func=None, /, *, lib=None):
    """Register ``func`` as ``op``'s kernel for ``device_types`` (None: every device). Without
    ``func``, a decorator."""
    custom = _custom_op_of(op)
    if custom is not None:
        return custom.register_kernel(device_types, func)
    return impl(op, "CompositeExplicitAutograd" if device_types is None else device_types, func, lib=lib)


def register_fake(op, func=None, /, *, lib=None, _stacklevel=1, allow_override=False):
    """Register ``func`` as ``op``'s fake implementation: given tensors that hold no values (on the
    ``meta`` device), it returns outputs of the right shapes and dtypes. Without ``func``, a decorator."""

    def register(function):
        custom = _custom_op_of(op)
        if custom is not None:
            return custom.register_fake(function)
        target = _operator(op)
        _library_for(target._namespace, lib)._register_fake(target.name(), function)
        return function

    return register if func is None else register(func)


def register_vmap(op, func=None, /, *, lib=None):
    """Give ``op`` a vmap rule: under ``torch.func.vmap``, ``func(info, in_dims, *args, **kwargs)``
    computes the batched operator instead of running it once per element, and returns
    ``(output, out_dims)``. ``in_dims`` holds, per argument of ``args``, the dimension its batch is
    at (None: a non-tensor, or a tensor not batched); ``out_dims`` one such entry per output (or one
    for all); ``info.batch_size`` and ``info.randomness`` describe the vmap. Without ``func``, a
    decorator (that, as PyTorch's, returns None). See ``func/custom_functions.py`` for how chainrule
    runs the rule."""
    custom = _custom_op_of(op)
    if custom is not None:
        return custom.register_vmap(func)
    target = _operator(op)
    if any(argument.kwarg_only and argument.is_tensor_like for argument in target._schema.arguments):
        raise NotImplementedError(
            f"register_vmap with kwarg-only Tensor args. In the original definition of the op, please make your tensors "
            f"not kwarg-only. Got: {target._schema}"
        )

    def register(function):
        _library_for(target._namespace, lib)._register_vmap(target.name(), function)

    return register if func is None else register(func)


def impl_abstract(qualname, func=None, *, lib=None, _stacklevel=1):
    """PyTorch's old name of ``register_fake``, with its DeprecationWarning."""
    warnings.warn(
        "`torch.library.impl_abstract` was renamed to `torch.library.register_fake`. Please use that instead; we will "
        "remove `torch.library.impl_abstract` in a future version of PyTorch.",
        DeprecationWarning,
        stacklevel=2,
    )
    return register_fake(qualname, func, lib=lib)


def register_autograd(op, backward, /, *, setup_context=None, lib=None):
    """Make ``op`` differentiable: ``setup_context(ctx, inputs, output)`` runs after its forward
    (``setup_context(ctx, inputs, keyword_only_inputs, output)`` for an operator with keyword-only
    arguments) and saves what ``backward(ctx, *grads)`` needs, which returns one gradient per input,
    as ``autograd.Function``'s."""
    custom = _custom_op_of(op)
    if custom is not None:
        return custom.register_autograd(backward, setup_context=setup_context)
    target = _operator(op)
    if target._schema.is_mutable:
        raise RuntimeError(
            f"Cannot register autograd formula for non-functional operator {target} with schema {target._schema}. "
            f"Please create a functional operator and register an autograd formula for that."
        )
    target.backward, target.setup_context, target.has_autograd_slot = backward, setup_context, True
