"""Lazy modules: layers that learn their input size from the first batch, as PyTorch's.

``nn.LazyLinear(10)`` needs no ``in_features``: its weight is an ``UninitializedParameter`` until the
first forward, which reads the input's last dimension, gives the parameters their shapes, draws
their starting values as the ordinary layer would, and turns the module into that layer
(``LazyLinear`` becomes ``Linear``). Run one batch through a lazy model before counting or
copying its parameters; an optimizer may be built before, as it holds the same parameter objects.
Loading a state dict into a lazy module gives its parameters the checkpoint's shapes; the first
forward then keeps the loaded values. As in PyTorch, the first forward sets the size attribute
(``in_channels``, ``num_features``) only where it has something to materialize: a conv or a norm
loaded from a state dict, or a norm without affine parameters and running statistics, keeps 0
(its repr says ``Conv2d(0, 3, ...)``), which its forward does not need. A ``LazyLinear`` checks the
input against the loaded weight and takes ``in_features`` from it, as PyTorch's; so does a lazy
InstanceNorm with affine parameters, whose forward checks ``num_features`` (PyTorch's leaves 0 there
and then refuses every input).
"""
from chainrule.autograd.grad_mode import no_grad
from chainrule.creation import tensor
from chainrule.dtypes import int64
from chainrule.nn.conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from chainrule.nn.linear import Linear
from chainrule.nn.normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    _BatchNorm,
    _InstanceNorm,
    _NormBase,
)
from chainrule.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy


class LazyModuleMixin:
    """Mixed in before a layer class: a forward pre-hook calls ``initialize_parameters`` with the
    forward's arguments once, then the module becomes ``cls_to_become``."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(LazyModuleMixin._infer_parameters, with_kwargs=True)

    def has_uninitialized_params(self):
        """Whether any of this module's own parameters or buffers still waits for its shape."""
        return any(is_lazy(value) for value in (*self._parameters.values(), *self._buffers.values()))

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    @staticmethod
    def _infer_parameters(module, args, kwargs=None):
        with no_grad():
            module.initialize_parameters(*args, **(kwargs or {}))  # as the forward is called: m(input=x) too
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        del module._initialize_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _materialize(self, shapes):
        """Give each still-uninitialized parameter or buffer named in ``shapes`` its shape, then draw
        the layer's starting values (called when one at least waits; a partial load is drawn over,
        as in PyTorch)."""
        for name, shape in shapes.items():
            if is_lazy(getattr(self, name)):
                getattr(self, name).materialize(shape)
        self.reset_parameters()


class LazyLinear(LazyModuleMixin, Linear):
    """A Linear layer whose ``in_features`` is the last dimension of its first input:
    (*, in_features) -> (*, out_features). Becomes ``Linear`` after the first forward."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False, device, dtype)
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            self.in_features = input.shape[-1]
            self._materialize({"weight": (self.out_features, self.in_features), "bias": (self.out_features,)})
        if self.in_features == 0:  # the weight was loaded from a state dict: PyTorch's check, then its size
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(
                    f"The in_features inferred from input: {input.shape[-1]} is not equal to in_features from "
                    f"self.weight: {self.weight.shape[-1]}"
                )
            self.in_features = input.shape[-1]


class _LazyConvXdMixin(LazyModuleMixin):
    """In-channels from the first input: dimension 1 of a batched input, 0 of an unbatched one."""

    def __init__(
        self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros", device=None, dtype=None
    ):
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype)
        self._lazy_init(out_channels, bias, dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _lazy_init(self, out_channels, bias, dtype):
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def initialize_parameters(self, input, *args, **kwargs):  # (a transposed conv's output_size too)
        if self.has_uninitialized_params():
            unbatched, batched = self.spatial + 1, self.spatial + 2
            if input.ndim not in (unbatched, batched):
                raise RuntimeError(
                    f"Expected {unbatched}D (unbatched) or {batched}D (batched) input to {type(self).__name__}, but got "
                    f"input of size: {tuple(input.shape)}"
                )
            self.in_channels = input.shape[1 if input.ndim == batched else 0]
            if self.in_channels % self.groups:
                raise ValueError("in_channels must be divisible by groups")
            if self.transposed:
                weight_shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
            else:
                weight_shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
            self._materialize({"weight": weight_shape, "bias": (self.out_channels,)})


class LazyConv1d(_LazyConvXdMixin, Conv1d):
    """A Conv1d whose ``in_channels`` comes from the first input. Becomes ``Conv1d``."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyConvXdMixin, Conv2d):
    """A Conv2d whose ``in_channels`` comes from the first input. Becomes ``Conv2d``."""

    cls_to_become = Conv2d


class LazyConv3d(_LazyConvXdMixin, Conv3d):
    """A Conv3d whose ``in_channels`` comes from the first input. Becomes ``Conv3d``."""

    cls_to_become = Conv3d


def _lazy_conv_transpose_init(
    self,
    out_channels,
    kernel_size,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    bias=True,
    dilation=1,
    padding_mode="zeros",
    device=None,
    dtype=None,
):
    """The lazy transposed convolutions' ``__init__``: their layers' arguments (output_padding
    before groups), passed past _LazyConvXdMixin's ``__init__`` (the convolutions' arguments)."""
    super(_LazyConvXdMixin, self).__init__(
        0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode, device, dtype
    )
    self._lazy_init(out_channels, bias, dtype)


class LazyConvTranspose1d(_LazyConvXdMixin, ConvTranspose1d):
    """A ConvTranspose1d whose ``in_channels`` comes from the first input. Becomes ``ConvTranspose1d``."""

    cls_to_become = ConvTranspose1d
    __init__ = _lazy_conv_transpose_init


class LazyConvTranspose2d(_LazyConvXdMixin, ConvTranspose2d):
    """A ConvTranspose2d whose ``in_channels`` comes from the first input. Becomes ``ConvTranspose2d``."""

    cls_to_become = ConvTranspose2d
    __init__ = _lazy_conv_transpose_init


class LazyConvTranspose3d(_LazyConvXdMixin, ConvTranspose3d):
    """A ConvTranspose3d whose ``in_channels`` comes from the first input. Becomes ``ConvTranspose3d``."""

    cls_to_become = ConvTranspose3d
    __init__ = _lazy_conv_transpose_init


class _LazyNormBase(LazyModuleMixin, _NormBase):
    """num_features from dimension 1 of the first input; weight, bias and the running statistics
    wait for it."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__(0, eps, momentum, False, False, device, dtype)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(dtype=dtype)
            self.running_var = UninitializedBuffer(dtype=dtype)
            self.num_batches_tracked = tensor(0, dtype=int64)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            features = (self.num_features,)
            self._materialize({"weight": features, "bias": features, "running_mean": features, "running_var": features})


class LazyBatchNorm1d(_LazyNormBase, _BatchNorm):
    """A BatchNorm1d whose ``num_features`` comes from the first input. Becomes ``BatchNorm1d``."""

    cls_to_become = BatchNorm1d
    _check_input_dim = BatchNorm1d._check_input_dim


class LazyBatchNorm2d(_LazyNormBase, _BatchNorm):
    """A BatchNorm2d whose ``num_features`` comes from the first input. Becomes ``BatchNorm2d``."""

    cls_to_become = BatchNorm2d
    _check_input_dim = BatchNorm2d._check_input_dim


class LazyBatchNorm3d(_LazyNormBase, _BatchNorm):
    """A BatchNorm3d whose ``num_features`` comes from the first input. Becomes ``BatchNorm3d``."""

    cls_to_become = BatchNorm3d
    _check_input_dim = BatchNorm3d._check_input_dim


def _initialize_instance_norm(self, input):
    """The lazy instance norms' ``initialize_parameters``: _LazyNormBase's, and with affine
    parameters loaded from a state dict, ``num_features`` their length (PyTorch's stays 0, and its
    forward then refuses every input: not copied)."""
    _LazyNormBase.initialize_parameters(self, input)
    if self.num_features == 0 and self.affine:
        self.num_features = len(self.weight)


class LazyInstanceNorm1d(_LazyNormBase, _InstanceNorm):
    """An InstanceNorm1d whose ``num_features`` comes from the first input. Becomes
    ``InstanceNorm1d``. Note PyTorch's defaults here: ``affine=True, track_running_stats=True``."""

    cls_to_become = InstanceNorm1d
    initialize_parameters = _initialize_instance_norm
    _get_no_batch_dim = InstanceNorm1d._get_no_batch_dim


class LazyInstanceNorm2d(_LazyNormBase, _InstanceNorm):
    """An InstanceNorm2d whose ``num_features`` comes from the first input. Becomes ``InstanceNorm2d``."""

    cls_to_become = InstanceNorm2d
    initialize_parameters = _initialize_instance_norm
    _get_no_batch_dim = InstanceNorm2d._get_no_batch_dim


class LazyInstanceNorm3d(_LazyNormBase, _InstanceNorm):
    """An InstanceNorm3d whose ``num_features`` comes from the first input. Becomes ``InstanceNorm3d``."""

    cls_to_become = InstanceNorm3d
    initialize_parameters = _initialize_instance_norm
    _get_no_batch_dim = InstanceNorm3d._get_no_batch_dim
