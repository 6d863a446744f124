"""The operations as top-level functions, as PyTorch offers them: ``chainrule.exp(x)``,
``chainrule.softmax(x, dim=1)``, ``chainrule.cat([a, b])``. Each is defined in ``chainrule/ops/``."""
from chainrule.ops.broadcast import broadcast_shapes, broadcast_to
from chainrule.ops.elementwise import (
    abs,
    add,
    clamp,
    clip,
    clone,
    cos,
    div,
    exp,
    floor_divide,
    log,
    log1p,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    remainder,
    sign,
    sin,
    sqrt,
    square,
    sub,
    tan,
    where,
)

subtract, multiply, divide, negative, true_divide = sub, mul, div, neg, div
