"""A function run once with its chosen arguments ready to differentiate: what every ``torch.func``
transform but vmap builds on.

PyTorch's transforms run at "levels", so that ``grad(grad(f))`` differentiates the inner gradient
and a gradient returned to plain code is a plain tensor. Here each transform differentiates with
``autograd.grad(create_graph=True)`` with respect to its own fresh copies of the arguments (an
argument already in an outer transform's graph is aliased, so the outer transform still sees it),
and ``release`` detaches a result unless it depends on a tensor outside this transform that requires
grad: an outer transform's argument or a model parameter, with grad mode on where the transform was
called. That reproduces what the levels give for nested transforms.
"""
from chainrule.autograd.backward_pass import grad as autograd_grad
from chainrule.autograd.graph_leaves import reachable_leaves
from chainrule.autograd.grad_mode import is_grad_enabled, transform_recording
from chainrule.func.custom_functions import transforming
from chainrule.overrides import DisableTorchFunctionSubclass
from chainrule.utils._pytree import tree_flatten as flatten
from chainrule.utils._pytree import tree_unflatten as unflatten
from chainrule.tensor import Tensor


#: The transforms PyTorch computes in forward mode, and those in reverse mode that check outputs
#: (``grad`` checks its own), each with how PyTorch names the call in its errors.
FORWARD_MODE = {"jvp": "jvp(f, primals, tangents)", "jacfwd": "jvp(f, primals, tangents)", "linearize": None}
REVERSE_MODE = {"vjp": "vjp(f, *primals)", "jacrev": "vjp(f, *primals)"}


def _check_primal(leaf):
    """Forward mode differentiates floating-point primals only (ValueError, as PyTorch)."""
    if isinstance(leaf, Tensor) and not (leaf.is_floating_point() or leaf.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: {leaf.dtype}")


def _check_aux(aux):
    """``has_aux``'s aux must be tensors, in any nesting of tuples, lists and dicts."""
    for leaf in flatten(aux)[0]:
        if not isinstance(leaf, Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {type(leaf)}")


def _check_outputs(outputs, name):
    """PyTorch's refusals of an output: none, not a tensor, or (in reverse mode) not floating point."""
    call = FORWARD_MODE.get(name) or REVERSE_MODE.get(name)
    if call is None:
        return
    if not outputs or outputs == [None]:
        raise RuntimeError(f"{call}: Expected f to be a function that has non-empty output (got output = {outputs})")
    for output in outputs:
        if not isinstance(output, Tensor):
            raise RuntimeError(f"{call}: expected f(*primals) to return only tensors, got unsupported type {type(output)}")
        if name in REVERSE_MODE and not (output.is_floating_point() or output.is_complex()):
            raise RuntimeError(
                f"vjp(f, ...): All outputs of f must be floating-point or complex Tensors, got Tensor with dtype {output.dtype}"
            )


def _prepared(leaf):
    if not isinstance(leaf, Tensor):
        return leaf
    if leaf.requires_grad:
        return leaf.view_as(leaf)
    return (leaf.clone() if leaf.is_inference() else leaf.detach()).requires_grad_()


def check_argnums(argnums, count, name):
    """``argnums`` as a tuple of positions, with PyTorch's errors for a bad one."""
    positions = argnums if isinstance(argnums, tuple) else (argnums,)
    if isinstance(argnums, tuple) and not argnums:
        raise RuntimeError("argnums must be non-empty")
    for position in positions:
        if not isinstance(position, int):
            raise RuntimeError(f"{name}: argnums must be int or Tuple[int, ...], got: {type(argnums)}")
        if not -count <= position < count:
            raise RuntimeError(
                f"Got argnum={position}, but only {count} positional inputs"
            )
    positions = tuple(position % count for position in positions)
    if len(set(positions)) != len(positions):
        raise RuntimeError(f"argnums elements must be unique, got {positions}")
    return positions


def check_real(tensors, name, what):
    """``jacrev`` and ``jacfwd`` differentiate real functions only (PyTorch's RuntimeError)."""
    for index, tensor in enumerate(flatten(tensors)[0]):
        if isinstance(tensor, Tensor) and tensor.is_complex():
            raise RuntimeError(f"{name}: Expected all {what} to be real but received complex tensor at flattened input idx: {index}")


class Linearized:
    """``func(*args, **kwargs)`` evaluated with ``args[argnums]`` made differentiable.

    ``outputs`` are the output's tensors (``output_spec`` its structure), ``aux`` what ``has_aux``
    split off, ``inputs`` the differentiable argument tensors, ``input_specs`` one structure per
    chosen argument.
    """

    def __init__(self, func, args, kwargs, argnums, has_aux, name):
        self.keep_graphs = is_grad_enabled()
        self.name = name
        positions = check_argnums(argnums, len(args), name)
        args = list(args)
        self.input_specs, self.inputs = [], []
        with transform_recording():
            for position in positions:
                leaves, spec = flatten(args[position])
                if name in FORWARD_MODE:
                    for leaf in leaves:
                        _check_primal(leaf)
                leaves = [_prepared(leaf) for leaf in leaves]
                args[position] = unflatten(leaves, spec)
                self.input_specs.append((len(leaves), spec))
                self.inputs.extend(leaves)
            with transforming("jvp" if name in FORWARD_MODE else "grad"):
                output = func(*args, **kwargs)
        self.aux = None
        if has_aux:
            if not (isinstance(output, tuple) and len(output) == 2):
                call = FORWARD_MODE.get(name) or REVERSE_MODE.get(name) or f"{name}(f)(*args)"
                raise RuntimeError(f"{call}: output of function f should be a tuple: (output, aux) if has_aux is True")
            output, self.aux = output
            _check_aux(self.aux)
        self.output = output
        self.outputs, self.output_spec = flatten(output)
        _check_outputs(self.outputs, name)
        self.own_leaves = {id(leaf) for leaf in self.inputs if isinstance(leaf, Tensor) and leaf.grad_fn is None}

    def pullback(self, cotangents):
        """vᵀ J: one gradient per input tensor (zeros where unused), for output cotangents ``v``
        (None for an output that contributes nothing)."""
        pairs = [
            (output, cotangent) for output, cotangent in zip(self.outputs, cotangents)
            if cotangent is not None and output.requires_grad
        ]
        differentiable = [leaf for leaf in self.inputs if isinstance(leaf, Tensor)]
        gradients = [None] * len(differentiable)
        if pairs:
            with transform_recording(), DisableTorchFunctionSubclass():  # PyTorch's transforms hand no subclass this call
                outputs, seeds = zip(*pairs)
                gradients = autograd_grad(outputs, differentiable, seeds, retain_graph=True, create_graph=True, allow_unused=True)
        gradients = iter(
            leaf.new_zeros(leaf.shape) if gradient is None else gradient
            for leaf, gradient in zip(differentiable, gradients)
        )
        return [next(gradients) if isinstance(leaf, Tensor) else None for leaf in self.inputs]

    def own(self, tensors):
        """Count ``tensors`` (dummy leaves made by the transform) as this transform's own."""
        self.own_leaves.update(id(tensor) for tensor in tensors)

    def release(self, tree):
        """``tree`` with every tensor detached unless it depends on a tensor outside this transform."""
        leaves, spec = flatten(tree)
        return unflatten([self._released(leaf) for leaf in leaves], spec)

    def _released(self, value):
        if not isinstance(value, Tensor) or not value.requires_grad:
            return value
        if self.keep_graphs and any(id(leaf) not in self.own_leaves for leaf in reachable_leaves([value])):
            return value
        return value.detach()

    def per_argument(self, values, argnums):
        """Per-input-tensor ``values`` regrouped as the chosen arguments: one structure, or a tuple
        of them when ``argnums`` is a tuple."""
        grouped, start = [], 0
        for count, spec in self.input_specs:
            grouped.append(unflatten(values[start:start + count], spec))
            start += count
        return tuple(grouped) if isinstance(argnums, tuple) else grouped[0]
