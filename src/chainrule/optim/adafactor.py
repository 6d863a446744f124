"""Adafactor: Adam-like steps whose second moment of a matrix is stored as one row and one column."""
import math

from chainrule.backend import xp
from chainrule.optim.optimizer import (
    Optimizer,
    check_tensor_lr,
    decayed_gradient,
    hyperparameter,
    lerp_,
    new_step_counter,
    step_count,
)
from chainrule.tensor import tensor_from_array


class Adafactor(Optimizer):
    """Adafactor (Shazeer and Stern, 2018), as ``torch.optim.Adafactor``.

    For each parameter ``p`` with gradient ``g`` (``-g`` when ``maximize``), at step ``t``::

        beta2_t = 1 - t^beta2_decay                        (the average's weight on the past grows)
        rho_t = min(lr, 1 / sqrt(t))
        alpha = max(eps2, RMS(p)) * rho_t                  the step is relative to p's own scale
        p = p * (1 - lr * weight_decay)
        if p has 2 or more dimensions (factored over the last two, R rows and C columns):
            R_v = beta2_t R_v + (1 - beta2_t) mean(g^2 over columns)        (.., R, 1)
            C_v = beta2_t C_v + (1 - beta2_t) mean(g^2 over rows)           (.., 1, C)
            v = R_v @ C_v / max(mean(R_v), eps1)                            rank-one estimate of g^2
        else:
            v = beta2_t v + (1 - beta2_t) g^2
        u = g / sqrt(max(v, eps1^2))
        p = p - alpha / max(1, RMS(u) / d) * u             (the update's RMS is clipped to d)

    ``eps1`` defaults to the machine epsilon of ``p``'s dtype. A (rows, columns) matrix keeps
    rows + columns numbers instead of Adam's rows x columns. ``state[p]`` holds ``step`` and either
    ``row_var`` and ``col_var`` or ``variance``.
    """

    _options_of_old_checkpoints = {"foreach": None}

    _steps_complex_parameters = False

    def __init__(
        self,
        params,
        lr=1e-2,
        beta2_decay=-0.8,
        eps=(None, 1e-3),
        d=1.0,
        weight_decay=0.0,
        *,
        foreach=None,
        maximize=False,
    ):
        check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(
            lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach, maximize=maximize
        )
        super().__init__(params, defaults)

    def _init_state(self, param, state, group):
        state["step"] = new_step_counter()
        array = param._array
        if array.ndim > 1:
            state["row_var"] = tensor_from_array(xp.zeros(array.shape[:-1] + (1,), dtype=array.dtype))
            state["col_var"] = tensor_from_array(xp.zeros(array.shape[:-2] + (1,) + array.shape[-1:], dtype=array.dtype))
        else:
            state["variance"] = tensor_from_array(xp.zeros_like(array))

    def _update(self, param, grad, state, group, scratch):
        step = step_count(state)
        lr, weight_decay, d = hyperparameter(group["lr"]), group["weight_decay"], group["d"]
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = float(xp.finfo(param.dtype).eps)
        grad = decayed_gradient(param, grad, group["maximize"], 0, scratch)

        past_weight = step ** group["beta2_decay"]
        relative_step = min(lr, 1 / (step**0.5))
        alpha = max(eps2, _root_mean_square(param)) * relative_step
        if weight_decay != 0:
            xp.multiply(param, 1 - lr * weight_decay, out=param)

        if grad.ndim > 1:
            row_var, col_var = state["row_var"]._array, state["col_var"]._array
            lerp_(row_var, _mean_square(grad, axis=-1), past_weight, xp.empty_like(row_var))
            lerp_(col_var, _mean_square(grad, axis=-2), past_weight, xp.empty_like(col_var))
            variance = xp.matmul(row_var, col_var)
            variance /= xp.maximum(xp.mean(row_var, axis=-2, keepdims=True), eps1)
        else:
            variance = lerp_(state["variance"]._array, grad * grad, past_weight, scratch[1]).copy()

        update = xp.sqrt(xp.maximum(variance, eps1 * eps1, out=variance), out=variance)
        xp.divide(1, update, out=update)
        update *= grad
        clipping = max(1.0, _root_mean_square(update) / d)
        param += xp.multiply(update, -alpha / clipping, out=update)


def _mean_square(grad, axis):
    """``mean(grad^2)`` along ``axis``, kept as a size-1 axis, as PyTorch's ``norm(...)^2 / n``."""
    norm = xp.sqrt(xp.sum(grad * grad, axis=axis, keepdims=True))
    return norm * norm / grad.shape[axis]


def _root_mean_square(array):
    """``||array||_2 / sqrt(size)`` as a Python float."""
    return float(xp.sqrt(xp.sum(array * array))) / math.sqrt(array.size)
