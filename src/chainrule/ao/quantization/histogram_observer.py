"""HistogramObserver: the observer of PyTorch's default post-training qconfig. It keeps a histogram
of everything observed, and at the end chooses the range ``[min, max]`` that minimizes the L2 error
of quantizing that histogram onto 2^bits levels: outliers are cut when cutting them makes the many
values in the middle finer more than it costs the few at the ends.

The histogram has ``bins`` bins over the running ``[min, max]``; when a batch widens the range, the
old histogram is spread over the new bins (each old bin split ``upsample_rate`` times, each piece
put where its middle falls). The search narrows ``[start_bin, end_bin]`` from whichever end holds
less mass, ``1e-5`` of the total at a time, as long as the error keeps falling. The arithmetic is
PyTorch's, on float32 tensors, so the parameters agree.
"""
import math

import chainrule
from chainrule.ao.quantization.observer import FLOAT32_EPS, UniformQuantizationObserverBase
from chainrule.caller_warnings import warn_at_caller
from chainrule.dtypes import quint8
from chainrule.quantized.schemes import per_tensor_affine

#: The step of the search, in fractions of all the observed values.
SEARCH_STEP = 1e-5


class HistogramObserver(UniformQuantizationObserverBase):
    """Parameters from a histogram of the observed values, with the range that minimizes the L2
    quantization error (per tensor)."""

    def __init__(self, bins=2048, dtype=quint8, qscheme=per_tensor_affine, reduce_range=False, quant_min=None,
                 quant_max=None, factory_kwargs=None, eps=FLOAT32_EPS, is_dynamic=False, **kwargs):
        if qscheme not in (per_tensor_affine, chainrule.per_tensor_symmetric):
            raise NotImplementedError(
                "HistogramObserver's qscheme only support torch.per_tensor_symmetric and torch.per_tensor_affine."
            )
        super().__init__(dtype, qscheme, reduce_range, quant_min, quant_max, factory_kwargs, eps, is_dynamic, **kwargs)
        self.bins = bins
        self.register_buffer("histogram", chainrule.zeros(bins))
        self.register_buffer("min_val", chainrule.tensor(math.inf))
        self.register_buffer("max_val", chainrule.tensor(-math.inf))
        self.dst_nbins = 2 ** chainrule.iinfo(dtype).bits
        self.upsample_rate = 16

    def forward(self, x_orig):
        """Add ``x_orig``'s values to the histogram (widening its range if they fall outside)."""
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach()
        x_min, x_max = x.min(), x.max()
        if float(x_min) == -math.inf or float(x_max) == math.inf:
            warn_at_caller("torch.inf detected in input tensor, ignoring input")
            x = x[x.abs() != math.inf]
            if x.numel() == 0:
                return x_orig
            x_min, x_max = x.min(), x.max()
        if float(self.min_val) == math.inf or float(self.max_val) == -math.inf:
            self.min_val, self.max_val = x_min.clone(), x_max.clone()
            self.histogram = chainrule.histc(x, self.bins, min=float(x_min), max=float(x_max))
            return x_orig
        new_min, new_max = chainrule.minimum(self.min_val, x_min), chainrule.maximum(self.max_val, x_max)
        update = chainrule.histc(x, self.bins, min=float(new_min), max=float(new_max))
        if bool(new_min == self.min_val) and bool(new_max == self.max_val):
            self.histogram = self.histogram + update
        else:
            self.histogram = update + self.spread(self.histogram, self.min_val, self.max_val, new_min, new_max)
            self.min_val, self.max_val = new_min, new_max
        return x_orig

    def spread(self, histogram, old_min, old_max, new_min, new_max):
        """``histogram`` over ``[old_min, old_max]`` moved onto ``bins`` bins over ``[new_min, new_max]``."""
        if bool(old_min == old_max):  # all of it at one point
            return chainrule.histc(old_min.reshape(1), self.bins, min=float(new_min), max=float(new_max)) * histogram.sum()
        pieces = self.bins * self.upsample_rate
        split = histogram.repeat_interleave(self.upsample_rate) / self.upsample_rate
        piece_width = (old_max - old_min) / pieces
        middles = chainrule.linspace(old_min, old_max, pieces + 1)[:-1] + 0.5 * piece_width
        boundaries = chainrule.linspace(new_min, new_max, self.bins + 1)
        bins = chainrule.clamp(chainrule.bucketize(middles, boundaries, right=True) - 1, 0, self.bins - 1)
        return chainrule.bincount(bins, weights=split, minlength=self.bins)

    def quantization_error(self, start_bin, end_bin):
        """The L2 error of quantizing the histogram with ``[start_bin, end_bin]`` as the range: each
        source bin's mass, spread evenly, against the centre of the destination level it falls in."""
        bin_width = (self.max_val.item() - self.min_val.item()) / self.bins
        level_width = bin_width * (end_bin - start_bin + 1) / self.dst_nbins
        if level_width == 0.0:
            return 0.0
        begins = (chainrule.arange(self.bins) - start_bin) * bin_width
        ends = begins + bin_width
        level_of_begin = chainrule.clamp(chainrule.div(begins, level_width, rounding_mode="floor"), 0, self.dst_nbins - 1)
        level_of_end = chainrule.clamp(chainrule.div(ends, level_width, rounding_mode="floor"), 0, self.dst_nbins - 1)
        density = self.histogram / bin_width
        half = level_width / 2
        norm = chainrule.zeros(self.bins)
        norm += squared_mass(begins - (level_of_begin + 0.5) * level_width, chainrule.ones(self.bins) * half, density)
        norm += (level_of_end - level_of_begin - 1) * squared_mass(chainrule.tensor(-half), chainrule.tensor(half), density)
        norm += squared_mass(chainrule.tensor(-half), ends - (level_of_end * level_width + half), density)
        return norm.sum().item()

    def search_range(self):
        """``(new_min, new_max)``: the range of least quantization error (see the top)."""
        bin_width = (self.max_val - self.min_val) / self.bins
        total = self.histogram.sum().item()
        cumulative = chainrule.cumsum(self.histogram, dim=0).tolist()
        alpha, beta = 0.0, 1.0
        start_bin, end_bin = 0, self.bins - 1
        norm_min = math.inf
        while alpha < beta:
            next_alpha, next_beta = alpha + SEARCH_STEP, beta - SEARCH_STEP
            low_threshold, high_threshold = float(chainrule.tensor(next_alpha * total)), float(chainrule.tensor(next_beta * total))
            left, right = start_bin, end_bin
            while left < end_bin and cumulative[left] < low_threshold:
                left += 1
            while right > start_bin and cumulative[right] > high_threshold:
                right -= 1
            next_start_bin, next_end_bin = start_bin, end_bin
            if left - start_bin > end_bin - right:
                next_start_bin, alpha = left, next_alpha
            else:
                next_end_bin, beta = right, next_beta
            if next_start_bin == start_bin and next_end_bin == end_bin:
                continue
            norm = self.quantization_error(next_start_bin, next_end_bin)
            if norm > norm_min:
                break
            norm_min, start_bin, end_bin = norm, next_start_bin, next_end_bin
        return self.min_val + bin_width * start_bin, self.min_val + bin_width * (end_bin + 1)

    def calculate_qparams(self):
        """``(scale, zero_point)`` for the range of least L2 error."""
        if float(self.min_val) == math.inf and float(self.max_val) == -math.inf:
            warn_at_caller("must run observer before calling calculate_qparams. Returning default scale and zero point ")
            return chainrule.tensor([1.0]), chainrule.tensor([0])
        return self._calculate_qparams(*self.search_range())


HistogramObserver.__module__ = "chainrule.ao.quantization.observer"  # where PyTorch's is, and where it is found


def squared_mass(delta_begin, delta_end, density):
    """``density · ∫ x² dx`` from ``delta_begin`` to ``delta_end``: the squared error of a uniform
    mass against the point 0."""
    return density * (delta_end * delta_end * delta_end - delta_begin * delta_begin * delta_begin) / 3
