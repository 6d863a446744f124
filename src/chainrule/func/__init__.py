"""``chainrule.func``, as ``torch.func``: composable function transforms.

``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``linearize``, ``jacrev``, ``jacfwd``, ``hessian`` and ``vmap``
turn a function into its gradient, Jacobian or batched version; ``functional_call`` makes a module
a function of its parameters. Built on the reverse-mode engine (see ``linearized.py``); ``vmap`` is a
loop over the batch (see ``vmap.py``).
"""
from chainrule.func.grad import grad, grad_and_value
from chainrule.func.jacobians import hessian, jacfwd, jacrev
from chainrule.func.products import jvp, linearize, vjp
from chainrule.func.stack_module_state import stack_module_state
from chainrule.func.vmap import replace_all_batch_norm_modules_, vmap
from chainrule.nn.utils.stateless import replaced_call as functional_call

__all__ = [
    "functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "linearize",
    "replace_all_batch_norm_modules_", "stack_module_state", "vjp", "vmap",
]
