"""SGD: stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""
from chainrule.backend import xp
from chainrule.optim.optimizer import Optimizer, check_fused, check_non_negative, decayed_gradient, hyperparameter
from chainrule.sparse.coo_array import add_into
from chainrule.tensor import tensor_from_array


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD``.

    For each parameter ``p`` with gradient ``g`` (``-g`` when ``maximize``), at step ``t``::

        g = g + weight_decay * p
        if momentum != 0:
            buf = g                                        (t = 1)
            buf = momentum * buf + (1 - dampening) * g     (t > 1)
            g = g + momentum * buf   if nesterov   else   buf
        p = p - lr * g

    ``state[p]["momentum_buffer"]`` holds ``buf`` (only with momentum). ``foreach``,
    ``differentiable`` and ``fused`` choose PyTorch's kernels: kept in the groups, as PyTorch's, they
    change the update only where PyTorch's results differ (see ``Optimizer``).
    """

    _options_of_old_checkpoints = {"nesterov": False, "maximize": False, "foreach": None, "differentiable": False, "fused": False}

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
        foreach=None,
        differentiable=False,
        fused=None,
    ):
        check_non_negative(below_zero_only=True, lr=lr, momentum=momentum, weight_decay=weight_decay)
        check_fused(fused, foreach, differentiable)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"Nesterov momentum requires a momentum and zero dampening (got momentum={momentum}, "
                f"dampening={dampening})"
            )
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            foreach=foreach,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, state, group):
        if group["momentum"] != 0:
            state["momentum_buffer"] = None  # the first step fills it with that step's gradient

    def _update(self, param, grad, state, group, scratch):
        grad = decayed_gradient(param, grad, group["maximize"], group["weight_decay"], scratch)
        momentum = group["momentum"]
        if momentum != 0:
            buffer = state["momentum_buffer"]
            if buffer is None:
                buffer = grad.copy()
                state["momentum_buffer"] = tensor_from_array(buffer)
            else:
                buffer = xp.multiply(buffer._array, momentum, out=buffer._array)  # momentum may be a 0-d tensor
                dampening = group["dampening"]
                if dampening != 0:
                    buffer += xp.multiply(grad, 1 - dampening, out=scratch[1])
                else:
                    buffer += grad
            if group["nesterov"]:
                grad = xp.add(grad, xp.multiply(buffer, momentum, out=scratch[1]), out=scratch[1])
            else:
                grad = buffer
        param += xp.multiply(grad, -hyperparameter(group["lr"], group), out=scratch[1])

    def _update_sparse(self, param, grad, state, group):
        """The same step for a sparse gradient (PyTorch's: the momentum buffer is sparse too, and the
        step touches only the rows listed; weight decay would need the dense parameter added to the
        sparse gradient, which PyTorch refuses)."""
        if group["maximize"]:
            grad = grad * -1
        if group["weight_decay"] != 0:
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
        momentum = group["momentum"]
        if momentum != 0:
            buffer = state["momentum_buffer"]
            if buffer is None:
                state["momentum_buffer"] = buffer = tensor_from_array(grad.copy())
            else:
                dampening = group["dampening"]
                buffer._array = buffer._array * momentum + (grad if dampening == 0 else grad * (1 - dampening))
            grad = grad + buffer._array * momentum if group["nesterov"] else buffer._array
        add_into(param, grad, -hyperparameter(group["lr"], group))
