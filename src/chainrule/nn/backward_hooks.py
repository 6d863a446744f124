"""Module backward hooks, as PyTorch's ``register_full_backward_hook`` and
``register_full_backward_pre_hook``: see the gradients with respect to a layer's outputs and inputs
while ``backward()`` runs (a layer's δ and what it sends back), and replace them if wanted.

As PyTorch, the module's tensor inputs and its outputs pass through an identity operation,
``BackwardHookFunction``, whose backward is where the hooks run:

- the outputs' node receives ∂L/∂output first: the pre-hooks ``hook(module, grad_output)`` run
  there (and may return a replacement);
- the inputs' node receives ∂L/∂input: the hooks ``hook(module, grad_input, grad_output)`` run there
  (and may return a replacement grad_input). When no input requires grad, the hooks run as soon as
  grad_output is known, with grad_input all None.
"""
import warnings

from chainrule.autograd.function import Function
from chainrule.tensor import Tensor


class BackwardHookFunction(Function):
    """The identity on ``tensors``, whose backward hands the arriving gradients to ``on_gradients``
    (which returns the gradients to pass on)."""

    @staticmethod
    def forward(ctx, on_gradients, *tensors):
        ctx.on_gradients = on_gradients
        ctx.set_materialize_grads(False)
        return tuple(tensor.detach() for tensor in tensors)

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.on_gradients(grads))


class BackwardHooks:
    """One forward call's hooks: wraps its inputs and outputs, then runs the hooks during backward."""

    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.input_count = 0
        self.inputs_wrapped = False

    def wrap_inputs(self, args):
        """``args`` with their tensors passed through the identity whose backward runs the hooks."""
        self.input_count = sum(isinstance(arg, Tensor) for arg in args)
        if not any(isinstance(arg, Tensor) and arg.requires_grad for arg in args):
            return args
        self.inputs_wrapped = True
        return tuple(_through_identity(args, self.on_input_gradients))

    def wrap_outputs(self, output):
        """``output`` (a tensor or a tuple of them) through the identity that sees ∂L/∂output."""
        single = isinstance(output, Tensor)
        outputs = (output,) if single else tuple(output) if isinstance(output, (tuple, list)) else None
        if outputs is None or not any(isinstance(each, Tensor) and each.requires_grad for each in outputs):
            return output
        outputs = _through_identity(outputs, self.on_output_gradients)
        return outputs[0] if single else type(output)(outputs)

    def on_output_gradients(self, grads):
        for hook in self.module._get_backward_pre_hooks():
            replacement = hook(self.module, grads)
            if replacement is not None:
                grads = _checked(replacement, grads, "backward pre-hook", "grad_output")
        self.grad_output = grads
        if not self.inputs_wrapped and self.module._get_backward_hooks():  # nothing flows to the inputs: run now
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to module outputs since no "
                "inputs require gradients. See https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                "#torch.nn.Module.register_full_backward_hook for more details.",
                UserWarning,
                stacklevel=2,
            )
            self.run_hooks((None,) * self.input_count)
        return grads

    def on_input_gradients(self, grads):
        return self.run_hooks(grads)

    def run_hooks(self, grad_input):
        for hook in self.module._get_backward_hooks():
            replacement = hook(self.module, grad_input, self.grad_output)
            if replacement is not None:
                grad_input = _checked(replacement, grad_input, "backward hook", "grad_input")
        return grad_input


def _through_identity(values, on_gradients):
    """``values`` as a list, its tensors replaced by their outputs of one ``BackwardHookFunction``
    whose backward calls ``on_gradients``."""
    values = list(values)
    positions = [index for index, value in enumerate(values) if isinstance(value, Tensor)]
    for index, tensor in zip(positions, BackwardHookFunction.apply(on_gradients, *(values[index] for index in positions))):
        values[index] = tensor
    return values


def _checked(replacement, original, kind, name):
    replacement = tuple(replacement) if isinstance(replacement, (tuple, list)) else (replacement,)
    if len(replacement) != len(original):
        raise RuntimeError(
            f"{kind} returned an invalid number of {name} (got {len(replacement)}, but expected {len(original)})"
        )
    return replacement
