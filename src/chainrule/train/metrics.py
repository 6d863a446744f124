"""Metrics: how good a classifier's predictions are, accumulated over the batches of a dataset.

Every metric has the same four methods, as in the course's Runner:

- ``update(outputs, labels)``: count one batch; returns the batch's own value,
- ``accumulate()``: the value over every batch since the last ``reset()``,
- ``reset()``: forget the counts (the Runner calls it before each evaluation),
- ``name()``: what to call the value in logs and plots.

``outputs`` are what the model returns for a batch: (N, C) scores, one column per class, or (N,) /
(N, 1) for a binary classifier with a single output. ``labels`` are the true classes, (N,) or
(N, 1), integers (floats 0.0 / 1.0 are accepted, as binary cross-entropy wants them).
Metrics need no gradients: they read the values (``tensor._array``) and count with ``xp``.
"""
from chainrule.autograd.function import read_into_python
from chainrule.backend import add_at, xp
from chainrule.tensor import Tensor, tensor_from_array


def predict_classes(outputs, is_logits=True):
    """The class each row of ``outputs`` predicts, as an int64 array (N,).

    One output per sample ((N,) or (N, 1)): class 1 when the output passes the threshold, which is
    0 for logits (``sigmoid(0) = 0.5``) and 0.5 for probabilities. Several columns: the column with
    the largest score (``argmax``), the same for logits and probabilities since softmax keeps order.
    """
    scores = _values(outputs)
    if scores.ndim == 2 and scores.shape[1] > 1:
        return scores.argmax(axis=1)
    if scores.ndim > 2 or (scores.ndim == 2 and scores.shape[1] == 0):
        raise ValueError(
            f"metrics expect outputs of shape (N,), (N, 1) or (N, num_classes), got "
            f"{tuple(scores.shape)}; flatten extra dimensions first"
        )
    threshold = 0.0 if is_logits else 0.5
    return (scores.reshape(-1) >= threshold).astype(xp.int64)


def _values(data):
    """The array behind a tensor (or an array / list as given). A metric counts in Python: a
    compiled step that updates one runs eagerly."""
    if isinstance(data, Tensor):
        read_into_python("a metric's update")
        return data._array
    return xp.asarray(data)


def _label_classes(labels, count):
    """``labels`` as an int64 array (N,), checked to match ``count`` predictions."""
    classes = _values(labels).reshape(-1)
    if classes.shape[0] != count:
        raise ValueError(
            f"metrics need one label per sample: got {count} predictions and labels of shape "
            f"{tuple(_values(labels).shape)}"
        )
    return classes.astype(xp.int64)


class Metric:
    """The interface every metric follows: ``update``, ``accumulate``, ``reset``, ``name``."""

    def update(self, outputs, labels):
        raise NotImplementedError(f"{type(self).__name__} must define update(outputs, labels)")

    def accumulate(self):
        raise NotImplementedError(f"{type(self).__name__} must define accumulate()")

    def reset(self):
        raise NotImplementedError(f"{type(self).__name__} must define reset()")

    def name(self):
        return type(self).__name__


class Accuracy(Metric):
    """The fraction of samples whose predicted class is the label: correct / total.

    ``is_logits=True`` when a single-output model returns logits (threshold 0), ``False`` when it
    returns probabilities from a final sigmoid (threshold 0.5).

    >>> import chainrule
    >>> metric = Accuracy()
    >>> metric.update(chainrule.tensor([[2.0, 1.0], [0.0, 3.0]]), chainrule.tensor([0, 0]))
    0.5
    """

    def __init__(self, is_logits=True):
        self.is_logits = is_logits
        self.reset()

    def update(self, outputs, labels):
        predicted = predict_classes(outputs, self.is_logits)
        correct = int((predicted == _label_classes(labels, predicted.shape[0])).sum())
        self.num_correct += correct
        self.num_count += predicted.shape[0]
        return correct / predicted.shape[0] if predicted.shape[0] else 0.0

    def accumulate(self):
        """correct / total over every batch since ``reset()`` (0.0 before any sample)."""
        return self.num_correct / self.num_count if self.num_count else 0.0

    def reset(self):
        self.num_correct = 0
        self.num_count = 0


class ConfusionMatrix(Metric):
    """Counts of (true class, predicted class) pairs: ``matrix[i, j]`` samples of class ``i`` were
    predicted as class ``j``; the diagonal holds the correct ones.

    ``accumulate()`` returns the (num_classes, num_classes) int64 tensor. With ``num_classes=None``
    the matrix grows to fit the largest class seen.
    """

    def __init__(self, num_classes=None, is_logits=True):
        if num_classes is not None and num_classes < 1:
            raise ValueError(f"ConfusionMatrix: num_classes must be at least 1, got {num_classes}")
        self.num_classes = num_classes
        self.is_logits = is_logits
        self.reset()

    def count(self, outputs, labels):
        """The (true, predicted) counts of one batch, without adding them to the running ones."""
        predicted = predict_classes(outputs, self.is_logits)
        actual = _label_classes(labels, predicted.shape[0])
        largest = int(max(predicted.max(initial=0), actual.max(initial=0)))
        smallest = int(min(predicted.min(initial=0), actual.min(initial=0)))
        if smallest < 0 or (self.num_classes is not None and largest >= self.num_classes):
            raise ValueError(
                f"ConfusionMatrix({self.num_classes}): classes must be in [0, "
                f"{self.num_classes}), got labels and predictions from {smallest} to {largest}"
            )
        size = max(largest + 1, self.counts.shape[0])
        batch = xp.zeros((size, size), dtype=xp.int64)
        add_at(batch, (actual, predicted), 1)
        return batch

    def update(self, outputs, labels):
        batch = self.count(outputs, labels)
        self.add(batch)
        return tensor_from_array(batch)

    def add(self, batch):
        """Add a batch's counts (from ``count``) to the running ones, growing them if needed."""
        if batch.shape[0] > self.counts.shape[0]:
            grown = xp.zeros_like(batch)
            grown[: self.counts.shape[0], : self.counts.shape[0]] = self.counts
            self.counts = grown
        self.counts[: batch.shape[0], : batch.shape[0]] += batch

    def accumulate(self):
        return tensor_from_array(self.counts.copy())

    def reset(self):
        self.counts = xp.zeros((self.num_classes or 0,) * 2, dtype=xp.int64)


class _ClassScore(Metric):
    """Precision, recall and F1 share this: a confusion matrix, and a per-class score averaged.

    ``average='binary'`` (the default) reports the score of the class ``pos_label`` (1: the
    positive class of a binary problem); ``average='macro'`` the unweighted mean of the per-class
    scores over the classes that occur among the labels or the predictions. A score whose
    denominator is 0 (no sample predicted, or none present, for that class) counts as 0.
    """

    def __init__(self, average="binary", pos_label=1, is_logits=True, num_classes=None):
        if average not in ("binary", "macro"):
            raise ValueError(f"{type(self).__name__}: average must be 'binary' or 'macro', got {average!r}")
        self.average = average
        self.pos_label = pos_label
        self.confusion = ConfusionMatrix(num_classes, is_logits)

    def update(self, outputs, labels):
        batch = self.confusion.count(outputs, labels)
        score = self._average(batch)  # may refuse the batch: then nothing has been counted
        self.confusion.add(batch)
        return score

    def accumulate(self):
        return self._average(self.confusion.counts)

    def reset(self):
        self.confusion.reset()

    def _average(self, counts):
        true_positives = xp.diag(counts).astype(xp.float64)
        predicted = counts.sum(axis=0).astype(xp.float64)  # samples predicted as each class
        actual = counts.sum(axis=1).astype(xp.float64)  # samples of each class
        scores = self.per_class(true_positives, predicted, actual)
        if self.average == "binary":
            if counts.shape[0] > 2:
                raise ValueError(
                    f"{type(self).__name__}: average='binary' needs two classes, got {counts.shape[0]}; "
                    f"use average='macro' for a multi-class problem"
                )
            return float(scores[self.pos_label]) if self.pos_label < counts.shape[0] else 0.0
        present = (predicted + actual) > 0
        return float(scores[present].mean()) if present.any() else 0.0

    @staticmethod
    def per_class(true_positives, predicted, actual):
        raise NotImplementedError


def _ratio(numerator, denominator):
    """numerator / denominator elementwise, with 0 where the denominator is 0."""
    return xp.divide(numerator, denominator, out=xp.zeros_like(numerator), where=denominator > 0)


class Precision(_ClassScore):
    """Of the samples predicted as a class, the fraction that belong to it: TP / (TP + FP)."""

    @staticmethod
    def per_class(true_positives, predicted, actual):
        return _ratio(true_positives, predicted)


class Recall(_ClassScore):
    """Of the samples of a class, the fraction predicted as it: TP / (TP + FN)."""

    @staticmethod
    def per_class(true_positives, predicted, actual):
        return _ratio(true_positives, actual)


class F1(_ClassScore):
    """The harmonic mean of precision and recall: 2 P R / (P + R) = 2 TP / (2 TP + FP + FN)."""

    @staticmethod
    def per_class(true_positives, predicted, actual):
        return _ratio(2 * true_positives, predicted + actual)
