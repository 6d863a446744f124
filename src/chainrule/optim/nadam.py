"""NAdam: Adam with Nesterov momentum, looking one step ahead along the running average."""
from chainrule.backend import xp
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
    scalar_state,
    step_count,
    zeros_state,
)


class NAdam(Optimizer):
    """NAdam (Dozat, 2016), as ``torch.optim.NAdam``.

    For each parameter ``p`` with gradient ``g`` (``-g`` when ``maximize``), at step ``t``::

        g = g + weight_decay * p        (or p = p * (1 - lr * weight_decay) if decoupled_weight_decay)
        mu_t = beta1 * (1 - 0.96^(t * momentum_decay) / 2)      the momentum schedule
        P_t = mu_1 * ... * mu_t                                   (mu_product)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        denom = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr * (1 - mu_t) / (1 - P_t) * g / denom - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m / denom

    The last term uses next step's momentum: the Nesterov look-ahead. ``state[p]`` holds ``step``,
    ``mu_product`` (P_t, float32 as PyTorch's), ``exp_avg`` (m) and ``exp_avg_sq`` (v).
    """

    _options_of_old_checkpoints = {
        "maximize": False, "foreach": None, "capturable": False, "differentiable": False, "decoupled_weight_decay": False,
    }

    _foreach_supports_differentiable = False  # PyTorch's foreach step raises AssertionError

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        momentum_decay=4e-3,
        decoupled_weight_decay=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
    ):
        check_non_negative(lr=lr, eps=eps)
        check_betas(betas)
        check_non_negative(weight_decay=weight_decay, momentum_decay=momentum_decay)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, state, group):
        state["step"] = new_step_counter()
        state["mu_product"] = scalar_state(1.0)
        state["exp_avg"] = zeros_state(param)
        state["exp_avg_sq"] = zeros_state(param)

    def _update(self, param, grad, state, group, scratch):
        step = step_count(state)
        lr, momentum_decay = hyperparameter(group["lr"]), group["momentum_decay"]
        beta1, beta2 = map(hyperparameter, group["betas"])
        grad = adam_style_gradient(param, grad, group, scratch)
        work = scratch[1]

        momentum = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        next_momentum = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product = state["mu_product"]._array
        xp.multiply(mu_product, momentum, out=mu_product)
        if group["differentiable"]:  # PyTorch's keeps P_t a 0-d tensor: the weights round in its dtype
            mu_product = mu_product[()]
            gradient_weight = scalar_divide(-lr * (1.0 - momentum), 1.0 - mu_product)
            average_weight = scalar_divide(-lr * next_momentum, 1.0 - mu_product * next_momentum)
        else:
            mu_product = float(mu_product)
            gradient_weight = -lr * (1.0 - momentum) / (1.0 - mu_product)
            average_weight = (-lr * next_momentum) / (1.0 - mu_product * next_momentum)

        exp_avg = lerp_(state["exp_avg"]._array, grad, 1 - beta1, work)
        exp_avg_sq = average_of_squares_(state["exp_avg_sq"]._array, grad, beta2, work)
        denominator = xp.sqrt(exp_avg_sq / (1 - scalar_power(beta2, step)))
        denominator += group["eps"]
        param += xp.divide(xp.multiply(grad, gradient_weight, out=work), denominator, out=work)
        param += xp.divide(xp.multiply(exp_avg, average_weight, out=work), denominator, out=work)
