"""Handwritten digits as 8x8 images: 1797 images, 64 pixels each, 10 classes (the digits 0-9).

The data ship with chainrule in ``data/digits.csv.gz`` (see ``data/README.md`` for origin and
licence). Each pixel counts the "on" pixels of a 4x4 block of a 32x32 bitmap, so it is an integer
from 0 to 16. ``X[i].reshape(DIGITS_IMAGE_SHAPE)`` is the picture of image ``i``.
"""
import gzip

import numpy

from chainrule.datasets._common import features_and_labels, open_data_file, standardize

#: The shape of one image; the 64 features are its pixels in row-major order.
DIGITS_IMAGE_SHAPE = (8, 8)
#: Label ``k`` is the digit ``DIGITS_CLASS_NAMES[k]``, that is ``str(k)``.
DIGITS_CLASS_NAMES = tuple(str(digit) for digit in range(10))


def load_digits(normalize=False, as_numpy=False, images=False):
    """Load the 8x8 handwritten digits dataset.

    Args:
        normalize: if true, standardize each of the 64 pixels to zero mean and unit variance over
            the 1797 images, ``(x - mean) / std``. Three pixels (the top-left one and both ends of
            the fifth row: columns 0, 32 and 39) are 0 in every image; their ``std`` is 0, so
            they are divided by 1 instead and stay 0.
        as_numpy: return NumPy arrays instead of tensors.
        images: return X as images, (1797, 1, 8, 8) (N, channels, height, width), the layout
            ``nn.Conv2d`` takes, instead of rows of 64 pixels.

    Returns:
        ``(X, y)``: X float32 (1797, 64) (or (1797, 1, 8, 8) with ``images``), pixel values 0..16
            (or standardized); y int64 (1797,),
        the digit 0..9 each image shows, about 180 of each.

    Example:
        >>> X, y = load_digits()
        >>> tuple(X.shape), tuple(y.shape)
        ((1797, 64), (1797,))
    """
    # Each line is one image: 64 pixel values, then its digit.
    with open_data_file("digits.csv.gz") as compressed, gzip.open(compressed) as file:
        table = numpy.loadtxt(file, delimiter=",", dtype=numpy.int64)
    features, labels = table[:, :64], table[:, 64]
    if normalize:
        features = standardize(features)
    if images:
        features = features.reshape((-1, 1) + DIGITS_IMAGE_SHAPE)
    return features_and_labels(features, labels, as_numpy)
