"""The names course code reaches for in PyTorch's C extension, ``torch._C``: switching
``__torch_function__`` off, asking about it and opting a Tensor subclass out of it (see
``overrides.py``), Tensor's base class, the random ``Generator`` (``random.py``), whose class is
named as living here, as PyTorch's, and the few helpers libraries built on PyTorch call directly
(Lightning's ``_nn._parse_to``, pyro's ``_get_tracing_state``)."""
from chainrule.overrides import DisableTorchFunction, DisableTorchFunctionSubclass  # noqa: F401  torch._C's names
from chainrule.overrides import _is_torch_function_enabled, _is_torch_function_mode_enabled  # noqa: F401
from chainrule.overrides import has_torch_function as _has_torch_function  # noqa: F401  (torch.overrides' are these)
from chainrule.overrides import has_torch_function_unary as _has_torch_function_unary  # noqa: F401
from chainrule.overrides import has_torch_function_variadic as _has_torch_function_variadic  # noqa: F401
from chainrule.overrides import disabled_torch_function_impl as _disabled_torch_function_impl  # noqa: F401
from chainrule.random import Generator  # noqa: F401,E402
from chainrule.device import device as as_device  # noqa: E402
from chainrule.ops.elementwise import to_arguments  # noqa: E402
from chainrule.tensor import Tensor  # noqa: E402
from chainrule.func import custom_functions  # noqa: E402
from chainrule.nn.parallel import reducer as ddp_reducer  # noqa: E402
from chainrule import profiler  # noqa: E402


def _log_api_usage_once(event):
    """PyTorch's usage logging (torchaudio's and torchvision's constructors call it): nothing to log."""


#: The metaclass of ``Tensor`` (Lightning annotates with it).
_TensorMeta = type(Tensor)

#: PyTorch's C++ base class of ``Tensor``, which holds its methods (``isinstance(x, TensorBase)``,
#: ``TensorBase.add``): here Tensor itself holds them, so it is its own base.
TensorBase = _TensorBase = Tensor


class Graph:
    """TorchScript's graph, which ONNX export hands to an autograd Function's ``symbolic(g:
    torch._C.Graph, input: torch._C.Value)`` (transformers' SEW-D annotates one so): chainrule
    has no TorchScript, so nothing is built in one; ``Value`` and ``Node`` are its parts."""


class Value:
    """A value of a TorchScript ``Graph`` (see ``Graph``)."""

    def __init__(self):
        raise TypeError("torch._C.Value: No constructor defined!")


class Node:
    """An operation of a TorchScript ``Graph`` (see ``Graph``)."""

    def __init__(self):
        raise TypeError("torch._C.Node: No constructor defined!")


def _get_tracing_state():
    """None: nothing is being traced by ``torch.jit.trace`` (chainrule's runs the function as
    Python), as PyTorch answers outside a trace (pyro asks on every masked ``log_prob``)."""
    return None


def _are_functorch_transforms_active():
    """Whether a ``torch.func`` transform (vmap, grad, jacrev...) is running its function now."""
    return bool(custom_functions._running)


class _functorch:
    """``torch._C._functorch``: what functorch's tensor wrappers are; here a transform's function
    sees plain tensors (vmap runs it once per element), so none is batched or wrapped."""

    @staticmethod
    def is_batchedtensor(tensor):
        return False

    @staticmethod
    def is_legacy_batchedtensor(tensor):
        return False

    @staticmethod
    def is_gradtrackingtensor(tensor):
        return False

    @staticmethod
    def is_functionaltensor(tensor):
        return False


class _nn:
    """``torch._C._nn``: the one function of torch.nn's C++ half that libraries call themselves."""

    @staticmethod
    def _parse_to(*args, **kwargs):
        """``(device, dtype, non_blocking, memory_format)`` of the arguments of ``Tensor.to`` (any
        of its forms), None for those not given, as ``Module.to`` reads them (Lightning's
        ``DeviceDtypeModuleMixin`` does too)."""
        device, dtype, non_blocking, _ = to_arguments(args, kwargs)
        return (None if device is None else as_device(device)), dtype, non_blocking, kwargs.get("memory_format")


class _distributed_c10d:
    """``torch._C._distributed_c10d``: where PyTorch keeps DistributedDataParallel's ``Reducer``
    (Lightning names it in a type cast)."""

    Reducer = ddp_reducer.Reducer


class _profiler:
    """``torch._C._profiler``: the options object of ``profile(experimental_config=...)``."""

    _ExperimentalConfig = profiler._ExperimentalConfig
