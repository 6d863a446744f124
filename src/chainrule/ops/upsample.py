"""Resizing signals, images and volumes: ``interpolate`` in PyTorch's modes, to PyTorch's bits.

Every mode but 'area' reads, along each spatial dimension, a few inputs per output with fixed
weights (``Taps``): one with weight 1 for the nearest modes, two for linear, four for bicubic, a
stretched filter's for the antialiased modes. A ``Resize`` computes the output as PyTorch's CPU
kernel for the mode and layout does, in its order of rounded products and fused multiply-adds (so
float32 results carry PyTorch's bits, not a matrix product's): dimension by dimension from the last
(upsample_generic_Nd, the antialiased kernel) or over the corners around each output at once (the
channels-last linear kernel). Its gradient adds each output's weighted gradient into the inputs it
read, output by output, as PyTorch's backward kernels do; the gradient's gradient is the resize.

'area' is adaptive average pooling to the output size, as in PyTorch.
"""
import functools
import itertools
import math

from chainrule.backend import add_at, cpu_capability, is_scalar, xp
from chainrule.creation import as_integer
from chainrule.dtypes import scalar_type_name, uint8
from chainrule.memory_layout import CHANNELS_LAST_OF_ANY_INPUT, channels_last, channels_last_3d, is_contiguous_in
from chainrule.ops.half_precision import for_input
from chainrule.ops.op import Op
from chainrule.ops.pool import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d
from chainrule.settings import get_num_threads
from chainrule.tensor import Tensor

_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "lanczos", "area", "nearest-exact")
#: The modes that take ``align_corners`` and the spatial dimensions each needs.
_INTERPOLATING = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_NODE_NAMES = {
    "nearest": "UpsampleNearest{}DBackward0",
    "nearest-exact": "UpsampleNearestExact{}DBackward0",
    "linear": "UpsampleLinear1DBackward0",
    "bilinear": "UpsampleBilinear2DBackward0",
    "trilinear": "UpsampleTrilinear3DBackward0",
    "bicubic": "UpsampleBicubic2DBackward0",
    "lanczos": "UpsampleLanczos2DBackward0",  # antialiased only: shown as UpsampleLanczos2DAaBackward0
}


# ----------------------------------------------------------------------------- rounding as PyTorch's kernels
#: PyTorch's CPU kernels are compiled with fused multiply-adds (AVX2, AVX-512) and, for
#: channels-last images, work on vectors of this many bytes; its baseline build has neither.
_CAPABILITY = cpu_capability()
_FUSED = _CAPABILITY != "DEFAULT"
_VECTOR_BYTES = 64 if _CAPABILITY == "AVX512" else 32
_SPLITTER = 2.0**27 + 1  # Dekker's: splits a float64 into two halves of 26 bits


def _fused_multiply_add(a, b, c, fused=True):
    """a · b + c rounded once (the FMA instruction the compiler makes of PyTorch's ``a * b + c``).
    float32: through float64, where the product is exact (a sum that float64 must round lands on a
    float32 tie about once in 2^28); float64: Dekker's exact product, its low part added last.
    Not ``fused`` (code PyTorch compiles without FMA: its baseline build, ATen's generic files):
    rounded twice."""
    if not (fused and _FUSED):
        return a * b + c
    dtype = xp.result_type(a, b, c)
    if dtype != xp.float64:
        return (xp.multiply(a, b, dtype=xp.float64) + c).astype(dtype)
    product = a * b
    a_high, b_high = _high_half(a), _high_half(b)
    a_low, b_low = a - a_high, b - b_high
    product_error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    total = product + c
    total_error = (product - (total - (total - product))) + (c - (total - product))
    return total + (total_error + product_error)


def _high_half(values):
    scaled = _SPLITTER * values
    return scaled - (scaled - values)


def _chained(terms):
    """Σ of (values, weights) pairs: the first product rounded, each further one added to the
    running sum by a fused multiply-add."""
    (values, weights), *rest = terms
    total = values * weights
    for values, weights in rest:
        total = _fused_multiply_add(values, weights, total)
    return total


def _compiled(terms):
    """``terms`` in the order ``_chained`` sums a compiled ``x0 * w0 + x1 * w1 + x2 * w2 + ...``:
    the second product rounded, the first fused onto it, then the others in turn."""
    return [terms[1], terms[0], *terms[2:]] if len(terms) > 1 else terms


# ----------------------------------------------------------------------------- one dimension's taps
class Taps:
    """Along one dimension of ``size`` inputs, output i reads inputs ``columns[i, t]`` weighted by
    ``weights[i, t]`` (each (out, taps), the weights as PyTorch's kernel computes and stores them; a
    weight past a row's last tap is 0). ``weights`` None: each output copies one input (nearest)."""

    def __init__(self, columns, weights, size):
        self.columns, self.weights, self.size = columns, weights, size

    def tap(self, values, axis, t):
        """Tap t of every output along ``axis``: the inputs it reads and (broadcastable) weights."""
        shape = [1] * values.ndim
        shape[axis] = -1
        return xp.take(values, self.columns[:, t], axis=axis), self.weights[:, t].reshape(shape)

    def applied(self, values, axis, second_tap_first=True):
        """``values`` resampled along ``axis`` as PyTorch's per-dimension loop sums Σ_t w_t · x_t:
        its compiled ``x0 * w0 + x1 * w1 + ...`` rounds the second product first (``_compiled``);
        the antialiased kernel (``second_tap_first`` False) rounds the first."""
        if self.weights is None:
            return xp.take(values, self.columns[:, 0], axis=axis)
        terms = [self.tap(values, axis, t) for t in range(self.columns.shape[1])]
        return _chained(_compiled(terms) if second_tap_first else terms)


def _kept(size):
    """The taps that leave a dimension as it is."""
    return Taps(xp.arange(size)[:, None], None, size)


# ----------------------------------------------------------------------------- PyTorch's kernels
class Resize:
    """A resize as PyTorch's CPU kernels compute it, from the ``taps`` of each spatial dimension.

    ``kernel`` says which: 'separable' (upsample_generic_Nd and the antialiased kernel: the last
    dimension resampled first, each output of a pass summed over its taps), 'corners' (the
    channels-last linear kernel: each output sums the 2^dims corners around it, weighted by the
    products of their weights, in vectors of ``lanes`` channels summed from the last corner, the
    remaining channels from the first). The gradient (PyTorch's backward kernels) adds each output's
    gradient, times the product of its taps' weights, into the inputs it read, output by output in
    order: ``taps_order`` 'first dimension outer' or, as the bicubic backward, 'last dimension
    outer' (which multiplies the gradient by the weights one by one, the row's first)."""

    def __init__(self, taps, kernel="separable", second_tap_first=True, lanes=None, bicubic=False, backward_taps=None):
        self.taps, self.kernel, self.second_tap_first, self.lanes, self.bicubic = taps, kernel, second_tap_first, lanes, bicubic
        self.backward_taps = backward_taps or taps
        self._contributions = None

    def forward(self, values):
        """``values`` (N, C, *size) resized: a new array."""
        if self.kernel == "corners":
            return self._corners(values)
        return resampled(values, [functools.partial(taps.applied, second_tap_first=self.second_tap_first) for taps in self.taps])

    def _corners(self, values):
        """The channels-last kernel: the corners' products summed over whole vectors of channels
        from the last corner (``interpolate(i00, w00, i01, w01, ...)`` nests to the right), over
        the channels left from the first (``i00 * w00 + i01 * w01 + ...``)."""
        terms = []
        for corner in itertools.product(range(2), repeat=len(self.taps)):
            gathered, weight = values, None
            for axis, (taps, t) in enumerate(zip(self.taps, corner), start=2):
                gathered, factor = taps.tap(gathered, axis, t)
                weight = factor if weight is None else weight * factor  # rounded, as d0lambda * h0lambda * w0lambda
            terms.append((gathered, weight))
        channels = values.shape[1]
        vectors = channels - channels % self.lanes
        in_vectors = [(gathered[:, :vectors], weight) for gathered, weight in terms]
        in_vectors = _chained(in_vectors[-2:] + in_vectors[-3::-1])
        left = [(gathered[:, vectors:], weight) for gathered, weight in terms]
        rest = _chained(_compiled(left))
        return xp.concatenate([in_vectors, rest], axis=1)

    def backward(self, grad_output):
        """The gradient of the input from ``grad_output`` (N, C, *out): each input's sum of the
        weighted gradients of the outputs that read it, added in PyTorch's order."""
        targets, sources, weights, row_weights, ends = self._order()
        batch = grad_output.shape[:2]
        # positions first: a contribution reads and writes whole rows of N · C values
        grad = xp.ascontiguousarray(grad_output.reshape(batch + (-1,)).reshape(-1, grad_output[0, 0].size).T)
        total = xp.zeros((math.prod(taps.size for taps in self.backward_taps), grad.shape[1]), dtype=grad.dtype)
        start = 0
        for end in ends:  # the k-th contribution of every input that has k of them, for k = 0, 1, ...
            every = end - start == len(total)
            place = slice(None) if every else targets[start:end]
            read = grad[sources[start:end]]
            if weights is None:  # nearest
                total[place] = total[place] + read
            elif self.bicubic:  # (grad · w_row) · w_column, added
                total[place] = total[place] + read * row_weights[start:end, None] * weights[start:end, None]
            else:
                total[place] = _fused_multiply_add(weights[start:end, None], read, total[place])
            start = end
        return xp.ascontiguousarray(total.T.reshape(batch + tuple(taps.size for taps in self.backward_taps)))

    def _order(self):
        """Every contribution of an output's gradient to an input (zero weights left out): its
        input, output, weight (and, for bicubic, its row weight), sorted by input, each input's in
        PyTorch's order; and where the k-th contributions of all inputs end."""
        if self._contributions is None:
            self._contributions = self._contributions_in_order()
        return self._contributions

    def _contributions_in_order(self):
        dims = len(self.backward_taps)
        outs = [len(taps.columns) for taps in self.backward_taps]
        counts = [taps.columns.shape[1] for taps in self.backward_taps]
        tap_axes = list(range(dims, 2 * dims))
        if self.bicubic:
            tap_axes.reverse()  # for each column tap, each row tap
        shape = outs + [counts[axis - dims] for axis in sorted(tap_axes)]
        target = xp.zeros(shape, dtype=xp.int64)
        factors = []
        stride = 1
        for dim in reversed(range(dims)):
            taps = self.backward_taps[dim]
            index = [1] * (2 * dims)
            index[dim], index[dims + dim] = outs[dim], counts[dim]
            target = target + taps.columns.reshape(index) * stride
            stride *= taps.size
            if taps.weights is not None:
                factors.insert(0, taps.weights.reshape(index))
        order = list(range(dims)) + tap_axes  # outputs in order, then the taps in the kernel's order
        source = xp.broadcast_to(xp.arange(math.prod(outs)).reshape(outs + [1] * dims), shape)
        target, source = target.transpose(order).reshape(-1), source.transpose(order).reshape(-1)
        row_weights = None
        if not factors:
            weights = xp.ones(target.shape)  # (for the sorting; the gradient is added as it is)
        elif self.bicubic:
            row_weights = xp.broadcast_to(factors[0], shape).transpose(order).reshape(-1)
            weights = xp.broadcast_to(factors[1], shape).transpose(order).reshape(-1)
        else:
            product = functools.reduce(lambda total, factor: total * factor, factors)  # rounded at each step
            weights = xp.broadcast_to(product, shape).transpose(order).reshape(-1)
        kept = weights != 0 if row_weights is None else (weights != 0) & (row_weights != 0)
        by_input = xp.argsort(target[kept], kind="stable")
        target, source, weights = target[kept][by_input], source[kept][by_input], weights[kept][by_input]
        if row_weights is not None:
            row_weights = row_weights[kept][by_input]
        starts = xp.searchsorted(target, target, side="left")
        rank = xp.arange(len(target)) - starts
        by_rank = xp.argsort(rank, kind="stable")
        ends = xp.cumsum(xp.bincount(rank))
        row_weights = None if row_weights is None else row_weights[by_rank]
        return target[by_rank], source[by_rank], weights[by_rank] if factors else None, row_weights, ends


class Resample(Op):
    """A resize (``Resize``) of (N, C, *size) to (N, C, *out): PyTorch's upsample kernels. Its
    gradient is PyTorch's backward kernel (``ResampleBackward``), whose own gradient is this again."""

    keeps_layout = CHANNELS_LAST_OF_ANY_INPUT

    formula = "out[n, c, i, j] = Σ_p,q A_h[i, p] · A_w[j, q] · input[n, c, p, q]"
    derivatives = ("Σ_i,j A_h[i, p] · A_w[j, q] · grad[n, c, i, j]",)

    @staticmethod
    def forward(ctx, input, resize):
        ctx.resize = resize
        return resize.forward(input)

    @staticmethod
    def backward(ctx, grad_output):
        if isinstance(grad_output, Tensor):  # recorded (create_graph) as PyTorch's backward operation
            return ResampleBackward.shown_as(ctx.name().removesuffix("0") + "Backward0").apply(grad_output, ctx.resize), None
        return ctx.resize.backward(grad_output), None


class ResampleBackward(Op):
    """PyTorch's upsample backward kernel: the gradient of a ``Resample``, as an operation of the
    gradient; its own gradient is the resize."""

    formula = "grad_input[n, c, p, q] = Σ_i,j A_h[i, p] · A_w[j, q] · grad[n, c, i, j]"
    derivatives = ("Σ_p,q A_h[i, p] · A_w[j, q] · grad[n, c, p, q]",)

    @staticmethod
    def forward(ctx, grad_output, resize):
        ctx.resize = resize
        return resize.backward(grad_output)

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, Tensor):
            return Resample.shown_as(ctx.name().removesuffix("Backward0") + "0").apply(grad, ctx.resize), None
        return ctx.resize.forward(grad), None


# ----------------------------------------------------------------------------- matrices (uint8 images)
class Mix:
    """Output i along the dimension is Σ_j matrix[i, j] · input j: ``matrix`` (out, in)."""

    def __init__(self, matrix):
        self.matrix = matrix

    def applied(self, values, axis):
        matrix = self.matrix.astype(values.dtype, copy=False)
        if axis == values.ndim - 1:
            return values @ matrix.T
        return xp.moveaxis(matrix @ xp.moveaxis(values, axis, -2), -2, axis)


def resampled(values, passes):
    """``values`` (N, C, *size) with ``passes[k](values, axis)`` resampling spatial dimension k, the
    last one first, as PyTorch's kernels: a new array, also where every pass keeps its dimension."""
    resized = values
    for axis, resample in reversed(list(enumerate(passes, start=2))):
        resized = resample(resized, axis)
    return resized.copy() if resized is values else xp.ascontiguousarray(resized)


# ----------------------------------------------------------------------------- where outputs read the input
def _compute_dtype(input):
    """PyTorch computes positions and weights in float64 for float64 input, else in float32."""
    return xp.float64 if input.dtype == xp.float64 else xp.float32


def _scale(size, out, scale_factor, align_corners, dtype):
    """Input positions per output position, as PyTorch's area_pixel_compute_scale: with
    ``align_corners`` the corner pixels' centres line up; otherwise 1 / scale_factor when given,
    else size / out."""
    if align_corners:
        return dtype(size - 1) / dtype(out - 1) if out > 1 else dtype(0)
    if scale_factor is not None and scale_factor > 0:
        return dtype(1.0 / scale_factor)
    return dtype(size) / dtype(out)


def _source_positions(scale, out, align_corners, cubic, dtype, fused=True):
    """Where outputs 0 .. out-1 fall in the input: i · scale with ``align_corners``, else pixel
    areas line up, (i + 0.5) · scale - 0.5 (a fused multiply-add in the kernels; not below 0,
    except for cubic)."""
    index = xp.arange(out).astype(dtype)
    if align_corners:
        return scale * index
    source = _fused_multiply_add(scale, index + dtype(0.5), dtype(-0.5), fused)
    return source if cubic else xp.maximum(source, dtype(0))


def _below(source, size):
    """The input index at or below each source position, as PyTorch's guard_index_and_lambda (its
    floorf reads the position in float32), and the distance past it, within [0, 1]."""
    low = xp.minimum(xp.floor(source.astype(xp.float32)).astype(xp.int64), size - 1)
    return low, xp.clip(source - low.astype(source.dtype), 0, 1)


def _nearest_taps(size, out, scale_factor, exact, images, dtype):
    """'nearest' reads input floor(i · scale) (OpenCV's INTER_NEAREST); 'nearest-exact'
    floor((i + 0.5) · scale), pixel centres (Pillow's and SciPy's), computed as PyTorch does.
    PyTorch's kernel for ``images`` (4-D input) reads input i for out = size and i // 2 for
    out = 2 size whatever the scale factor; its 1-d and 3-d kernels do not."""
    if images and not exact and out in (size, 2 * size):
        return Taps((xp.arange(out) // (out // size))[:, None], None, size)
    scale = _scale(size, out, scale_factor, False, dtype)
    if exact:
        source = _source_positions(scale, out, False, False, dtype) + dtype(0.5)
    else:
        source = _source_positions(scale, out, True, False, dtype)
    return Taps(xp.minimum(xp.floor(source).astype(xp.int64), size - 1)[:, None], None, size)


def _matrix(size, rows, columns, weights):
    """A (out, size) with ``weights[i, t]`` added at (i, ``columns[i, t]``) (repeated columns add)."""
    matrix = xp.zeros((len(rows), size))
    add_at(matrix, (xp.repeat(rows, columns.shape[1]), columns.reshape(-1)), weights.reshape(-1))
    return matrix


def _linear_taps(size, out, scale_factor, align_corners, dtype):
    """Row i mixes the two input positions around output i's source position: their columns and
    weights, each (out, 2); where the size stays, PyTorch's kernel reads input i with weights 1, 0."""
    if out == size:
        index = xp.arange(size)
        return xp.stack([index, index], 1), xp.tile(xp.array([1, 0], dtype=dtype), (size, 1))
    source = _source_positions(_scale(size, out, scale_factor, align_corners, dtype), out, align_corners, False, dtype)
    low, weight_high = _below(source, size)
    high = xp.minimum(low + 1, size - 1)
    return xp.stack([low, high], 1), xp.stack([1 - weight_high, weight_high], 1)


def _cubic_near(x, a, fused=True):
    """Keys' cubic convolution for |x| <= 1, ((a + 2) x - (a + 3)) x² + 1, rounded as PyTorch's
    compiled cubic_convolution1: the first step fused, the rest rounded one by one."""
    dtype = x.dtype.type
    return _fused_multiply_add(dtype(a + 2), x, dtype(-(a + 3)), fused) * x * x + dtype(1)


def _cubic_far(x, a, fused=True):
    """Keys' cubic convolution for 1 < |x| < 2, ((a x - 5 a) x + 8 a) x - 4 a, rounded as PyTorch's
    compiled cubic_convolution2: the first two steps fused, the last product rounded."""
    dtype = x.dtype.type
    inner = _fused_multiply_add(_fused_multiply_add(dtype(a), x, dtype(-5 * a), fused), x, dtype(8 * a), fused)
    return inner * x - dtype(4 * a)


def _cubic_coefficients(t, a, fused=True):
    """Keys' cubic convolution weights of the four inputs at offsets -1, 0, 1, 2 from a source
    position t (0 <= t <= 1) past the second, as PyTorch's get_cubic_upsample_coefficients."""
    one = t.dtype.type(1)
    rest = one - t
    near, far = functools.partial(_cubic_near, a=a, fused=fused), functools.partial(_cubic_far, a=a, fused=fused)
    return xp.stack([far(t + one), near(t), near(rest), far(rest + one)], 1)


def _cubic_taps(size, out, scale_factor, align_corners, dtype, fused=True):
    """Row i weights the four inputs around output i's source position by cubic convolution
    (A = -0.75); positions past the border read the border. Columns and weights, each (out, 4);
    ``fused`` False: as PyTorch's bicubic backward (compiled without FMA) computes them."""
    scale = _scale(size, out, scale_factor, align_corners, dtype)
    low, t = _below(_source_positions(scale, out, align_corners, True, dtype, fused), size)
    columns = xp.clip(low[:, None] + xp.arange(-1, 3), 0, size - 1)
    return columns, _cubic_coefficients(t, -0.75, fused)


def _triangle(x):
    return xp.maximum(1 - xp.abs(x), 0)


def _keys_cubic(x):
    """The cubic convolution kernel with a = -0.5, as PyTorch's (and Pillow's) antialiasing uses."""
    x = xp.abs(x)
    return xp.where(x < 1, _cubic_near(x, -0.5), xp.where(x < 2, _cubic_far(x, -0.5), 0))


def _lanczos(x):
    """The Lanczos-3 window, sinc(x) · sinc(x / 3) for |x| < 3 (Pillow's LANCZOS, as PyTorch's),
    in float64."""
    x = x.astype(xp.float64)
    return xp.where(xp.abs(x) < 3, xp.sinc(x) * xp.sinc(x / 3), 0.0)


#: The antialiasing filters by mode: how many inputs they span at scale 1, and the kernel.
_ANTIALIAS_FILTERS = {"bilinear": (2, _triangle), "bicubic": (4, _keys_cubic), "lanczos": (6, _lanczos)}


def _antialias_taps(size, out, scale_factor, align_corners, mode, dtype):
    """PyTorch's (and Pillow's) antialiased resampling: the filter stretched by the scale when
    downsampling (so that every input inside it counts), each row's weights normalized to sum 1,
    computed in ``dtype`` as PyTorch's _compute_indices_min_size_weights_aa (some steps in float64).
    Columns and weights, each (out, taps)."""
    scale = _scale(size, out, scale_factor, align_corners, dtype)
    taps, kernel = _ANTIALIAS_FILTERS[mode]
    support = dtype(taps * 0.5 * float(scale) if scale >= 1.0 else taps * 0.5)
    width = math.ceil(support) * 2 + 1
    inverse = dtype(1.0 / float(scale)) if scale >= 1.0 else dtype(1.0)
    center = (float(scale) * (xp.arange(out) + 0.5)).astype(dtype)
    first = xp.maximum(((center - support) + 0.5).astype(xp.int64), 0)
    count = xp.clip(xp.minimum(((center + support) + 0.5).astype(xp.int64), size) - first, 0, width)
    offsets = xp.arange(width)
    distance = (first[:, None] + offsets).astype(dtype) - center[:, None]
    weights = kernel(((distance + 0.5) * float(inverse)).astype(dtype)).astype(dtype) * (offsets < count[:, None])
    total = xp.zeros(out, dtype=dtype)
    for tap in range(width):  # summed in order, as PyTorch's total_w
        total = total + weights[:, tap]
    return xp.minimum(first[:, None] + offsets, size - 1), weights / xp.where(total == 0, 1, total)[:, None]


def _taps(size, out, scale_factor, align_corners, mode, antialias, dtype):
    """The columns and weights (each (out, taps)) of an interpolating mode along one dimension."""
    if antialias:
        return _antialias_taps(size, out, scale_factor, align_corners, mode, dtype)
    if mode == "bicubic":
        return _cubic_taps(size, out, scale_factor, align_corners, dtype)
    return _linear_taps(size, out, scale_factor, align_corners, dtype)


# ----------------------------------------------------------------------------- uint8 images
class FixedPointMix:
    """A ``Mix`` of uint8 values as PyTorch (after Pillow) computes it: in integers, with the
    weights scaled by 2^precision and rounded (half away from zero),

        out[i] = clamp((Σ_j W[i, j] · input[j] + 2^(precision - 1)) >> precision, 0, 255)

    that is the weighted sum rounded half up, clamped to the uint8 range (bicubic overshoots).
    ``precision`` is the most bits that keep the largest weight (a partial sum of a border
    input's weights included, as PyTorch accumulates them) below 2^15."""

    def __init__(self, size, taps):
        columns, weights = taps
        largest = running = weights[:, 0]
        for tap in range(1, weights.shape[1]):  # weights summed into one border column, as they are added
            running = xp.where(columns[:, tap] == columns[:, tap - 1], running + weights[:, tap], weights[:, tap])
            largest = xp.maximum(largest, running)
        largest = float(largest.max())
        self.precision = 0
        while self.precision < 22 and math.floor(0.5 + largest * 2 ** (self.precision + 1)) < 2**15:
            self.precision += 1
        scaled = _matrix(size, xp.arange(len(columns)), columns, weights) * 2**self.precision
        self.matrix = xp.trunc(scaled + xp.copysign(0.5, scaled))

    def applied(self, values, axis):
        # the sums of uint8 values times int16 weights are exact in float64 (far below 2^53)
        total = Mix(self.matrix).applied(values.astype(xp.float64), axis)
        return xp.clip(xp.floor((total + 2 ** (self.precision - 1)) / 2**self.precision), 0, 255).astype(xp.uint8)


class ResampleImage(Op):
    """A uint8 image resized in fixed point (``FixedPointMix``), as PyTorch does: its width first,
    then its height, each pass rounded to uint8; a dimension whose size stays is left as it is.
    Integers have no gradient."""

    keeps_layout = CHANNELS_LAST_OF_ANY_INPUT

    formula = "out[n, c, i, j] = round(Σ_p A_h[i, p] · round(Σ_q A_w[j, q] · input[n, c, p, q]))"
    derivatives = (None, None)

    @staticmethod
    def forward(ctx, input, plans):
        return resampled(input, [plan.applied for plan in plans])


# ----------------------------------------------------------------------------- interpolate
def _check_mode(input, mode, antialias, align_corners):
    """PyTorch's checks of the mode against the input (after those of the sizes), with its errors."""
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D tensor as input")
    if mode in _INTERPOLATING and input.ndim in (3, 4, 5) and input.ndim != _INTERPOLATING[mode] + 2 and mode != "bicubic":
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {_INTERPOLATING[mode] + 2}D input")
    if mode not in _MODES or input.ndim not in (3, 4, 5) or (mode in ("bicubic", "lanczos") and input.ndim != 4):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the modes: "
            f"nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got {mode})"
        )
    if mode == "lanczos":
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")


#: PyTorch's kernel named in its error for an input dtype that the mode does not take, per input dimensions.
_KERNEL_NAMES = {
    "nearest": {4: "upsample_nearest2d_channels_last"},
    "linear": {}, "trilinear": {},
    "bilinear": {4: "upsample_bilinear2d_channels_last"},
    "bicubic": {4: "compute_indices_weights_cubic"},
}
_KERNEL_NAMES["nearest-exact"] = _KERNEL_NAMES["nearest"]
#: The modes that take uint8 images too.
_UINT8_MODES = ("nearest", "nearest-exact", "bilinear", "bicubic", "lanczos")


def _check_dtype(input, mode, antialias):
    """The dtypes PyTorch's kernels take, with its error for the others: floating point for every
    mode (only float32 and float64 with ``antialias``), and uint8 (images' dtype) for the nearest
    modes and the bilinear and bicubic ones."""
    name = input._array.dtype.name
    if antialias:
        kernel, taken = "compute_index_ranges_weights", name in ("float32", "float64", "uint8")
    else:
        default = "compute_indices_weights_nearest" if mode.startswith("nearest") else "compute_indices_weights_linear"
        kernel = _KERNEL_NAMES[mode].get(input.ndim, default)
        taken = input.is_floating_point() or (name == "uint8" and mode in _UINT8_MODES)
    if not taken:
        raise NotImplementedError(
            f'"{kernel}" not implemented for \'{scalar_type_name(input._array.dtype)}\': interpolate in mode '
            f"'{mode}'{' with antialias' if antialias else ''} takes "
            f"{'float32, float64' if antialias else 'floating-point'}{' or uint8' if mode in _UINT8_MODES else ''} "
            f"input; convert it with .float()"
        )


def _output_sizes(input, size, scale_factor, recompute_scale_factor):
    """The output's spatial sizes and the scale factors PyTorch's kernels get (None where the
    sizes decide the scale), after PyTorch's checks of ``size`` and ``scale_factor``."""
    spatial = input.ndim - 2
    sizes = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != spatial:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {sizes} and output size of {size}. "
                    "Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "output size in (o1, o2, ...,oK) format."
                )
        entries = list(size) if isinstance(size, (list, tuple)) else [size] * spatial
        outs = [as_integer(each) for each in entries]  # ints, NumPy integers, one-element integer tensors
        if None in outs:
            raise TypeError(
                "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                f"Tuple[int, int, int], but got size with types {[type(each) for each in entries]} (interpolate: "
                f"give the output size as ints, or a float scale as scale_factor)"
            )
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        return outs, [None] * spatial
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != spatial:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial dimensions, but "
                f"got input with spatial dimensions of {sizes} and "
                f"scale_factor of shape {scale_factor}. "
                "Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                "scale_factor in (s1, s2, ...,sK) format."
            )
        factors = [_scale_factor(each, scale_factor) for each in scale_factor]
    else:
        factors = [_scale_factor(scale_factor, scale_factor)] * spatial
    outs = [int(s * f) for s, f in zip(sizes, factors)]
    return outs, [None] * spatial if recompute_scale_factor else factors


def _scale_factor(value, given):
    """``value`` (one of ``given``, the scale_factor argument) as a float, where PyTorch takes it
    for one: a Python or NumPy real number (a bool too); anything else, a tensor included, is a
    TypeError, as PyTorch's argument parser raises."""
    if isinstance(value, (int, float)) or (is_scalar(value) and value.dtype.kind in "biuf"):
        return float(value)
    raise TypeError(
        f"interpolate(): scale_factor must be a float or a tuple of floats, but got {given!r} "
        f"(of type {type(value).__name__}); pass Python numbers (a tensor's with .item())"
    )


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None, antialias=False):
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size``, or to the sizes times
    ``scale_factor`` (rounded down), as ``torch.nn.functional.interpolate``.

    ``mode``: 'nearest' (output i copies input floor(i · scale)), 'nearest-exact' (input
    floor((i + 0.5) · scale)), 'linear' / 'bilinear' / 'trilinear' (the weighted mean of the two
    nearest inputs per dimension), 'bicubic' (cubic convolution of four inputs per dimension,
    A = -0.75), 'lanczos' (4-D, with ``antialias`` only: the Lanczos-3 window sinc(x) · sinc(x / 3)
    over six inputs per dimension, Pillow's LANCZOS), 'area' (the mean of each output's window:
    adaptive average pooling). Here scale = in / out, or 1 / scale_factor when that is given and
    ``recompute_scale_factor`` is not set. ``align_corners`` (interpolating modes) makes the corner
    pixels' centres line up instead of the pixel areas' edges. ``antialias`` (bilinear, bicubic,
    lanczos) widens the filter by the scale when downsampling, so that every input counts.
    """
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear")
    outs, factors = _output_sizes(input, size, scale_factor, recompute_scale_factor)
    _check_mode(input, mode, antialias, align_corners)
    sizes = tuple(input.shape[2:])
    if mode == "area":
        pool = (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[len(sizes) - 1]
        return pool(input, outs[0] if len(sizes) == 1 else tuple(outs))
    if any(side <= 0 for side in (*sizes, *outs)):
        names = ("D", "H", "W")[-len(sizes) :]
        raise RuntimeError(
            "Input and output sizes should be greater than 0, but got input "
            f"({', '.join(f'{name}: {s}' for name, s in zip(names, sizes))}) output "
            f"({', '.join(f'{name}: {o}' for name, o in zip(names, outs))})"
        )
    if input.shape[1] == 0:
        raise RuntimeError(
            f"Non-empty {input.ndim}D data tensor expected but got a tensor with sizes {list(input.shape)} "
            f"(interpolate needs at least one channel; only the batch may be empty)"
        )
    _check_dtype(input, mode, antialias)
    dtype, corners = _compute_dtype(input), bool(align_corners)
    if mode in ("nearest", "nearest-exact"):
        taps = [_nearest_taps(s, o, f, mode == "nearest-exact", input.ndim == 4, dtype) for s, o, f in zip(sizes, outs, factors)]
        return Resample.shown_as(_NODE_NAMES[mode].format(len(sizes))).apply(input, Resize(taps))
    if input.dtype == uint8:  # its weights computed in float64 (as PyTorch does), then in fixed point
        plans = [FixedPointMix(s, _taps(s, o, f, corners, mode, antialias, xp.float64)) if s != o else _kept(s) for s, o, f in zip(sizes, outs, factors)]
        return ResampleImage.apply(input, plans)
    resample = Resample.shown_as(_NODE_NAMES[mode].replace("2D", "2DAa") if antialias else _NODE_NAMES[mode])
    return for_input(resample, input).apply(input, _float_resize(input, mode, antialias, corners, outs, factors, dtype))


def _float_resize(input, mode, antialias, align_corners, outs, factors, dtype):
    """The ``Resize`` PyTorch's kernel for ``mode`` computes on floating-point ``input``: the
    antialiased kernel copies a dimension whose size stays, whatever the scale factor; the linear
    modes read it with weights 1 and 0, in the channels-last kernel for images laid out channels-last
    with more than 3 channels, for small outputs (height + width <= 128) and for 3 channels on one
    thread, and for volumes laid out channels-last with more than 3 channels."""
    sizes = input.shape[2:]
    taps = [
        Taps(*_taps(s, o, f, align_corners, mode, antialias, dtype), s) if s != o or not antialias else _kept(s)
        for s, o, f in zip(sizes, outs, factors)
    ]
    if antialias:
        return Resize(taps, second_tap_first=False)
    if mode == "bicubic":
        backward_taps = [Taps(*_cubic_taps(s, o, f, align_corners, dtype, fused=False), s) for s, o, f in zip(sizes, outs, factors)]
        return Resize(taps, bicubic=True, backward_taps=backward_taps)
    channels = input.shape[1]
    if input.ndim == 4:
        laid_out = is_contiguous_in(input, channels_last) and channels > 3
        vectorized = laid_out or sum(outs) <= 128 or (channels == 3 and get_num_threads() == 1)
    else:
        vectorized = input.ndim == 5 and is_contiguous_in(input, channels_last_3d) and channels > 3
    if vectorized:
        return Resize(taps, kernel="corners", lanes=_VECTOR_BYTES // xp.dtype(dtype).itemsize)
    return Resize(taps)
