"""Fisher's Iris flowers: 150 flowers, 4 measurements each, 3 species (50 of each).

The data ship with chainrule in ``data/iris.csv`` (see ``data/README.md`` for origin and licence).
Setosa is linearly separable from the other two species; versicolor and virginica are not separable
from each other, which makes Iris the classic first test of a softmax classifier.
"""
import numpy

from chainrule.datasets._common import features_and_labels, open_data_file, standardize

#: Column ``j`` of the features is ``IRIS_FEATURE_NAMES[j]``.
IRIS_FEATURE_NAMES = (
    "sepal length (cm)",
    "sepal width (cm)",
    "petal length (cm)",
    "petal width (cm)",
)
#: Label ``k`` is the species ``IRIS_CLASS_NAMES[k]``.
IRIS_CLASS_NAMES = ("setosa", "versicolor", "virginica")


def load_iris(normalize=False, as_numpy=False):
    """Load the Iris dataset.

    Args:
        normalize: if true, standardize each of the 4 features to zero mean and unit variance over
            the 150 flowers, ``(x - mean) / std``.
        as_numpy: return NumPy arrays instead of tensors.

    Returns:
        ``(X, y)``: X float32 (150, 4), the measurements in centimetres (columns named by
        ``IRIS_FEATURE_NAMES``); y int64 (150,), the species 0, 1, 2 (named by
        ``IRIS_CLASS_NAMES``), in blocks of 50 in that order.

    Example:
        >>> X, y = load_iris()
        >>> tuple(X.shape), tuple(y.shape)
        ((150, 4), (150,))
    """
    # The first line is a header: "150,4,setosa,versicolor,virginica".
    with open_data_file("iris.csv") as file:
        table = numpy.loadtxt(file, delimiter=",", skiprows=1)
    features, labels = table[:, :4], table[:, 4]
    if normalize:
        features = standardize(features)
    return features_and_labels(features, labels, as_numpy)
