"""Rprop: each coordinate moves by its own step size, grown or shrunk by the gradient's sign alone."""
from chainrule.backend import xp
from chainrule.optim.optimizer import (
    Optimizer,
    check_non_negative,
    hyperparameter,
    new_step_counter,
    step_count,
    zeros_state,
)
from chainrule.tensor import tensor_from_array


class Rprop(Optimizer):
    """Resilient backpropagation (Riedmiller and Braun, 1993), as ``torch.optim.Rprop``.

    For each coordinate of a parameter ``p`` with gradient ``g`` (``-g`` when ``maximize``)::

        s = g * g_prev
        step_size = clamp(step_size * etaplus,  *step_sizes)    if s > 0   (same sign: speed up)
        step_size = clamp(step_size * etaminus, *step_sizes)    if s < 0   (overshot: slow down,
                                                                             and take no step now)
        p = p - sign(g) * step_size
        g_prev = g   (0 where the sign flipped, so the next step is not slowed down again)

    The step sizes start at ``lr``. Only signs are used: Rprop is meant for full-batch gradients.
    ``state[p]`` holds ``step``, ``prev`` (g_prev) and ``step_size``.
    """

    _options_of_old_checkpoints = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    _foreach_supports_differentiable = False  # PyTorch's foreach step raises AssertionError

    def __init__(
        self,
        params,
        lr=1e-2,
        etas=(0.5, 1.2),
        step_sizes=(1e-6, 50),
        *,
        capturable=False,
        foreach=None,
        maximize=False,
        differentiable=False,
    ):
        check_non_negative(lr=lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(
            lr=lr,
            etas=etas,
            step_sizes=step_sizes,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, state, group):
        state["step"] = new_step_counter()
        state["prev"] = zeros_state(param)
        lr = hyperparameter(group["lr"])
        # a complex parameter steps as its real pairs: each part's step size starts at lr, as PyTorch's complex(lr, lr)
        state["step_size"] = tensor_from_array(xp.full_like(param._array, complex(lr, lr) if param._array.dtype.kind == "c" else lr))

    def _update(self, param, grad, state, group, scratch):
        step_count(state)
        etaminus, etaplus = group["etas"]
        smallest, largest = group["step_sizes"]
        prev, step_size = state["prev"]._array, state["step_size"]._array
        if group["maximize"]:
            grad = xp.negative(grad, out=scratch[0])

        agreement = xp.sign(xp.multiply(grad, prev, out=scratch[1]), out=scratch[1])
        factor = xp.where(agreement > 0, etaplus, xp.where(agreement < 0, etaminus, 1)).astype(step_size.dtype)
        step_size *= factor
        xp.clip(step_size, smallest, largest, out=step_size)

        prev[...] = grad
        prev[factor == etaminus] = 0
        param -= xp.multiply(xp.sign(prev, out=scratch[1]), step_size, out=scratch[1])
