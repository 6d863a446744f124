"""chainrule: reverse-mode automatic differentiation and neural networks on NumPy.

The names follow PyTorch, so course code runs with ``import chainrule as torch``::

    import chainrule as torch
    w = torch.tensor([1.0], requires_grad=True)
    loss = (w * 2.0 - 4.0) ** 2
    loss.backward()
    w.grad            # tensor([-8.])
"""
import sys as _sys

from chainrule.module_pickling import pickle_modules_by_name

pickle_modules_by_name(_sys.modules[__name__])  # dill saves chainrule's modules by name, installed from source or not
del _sys

from chainrule import autograd  # noqa: E402
from chainrule.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from chainrule.autograd.grad_mode import inference_mode, is_inference_mode_enabled
from chainrule.autograd.anomaly import is_anomaly_check_nan_enabled, is_anomaly_enabled, set_anomaly_enabled
from chainrule._format import get_printoptions, printoptions, set_printoptions
from chainrule.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from chainrule.settings import (
    are_deterministic_algorithms_enabled,
    get_deterministic_debug_mode,
    get_float32_matmul_precision,
    get_num_interop_threads,
    get_num_threads,
    is_deterministic_algorithms_warn_only_enabled,
    is_warn_always_enabled,
    set_deterministic_debug_mode,
    set_float32_matmul_precision,
    set_flush_denormal,
    set_num_interop_threads,
    set_num_threads,
    set_warn_always,
    use_deterministic_algorithms,
)
from chainrule.device import device, get_default_device, get_device_module, set_default_device
from chainrule.memory_layout import (  # noqa: F401
    channels_last,
    channels_last_3d,
    contiguous_format,
    jagged,
    layout,
    memory_format,
    preserve_format,
    sparse_bsc,
    sparse_bsr,
    sparse_coo,
    sparse_csc,
    sparse_csr,
    strided,
)
from chainrule.dtypes import (  # noqa: F401 (the dtypes NumPy has no type for, named as in PyTorch)
    bit,
    bits1x8,
    bits2x4,
    bits4x2,
    bits8,
    bits16,
    float4_e2m1fn_x2,
    float8_e4m3fn,
    float8_e4m3fnuz,
    float8_e5m2,
    float8_e5m2fnuz,
    float8_e8m0fnu,
    int1,
    int2,
    int3,
    int4,
    int5,
    int6,
    int7,
    qint8,
    qint32,
    quint2x4,
    quint4x2,
    quint8,
    uint1,
    uint2,
    uint3,
    uint4,
    uint5,
    uint6,
    uint7,
)
from chainrule.dtypes import (
    bfloat16,
    bool_ as bool,
    can_cast,
    cdouble,
    cfloat,
    chalf,
    complex32,
    complex64,
    complex128,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    set_default_dtype,
    short,
    uint8,
    uint16,
    uint32,
    uint64,
)
from chainrule.dtypes import int as int  # noqa: PLC0414
from chainrule.functional import *  # noqa: F401,F403  the operations as functions: chainrule.exp(x)
from chainrule.random import Generator, initial_seed, manual_seed, seed
from chainrule.random import get_rng_state, set_rng_state
from chainrule.tensor import Size, Tensor, from_numpy
from chainrule.legacy_types import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    set_default_tensor_type,
)
from chainrule.queries import _assert, _assert_async, is_floating_point, is_tensor, numel, typename
from chainrule.ops.operands import result_type
from chainrule.type_info import finfo, iinfo
from math import e, inf, nan, pi  # torch.pi, torch.e, torch.inf, torch.nan: Python floats, as in PyTorch

newaxis = None  # torch.newaxis, NumPy's: x[:, torch.newaxis] adds a dimension

from chainrule.version import __version__  # noqa: E402

# Subpackages, importable as attributes like torch.nn (import order: they build on the core above).
from chainrule import accelerator, backends, nn, optim, testing, utils  # noqa: E402
from chainrule import linalg  # noqa: E402  chainrule.linalg, as torch.linalg
from chainrule import fft  # noqa: E402  chainrule.fft, as torch.fft
from chainrule.serialization import load, save  # noqa: E402
from chainrule.serialization.file_reader import PyTorchFileReader  # noqa: E402
from chainrule.compile import compile  # noqa: A004,E402  chainrule.compile, as torch.compile
from chainrule import distributions, special  # noqa: E402  torch.distributions, torch.special
from chainrule import func  # noqa: E402  torch.func
from chainrule import profiler  # noqa: E402  torch.profiler
from chainrule import return_types  # noqa: E402  torch.return_types
from chainrule import sparse  # noqa: E402  torch.sparse: sparse COO tensors
from chainrule.sparse import dsmm, sparse_bsc_tensor, sparse_bsr_tensor, sparse_compressed_tensor, sparse_coo_tensor, sparse_csc_tensor, sparse_csr_tensor, spmm  # noqa: E402
from chainrule.func import vmap  # noqa: E402  torch.vmap
from chainrule import amp, cpu, cuda, jit, mps, onnx, xpu  # noqa: E402  torch.amp, .cuda, .jit, .mps, .onnx, .xpu: CPU stand-ins
from chainrule.amp import GradScaler, autocast  # noqa: E402  torch.GradScaler, torch.autocast
from chainrule.jit import ScriptModule  # noqa: E402  torch.ScriptModule (Lightning annotates with it)
from chainrule.amp import autocast_mode as _autocast_mode  # noqa: E402
from chainrule.amp.autocast_mode import (  # noqa: E402  torch.is_autocast_enabled...: autocast's state
    autocast_decrement_nesting,
    autocast_increment_nesting,
    clear_autocast_cache,
    get_autocast_dtype,
    is_autocast_cache_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
)
globals().update(_autocast_mode.DEVICE_NAMED_FORMS)  # torch.is_autocast_cpu_enabled()...: deprecated, with PyTorch's warning
from chainrule.accelerator import AcceleratorError, OutOfMemoryError  # noqa: E402  except torch.OutOfMemoryError
from chainrule import version  # noqa: E402  torch.version
from chainrule import _C, overrides  # noqa: E402  torch.overrides: the __torch_function__ protocol; torch._C's names for it
from chainrule.native_functions import *  # noqa: E402,F401,F403  torch.dropout, torch.batch_norm...: nn.functional's, ATen's order
from chainrule.ops.foreach import *  # noqa: E402,F401,F403  torch._foreach_add_, torch._foreach_norm...: over lists of tensors
from chainrule.random import default_generator  # noqa: E402
from chainrule.ops.fake_quantize import fake_quantize_per_channel_affine, fake_quantize_per_tensor_affine  # noqa: E402  torch.fake_quantize_*: quantization-aware training
from chainrule.ops.fake_quantize import fake_quantize_learnable_per_tensor_affine as _fake_quantize_learnable_per_tensor_affine  # noqa: E402  LSQ
from chainrule.quantized import (  # noqa: E402  torch.quantize_per_tensor...: quantized tensors and their schemes
    dequantize,
    per_channel_affine,
    per_channel_affine_float_qparams,
    per_channel_symmetric,
    per_tensor_affine,
    per_tensor_symmetric,
    qscheme,
    quantize_per_channel,
    quantize_per_tensor,
    quantize_per_tensor_dynamic,
)
from chainrule import storage  # noqa: E402  torch.storage; Tensor.untyped_storage, storage, set_...
from chainrule.storage import (  # noqa: E402  torch.UntypedStorage, torch.FloatStorage...
    BoolStorage,
    ByteStorage,
    CharStorage,
    DoubleStorage,
    FloatStorage,
    HalfStorage,
    IntStorage,
    LongStorage,
    ShortStorage,
    TypedStorage,
    UntypedStorage,
    is_storage,
)

Storage = FloatStorage  # torch.Storage: PyTorch's name of the default legacy storage type, FloatStorage itself
from chainrule.utils.dlpack import from_dlpack, to_dlpack  # noqa: E402  torch.from_dlpack, torch.to_dlpack
from chainrule.control_flow import cond, while_loop  # noqa: E402  torch.cond, torch.while_loop
from chainrule.streams import Event, Stream  # noqa: E402  torch.Stream, torch.Event: the CPU's
from chainrule.symbolic import (  # noqa: E402  torch.SymInt, torch.sym_max...: sizes are plain numbers here
    SymBool,
    SymFloat,
    SymInt,
    _shape_as_tensor,
    sym_float,
    sym_int,
    sym_ite,
    sym_max,
    sym_min,
    sym_not,
    sym_sqrt,
    sym_sum,
)
from chainrule.checks import (  # noqa: E402  torch._check...: preconditions with PyTorch's error types
    _check,
    _check_index,
    _check_is_size,
    _check_not_implemented,
    _check_tensor_all,
    _check_tensor_all_with,
    _check_type,
    _check_value,
    _check_with,
)

_LAZY_SUBPACKAGES = {"_utils", "datasets", "train", "viz", "examples", "compiler", "_dynamo", "_logging", "multiprocessing", "hub", "vision", "types", "quasirandom", "futures", "signal", "fx", "__config__", "_subclasses", "library", "_tensor", "_VF", "ao", "quantization", "masked", "nested", "export"}


def __getattr__(name):
    """``chainrule.viz``, ``chainrule.train``... load on first use, so ``import chainrule`` stays fast
    (``chainrule.compiler``, as torch.compiler, so that it does not import chainrule.compile in a circle)."""
    if name in _LAZY_SUBPACKAGES:
        import importlib

        return importlib.import_module(f"chainrule.{name}")
    if name == "Future":  # torch.Future, the class of torch.futures' futures (captum checks isinstance)
        from chainrule.futures import Future

        return Future
    if name == "torch":  # torch.torch is torch itself (kornia calls torch.torch.deg2rad)
        import sys

        return sys.modules[__name__]
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")


# The public classes print under the package, as PyTorch's do (<class 'torch.Tensor'>, torch.Size, ...)
for _public_class in (Tensor, Size, dtype, device, finfo, iinfo):
    _public_class.__module__ = "chainrule"
del _public_class
