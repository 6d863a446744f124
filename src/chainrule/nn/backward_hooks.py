"""Module backward hooks, as PyTorch's ``register_full_backward_hook`` and
``register_full_backward_pre_hook`` (``torch.utils.hooks.BackwardHook``): see the gradients with
respect to a layer's outputs and inputs while ``backward()`` runs (a layer's δ and what it sends
back), and replace them if wanted.

As PyTorch, the tensors among the module's positional arguments, and among its output (a tensor or
a tuple), pass through an identity operation, ``BackwardHookFunction``, whose backward is where the
hooks run:

- the outputs' node receives ∂L/∂output first: the pre-hooks ``hook(module, grad_output)`` run
  there (and may return a replacement);
- the inputs' node receives ∂L/∂input: the hooks ``hook(module, grad_input, grad_output)`` run there
  (and may return a replacement grad_input). When no input requires grad, the hooks run as soon as
  grad_output is known, with grad_input all None (and may only return None).

``grad_input`` has one entry per positional argument (None for one that is no tensor; zeros for a
tensor that does not require grad or that forward left unused), ``grad_output`` one per output
(None for an entry of the returned tuple that is no tensor, or an output no gradient reached). The
hooks are those registered when forward ran.
"""
import warnings

from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.tensor import Tensor, tensor_from_array
from chainrule.utils import hooks as hooks_module


class BackwardHookFunction(Function):
    """The identity on ``tensors``, whose backward hands the arriving gradients to ``on_gradients``
    (which returns the gradients to pass on).

    Its outputs are views of its inputs, as PyTorch's: changing one in place with the change
    recorded (``nn.ReLU(inplace=True)`` on a hooked module's input or output) would bypass the
    hooks, and raises RuntimeError. An input that does not require grad gives an output that does
    not either. With ``materialize_grads`` an output no gradient reached gets zeros (the inputs'
    side: PyTorch's grad_input), else None (the outputs' side: grad_output)."""

    # A change in place of one of its views would put the view's history around the hooks.
    views_refuse_in_place = True

    @staticmethod
    def forward(ctx, on_gradients, materialize_grads, *tensors):
        ctx.on_gradients = on_gradients
        ctx.set_materialize_grads(materialize_grads)
        views = tuple(tensor_from_array(tensor._array[...]) for tensor in tensors)  # [...]: a view of all of it
        ctx.mark_non_differentiable(*(view for view, tensor in zip(views, tensors) if not tensor.requires_grad))
        return views

    @staticmethod
    def backward(ctx, *grads):
        return (None, None, *ctx.on_gradients(grads))


class BackwardHooks:
    """One forward call's backward hooks (``hooks`` and ``pre_hooks``, lists fixed when the call
    began): wraps its inputs and output, then runs the hooks during backward."""

    def __init__(self, module, hooks, pre_hooks):
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.grad_output = None  # set by the outputs' node, used (and cleared) by the inputs' node
        self.input_count = 0
        self.input_positions = None  # where the tensors are among the arguments; None: not wrapped
        self.output_count = 0
        self.output_positions = None

    def wrap_inputs(self, args):
        """``args`` with their tensors passed through the identity whose backward runs the hooks."""
        self.input_count = len(args)
        args, self.input_positions = _through_identity(args, self.on_input_gradients, True)
        return args

    def wrap_outputs(self, output):
        """``output`` (a tensor, or a tuple of them) through the identity that sees ∂L/∂output. Any
        other output (a list, a dict) is left as it is, with PyTorch's warning: the hooks will not
        run."""
        if not isinstance(output, (Tensor, tuple)):
            warnings.warn(
                "For backward hooks to be called, module output should be a Tensor or a tuple of Tensors but "
                f"received {type(output)}",
                UserWarning,
                stacklevel=4,
            )
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        self.output_count = len(outputs)
        outputs, self.output_positions = _through_identity(outputs, self.on_output_gradients, False)
        return outputs[0] if single else outputs

    def on_output_gradients(self, grads):
        """The outputs' backward: grad_output through the pre-hooks; when no input requires grad,
        the hooks run here too."""
        grad_output = _placed(self.output_positions, grads, self.output_count)
        for hook in self.pre_hooks:
            replacement = hook(self.module, grad_output)
            if replacement is not None:
                grad_output = _checked(replacement, grad_output, "Backward pre hook", "grad_output")
        self.grad_output = grad_output
        if self.input_positions is None:  # no gradient flows to the inputs: the hooks run now
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to module outputs since no "
                "inputs require gradients. See https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                "#torch.nn.Module.register_full_backward_hook for more details.",
                UserWarning,
                stacklevel=2,
            )
            grad_input = (None,) * self.input_count
            for hook in self.hooks:
                replacement = hook(self.module, grad_input, grad_output)
                if replacement is not None and not (isinstance(replacement, tuple) and all(each is None for each in replacement)):
                    raise RuntimeError(
                        f"Backward hook for Modules where no input requires gradient should always return None or "
                        f"None for all gradients: the hook {getattr(hook, '__qualname__', hook)!r} of "
                        f"{type(self.module).__name__} returned {type(replacement).__name__}. Return None."
                    )
            self.grad_output = None
        return tuple(grad_output[position] for position in self.output_positions)

    def on_input_gradients(self, grads):
        """The inputs' backward: grad_input through the hooks, once grad_output is known (it is not
        when the gradient reached the inputs without passing the outputs: a double backward, or an
        output that was no tensor or tuple; then no hook runs, as in PyTorch)."""
        if self.grad_output is None:
            return grads
        grad_input = _placed(self.input_positions, grads, self.input_count)
        for hook in self.hooks:
            replacement = hook(self.module, grad_input, self.grad_output)
            if replacement is not None:
                grad_input = _checked(replacement, grad_input, "Backward hook", "grad_input")
        self.grad_output = None
        return tuple(grad_input[position] for position in self.input_positions)


class BackwardHook(BackwardHooks):
    """PyTorch's ``torch.utils.hooks.BackwardHook(module, user_hooks, user_pre_hooks)``, which tools
    that reimplement a module's call use: ``args = hook.setup_input_hook(args)`` before forward,
    ``result = hook.setup_output_hook(result)`` after; the full backward hooks and pre-hooks then run
    during backward as for ``register_full_backward_hook`` (above)."""

    def setup_input_hook(self, args):
        return self.wrap_inputs(args)

    def setup_output_hook(self, args):
        return self.wrap_outputs(args)


# Its name in torch.utils.hooks, whose registries the tensors these hooks are built on use (so that
# module cannot import this one)
hooks_module.BackwardHook = BackwardHook


def _through_identity(values, on_gradients, materialize_grads):
    """``(values, positions)``: the tuple ``values`` with its tensors replaced by their views out of
    one ``BackwardHookFunction`` whose backward calls ``on_gradients``, and the positions of those
    tensors; ``(values, None)`` as they are when grad mode is off or no tensor requires grad."""
    positions = [position for position, value in enumerate(values) if isinstance(value, Tensor)]
    if not (is_grad_enabled() and any(values[position].requires_grad for position in positions)):
        return values, None
    views = BackwardHookFunction.apply(on_gradients, materialize_grads, *(values[position] for position in positions))
    replaced = list(values)
    for position, view in zip(positions, views):
        if values[position].requires_grad:  # (one that does not stays itself, as PyTorch's non-differentiable view reads)
            replaced[position] = view
    if type(values) is tuple:
        return tuple(replaced), positions
    return (type(values)(*replaced) if isinstance(values, tuple) else replaced), positions  # a namedtuple; a list


def _placed(positions, values, count):
    """A tuple of ``count`` entries: ``values`` at ``positions``, None elsewhere."""
    placed = [None] * count
    for position, value in zip(positions, values):
        placed[position] = value
    return tuple(placed)


def _checked(replacement, original, kind, name):
    """A hook's ``replacement`` for ``original`` as a tuple, refused when its length differs."""
    replacement = tuple(replacement) if isinstance(replacement, (tuple, list)) else (replacement,)
    if len(replacement) != len(original):
        raise RuntimeError(
            f"{kind} returned an invalid number of {name}, got {len(replacement)}, but expected {len(original)}: "
            f"return a tuple with one entry per entry of {name}"
        )
    return replacement
