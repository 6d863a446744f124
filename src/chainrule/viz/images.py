"""Plots for convolutional networks: learned kernels, feature maps, and a confusion matrix.

They need matplotlib, as ``viz.plots`` does; each returns the ``Figure`` and saves it to ``path``
when given. Images are drawn in grey with the colour range centred on 0 for signed values (kernels:
red positive, blue negative), so that a weight of 0 always looks the same.
"""
import math

from chainrule.backend import to_numpy, xp
from chainrule.viz.plots import _finish, _pyplot


def _values(tensor_or_array):
    array = getattr(tensor_or_array, "_array", tensor_or_array)
    return to_numpy(array)


def _grid(count, columns=8):
    columns = min(count, columns)
    return math.ceil(count / columns), columns


def plot_kernels(weight, path=None, title="First-layer kernels"):
    """Each kernel of a conv layer's ``weight`` (O, C, kh, kw) as a small image (channel 0 when C > 1),
    red for positive weights and blue for negative, on one shared scale."""
    pyplot = _pyplot()
    kernels = _values(weight)[:, 0]
    rows, columns = _grid(len(kernels))
    limit = float(xp.abs(kernels).max()) or 1.0
    figure, axes = pyplot.subplots(rows, columns, figsize=(1.3 * columns, 1.5 * rows + 0.6), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < len(kernels):
            axis.imshow(kernels[index], cmap="RdBu_r", vmin=-limit, vmax=limit)
            axis.set_title(str(index), fontsize=8)
    figure.suptitle(title)
    return _finish(figure, path)


def plot_feature_maps(image, maps, path=None, title="Feature maps"):
    """The input ``image`` (H, W) beside each of ``maps`` (C, H', W'), a conv layer's output for it."""
    pyplot = _pyplot()
    image, maps = _values(image), _values(maps)
    rows, columns = _grid(len(maps) + 1, columns=9)
    figure, axes = pyplot.subplots(rows, columns, figsize=(1.3 * columns, 1.4 * rows + 0.5), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index == 0:
            axis.imshow(image, cmap="gray_r")
            axis.set_title("input", fontsize=8)
        elif index <= len(maps):
            axis.imshow(maps[index - 1], cmap="viridis")
            axis.set_title(f"map {index - 1}", fontsize=8)
    figure.suptitle(title)
    return _finish(figure, path)


def plot_confusion_matrix(matrix, class_names=None, path=None, title="Confusion matrix"):
    """``matrix[i, j]``: samples of true class i predicted as j, as a heat map with the counts."""
    pyplot = _pyplot()
    matrix = _values(matrix)
    count = len(matrix)
    names = class_names or [str(index) for index in range(count)]
    figure, axis = pyplot.subplots(figsize=(0.55 * count + 2, 0.55 * count + 1.5))
    axis.imshow(matrix, cmap="Blues")
    for i in range(count):
        for j in range(count):
            if matrix[i, j]:
                light = matrix[i, j] > matrix.max() / 2
                axis.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=8, color="white" if light else "black")
    axis.set_xticks(range(count), names)
    axis.set_yticks(range(count), names)
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    axis.set_title(title)
    return _finish(figure, path)
