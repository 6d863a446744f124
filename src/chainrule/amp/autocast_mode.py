"""``autocast``: regions where operations compute in lower precision, as PyTorch's CPU autocast.

Inside ``with chainrule.autocast("cpu", dtype=chainrule.float16):`` (or a function decorated with
it) each operation runs in the dtype PyTorch's CPU autocast picks for it, from the lists PyTorch
documents ("CPU Ops that can autocast to float16", "... to float32"):

- ``LOWER_PRECISION``, the matrix products and convolutions (linear, matmul, mm, bmm, addmm,
  baddbmm, addbmm, conv1d/2d/3d, conv_transpose1d/2d/3d, prelu; einsum and attention through the
  products they are made of): their floating operands are cast to float16 and so is the result.
  PyTorch's CPU accumulates a float16 product in float32 and rounds it once; so does chainrule,
  computing the product in float32 from the float16-rounded operands and rounding the result to
  float16 once (NumPy's own float16 products are slow).
- ``IN_FLOAT32``, the losses, ``prod``, ``cdist``, 3-d pooling, grid sampling, reflection and
  replication padding: float16 operands are cast to float32, and the result is float32.
- promote (``cat``, ``stack``, ``index_copy``): float16 and float32 operands meet in float32, as
  chainrule's ``cat`` and ``stack`` always do; ``index_copy`` does so in a region.
- Every other operation (softmax, layer_norm, sum, exp...) runs in its operands' dtypes.

float64 tensors are left alone, and a region changes no dtype outside it. The casts are recorded
operations, so gradients flow back through them: a float32 parameter gets a float32 gradient.
``autocast(enabled=False)`` inside a region switches it off for a block; ``cache_enabled`` keeps one
float16 copy of each float32 parameter (a leaf that requires grad) for the whole region, as
PyTorch's weight cache. The state is the thread's own, read and set with ``is_autocast_enabled``,
``get_autocast_dtype``, ``set_autocast_enabled``, ``set_autocast_dtype`` and the cache switches.

How: while CPU autocast is on, an ``OperationMode`` (utils/operation_mode.py) is entered that looks
up each operation's Function class in the tables below and casts its operands; outside autocast no
mode is entered and no operation pays anything. An operation that would refuse operands of mixed
dtypes before it runs (linear of a float16 input and a float32 weight, the usual case in a region:
a layer's float16 output meets the next layer's float32 weight) first hands them to the mode
(``operands_in_modes``), as PyTorch's autocast casts before an operation's checks.

With ``chainrule.compile``: a region inside a compiled step is recorded with its casts (which
``enabled`` a call takes is guarded as any value the step reads); a compiled function called inside
a region runs eagerly, since a replayed program would pass the mode by.

What chainrule cannot do: it has no bfloat16, the CPU's default autocast dtype. ``autocast("cpu")``
without a dtype, or with ``dtype=chainrule.bfloat16``, warns as PyTorch does for a dtype it does not
support ("... Disabling autocast.") and leaves the region in the operands' dtypes; pass
``dtype=chainrule.float16``. Operations that are one function in PyTorch but a composition in
chainrule (``kl_div``, ``linalg.vecdot``, ``cosine_embedding_loss``...) run each of their parts by
its own rule, and
those that refuse float16 or mixed dtypes in their own checks (the decompositions, ``einsum``,
``scaled_dot_product_attention``, the RNNs) still refuse them.
"""
import collections.abc
import functools
import threading
import warnings

from chainrule import dtypes
from chainrule.backend import ndarray
from chainrule.ops.activation import PReLU
from chainrule.ops.conv import Convolution
from chainrule.ops.ctc import CtcLoss
from chainrule.ops.grid import GridSampler
from chainrule.ops.linalg import Einsum
from chainrule.ops.loss import (
    BinaryCrossEntropy, BinaryCrossEntropyWithLogits, CrossEntropy, HuberLoss, L1Loss, MseLoss, NllLoss, SmoothL1Loss,
)
from chainrule.ops.margin_loss import MultilabelMarginLoss, MultiMarginLoss, SoftMarginLoss
from chainrule.ops.matmul import (
    Addbmm, Baddbmm, Bmm, HalfBaddbmm, HalfLinear, Linear, LinearWithoutBias, Matmul, MatmulDot, MatmulMv, Mm,
)
from chainrule.ops.padding import PadByReading
from chainrule.ops.pool import AvgPool3D, MaxPool3D
from chainrule.ops.reduce import Prod, ProdAll
from chainrule.tensor import Tensor
from chainrule.utils.operation_mode import OperationMode

_DEVICE_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
    "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)
#: The device types PyTorch has autocast for, with the dtype each autocasts to by default.
_DEFAULT_DTYPES = {
    "cpu": dtypes.bfloat16, "cuda": dtypes.float16, "xpu": dtypes.float16, "mps": dtypes.float16, "hpu": dtypes.bfloat16,
    "mtia": dtypes.float16, "maia": dtypes.bfloat16, "xla": dtypes.bfloat16, "ipu": dtypes.float16,
    "privateuseone": dtypes.float16,
}
#: The dtypes chainrule's CPU autocast can compute in (PyTorch's CPU also takes bfloat16).
_CAST_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64)
#: The dtypes autocast casts: floating, float64 excepted, as PyTorch's ``is_eligible``.
_ELIGIBLE = (dtypes.float16, dtypes.float32)


# ----------------------------------------------------------------------------- which operation runs how
#: PyTorch's "CPU Ops that can autocast to float16", as chainrule's Function classes: the
#: products of matmul with a vector (MatmulMv, MatmulDot) are matmul's, those of mv and dot are not.
LOWER_PRECISION = frozenset({
    Matmul, MatmulMv, MatmulDot, Mm, Bmm, Linear, LinearWithoutBias, HalfLinear, Baddbmm, HalfBaddbmm, Addbmm,
    Convolution, PReLU, Einsum,
})
#: PyTorch's "CPU Ops that can autocast to float32" that are one operation in chainrule.
IN_FLOAT32 = frozenset({
    CrossEntropy, NllLoss, MseLoss, L1Loss, SmoothL1Loss, HuberLoss, BinaryCrossEntropy, BinaryCrossEntropyWithLogits,
    SoftMarginLoss, MultiMarginLoss, MultilabelMarginLoss, CtcLoss, Prod, ProdAll, AvgPool3D, MaxPool3D, GridSampler,
    PadByReading,
})


def _contracts(equation, *operands):
    """Whether einsum's ``equation`` sums a label over two operands or more: PyTorch computes that
    with ``bmm`` (autocast's), and anything else with ``mul`` and ``sum`` (left alone)."""
    inputs, output = equation.split("->")
    subscripts = inputs.split(",")
    return any(label not in output and sum(label in each for each in subscripts) > 1 for label in set(inputs) - {","})


def _reflects_or_replicates(x, pad, mode):
    """Whether this padding is one PyTorch lists: reflection_pad1d/2d, replication_pad1d/2d/3d."""
    return mode == "replicate" or (mode == "reflect" and len(pad) <= 4)


#: Operations listed for some of their calls only: the test of ``apply``'s arguments that says which.
_LISTED_WHEN = {Einsum: _contracts, PadByReading: _reflects_or_replicates}

#: The public operations that check their operands' dtypes before they run, by the name they give
#: ``operands_in_modes``: what autocast makes of their operands there.
_BY_NAME = {
    **dict.fromkeys(
        ("linear", "matmul", "mm", "bmm", "addmm", "baddbmm", "addbmm", "prelu", "conv1d", "conv2d", "conv3d",
         "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"),
        "lower precision",
    ),
    "cdist": "float32",
    "index_copy_": "promote",
}


# ----------------------------------------------------------------------------- the thread's state
class _State(threading.local):
    """Autocast's state, each thread's own as in PyTorch."""

    def __init__(self):
        self.enabled = dict.fromkeys(_DEFAULT_DTYPES, False)
        self.dtypes = dict(_DEFAULT_DTYPES)
        self.cache_enabled = True
        self.nesting = 0  # how many autocast regions are entered
        self.cache = {}  # id(parameter) -> (parameter, its cast): the weight cache
        self.casting_dtype = None  # the dtype of the lower-precision list while CPU autocast casts, else None
        self.mode = None  # the _Autocasting mode while it is entered


_state = _State()


def _device_type(device_type, function, position=1):
    """``device_type`` ("cpu", "cuda:0"...) as its type, after PyTorch's checks of it."""
    if not isinstance(device_type, str):
        raise TypeError(f"{function}(): argument 'device_type' (position {position}) must be str, not {type(device_type).__name__}")
    name = device_type.split(":")[0]
    if name not in _DEVICE_TYPES:
        raise RuntimeError(
            f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device string: {device_type}"
        )
    return name


def _autocast_device(device_type, function, position=1):
    """``device_type`` as its type, refused (RuntimeError, as PyTorch) where autocast has no state for it."""
    name = _device_type(device_type, function, position)
    if name not in _DEFAULT_DTYPES:
        raise RuntimeError(
            f"unknown device type for autocast: {device_type!r} ({function}); autocast has a state for "
            f"{', '.join(_DEFAULT_DTYPES)}"
        )
    return name


def is_autocast_available(device_type):
    """Whether PyTorch has autocast for ``device_type`` (the CPU's is chainrule's; the others'
    regions cast nothing here, where every tensor is on the CPU)."""
    if not isinstance(device_type, str):
        raise TypeError(f"_is_autocast_available(): argument 'device_type' (position 1) must be str, not {type(device_type).__name__}")
    return _device_type(device_type, "is_autocast_available") in _DEFAULT_DTYPES


def is_autocast_enabled(device_type="cuda"):
    """Whether autocast is on for ``device_type`` in this thread (without one: CUDA's, as PyTorch)."""
    return _state.enabled[_autocast_device(device_type, "is_autocast_enabled")]


def set_autocast_enabled(device_type=None, enabled=None):
    """Switch autocast on or off for ``device_type`` (``set_autocast_enabled(flag)``: CUDA's)."""
    if enabled is None and isinstance(device_type, bool):
        device_type, enabled = "cuda", device_type
    elif device_type is None:
        device_type = "cuda"
    if not isinstance(enabled, bool):
        raise TypeError(f"set_autocast_enabled(): argument 'enabled' (position 2) must be bool, not {type(enabled).__name__}")
    _state.enabled[_autocast_device(device_type, "set_autocast_enabled")] = enabled
    _follow_state()


def get_autocast_dtype(device_type):
    """The dtype autocast computes in on ``device_type`` (the CPU's is bfloat16 until set)."""
    return _state.dtypes[_autocast_device(device_type, "get_autocast_dtype")]


def set_autocast_dtype(device_type, dtype):
    """Set the dtype autocast computes in on ``device_type``."""
    if not isinstance(dtype, dtypes.dtype):
        raise TypeError(f"set_autocast_dtype(): argument 'dtype' (position 2) must be chainrule.dtype, not {type(dtype).__name__}")
    _state.dtypes[_autocast_device(device_type, "set_autocast_dtype")] = dtype
    _follow_state()


def _deprecated_form(name, function, device_type, instead, parameters):
    """One of PyTorch's older autocast functions that name their device, ``name``
    (``torch.is_autocast_cpu_enabled()``): ``function`` for ``device_type``, with PyTorch's
    DeprecationWarning naming the general form ``instead``."""
    listed = ", ".join(parameters)
    message = (
        f"torch.{name}({listed}) is deprecated. Please use torch.{instead}('{device_type}'{', ' * bool(parameters)}{listed}) instead."
    )

    def deprecated(*args):
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        return function(device_type, *args)

    deprecated.__name__ = deprecated.__qualname__ = name
    return deprecated


def _device_named_forms():
    """``{name: function}`` of the device-named forms (``set_autocast_cpu_dtype``,
    ``get_autocast_gpu_dtype``...), each the general function for that device."""
    general = {
        "is_autocast_{}_enabled": (is_autocast_enabled, "is_autocast_enabled", ()),
        "set_autocast_{}_enabled": (set_autocast_enabled, "set_autocast_enabled", ("enabled",)),
        "get_autocast_{}_dtype": (get_autocast_dtype, "get_autocast_dtype", ()),
        "set_autocast_{}_dtype": (set_autocast_dtype, "set_autocast_dtype", ("dtype",)),
    }
    forms = {}
    for device_name, device_type in (("cpu", "cpu"), ("gpu", "cuda"), ("xla", "xla"), ("ipu", "ipu")):
        for pattern, (function, instead, parameters) in general.items():
            name = pattern.format(device_name)
            if device_name != "gpu" or "dtype" in name:  # (CUDA's flag is the default device's: is_autocast_enabled())
                forms[name] = _deprecated_form(name, function, device_type, instead, parameters)
    return forms


DEVICE_NAMED_FORMS = _device_named_forms()


def is_autocast_cache_enabled():
    """Whether regions keep one cast of each parameter (PyTorch's weight cache); True by default."""
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled):
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool (got {type(enabled).__name__})")
    _state.cache_enabled = enabled


def clear_autocast_cache():
    """Forget the cast parameters (done when the outermost region ends)."""
    _state.cache.clear()


def autocast_increment_nesting():
    """One more region entered; returns how many are."""
    _state.nesting += 1
    return _state.nesting


def autocast_decrement_nesting():
    """One region left; returns how many remain."""
    _state.nesting -= 1
    _follow_state()
    return _state.nesting


def _follow_state():
    """Enter the casting mode when CPU autocast turns on with a dtype chainrule has; leave it once
    autocast is off outside every region (inside one, a block with ``enabled=False`` keeps it
    entered and passes operations through, so that modes entered meanwhile keep their order)."""
    state = _state
    dtype = state.dtypes["cpu"]
    state.casting_dtype = dtype if state.enabled["cpu"] and dtype in _CAST_DTYPES else None
    if state.casting_dtype is not None and state.mode is None:
        state.mode = _Autocasting()
        state.mode.__enter__()
    elif state.casting_dtype is None and state.mode is not None and state.nesting <= 0:
        state.mode.__exit__(None, None, None)
        state.mode = None


# ----------------------------------------------------------------------------- casting
def _eligible(value):
    """Whether autocast casts ``value``: a floating tensor other than float64."""
    return isinstance(value, Tensor) and value.dtype in _ELIGIBLE


def _cast_to(tensor, dtype):
    """``tensor`` cast to ``dtype``. A parameter (a float32 leaf that requires grad) cast to the
    region's dtype is cast once per region while the cache is on, as PyTorch's weight cache does."""
    if tensor.dtype == dtype:
        return tensor
    state = _state
    cached_kind = dtype == state.casting_dtype and tensor.dtype == dtypes.float32
    if not (cached_kind and state.cache_enabled and tensor.requires_grad and tensor.is_leaf):
        return tensor.to(dtype)
    cached = state.cache.get(id(tensor))
    if cached is None or cached[0] is not tensor:
        cached = state.cache[id(tensor)] = (tensor, tensor.to(dtype))
    return cached[1]


def _rounded(outputs, dtype):
    """The floating ``outputs`` (a tensor or a tuple) cast to ``dtype``."""
    if isinstance(outputs, tuple):
        return tuple(_rounded(output, dtype) for output in outputs)
    return outputs.to(dtype) if isinstance(outputs, Tensor) and outputs.dtype.is_floating_point else outputs


def _run_in_lower_precision(op, args, kwargs, dtype):
    """``op`` on its floating operands cast to ``dtype``. For float16 the operation runs in float32 on
    the float16-rounded operands and its result is rounded to float16 once, as PyTorch's CPU
    kernels accumulate."""
    cast = [_cast_to(arg, dtype) if _eligible(arg) else arg for arg in args]
    floating = {arg.dtype for arg in cast if isinstance(arg, Tensor) and arg.dtype.is_floating_point}
    if len(floating) > 1:
        raise RuntimeError(
            f"{op.__name__.lower()} under autocast: expected its floating operands in one dtype, but got "
            f"{', '.join(sorted(map(str, floating)))} (autocast casts all but float64 to {dtype}); convert the "
            f"float64 ones, e.g. x.float()"
        )
    if dtype != dtypes.float16:
        return op.apply(*cast, **kwargs)
    widened = [arg.float() if isinstance(arg, Tensor) and arg.dtype == dtype else arg for arg in cast]
    return _rounded(op.apply(*widened, **kwargs), dtype)


def _run_in_float32(op, args, kwargs):
    return op.apply(*[arg.float() if _eligible(arg) else arg for arg in args], **kwargs)


class _Autocasting(OperationMode):
    """The mode entered while CPU autocast casts: each operation of the tables runs as they say."""

    def run_operation(self, op, args, kwargs, run):
        dtype = _state.casting_dtype
        if dtype is None:
            return run()
        listed = _listed(op)
        if listed is None or not any(_eligible(arg) for arg in args):
            return run()
        condition = _LISTED_WHEN.get(listed)
        if condition is not None and not condition(*args):
            return run()
        if listed in LOWER_PRECISION:
            return _run_in_lower_precision(op, args, kwargs, dtype)
        if any(_eligible(arg) and arg.dtype != dtypes.float32 for arg in args):
            return _run_in_float32(op, args, kwargs)
        return run()

    def cast_operands(self, operation, operands):
        dtype = _state.casting_dtype
        policy = _BY_NAME.get(operation)
        if dtype is None or policy is None:
            return operands
        if policy == "lower precision":
            target = dtype
        elif policy == "float32":
            target = dtypes.float32
        else:  # promote: the widest floating dtype among them
            floating = [operand.dtype for operand in operands if isinstance(operand, Tensor) and operand.dtype.is_floating_point]
            target = functools.reduce(dtypes.promote_types, floating) if floating else None
        if target is None:
            return operands
        return tuple(_cast_to(each, target) if _eligible(each) else each for each in operands)


def _listed(op):
    """The class of the tables that ``op`` is: itself, or, for a variant of an operation shown under
    another node name (``Function.shown_as``, which keeps the class name), that operation; None
    where neither is listed."""
    if op in LOWER_PRECISION or op in IN_FLOAT32:
        return op
    varied = op.__base__
    if op.__name__ == varied.__name__ and (varied in LOWER_PRECISION or varied in IN_FLOAT32):
        return varied
    return None


# ----------------------------------------------------------------------------- the region
class autocast:
    """``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``: a region (a ``with``
    block, or a decorated function) where operations run in the dtypes autocast picks (see the
    module's docstring). ``dtype`` defaults to ``get_autocast_dtype(device_type)`` (bfloat16 for
    the CPU, which chainrule does not have: pass ``dtype=chainrule.float16``)."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self.device = device_type
        if not is_autocast_available(device_type):
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        if enabled:
            if device_type == "cuda":
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", stacklevel=2)
                enabled = False
            elif self.fast_dtype not in (dtypes.bfloat16, dtypes.float16):
                name = device_type.upper()
                warnings.warn(
                    f"In {name} autocast, but the target dtype is not supported. Disabling autocast.\n"
                    f"{name} Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.",
                    stacklevel=2,
                )
                enabled = False
            elif device_type == "cpu" and self.fast_dtype is dtypes.bfloat16:
                warnings.warn(
                    "In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                    "chainrule has no bfloat16 (NumPy has no such type), PyTorch's default CPU autocast dtype: "
                    "pass dtype=chainrule.float16, e.g. chainrule.autocast('cpu', dtype=chainrule.float16).",
                    stacklevel=2,
                )
                enabled = False
        self._enabled = enabled

    def __enter__(self):
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        autocast_increment_nesting()
        set_autocast_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        set_autocast_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. Did you mean to use autocast "
                f"as a context manager? For example:\n    with chainrule.autocast(device_type=...):\n        output = model(input)"
            )

        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return decorate_autocast


# ----------------------------------------------------------------------------- custom Functions
def _cast(value, device_type, dtype):
    """``value`` with its floating tensors (float64 excepted) cast to ``dtype``, in nested lists,
    tuples, dicts and other iterables (strings and arrays pass), as PyTorch's ``amp._cast``."""
    if isinstance(value, Tensor):
        return value.to(dtype) if _eligible(value) and value.device.type == device_type else value
    if isinstance(value, (str, bytes, ndarray)):
        return value
    if isinstance(value, collections.abc.Mapping):
        return {_cast(key, device_type, dtype): _cast(each, device_type, dtype) for key, each in value.items()}
    if isinstance(value, collections.abc.Iterable):
        cast = (_cast(each, device_type, dtype) for each in value)
        return type(value)(cast) if isinstance(value, (list, tuple)) else cast
    return value


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorator for a custom Function's ``forward``: it runs with autocast as the caller has it,
    or, with ``cast_inputs`` inside an autocast region, on its floating tensors cast to
    ``cast_inputs`` with autocast off. Outside a region it changes nothing."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(device_type)
        in_region = is_autocast_enabled(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = in_region
            return fwd(*args, **kwargs)
        ctx._fwd_used_autocast = False
        if not in_region:
            return fwd(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            return fwd(*_cast(args, device_type, cast_inputs), **_cast(kwargs, device_type, cast_inputs))

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorator for a custom Function's ``backward``: it runs with autocast as its forward ran."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type=device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd
