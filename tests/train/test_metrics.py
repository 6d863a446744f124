"""Metrics against values counted by hand (scikit-learn is not a test dependency)."""
import pytest

import chainrule
from chainrule.train.metrics import F1, Accuracy, ConfusionMatrix, Precision, Recall, predict_classes

# A binary problem, counted by hand. labels and predictions, sample by sample:
#   label      1 1 1 1 0 0 0 0 0 1
#   predicted  1 1 0 0 0 0 1 0 0 1
# TP = 3 (samples 0, 1, 9), FN = 2 (2, 3), FP = 1 (6), TN = 4.
BINARY_LABELS = [1, 1, 1, 1, 0, 0, 0, 0, 0, 1]
BINARY_PREDICTED = [1, 1, 0, 0, 0, 0, 1, 0, 0, 1]
BINARY_LOGITS = [[2.0 if p else -2.0] for p in BINARY_PREDICTED]  # one column: threshold 0


def test_accuracy_single_column_thresholds_logits_at_zero_and_probabilities_at_half():
    logits = chainrule.tensor([[-0.1], [0.0], [0.3], [2.0]])
    labels = chainrule.tensor([[0], [1], [1], [0]])
    assert Accuracy(is_logits=True).update(logits, labels) == 0.75  # 0 counts as class 1
    probabilities = chainrule.tensor([0.2, 0.5, 0.7, 0.4])
    assert Accuracy(is_logits=False).update(probabilities, chainrule.tensor([0, 1, 1, 0])) == 1.0
    assert Accuracy(is_logits=True).update(probabilities, chainrule.tensor([0, 1, 1, 0])) == 0.5


def test_accuracy_several_columns_uses_argmax_and_accumulates_over_batches():
    metric = Accuracy()
    first = metric.update(chainrule.tensor([[0.1, 0.9, 0.0], [3.0, 1.0, 2.0]]), chainrule.tensor([1, 2]))
    second = metric.update(chainrule.tensor([[0.0, 0.0, 5.0]]), chainrule.tensor([2]))
    assert (first, second) == (0.5, 1.0)
    assert metric.accumulate() == pytest.approx(2 / 3)
    assert metric.name() == "Accuracy"
    metric.reset()
    assert metric.accumulate() == 0.0


def test_float_labels_as_binary_cross_entropy_wants_them():
    metric = Accuracy(is_logits=False)
    metric.update(chainrule.tensor([[0.9], [0.1]]), chainrule.tensor([[1.0], [1.0]]))
    assert metric.accumulate() == 0.5


def test_binary_precision_recall_f1_match_the_hand_counts():
    outputs, labels = chainrule.tensor(BINARY_LOGITS), chainrule.tensor(BINARY_LABELS)
    precision, recall, f1 = Precision(), Recall(), F1()
    for metric in (precision, recall, f1):
        metric.update(outputs[:4], labels[:4])
        metric.update(outputs[4:], labels[4:])
    assert precision.accumulate() == pytest.approx(3 / 4)  # TP / (TP + FP)
    assert recall.accumulate() == pytest.approx(3 / 5)  # TP / (TP + FN)
    assert f1.accumulate() == pytest.approx(2 * 3 / (2 * 3 + 1 + 2))
    assert Precision(pos_label=0).update(outputs, labels) == pytest.approx(4 / 6)


def test_confusion_matrix_rows_are_true_classes_and_columns_predictions():
    labels = chainrule.tensor([0, 0, 1, 2, 2, 2])
    scores = chainrule.eye(3)[chainrule.tensor([0, 1, 1, 2, 0, 2])]  # predicts 0 1 1 2 0 2
    matrix = ConfusionMatrix(3)
    matrix.update(scores, labels)
    assert matrix.accumulate().tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert matrix.accumulate().dtype == chainrule.int64
    with pytest.raises(ValueError, match=r"ConfusionMatrix\(2\).*\[0, 2\)"):
        ConfusionMatrix(2).update(scores, labels)


def test_macro_average_is_the_mean_over_classes():
    labels = chainrule.tensor([0, 0, 1, 2, 2, 2])
    scores = chainrule.eye(3)[chainrule.tensor([0, 1, 1, 2, 0, 2])]
    # per class precision: 1/2, 1/2, 2/2; recall: 1/2, 1/1, 2/3
    assert Precision(average="macro").update(scores, labels) == pytest.approx((0.5 + 0.5 + 1) / 3)
    assert Recall(average="macro").update(scores, labels) == pytest.approx((0.5 + 1 + 2 / 3) / 3)
    precisions, recalls = [0.5, 0.5, 1.0], [0.5, 1.0, 2 / 3]
    f1_per_class = [2 * p * r / (p + r) for p, r in zip(precisions, recalls)]
    assert F1(average="macro").update(scores, labels) == pytest.approx(sum(f1_per_class) / 3)
    with pytest.raises(ValueError, match="average='macro'"):
        Precision().update(scores, labels)


def test_zero_denominators_count_as_zero():
    nothing_predicted_positive = chainrule.tensor([[-1.0], [-1.0]])
    assert Precision().update(nothing_predicted_positive, chainrule.tensor([1, 0])) == 0.0


def test_bad_shapes_are_explained():
    with pytest.raises(ValueError, match="one label per sample"):
        Accuracy().update(chainrule.zeros(3, 2), chainrule.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"\(2, 3, 4\)"):
        predict_classes(chainrule.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="average must be"):
        F1(average="micro")


def test_a_refused_batch_leaves_the_metric_as_it_was():
    metric = Precision()
    with pytest.raises(ValueError, match="average='binary' needs two classes"):
        metric.update(chainrule.eye(3), chainrule.tensor([0, 1, 2]))
    assert metric.update(chainrule.tensor([[1.0], [-1.0]]), chainrule.tensor([1, 0])) == 1.0
    assert metric.accumulate() == 1.0
