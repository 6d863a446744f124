"""BatchNorm1d, BatchNorm2d and LayerNorm: normalize activations to zero mean and unit variance, then let the
layer learn the scale (``weight``) and shift (``bias``) it wants.

Batch norm averages over the batch, so it behaves differently in training (the batch's statistics,
while tracking running averages) and in evaluation (the running averages). Layer norm averages over
each sample's own features and behaves the same in both.
"""
from chainrule.creation import ones, tensor, zeros
from chainrule.dtypes import int64
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops.normalization import CountBatch, apply_writing
from chainrule.device import check_device


def _register_affine(module, enabled, bias, shape, dtype):
    """Register ``weight`` (ones) and ``bias`` (zeros) of ``shape``, or None for those left out."""
    module.register_parameter("weight", Parameter(ones(shape, dtype=dtype)) if enabled else None)
    module.register_parameter("bias", Parameter(zeros(shape, dtype=dtype)) if enabled and bias else None)


class BatchNorm1d(Module):
    """Batch normalization of (N, C) or (N, C, L) input, one mean and variance per channel C.

    out = (x - mean) / sqrt(var + eps) * weight + bias. In training the batch's mean and (biased)
    variance are used, and ``running_mean`` / ``running_var`` move towards them by ``momentum``
    (the variance unbiased; ``momentum=None`` gives a plain average over all batches so far,
    counted in ``num_batches_tracked``). In evaluation the running statistics are used.
    """

    def __init__(
        self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None, *, bias=True
    ):
        super().__init__()
        check_device(device)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _register_affine(self, affine, bias, (num_features,), dtype)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=int64))
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
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input_dim(self, input):
        if input.ndim not in (2, 3):
            raise ValueError(
                f"expected 2D or 3D input (got {input.ndim}D input of shape {tuple(input.shape)}); "
                f"BatchNorm1d takes (N, C) or (N, C, L)"
            )

    def forward(self, input):
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise RuntimeError(
                f"{type(self).__name__}: expected input with {self.num_features} channels (dimension 1, "
                f"num_features) but got shape {tuple(input.shape)}"
            )
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            apply_writing(CountBatch, self.num_batches_tracked)
            if self.momentum is None:
                momentum = 1.0 / int(self.num_batches_tracked)
        use_batch_statistics = self.training or self.running_mean is None
        tracking = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if tracking else None,
            self.running_var if tracking else None,
            self.weight,
            self.bias,
            use_batch_statistics,
            momentum,
            self.eps,
        )

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm2d(BatchNorm1d):
    """Batch normalization of images (N, C, H, W): one mean and variance per channel, over the
    batch and every position (N·H·W values each), as BatchNorm1d otherwise."""

    def _check_input_dim(self, input):
        if input.ndim != 4:
            raise ValueError(
                f"expected 4D input (got {input.ndim}D input of shape {tuple(input.shape)}); "
                f"BatchNorm2d takes (N, C, H, W)"
            )


class LayerNorm(Module):
    """Normalize each sample over its last dimensions ``normalized_shape``: (*, *normalized_shape).

    out = (x - mean) / sqrt(var + eps) * weight + bias, with the statistics of each sample alone;
    ``weight`` (ones) and ``bias`` (zeros) have shape ``normalized_shape``.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        check_device(device)
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _register_affine(self, elementwise_affine, bias, self.normalized_shape, dtype)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )
