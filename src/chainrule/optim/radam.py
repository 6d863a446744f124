"""RAdam: Adam whose adaptive step is switched on gradually, once its variance can be trusted."""
from chainrule.backend import is_scalar, xp
from chainrule.optim.optimizer import (
    Optimizer,
    adam_style_gradient,
    average_of_squares_,
    check_betas,
    check_non_negative,
    hyperparameter,
    lerp_,
    new_step_counter,
    scalar_divide,
    scalar_power,
    step_count,
    zeros_state,
)


class RAdam(Optimizer):
    """Rectified Adam (Liu et al., 2019), as ``torch.optim.RAdam``.

    For each parameter ``p`` with gradient ``g`` (``-g`` when ``maximize``), at step ``t``::

        g = g + weight_decay * p        (or p = p * (1 - lr * weight_decay) if decoupled_weight_decay)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)       length of the average's window so far
        if rho_t > 5:                                        the variance of v is finite: adapt
            r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            p = p - lr * m / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r
        else:                                                too early: plain momentum SGD
            p = p - lr * m / (1 - beta1^t)

    ``state[p]`` holds ``step``, ``exp_avg`` (m) and ``exp_avg_sq`` (v).
    """

    _options_of_old_checkpoints = {
        "foreach": None, "maximize": False, "differentiable": False, "decoupled_weight_decay": False, "capturable": False,
    }

    _foreach_supports_differentiable = False  # PyTorch's foreach step raises AssertionError

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        decoupled_weight_decay=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
    ):
        check_non_negative(lr=lr, eps=eps)
        check_betas(betas)
        check_non_negative(weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            decoupled_weight_decay=decoupled_weight_decay,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, state, group):
        state["step"] = new_step_counter()
        state["exp_avg"] = zeros_state(param)
        state["exp_avg_sq"] = zeros_state(param)

    def _update(self, param, grad, state, group, scratch):
        step = step_count(state)
        lr = hyperparameter(group["lr"])
        beta1, beta2 = map(hyperparameter, group["betas"])
        grad = adam_style_gradient(param, grad, group, scratch)
        work = scratch[1]

        exp_avg = lerp_(state["exp_avg"]._array, grad, 1 - beta1, work)
        exp_avg_sq = average_of_squares_(state["exp_avg_sq"]._array, grad, beta2, work)
        bias_correction1 = 1 - scalar_power(beta1, step)
        bias_correction2 = 1 - scalar_power(beta2, step)
        step_direction = xp.divide(exp_avg, bias_correction1, out=work)
        step_direction *= lr

        rho_inf = scalar_divide(2, 1 - beta2) - 1
        rho_t = rho_inf - 2 * step * scalar_power(beta2, step) / bias_correction2
        if rho_t > 5.0:
            rectification = scalar_power((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t), 0.5)
            adaptive = xp.sqrt(exp_avg_sq, out=scratch[0])
            xp.add(adaptive, group["eps"], out=adaptive)
            if is_scalar(bias_correction2):  # from tensor betas: a tensor over a tensor
                xp.divide(scalar_power(bias_correction2, 0.5), adaptive, out=adaptive)
            else:  # PyTorch divides a number by a tensor as the tensor's reciprocal times the number
                xp.reciprocal(adaptive, out=adaptive)
                adaptive *= bias_correction2**0.5
            step_direction *= adaptive
            step_direction *= rectification
        param -= step_direction
