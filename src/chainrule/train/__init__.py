"""Training: the Runner that drives training and evaluation, metrics, and monitors that look inside
a network while it trains (gradient norms, dead ReLU units, symmetric weights, NaN/Inf)."""
from chainrule.train.metrics import F1, Accuracy, ConfusionMatrix, Metric, Precision, Recall, predict_classes
from chainrule.train.monitors import (
    GradientNormMonitor,
    NonFiniteError,
    NonFiniteWatch,
    SymmetryMonitor,
    dead_relu_fractions,
    identical_rows,
    symmetric_weights,
)
from chainrule.train.runner import Runner, evaluation

__all__ = [
    "Accuracy",
    "ConfusionMatrix",
    "F1",
    "GradientNormMonitor",
    "Metric",
    "NonFiniteError",
    "NonFiniteWatch",
    "Precision",
    "Recall",
    "Runner",
    "SymmetryMonitor",
    "dead_relu_fractions",
    "evaluation",
    "identical_rows",
    "predict_classes",
    "symmetric_weights",
]
