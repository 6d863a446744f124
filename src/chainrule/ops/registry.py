"""One registration makes an operation public: ``chainrule.NAME``, ``Tensor.NAME`` and its in-place
form ``Tensor.NAME_``, from one function written once in its family's file::

    @public(inplace=True)
    def exp(input):
        '''e^x, elementwise.'''
        return Exp.apply(input)

The registered functions also form the namespace that backward formulas use when the backward pass
is recorded (``create_graph=True``): ``ctx.xp.cos(x)`` is NumPy's ``cos`` on arrays in a plain
backward and ``chainrule.cos`` on tensors in a recorded one (see ``ops/op.py``).
"""
import functools
import inspect
from types import SimpleNamespace

from chainrule import dtypes
from chainrule import overrides
from chainrule.autograd import grad_mode
from chainrule.caller_warnings import warn_at_caller
from chainrule.ops.inplace import check_apart, check_castable, write_in_place
from chainrule.ops.operands import ForeignOperand
from chainrule.return_types import StructSequence, return_type
from chainrule.tensor import Tensor


class Operations(SimpleNamespace):
    """The namespace of the public operations (a few have a ``formula_form`` for backward formulas)."""


#: Every public operation by its name, as ``chainrule.NAME`` offers it (see chainrule/functional.py).
functions = Operations()


def public(function=None, *, name=None, method=True, inplace=False, aliases=(), out=False):
    """Export ``function`` as ``chainrule.NAME`` and, with ``method``, as ``Tensor.NAME`` (the tensor
    becomes the first argument). ``method`` may also be another function to install as the method
    (for a different argument order, as ``Tensor.where(condition, other)``). ``inplace`` adds
    ``Tensor.NAME_`` and ``chainrule.NAME_``, which write the result into the tensor (see
    ``ops/inplace.py``). ``aliases``
    are further names for the same function and method (``clip`` for ``clamp``). With ``out``, the
    function (not the method) accepts PyTorch's ``out=`` tensor to write its result into, cast to
    its dtype where PyTorch's casting allows; ``out=SAME_DTYPE``: only a tensor of the result's
    dtype, as PyTorch's operations that keep their input's dtype (``bitwise_not``) require; ``out``
    a function: called with the arguments of a call given ``out=``, it says whether that call
    needs an out of the result's dtype, and raises where the call has no ``out=`` form (PyTorch's
    overloads of one operation differ: ``clamp`` with number bounds needs the result's dtype);
    ``out=IN_DTYPE_OF_OUT``: the operation computes in out's dtype (its ``dtype=``), as PyTorch's
    reductions and scans do (``sum`` into an int32 out sums int32 values).
    """

    def register(function):
        keyworded = with_pytorch_keywords(function)
        tensor_input = _takes_a_tensor_first(function)
        if out:
            exported = with_out(
                keyworded, same_dtype=out if callable(out) else out is SAME_DTYPE, tensor_input=tensor_input,
                in_dtype_of_out=out is IN_DTYPE_OF_OUT,
            )
        else:
            exported = with_tensor_input(keyworded) if tensor_input else keyworded
        for each in (name or function.__name__, *aliases):
            setattr(functions, each, exported)
            if method:
                install_method(each, keyworded if method is True else method)
            if inplace:  # Tensor.NAME_ and, as PyTorch has many (chainrule.sin_(x)), chainrule.NAME_
                in_place = in_place_form(function if method is True else method)
                install_method(each + "_", in_place)
                setattr(functions, each + "_", in_place)
        return function

    return register(function) if function is not None else register


#: PyTorch's keyword names for the parameters chainrule names otherwise, by position: the first
#: tensor is ``input`` (``torch.sum(input=x)``), the second ``other`` (``torch.matmul(x, other=y)``).
PYTORCH_KEYWORDS = ({"x": "input", "a": "input", "A": "input"}, {"b": "other"})
#: NumPy's keywords, which PyTorch takes for its own everywhere (``torch.cat(xs, axis=1)``,
#: ``x.sum(axis=0, keepdims=True)``): backward formulas call the operations as they call NumPy's.
NUMPY_KEYWORDS = {"axis": "dim", "keepdims": "keepdim"}
#: PyTorch's keywords for sizes given one by one (``x.reshape(2, 3)`` or ``x.reshape(shape=(2, 3))``),
#: by the name of chainrule's ``*sizes`` parameter.
PYTORCH_SIZE_KEYWORDS = {"shape": ("shape", "size"), "sizes": ("size", "repeats"), "dims": ("dims",), "size": ("size",)}


def with_pytorch_keywords(function):
    """``function``, also taking its arguments by PyTorch's keywords (``input=``, ``other=``, NumPy's
    ``axis=`` and ``keepdims=``, and ``shape=``/``size=``/``dims=`` for sizes given one by one);
    ``function`` itself when its parameters already have PyTorch's names. Positional calls pass
    straight through."""
    parameters = list(inspect.signature(function).parameters.values())
    renamed = {
        names[parameter.name]: parameter.name
        for names, parameter in zip(PYTORCH_KEYWORDS, parameters)
        if parameter.name in names and parameter.kind == parameter.POSITIONAL_OR_KEYWORD
    }
    named = {parameter.name for parameter in parameters}
    renamed.update({theirs: ours for theirs, ours in NUMPY_KEYWORDS.items() if ours in named and theirs not in named})
    listed = next((parameter.name for parameter in parameters if parameter.kind == parameter.VAR_POSITIONAL), None)
    size_keywords = PYTORCH_SIZE_KEYWORDS.get(listed, ())
    if not renamed and not size_keywords:
        return function
    before_sizes = sum(parameter.kind == parameter.POSITIONAL_OR_KEYWORD for parameter in parameters)

    @functools.wraps(function)
    def call(*args, **kwargs):
        if kwargs:
            for theirs, ours in renamed.items():
                if theirs in kwargs:
                    kwargs[ours] = kwargs.pop(theirs)
            for keyword in size_keywords:
                if keyword in kwargs:
                    if len(args) > before_sizes:
                        raise TypeError(
                            f"{function.__name__}(): sizes given both as arguments and as {keyword}=; give them once"
                        )
                    args = (*args, kwargs.pop(keyword))
        return function(*args, **kwargs)

    return call


def _takes_a_tensor_first(function):
    """Whether ``function``'s first parameter is its input tensor (named ``input``, ``x``, ``a`` or ``A``)."""
    first = next(iter(inspect.signature(function).parameters), None)
    return first == "input" or first in PYTORCH_KEYWORDS[0]


def with_tensor_input(function):
    """``function`` refusing anything but a tensor as its input with PyTorch's TypeError
    (``abs([1., 2.])``: "argument 'input' (position 1) must be Tensor, not list"), where the
    operation would fail reading the tensor's attributes. Checked only when that happens, so a
    call with a tensor pays nothing more than the call."""

    @functools.wraps(function)
    def function_of_a_tensor(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except AttributeError as error:
            _refuse_input_not_a_tensor(function, args, kwargs, error)
            raise

    return function_of_a_tensor


def _refuse_input_not_a_tensor(function, args, kwargs, error):
    """PyTorch's TypeError where the input of a call of ``function`` is not a tensor, the
    AttributeError ``error`` coming from reading its attributes; nothing where it is a tensor."""
    given = args[0] if args else kwargs.get("input", kwargs.get("x", _ABSENT))
    if isinstance(given, Tensor) or given is _ABSENT:
        return
    raise TypeError(
        f"{function.__name__}(): argument 'input' (position 1) must be Tensor, not {dtypes.python_type_name(given)} "
        f"(make one with chainrule.tensor(...))"
    ) from error


_ABSENT = object()  # no input given at all: the function's own error stands


def formula_form(name, function):
    """Make ``function`` what backward formulas get as ``ctx.xp.NAME`` (``functions.NAME``) while
    ``chainrule.NAME`` stays the public function registered under that name (``functional.py``
    exports ``vars(functions)``). A formula is written once for arrays and tensors, as NumPy is
    called: ``xp.maximum(z, 0)`` takes a number, where PyTorch's ``maximum`` takes tensors only.
    The form is a property of the namespace's class, which attribute lookup finds before the
    public function in the namespace's own dict."""
    setattr(Operations, name, property(lambda namespace: function, doc=function.__doc__))


def install_method(name, function):
    """Make ``function`` the Tensor method ``name`` (one that hands calls to overriding arguments'
    ``__torch_function__`` once a Tensor subclass overrides: ``overrides.py``)."""
    setattr(Tensor, name, overrides.as_installed(name, function))


def in_place_form(function):
    """``Tensor.NAME_``: ``function`` computed and written into the tensor itself."""

    def in_place(self, *args, **kwargs):
        return write_in_place(self, function, *args, **kwargs)

    in_place.__name__ = function.__name__ + "_"
    in_place.__doc__ = f"In-place form of ``{function.__name__}``: the result is written into this tensor."
    return in_place


def reflected(function):
    """The reflected operator (``__radd__``): ``other + tensor`` computes ``function(other, tensor)``."""

    def operator(self, other):
        return function(other, self)

    operator.__name__ = "__r" + function.__name__ + "__"
    return operator


def operator_form(function):
    """``function`` as a Python operator (``__add__``): NotImplemented for an operand that is no
    tensor, number or array, as PyTorch's operators answer, so that Python asks the other operand
    (a user's class with ``__radd__``) and otherwise raises its own TypeError
    (``unsupported operand type(s) for +: 'Tensor' and 'NoneType'``)."""

    def operator(self, other):
        try:
            return function(self, other)
        except ForeignOperand:
            return NotImplemented

    operator.__name__ = operator.__qualname__ = getattr(function, "__name__", "operator")
    operator.__doc__ = function.__doc__
    return operator


#: ``public(out=SAME_DTYPE)``: out= must have the result's dtype
SAME_DTYPE = "same dtype"
IN_DTYPE_OF_OUT = "computed in out's dtype"


def with_out(function, same_dtype=False, tensor_input=False, in_dtype_of_out=False):
    """``function`` accepting ``out=``: the result is written into that tensor (resized to the
    result's shape, as PyTorch does) and returned. ``out`` takes no part in the graph. With
    ``same_dtype`` (or where ``same_dtype(*args, **kwargs)`` says so, see ``public``), an ``out``
    of another dtype than the result's is refused; with ``tensor_input``,
    an input that is not a tensor, as by ``with_tensor_input`` (checked here, saving a call)."""

    def function_with_out(*args, out=None, **kwargs):
        if in_dtype_of_out and isinstance(out, Tensor):
            kwargs = _computed_in_dtype_of(out, kwargs)
        try:
            result = function(*args, **kwargs)
        except AttributeError as error:
            if tensor_input:
                _refuse_input_not_a_tensor(function, args, kwargs, error)
            raise
        if out is None:
            return result
        strict = same_dtype(*args, **kwargs) if callable(same_dtype) else same_dtype
        _check_out_apart(out, args, kwargs, function)
        if type(result) is not Tensor and isinstance(result, tuple):  # (values, indices): out is a pair too
            if not isinstance(out, (tuple, list)) or len(out) != len(result):
                raise TypeError(f"{function.__name__}(): out must be a tuple of {len(result)} tensors")
            written = [_written_into(each, into, function, strict) for each, into in zip(result, out)]
            if isinstance(result, StructSequence):  # PyTorch's out= forms return their own named tuple: max_out, sort_out
                return return_type(type(result).__name__ + "_out", result.__match_args__)(written)
            return tuple(written)
        return _written_into(result, out, function, strict)

    function_with_out.__name__ = function.__name__
    function_with_out.__qualname__ = function.__qualname__
    function_with_out.__doc__ = function.__doc__
    function_with_out.__wrapped__ = function
    return function_with_out


def _computed_in_dtype_of(out, kwargs):
    """``kwargs`` with ``dtype`` out's, as PyTorch's reductions compute into an out= tensor; a
    ``dtype=`` that is not out's is PyTorch's RuntimeError."""
    dtype = kwargs.get("dtype")
    if dtype is not None and isinstance(dtype, dtypes.dtype) and dtype.dtype != out._array.dtype:
        raise RuntimeError(
            f"Expected out tensor to have dtype {dtypes.cpp_type_name(dtype.dtype)}, but got "
            f"{dtypes.cpp_type_name(out._array.dtype)} instead (give dtype= or out=, or the same dtype to both)"
        )
    return {**kwargs, "dtype": dtypes.of(out._array.dtype)}


def _check_out_apart(out, args, kwargs, function):
    """PyTorch's refusal of an ``out`` tensor that shares part of an input's memory (``check_apart``);
    only an input sharing its version counter (a view of the same base) can."""
    for written in out if isinstance(out, (tuple, list)) else (out,):
        if not isinstance(written, Tensor):
            continue  # refused when written into
        owner = written._version_owner
        for operand in (*args, *kwargs.values()):
            if isinstance(operand, Tensor) and operand._version_owner is owner:
                check_apart(written, operand, f"{function.__name__}(out=...)")


def _written_into(result, out, function, same_dtype):
    """``result``'s values written into the tensor ``out`` (resized to its shape when it differs, with
    PyTorch's warning when it held elements); with ``same_dtype``, only into one of result's dtype.

    As in PyTorch, not with grad mode on when an input requires grad (the result then would) or
    ``out`` does and the result could (a float result: ``eq``'s bool one goes into any ``out``)."""
    if same_dtype and out._array.dtype != result._array.dtype:
        raise RuntimeError(
            f"Expected out tensor to have dtype {dtypes.cpp_type_name(result._array.dtype)}, but got "
            f"{dtypes.cpp_type_name(out._array.dtype)} instead ({function.__name__}() writes only into an out tensor of its result's dtype)"
        )
    if grad_mode._state.enabled and (result.requires_grad or (out.requires_grad and result._array.dtype.kind in "fc")):
        raise RuntimeError(
            f"{function.__name__}(): functions with out=... arguments don't support automatic "
            f"differentiation, but one of the arguments requires grad. Call it under chainrule.no_grad(), "
            f"or without out= (result = {function.__name__}(...)) to keep the gradient."
        )
    check_castable(result, out)
    if tuple(out._array.shape) == tuple(result._array.shape):
        out._array[...] = result._array
    else:
        if out._array.size:
            warn_at_caller(
                f"An output with one or more elements was resized since it had shape {list(out._array.shape)}, which does "
                f"not match the required output shape {list(result._array.shape)}. This behavior is deprecated, and in a "
                f"future PyTorch release outputs will not be resized unless they have zero elements. You can explicitly "
                f"reuse an out tensor t by resizing it, inplace, to zero elements with t.resize_(0)."
            )
        out._array = result._array.astype(out._array.dtype)
    out._version_owner._version_count += 1
    return out
