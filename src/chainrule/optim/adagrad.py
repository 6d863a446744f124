"""Adagrad: each coordinate's step shrinks with the sum of its squared gradients so far."""
from chainrule.backend import xp
from chainrule.optim.optimizer import (
    Optimizer,
    check_fused,
    check_non_negative,
    decayed_gradient,
    hyperparameter,
    new_step_counter,
    step_count,
)
from chainrule.tensor import tensor_from_array


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), as ``torch.optim.Adagrad``.

    For each parameter ``p`` with gradient ``g`` (``-g`` when ``maximize``), at step ``t``::

        g = g + weight_decay * p
        lr_t = lr / (1 + (t - 1) * lr_decay)
        sum = sum + g^2                          (starts at initial_accumulator_value)
        p = p - lr_t * g / (sqrt(sum) + eps)

    The state is created for every parameter at construction, as PyTorch does: ``step`` and ``sum``.
    ``sum`` starts at the constructor's ``initial_accumulator_value`` in every group, as in PyTorch
    (a group's own value is kept in the group, unused).
    """

    _options_of_old_checkpoints = {"foreach": None, "maximize": False, "differentiable": False, "fused": None}

    _foreach_supports_differentiable = False  # PyTorch's foreach step raises AssertionError

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0,
        weight_decay=0,
        initial_accumulator_value=0,
        eps=1e-10,
        foreach=None,
        *,
        maximize=False,
        differentiable=False,
        fused=None,
    ):
        check_non_negative(
            lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, initial_accumulator_value=initial_accumulator_value, eps=eps
        )
        check_fused(fused, foreach, differentiable)
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                self._init_state(param, self.state[param], group)

    def _init_state(self, param, state, group):
        state["step"] = new_step_counter()
        value = self.defaults["initial_accumulator_value"]
        # a complex parameter steps as its real pairs: each part's sum starts at the value, as PyTorch's complex(v, v)
        state["sum"] = tensor_from_array(xp.full_like(param._array, complex(value, value) if param._array.dtype.kind == "c" else value))

    def _update(self, param, grad, state, group, scratch):
        step = step_count(state)
        grad = decayed_gradient(param, grad, group["maximize"], group["weight_decay"], scratch)
        work = scratch[1]
        learning_rate = hyperparameter(group["lr"], group) / (1 + (step - 1) * group["lr_decay"])

        state_sum = state["sum"]._array
        state_sum += xp.multiply(grad, grad, out=work)
        std = xp.sqrt(state_sum, out=work)
        xp.add(std, group["eps"], out=std)
        param += xp.multiply(xp.divide(grad, std, out=work), -learning_rate, out=work)

    def _update_sparse(self, param, grad, state, group):
        """The same step for a sparse gradient, on the rows it lists only (PyTorch's: their sums
        grow, the other rows' sums and values stay)."""
        step = step_count(state)
        if group["maximize"]:
            grad = grad * -1
        if group["weight_decay"] != 0:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        learning_rate = hyperparameter(group["lr"], group) / (1 + (step - 1) * group["lr_decay"])
        grad = grad.coalesce()
        rows, values = tuple(grad.indices), grad.values
        state_sum = state["sum"]._array
        state_sum[rows] += values * values
        std = xp.sqrt(state_sum[rows])
        std += group["eps"]
        param[rows] += values / std * -learning_rate
