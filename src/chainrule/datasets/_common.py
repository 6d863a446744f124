"""What the dataset loaders share: opening the shipped files, standardizing, returning the pair.

The datasets are built as NumPy arrays on the host, because that is what a file or a random
generator gives and what ``as_numpy=True`` promises; ``from_numpy`` is the one place they become
tensors.
"""
from importlib import resources

import numpy

from chainrule.tensor import from_numpy


def open_data_file(name):
    """Open ``datasets/data/<name>`` for reading in binary mode.

    Goes through ``importlib.resources`` so the files are found wherever the package is installed.
    """
    return resources.files("chainrule.datasets").joinpath("data", name).open("rb")


def standardize(features):
    """Rescale each column to zero mean and unit variance: ``(x - mean) / std``.

    ``features`` (N, D) -> (N, D). ``std`` is the population standard deviation (``ddof=0``), so
    every column of the result has mean 0 and standard deviation 1 exactly, up to rounding. A
    constant column has ``std == 0``; it is divided by 1 instead, which leaves it all zeros rather
    than all NaN.
    """
    features = features.astype(numpy.float64)
    mean = features.mean(axis=0)
    std = features.std(axis=0)
    std[std == 0] = 1.0
    return (features - mean) / std


def features_and_labels(features, labels, as_numpy):
    """The ``(X, y)`` pair every loader returns: X float32 (N, D), y int64 (N,).

    Tensors by default; NumPy arrays of the same dtypes when ``as_numpy`` is true.
    """
    features = numpy.ascontiguousarray(features, dtype=numpy.float32)
    labels = numpy.ascontiguousarray(labels, dtype=numpy.int64)
    if as_numpy:
        return features, labels
    return from_numpy(features), from_numpy(labels)
