"""``torch.func.vjp``, ``jvp`` and ``linearize``: the products of a function's Jacobian J with a vector.

``vjp(f, *primals)`` returns ``(f(primals), vjp_fn)``; ``vjp_fn(v)`` is vᵀ J, one gradient per
primal, as a tuple. ``jvp(f, primals, tangents)`` returns ``(f(primals), J t)``, computed by the
double-backward trick (PyTorch uses forward-mode AD; the values are the same): g(u) = uᵀ J is
linear in a dummy cotangent u, so the gradient of g · t with respect to u is J t.
"""
from chainrule.autograd.backward_pass import grad as autograd_grad
from chainrule.autograd.grad_mode import is_grad_enabled, transform_recording
from chainrule.func.linearized import Linearized
from chainrule.utils._pytree import tree_flatten as flatten
from chainrule.utils._pytree import treespec_pprint
from chainrule.utils._pytree import tree_unflatten as unflatten
from chainrule.tensor import Tensor


def vjp(func, *primals, has_aux=False):
    """``(output, vjp_fn)`` (and ``aux`` with ``has_aux``); ``vjp_fn(cotangents)`` can be called
    any number of times, with cotangents structured as the output."""
    every_primal = tuple(range(len(primals)))
    run = Linearized(func, primals, {}, every_primal, has_aux, "vjp")

    def vjp_fn(cotangents):
        leaves, spec = flatten(cotangents)
        if spec != run.output_spec:
            raise RuntimeError(
                f"Expected pytree structure of cotangents to be the same as pytree structure of "
                f"outputs to the function. cotangents: {treespec_pprint(spec)}, primal output: {treespec_pprint(run.output_spec)}"
            )
        run.keep_graphs = is_grad_enabled()  # the grad mode vjp_fn is called in decides, as PyTorch's create_graph
        return run.release(run.per_argument(run.pullback(leaves), every_primal))

    output = run.release(run.output)
    return (output, vjp_fn, run.release(run.aux)) if has_aux else (output, vjp_fn)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(f(*primals), J tangents)`` (and ``aux`` with ``has_aux``); ``primals`` and ``tangents``
    are tuples of the same structure."""
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    tangent_leaves = _checked_tangents(primals, tangents, "jvp(f, primals, tangents)")
    run = Linearized(func, primals, {}, tuple(range(len(primals))), has_aux, "jvp")
    if strict and not all(output.requires_grad for output in run.outputs):
        raise RuntimeError(
            "jvp(f, primals, tangents, strict=True): The output of f is independent of the inputs. "
            "This is not allowed with strict=True."
        )
    product = Pushforward(run)(tangent_leaves, create_graph=True)
    output = run.release(run.output)
    return (output, product, run.release(run.aux)) if has_aux else (output, product)


def linearize(func, *primals):
    """``(func(*primals), jvp_fn)``: ``jvp_fn(*tangents)`` is J · tangents, J the Jacobian of
    ``func`` at ``primals``: the linear function closest to ``func`` near them. The forward pass
    and one differentiable backward are recorded once and kept; each call of ``jvp_fn`` runs one
    backward more through them, no forward."""
    run = Linearized(func, primals, {}, tuple(range(len(primals))), False, "linearize")
    pushforward = Pushforward(run)

    def jvp_fn(*tangents):
        return pushforward(_linearize_tangents(primals, tangents), create_graph=False)

    return run.release(run.output), jvp_fn


class Pushforward:
    """t -> J t for a ``Linearized`` run, by the double-backward trick: g(u) = uᵀ J is recorded once
    for a dummy cotangent u (linear in u), and the gradient of g · t with respect to u is J t."""

    def __init__(self, run):
        self.run = run
        self.dummies = [output.new_zeros(output.shape, requires_grad=True) for output in run.outputs]
        run.own(self.dummies)
        self.transposed = [part for part in run.pullback(self.dummies) if part is not None]

    def __call__(self, tangent_leaves, create_graph):
        with transform_recording():
            used = [(part, tangent) for part, tangent in zip(self.transposed, tangent_leaves) if part.requires_grad]
            products = [None] * len(self.dummies)
            if used:
                parts, seeds = zip(*used)
                products = autograd_grad(parts, self.dummies, seeds, retain_graph=True, create_graph=create_graph, allow_unused=True)
        products = [dummy.new_zeros(dummy.shape) if product is None else product for dummy, product in zip(self.dummies, products)]
        return self.run.release(unflatten(products, self.run.output_spec))


def _checked_tangents(primals, tangents, name):
    """``jvp``'s tangents' tensors, checked to have the primals' structure and shapes."""
    tangent_leaves, tangent_spec = flatten(tangents)
    primal_leaves, primal_spec = flatten(primals)
    if not isinstance(tangents, tuple) or tangent_spec != primal_spec:
        raise RuntimeError(
            f"{name}: Expected primals and tangents to have the same python structure. For example, if "
            f"primals is a tuple of 3 tensors, tangents also must be. Got primals with structure "
            f"{treespec_pprint(primal_spec)} and tangents with structure {treespec_pprint(tangent_spec)}"
        )
    for what, leaves in (("primals", primal_leaves), ("tangents", tangent_leaves)):
        if not leaves:
            raise RuntimeError(f"{name}: Expected {what} to contain at least one Tensor.")
        for leaf in leaves:
            if not isinstance(leaf, Tensor):
                raise RuntimeError(f"{name}: Expected {what} to only contain Tensors, got {type(leaf)}")
    for primal, tangent in zip(primal_leaves, tangent_leaves):
        if tuple(primal.shape) != tuple(tangent.shape):
            raise RuntimeError(
                f"Trying to set a forward gradient that has a different size than that of the "
                f"original Tensor, this is not supported. Tensor is of size {list(primal.shape)} "
                f"while the given forward gradient is of size {list(tangent.shape)}."
            )
    return tangent_leaves


def _linearize_tangents(primals, tangents):
    """``linearize``'s jvp_fn's tangents' tensors, checked to match the primals one by one."""
    tangent_leaves, tangent_spec = flatten(tangents)
    primal_leaves, primal_spec = flatten(primals)
    if tangent_spec != primal_spec:
        raise RuntimeError(
            f"Expected the tangents {treespec_pprint(tangent_spec)} to have the same argspec as the primals {treespec_pprint(primal_spec)}"
        )
    for index, (primal, tangent) in enumerate(zip(primal_leaves, tangent_leaves)):
        for what, wanted, given in (("shape", primal.shape, tangent.shape), ("dtype", primal.dtype, tangent.dtype)):
            if wanted != given:
                raise RuntimeError(
                    f"tangent:{index} with {what} {given} in flattened pytree doesn't match the {what} {wanted} "
                    f"of the corresponding primal."
                )
    return tangent_leaves
