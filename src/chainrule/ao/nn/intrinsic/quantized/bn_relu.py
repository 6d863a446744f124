"""Quantized BatchNorm with its ReLU applied before the output is quantized (``BNReLU2d``,
``BNReLU3d``): outputs below the output zero point (which stands for 0) are raised to it."""
from chainrule.ao.nn.intrinsic.fused import BNReLU2d as FloatBNReLU2d
from chainrule.ao.nn.intrinsic.fused import BNReLU3d as FloatBNReLU3d
from chainrule.ao.nn.quantized.batchnorm import BatchNorm2d, BatchNorm3d


class BatchNormReLU:
    """The forward of the fused layers: PyTorch checks the number of dimensions first (ValueError)."""

    RELU = True
    LAYOUT = None

    def forward(self, input):
        if len(input.shape) != self.RANK:
            raise ValueError(
                f"Input shape must be `{self.LAYOUT}`! ({self._get_name()} got shape {tuple(input.shape)})"
            )
        return super().forward(input)


class BNReLU2d(BatchNormReLU, BatchNorm2d):
    """``QuantizedBNReLU2d``: relu(batch_norm(x)), then quantized; ``input (N, C, H, W)``."""

    _FLOAT_MODULE = FloatBNReLU2d
    LAYOUT = "(N, C, H, W)"


class BNReLU3d(BatchNormReLU, BatchNorm3d):
    """``QuantizedBNReLU3d``: relu(batch_norm(x)), then quantized; ``input (N, C, D, H, W)``."""

    _FLOAT_MODULE = FloatBNReLU3d
    LAYOUT = "(N, C, D, H, W)"
