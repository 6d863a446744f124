"""The operations as top-level functions, as PyTorch offers them: ``chainrule.exp(x)``,
``chainrule.softmax(x, dim=1)``, ``chainrule.cat([a, b])``.

Each family in ``chainrule/ops/`` lists its public functions in ``__all__``; they all appear here.
"""
from chainrule.ops.activation import *  # noqa: F401,F403
from chainrule.ops.broadcast import broadcast_shapes, broadcast_to, expand  # noqa: F401
from chainrule.ops.compare import *  # noqa: F401,F403
from chainrule.ops.elementwise import *  # noqa: F401,F403
from chainrule.ops.elementwise import add, div, mul, neg, sub
from chainrule.ops.index import *  # noqa: F401,F403
from chainrule.ops.join import *  # noqa: F401,F403
from chainrule.ops.matmul import *  # noqa: F401,F403
from chainrule.ops.reduce import *  # noqa: F401,F403
from chainrule.ops.shape import *  # noqa: F401,F403

subtract, multiply, divide, negative, true_divide = sub, mul, div, neg, div
