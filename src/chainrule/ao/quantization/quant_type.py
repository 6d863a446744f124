"""QuantType: the kinds of quantization, as PyTorch numbers them."""
import enum


class QuantType(enum.IntEnum):
    DYNAMIC = 0
    STATIC = 1
    QAT = 2
    WEIGHT_ONLY = 3
