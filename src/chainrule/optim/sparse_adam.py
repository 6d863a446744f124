"""SparseAdam: Adam for sparse gradients, updating only the rows a gradient lists."""
import math

from chainrule.backend import xp
from chainrule.optim.optimizer import Optimizer
from chainrule.tensor import Tensor, tensor_from_array


class SparseAdam(Optimizer):
    """Adam restricted to the entries a sparse gradient lists, as ``torch.optim.SparseAdam``: for
    the embedding table of ``nn.Embedding(sparse=True)``, a step changes only the rows the batch
    read, and only their running averages (a row not read keeps its ``m`` and ``v``, where Adam
    would decay them). For each listed entry, with ``g`` its gradient (repeats summed; ``-g`` when
    ``maximize``), at step ``t`` (counted per parameter, every step)::

        m = m + (1 - beta1) * (g - m)
        v = v + (1 - beta2) * (g^2 - v)
        p = p - lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)

    ``state[p]`` holds ``step`` (a Python int, as PyTorch's), ``exp_avg`` (m) and ``exp_avg_sq``
    (v), dense like the parameter. A dense gradient is PyTorch's RuntimeError (use Adam).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for index, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        for refused, words in ((lambda param: param.is_sparse, "Sparse params at indices {}: SparseAdam requires dense parameter tensors"),
                               (lambda param: param.is_complex(), "Complex params at indices {}: SparseAdam does not support complex parameters")):
            positions = [
                [group_index, param_index]
                for group_index, group in enumerate(self.param_groups)
                for param_index, param in enumerate(group["params"])
                if refused(param)
            ]
            if positions:
                raise ValueError(words.format(positions))

    def _init_state(self, param, state, group):
        state["step"] = 0
        state["exp_avg"] = tensor_from_array(xp.zeros_like(param._array))
        state["exp_avg_sq"] = tensor_from_array(xp.zeros_like(param._array))

    def _update(self, param, grad, state, group, scratch):
        raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")

    def _update_sparse(self, param, grad, state, group):
        state["step"] += 1
        grad = (grad * -1 if group["maximize"] else grad).coalesce()
        if grad.nnz == 0:
            return
        beta1, beta2 = group["betas"]
        rows, values = tuple(grad.indices), grad.values
        exp_avg, exp_avg_sq = state["exp_avg"]._array, state["exp_avg_sq"]._array
        old_exp_avg, old_exp_avg_sq = exp_avg[rows], exp_avg_sq[rows]
        exp_avg_update = (values - old_exp_avg) * (1 - beta1)
        exp_avg[rows] += exp_avg_update
        exp_avg_sq_update = (values * values - old_exp_avg_sq) * (1 - beta2)
        exp_avg_sq[rows] += exp_avg_sq_update
        # m and v of the listed rows computed again from their parts (PyTorch's arithmetic, which
        # avoids reading them back from the dense state)
        numerator = exp_avg_update + old_exp_avg
        denominator = xp.sqrt(exp_avg_sq_update + old_exp_avg_sq) + group["eps"]
        step = state["step"]
        lr = float(group["lr"])
        step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
        param[rows] += -step_size * (numerator / denominator)
