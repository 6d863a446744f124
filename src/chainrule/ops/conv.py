"""Convolutions, and im2col (``unfold``) and col2im (``fold``) as public operations.

A convolution slides a kernel over the input and takes a dot product at each position::

    out[n, o, i, j] = Σ_c,p,q weight[o, c, p, q] · x[n, c, i·s + p·d, j·s + q·d] + bias[o]

(``s`` the stride, ``d`` the dilation, ``x`` the zero-padded input). It is computed as im2col and
one matrix product: the windows of the input are a strided view (no copy, see
``backend.sliding_windows``), laid out as rows of a matrix (``C·kh·kw`` values per output
position), and multiplied by the weight viewed as a ``(C·kh·kw, O)`` matrix.

Its gradients are convolutions too, so they run as fast as the forward pass and can be
differentiated again:

- input: the transposed convolution of the output gradient with the same weight (each output
  gradient element spreads back over the window it came from: a matrix product, then col2im);
- weight: the input convolved with the output gradient, with batch and channels exchanged (the
  stride becomes the dilation and the dilation the stride);
- bias: the output gradient summed over the batch and the positions.

With ``groups`` the channels split into ``groups`` independent convolutions: output channels of
group g see only the input channels of group g. A depthwise convolution (one input channel per
group) of stride 1 skips im2col: it is a multiply-add of whole arrays per kernel position
(``depthwise``), and so are its gradients. 1-d convolutions are the same with one spatial
dimension; every function here works for any number of them.

Of float16 tensors, a convolution is computed in float32, bias included, and rounded once, as
PyTorch's CPU kernels compute it (``half_precision.for_input``); its gradients so too.
"""
import itertools
import math

from chainrule import dtypes
from chainrule.backend import MetaArray, meta_array, sliding_windows, xp
from chainrule.memory_layout import CHANNELS_LAST_OF_ANY_INPUT
from chainrule.caller_warnings import warn_once
from chainrule.ops.half_precision import for_input
from chainrule.ops.padding import constant_pad_nd
from chainrule.ops.registry import public
from chainrule.ops.windows import LAYOUTS, WindowNode, WindowOp, array_functions, on_arrays, output_size, per_dimension
from chainrule.utils.operation_mode import operands_in_modes


# ----------------------------------------------------------------------------- on arrays
def padded(array, before, after, value=0):
    """``array`` with its trailing spatial dimensions padded by ``before``/``after`` (negative: cropped)."""
    lead = array.ndim - len(before)
    if any(b > 0 for b in before) or any(a > 0 for a in after):
        widths = [(0, 0)] * lead + [(max(b, 0), max(a, 0)) for b, a in zip(before, after)]
        array = xp.pad(array, widths, constant_values=value)
    if any(b < 0 for b in before) or any(a < 0 for a in after):
        crop = tuple(slice(max(-b, 0), size - max(-a, 0)) for b, a, size in zip(before, after, array.shape[lead:]))
        array = array[(slice(None),) * lead + crop]
    return array


def columns_of(input, kernel, stride, padding, dilation, groups):
    """im2col on arrays: the windows of ``input (N, C, *size)`` as ``(groups, C/groups·kernel,
    N·positions)``. The one copy of the windows (a strided view until here); this order keeps
    runs of input rows contiguous, so the copy runs at memory speed."""
    batch, channels, spatial = input.shape[0], input.shape[1], input.ndim - 2
    windows = sliding_windows(padded(input, padding, padding), kernel, stride, dilation)  # (N, C, *out, *kernel)
    columns = windows.reshape((batch, groups, channels // groups) + windows.shape[2:])
    order = (1, 2) + tuple(range(3 + spatial, 3 + 2 * spatial)) + (0,) + tuple(range(3, 3 + spatial))
    return columns.transpose(order).reshape(groups, channels // groups * math.prod(kernel), -1)


def per_group(left, right, groups):
    """``left[g] @ right[g]`` for each group, stacked along the rows (NumPy's stacked matmul does
    not reach BLAS's speed, so one plain matrix product per group). ``left`` is made contiguous:
    a gradient may arrive broadcast (``loss = out.sum()``), and BLAS takes no zero strides."""
    left = xp.ascontiguousarray(left)
    if groups == 1:
        return left[0] @ right[0]
    return xp.concatenate([left[group] @ right[group] for group in range(groups)])


def is_depthwise(channels, groups, stride):
    """Whether a convolution of ``channels`` input channels in ``groups`` takes the depthwise path:
    one input channel per group (groups = C > 1), each giving m = O / C output channels, at
    stride 1 (which the flat runs of ``FlatPlanes`` need; strided ones take im2col)."""
    return groups > 1 and channels == groups and all(step == 1 for step in stride)


def kernel_offsets(kernel):
    """Every kernel position p = (p_0, p_1, ...), in row-major order."""
    return itertools.product(*(range(k) for k in kernel))


class FlatPlanes:
    """The stride-1 windows of planes (or volumes) of size ``extent``, read flattened.

    Element i + p·dilation lies at flat index Σ_k (i_k + p_k·d_k)·step_k (step_k: the flat size
    of the dimensions after k), so kernel position p's elements of every window position i form
    one contiguous run, ``length`` long, from Σ_k p_k·d_k·step_k. A run also holds the places
    between the rows (and planes) of positions (``positions`` = extent - dilation·(kernel - 1)):
    ``widened`` fills them with zeros, ``narrowed`` drops them. A pass over a run goes at memory
    speed, where one over strided views of short rows would not."""

    def __init__(self, extent, kernel, dilation):
        self.extent, self.kernel, self.dilation = tuple(extent), tuple(kernel), tuple(dilation)
        self.steps = tuple(math.prod(self.extent[k + 1 :]) for k in range(len(self.extent)))
        self.positions = tuple(e - d * (k - 1) for e, k, d in zip(self.extent, self.kernel, self.dilation))
        self.length = sum((n - 1) * step for n, step in zip(self.positions, self.steps)) + 1

    def runs(self, flat):
        """``flat (..., prod(extent))`` at each kernel position p: pairs (p, run (..., length)), views."""
        for offset in kernel_offsets(self.kernel):
            start = sum(o * d * step for o, d, step in zip(offset, self.dilation, self.steps))
            yield offset, flat[..., start : start + self.length]

    def widened(self, array):
        """``array (..., *sizes)`` laid out as a run (..., length), zeros between its rows and after
        its last ones (sizes up to ``positions``: windows past them contribute nothing)."""
        spatial = len(self.extent)
        sizes = array.shape[array.ndim - spatial :]
        wide = padded(array, (0,) * spatial, (self.positions[0] - sizes[0],) + tuple(e - n for e, n in zip(self.extent[1:], sizes[1:])))
        return wide.reshape(array.shape[: array.ndim - spatial] + (-1,))[..., : self.length]

    def narrowed(self, run):
        """A run (..., length) read back as (..., *positions)."""
        whole = padded(run, (0,), (self.positions[0] * self.steps[0] - self.length,))
        planes = whole.reshape(run.shape[:-1] + (self.positions[0],) + self.extent[1:])
        return planes[(Ellipsis,) + tuple(slice(0, n) for n in self.positions)]


def depthwise(input, weight, padding, dilation):
    """The depthwise convolution, stride 1, of ``input (N, C, *size)`` by ``weight (C·m, 1,
    *kernel)`` (groups = C), without bias:

        out[n, c·m + k, *i] = Σ_p weight[c·m + k, 0, *p] · x[n, c, *(i + p·dilation)]

    one multiply-add of whole arrays (N, C, m, length) per kernel position p: p's run of the
    padded input (``FlatPlanes``) times p's weight per output channel. (im2col with a matrix
    product per group would make C products of m rows each.) Returns (N, C·m, *positions)."""
    source = padded(input, padding, padding)
    planes = FlatPlanes(source.shape[2:], weight.shape[2:], dilation)
    flat = source.reshape(source.shape[:2] + (1, -1))  # (N, C, 1, prod(extent))
    weights = weight.reshape((input.shape[1], -1, 1) + weight.shape[2:])  # (C, m, 1, *kernel)
    output = term = None
    for offset, run in planes.runs(flat):
        if output is None:
            output = run * weights[(Ellipsis,) + offset]
            term = xp.empty_like(output)
        else:
            output += xp.multiply(run, weights[(Ellipsis,) + offset], out=term)
    return planes.narrowed(output).reshape((input.shape[0], weight.shape[0]) + planes.positions)


def depthwise_transposed(input, weight, padding, output_padding, dilation, groups):
    """The adjoint of ``depthwise`` (its input gradient): ``input (N, C·m, *positions)`` and
    ``weight (C·m, 1, *kernel)`` -> (N, C, *size), each kernel position p adding

        out[n, c, *(i + p·dilation)] += Σ_k weight[c·m + k, 0, *p] · input[n, c·m + k, *i]

    as one addition of a run into the flattened output, which is then cropped by ``padding``."""
    batch, kernel = input.shape[0], weight.shape[2:]
    extent = tuple(n + d * (k - 1) + extra for n, d, k, extra in zip(input.shape[2:], dilation, kernel, output_padding))
    planes = FlatPlanes(extent, kernel, dilation)
    sources = planes.widened(input.reshape((batch, groups, -1) + input.shape[2:]))  # (N, C, m, length)
    weights = weight.reshape((groups, -1, 1) + kernel)  # (C, m, 1, *kernel)
    canvas = xp.zeros((batch, groups, math.prod(extent)), dtype=xp.result_type(input, weight))
    for offset, place in planes.runs(canvas):
        footprint = sources * weights[(Ellipsis,) + offset]
        place += footprint[:, :, 0] if footprint.shape[2] == 1 else footprint.sum(2)
    return padded(canvas.reshape((batch, groups) + extent), tuple(-p for p in padding), tuple(-p for p in padding))


def depthwise_weight_gradient(input, grad_output, kernel, padding, dilation):
    """d loss / d weight of ``depthwise``: per kernel position p and output channel c·m + k,

        Σ_n,i grad[n, c·m + k, *i] · x[n, c, *(i + p·dilation)]

    the product of p's run of the padded input and the widened gradient (N, C, m, length), summed
    over the batch and the run (one ``einsum``, which sums as it multiplies). Returns (C·m, 1, *kernel)."""
    batch, channels = input.shape[:2]
    source = padded(input, padding, padding)
    planes = FlatPlanes(source.shape[2:], kernel, dilation)
    grads = planes.widened(grad_output.reshape((batch, channels, -1) + grad_output.shape[2:]))  # (N, C, m, length)
    flat = source.reshape(source.shape[:2] + (-1,))
    gradient = xp.empty((channels, grads.shape[2]) + tuple(kernel), dtype=xp.result_type(input, grad_output))
    for offset, run in planes.runs(flat):
        gradient[(Ellipsis,) + offset] = xp.einsum("ncml,ncl->cm", grads, run)
    return gradient.reshape((-1, 1) + tuple(kernel))


#: The most bytes of im2col columns or footprints made at once: past it, a batch is worked through
#: in chunks of samples. Below the C allocator's mapping threshold (32 MiB, see
#: ``backend.keep_freed_memory_for_reuse``), a chunk's memory is reused from chunk to chunk and
#: from step to step; a fresh 75 MiB array costs twice its copy again in page faults.
CHUNK_BYTES = 16 * 1024 * 1024


def sample_chunks(batch, bytes_per_sample):
    """Slices of the batch, each holding as many samples as ``CHUNK_BYTES`` allows (one at least)."""
    size = max(1, CHUNK_BYTES // max(bytes_per_sample, 1))
    return [slice(start, start + size) for start in range(0, max(batch, 1), size)]


def output_shape(input_shape, weight_shape, stride, padding, dilation, transposed, output_padding, groups):
    """The shape of the convolution of ``input (N, C, *size)`` and ``weight``: (N, O, *positions)
    for ``weight (O, C / groups, *kernel)``; transposed, ``weight (C, O / groups, *kernel)``, (N,
    O, *size_out) with size_out = (size - 1) stride - 2 padding + dilation (kernel - 1) + 1 + output_padding."""
    kernel = weight_shape[2:]
    if transposed:
        size = tuple(
            (n - 1) * s - 2 * p + d * (k - 1) + 1 + extra
            for n, s, p, d, k, extra in zip(input_shape[2:], stride, padding, dilation, kernel, output_padding)
        )
        return (input_shape[0], weight_shape[1] * groups) + size
    return (input_shape[0], weight_shape[0]) + tuple(map(output_size, input_shape[2:], kernel, stride, padding, dilation))


def convolve(input, weight, stride, padding, dilation, groups):
    """The convolution of arrays ``input (N, C, *size)`` and ``weight (O, C / groups, *kernel)``,
    without bias: im2col, then one matrix product (per group), for a chunk of samples at a time.
    The result is laid out channel-major in memory, (O, N, *positions), and returned as its
    (N, O, ...) view, with the im2col columns of each chunk, ``[(samples, columns), ...]`` (the
    weight gradient needs them again). A depthwise convolution is ``depthwise`` (no columns: None)."""
    out_channels, kernel = weight.shape[0], weight.shape[2:]
    positions = tuple(map(output_size, input.shape[2:], kernel, stride, padding, dilation))
    if input.size == 0:  # an empty batch: nothing to compute
        return xp.zeros((input.shape[0], out_channels) + positions, dtype=xp.result_type(input, weight)), None
    if is_depthwise(input.shape[1], groups, stride):
        return depthwise(input, weight, padding, dilation), None
    kernels = weight.reshape(groups, out_channels // groups, -1)
    chunks = sample_chunks(input.shape[0], math.prod(weight.shape[1:]) * groups * math.prod(positions) * input.itemsize)
    if len(chunks) == 1:
        columns = columns_of(input, kernel, stride, padding, dilation, groups)
        output = per_group(kernels, columns, groups)
        return output.reshape((out_channels, input.shape[0]) + positions).swapaxes(0, 1), [(slice(None), columns)]
    output, kept = xp.empty((out_channels, input.shape[0]) + positions, dtype=xp.result_type(input, weight)), []
    for chunk in chunks:
        columns = columns_of(input[chunk], kernel, stride, padding, dilation, groups)
        output[:, chunk] = per_group(kernels, columns, groups).reshape((out_channels, -1) + positions)
        kept.append((chunk, columns))
    return output.swapaxes(0, 1), kept


def convolve_transposed(input, weight, stride, padding, output_padding, dilation, groups):
    """The transposed convolution of arrays ``input (N, C, *size)`` and ``weight (C, O / groups,
    *kernel)``: one matrix product gives every input element's footprint (kernel times the element,
    (O·kernel, N·positions)), then col2im adds the footprints at stride-spaced places, one strided
    addition per kernel position (never a loop over positions, never a scatter); a chunk of
    samples at a time. This costs what the convolution costs, where the equivalent convolution of
    the zero-dilated input would compute stride² times as much, and copy C_out/C_in times more
    when the output has more channels.

    With stride 1 (every convolution's input gradient but the strided ones), the input is first
    widened with zeros to the output's rows (and planes) (``FlatPlanes``): then a kernel
    position's footprints land on the flattened output as one contiguous run per sample, which
    adds several times faster than short rows, for a matrix product that is wider by
    prod(extent[1:]) / prod(size[1:])."""
    if input.size == 0:  # an empty batch: nothing to compute
        shape = output_shape(input.shape, weight.shape, stride, padding, dilation, True, output_padding, groups)
        return xp.zeros(shape, dtype=xp.result_type(input, weight))
    if is_depthwise(weight.shape[1] * groups, groups, stride):
        return depthwise_transposed(input, weight, padding, output_padding, dilation, groups)
    batch, channels, kernel = input.shape[0], input.shape[1], weight.shape[2:]
    spatial, out_channels = len(kernel), weight.shape[1] * groups
    extent = tuple((n - 1) * s + d * (k - 1) + 1 + extra for n, s, d, k, extra in zip(input.shape[2:], stride, dilation, kernel, output_padding))
    flat = all(s == 1 for s in stride)
    if flat:
        planes = FlatPlanes(extent, kernel, dilation)
        input = planes.widened(input)  # (N, C, length)
        canvas = xp.zeros((out_channels, batch, math.prod(extent)), dtype=xp.result_type(input, weight))
    else:
        canvas = xp.zeros((out_channels, batch) + extent, dtype=xp.result_type(input, weight))
    positions = input.shape[2:]
    kernels = weight.reshape(groups, channels // groups, -1).transpose(0, 2, 1)  # (g, O/g·kernel, C/g)
    for chunk in sample_chunks(batch, out_channels * math.prod(kernel) * math.prod(positions) * input.itemsize):
        samples = input[chunk]
        rows = samples.reshape(samples.shape[:1] + (groups, channels // groups, -1)).transpose(1, 2, 0, 3).reshape(groups, channels // groups, -1)
        footprints = per_group(kernels, rows, groups)
        if flat:
            footprints = footprints.reshape((out_channels,) + kernel + (samples.shape[0], -1))
            for offset, place in planes.runs(canvas[:, chunk]):
                place += footprints[(slice(None),) + offset]
            continue
        footprints = footprints.reshape((out_channels,) + kernel + samples.shape[:1] + positions)
        footprints = footprints.transpose((0, spatial + 1) + tuple(range(1, spatial + 1)) + tuple(range(spatial + 2, 2 * spatial + 2)))
        col2im(footprints, canvas[:, chunk], stride, dilation)
    if flat:
        canvas = canvas.reshape((out_channels, batch) + extent)
    return padded(canvas, tuple(-p for p in padding), tuple(-p for p in padding)).swapaxes(0, 1)  # laid out as convolve's output


def col2im(footprints, canvas, stride, dilation):
    """Windows' values ``(A, B, *kernel, *positions)`` added into ``canvas (A, B, *extent)`` at
    their places (window i's element p at i·stride + p·dilation): one strided addition per
    kernel position, never a loop over the positions, never a scatter."""
    spatial = canvas.ndim - 2
    kernel, positions = footprints.shape[2 : 2 + spatial], footprints.shape[2 + spatial :]
    for offset in kernel_offsets(kernel):
        places = tuple(slice(o * d, o * d + (n - 1) * s + 1, s) for o, d, n, s in zip(offset, dilation, positions, stride))
        canvas[(slice(None), slice(None)) + places] += footprints[(slice(None), slice(None)) + offset]


@on_arrays("convolution")
def convolution_of_arrays(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """``convolution`` on arrays (the plain backward calls this one); ``bias`` is always None there."""
    if transposed:
        return convolve_transposed(input, weight, stride, padding, output_padding, dilation, groups)
    return convolve(input, weight, stride, padding, dilation, groups)[0]


def with_bias(output, bias):
    """``output`` (N, O, ...) plus ``bias`` (O,) per channel: added in place, as ``output`` is the
    convolution's own fresh array, unless the bias would change its type."""
    if bias is None:
        return output
    bias = bias.reshape((-1,) + (1,) * (output.ndim - 2))
    if xp.result_type(output, bias) != output.dtype:
        return output + bias
    output += bias
    return output


# ----------------------------------------------------------------------------- the gradients, written once
@on_arrays("convolution_weight_gradient")
def weight_gradient_of_arrays(input, grad_output, kernel, stride, padding, dilation, groups, columns=None):
    """``convolution_weight_gradient`` on arrays: per group, the input's im2col columns
    (C/g·kernel, N·positions) times the output gradient transposed (N·positions, O/g): one matrix
    product per group, summed over chunks of samples. (Computed as the transpose of the weight
    gradient: BLAS is several times slower on the other orientation of this long, thin product.)
    ``columns``: ``[(samples, columns), ...]`` when the forward pass already made them."""
    # a transposed convolution's output_padding past its stride adds windows that no input
    # element reached (the output there is only bias): they meet zeros in the output gradient
    if input.size == 0:  # an empty batch: no term in the sum
        return xp.zeros((grad_output.shape[1], input.shape[1] // groups) + tuple(kernel), dtype=xp.result_type(input, grad_output))
    positions = tuple(map(output_size, input.shape[2:], kernel, stride, padding, dilation))
    grad_output = padded(grad_output, (0,) * len(positions), tuple(p - n for p, n in zip(positions, grad_output.shape[2:])))
    if is_depthwise(input.shape[1], groups, stride):
        return depthwise_weight_gradient(input, grad_output, kernel, padding, dilation)
    out_channels = grad_output.shape[1]
    if columns is None:
        per_sample = input.shape[1] * math.prod(kernel) * math.prod(grad_output.shape[2:]) * input.itemsize
        chunks = sample_chunks(grad_output.shape[0], per_sample)
        columns = ((chunk, columns_of(input[chunk], kernel, stride, padding, dilation, groups)) for chunk in chunks)
    total = 0
    for chunk, chunk_columns in columns:
        # the gradient as (O, n·positions) rows: copied in runs of whole planes (not at all for a
        # channel-major gradient of the whole batch), and read transposed by BLAS itself
        rows = xp.ascontiguousarray(grad_output[chunk].swapaxes(0, 1)).reshape(groups, out_channels // groups, -1)
        total = total + per_group(chunk_columns, rows.transpose(0, 2, 1), groups)
    return total.reshape(groups, -1, out_channels // groups).transpose(0, 2, 1).reshape((out_channels, -1) + tuple(kernel))


@public(method=False)
def convolution_weight_gradient(input, grad_output, kernel, stride, padding, dilation, groups):
    """d loss / d weight of a convolution (as ``torch.nn.grad.conv2d_weight``), from its input and
    output gradient: Σ_n,i,j grad[n, o, i, j] x[n, c, i·s + p·d, j·s + q·d], itself a convolution
    (so that it can be differentiated again): of the input with batch and channels exchanged, by
    the output gradient as the kernel, stride and dilation exchanged; cropped to the kernel's size.
    """
    batch, channels, out_channels = input.shape[0], input.shape[1], grad_output.shape[1]
    spatial = tuple(input.shape[2:])
    positions = tuple(grad_output.shape[2:])
    # x (N, g, C/g, ...) -> (C/g, g·N, ...): group g's samples become group g's channels
    samples = input.reshape((batch, groups, channels // groups) + spatial).swapaxes(0, 2)
    samples = samples.reshape((channels // groups, groups * batch) + spatial)
    # grad (N, g, O/g, ...) -> (g·O/g, N, ...): a kernel per output channel over the samples
    kernels = grad_output.reshape((batch, groups, out_channels // groups) + positions).swapaxes(0, 1).swapaxes(1, 2)
    kernels = kernels.reshape((out_channels, batch) + positions)
    no_padding = (0,) * len(spatial)
    gradient = convolution(samples, kernels, None, dilation, padding, stride, False, no_padding, groups).swapaxes(0, 1)
    return gradient[(slice(None), slice(None)) + tuple(slice(0, size) for size in kernel)]


def bias_gradient(grad_output):
    return grad_output.sum((0,) + tuple(range(2, grad_output.ndim)))


def trimmed(output_size, input_size, kernel, stride, padding, dilation):
    """How many input positions past the last window the convolution dropped (per dimension): the
    ``output_padding`` its transposed convolution needs to give back the input's size."""
    return tuple(
        size - ((out - 1) * s - 2 * p + d * (k - 1) + 1)
        for size, out, k, s, p, d in zip(input_size, output_size, kernel, stride, padding, dilation)
    )


# ----------------------------------------------------------------------------- operations
class ColumnsAtHand:
    """The array functions of a plain backward, where the forward pass's im2col columns of
    ``input`` stand in for computing them again (the largest copy of the weight gradient)."""

    def __init__(self, input, columns):
        self.input, self.columns = input, columns

    def __getattr__(self, name):
        return getattr(array_functions, name)

    def convolution_weight_gradient(self, input, grad_output, kernel, stride, padding, dilation, groups):
        columns = self.columns if input is self.input else None
        return weight_gradient_of_arrays(input, grad_output, kernel, stride, padding, dilation, groups, columns)


class ConvolutionNode(WindowNode):
    """A convolution's node: its plain backward reuses the im2col columns its forward kept."""

    @staticmethod
    def plain_backward_xp(ctx):
        columns = ctx.__dict__.get("input_columns")
        return array_functions if columns is None else ColumnsAtHand(ctx.columns_input, columns)

    def tensor_input_positions(self):
        """input, weight and bias, as PyTorch's ConvolutionBackward0 lists them in ``next_functions``:
        an absent bias as ``(None, 0)`` too."""
        return (0, 1, 2)

    def release(self):
        self.__dict__.pop("input_columns", None)  # a list of arrays: not among those released by default
        super().release()


class Convolution(WindowOp):
    """A convolution or, with ``transposed``, its adjoint (each input element adds its footprint,
    weight[c, o, p, q] times itself, at stride-spaced places of the output), as ``torch.convolution``.
    The gradient of either's input is the other one; of the weight, a convolution of input and
    output gradient (exchanged for the transposed one)."""

    keeps_layout = CHANNELS_LAST_OF_ANY_INPUT

    _node_base = ConvolutionNode
    formula = "out[n, o, i, j] = Σ_c,p,q weight[o, c, p, q] · input[n, c, i·stride + p·dilation, j·stride + q·dilation] + bias[o]"
    derivatives = (
        "conv_transpose(grad, conj(weight)) (transposed: conv(grad, conj(weight)))",
        "conv(conj(input)ᵀ, gradᵀ), stride and dilation exchanged (transposed: conv(gradᵀ, conj(input)ᵀ))",
        "Σ_n,i,j grad[n, o, i, j]",
    )

    @staticmethod
    def forward(ctx, input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
        if input.dtype.kind in "biu" and input.size:
            check_integer_kernel(input, transposed)
        needs_input, needs_weight = (ctx.needs_input_grad or (False, False))[:2]
        ctx.save_for_backward(input if needs_weight else None, weight if needs_input else None)
        ctx.geometry = (stride, padding, dilation, transposed, groups)
        ctx.kernel, ctx.input_size = weight.shape[2:], tuple(input.shape[2:])
        if type(input) is MetaArray:  # shapes only, as PyTorch's meta kernel: nothing is computed
            shape = output_shape(input.shape, weight.shape, stride, padding, dilation, transposed, output_padding, groups)
            ctx.input_padding = (0,) * len(stride) if transposed else trimmed(shape[2:], input.shape[2:], ctx.kernel, stride, padding, dilation)
            return meta_array(shape, xp.result_type(input, weight))
        if transposed:
            ctx.input_padding = (0,) * len(stride)
            return with_bias(convolve_transposed(input, weight, stride, padding, output_padding, dilation, groups), bias)
        output, columns = convolve(input, weight, stride, padding, dilation, groups)
        if needs_weight and columns is not None:
            ctx.columns_input, ctx.input_columns = input, columns
        ctx.input_padding = trimmed(output.shape[2:], input.shape[2:], ctx.kernel, stride, padding, dilation)
        return with_bias(output, bias)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        stride, padding, dilation, transposed, groups = ctx.geometry
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = ctx.xp.convolution(grad_output, ctx.xp.conj(weight), None, stride, padding, dilation, not transposed, ctx.input_padding, groups)
            if tuple(grad_input.shape[2:]) != ctx.input_size:
                # output_padding past the stride: the last windows of the transposed convolution's
                # gradient start on output places that no input element reached
                grad_input = grad_input[(slice(None), slice(None)) + tuple(slice(0, size) for size in ctx.input_size)]
        if ctx.needs_input_grad[1]:
            input = ctx.xp.conj(input)  # a real input is itself: its im2col columns at hand still stand for it
            signal, response = (grad_output, input) if transposed else (input, grad_output)
            grad_weight = ctx.xp.convolution_weight_gradient(signal, response, ctx.kernel, stride, padding, dilation, groups)
        if ctx.needs_input_grad[2]:
            grad_bias = bias_gradient(grad_output)
        return grad_input, grad_weight, grad_bias, None, None, None, None, None, None


def check_integer_kernel(input, transposed):
    """PyTorch's CPU kernels convolve integers (bool excepted), and transposed ones only int64:
    its error for the others (an empty input reaches no kernel)."""
    if input.dtype.kind != "b" and (not transposed or input.dtype == xp.int64):
        return
    three_d = input.ndim == 5
    if transposed:
        kernel = "slow_conv_transpose3d_out_cpu" if three_d else "slow_conv_transpose2d_out_cpu"
        taken = "a transposed convolution takes floating-point or int64"
    else:
        kernel, taken = ("compute_columns3d" if three_d else "slow_conv2d_cpu"), "a convolution takes floating-point or integer"
    raise NotImplementedError(
        f"\"{kernel}\" not implemented for '{dtypes.scalar_type_name(input.dtype)}' ({taken} input and weight; "
        f"convert both, e.g. x.float())"
    )


# ----------------------------------------------------------------------------- public functions
@public(method=False)
def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """PyTorch's ``torch.convolution``: the convolution (or, ``transposed``, the transposed one)
    behind ``conv1d``, ``conv2d``, ``conv3d`` and their transposed ones, with every argument given per dimension."""
    count = weight.ndim - 2
    stride, padding, dilation, output_padding = (
        per_dimension(value, count, name, "convolution")
        for value, name in ((stride, "stride"), (padding, "padding"), (dilation, "dilation"), (output_padding, "output_padding"))
    )
    return for_input(Convolution, input).apply(input, weight, bias, stride, padding, dilation, bool(transposed), output_padding, groups)


def _c_type(numpy_dtype):
    """The C type of a dtype, as PyTorch's convolution message names it (float, double, long int)."""
    return _C_TYPES.get(xp.dtype(numpy_dtype).name, xp.dtype(numpy_dtype).name)


_C_TYPES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int", "uint8": "unsigned char", "bool": "bool"}


def check_convolution_input(input, weight, bias, groups, spatial, operation, transposed=False):
    """``(input, weight, bias)`` after PyTorch's errors for inputs ``operation`` cannot take: mixed
    dtypes (unless autocast casts them), the wrong number of dimensions, of channels, a bias of the
    wrong size, groups that do not divide the channels."""
    layout = LAYOUTS[spatial]
    input_type = input._array.dtype
    if weight._array.dtype != input_type or (bias is not None and bias._array.dtype != input_type):
        input, weight, bias = _in_one_dtype(input, weight, bias, operation)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(
            f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input to "
            f"{operation}, but got input of size: {list(input.shape)} ({operation} takes {layout})"
        )
    if weight.ndim != spatial + 2:
        raise RuntimeError(f"{operation}: expected a {spatial + 2}D weight, got weight of size {list(weight.shape)}")
    if groups < 1:
        raise RuntimeError(f"{operation}: non-positive groups is not supported (got groups={groups})")
    if 0 in weight.shape[2:]:
        raise RuntimeError(f"{operation}: kernel size should be greater than zero, but got a weight of size {list(weight.shape)}")
    channels = input.shape[-spatial - 1]
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if channels != expected:
        batched = list(input.shape) if input.ndim == spatial + 2 else [1] + list(input.shape)
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input{batched} "
            f"to have {expected} channels, but got {channels} channels instead ({operation})"
        )
    if transposed and weight.numel() == 0:
        raise RuntimeError(f"non-empty {spatial + 2}D weight tensor expected, but got: {list(weight.shape)} ({operation})")
    if not transposed and weight.shape[0] < groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got weight of "
            f"size {list(weight.shape)} instead ({operation}: a convolution needs at least one output channel per group)"
        )
    if weight.shape[0] % groups or (transposed and channels % groups):
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size {list(weight.shape)} instead ({operation})"
        )
    out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(
            f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
            f"{out_channels} elements, but got bias of size {list(bias.shape)} instead ({operation})"
        )
    return input, weight, bias


def _in_one_dtype(input, weight, bias, operation):
    """input, weight and bias of mixed dtypes cast by autocast, where it casts ``operation``'s
    operands (PyTorch's autocast casts before the convolution checks them), else PyTorch's errors."""
    input, weight, bias = operands_in_modes(operation, (input, weight, bias))
    input_type, weight_type = input._array.dtype, weight._array.dtype
    if bias is not None and bias._array.dtype != input_type:
        raise RuntimeError(
            f"Input type ({_c_type(input_type)}) and bias type ({_c_type(bias._array.dtype)}) should be the same "
            f"({operation}: convert the input, e.g. x.float(), or the module, e.g. model.double())"
        )
    if weight_type != input_type:
        raise RuntimeError(
            f"expected scalar type {dtypes.scalar_type_name(input_type)} but found {dtypes.scalar_type_name(weight_type)} ({operation}: the "
            f"input is {dtypes.dtype_name(input_type)}, the weight {dtypes.dtype_name(weight_type)}; convert the input, "
            f"e.g. x.float(), or the module, e.g. model.double())"
        )
    return input, weight, bias


def _convolve_public(input, weight, bias, stride, padding, dilation, groups, spatial, operation):
    """conv1d, conv2d and conv3d: checks, 'same'/'valid' padding, unbatched input, then ``Convolution``."""
    input, weight, bias = check_convolution_input(input, weight, bias, groups, spatial, operation)
    stride = per_dimension(stride, spatial, "stride", operation)
    dilation = per_dimension(dilation, spatial, "dilation", operation)
    check_steps(stride, dilation, operation)
    kernel = tuple(weight.shape[2:])
    odd_ones = (0,) * spatial
    if padding == "valid":
        padding = (0,) * spatial
    elif padding == "same":
        if any(step != 1 for step in stride):
            raise RuntimeError(f"padding='same' is not supported for strided convolutions ({operation}: stride={stride})")
        # total padding d (k - 1): half on each side, and the odd one out (an even kernel, odd
        # dilation) after, padded beforehand, as PyTorch does
        totals = tuple(d * (k - 1) for d, k in zip(dilation, kernel))
        padding = tuple(total // 2 for total in totals)
        odd_ones = tuple(total % 2 for total in totals)
    elif isinstance(padding, str):
        raise RuntimeError(f"{operation}: Invalid padding string '{padding}', should be one of ('valid', 'same')")
    else:
        padding = nonnegative_padding(per_dimension(padding, spatial, "padding", operation), operation)
    unbatched = input.ndim == spatial + 1
    if unbatched:
        input = input.unsqueeze(0)
    if any(odd_ones):
        warn_once(
            "padding='same' with an even kernel",
            "Using padding='same' with even kernel lengths and odd dilation may require a zero-padded copy of the "
            "input be created",
        )
        input = constant_pad_nd(input, [amount for odd in reversed(odd_ones) for amount in (0, odd)])
    size = tuple(input.shape[2:])
    extent = tuple(s + 2 * p for s, p in zip(size, padding))
    reach = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(e < r for e, r in zip(extent, reach)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, extent))}). "
            f"Kernel size: ({' x '.join(map(str, reach))}). Kernel size can't be greater than actual input size "
            f"({operation}: give a larger input, more padding or a smaller kernel)"
        )
    output = for_input(Convolution, input).apply(input, weight, bias, stride, padding, dilation, False, (0,) * spatial, groups)
    return output.squeeze(0) if unbatched else output


@public(method=False)
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution: input (N, C, L) -> (N, O, L_out), weight (O, C / groups, k), bias (O,).

    L_out = (L + 2 padding - dilation (k - 1) - 1) // stride + 1; ``padding`` may be 'same'
    (L_out = L, stride 1 only) or 'valid' (no padding). (C, L) input is one sample.
    """
    return _convolve_public(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


@public(method=False)
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution: input (N, C, H, W) -> (N, O, H_out, W_out), weight (O, C / groups, kh, kw),
    bias (O,).

    H_out = (H + 2 padding - dilation (kh - 1) - 1) // stride + 1 (W_out alike); each argument is
    an int or a pair (height, width); ``padding`` may be 'same' (stride 1 only) or 'valid'.
    (C, H, W) input is one sample.
    """
    return _convolve_public(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


@public(method=False)
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution of volumes (video, scans): input (N, C, D, H, W) -> (N, O, D_out, H_out,
    W_out), weight (O, C / groups, kd, kh, kw), bias (O,).

    D_out = (D + 2 padding - dilation (kd - 1) - 1) // stride + 1 (H_out, W_out alike); each
    argument is an int or a triple (depth, height, width); ``padding`` may be 'same' (stride 1
    only) or 'valid'. (C, D, H, W) input is one sample.
    """
    return _convolve_public(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def check_steps(stride, dilation, operation):
    """PyTorch's refusals of a stride or a dilation (tuples of ints) below 1."""
    if any(step < 1 for step in stride):
        raise RuntimeError(f"non-positive stride is not supported ({operation}: stride={stride})")
    if any(step < 1 for step in dilation):
        raise RuntimeError(f"dilation should be greater than zero ({operation}: dilation={dilation})")


def nonnegative_padding(padding, operation):
    """``padding`` itself, or PyTorch's refusal of a negative one (which would crop the input)."""
    if any(amount < 0 for amount in padding):
        raise RuntimeError(f"negative padding is not supported ({operation}: padding={padding}; crop the input with a slice instead)")
    return padding


def _convolve_transposed_public(input, weight, bias, stride, padding, output_padding, groups, dilation, spatial, operation):
    """conv_transpose1d, conv_transpose2d and conv_transpose3d: checks, unbatched input, then ``Convolution``."""
    input, weight, bias = check_convolution_input(input, weight, bias, groups, spatial, operation, transposed=True)
    if isinstance(padding, str):
        raise TypeError(
            f"{operation}(): argument 'padding' must be tuple of ints, not str (padding={padding!r} is for "
            f"conv{spatial}d only; give the transposed convolution's padding as ints)"
        )
    stride, padding, output_padding, dilation = (
        per_dimension(value, spatial, name, operation)
        for value, name in ((stride, "stride"), (padding, "padding"), (output_padding, "output_padding"), (dilation, "dilation"))
    )
    check_steps(stride, dilation, operation)
    nonnegative_padding(padding, operation)
    if any(extra >= s and extra >= d for extra, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(
            f"{operation}: output padding must be smaller than either stride or dilation, but got "
            f"output_padding={output_padding}, stride={stride}, dilation={dilation}"
        )
    unbatched = input.ndim == spatial + 1
    if unbatched:
        input = input.unsqueeze(0)
    output = for_input(Convolution, input).apply(input, weight, bias, stride, padding, dilation, True, output_padding, groups)
    if any(size < 1 for size in output.shape[2:]):
        raise RuntimeError(f"{operation}: the output size {list(output.shape)} is too small (input {list(input.shape)}); reduce padding")
    return output.squeeze(0) if unbatched else output


@public(method=False)
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-d transposed convolution (the gradient of conv1d's input), which upsamples:
    input (N, C, L) -> (N, O, L_out), weight (C, O / groups, k), bias (O,),

        L_out = (L - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1

    (C, L) input is one sample.
    """
    return _convolve_transposed_public(input, weight, bias, stride, padding, output_padding, groups, dilation, 1, "conv_transpose1d")


@public(method=False)
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-d transposed convolution (the gradient of conv2d's input; "deconvolution"), which upsamples:
    input (N, C, H, W) -> (N, O, H_out, W_out), weight (C, O / groups, kh, kw), bias (O,),

        H_out = (H - 1) stride - 2 padding + dilation (kh - 1) + output_padding + 1

    ``output_padding`` (smaller than the stride or the dilation) picks among the input sizes a
    strided conv2d maps to the same output size.
    """
    return _convolve_transposed_public(input, weight, bias, stride, padding, output_padding, groups, dilation, 2, "conv_transpose2d")


@public(method=False)
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-d transposed convolution (the gradient of conv3d's input), which upsamples volumes:
    input (N, C, D, H, W) -> (N, O, D_out, H_out, W_out), weight (C, O / groups, kd, kh, kw), bias (O,),

        D_out = (D - 1) stride - 2 padding + dilation (kd - 1) + output_padding + 1

    (H_out, W_out alike). (C, D, H, W) input is one sample.
    """
    return _convolve_transposed_public(input, weight, bias, stride, padding, output_padding, groups, dilation, 3, "conv_transpose3d")


# ----------------------------------------------------------------------------- im2col and col2im
def _unfolded(input, kernel, dilation, padding, stride):
    """im2col on arrays: (N, C, H, W) -> (N, C·kh·kw, L), column l the window at output position l."""
    windows = sliding_windows(padded(input, padding, padding), kernel, stride, dilation)  # (N, C, Ho, Wo, kh, kw)
    batch, channels, rows, columns = windows.shape[:4]
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(batch, channels * kernel[0] * kernel[1], rows * columns)


def _folded(input, output_size, kernel, dilation, padding, stride):
    """col2im on arrays: (N, C·kh·kw, L) -> (N, C, H, W), overlapping windows summed."""
    batch = input.shape[0]
    channels = input.shape[1] // (kernel[0] * kernel[1])
    extent = tuple(size + 2 * p for size, p in zip(output_size, padding))
    positions = tuple((e - d * (k - 1) - 1) // s + 1 for e, k, s, d in zip(extent, kernel, stride, dilation))
    canvas = xp.zeros((batch, channels) + extent, dtype=input.dtype)
    col2im(input.reshape((batch, channels) + tuple(kernel) + positions), canvas, stride, dilation)
    return padded(canvas, tuple(-p for p in padding), tuple(-p for p in padding))


class Im2Col(WindowOp):
    formula = "out[n, c·kh·kw + p·kw + q, i·W_out + j] = input[n, c, i·stride + p·dilation, j·stride + q·dilation]"
    derivatives = ("fold(grad)",)

    @staticmethod
    def forward(ctx, input, kernel, dilation, padding, stride):
        ctx.geometry = (tuple(input.shape[2:]), kernel, dilation, padding, stride)
        return _unfolded(input, kernel, dilation, padding, stride)

    @staticmethod
    def backward(ctx, grad_output):
        return (ctx.xp.fold(grad_output, *ctx.geometry), None, None, None, None)


class Col2Im(WindowOp):
    formula = "out[n, c, i·stride + p·dilation, j·stride + q·dilation] += input[n, c·kh·kw + p·kw + q, i·W_out + j]"
    derivatives = ("unfold(grad)",)

    @staticmethod
    def forward(ctx, input, output_size, kernel, dilation, padding, stride):
        ctx.geometry = (kernel, dilation, padding, stride)
        return _folded(input, output_size, kernel, dilation, padding, stride)

    @staticmethod
    def backward(ctx, grad_output):
        return (ctx.xp.unfold(grad_output, *ctx.geometry), None, None, None, None, None)


on_arrays("unfold")(_unfolded)
on_arrays("fold")(_folded)


def _window_arguments(kernel_size, dilation, padding, stride, operation):
    """unfold's and fold's window arguments, each a pair of ints, after PyTorch's checks: the kernel,
    dilation and stride positive, the padding not negative."""
    arguments = tuple(
        per_dimension(value, 2, name, operation)
        for value, name in ((kernel_size, "kernel_size"), (dilation, "dilation"), (padding, "padding"), (stride, "stride"))
    )
    for values, name, lowest, wanted in zip(
        arguments, ("kernel size", "dilation", "padding", "stride"), (1, 1, 0, 1),
        ("greater than zero", "greater than zero", "non-negative", "greater than zero"),
    ):
        if min(values) < lowest:
            raise RuntimeError(f"{name} should be {wanted}, but got {name} {values} ({operation})")
    return arguments


def _check_window_dtype(input, kernel_name, operation):
    """PyTorch's im2col and col2im take floating, complex and bool tensors, not integer ones."""
    if input._array.dtype.kind in "iu":
        raise NotImplementedError(
            f'"{kernel_name}" not implemented for \'{dtypes.scalar_type_name(input._array.dtype)}\' ({operation}: '
            f"convert the input to a floating dtype, e.g. x.float())"
        )


@public(method=False)
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: the sliding windows of (N, C, H, W) as columns, (N, C·kh·kw, L) with L the number of
    window positions (H_out·W_out, as for conv2d). ``conv2d`` is ``weight.view(O, -1) @ unfold(x)``.
    """
    kernel, dilation, padding, stride = _window_arguments(kernel_size, dilation, padding, stride, "unfold")
    if input.ndim < 3:  # PyTorch reads its dimension 2 first
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-max(input.ndim, 1)}, {max(input.ndim, 1) - 1}], "
            f"but got 2) (unfold: expected 3D or 4D (batch mode) input, but got input of size {list(input.shape)})"
        )
    if input.ndim not in (3, 4):
        raise RuntimeError(f"unfold: Expected 3D or 4D (batch mode) input, but got input of size {list(input.shape)}")
    if 0 in input.shape[-3:]:
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, "
            f"but got: {list(input.shape)} (unfold: only the batch may be empty)"
        )
    _check_window_dtype(input, "im2col_out_cpu", "unfold")
    unbatched = input.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    extent = tuple(size + 2 * p for size, p in zip(input.shape[2:], padding))
    if any(e < d * (k - 1) + 1 for e, k, d in zip(extent, kernel, dilation)):
        blocks = tuple((e - d * (k - 1) - 1) // st + 1 for e, k, d, st in zip(extent, kernel, dilation, stride))
        raise RuntimeError(
            f"Given input with spatial size {tuple(input.shape[2:])}, kernel_size={kernel}, dilation={dilation}, "
            f"padding={padding}, calculated shape of the array of sliding blocks as {blocks}, but its components must "
            f"be at least one. (unfold: the padded input is smaller than the kernel; use a smaller kernel or more padding)"
        )
    output = Im2Col.apply(input, kernel, dilation, padding, stride)
    return output.squeeze(0) if unbatched else output


@public(method=False)
def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im, the adjoint of ``unfold``: columns (N, C·kh·kw, L) summed back into (N, C, H, W) at
    their windows' places (overlaps add up), ``output_size`` = (H, W)."""
    output_size = per_dimension(output_size, 2, "output_size", "fold")
    kernel, dilation, padding, stride = _window_arguments(kernel_size, dilation, padding, stride, "fold")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"fold: Expected 2D or 3D (batch mode) input, but got input of size {list(input.shape)}")
    if 0 in input.shape[-2:]:
        raise RuntimeError(
            "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions for "
            f"input, but got: {list(input.shape)} (fold: only the batch may be empty)"
        )
    _check_window_dtype(input, "col2im_out_cpu", "fold")
    unbatched = input.ndim == 2
    if unbatched:
        input = input.unsqueeze(0)
    window = kernel[0] * kernel[1]
    if input.shape[1] % window:
        raise RuntimeError(
            f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
            f"input.size(1)={input.shape[1]} and kernel_size={kernel}. (fold: the input holds C·{window} rows, "
            f"one per channel and kernel position)"
        )
    positions = [(s + 2 * p - d * (k - 1) - 1) // st + 1 for s, p, d, k, st in zip(output_size, padding, dilation, kernel, stride)]
    given = (
        f"Given output_size={output_size}, kernel_size={kernel}, dilation={dilation}, padding={padding}, stride={stride}"
    )
    if input.shape[2] != positions[0] * positions[1]:
        raise RuntimeError(
            f"{given}, expected size of input's dimension 2 to match the calculated number of sliding blocks "
            f"{positions[0]} * {positions[1]} = {positions[0] * positions[1]}, but got input.size(2)={input.shape[2]}. "
            f"(fold: one column per window position of the output)"
        )
    if min(positions) < 1:
        raise RuntimeError(
            f"{given}, calculated shape of the array of sliding blocks as {tuple(positions)}, which is too small "
            f"(non-positive) (fold: output_size is smaller than the kernel)"
        )
    output = Col2Im.apply(input, output_size, kernel, dilation, padding, stride)
    return output.squeeze(0) if unbatched else output
