"""The range of values a dynamic size may take, as ``ep.range_constraints`` lists it: ``VR[2, 10]``."""
import math


class ValueRanges:
    """The sizes ``lower`` to ``upper`` (both included; ``upper`` may be ``math.inf``)."""

    def __init__(self, lower, upper):
        self.lower = lower
        self.upper = upper

    def __eq__(self, other):
        return isinstance(other, ValueRanges) and (self.lower, self.upper) == (other.lower, other.upper)

    def __hash__(self):
        return hash((self.lower, self.upper))

    def __repr__(self):
        upper = "int_oo" if self.upper == math.inf else self.upper
        return f"VR[{self.lower}, {upper}]"
