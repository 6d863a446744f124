"""Scalar arithmetic done the way a 0-dimensional tensor of the default dtype does it.

PyTorch's benchmark utilities work out units and significant figures on small tensors
(``torch.tensor(t).log10()``): with the default dtype float32, a time is first rounded to float32,
and so is every intermediate result. Near a boundary that rounding decides the answer: 0.99999999e-6
seconds reads as microseconds, not nanoseconds, and ``ceil(log10(100))`` is 2, not 3. These helpers
round exactly where such a tensor would, so chainrule's tables put every boundary where PyTorch's
put it. The values are computed in float64 and rounded once, which is what a correctly rounded
float32 function gives.
"""
import math

import chainrule


def held(value):
    """``value`` as a tensor of the default dtype holds it (float32: rounded to 24 bits)."""
    return chainrule.tensor(float(value)).item()


def log10(value):
    """log10 of ``value`` held in the default dtype: -inf at zero and nan below zero, as a tensor
    gives them (so that ``int()`` of what follows fails as it does in PyTorch)."""
    value = held(value)
    if value > 0:
        return held(math.log10(value))
    return -math.inf if value == 0 else math.nan


def sqrt(value):
    """Square root of ``value`` held in the default dtype."""
    return held(math.sqrt(held(value)))


def population_std(values):
    """Standard deviation (dividing by n, not n - 1) of ``values`` held in the default dtype, with
    the sums taken in float64 as PyTorch's CPU reduction accumulates them."""
    values = chainrule.tensor([float(value) for value in values]).tolist()  # each held, in one conversion
    mean = math.fsum(values) / len(values)
    return held(math.sqrt(math.fsum((value - mean) ** 2 for value in values) / len(values)))
