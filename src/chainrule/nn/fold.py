"""Fold and Unfold: the sliding windows of an image as columns (im2col) and back (col2im), the
modules around ``functional.unfold`` and ``functional.fold``."""
from chainrule.nn import functional as F
from chainrule.nn.module import Module


class Fold(Module):
    """Columns (N, C · kh · kw, L) summed back into images (N, C, *output_size) at their windows'
    places (overlapping windows add up): the adjoint of Unfold."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
            f"padding={self.padding}, stride={self.stride}"
        )


class Unfold(Module):
    """Images (N, C, H, W) -> columns (N, C · kh · kw, L), one column per window position (L of
    them, as many as a convolution's outputs): ``conv2d`` is ``weight.view(O, -1) @ unfold(x)``."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
