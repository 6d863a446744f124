"""Dropout: randomly zero activations while training, so that units cannot rely on each other.

Every dropout layer derives from ``_DropoutNd`` (the probability ``p`` and ``inplace``), as in
PyTorch: a Dropout2d is not a Dropout.
"""
from chainrule.nn import functional as F
from chainrule.nn.module import Module


class _DropoutNd(Module):
    """What the dropout layers share: the probability ``p`` of dropping, ``inplace``, the repr."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` in training, scaling the rest by 1 / (1 - p).

    In evaluation mode (``model.eval()``) it passes the input through unchanged.
    """

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) input with probability ``p`` in training, scaling the
    kept ones by 1 / (1 - p): a feature map is kept or dropped as a whole (``F.dropout2d``)."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) or (C, L) input with probability ``p`` in training, scaling the
    kept ones by 1 / (1 - p) (``F.dropout1d``)."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability ``p`` in
    training, scaling the kept ones by 1 / (1 - p) (``F.dropout3d``)."""

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps SELU activations at mean 0 and variance 1: dropped elements are set to
    SELU's negative saturation value and the result is corrected by an affine map
    (``F.alpha_dropout``). The identity in evaluation mode."""

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels of (N, C, *) input (``F.feature_alpha_dropout``)."""

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)
