"""Normalization layers: normalize activations to zero mean and unit variance, then let the layer
learn the scale (``weight``) and shift (``bias``) it wants.

Batch norm averages over the batch, so it behaves differently in training (the batch's statistics,
while tracking running averages) and in evaluation (the running averages). Layer norm averages over
each sample's own features and behaves the same in both; group norm over groups of channels of each
sample; instance norm over each channel of each sample; RMS norm divides by the root mean square
without centering; local response norm divides by the energy of neighbouring channels.
"""
import warnings

from chainrule import distributed
from chainrule.creation import ones, tensor, zeros
from chainrule.dtypes import int64
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops.normalization import CountBatch, apply_writing, cumulative_momentum


def _register_affine(module, enabled, bias, shape, device, dtype):
    """Register ``weight`` (ones) and ``bias`` (zeros) of ``shape``, or None for those left out."""
    module.register_parameter("weight", Parameter(ones(shape, device=device, dtype=dtype)) if enabled else None)
    module.register_parameter("bias", Parameter(zeros(shape, device=device, dtype=dtype)) if enabled and bias else None)


def reset_affine(module):
    """``reset_parameters`` of a normalization layer: ``weight`` back to ones, ``bias`` to zeros
    (those it has)."""
    if module.weight is not None:
        init.ones_(module.weight)
    if getattr(module, "bias", None) is not None:
        init.zeros_(module.bias)


def _over_last_dimensions(module, normalized_shape, eps, elementwise_affine, bias, device, dtype):
    """The settings LayerNorm and RMSNorm share: ``normalized_shape`` (an int or the last dimensions),
    ``eps``, and ``weight`` (and ``bias``) of that shape when ``elementwise_affine``."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    module.normalized_shape = tuple(normalized_shape)
    module.eps = eps
    module.elementwise_affine = elementwise_affine
    _register_affine(module, elementwise_affine, bias, module.normalized_shape, device, dtype)


class _NormBase(Module):
    """What batch and instance norm share: per-channel ``weight`` and ``bias`` (if ``affine``), the
    running statistics (if ``track_running_stats``), loading checkpoints older than
    ``num_batches_tracked``, and the repr."""

    _version = 2  # version 2 added the num_batches_tracked buffer, as in PyTorch

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _register_affine(self, affine, bias, (num_features,), device, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self):
        self.reset_running_stats()
        reset_affine(self)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        # A checkpoint from before version 2 (or a state dict without ``_metadata``) may lack
        # num_batches_tracked: PyTorch loads it, keeping the module's own count (0 when fresh).
        version = local_metadata.get("version", None)
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats and key not in state_dict:
            state_dict[key] = self.num_batches_tracked if self.num_batches_tracked is not None else tensor(0, dtype=int64)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)


class _BatchNorm(_NormBase):
    """Batch normalization over dimension 1 (the channels), for every BatchNorm layer.

    out = (x - mean) / sqrt(var + eps) * weight + bias. In training the batch's mean and (biased)
    variance are used, and ``running_mean`` / ``running_var`` move towards them by ``momentum``
    (the variance unbiased; ``momentum=None`` gives a plain average over all batches so far,
    counted in ``num_batches_tracked``). In evaluation the running statistics are used.
    """

    def __init__(
        self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None, *, bias=True
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias)

    def forward(self, input):
        self._check_input_dim(input)
        checked = "running_mean" if self.running_mean is not None else "weight" if self.weight is not None else None
        if checked is not None and input.shape[1] != self.num_features:  # with neither, any channel count works
            # that tensor's length is what PyTorch checks (a lazy norm loaded from a state dict has num_features 0)
            expected = len(getattr(self, checked))
            if input.shape[1] != expected:
                raise RuntimeError(
                    f"{checked} should contain {input.shape[1]} elements not {expected} "
                    f"({type(self).__name__}: expected input with {expected} channels (dimension 1, "
                    f"num_features) but got shape {tuple(input.shape)})"
                )
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            apply_writing(CountBatch, self.num_batches_tracked)
            if self.momentum is None:
                momentum = cumulative_momentum(self.num_batches_tracked)
        use_batch_statistics = self.training or self.running_mean is None
        tracking = not self.training or self.track_running_stats
        running_mean, running_var = (self.running_mean, self.running_var) if tracking else (None, None)
        return F.batch_norm(
            input,
            running_mean,
            running_var,
            self.weight,
            self.bias,
            use_batch_statistics,
            momentum,
            self.eps,
        )


def _check_batched_input(module, input, dims, layout):
    """BatchNorm's ValueError for input whose number of dimensions is not one of ``dims``."""
    if input.ndim not in dims:
        expected = " or ".join(f"{n}D" for n in dims)
        raise ValueError(
            f"expected {expected} input (got {input.ndim}D input) ({type(module).__name__} takes {layout}, got shape "
            f"{tuple(input.shape)})"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) input, one mean and variance per channel C
    (see ``_BatchNorm``)."""

    def _check_input_dim(self, input):
        _check_batched_input(self, input, (2, 3), "(N, C) or (N, C, L)")


class BatchNorm2d(_BatchNorm):
    """Batch normalization of images (N, C, H, W): one mean and variance per channel, over the
    batch and every position (N·H·W values each), as BatchNorm1d otherwise."""

    def _check_input_dim(self, input):
        _check_batched_input(self, input, (4,), "(N, C, H, W)")


class BatchNorm3d(_BatchNorm):
    """Batch normalization of volumes (N, C, D, H, W): one mean and variance per channel, over the
    batch and every position (N·D·H·W values each), as BatchNorm1d otherwise."""

    def _check_input_dim(self, input):
        _check_batched_input(self, input, (5,), "(N, C, D, H, W)")


class SyncBatchNorm(_BatchNorm):
    """Batch normalization of (N, C, +) input whose statistics, in PyTorch, are gathered across the
    processes of a group. PyTorch synchronizes GPU inputs only: here, as PyTorch on the CPU, it is
    plain batch norm when no process group is initialized (or in evaluation), and a CPU input in
    training under an initialized group is refused with PyTorch's ValueError.

    Convert a model's batch norm layers with ``SyncBatchNorm.convert_sync_batchnorm(model)``.
    """

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        process_group=None,
        device=None,
        dtype=None,
        *,
        bias=True,
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")

    def forward(self, input):
        self._check_input_dim(input)
        if input.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")
        use_batch_statistics = self.training or self.running_mean is None
        if use_batch_statistics and self.training and distributed.is_available() and distributed.is_initialized():
            raise ValueError(
                "SyncBatchNorm expected input tensor to be on GPU or XPU or privateuseone: chainrule runs "
                "on the CPU and cannot synchronize batch statistics; use BatchNorm (each process its own "
                "statistics) or convert back before training under a process group"
            )
        return super().forward(input)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Replace every BatchNorm layer in ``module`` by a SyncBatchNorm holding the same
        parameters and buffers (the same tensor objects); a BatchNorm given itself comes back as
        a new SyncBatchNorm, anything else is changed in place and returned."""
        converted = module
        if isinstance(module, _BatchNorm):
            converted = cls(
                module.num_features,
                module.eps,
                module.momentum,
                module.affine,
                module.track_running_stats,
                process_group,
                bias=module.bias is not None,
            )
            if module.affine:
                converted.weight = module.weight
                converted.bias = module.bias
            converted.running_mean = module.running_mean
            converted.running_var = module.running_var
            converted.num_batches_tracked = module.num_batches_tracked
            converted.training = module.training
            if hasattr(module, "qconfig"):
                converted.qconfig = module.qconfig
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted


class LayerNorm(Module):
    """Normalize each sample over its last dimensions ``normalized_shape``: (*, *normalized_shape).

    out = (x - mean) / sqrt(var + eps) * weight + bias, with the statistics of each sample alone;
    ``weight`` (ones) and ``bias`` (zeros) have shape ``normalized_shape``.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        _over_last_dimensions(self, normalized_shape, eps, elementwise_affine, bias, device, dtype)

    reset_parameters = reset_affine

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Group normalization: (N, C, *) -> (N, C, *), each sample's C channels standardized in
    ``num_groups`` groups (see ``functional.group_norm``); ``weight`` (ones) and ``bias`` (zeros)
    of shape (C,). The same in training and evaluation, and for any batch size."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _register_affine(self, affine, bias, (num_channels,), device, dtype)

    reset_parameters = reset_affine

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.bias is not None}"


class _InstanceNorm(_NormBase):
    """Instance normalization: each channel of each sample standardized over its positions (see
    ``functional.instance_norm``), for input of ``_get_no_batch_dim() + 1`` dimensions or unbatched
    of one fewer. No ``weight`` and ``bias`` unless ``affine=True``; with
    ``track_running_stats=True`` running averages are kept in training and used in evaluation."""

    def __init__(
        self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None, dtype=None, *, bias=True
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias)

    def _get_no_batch_dim(self):
        raise NotImplementedError

    def _check_input_dim(self, input):
        unbatched = self._get_no_batch_dim()
        if input.ndim not in (unbatched, unbatched + 1):
            raise ValueError(f"expected {unbatched}D or {unbatched + 1}D input (got {input.ndim}D input)")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        # Checkpoints from before PyTorch 0.4 hold running statistics even without tracking.
        if local_metadata.get("version", None) is None and not self.track_running_stats:
            stale = [prefix + name for name in ("running_mean", "running_var") if prefix + name in state_dict]
            if stale:
                klass = type(self).__name__
                error_msgs.append(
                    "Unexpected running stats buffer(s) {names} for {klass} with track_running_stats=False. If "
                    "state_dict is a checkpoint saved before 0.4.0, this may be expected because {klass} does not "
                    "track running stats by default since 0.4.0. Please remove these keys from state_dict. If the "
                    "running stats are actually needed, instead set track_running_stats=True in {klass} to enable "
                    "them. See the documentation of {klass} for details.".format(
                        names=" and ".join(f'"{key}"' for key in stale), klass=klass
                    )
                )
                for key in stale:
                    state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)

    def forward(self, input):
        self._check_input_dim(input)
        batched = input.ndim == self._get_no_batch_dim() + 1
        channels = input.shape[1 if batched else 0]
        if channels != self.num_features:
            if self.affine:
                raise ValueError(
                    f"expected input's size at dim={int(batched)} to match num_features ({self.num_features}), "
                    f"but got: {channels}."
                )
            warnings.warn(
                f"input's size at dim={int(batched)} does not match num_features. You can silence this warning by "
                "not passing in num_features, which is not used because affine=False",
                stacklevel=2,
            )
        output = F.instance_norm(
            input if batched else input.unsqueeze(0),
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            self.momentum if self.momentum is not None else 0.0,
            self.eps,
        )
        return output if batched else output.squeeze(0)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) or unbatched (C, L) (see ``_InstanceNorm``)."""

    def _get_no_batch_dim(self):
        return 2


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of images (N, C, H, W) or unbatched (C, H, W), as InstanceNorm1d."""

    def _get_no_batch_dim(self):
        return 3


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of volumes (N, C, D, H, W) or unbatched (C, D, H, W), as InstanceNorm1d."""

    def _get_no_batch_dim(self):
        return 4


class RMSNorm(Module):
    """Root-mean-square normalization over the last dimensions ``normalized_shape``:
    out = x / √(mean(x²) + eps) · weight, ``weight`` (ones) of shape ``normalized_shape``."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        _over_last_dimensions(self, normalized_shape, eps, elementwise_affine, False, device, dtype)

    reset_parameters = reset_affine

    def forward(self, input):
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class LocalResponseNorm(Module):
    """Each channel divided by the energy of its ``size`` neighbouring channels (see
    ``functional.local_response_norm``): (N, C, *) -> (N, C, *). No parameters."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
