"""Convolution layers: Conv1d, Conv2d, Conv3d and their transposed ones, a learned kernel slid over the input.

Each holds ``weight`` and (optionally) ``bias`` and calls ``nn.functional``; they start as
PyTorch's do: ``kaiming_uniform_(weight, a=√5)``, that is U(-1/√fan_in, 1/√fan_in) with fan_in =
in_channels / groups · kernel area, and the bias from the same range. A model built in both
libraries from one seed then starts from the same statistics.
"""

from chainrule.creation import empty
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops.windows import LAYOUTS, per_dimension

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What the convolution layers share: arguments per dimension, parameters, initialization, repr."""

    spatial = 2
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, output_padding=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if groups < 1:
            raise ValueError(f"groups must be a positive integer ({name}: got groups={groups})")
        for role, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
            if channels % groups:
                raise ValueError(f"{role} must be divisible by groups ({name}: {role}={channels}, groups={groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {list(_PADDING_MODES)}, but got padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = per_dimension(kernel_size, self.spatial, "kernel_size", name)
        self.stride = per_dimension(stride, self.spatial, "stride", name)
        self.dilation = per_dimension(dilation, self.spatial, "dilation", name)
        self.output_padding = per_dimension(output_padding, self.spatial, "output_padding", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string '{padding}', should be one of ('valid', 'same')")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = per_dimension(padding, self.spatial, "padding", name)
        self.padding_mode = padding_mode
        self._reversed_padding_repeated_twice = self._padding_for_pad()
        shape = (in_channels, out_channels // groups) if self.transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(empty(*shape, *self.kernel_size, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw fresh starting values (from the global generator), as PyTorch does."""
        init.layer_defaults_(self.weight, self.bias)

    def _padding_for_pad(self):
        """PyTorch's ``_reversed_padding_repeated_twice``: the padding as ``F.pad`` takes it (last
        dimension first, before and after), for the modes other than zeros. 'same' pads dilation ·
        (k - 1) in all, half before (rounded down) and the rest after, so even kernels work too."""
        if self.padding == "valid":
            return [0, 0] * self.spatial
        if self.padding == "same":
            amounts = []
            for dilation, kernel in zip(reversed(self.dilation), reversed(self.kernel_size)):
                total = dilation * (kernel - 1)
                amounts += [total // 2, total - total // 2]
            return amounts
        return tuple(amount for each in reversed(self.padding) for amount in (each, each))  # a tuple here, as PyTorch's

    def _padded(self, input):
        """The input and the padding left for the convolution: non-zero modes pad beforehand."""
        if self.padding_mode == "zeros":
            return input, self.padding
        return F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode), 0

    def _check_channels(self, input):
        """PyTorch's error, naming the layer: input with the wrong layout or number of channels."""
        layout = LAYOUTS[self.spatial]
        if input.ndim not in (self.spatial + 1, self.spatial + 2):
            raise RuntimeError(
                f"Expected {self.spatial + 1}D (unbatched) or {self.spatial + 2}D (batched) input to "
                f"conv{'_transpose' * self.transposed}{self.spatial}d, but got input of size: {list(input.shape)} ({self!r} "
                f"takes {layout})"
            )
        channels = input.shape[-self.spatial - 1]
        if channels == self.in_channels:
            return
        # what the weight takes, as PyTorch checks it (a lazy conv loaded from a state dict has in_channels 0)
        expected = self.weight.shape[0] if self.transposed else self.weight.shape[1] * self.groups
        if channels != expected:
            given = "transposed=1" if self.transposed else f"groups={self.groups}"
            batched = list(input.shape) if input.ndim == self.spatial + 2 else [1, *input.shape]
            raise RuntimeError(
                f"Given {given}, weight of size {list(self.weight.shape)}, expected input{batched} to have "
                f"{expected} channels, but got {channels} channels instead ({self!r}: channels are dimension "
                f"{input.ndim - self.spatial - 1}, in_channels; the layout is {layout})"
            )

    def forward(self, input):
        self._check_channels(input)
        input, padding = self._padded(input)
        try:
            return self._convolve(input, padding)
        except RuntimeError as error:  # e.g. an input smaller than the kernel: say which layer, after PyTorch's words
            raise RuntimeError(f"{error} (in {self!r})") from None

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self.spatial:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.spatial:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.spatial:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    """1-d convolution: (N, C_in, L) -> (N, C_out, L_out), weight (C_out, C_in / groups, k).

    L_out = (L + 2 padding - dilation (k - 1) - 1) // stride + 1 (``padding='same'`` keeps L).
    """

    spatial = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device=device, dtype=dtype)

    def _convolve(self, input, padding):
        return F.conv1d(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-d convolution: (N, C_in, H, W) -> (N, C_out, H_out, W_out), weight (C_out, C_in / groups, kh, kw).

    H_out = (H + 2 padding - dilation (kh - 1) - 1) // stride + 1, W_out alike (``padding='same'``
    keeps H and W). Each output channel sums C_in / groups input channels, each convolved with its
    own kh x kw kernel, plus a bias.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device=device, dtype=dtype)

    def _convolve(self, input, padding):
        return F.conv2d(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv3d(_ConvNd):
    """3-d convolution of volumes: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out), weight
    (C_out, C_in / groups, kd, kh, kw).

    D_out = (D + 2 padding - dilation (kd - 1) - 1) // stride + 1, H_out and W_out alike
    (``padding='same'`` keeps D, H and W).
    """

    spatial = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device=device, dtype=dtype)

    def _convolve(self, input, padding):
        return F.conv3d(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    """What the transposed convolution layers share: weight (C_in, C_out / groups, *kernel), zero padding only."""

    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of ints, not '{padding}'")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, output_padding, device, dtype)

    def forward(self, input, output_size=None):
        """``output_size`` (the spatial sizes, or the whole shape) picks among the sizes a strided
        transposed convolution can give: it sets the output padding for this call."""
        self._check_channels(input)
        output_padding = self._output_padding(input, output_size, self.stride, self.padding, self.kernel_size, self.spatial, self.dilation)
        try:
            return self._convolve(input, self.padding, tuple(output_padding))
        except RuntimeError as error:
            raise RuntimeError(f"{error} (in {self!r})") from None

    def _output_padding(self, input, output_size, stride, padding, kernel_size, num_spatial_dims, dilation=None):
        """The output padding giving ``output_size`` (``self.output_padding`` when it is None); a
        ValueError, as PyTorch's, for a size no output padding in [0, stride) reaches."""
        if output_size is None:
            return list(self.output_padding)
        leading = 2 if input.ndim == num_spatial_dims + 2 else 1
        output_size = list(output_size)
        if len(output_size) == leading + num_spatial_dims:
            output_size = output_size[leading:]
        if len(output_size) != num_spatial_dims:
            raise ValueError(
                f"ConvTranspose{num_spatial_dims}D: for {input.ndim}D input, output_size must have {num_spatial_dims} "
                f"or {leading + num_spatial_dims} elements (got {len(output_size)})"
            )
        dilation = dilation if dilation is not None else (1,) * num_spatial_dims
        min_sizes = [
            (input.shape[leading + d] - 1) * stride[d] - 2 * padding[d] + dilation[d] * (kernel_size[d] - 1) + 1
            for d in range(num_spatial_dims)
        ]
        max_sizes = [min_size + stride[d] - 1 for d, min_size in enumerate(min_sizes)]
        for size, min_size, max_size in zip(output_size, min_sizes, max_sizes):
            if size < min_size or size > max_size:
                raise ValueError(
                    f"requested an output size of {output_size}, but valid sizes range from {min_sizes} to {max_sizes} "
                    f"(for an input of {input.shape[leading:]})"
                )
        return [size - min_size for size, min_size in zip(output_size, min_sizes)]


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution (learned upsampling): (N, C_in, L) -> (N, C_out, L_out),
    weight (C_in, C_out / groups, k),

        L_out = (L - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1

    the gradient of a Conv1d's input with respect to its output, used as a layer.
    """

    spatial = 1

    def _convolve(self, input, padding, output_padding=None):
        output_padding = self.output_padding if output_padding is None else output_padding
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, padding, output_padding, self.groups, self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution (learned upsampling): (N, C_in, H, W) -> (N, C_out, H_out, W_out),
    weight (C_in, C_out / groups, kh, kw),

        H_out = (H - 1) stride - 2 padding + dilation (kh - 1) + output_padding + 1

    the gradient of a Conv2d's input with respect to its output, used as a layer.
    """

    def _convolve(self, input, padding, output_padding=None):
        output_padding = self.output_padding if output_padding is None else output_padding
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, padding, output_padding, self.groups, self.dilation)


class ConvTranspose3d(_ConvTransposeNd):
    """3-d transposed convolution (learned upsampling of volumes): (N, C_in, D, H, W) ->
    (N, C_out, D_out, H_out, W_out), weight (C_in, C_out / groups, kd, kh, kw),

        D_out = (D - 1) stride - 2 padding + dilation (kd - 1) + output_padding + 1

    (H_out, W_out alike), the gradient of a Conv3d's input with respect to its output, used as a layer.
    """

    spatial = 3

    def _convolve(self, input, padding, output_padding=None):
        output_padding = self.output_padding if output_padding is None else output_padding
        return F.conv_transpose3d(input, self.weight, self.bias, self.stride, padding, output_padding, self.groups, self.dilation)
