"""Adamax: Adam with the running average of g^2 replaced by a decaying maximum of |g|."""
from chainrule.backend import xp
from chainrule.optim.optimizer import (
    Optimizer,
    check_betas,
    check_non_negative,
    decayed_gradient,
    hyperparameter,
    lerp_,
    new_step_counter,
    scalar_divide,
    scalar_power,
    step_count,
    zeros_state,
)


class Adamax(Optimizer):
    """Adamax (Kingma and Ba, 2014, section 7), as ``torch.optim.Adamax``.

    For each parameter ``p`` with gradient ``g`` (``-g`` when ``maximize``), at step ``t``::

        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g                    running average of the gradient
        u = max(beta2 * u, |g| + eps)                      decaying maximum of |g| (the infinity norm)
        p = p - lr / (1 - beta1^t) * m / u

    ``state[p]`` holds ``step``, ``exp_avg`` (m) and ``exp_inf`` (u). ``foreach``,
    ``differentiable`` and ``capturable`` choose PyTorch's kernels (see ``Optimizer``).
    """

    _options_of_old_checkpoints = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    _foreach_supports_differentiable = False  # PyTorch's foreach step raises AssertionError

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        foreach=None,
        *,
        maximize=False,
        differentiable=False,
        capturable=False,
    ):
        check_non_negative(lr=lr, eps=eps)
        check_betas(betas)
        check_non_negative(weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, state, group):
        state["step"] = new_step_counter()
        state["exp_avg"] = zeros_state(param)
        state["exp_inf"] = zeros_state(param)

    def _update(self, param, grad, state, group, scratch):
        step = step_count(state)
        grad = decayed_gradient(param, grad, group["maximize"], group["weight_decay"], scratch)
        beta1, beta2 = map(hyperparameter, group["betas"])
        work = scratch[1]

        exp_avg = lerp_(state["exp_avg"]._array, grad, 1 - beta1, work)
        exp_inf = state["exp_inf"]._array
        exp_inf *= beta2
        xp.maximum(exp_inf, xp.add(xp.abs(grad, out=work), group["eps"], out=work), out=exp_inf)
        step_size = scalar_divide(hyperparameter(group["lr"]), 1 - scalar_power(beta1, step))
        param += xp.divide(xp.multiply(exp_avg, -step_size, out=work), exp_inf, out=work)
