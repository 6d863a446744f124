"""Adam: gradient steps scaled by running averages of the gradient and of its square."""
from chainrule.backend import xp
from chainrule.optim.optimizer import (
    Optimizer,
    adam_style_gradient,
    average_of_squares_,
    check_betas,
    check_fused,
    check_non_negative,
    hyperparameter,
    lerp_,
    new_step_counter,
    scalar_divide,
    scalar_power,
    step_count,
    zeros_state,
)
from chainrule.tensor import Tensor


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2014), as ``torch.optim.Adam``.

    For each parameter ``p`` with gradient ``g`` (``-g`` when ``maximize``), at step ``t``::

        g = g + weight_decay * p                      (L2 penalty; AdamW decays p instead)
        m = beta1 * m + (1 - beta1) * g               running average of the gradient
        v = beta2 * v + (1 - beta2) * g^2             running average of its square
        v_max = max(v_max, v)                         (amsgrad only; then v_max replaces v below)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    The factors ``1 - beta^t`` undo the pull towards zero of averages that start at zero.
    ``state[p]`` holds ``step`` (t), ``exp_avg`` (m), ``exp_avg_sq`` (v) and ``max_exp_avg_sq``.
    ``lr`` may be a 1-element tensor, and ``betas`` two of them (both, or neither), as in PyTorch:
    the scalar arithmetic then rounds in the tensors' dtype, as PyTorch's does (in double with
    ``fused=True``, as PyTorch's fused kernel).
    """

    _options_of_old_checkpoints = {
        "amsgrad": False, "maximize": False, "foreach": None, "capturable": False, "differentiable": False,
        "decoupled_weight_decay": False, "fused": None,
    }

    _foreach_supports_differentiable = False  # PyTorch's foreach step raises AssertionError
    _sparse_refusal = "Adam does not support sparse gradients, please consider SparseAdam instead"  # AdamW's too

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
        fused=None,
        decoupled_weight_decay=False,
    ):
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        check_non_negative(lr=lr, eps=eps)
        check_betas(betas)
        check_fused(fused, foreach, differentiable)
        check_non_negative(weight_decay=weight_decay)
        betas = tensor_or_float_betas(betas, foreach, capturable)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, state, group):
        state["step"] = new_step_counter()
        state["exp_avg"] = zeros_state(param)
        state["exp_avg_sq"] = zeros_state(param)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_state(param)

    def _update(self, param, grad, state, group, scratch):
        if group["foreach"] and isinstance(group["lr"], Tensor) and not group["capturable"]:
            raise RuntimeError("lr as a Tensor is not supported for capturable=False and foreach=True")
        step = step_count(state)
        lr = hyperparameter(group["lr"], group)
        betas = group["betas"]
        beta1, beta2 = hyperparameter(betas[0], group), hyperparameter(betas[1], group)
        grad = adam_style_gradient(param, grad, group, scratch)
        work = scratch[1]

        exp_avg = lerp_(state["exp_avg"]._array, grad, 1 - beta1, work)
        exp_avg_sq = average_of_squares_(state["exp_avg_sq"]._array, grad, beta2, work)
        if group["amsgrad"]:
            second_moment = xp.maximum(state["max_exp_avg_sq"]._array, exp_avg_sq, out=state["max_exp_avg_sq"]._array)
        else:
            second_moment = exp_avg_sq
        if group["differentiable"]:
            return differentiable_step(param, exp_avg, second_moment, state["step"], group, work)

        step_size = scalar_divide(lr, 1 - scalar_power(beta1, step))
        denominator = xp.sqrt(second_moment, out=work)
        denominator /= scalar_power(1 - scalar_power(beta2, step), 0.5)
        xp.add(denominator, group["eps"], out=denominator)
        param += xp.multiply(xp.divide(exp_avg, denominator, out=work), -step_size, out=work)


def differentiable_step(param, exp_avg, second_moment, step, group, work):
    """Adam's last move, ``p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)``, as
    PyTorch's ``differentiable=True`` step computes it: the bias corrections from the 0-d ``step``
    tensor, so in its dtype (float32 unless the default dtype is float64), and the step size folded
    into the denominator, ``p = p + m / (sqrt(v) / (sqrt(1 - beta2^t) * -step_size) + eps / -step_size)``.
    """
    t = step._array[()]
    lr, beta1, beta2 = (tensor_scalar(value) for value in (group["lr"], *group["betas"]))
    bias_correction1 = 1 - beta1**t  # NumPy's scalar power promotes as PyTorch's on 0-d tensors
    bias_correction2 = 1 - beta2**t
    negative_step_size = -scalar_divide(lr, bias_correction1)
    denominator = xp.sqrt(second_moment, out=work)
    denominator /= xp.sqrt(bias_correction2) * negative_step_size
    denominator += scalar_divide(group["eps"], negative_step_size)
    param += xp.divide(exp_avg, denominator, out=work)


def tensor_scalar(value):
    """A hyperparameter as PyTorch's tensor arithmetic sees it: a tensor's value as a NumPy scalar of
    its dtype, a Python number as it is."""
    return value._array.reshape(())[()] if isinstance(value, Tensor) else value


def tensor_or_float_betas(betas, foreach, capturable):
    """Adam's ``betas`` checked as PyTorch checks them: both floats or both 1-element tensors
    (not with ``foreach`` unless ``capturable``); a tensor of shape (1,) is squeezed to 0-d."""
    if not (all(isinstance(beta, float) for beta in betas) or all(isinstance(beta, Tensor) for beta in betas)):
        raise ValueError("betas must be either both floats or both Tensors")
    for index, beta in enumerate(betas):
        if isinstance(beta, Tensor):
            if not capturable and foreach:
                raise ValueError(f"betas[{index}] as a Tensor is not supported for capturable=False and foreach=True")
            if beta.numel() != 1:
                raise ValueError(f"Tensor betas[{index}] must be 1-element")
    return tuple(beta.squeeze() if isinstance(beta, Tensor) and beta.dim() != 0 else beta for beta in betas)
