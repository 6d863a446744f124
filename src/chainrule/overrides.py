"""The ``__torch_function__`` protocol, as PyTorch's ``torch.overrides``: an object whose class
defines ``__torch_function__`` decides what chainrule's functions and Tensor methods do with it.

    class ScalarTensor:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            ...                               # func: chainrule.mean, Tensor.add, F.linear...

    chainrule.mean(ScalarTensor(5, 2))        # -> ScalarTensor.__torch_function__(chainrule.mean, ...)

A call of a public function (``chainrule.NAME``, ``nn.functional``, ``linalg``, ``fft``, ``special``)
or a Tensor method, operator or property with such an argument calls the argument's
``__torch_function__(func, types, args, kwargs)`` instead, subclasses before their parents, the
first answer other than ``NotImplemented`` being the result; ``TypeError`` when all decline.

A Tensor subclass has it too: ``Tensor.__torch_function__`` (installed here) runs the operation and
gives its tensors the subclass, so that ``SubTensor(...) + 1`` is a ``SubTensor`` (an
``AliasBackward0`` node links it in the graph, as in PyTorch). A class that sets ``__torch_function__
= disabled_torch_function_impl`` (``Parameter``) opts out: its operations give plain tensors.

A ``TorchFunctionMode`` entered with ``with`` sees every call in its scope first, plain tensors' too.

Where the cost goes: a plain tensor pays nothing until the first Tensor subclass with a
``__torch_function__`` of its own is defined or a mode entered (``_armed``); from then on, the
Tensor methods look at their arguments' types on each call, as PyTorch's do (about 0.2 µs a call).
Until then the functions look only when a call fails: an object that is no tensor makes the
operation fail before it computes anything (and arms the methods, for the calls after).
"""
import collections
import contextlib
import functools
import inspect
import re
import sys
import threading
import types
import warnings

from chainrule.autograd import backward_pass, engine
from chainrule.backend import ndarray
from chainrule.tensor import Tensor


def disabled_torch_function_impl(func, types, args=(), kwargs=None):
    """The ``__torch_function__`` of classes that opt out (``torch._C._disabled_torch_function_impl``):
    their instances take part in operations as plain tensors."""
    with DisableTorchFunctionSubclass():
        return func(*args, **(kwargs or {}))


class _Switch(threading.local):
    """Whether ``__torch_function__`` is consulted, in this thread: "enabled", "subclasses disabled"
    (inside ``Tensor.__torch_function__``, which runs the operation itself: the modes still are) or
    "disabled"; and the stack of ``TorchFunctionMode``s entered, innermost last."""

    state = "enabled"
    modes = ()


_switch = _Switch()

#: Whether a Tensor subclass with a ``__torch_function__`` of its own was ever defined, or a mode
#: entered: from then on, every Tensor method is one that looks at its arguments (``_arm``).
_armed = False
#: How many modes are entered, in all threads (a fast test before this thread's stack is read).
_modes_entered = 0


class _Switching:
    """A context in which ``__torch_function__`` is in the given state, restored after."""

    _state = None

    def __enter__(self):
        self._previous = _switch.state
        _switch.state = self._state
        return self

    def __exit__(self, *exception):
        _switch.state = self._previous
        return False


class DisableTorchFunctionSubclass(_Switching):
    """Inside, operations of Tensor subclasses run as on plain tensors (``Tensor.__torch_function__``
    runs the operation itself in one), as ``torch._C.DisableTorchFunctionSubclass``."""

    _state = "subclasses disabled"


class DisableTorchFunction(_Switching):
    """Inside, no ``__torch_function__`` is consulted at all, as ``torch._C.DisableTorchFunction``."""

    _state = "disabled"


def _is_torch_function_enabled():
    """Whether ``__torch_function__`` is consulted here (``torch._C._is_torch_function_enabled``)."""
    return _switch.state == "enabled"


# ----------------------------------------------------------------------------- finding the overrides
#: Types never consulted: plain tensors and Python's own values (a fast answer for the common case).
_PLAIN = {Tensor, ndarray, int, float, bool, complex, str, bytes, type(None), type(Ellipsis), slice, type}


def _overrides(kind):
    """Whether instances of ``kind`` are consulted: it defines a ``__torch_function__`` other than
    Tensor's own (which only keeps subclasses) and the opt-out."""
    method = getattr(kind, "__torch_function__", None)
    if method is None or kind is Tensor:
        return False
    return getattr(method, "__func__", method) is not disabled_torch_function_impl


def _overloaded_arguments(args, kwargs=None):
    """The arguments to consult, one per type, subclasses before their parents, otherwise in the
    order given (NEP 18's order, PyTorch's); lists and tuples are looked into, one level deep (the
    tensors of ``cat``). None where the call is no one's to answer; an empty list where only a
    mode is (no argument is, or subclasses are switched off)."""
    found = None
    for arg in (args if not kwargs else (*args, *kwargs.values())):
        kind = type(arg)
        if kind in _PLAIN:
            continue
        if kind is list or kind is tuple:
            for element in arg:
                if type(element) not in _PLAIN and _overrides(type(element)):
                    found = _add_overloaded(found, element)
        elif _overrides(kind):
            found = _add_overloaded(found, arg)
    if found is not None and _switch.state == "enabled":
        return found
    if _modes_entered and _switch.modes and _switch.state != "disabled":
        return []
    return None


def _python_overloaded(relevant):
    """The arguments among ``relevant`` to consult as PyTorch's Python functions find them
    (``handle_torch_function``): as ``_overloaded_arguments``, plain tensors included (their
    ``Tensor.__torch_function__`` runs the call), none where ``__torch_function__`` is switched off."""
    if _switch.state != "enabled":
        return []
    found = None
    for arg in relevant:
        kind = type(arg)
        if kind is Tensor or (kind not in _PLAIN and _overrides(kind)):
            found = _add_overloaded(found, arg)
    return found or []


def _add_overloaded(found, arg):
    if found is None:
        return [arg]
    kind = type(arg)
    if any(type(each) is kind for each in found):
        return found
    position = next((index for index, each in enumerate(found) if issubclass(kind, type(each))), len(found))
    found.insert(position, arg)
    return found


def _call_overrides(public_api, overloaded, args, kwargs, name=None):
    """Ask each overloaded argument's ``__torch_function__`` in turn; the first answer wins. Where
    all decline: PyTorch's TypeError for a function of its C++ core, which names it as ``name``
    (``chainrule.Tensor.add``), or without ``name``, its TypeError for a Python function."""
    kinds = tuple(map(type, overloaded))
    mode = _switch.modes[-1] if _modes_entered and _switch.modes and _switch.state != "disabled" else None
    if mode is not None:
        if isinstance(inspect.getattr_static(type(mode), "__torch_function__"), classmethod):
            raise RuntimeError("Defining your mode's `__torch_function__` as a classmethod is not supported, please make it a plain method")
        _switch.modes = _switch.modes[:-1]  # inside, the API reaches the modes below it
        try:
            result = mode.__torch_function__(public_api, kinds, args, kwargs)
        finally:
            _switch.modes = (*_switch.modes, mode)
        if result is not NotImplemented:
            return result
    for arg in overloaded:
        method = arg.__torch_function__
        if getattr(method, "__self__", None) is arg:
            warnings.warn(
                f"Defining your `__torch_function__{'`' if name else ''} as a plain method is deprecated and will be an "
                "error in future, please define it as a classmethod.",
                UserWarning if name else DeprecationWarning,
                stacklevel=3,
            )
        result = method(public_api, kinds, args, kwargs)
        if result is not NotImplemented:
            return result
    if name is None:
        name = f"{getattr(public_api, '__module__', None)}.{getattr(public_api, '__name__', public_api)}"
        in_mode = f" nor in mode {mode}" if mode is not None else ""
        raise TypeError(f"no implementation found for '{name}' on types that implement __torch_function__: {list(kinds)}{in_mode}")
    listed = (f"  - mode object {mode!r}\n" if mode is not None else "") + "".join(f"  - tensor subclass {kind!r}\n" for kind in kinds)
    raise TypeError(
        f"Multiple dispatch failed for '{name}'; all __torch_function__ handlers returned NotImplemented:\n\n{listed}\n"
        "For more information, try re-running with TORCH_LOGS=not_implemented"
    )


# ----------------------------------------------------------------------------- the public API
def has_torch_function(relevant_args):
    """Whether any of ``relevant_args`` is to be consulted (exact tensors and parameters are not),
    or a mode is entered."""
    return _overloaded_arguments(tuple(relevant_args)) is not None


def has_torch_function_unary(arg):
    """``has_torch_function((arg,))``."""
    return _overloaded_arguments((arg,)) is not None


def has_torch_function_variadic(*args):
    """``has_torch_function(args)``."""
    return _overloaded_arguments(args) is not None


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    """Call ``public_api(*args, **kwargs)``'s overrides: the innermost mode's and the
    ``__torch_function__`` of the overloaded ones among ``relevant_args`` (guard the call with
    ``has_torch_function``)."""
    return _call_overrides(public_api, _python_overloaded(relevant_args), args, kwargs)


def is_tensor_like(inp):
    """Whether ``inp`` is a tensor or behaves as one (its class defines ``__torch_function__``)."""
    return type(inp) is Tensor or hasattr(inp, "__torch_function__")


def is_tensor_method_or_property(func):
    """Whether ``func`` is a Tensor method or property getter (``Tensor.add``, ``Tensor.grad.__get__``):
    those take the tensor first."""
    return func in _tensor_methods_and_getters() or getattr(func, "__name__", None) == "__get__"


def _tensor_methods_and_getters():
    return {attribute for attribute in vars(Tensor).values() if callable(attribute)}


@functools.cache
def get_default_nowrap_functions():
    """The functions whose results ``Tensor.__torch_function__`` gives as they are, not of the
    subclass: the accessors of tensors stored on the tensor (``a.grad is a.grad`` holds)."""
    return {Tensor.grad.__get__, Tensor._base.__get__, Tensor._grad.__get__}


def wrap_torch_function(dispatcher):
    """A decorator making a function of the user's overridable: ``dispatcher(*args, **kwargs)``
    names the arguments to look at."""

    def decorator(function):
        @functools.wraps(function)
        def wrapped(*args, **kwargs):
            relevant = tuple(dispatcher(*args, **kwargs))
            if _overloaded_arguments(relevant) is not None:
                return _call_overrides(wrapped, _python_overloaded(relevant), args, kwargs)
            return function(*args, **kwargs)

        return wrapped

    return decorator


# ----------------------------------------------------------------------------- modes
class TorchFunctionMode:
    """Inside ``with MyMode():``, every call of a public function or Tensor method is handed to
    ``MyMode.__torch_function__(func, types, args, kwargs)`` first, plain tensors' too (PyTorch's
    ``TorchFunctionMode``). Modes nest; inside one's ``__torch_function__``, calls reach the modes
    entered before it (``func(*args, **kwargs)`` runs the operation when there is none)."""

    def __init__(self):
        pass

    def __torch_function__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError

    def __enter__(self):
        _push_mode(self)
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        _pop_mode()

    @classmethod
    def push(cls, *args, **kwargs):
        """``cls(*args, **kwargs)`` (PyTorch's older spelling, with its warning)."""
        warnings.warn("`Mode.push()` is no longer necessary and can be replaced with just `with Mode()`", stacklevel=2)
        return cls(*args, **kwargs)


class BaseTorchFunctionMode(TorchFunctionMode):
    """A mode that runs each call as it is (a base for modes that act around the call)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


def _push_mode(mode):
    global _modes_entered
    _arm()
    _switch.modes = (*_switch.modes, mode)
    _modes_entered += 1


def _pop_mode():
    global _modes_entered
    if not _switch.modes:
        raise RuntimeError("trying to pop from empty mode stack (pop only a mode pushed in this thread)")
    mode = _switch.modes[-1]
    _switch.modes = _switch.modes[:-1]
    _modes_entered -= 1
    return mode


@contextlib.contextmanager
def _pop_mode_temporarily():
    """Take the innermost mode off for the block (it is what ``with`` gives), then put it back: the
    calls inside reach the modes below it."""
    mode = _pop_mode()
    try:
        yield mode
    finally:
        _push_mode(mode)


@contextlib.contextmanager
def enable_reentrant_dispatch():
    """PyTorch's restores, inside ``__torch_dispatch__``, the Python dispatch state its dispatcher
    saved; chainrule has no dispatch layer, so every use is outside one: PyTorch's RuntimeError."""
    raise RuntimeError(
        "Accessing torch dispatch state outside of '__torch_dispatch__' is not allowed. (chainrule has no "
        "__torch_dispatch__ layer: a Tensor subclass customizes operations with __torch_function__)"
    )
    yield  # (a context manager's generator)


def _get_current_function_mode():
    """The innermost mode entered in this thread, or None."""
    return _switch.modes[-1] if _switch.modes else None


def _get_current_function_mode_stack():
    """The modes entered in this thread, outermost first."""
    return list(_switch.modes)


def _is_torch_function_mode_enabled():
    """Whether a mode is entered here and ``__torch_function__`` is not switched off."""
    return bool(_switch.modes) and _switch.state != "disabled"


def resolve_name(f):
    """The name a function handed to ``__torch_function__`` is reached by (``"chainrule.add"``,
    ``"chainrule.Tensor.add"``, ``"chainrule.Tensor.grad.__get__"``); None for another callable."""
    if getattr(f, "_overridable", False):
        return f"{f.__module__}.{f.__qualname__}"
    name = getattr(f, "__name__", None)
    if name is not None and getattr(Tensor, name, None) is f:  # a method, as Tensor.add
        return f"chainrule.Tensor.{name}"
    owner = getattr(f, "__self__", None)
    if name == "__get__" and owner is not None:
        name = next((name for name, attribute in vars(Tensor).items() if attribute is owner), None)
        return f"chainrule.Tensor.{name}.__get__" if name is not None else None
    return None


# ----------------------------------------------------------------------------- which functions are overridable
def get_overridable_functions():
    """``{namespace: [functions]}`` of the functions that hand calls to ``__torch_function__``:
    chainrule's functions by module (``chainrule``, ``chainrule.nn.functional``, ``linalg``...), the
    Tensor methods under ``chainrule.Tensor``, and each Tensor property as ``{property: [its __get__]}``,
    as PyTorch lists them. Asking arms the Tensor methods (``_arm``): those listed are the ones
    ``__torch_function__`` is handed from now on."""
    return _overridable_and_ignored()[0]


def get_ignored_functions():
    """The public functions and Tensor methods that never hand calls to ``__torch_function__``
    (``chainrule.typename``, ``Tensor.as_subclass``, the constructors from data, which only modes see),
    as PyTorch's set of them."""
    return _overridable_and_ignored()[1]


@functools.cache
def get_testing_overrides():
    """``{function: dummy}`` for every overridable function: a dummy that takes the function's
    arguments (its signature, ``inspect.signature`` shows it) and returns -1, as PyTorch's, for
    testing that a type with ``__torch_function__`` answers every function."""
    dummies = {}
    for namespace, functions in get_overridable_functions().items():
        for function in functions:
            dummies[function] = _dummy_taking_arguments_of(function)
    return dummies


def _dummy_taking_arguments_of(function):
    try:
        signature = _signature(function)
    except (TypeError, ValueError):  # (a builtin without one: anything goes)
        signature = inspect.Signature([inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL),
                                       inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)])

    def dummy(*args, **kwargs):
        signature.bind(*args, **kwargs)  # PyTorch's TypeError for arguments the function does not take
        return -1

    dummy.__signature__ = signature
    return dummy


@functools.cache
def _overridable_and_ignored():
    """(overridable, ignored) as PyTorch's ``_get_overridable_functions`` sorts the names of the
    modules that made functions overridable (imported by then: they import this one) and of Tensor:
    in a module, only the public ones (lowercase, no trailing ``_``); on Tensor, all but object's."""
    _arm()
    overridable, ignored = collections.defaultdict(list), set()
    for namespace in [*(sys.modules[module] for module in _OVERRIDABLE_MODULES), Tensor]:
        for name in dir(namespace):
            if namespace is not Tensor and (name.startswith("_") or name.endswith("_") or not name[0].islower()):
                continue
            attribute = getattr(namespace, name, None)
            if isinstance(attribute, types.ModuleType) or name == "__weakref__" or getattr(object, name, None) == attribute:
                continue
            if not callable(attribute) and hasattr(attribute, "__get__"):  # a property, a slot
                if _read_handed_over(name, attribute):
                    overridable[attribute].append(attribute.__get__)
                else:
                    ignored.add(attribute.__get__)
            elif callable(attribute):
                if getattr(attribute, "_overridable", False) and not getattr(attribute, "_modes_only", False):
                    overridable[namespace].append(attribute)
                else:
                    ignored.add(attribute)
    return overridable, ignored


# ----------------------------------------------------------------------------- chainrule's functions
#: What a dispatcher copies of its function: functools' names and docstring, and the keyword-only
#: defaults (MONAI reads ``torch.meshgrid.__kwdefaults__`` to learn that it takes ``indexing=``).
_ASSIGNED = (*functools.WRAPPER_ASSIGNMENTS, "__kwdefaults__")


def overridable(function, module, modes_only=False):
    """``function`` (public as ``module.NAME``), handing calls with overloaded arguments to them.

    While no Tensor subclass overrides anything, the arguments are looked at only when the call
    fails: an object that is no tensor fails an operation before it computes anything. With
    ``modes_only`` (PyTorch's constructors from data, ``tensor(x)``), only a mode sees the call."""
    if getattr(function, "_overridable", False):
        return function
    if modes_only:
        @functools.wraps(function, assigned=_ASSIGNED)
        def seen_by_modes(*args, **kwargs):
            if _modes_entered and _switch.modes and _switch.state != "disabled":
                return _call_overrides(seen_by_modes, [], args, kwargs or None, f"{module}.{function.__name__}")
            return function(*args, **kwargs)

        seen_by_modes.__module__, seen_by_modes.__qualname__ = module, function.__name__
        seen_by_modes._overridable = seen_by_modes._modes_only = True
        return seen_by_modes
    # PyTorch's nn.functional is mostly Python, the rest its C++ core: their refusals differ
    # (_call_overrides), and a Python function hands over its optional arguments by keyword
    in_python = module == "chainrule.nn.functional" and function.__name__ not in _FUNCTIONAL_IN_CPP
    name = None if in_python else f"{module}.{function.__name__}"

    @functools.wraps(function, assigned=_ASSIGNED)
    def dispatcher(*args, **kwargs):
        armed = _armed
        if armed:
            overloaded = _overloaded_arguments(args, kwargs)
            if overloaded is not None:
                return _call_overrides(dispatcher, *_handed_over(function, overloaded, args, kwargs, in_python), name)
        try:
            return function(*args, **kwargs)
        except Exception as error:
            overloaded = None if armed else _overloaded_arguments(args, kwargs)  # (armed: none were found above)
            if overloaded is None:
                kernel = kernel_of_other_tensors(function.__name__, args, kwargs)
                if kernel is None:
                    if isinstance(error, AttributeError):
                        _refuse_input_not_a_tensor(function, args, kwargs, error)
                        if not in_python or function.__name__ in _FUNCTIONAL_HANDING_TENSORS_ON:
                            _refuse_argument_not_a_tensor(function, args, kwargs, error, in_python)
                    raise
        if overloaded is None:  # (called here, not in the except block: its errors are its own)
            return kernel(*args, **kwargs)
        _arm()  # such objects are in use: from now on the Tensor methods hand them over too
        return _call_overrides(dispatcher, *_handed_over(function, overloaded, args, kwargs, in_python), name)

    dispatcher.__module__, dispatcher.__qualname__ = module, function.__name__
    dispatcher._overridable = True
    return dispatcher


#: The kernels of tensors whose array is no dense one (``chainrule.quantized`` fills it): tensor class
#: -> a function giving the kernel that computes the public function ``NAME`` on such tensors, or
#: None. A dense operation refuses their arrays, so they are looked up only when a call fails: plain
#: tensors pay nothing, and nothing here arms ``__torch_function__``.
KERNELS_OF_OTHER_TENSORS = {}


def kernel_of_other_tensors(name, args, kwargs):
    """The kernel for ``name`` of the first argument (or element of a list or tuple argument, the
    tensors of ``cat``) whose class has kernels; None where there is none."""
    if not KERNELS_OF_OTHER_TENSORS:
        return None
    for arg in (args if not kwargs else (*args, *kwargs.values())):
        elements = arg if type(arg) is list or type(arg) is tuple else (arg,)
        for element in elements:
            kernels = KERNELS_OF_OTHER_TENSORS.get(type(element))
            if kernels is not None:
                return kernels(name)
    return None


def _refuse_input_not_a_tensor(function, args, kwargs, error):
    """PyTorch's TypeError where a function whose first parameter is ``input`` got no tensor there
    (``F.relu([1.0, 2.0])``), in place of the AttributeError reading its attributes raised; but
    for PyTorch's Python functions that read the input's methods themselves, whose error is that
    AttributeError too."""
    parameters = list(_signature(function).parameters)
    if not parameters or parameters[0] != "input" or function.__name__ in _FUNCTIONAL_READING_METHODS:
        return
    given = args[0] if args else kwargs.get("input", error)
    if given is error or isinstance(given, Tensor):
        return
    raise _not_a_tensor(function, "input", 1, given) from error


def _not_a_tensor(function, name, position, given):
    """PyTorch's TypeError for the object ``given`` where ``function``'s tensor argument ``name`` goes."""
    return TypeError(
        f"{function.__name__}(): argument '{name}' (position {position}) must be Tensor, not {type(given).__name__} "
        f"(make one with chainrule.tensor(...))"
    )


def _refuse_argument_not_a_tensor(function, args, kwargs, error, in_python=False):
    """PyTorch's TypeError where a function of its C++ core got an object that is no tensor (None,
    a number, a list) for a tensor argument (``F.linear(x, w, 1.5)``, ``torch.kron(x, 2.0)``), in
    place of the AttributeError reading it raised: the argument whose type the error names. For a
    Python function of PyTorch's that hands its tensors on unread (``in_python``), not its input,
    which it reads itself."""
    named = re.match(r"'(\w+)' object has no attribute '(\w+)'", str(error))
    if named is None or not hasattr(Tensor, named.group(2)):  # (an attribute only a tensor has: read as one)
        return
    try:
        bound = _signature(function).bind_partial(*args, **kwargs).arguments
    except TypeError:
        return
    parameters = list(_signature(function).parameters)
    for name, value in bound.items():
        if in_python and name == parameters[0]:
            continue
        if type(value).__name__ == named.group(1) and not isinstance(value, Tensor):
            raise _not_a_tensor(function, name, parameters.index(name) + 1, value) from error


#: The Python functions of ``torch.nn.functional`` that hand their tensor arguments (but the input)
#: to PyTorch's C++ core unread: given no tensor there (``cross_entropy(x, 1.5)``), PyTorch's TypeError.
_FUNCTIONAL_HANDING_TENSORS_ON = {
    "batch_norm", "cosine_embedding_loss", "cross_entropy", "gaussian_nll_loss", "grid_sample", "group_norm", "hinge_embedding_loss",
    "kl_div", "layer_norm", "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss", "nll_loss", "rms_norm",
    "soft_margin_loss", "triplet_margin_loss",
}

#: The functions of ``torch.nn.functional`` whose first step is a method of the input
#: (``input.softmax(dim)``): given no tensor, PyTorch's raise AttributeError.
_FUNCTIONAL_READING_METHODS = {
    "dropout1d", "dropout2d", "dropout3d", "glu", "instance_norm", "interpolate", "log_softmax", "normalize", "sigmoid",
    "softmax", "softmin", "softsign", "tanh", "tanhshrink", "upsample", "upsample_bilinear", "upsample_nearest",
}

#: The functions of ``torch.nn.functional`` that PyTorch writes in C++ (they hand over their
#: arguments as given); the rest are Python functions.
_FUNCTIONAL_IN_CPP = {
    "adaptive_avg_pool1d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "bilinear", "celu_", "channel_shuffle", "conv1d",
    "conv2d", "conv3d", "conv_tbc", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "cosine_similarity",
    "elu_", "gelu", "hardshrink", "hardtanh_", "leaky_relu_", "linear", "logsigmoid", "native_channel_shuffle",
    "one_hot", "pairwise_distance", "pdist", "pixel_shuffle", "pixel_unshuffle", "prelu", "relu_", "rrelu_",
    "scaled_dot_product_attention", "selu_", "softplus", "softshrink", "threshold_",
}


def _handed_over(function, overloaded, args, kwargs, in_python):
    """(overloaded, args, kwargs) as the overrides get them: a Python function of PyTorch's passes
    its required arguments by position and the others by keyword, defaults filled in
    (``F.softmax(t, 0)`` as ``(t,), {"dim": 0, "_stacklevel": 3, "dtype": None}``); one of its
    C++ core passes them as given, ``kwargs=None`` where there are none."""
    if not in_python:
        return overloaded, args, kwargs or None
    signature = _signature(function)
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in signature.parameters.values()):
        return overloaded, args, kwargs  # (a signature of its own, not PyTorch's: passed as given)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return overloaded, args, kwargs
    bound.apply_defaults()
    required = [p.name for p in signature.parameters.values() if p.default is p.empty and p.kind <= p.POSITIONAL_OR_KEYWORD]
    overloaded = _python_overloaded(value for value in bound.arguments.values() if isinstance(value, Tensor) or _overrides(type(value)))
    return overloaded, tuple(bound.arguments[each] for each in required), {
        each: value for each, value in bound.arguments.items() if each not in required
    }


@functools.lru_cache(maxsize=None)
def _signature(function):
    return inspect.signature(function)


#: The modules whose functions ``make_overridable`` made overridable (``chainrule``,
#: ``chainrule.nn.functional``, ``chainrule.linalg``...), as ``get_overridable_functions`` lists them.
_OVERRIDABLE_MODULES = {}


def make_overridable(namespace, names, module, modes_only=()):
    """Make the functions among ``names`` of the module namespace ``namespace`` overridable (those
    in ``modes_only`` by modes alone), public as ``module.NAME``."""
    _OVERRIDABLE_MODULES[module] = True
    for name in names:
        value = namespace.get(name)
        if isinstance(value, types.FunctionType):
            namespace[name] = overridable(value, module, name in modes_only)


# ----------------------------------------------------------------------------- Tensor's methods
#: Tensor's attributes that are never handed over: construction, attribute access and the protocol itself.
#: ``__iter__``, ``__hash__`` and ``as_subclass`` are not either, as in PyTorch (iterating a subclass
#: gives it the rows through ``unbind``, which is handed over).
_NOT_DISPATCHED = {
    "__init__", "__getattr__", "__setattr__", "__delattr__", "__getattribute__", "__hash__", "__iter__", "__torch_function__",
    "as_subclass",
}


def _is_dispatched(name, attribute):
    """Whether Tensor's ``name`` hands calls over: chainrule's own methods, not a function another
    library set on Tensor (fastai's ``Tensor.set_meta``: PyTorch never hands those over), nor the
    private ones."""
    return isinstance(attribute, types.FunctionType) and name not in _NOT_DISPATCHED and (
        not name.startswith("_") or (name.startswith("__") and name.endswith("__"))
    ) and (attribute.__module__ or "").partition(".")[0] == "chainrule"


#: Python's operators: where every override declines, the operator gives ``NotImplemented`` (Python
#: then asks the other operand, then raises its own TypeError), as PyTorch's.
_OPERATORS = {
    f"__{prefix}{name}__"
    for name in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow", "lshift", "rshift", "and", "or", "xor")
    for prefix in ("", "r", "i")
} | {"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"}


#: The operators PyTorch hands over as the method they compute (``t * 2`` as ``Tensor.mul``).
_REPORTED_AS = {
    "__add__": "add", "__radd__": "add", "__iadd__": "add_", "__sub__": "sub", "__isub__": "sub_",
    "__mul__": "mul", "__rmul__": "mul", "__imul__": "mul_", "__matmul__": "matmul", "__truediv__": "div",
    "__rtruediv__": "__rdiv__", "__itruediv__": "div_", "__ifloordiv__": "floor_divide_", "__mod__": "remainder",
    "__imod__": "remainder_", "__pow__": "pow", "__ipow__": "pow_", "__rand__": "bitwise_and",
    "__ror__": "bitwise_or", "__rxor__": "bitwise_xor", "__ne__": "ne", "__lt__": "lt", "__le__": "le",
    "__gt__": "gt", "__ge__": "ge", "__neg__": "neg", "__pos__": "positive", "__abs__": "abs",
}


#: The Tensor methods PyTorch writes in Python (they hand over their optional arguments by keyword).
_TENSOR_METHODS_IN_PYTHON = {
    "__deepcopy__", "__reduce_ex__", "storage", "__setstate__", "__repr__", "backward", "register_hook",
    "register_post_accumulate_grad_hook", "is_shared", "share_memory_", "module_load", "__reversed__", "norm", "lu",
    "stft", "istft", "resize", "resize_as", "split", "unique", "unique_consecutive", "__format__", "__len__", "__dir__",
    "__array__", "__array_wrap__", "__contains__", "storage_type", "unflatten", "dim_order", "__dlpack__", "__dlpack_device__",
}


def tensor_method(name, method):
    """The Tensor method ``method`` (``Tensor.NAME``), handing calls with overloaded arguments to
    them, as ``func=Tensor.NAME`` (or the method PyTorch names for an operator)."""
    reported = _REPORTED_AS.get(name, name)
    in_python = name in _TENSOR_METHODS_IN_PYTHON
    message_name = None if in_python else f"chainrule.Tensor.{reported}"
    operator = name in _OPERATORS

    @functools.wraps(method)
    def dispatcher(*args, **kwargs):
        if not kwargs and not _modes_entered:  # the common call: tensors and numbers, by position
            for arg in args:
                if type(arg) not in _PLAIN:
                    break
            else:
                return method(*args)
        overloaded = _overloaded_arguments(args, kwargs)
        if overloaded is None:
            return method(*args, **kwargs)
        func = dispatcher if reported == name else getattr(Tensor, reported, dispatcher)
        handed_over = _handed_over(method, overloaded, args, kwargs, in_python)
        if not operator:
            return _call_overrides(func, *handed_over, message_name)
        try:
            return _call_overrides(func, *handed_over, message_name)
        except TypeError:
            return NotImplemented

    dispatcher.__name__, dispatcher.__qualname__, dispatcher.__module__ = name, f"Tensor.{name}", "chainrule"
    dispatcher._overridable = True
    return dispatcher


def as_installed(name, attribute):
    """What ``install_method`` puts on Tensor: ``attribute`` itself, or once armed, a method that
    looks at its arguments."""
    if _armed and _is_dispatched(name, attribute) and not getattr(attribute, "_overridable", False):
        return tensor_method(name, attribute)
    return attribute


def _arm():
    """The first Tensor subclass overriding anything was defined: every Tensor method now looks at
    its arguments (``plain.add(sub)`` is the subclass's to answer, as ``sub.add(plain)``), and the
    engine's recorded backward of chainrule's own operations hands nothing over, as PyTorch's C++."""
    global _armed, _armed_for_good
    _armed_for_good = True
    if _armed:
        return
    _armed = True
    engine.own_recorded_backward = DisableTorchFunction
    for name, attribute in list(vars(Tensor).items()):
        if _is_dispatched(name, attribute) and not getattr(attribute, "_overridable", False):
            setattr(Tensor, name, tensor_method(name, attribute))


_armed_for_good = False


@contextlib.contextmanager
def armed_while():
    """Functions and Tensor methods look at their arguments first inside the block, and go back to
    running first outside it (unless something armed them for good meanwhile): fx's tracer, whose
    Proxies must reach ``__torch_function__`` before any operation reads them."""
    global _armed, _armed_for_good
    if _armed:
        yield
        return
    methods = dict(vars(Tensor))
    _arm()
    _armed_for_good = False
    try:
        yield
    finally:
        if not _armed_for_good:
            _armed = False
            engine.own_recorded_backward = contextlib.nullcontext
            for name, attribute in methods.items():
                if vars(Tensor).get(name) is not attribute:
                    setattr(Tensor, name, attribute)


class _DispatchingProperty:
    """A Tensor property on a subclass that overrides: reading it is handed to the subclass's
    ``__torch_function__`` with ``func=Tensor.NAME.__get__``, as PyTorch's property reads; setting
    and deleting go to Tensor's property. Tensor's property is looked up at each read, so that what
    replaces it for a while (compile's recording) is what runs."""

    def __init__(self, name):
        self.name = name
        self.__doc__ = getattr(vars(Tensor)[name], "__doc__", None)

    def __get__(self, instance, owner=None):
        tensors = vars(Tensor)[self.name]
        if instance is None:
            return tensors
        overloaded = _overloaded_arguments((instance,))
        if overloaded is not None:
            return _call_overrides(tensors.__get__, overloaded, (instance,), None)
        return tensors.__get__(instance, owner)

    def __set__(self, instance, value):
        vars(Tensor)[self.name].__set__(instance, value)

    def __delete__(self, instance):
        vars(Tensor)[self.name].__delete__(instance)


#: The private properties of PyTorch's Tensor, whose reads it hands over as it does the public
#: ones; chainrule's own (``_version_owner``, which its operations read) are never handed over.
_PYTORCHS_PRIVATE_PROPERTIES = {"_cdata", "_version", "_base", "_grad", "_grad_fn", "_backward_hooks", "_post_accumulate_grad_hooks"}


def _read_handed_over(name, attribute):
    """Whether reading Tensor's attribute ``name`` is handed to ``__torch_function__``: a property,
    public or one of PyTorch's private ones."""
    return isinstance(attribute, property) and (not name.startswith("_") or name in _PYTORCHS_PRIVATE_PROPERTIES)


def _subclass_defined(cls, **kwargs):
    """``Tensor.__init_subclass__``: a subclass that overrides gets its property reads handed over,
    and arms the methods; one that opts out gets Tensor's properties back from a parent that did."""
    super(Tensor, cls).__init_subclass__(**kwargs)
    overriding = _overrides(cls)
    for name, attribute in vars(Tensor).items():
        if not _read_handed_over(name, attribute):
            continue
        found = next((vars(each)[name] for each in cls.__mro__[1:] if name in vars(each)), None)
        if name in vars(cls) or not (found is attribute or isinstance(found, _DispatchingProperty)):
            continue  # the subclass's own, or a parent's own
        if overriding and not isinstance(found, _DispatchingProperty):
            setattr(cls, name, _DispatchingProperty(name))
        elif not overriding and isinstance(found, _DispatchingProperty):
            setattr(cls, name, attribute)
    if overriding:
        _arm()


def _convert(result, cls):
    """``result`` with its tensors (also in tuples and lists, named ones too) seen as ``cls``."""
    if cls is Tensor:
        return result
    if isinstance(result, Tensor) and not isinstance(result, cls):
        return result.as_subclass(cls)
    if isinstance(result, (tuple, list)):
        converted = (_convert(each, cls) for each in result)
        return type(result)(*converted) if hasattr(result, "_fields") else type(result)(converted)
    return result


def _tensor_torch_function(cls, func, types, args=(), kwargs=None):
    """``Tensor.__torch_function__``: run ``func`` as on plain tensors, and give its tensors the
    subclass ``cls`` (``NotImplemented`` where another of ``types`` is no parent of ``cls``: that
    one's to answer). Call it as ``super().__torch_function__(...)`` from a subclass's own."""
    if kwargs is None:
        kwargs = {}
    if not all(issubclass(cls, kind) for kind in types):
        return NotImplemented
    with DisableTorchFunctionSubclass():
        result = func(*args, **kwargs)
        if func in get_default_nowrap_functions():
            return result
        return _convert(result, cls)


Tensor.__torch_function__ = classmethod(_tensor_torch_function)
Tensor.__init_subclass__ = classmethod(_subclass_defined)


# PyTorch's public names (``from torch.overrides import *`` brings these and no helper of this file's)
__all__ = [
    "get_ignored_functions", "get_overridable_functions", "get_testing_overrides", "handle_torch_function",
    "has_torch_function", "resolve_name", "is_tensor_like", "is_tensor_method_or_property", "wrap_torch_function",
    "enable_reentrant_dispatch",
]


def hand_over(function, arguments, args, kwargs):
    """(True, the answer) where a tensor-like among ``arguments`` or a mode takes the call
    ``function(*args, **kwargs)`` over (``torch.autograd.backward``/``grad``, see
    ``autograd/backward_pass.py``), (False, None) otherwise."""
    if not _modes_entered:
        for each in arguments:
            if type(each) is not Tensor:
                break
        else:  # plain tensors only, the common call: no one else's to answer
            return False, None
    overloaded = tuple(each for each in arguments if is_tensor_like(each))
    if has_torch_function(overloaded):
        return True, handle_torch_function(function, overloaded, *args, **kwargs)
    return False, None


backward_pass.hand_over = hand_over
