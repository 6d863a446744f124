"""Small shared pieces of quantization: the type of a fusion pattern, the node that matches any
node in one, and the merge of a default mapping with a user's additions."""
from typing import Any, Callable, Union

#: A fusion pattern of graph mode: an operation, or a tuple ``(op, argument_pattern...)`` nested
#: (``(nn.ReLU, (nn.BatchNorm2d, nn.Conv2d))``: a ReLU of a batch norm of a convolution).
Pattern = Union[Callable, tuple[Callable, Callable], tuple[Callable, tuple[Callable, Callable]], Any]


class MatchAllNode:
    """A node pattern that matches all nodes, used in defining fusion patterns in FX Graph Mode Quantization."""


def get_combined_dict(default_dict, additional_dict):
    """A new dict: ``default_dict`` updated with ``additional_dict`` (whose values win)."""
    combined = default_dict.copy()
    combined.update(additional_dict)
    return combined
