"""RMSprop: gradient steps divided by a running root mean square of the gradient."""
from chainrule.backend import xp
from chainrule.optim.optimizer import (
    Optimizer,
    check_non_negative,
    decayed_gradient,
    hyperparameter,
    new_step_counter,
    step_count,
    zeros_state,
)


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), as ``torch.optim.RMSprop``.

    For each parameter ``p`` with gradient ``g`` (``-g`` when ``maximize``)::

        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g^2                 running average of g^2
        avg = sqrt(v) + eps
        if centered:                                      subtract the squared running mean of g
            mean = alpha * mean + (1 - alpha) * g
            avg = sqrt(v - mean^2) + eps
        if momentum > 0:
            buf = momentum * buf + g / avg
            p = p - lr * buf
        else:
            p = p - lr * g / avg

    ``state[p]`` holds ``step``, ``square_avg`` (v), ``momentum_buffer`` and ``grad_avg`` (mean).
    """

    _options_of_old_checkpoints = {
        "momentum": 0, "centered": False, "foreach": None, "maximize": False, "differentiable": False, "capturable": False,
    }

    _foreach_supports_differentiable = False  # PyTorch's foreach step raises AssertionError

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        capturable=False,
        foreach=None,
        maximize=False,
        differentiable=False,
    ):
        check_non_negative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(
            lr=lr,
            momentum=momentum,
            alpha=alpha,
            eps=eps,
            centered=centered,
            weight_decay=weight_decay,
            capturable=capturable,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, state, group):
        state["step"] = new_step_counter()
        state["square_avg"] = zeros_state(param)
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_state(param)
        if group["centered"]:
            state["grad_avg"] = zeros_state(param)

    def _update(self, param, grad, state, group, scratch):
        step_count(state)
        grad = decayed_gradient(param, grad, group["maximize"], group["weight_decay"], scratch)
        alpha, work = group["alpha"], scratch[1]

        square_avg = state["square_avg"]._array
        xp.multiply(square_avg, alpha, out=square_avg)
        square_avg += xp.multiply(xp.multiply(grad, 1 - alpha, out=work), grad, out=work)
        if group["centered"]:
            grad_avg = state["grad_avg"]._array
            grad_avg += xp.multiply(xp.subtract(grad, grad_avg, out=work), 1 - alpha, out=work)
            average = xp.subtract(square_avg, xp.multiply(grad_avg, grad_avg, out=work), out=work)
            xp.sqrt(average, out=average)
        else:
            average = xp.sqrt(square_avg, out=work)
        xp.add(average, group["eps"], out=average)

        momentum, lr = group["momentum"], hyperparameter(group["lr"])
        if momentum > 0:
            buffer = state["momentum_buffer"]._array
            xp.multiply(buffer, momentum, out=buffer)
            buffer += xp.divide(grad, average, out=work)
            param += xp.multiply(buffer, -lr, out=work)
        else:
            param += xp.multiply(xp.divide(grad, average, out=work), -lr, out=work)
