"""Pooling layers: summarize each window of a feature map by its maximum or its mean, shrinking
the map (and making the result tolerant of small shifts). No parameters; see nn.functional."""
from chainrule.nn import functional as F
from chainrule.nn.module import Module
from chainrule.ops.windows import per_dimension


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}"


class MaxPool1d(_MaxPoolNd):
    """The maximum of each window of length kernel_size: (N, C, L) -> (N, C, L_out)."""

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """The maximum of each window: (N, C, H, W) -> (N, C, H_out, W_out), with
    H_out = (H + 2 padding - dilation (k - 1) - 1) // stride + 1; stride defaults to kernel_size."""

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices)


class MaxPool3d(_MaxPoolNd):
    """The maximum of each window of a volume: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out),
    sizes as MaxPool2d along each dimension."""

    def forward(self, input):
        return F.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices)


class _AvgPoolNd(Module):
    """What the average pooling layers share: their options and the repr."""

    def __init__(self, kernel_size, stride, padding, ceil_mode, count_include_pad):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _single(value):
    return (value,) if isinstance(value, int) else tuple(value)


class AvgPool1d(_AvgPoolNd):
    """The mean of each window of length kernel_size: (N, C, L) -> (N, C, L_out)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        stride = kernel_size if stride is None else stride
        super().__init__(_single(kernel_size), _single(stride), _single(padding), ceil_mode, count_include_pad)

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """The mean of each window: (N, C, H, W) -> (N, C, H_out, W_out), sizes as MaxPool2d."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
        # _AvgPoolNd named, not super(): AvgPool3d shares this __init__.
        _AvgPoolNd.__init__(self, kernel_size, stride, padding, ceil_mode, count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad, self.divisor_override)


class AvgPool3d(_AvgPoolNd):
    """The mean of each window of a volume: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out), sizes as MaxPool3d."""

    __init__ = AvgPool2d.__init__

    def forward(self, input):
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad, self.divisor_override)


class _AdaptiveAvgPoolNd(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class _AdaptiveMaxPoolNd(Module):
    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed output length L_out, whatever the input's length:
    (N, C, L) -> (N, C, L_out). ``AdaptiveAvgPool1d(1)`` is global average pooling."""

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed output size (H_out, W_out), whatever the input's size:
    (N, C, H, W) -> (N, C, H_out, W_out). ``AdaptiveAvgPool2d(1)`` is global average pooling."""

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Average pooling of volumes to a fixed output size (D_out, H_out, W_out), whatever the
    input's size: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out)."""

    def forward(self, input):
        return F.adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed output length L_out: (N, C, L) -> (N, C, L_out)."""

    def forward(self, input):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed output size (H_out, W_out): (N, C, H, W) -> (N, C, H_out, W_out)."""

    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max pooling of volumes to a fixed output size (D_out, H_out, W_out): (N, C, D, H, W) -> (N, C, D_out, H_out, W_out)."""

    def forward(self, input):
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    """Undoes a max pooling of the same geometry: each value back at the index the pooling gave."""

    spatial = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = per_dimension(kernel_size, self.spatial, "kernel_size", type(self).__name__)
        self.stride = per_dimension(stride if stride is not None else kernel_size, self.spatial, "stride", type(self).__name__)
        self.padding = per_dimension(padding, self.spatial, "padding", type(self).__name__)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """(N, C, L_in) values and the indices of MaxPool1d(return_indices=True) -> (N, C, L), zeros
    where no maximum came from; L = (L_in - 1) stride - 2 padding + kernel_size, or ``output_size``."""

    spatial = 1

    def forward(self, input, indices, output_size=None):
        return F.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool2d(_MaxUnpoolNd):
    """(N, C, H_in, W_in) values and the indices of MaxPool2d(return_indices=True) -> (N, C, H, W),
    zeros where no maximum came from; H = (H_in - 1) stride - 2 padding + kh (W alike), or ``output_size``."""

    def forward(self, input, indices, output_size=None):
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool3d(_MaxUnpoolNd):
    """(N, C, D_in, H_in, W_in) values and the indices of MaxPool3d(return_indices=True) -> (N, C,
    D, H, W), zeros where no maximum came from; D = (D_in - 1) stride - 2 padding + kd (H, W alike),
    or ``output_size``."""

    spatial = 3

    def forward(self, input, indices, output_size=None):
        return F.max_unpool3d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class _LPPoolNd(Module):
    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def extra_repr(self):
        return f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, ceil_mode={self.ceil_mode}"


class LPPool1d(_LPPoolNd):
    """Power-average pooling: each window's (Σ x^p)^(1/p), p = ``norm_type``: (N, C, L) -> (N, C, L_out)."""

    def forward(self, input):
        return F.lp_pool1d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool2d(_LPPoolNd):
    """Power-average pooling: each window's (Σ x^p)^(1/p), p = ``norm_type``: (N, C, H, W) -> (N, C, H_out, W_out)."""

    def forward(self, input):
        return F.lp_pool2d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool3d(_LPPoolNd):
    """Power-average pooling of volumes: each window's (Σ x^p)^(1/p), p = ``norm_type``:
    (N, C, D, H, W) -> (N, C, D_out, H_out, W_out)."""

    def forward(self, input):
        return F.lp_pool3d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


def _store_fractional_options(module, spatial, kernel_size, output_size, output_ratio, return_indices, _random_samples):
    """Check and store the options of FractionalMaxPool2d / 3d (``spatial`` 2 or 3); ``_random_samples`` is a buffer."""
    name = type(module).__name__
    module.kernel_size = per_dimension(kernel_size, spatial, "kernel_size", name)
    module.return_indices = return_indices
    module.register_buffer("_random_samples", _random_samples)
    module.output_size = per_dimension(output_size, spatial, "output_size", name) if output_size is not None else None
    module.output_ratio = (
        None if output_ratio is None
        else (output_ratio,) * spatial if isinstance(output_ratio, (int, float)) else tuple(output_ratio)
    )
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output size, or a pooling ratio")
    if output_size is not None and output_ratio is not None:
        raise ValueError("only one of output_size and output_ratio may be specified")
    if module.output_ratio is not None and not all(0 < ratio < 1 for ratio in module.output_ratio):
        raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")


class FractionalMaxPool2d(Module):
    """Max pooling over pseudo-random overlapping windows that shrink (N, C, H, W) by a fractional
    factor: to ``output_size`` or ``output_ratio`` times the input (a new draw each call unless
    ``_random_samples`` is given)."""

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None):
        super().__init__()
        _store_fractional_options(self, 2, kernel_size, output_size, output_ratio, return_indices, _random_samples)

    def forward(self, input):
        return F.fractional_max_pool2d(
            input, self.kernel_size, self.output_size, self.output_ratio, self.return_indices, _random_samples=self._random_samples
        )


class FractionalMaxPool3d(Module):
    """FractionalMaxPool2d over (N, C, T, H, W)."""

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None):
        super().__init__()
        _store_fractional_options(self, 3, kernel_size, output_size, output_ratio, return_indices, _random_samples)

    def forward(self, input):
        return F.fractional_max_pool3d(
            input, self.kernel_size, self.output_size, self.output_ratio, self.return_indices, _random_samples=self._random_samples
        )
