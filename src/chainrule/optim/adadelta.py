"""Adadelta: steps whose size is the running RMS of past steps over the running RMS of gradients."""
from chainrule.backend import xp
from chainrule.optim.optimizer import (
    Optimizer,
    average_of_squares_,
    check_non_negative,
    decayed_gradient,
    hyperparameter,
    new_step_counter,
    step_count,
    zeros_state,
)


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``.

    For each parameter ``p`` with gradient ``g`` (``-g`` when ``maximize``)::

        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g^2                      running average of g^2
        delta = sqrt(u + eps) / sqrt(v + eps) * g          the step, in p's own units
        u = rho * u + (1 - rho) * delta^2                  running average of delta^2
        p = p - lr * delta

    ``state[p]`` holds ``step``, ``square_avg`` (v) and ``acc_delta`` (u). ``foreach``,
    ``capturable`` and ``differentiable`` choose PyTorch's kernels; they are kept in the groups, as
    PyTorch's, and change the update only where PyTorch's results differ (see ``Optimizer``).
    """

    _options_of_old_checkpoints = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    _foreach_supports_differentiable = False  # PyTorch's foreach step raises AssertionError

    def __init__(
        self,
        params,
        lr=1.0,
        rho=0.9,
        eps=1e-6,
        weight_decay=0,
        foreach=None,
        *,
        capturable=False,
        maximize=False,
        differentiable=False,
    ):
        check_non_negative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_non_negative(eps=eps, weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            rho=rho,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            capturable=capturable,
            foreach=foreach,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, state, group):
        state["step"] = new_step_counter()
        state["square_avg"] = zeros_state(param)
        state["acc_delta"] = zeros_state(param)

    def _update(self, param, grad, state, group, scratch):
        step_count(state)
        grad = decayed_gradient(param, grad, group["maximize"], group["weight_decay"], scratch)
        rho, eps, work = group["rho"], group["eps"], scratch[1]

        square_avg = average_of_squares_(state["square_avg"]._array, grad, rho, work)
        acc_delta = state["acc_delta"]._array
        delta = xp.sqrt(xp.add(acc_delta, eps, out=work), out=work)
        delta /= xp.sqrt(square_avg + eps)
        delta *= grad
        average_of_squares_(acc_delta, delta, rho, scratch[0])
        param += xp.multiply(delta, -hyperparameter(group["lr"]), out=work)
