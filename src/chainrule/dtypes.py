"""The dtypes of chainrule and PyTorch's rules for choosing one.

A dtype *is* a NumPy dtype (``chainrule.float32 == numpy.dtype('float32')``), so arrays and tensors
agree on it without translation. Like PyTorch, Python floats become ``float32`` by default and Python
ints become ``int64``.
"""
import builtins

from chainrule.backend import xp

float16 = xp.dtype("float16")
float32 = xp.dtype("float32")
float64 = xp.dtype("float64")
int8 = xp.dtype("int8")
int16 = xp.dtype("int16")
int32 = xp.dtype("int32")
int64 = xp.dtype("int64")
uint8 = xp.dtype("uint8")
bool_ = xp.dtype("bool")

# PyTorch's aliases
half = float16
float = float32
double = float64
short = int16
int = int32
long = int64

_default_float = float32


def get_default_dtype():
    """The dtype given to Python floats and to floating factories (``zeros``, ``rand``...)."""
    return _default_float


def set_default_dtype(dtype):
    """Make ``dtype`` (``float32`` or ``float64``) the default floating dtype."""
    global _default_float
    dtype = xp.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"only floating-point types are supported as the default type, got {dtype}")
    _default_float = dtype


def dtype_name(dtype):
    """``chainrule.float32`` style name of a dtype, as reprs print it."""
    return "chainrule." + ("bool" if dtype == bool_ else dtype.name)


def infer_dtype(data):
    """The dtype PyTorch's ``torch.tensor(data)`` would choose for Python data.

    NumPy arrays keep their dtype; otherwise bools give ``bool``, ints give ``int64`` and any float
    gives the default float dtype (NumPy would choose ``float64``).
    """
    array = xp.asarray(data)
    kind = array.dtype.kind
    if isinstance(data, xp.ndarray) or isinstance(data, xp.generic):
        return array.dtype
    if kind == "f":
        return _default_float
    if kind in "iu":
        return int64
    if kind == "b":
        return bool_
    raise TypeError(f"can't convert data of type {array.dtype} to a tensor")


def scalar_result_dtype(tensor_dtype, scalar):
    """PyTorch's dtype of ``tensor <op> python_scalar``: the tensor's dtype wins within its kind.

    An integer or bool tensor combined with a Python float becomes the default float dtype; a bool
    tensor combined with an int becomes ``int64``.
    """
    if isinstance(scalar, bool):
        return tensor_dtype
    if isinstance(scalar, builtins.float):
        return tensor_dtype if tensor_dtype.kind in "fc" else _default_float
    if isinstance(scalar, builtins.int):
        return int64 if tensor_dtype == bool_ else tensor_dtype
    return xp.result_type(tensor_dtype, scalar)

