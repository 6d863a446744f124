"""LinearCrossEntropyLoss: a classifier head and its cross-entropy in one module, and
LinearCrossEntropyOptions, the settings of PyTorch's chunked implementation of it."""
import dataclasses
import math

from chainrule import dtypes
from chainrule.nn import functional as F
from chainrule.nn.linear import Linear
from chainrule.nn.loss import _WeightedLoss

_ACC_POLICIES = ("auto", "accurate", "balanced", "compact")


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """Settings of PyTorch's chunked ``linear_cross_entropy``, which computes the loss a few
    batch rows at a time so that the (N, C) logits never exist whole (for C much larger than
    in_features, as LLM vocabulary heads).

    Chunking changes only memory and speed, not the result: chainrule accepts these options (and
    checks them as PyTorch does) but always computes the reference form, the whole logits then
    cross-entropy. ``allow_retain_graph``, ``batch_chunk_size``, ``chunking_method`` ('auto',
    'aspect_ratio' or 'aspect_ratio:N'), ``acc_policy`` and ``acc_dtype`` are kept for
    compatibility only.
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None

    def __post_init__(self):
        if self.acc_policy not in _ACC_POLICIES:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, separator, factor = self.chunking_method.partition(":")
            factor = factor if separator else "1"
            if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        if not (self.batch_chunk_size is None or (isinstance(self.batch_chunk_size, int) and self.batch_chunk_size > 0)):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {self.batch_chunk_size!r}")
        floating = {getattr(dtypes, name) for name in ("float16", "bfloat16", "float32", "float64") if hasattr(dtypes, name)}
        if self.acc_dtype is not None and self.acc_dtype not in floating:
            raise ValueError(
                "acc_dtype must be one of {None, torch.float16, torch.bfloat16, torch.float32, torch.float64}, got "
                f"{self.acc_dtype!r}. Pass acc_dtype=None to let the op pick automatically."
            )


class LinearCrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of ``linear(input)`` against class indices or probabilities: the head's
    weight is this module's ``linear`` (in_features -> num_classes · prod(out_features)), seen as
    (num_classes, *out_features, in_features) for a K-dimensional loss.

    input (N, in_features) or (in_features,); target (N,), (N, *out_features) or () of class
    indices, or probabilities of the logits' shape. ``weight``, ``reduction``, ``ignore_index``
    (None: -100) and ``label_smoothing`` as in CrossEntropyLoss; ``options`` is accepted and
    ignored (see LinearCrossEntropyOptions).
    """

    def __init__(
        self,
        in_features,
        num_classes,
        *,
        out_features=(),
        bias=False,
        device=None,
        dtype=None,
        reduction="mean",
        weight=None,
        ignore_index=None,
        label_smoothing=0.0,
        options=None,
    ):
        if weight is not None and tuple(weight.shape) != (num_classes,):
            raise RuntimeError(f"expected weight shape to be {(num_classes,)}, got {tuple(weight.shape)}")
        if label_smoothing < 0 or label_smoothing > 1.0:
            raise RuntimeError(f"expected label_smoothing to be in range [0, 1], got {label_smoothing}")
        super().__init__(weight=weight, reduction=reduction)
        self.num_classes, self.out_features = num_classes, out_features
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing
        # Linear keeps a 2-D weight; forward views it as (C, *out_features, in_features)
        self.linear = Linear(in_features, math.prod(out_features) * num_classes, bias=bias, device=device, dtype=dtype)
        self.options = options

    def forward(self, input, target):
        linear_weight = self.linear.weight.reshape((self.num_classes, *self.out_features, self.linear.in_features))
        linear_bias = self.linear.bias.reshape((self.num_classes, *self.out_features)) if self.linear.bias is not None else None
        return F.linear_cross_entropy(
            input,
            linear_weight,
            target,
            linear_bias=linear_bias,
            weight=self.weight,
            reduction=self.reduction,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
            options=self.options,
        )

    def extra_repr(self):
        return (
            f"in_features={self.linear.in_features}, num_classes={self.num_classes}, out_features={self.out_features}, "
            f"bias={self.linear.bias is not None}, reduction={self.reduction}, ignore_index={self.ignore_index}, "
            f"label_smoothing={self.label_smoothing}, options={self.options}"
        )
