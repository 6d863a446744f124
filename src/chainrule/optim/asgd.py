"""ASGD: SGD with a decaying step, keeping a running average of the iterates."""
from chainrule.backend import xp
from chainrule.optim.optimizer import (
    Optimizer,
    check_non_negative,
    decayed_gradient,
    hyperparameter,
    new_step_counter,
    scalar_state,
    step_count,
    zeros_state,
)
from chainrule.tensor import Tensor


class ASGD(Optimizer):
    """Averaged stochastic gradient descent (Polyak and Juditsky, 1992), as ``torch.optim.ASGD``.

    For each parameter ``p`` with gradient ``g`` (``-g`` when ``maximize``), at step ``t``::

        g = g + weight_decay * p
        p = p * (1 - lambd * eta) - eta * g
        ax = p                          while mu = 1 (the first t0 steps)
        ax = ax + mu * (p - ax)         afterwards: the running mean of the iterates since t0
        eta = lr / (1 + lambd * lr * t)^alpha
        mu = 1 / max(1, t - t0)

    ``ax`` is the averaged model: copy it into the parameters to evaluate it. ``state[p]`` holds
    ``step``, ``eta`` and ``mu`` (float32, as PyTorch's) and ``ax``.
    """

    _options_of_old_checkpoints = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    _foreach_supports_differentiable = False  # PyTorch's foreach step raises AssertionError

    def __init__(
        self,
        params,
        lr=1e-2,
        lambd=1e-4,
        alpha=0.75,
        t0=1e6,
        weight_decay=0,
        foreach=None,
        maximize=False,
        differentiable=False,
        capturable=False,
    ):
        check_non_negative(lr=lr, weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            lambd=lambd,
            alpha=alpha,
            t0=t0,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, state, group):
        state["step"] = new_step_counter()
        state["eta"] = scalar_state(hyperparameter(group["lr"]))
        state["mu"] = scalar_state(1.0)
        state["ax"] = zeros_state(param)

    def _update(self, param, grad, state, group, scratch):
        step = step_count(state)
        grad = decayed_gradient(param, grad, group["maximize"], group["weight_decay"], scratch)
        lr, lambd = hyperparameter(group["lr"]), group["lambd"]
        eta, mu, ax = state["eta"]._array, state["mu"]._array, state["ax"]._array

        eta_value = float(eta)
        xp.multiply(param, 1 - lambd * eta_value, out=param)
        param += xp.multiply(grad, -eta_value, out=scratch[1])
        if float(mu) != 1:
            ax += xp.multiply(xp.subtract(param, ax, out=scratch[1]), mu, out=scratch[1])
        else:
            ax[...] = param
        # PyTorch writes torch.as_tensor(<Python float>), a float32, into the state (float64 after
        # loading into float64 parameters): the new values are rounded to float32 first
        new_eta = lr / ((1 + lambd * lr * step) ** group["alpha"])
        eta[...] = new_eta if isinstance(group["lr"], Tensor) else xp.float32(new_eta)
        mu[...] = xp.float32(1 / max(1, step - group["t0"]))
