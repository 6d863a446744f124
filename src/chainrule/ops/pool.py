"""Pooling: the maximum or the mean of each window, over the last two (or three) dimensions of
(N, C, H, W) (or (N, C, D, H, W)).

A kh x kw window is reduced in two passes: across its kw columns (kw strided views of the padded
input, combined elementwise), then across its kh rows; each pass is as long as its output (NumPy's
reductions over short window axes are several times slower). A volume's windows take a third pass,
across kd planes. The gradient goes back through the passes in turn (to each window's maximum for
max pooling, evenly spread for average pooling): a stack and a reshape when the windows tile the
input, otherwise ``fold`` (col2im), which sums where windows overlap; both differentiable again.
1-d pooling is 2-d pooling of a height-1 input, as in PyTorch; adaptive pooling, unpooling and
power-average pooling are built on these.
"""
import math
import numbers

from chainrule.autograd.function import computed_without_gradient, made_from_arguments
from chainrule.backend import xp
from chainrule.creation import rand
from chainrule.dtypes import scalar_type_name
from chainrule.memory_layout import CHANNELS_LAST_OF_ANY_INPUT
from chainrule.ops.half_precision import for_input
from chainrule.ops.conv import padded
from chainrule.ops.registry import public
from chainrule.ops.windows import LAYOUTS, WindowOp, output_size, per_dimension
from chainrule.tensor import tensor_from_array


class Windows:
    """Where the windows of one pooling lie: sizes, output positions, the padded extent they span
    (one entry per spatial dimension: 2 for images, 3 for volumes)."""

    def __init__(self, size, kernel, stride, padding, dilation, ceil_mode):
        self.size, self.kernel, self.stride, self.padding, self.dilation = size, kernel, stride, padding, dilation
        self.positions = tuple(map(output_size, size, kernel, stride, padding, dilation, (ceil_mode,) * len(size)))
        reach = tuple((o - 1) * s + d * (k - 1) + 1 for o, s, d, k in zip(self.positions, stride, dilation, kernel))
        self.extent = tuple(max(s + 2 * p, r) for s, p, r in zip(size, padding, reach))

    def padded(self, input, fill):
        """``input`` (an array) padded with ``fill`` to the extent the windows span."""
        after = tuple(e - s - p for e, s, p in zip(self.extent, self.size, self.padding))
        return padded(input, self.padding, after, fill)

    def along(self, values, dim):
        """``values`` (N, C, ...) read at each kernel offset p of spatial dimension ``dim``: one
        strided view per p, whose position i along ``dim`` is position i·stride + p·dilation."""
        kernel, stride, dilation, count = self.kernel[dim], self.stride[dim], self.dilation[dim], self.positions[dim]
        lead = (slice(None),) * (2 + dim)
        return [values[lead + (slice(p * dilation, p * dilation + (count - 1) * stride + 1, stride),)] for p in range(kernel)]

    def reduced(self, values, combine):
        """``combine`` (the views of one dimension -> their elementwise result, and what to keep)
        applied along the last spatial dimension, then the one before, ..., the first: each pass
        as long as its output. Returns the result and what each dimension's pass kept."""
        kept = [None] * len(self.kernel)
        for dim in reversed(range(len(self.kernel))):
            values, kept[dim] = combine(self.along(values, dim))
        return values, kept

    def spread(self, namespace, grad, parts):
        """The adjoint of ``reduced``: from the first spatial dimension to the last, the gradient
        parts of each kernel offset, ``parts(dim, grad)``, put back at their places along that
        dimension; then cropped to the input (N, C, *size). ``namespace`` is the node's ``ctx.xp``
        (arrays, or tensors when recorded)."""
        for dim in range(len(self.kernel)):
            grad = placed(namespace, parts(dim, grad), 2 + dim, self.extent[dim], self.kernel[dim], self.stride[dim], self.dilation[dim])
        return grad[(slice(None), slice(None)) + tuple(slice(p, p + size) for p, size in zip(self.padding, self.size))]

    def flat_indices(self, chosen):
        """Each output's maximum as its flat position in the input plane or volume (row · W +
        column in 2-d), from the one-hot masks ``chosen`` that each dimension's pass kept."""
        dims, flat = len(self.kernel), 0
        for dim in range(dims):
            offset = chosen_index(chosen[dim])  # in the shape of that pass's output
            for later in reversed(range(dim)):  # read through the passes after it, at their choices
                offset = sum(mask * view for mask, view in zip(chosen[later], self.along(offset, later)))
            start = xp.arange(self.positions[dim]).reshape((-1,) + (1,) * (dims - 1 - dim)) * self.stride[dim] - self.padding[dim]
            flat = flat * self.size[dim] + start + offset * self.dilation[dim]
        return flat.astype(xp.int64)


def _flat_planes(batched):
    """(N, C, *spatial) -> (N, C, prod(spatial)), a tensor or an array: each plane a row (an
    empty batch too, where reshape's -1 cannot tell the size)."""
    return batched.reshape(batched.shape[0], batched.shape[1], math.prod(batched.shape[2:]))


def first_maxima(candidates, nan_wins):
    """The elementwise maximum of equally shaped arrays, and which one gave it as one-hot masks
    (one per candidate): scanning in order, a later candidate wins when it is greater (the first
    maximum is kept), or, when ``nan_wins``, when it is nan (the last nan is kept), as PyTorch."""
    best, wins = candidates[0], []
    for candidate in candidates[1:]:
        win = candidate > best
        wins.append(win | (candidate != candidate) if nan_wins else win)
        best = xp.maximum(best, candidate)
    chosen, later = [], None
    for win in reversed(wins):
        chosen.append(win if later is None else win & ~later)
        later = win if later is None else later | win
    chosen.append(xp.ones(best.shape, dtype=bool) if later is None else ~later)
    return best, chosen[::-1]


def added(views):
    """The elementwise sum of equally shaped arrays (the first itself when it is alone)."""
    total = views[0]
    for view in views[1:]:
        total = total + view
    return total


def chosen_index(chosen):
    """The position k of the one-hot masks ``chosen`` that is set, as integers."""
    return sum(k * mask.astype(xp.int64) for k, mask in enumerate(chosen))


class MaxPool2D(WindowOp):
    """With ``indices``, also returns, per output, the position (row · W + column, or depth · H · W
    + row · W + column) of the maximum in its input plane (volume).

    The maximum of a kh x kw window is the maximum over its kh rows of each row's maximum over kw
    columns: kw - 1 then kh - 1 elementwise passes over strided views, each as long as the output
    (NumPy's reductions over short window axes are several times slower); a volume's windows take
    a third pass, over kd planes. Each pass keeps, as one-hot masks, which view won; the gradient
    goes back through the passes in turn: stacked under those masks, then put at its place along
    that dimension (``placed``: a reshape when the windows tile the input, else ``fold``, summing
    where windows overlap); both differentiable again."""

    keeps_layout = CHANNELS_LAST_OF_ANY_INPUT

    formula = "out[n, c, i, j] = max over p, q of input[n, c, i·stride + p·dilation, j·stride + q·dilation]"
    derivatives = ("grad at each window's maximum (the first one), 0 elsewhere",)
    node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, input, windows, indices):
        nan_wins = bool(xp.isnan(input).any())
        lowest = -xp.inf if input.dtype.kind == "f" else xp.iinfo(input.dtype).min  # what padding counts as
        output, ctx.chosen = windows.reduced(windows.padded(input, lowest), lambda views: first_maxima(views, nan_wins))
        if any(windows.padding) and not nan_wins and (input == lowest).any():
            # a value ties the padding: PyTorch scans only the window's real places, so a real one is chosen
            ranks = 1 + xp.unique(input, return_inverse=True)[1].reshape(input.shape)  # order kept, all above 0
            _, ctx.chosen = windows.reduced(windows.padded(ranks, 0), lambda views: first_maxima(views, False))
        ctx.windows = windows
        return (output, windows.flat_indices(ctx.chosen)) if indices else output

    @staticmethod
    def backward(ctx, grad_output, *grad_indices):
        grad_input = ctx.windows.spread(ctx.xp, grad_output, lambda dim, grad: [grad * mask for mask in ctx.chosen[dim]])
        return grad_input, None, None


class MaxPool3D(MaxPool2D):
    """``MaxPool2D`` of volumes (N, C, D, H, W), under PyTorch's node name."""

    formula = "out[n, c, d, i, j] = max over o, p, q of input[n, c, d·stride + o·dilation, i·stride + p·dilation, j·stride + q·dilation]"
    node_name = "MaxPool3DWithIndicesBackward0"


def placed(namespace, parts, axis, extent, kernel, stride, dilation):
    """The adjoint of reading ``parts`` (N, C, *sizes) as strided views along ``axis`` at the
    kernel's offsets: each part's values added back at the places it was read from, along an axis
    ``extent`` long. Windows that tile the axis (stride = kernel, no dilation) are a stack and a
    reshape; others a ``fold`` of the parts seen as (N, C', rows, columns), with a kernel one wide
    along the other of those two (``axis`` the columns when it is the last, else the rows)."""
    shape = list(parts[0].shape)
    if stride == kernel and dilation == 1 and extent == shape[axis] * kernel:
        shape[axis] = extent
        return namespace.stack(parts, axis + 1).reshape(tuple(shape))
    last = axis == len(shape) - 1
    split = axis - 1 if last else axis  # (N, C', rows, columns): rows up to ``split``
    batch, channels, rows, cols = shape[0], math.prod(shape[1:split]), shape[split], math.prod(shape[split + 1 :])
    if len(shape) != 4:
        parts = [part.reshape(batch, channels, rows, cols) for part in parts]
    columns = namespace.stack(parts, 2).reshape(batch, channels * kernel, rows * cols)
    if last:
        canvas = namespace.fold(columns, (rows, extent), (1, kernel), (1, dilation), (0, 0), (1, stride))
    else:
        canvas = namespace.fold(columns, (extent, cols), (kernel, 1), (dilation, 1), (0, 0), (stride, 1))
    shape[axis] = extent
    return canvas if len(shape) == 4 else canvas.reshape(tuple(shape))


class AvgPool2D(WindowOp):
    """Each window's sum is its rows' sums (kw - 1 additions of strided views) summed over kh
    rows (and, in a volume, over kd planes), as max pooling takes maxima; the gradient,
    grad / divisor, goes back the same way."""

    keeps_layout = CHANNELS_LAST_OF_ANY_INPUT

    formula = "out[n, c, i, j] = Σ_p,q input[n, c, i·stride + p, j·stride + q] / divisor[i, j]"
    derivatives = ("grad / divisor, spread over each window",)

    @staticmethod
    def forward(ctx, input, windows, count_include_pad, divisor_override):
        divisor = window_divisor(windows, count_include_pad, divisor_override, input.dtype)
        ctx.windows, ctx.divisor = windows, divisor
        sums, _ = windows.reduced(windows.padded(input, 0), lambda views: (added(views), None))
        return (sums / divisor).astype(input.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        windows = ctx.windows
        grad_input = windows.spread(ctx.xp, grad_output / ctx.divisor, lambda dim, grad: [grad] * windows.kernel[dim])
        return grad_input, None, None, None


class AvgPool3D(AvgPool2D):
    """``AvgPool2D`` of volumes (N, C, D, H, W), under PyTorch's node name."""

    formula = "out[n, c, d, i, j] = Σ_o,p,q input[n, c, d·stride + o, i·stride + p, j·stride + q] / divisor[d, i, j]"


def window_divisor(windows, count_include_pad, divisor_override, dtype):
    """What each window's sum is divided by, (*positions): PyTorch's rule (windows that reach
    past the padding count only up to it; without ``count_include_pad`` only input elements)."""
    if divisor_override:
        return xp.full(windows.positions, float(divisor_override), dtype=dtype)
    divisor, dims = 1, len(windows.size)
    for dim, (positions, size, kernel, stride, padding) in enumerate(
        zip(windows.positions, windows.size, windows.kernel, windows.stride, windows.padding)
    ):
        start = xp.arange(positions) * stride - padding
        end = xp.minimum(start + kernel, size + padding)
        count = end - start if count_include_pad else xp.minimum(end, size) - xp.maximum(start, 0)
        divisor = divisor * count.reshape((-1,) + (1,) * (dims - 1 - dim))
    return divisor.astype(dtype)


# ----------------------------------------------------------------------------- public functions
def _pooled_dimensions_error(input, operation, dims, indices=True):
    """PyTorch's error for a pooling's input of the wrong number of dimensions, in the words of the
    kernel ``operation`` reaches (a 1-d pooling is checked by the 2-d one it calls, with ``dims`` 2)."""
    shape = list(input.shape)
    advice = f" ({operation} takes {LAYOUTS[1 if operation.endswith('1d') else dims]})"
    if operation == "max_pool1d" and not indices:
        return RuntimeError(
            f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but got:{shape}{advice}"
        )
    if operation.endswith("1d"):
        return RuntimeError(
            f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument #1 'self' (while checking "
            f"arguments for {operation}){advice}"
        )
    if operation.startswith("adaptive_"):
        got = "but got: " if operation.startswith("adaptive_max") else "but got "
        return RuntimeError(f"{operation}(): Expected {dims + 1}D or {dims + 2}D tensor, {got}{shape}{advice}")
    return RuntimeError(f"non-empty {dims + 1}D or {dims + 2}D (batch mode) tensor expected for input{advice}")


def _pool_windows(input, kernel_size, stride, padding, dilation, ceil_mode, operation, dims=2, indices=True, kernel_inside=False):
    """Check ``input`` and the arguments as PyTorch does; the ``Windows`` of a 2-d (or 3-d) pooling.
    ``indices`` False marks ``max_pool1d`` without them, which PyTorch checks with its own messages;
    ``kernel_inside`` asks for the kernel to fit in the unpadded input (PyTorch's avg_pool3d does)."""
    if input.ndim not in (dims + 1, dims + 2):
        raise _pooled_dimensions_error(input, operation, dims, indices)
    kernel = per_dimension(kernel_size, dims, "kernel_size", operation)
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) else per_dimension(stride, dims, "stride", operation)
    padding = per_dimension(padding, dims, "padding", operation)
    dilation = per_dimension(dilation, dims, "dilation", operation)
    if not indices:
        _check_max_pool1d(kernel[0], stride[0], padding[0], dilation[0])
    if dims == 1:
        kernel, stride, padding, dilation = ((1,) + kernel, (1,) + stride, (0,) + padding, (1,) + dilation)
    _check_window_arguments(kernel, stride, padding, dilation, operation)
    size = tuple(input.shape[-dims:]) if dims > 1 else (1, input.shape[-1])
    if kernel_inside and any(each < k for each, k in zip(size, kernel)):
        sizes = " ".join(f"{name}: {each}" for name, each in zip("THW", size))
        kernels = " ".join(f"k{name}: {k}" for name, k in zip("THW", kernel))
        raise RuntimeError(f"{operation}: input image ({sizes}) smaller than kernel size ({kernels})")
    windows = Windows(size, kernel, stride, padding, dilation, ceil_mode)
    if any(p < 1 for p in windows.positions):
        if not indices:
            raise RuntimeError(f"max_pool1d() Invalid computed output size: {windows.positions[1]}")
        channels = (input.shape[-dims - 1],)  # a 1-d input shown as PyTorch shows it, (C x 1 x L)
        raise RuntimeError(
            f"Given input size: ({'x'.join(map(str, channels + size))}). Calculated output "
            f"size: ({'x'.join(map(str, channels + windows.positions))}). Output size is too small ({operation}: the input is "
            f"smaller than the pooling window, kernel {kernel_size}, dilation {dilation}, padding {padding})"
        )
    return windows


def _check_max_pool1d(kernel, stride, padding, dilation):
    """PyTorch's checks of ``max_pool1d`` without indices, in its order, with its messages."""
    for wrong, message in (
        (kernel < 1, f"kernel_size must be greater than zero, but got {kernel}"),
        (stride < 1, f"stride must be greater than zero, but got {stride}"),
        (padding < 0, f"padding must be non-negative, but got {padding}"),
        (padding > kernel // 2, f"padding should be at most half of kernel size, but got padding={padding} and kernel_size={kernel}"),
        (dilation < 1, f"dilation must be greater than zero, but got {dilation}"),
    ):
        if wrong:
            raise RuntimeError(f"max_pool1d() {message}")


def _check_window_arguments(kernel, stride, padding, dilation, operation):
    """PyTorch's checks of a 2-d or 3-d pooling's arguments (1-d ones as 2-d), in its order, with
    its messages: the padding at most half the kernel (its dilated extent, then the kernel itself)."""
    names = "THW"[-len(kernel) :]

    def listed(prefix, values):
        return " ".join(f"{prefix}{name}: {value}" for name, value in zip(names, values))

    if 0 in stride:
        raise RuntimeError(f"stride should not be zero ({operation})")
    for p, k, d in zip(padding, kernel, dilation):
        if p < 0:
            raise RuntimeError(f"{operation}: pad must be non-negative, but got pad: {p}")
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d} ({operation})"
            )
    for values, message in (
        (kernel, f"kernel size should be greater than zero, but got {listed('k', kernel)}"),
        (stride, f"stride should be greater than zero, but got {listed('d', stride)}"),
        (dilation, f"dilation should be greater than zero, but got {listed('dilation', dilation)}"),
    ):
        if min(values) < 1:
            raise RuntimeError(f"{operation}: {message}")
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        if len(kernel) == 3:  # PyTorch's own order: W before H
            shown = f"kT: {kernel[0]} kW: {kernel[2]} kH: {kernel[1]} padT: {padding[0]} padW: {padding[2]} padH: {padding[1]}"
        else:
            shown = f"padW = {padding[1]}, padH = {padding[0]}, kW = {kernel[1]}, kH = {kernel[0]}"
        raise RuntimeError(f"{operation}: pad should be smaller than or equal to half of kernel size, but got {shown}")


def _check_dtype(input, kernel, taken):
    """PyTorch's error, naming its ``kernel``, for an input dtype that ``taken`` (a dtype's kind and
    name -> bool) refuses."""
    dtype = input._array.dtype
    if not taken(dtype.kind, dtype.name):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_type_name(dtype)}\': convert the input with .float()')


def _as_batched_planes(input, dims):
    """``input`` as (N, C, H, W): a missing batch dimension added, a 1-d (N, C, L) as height 1."""
    unbatched = input.ndim == dims + 1
    if unbatched:
        input = input.unsqueeze(0)
    if dims == 1:
        input = input.unsqueeze(2)
    return input, unbatched


def _restored(output, unbatched, dims):
    if dims == 1:
        output = output.squeeze(2)
    return output.squeeze(0) if unbatched else output


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, dims, operation, node_name=None):
    windows = _pool_windows(input, kernel_size, stride, padding, dilation, ceil_mode, operation, dims, return_indices or dims > 1)
    if dims == 1 and not return_indices:  # PyTorch's own 1-d kernel takes floating point only
        _check_dtype(input, "max_pool1d_impl", lambda kind, name: kind == "f")
    _check_dtype(input, f"max_pool{max(dims, 2)}d", lambda kind, name: kind != "b")
    planes, unbatched = _as_batched_planes(input, dims)
    pool = MaxPool3D if dims == 3 else MaxPool2D
    pool = pool.shown_as(node_name) if node_name else pool
    if not return_indices:
        return _restored(pool.apply(planes, windows, False), unbatched, dims)
    output, indices = pool.apply(planes, windows, True)
    return _restored(output, unbatched, dims), _restored(indices, unbatched, dims)


@public(method=False)
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The maximum of each kh x kw window: (N, C, H, W) -> (N, C, H_out, W_out), with
    H_out = (H + 2 padding - dilation (kh - 1) - 1) / stride + 1 rounded down (up with
    ``ceil_mode``); ``stride`` defaults to the kernel size. Padding counts as -inf.
    ``return_indices`` also gives each maximum's position in its input plane (row · W + column).
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2, "max_pool2d")


@public(method=False)
def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The maximum of each kd x kh x kw window of a volume: (N, C, D, H, W) -> (N, C, D_out, H_out,
    W_out), sizes as ``max_pool2d`` along each dimension; ``return_indices`` gives each maximum's
    position in its input volume (depth · H · W + row · W + column)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3, "max_pool3d")


@public(method=False)
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The maximum of each window of length k: (N, C, L) -> (N, C, L_out), as ``max_pool2d``."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1, "max_pool1d")


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, dims, operation, node_name=None):
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{operation}: divisor must be not zero")
    # PyTorch's avg_pool3d (unlike its 2-d one and max_pool3d) wants the kernel inside the unpadded input
    windows = _pool_windows(input, kernel_size, stride, padding, 1, ceil_mode, operation, dims, kernel_inside=dims == 3)
    _check_dtype(input, "avg_pool3d_out_frame" if dims == 3 else "avg_pool2d", lambda kind, name: kind == "f" or name == "int64")
    planes, unbatched = _as_batched_planes(input, dims)
    pool = AvgPool3D if dims == 3 else AvgPool2D
    pool = for_input(pool.shown_as(node_name) if node_name else pool, planes)  # float16: summed in float32, as PyTorch's
    return _restored(pool.apply(planes, windows, count_include_pad, divisor_override), unbatched, dims)


@public(method=False)
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """The mean of each kh x kw window: (N, C, H, W) -> (N, C, H_out, W_out), sizes as
    ``max_pool2d``. Padding counts as 0 and, with ``count_include_pad``, in the divisor too;
    ``divisor_override`` replaces the divisor."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2, "avg_pool2d")


@public(method=False)
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """The mean of each kd x kh x kw window of a volume: (N, C, D, H, W) -> (N, C, D_out, H_out,
    W_out), as ``avg_pool2d`` along each dimension."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 3, "avg_pool3d")


@public(method=False)
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """The mean of each window of length k: (N, C, L) -> (N, C, L_out), as ``avg_pool2d``."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


# ----------------------------------------------------------------------------- adaptive pooling
def _adaptive_bounds(size, out):
    """PyTorch's adaptive windows along one dimension: window i spans
    [floor(i·size/out), ceil((i+1)·size/out))."""
    index = xp.arange(out)
    return (index * size) // out, -((-(index + 1) * size) // out)


def _adaptive_output_size(input, output_size, operation, dims=2):
    """``output_size`` as ``dims`` sizes (None inside keeps the input's), after PyTorch's checks."""
    if input.ndim not in (dims + 1, dims + 2):
        raise _pooled_dimensions_error(input, operation, dims)
    if output_size is None:
        raise TypeError(f"{operation}: output_size must be an int or a tuple of {dims} ints (None inside keeps a size), got None")
    sizes = (output_size,) * dims if isinstance(output_size, numbers.Integral) else tuple(output_size)
    if len(sizes) != dims:
        raise RuntimeError(f"{operation}: output_size must be {dims}, got {output_size!r}")
    sizes = tuple(input.shape[-dims + axis] if size is None else int(size) for axis, size in enumerate(sizes))
    if any(size < 0 for size in sizes):
        raise RuntimeError(f"{operation}: elements of output_size must be greater than or equal to 0 but received {sizes}")
    return sizes


def _check_floating(input, sizes, kernel):
    """Adaptive pooling takes floating point input only, as PyTorch's kernels (named ``kernel`` in
    its error); global average pooling (all sizes 1) is PyTorch's ``mean``, with mean's error."""
    if not input.is_floating_point() and kernel.startswith("adaptive_avg") and set(sizes) == {1}:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
            f"Got: {scalar_type_name(input._array.dtype)} (convert the input with .float())"
        )
    _check_dtype(input, kernel, lambda kind, name: kind == "f")


def _empty(input, sizes):
    """The output of an adaptive pooling to a size with a 0 in it: no elements, still on the graph."""
    return input.narrow(-1, 0, 0).reshape(tuple(input.shape[: -len(sizes)]) + sizes)


def _tiles(input, sizes):
    """Whether the adaptive windows are a plain tiling of the input (each size a multiple)."""
    return all(size % out == 0 for size, out in zip(input.shape[-len(sizes) :], sizes))


def _averaged_along(input, averaging, axis):
    """``input`` with its dimension ``axis`` (counted from the end) replaced by ``averaging @`` it."""
    if axis == -1:
        return input @ averaging.T
    if axis == -2:
        return averaging @ input
    return (averaging @ input.movedim(axis, -2)).movedim(-2, axis)


def _adaptive_avg_pool(input, output_size, dims, operation):
    """Sizes that divide are average pooling with kernel = stride = size / out; the others are one
    averaging matrix A (out, size) per dimension, applied along it: out = A_h @ x @ A_wᵀ for an
    image. PyTorch's node is a mean over the window dimensions (``MeanBackward1``) for an output of
    size 1, else ``AdaptiveAvgPool2DBackward0`` (3D)."""
    sizes = _adaptive_output_size(input, output_size, operation, dims)
    _check_floating(input, sizes, "adaptive_avg_pool3d_cpu" if dims == 3 else "adaptive_avg_pool2d")
    if 0 in sizes:
        return _empty(input, sizes)
    if _tiles(input, sizes):
        kernel = tuple(size // out for size, out in zip(input.shape[-dims:], sizes))
        node_name = "MeanBackward1" if set(sizes) == {1} else f"AdaptiveAvgPool{dims}DBackward0"
        return _avg_pool(input, kernel, None, 0, False, True, None, dims, operation, node_name)
    half = input.dtype == xp.float16  # averaged in float32, rounded once, as PyTorch's kernel
    averaged = input.float() if half else input
    for axis, size, out in zip(range(-dims, 0), input.shape[-dims:], sizes):
        start, end = _adaptive_bounds(size, out)
        inside = (xp.arange(size) >= start[:, None]) & (xp.arange(size) < end[:, None])
        # made from the shapes alone: a compiled program may make it again as a constant
        averaging = made_from_arguments((inside / (end - start)[:, None]).astype(averaged.dtype))
        averaged = _averaged_along(averaged, averaging, axis)
    return averaged.to(input.dtype) if half else averaged


@public(method=False)
def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (H_out, W_out), whatever the input's size: window i spans rows
    floor(i·H/H_out) to ceil((i+1)·H/H_out). ``output_size`` is an int, a pair, or None to keep a size.

    Sizes that divide are ``avg_pool2d`` with kernel = stride = H / H_out; the others are the
    averaging matrices A_h (H_out, H) and A_w: out = A_h @ x @ A_wᵀ.
    """
    return _adaptive_avg_pool(input, output_size, 2, "adaptive_avg_pool2d")


@public(method=False)
def adaptive_avg_pool3d(input, output_size):
    """Average pooling of volumes to a fixed (D_out, H_out, W_out): (N, C, D, H, W) -> (N, C,
    D_out, H_out, W_out), windows as ``adaptive_avg_pool2d`` along each dimension."""
    return _adaptive_avg_pool(input, output_size, 3, "adaptive_avg_pool3d")


def _adaptive_places(size, out):
    """(out, widest): the positions of adaptive window i along one dimension, start_i ..
    end_i - 1, its last one repeated up to the widest window's width (a repeat changes neither
    the maximum nor where it lies)."""
    start, end = _adaptive_bounds(size, out)
    return xp.minimum(start[:, None] + xp.arange(int((end - start).max())), end[:, None] - 1)


def _adaptive_maxima_positions(planes, sizes):
    """Where each adaptive window of ``planes`` (an array (N, C, *size)) has its maximum, as its
    flat position in the input plane (row · W + column) or volume: int64 (N, C, *sizes).

    One pass per dimension, the last first, as ``Windows.reduced``: the windows' k-th positions
    read as one view per k (``take`` along the dimension), combined elementwise by
    ``first_maxima`` (the first maximum, or the last nan, as PyTorch); the position found so far
    is carried along by the same choices."""
    nan_wins = bool(xp.isnan(planes).any())
    values, found = planes, 0
    for dim in reversed(range(len(sizes))):
        axis = 2 + dim
        places = _adaptive_places(planes.shape[axis], sizes[dim])
        step = math.prod(planes.shape[axis + 1 :])
        at = (-1,) + (1,) * (len(sizes) - 1 - dim)  # a position along ``axis``, broadcast over the later ones
        columns = [places[:, k] for k in range(places.shape[1])]
        values, chosen = first_maxima([xp.take(values, column, axis=axis) for column in columns], nan_wins)
        candidates = [column.reshape(at) * step + (xp.take(found, column, axis=axis) if dim < len(sizes) - 1 else 0) for column in columns]
        found = added([mask * candidate for mask, candidate in zip(chosen, candidates)])
    return found.astype(xp.int64)


def _adaptive_max_pool(input, output_size, return_indices, dims, operation):
    """Sizes that divide are ``pool`` (max_pool2d or 3d) with kernel = stride = size / out.
    Otherwise each window's maximum is found on arrays (``_adaptive_maxima_positions``) and the
    output is the input gathered there: its gradient goes to those positions, added where
    windows overlap and share a maximum, as in PyTorch."""
    sizes = _adaptive_output_size(input, output_size, operation, dims)
    _check_floating(input, sizes, "adaptive_max_pool3d_cpu" if dims == 3 else "adaptive_max_pool2d")
    if 0 in sizes:
        output = _empty(input, sizes)
        return (output, made_from_arguments(xp.zeros(tuple(output.shape), dtype=xp.int64))) if return_indices else output
    if _tiles(input, sizes):  # PyTorch's node: AdaptiveMaxPool2DBackward0 (3D)
        kernel = tuple(size // out for size, out in zip(input.shape[-dims:], sizes))
        node_name = f"AdaptiveMaxPool{dims}DBackward0"
        return _max_pool(input, kernel, None, 0, 1, False, return_indices, dims, operation, node_name)
    planes, unbatched = _as_batched_planes(input, dims)
    batch, channels = planes.shape[:2]
    # found from each call's values: a compiled program finds them again
    indices = computed_without_gradient(_adaptive_maxima_positions, [planes], {"sizes": sizes})
    output = _flat_planes(planes).gather(2, _flat_planes(indices)).reshape(indices.shape)
    output, indices = _restored(output, unbatched, dims), _restored(indices, unbatched, dims)
    return (output, indices) if return_indices else output


@public(method=False)
def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed (H_out, W_out), windows as ``adaptive_avg_pool2d``.

    Sizes that divide are ``max_pool2d`` with kernel = stride = H / H_out. Otherwise the windows
    (of unequal sizes) are read in two passes, across columns then rows, each window's positions
    as views (its last repeated to the widest window's width), and the output gathered at the
    maxima found; ``return_indices`` gives their positions in the plane (row · W + column).
    """
    return _adaptive_max_pool(input, output_size, return_indices, 2, "adaptive_max_pool2d")


@public(method=False)
def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling of volumes to a fixed (D_out, H_out, W_out), windows as ``adaptive_avg_pool3d``;
    ``return_indices`` also gives each maximum's position in its input volume."""
    return _adaptive_max_pool(input, output_size, return_indices, 3, "adaptive_max_pool3d")


# ----------------------------------------------------------------------------- 1-d adaptive pooling
def _adaptive_1d_planes(input, output_size, operation):
    """(…, L) input as (…, 1, L) and the output size as (1, L_out), after PyTorch's checks."""
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"{operation}: Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor of size "
            f"{list(input.shape)}; the layout is (N, C, L) or (C, L)"
        )
    sizes = (output_size,) if isinstance(output_size, numbers.Integral) or output_size is None else tuple(output_size)
    if not all(isinstance(size, numbers.Integral) for size in sizes):
        raise TypeError(f"{operation}(): argument 'output_size' must be tuple of ints, got {output_size!r}")
    if len(sizes) != 1:
        raise RuntimeError(f"{operation}() argument 'output_size' should contain one int (got {len(sizes)})")
    return input.unsqueeze(-2), (1, sizes[0])


@public(method=False)
def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed length L_out, whatever the input's length: (N, C, L) -> (N, C, L_out),
    window i spanning floor(i·L/L_out) to ceil((i+1)·L/L_out); ``adaptive_avg_pool2d`` of a height-1 input."""
    planes, sizes = _adaptive_1d_planes(input, output_size, "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(planes, sizes).squeeze(-2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed length L_out: (N, C, L) -> (N, C, L_out), windows as
    ``adaptive_avg_pool1d``; ``return_indices`` also gives each maximum's position along L."""
    planes, sizes = _adaptive_1d_planes(input, output_size, "adaptive_max_pool1d")
    output, indices = adaptive_max_pool2d(planes, sizes, return_indices=True)
    output, indices = output.squeeze(-2), indices.squeeze(-2)
    return (output, indices) if return_indices else output


@public(name="adaptive_max_pool1d", method=False)
def adaptive_max_pool1d_with_indices(input, output_size):
    """``torch.adaptive_max_pool1d``: the maxima and their indices, as ``F.adaptive_max_pool1d(...,
    return_indices=True)``."""
    return adaptive_max_pool1d(input, output_size, return_indices=True)


# ----------------------------------------------------------------------------- unpooling
def _max_unpool(input, indices, kernel_size, stride, padding, output_size, dims, operation):
    """Each value of ``input`` put back at its place ``indices`` (as ``max_pool`` gives them, the
    flat position in its (H, W) plane) of a zero (N, C, *size) output, the rest 0; the gradient
    gathers from those places. ``size`` from the pooling's geometry, or ``output_size``."""
    kernel = per_dimension(kernel_size, dims, "kernel_size", operation)
    stride = kernel if stride is None else per_dimension(stride, dims, "stride", operation)
    padding = per_dimension(padding, dims, "padding", operation)
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{operation}: Expected {dims + 1}D or {dims + 2}D input, but got input of size {list(input.shape)}")
    if indices.dtype != xp.int64:
        raise RuntimeError(f"{operation}: elements in indices should be type int64 but got: {indices.dtype}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(
            f"{operation}: Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) "
            f"but got indices tensor with shape: {list(indices.shape)}"
        )
    default = tuple((input.shape[-dims + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(dims))
    size = default
    if output_size is not None:
        size = tuple(output_size)[-dims:] if len(output_size) == dims + 2 else tuple(output_size)
        if len(size) != dims:
            raise ValueError(
                f"output_size should be a sequence containing {dims} or {dims + 2} elements, but it has a length of "
                f"'{len(output_size)}' ({operation}: give the {dims} spatial sizes, or the whole shape)"
            )
        for d, (wanted, usual) in enumerate(zip(size, default)):
            if not usual - stride[d] < wanted < usual + stride[d]:
                raise ValueError(
                    f'invalid output_size "{list(size)}" (dim {d} must be between {usual - stride[d]} and '
                    f"{usual + stride[d]}) ({operation}: both excluded, the sizes the pooling maps to {input.shape[-dims + d]})"
                )
    unbatched = input.ndim == dims + 1
    if unbatched:
        input, indices = input.unsqueeze(0), indices.unsqueeze(0)
    plane = math.prod(size)
    flat_indices = _flat_planes(indices)
    # checked again on each call of a compiled program, as the values decide it
    flat_indices = computed_without_gradient(_places_in_plane, [flat_indices], {"size": size, "operation": operation})
    canvas = made_from_arguments(xp.zeros((input.shape[0], input.shape[1], plane), dtype=input.dtype))
    output = canvas.scatter(2, flat_indices, _flat_planes(input))
    output = output.reshape(tuple(input.shape[:2]) + size)
    return output.squeeze(0) if unbatched else output


def _places_in_plane(indices, size, operation):
    """A copy of ``indices``, each checked to be a flat place in an output plane of ``size``."""
    outside = indices[(indices < 0) | (indices >= math.prod(size))]
    if outside.size:
        raise RuntimeError(f"{operation}: Found an invalid max index: {int(outside[0])} (output volumes are of size {'x'.join(map(str, size))})")
    return indices.copy()


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool1d``: (N, C, L_in) values and their ``indices`` ->
    (N, C, L) with L = (L_in - 1) stride - 2 padding + kernel_size (or ``output_size``), each value
    back at its index, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool3d``: (N, C, D_in, H_in, W_in) values and their ``indices``
    (flat positions in the volume) -> (N, C, D, H, W), D = (D_in - 1) stride - 2 padding + kd (H, W
    alike, or ``output_size``), each value back at its index, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3, "max_unpool3d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool2d``: (N, C, H_in, W_in) values and their ``indices`` (flat
    positions row · W + column) -> (N, C, H, W) with H = (H_in - 1) stride - 2 padding + kh (W
    alike, or ``output_size``), each value back at its index, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


# ----------------------------------------------------------------------------- power-average pooling
def _lp_pool(average, maximum, input, norm_type, kernel_size, stride, ceil_mode, dims):
    """(Σ over the window of x^p)^(1/p), as PyTorch computes it: the mean of x^p times the window's
    size, its sign kept (a negative sum only from odd p), then the p-th root. Its limits p = ±inf,
    the largest and the smallest |x| of the window, are max pools, as in PyTorch."""
    kernel = per_dimension(kernel_size, dims, "kernel_size", f"lp_pool{dims}d")
    if norm_type == math.inf:
        return maximum(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -maximum(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    mean = average(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (mean.sign() * mean.abs().relu()).mul(math.prod(kernel)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: (N, C, L) -> (N, C, L_out), each window's (Σ x^p)^(1/p) with p =
    ``norm_type`` (p = 1: the sum; large p: near the maximum), sizes as ``avg_pool1d``."""
    return _lp_pool(avg_pool1d, max_pool1d, input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: (N, C, H, W) -> (N, C, H_out, W_out), each kh x kw window's
    (Σ x^p)^(1/p) with p = ``norm_type``, sizes as ``avg_pool2d``."""
    return _lp_pool(avg_pool2d, max_pool2d, input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling of volumes: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out), each
    kd x kh x kw window's (Σ x^p)^(1/p) with p = ``norm_type``, sizes as ``avg_pool3d``."""
    return _lp_pool(avg_pool3d, max_pool3d, input, norm_type, kernel_size, stride, ceil_mode, 3)


# ----------------------------------------------------------------------------- fractional max pooling
def _fractional_starts(sample, size, out, kernel, dtype):
    """Where the ``out`` windows of one dimension start, as PyTorch's ``generate_intervals``: with
    α = (size - kernel) / (out - 1) (in the input's dtype), window i starts at
    ⌊(i + u) α⌋ - ⌊u α⌋ for the plane's sample u ∈ [0, 1), the last one at size - kernel.
    ``sample`` (N, C) -> starts (N, C, out)."""
    starts = xp.full(sample.shape + (out,), size - kernel, dtype=xp.int64)
    if out > 1:
        alpha = xp.asarray(size - kernel, dtype=dtype) / xp.asarray(out - 1, dtype=dtype)
        steps = xp.arange(out - 1, dtype=dtype)
        starts[..., :-1] = ((steps + sample[..., None]) * alpha).astype(xp.int64) - (sample * alpha).astype(xp.int64)[..., None]
    return starts


def _first_maximum_or_last_nan(windows):
    """Per row of ``windows`` (..., K), the position PyTorch's kernel keeps: scanning in order, a
    value replaces the best so far when greater or nan (so the first maximum, or the last nan)."""
    chosen = windows.argmax(-1)
    is_nan = xp.isnan(windows)
    last_nan = windows.shape[-1] - 1 - is_nan[..., ::-1].argmax(-1)
    return xp.where(is_nan.any(-1), last_nan, chosen)


def _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices, random_samples, dims):
    operation = f"fractional_max_pool{dims}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{operation} requires specifying either an output_size or an output_ratio")
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{operation}(): Expected {dims + 1}D or {dims + 2}D tensor, but got input of size {list(input.shape)}")
    kernel = per_dimension(kernel_size, dims, "kernel_size", operation)
    sizes = tuple(input.shape[-dims:])
    if output_size is None:
        ratios = (output_ratio,) * dims if isinstance(output_ratio, (int, float)) else tuple(output_ratio)
        if len(ratios) != dims:
            raise ValueError(f"{operation} requires output_ratio to either be a single number or a tuple of {dims}, got {output_ratio!r}")
        output_size = tuple(int(size * ratio) for size, ratio in zip(sizes, ratios))
    outs = per_dimension(output_size, dims, "output_size", operation)
    names = ("height", "width") if dims == 2 else ("time", "height", "width")
    checked = (0, 1) if dims == 2 else (0, 2, 1)  # PyTorch's order: its 3-d kernel checks width before height
    for name, size, out, k in ((names[axis], sizes[axis], outs[axis], kernel[axis]) for axis in checked):
        if out + k - 1 > size or (dims == 3 and out + k - 1 == size):  # PyTorch's 3-d check is strict
            suffix = "" if dims == 2 else "_out"
            raise RuntimeError(f"{operation}{suffix}(): pool {name} {k} too large relative to input {name} {size} (output {name} {out})")
    unbatched = input.ndim == dims + 1
    planes = input.unsqueeze(0) if unbatched else input
    batch, channels = planes.shape[:2]
    if random_samples is None:
        random_samples = rand(batch, channels, dims, dtype=input.dtype)
    if random_samples.dtype != input.dtype:
        raise RuntimeError(f"Expect _random_samples to have the same dtype as input ({operation}: {random_samples.dtype} and {input.dtype})")
    if random_samples.ndim != 3 or random_samples.shape[2] != dims or random_samples.shape[1] != channels:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {dims}; got {random_samples.shape[-1]} ({operation}: samples are (N, C, {dims}))")
    if random_samples.shape[0] < batch:
        raise RuntimeError(f"Expect _random_samples.size(0) no less then input batch size. ({operation}: {random_samples.shape[0]} < {batch})")
    samples = random_samples._array[:batch]
    # PyTorch's kernels read the samples as (width, height) in 2-d, (time, height, width) in 3-d
    order = (1, 0) if dims == 2 else (0, 1, 2)
    flat = xp.zeros((batch, channels) + (1,) * (2 * dims), dtype=xp.int64)
    for axis in range(dims):
        starts = _fractional_starts(samples[..., order[axis]], sizes[axis], outs[axis], kernel[axis], input._array.dtype)
        positions = starts[..., None] + xp.arange(kernel[axis])  # (N, C, out, k)
        flat = flat * sizes[axis] + _outs_then_kernels(positions, axis, dims)
    windows = flat.reshape(batch, channels, math.prod(outs), math.prod(kernel))  # (N, C, places, window)
    plane = _flat_planes(planes)
    values = xp.take_along_axis(plane._array, _flat_planes(windows), axis=2).reshape(windows.shape)
    chosen = xp.take_along_axis(windows, _first_maximum_or_last_nan(values)[..., None], axis=-1)[..., 0]
    output = plane.gather(2, tensor_from_array(chosen)).reshape((batch, channels) + outs)
    indices = tensor_from_array(chosen.reshape((batch, channels) + outs))
    if unbatched:
        output, indices = output.squeeze(0), indices.squeeze(0)
    return (output, indices) if return_indices else output


def _outs_then_kernels(positions, axis, dims):
    """positions (N, C, out, k) of spatial ``axis`` placed to broadcast over
    (N, C, out_0, ..., out_{d-1}, k_0, ..., k_{d-1})."""
    batch, channels, out, k = positions.shape
    shape = [batch, channels] + [1] * (2 * dims)
    shape[2 + axis], shape[2 + dims + axis] = out, k
    return positions.reshape(shape)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None):
    """Max pooling over pseudo-random, overlapping kh x kw windows that shrink (N, C, H, W) to
    ``output_size`` (H_out, W_out) or to ``output_ratio`` times the input (Graham, 2014). Each
    plane draws one sample u ∈ [0, 1) per dimension (``_random_samples`` (N, C, 2), else from the
    global generator); window i starts at ⌊(i + u) α⌋ - ⌊u α⌋ with α = (H - kh) / (H_out - 1).
    ``return_indices`` also gives each maximum's position in its plane (row · W + column)."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 2)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None):
    """``fractional_max_pool2d`` over (N, C, T, H, W): kt x kh x kw windows, ``_random_samples``
    (N, C, 3); indices are positions in the (T, H, W) volume."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 3)
