"""Muon: momentum SGD for weight matrices whose update is orthogonalized by a Newton-Schulz iteration."""
import math

from chainrule.backend import round_to_bfloat16, xp
from chainrule.optim.optimizer import Optimizer, check_tensor_lr, hyperparameter, lerp_, zeros_state

EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


class Muon(Optimizer):
    """Muon (Keller Jordan, 2024), as ``torch.optim.Muon``; for 2-d parameters only.

    For each weight matrix ``W`` with gradient ``G``::

        B = momentum * B + (1 - momentum) * G
        U = G + momentum * (B - G)   if nesterov   else   B
        O = NewtonSchulz(U)          about U's orthogonal factor: U = P S Q^T  ->  ~P Q^T
        W = W * (1 - lr * weight_decay) - lr * ratio * O

    ``ratio`` is ``sqrt(max(1, rows / columns))`` (``adjust_lr_fn=None`` or ``"original"``) or
    ``0.2 * sqrt(max(rows, columns))`` (``"match_rms_adamw"``, so that the update's RMS is AdamW's).
    Every direction of the update gets about the same size, whatever the gradient's spectrum.
    ``state[W]["momentum_buffer"]`` holds ``B``. Like PyTorch, the iteration computes in bfloat16
    (emulated here: each result is rounded to bfloat16).
    """

    _steps_complex_parameters = False

    def __init__(
        self,
        params,
        lr=1e-3,
        weight_decay=0.1,
        momentum=0.95,
        nesterov=True,
        ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C),
        eps=EPS,
        ns_steps=DEFAULT_NS_STEPS,
        adjust_lr_fn=None,
    ):
        check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(
            lr=lr,
            weight_decay=weight_decay,
            momentum=momentum,
            nesterov=nesterov,
            ns_coefficients=ns_coefficients,
            eps=eps,
            ns_steps=ns_steps,
            adjust_lr_fn=adjust_lr_fn,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                if param.ndim != 2:
                    raise ValueError(
                        f"Muon only supports 2D parameters whereas we found a parameter with size: {param.size()}"
                    )

    def _init_state(self, param, state, group):
        state["momentum_buffer"] = zeros_state(param)

    def _update(self, param, grad, state, group, scratch):
        momentum, lr = group["momentum"], hyperparameter(group["lr"])
        buffer = lerp_(state["momentum_buffer"]._array, grad, 1 - momentum, scratch[1])
        update = lerp_(grad.copy(), buffer, momentum, scratch[1]) if group["nesterov"] else buffer
        update = newton_schulz(update, group["ns_coefficients"], group["ns_steps"], group["eps"])
        xp.multiply(param, 1 - lr * group["weight_decay"], out=param)
        # in the wider of the two dtypes, as PyTorch adds the bfloat16 update (a float64 parameter: in float64)
        wider = xp.promote_types(param.dtype, update.dtype)
        param += xp.multiply(update, -adjusted_lr(lr, group["adjust_lr_fn"], param.shape), dtype=wider)


def newton_schulz(matrix, coefficients, steps, eps):
    """About the orthogonal factor of ``matrix`` (its singular values pushed towards 1), in bfloat16.

    Scaled to norm 1, then ``steps`` times ``X = a X + (b A + c A^2) X`` with ``A = X X^T`` (X wide):
    the quintic ``a s + b s^3 + c s^5`` pulls every singular value ``s`` into roughly [0.7, 1.2].
    """
    if steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if matrix.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = (xp.float32(value) for value in coefficients)
    ortho = round_to_bfloat16(matrix)
    tall = matrix.shape[0] > matrix.shape[1]
    if tall:
        ortho = ortho.T
    norm = round_to_bfloat16(xp.sqrt(xp.sum(ortho * ortho, dtype=xp.float32)))
    ortho = round_to_bfloat16(ortho / xp.maximum(norm, round_to_bfloat16(xp.float32(eps))))
    for _ in range(steps):
        gram = round_to_bfloat16(ortho @ ortho.T)
        gram_update = round_to_bfloat16(b * gram + c * (gram @ gram))
        ortho = round_to_bfloat16(a * ortho + gram_update @ ortho)
    return ortho.T if tall else ortho


def adjusted_lr(lr, adjust_lr_fn, shape):
    """The learning rate scaled for a (rows, columns) matrix by ``adjust_lr_fn``'s rule."""
    rows, columns = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / columns))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, columns))
    else:
        ratio = 1.0
    return lr * ratio
