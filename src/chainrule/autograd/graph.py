"""``chainrule.autograd.graph``, as ``torch.autograd.graph``: the graph's nodes and edges, and hooks
on what the nodes save for backward.

What a node saves is the memory a graph holds between forward and backward: for a network, the
activations of every layer. ``saved_tensors_hooks(pack_hook, unpack_hook)`` lets you see and move
that memory: every tensor a node saves while the block runs goes through ``pack_hook`` (which
may return anything: the tensor, a copy, a file name), and ``unpack_hook`` turns that back into the
tensor when backward needs it::

    def pack(tensor):
        print("saved for backward:", tuple(tensor.shape))
        return tensor

    with chainrule.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = model(x).square().mean()     # one line per tensor saved
    loss.backward()                         # unpacked as each node's backward runs

Under the hooks chainrule saves what its operations need (the same values PyTorch's save, though
an operation may save a mask where PyTorch saves the input), and, as in PyTorch, does not check
that a tensor given to ``pack_hook`` is unchanged when it is unpacked: the hook owns it.
"""
import contextlib
import weakref

from chainrule.autograd import function as _function
from chainrule.autograd.engine import BackwardPass
from chainrule.autograd.function import BackwardNode, GradientEdge, gradient_edge
from chainrule.tensor import Tensor

#: Every node of the graph (each ``grad_fn``, and a leaf's ``AccumulateGrad``) is one:
#: ``isinstance(y.grad_fn, Node)``.
Node = BackwardNode

__all__ = [
    "GradientEdge",
    "allow_mutation_on_saved_tensors",
    "Node",
    "disable_saved_tensors_hooks",
    "get_gradient_edge",
    "increment_version",
    "register_multi_grad_hook",
    "save_on_cpu",
    "saved_tensors_hooks",
]


def get_gradient_edge(tensor):
    """The edge a gradient of ``tensor`` enters the graph through: its ``grad_fn`` and which of its
    outputs the tensor is, or for a leaf requiring grad its ``AccumulateGrad`` node."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"get_gradient_edge(): expected a Tensor, got {type(tensor).__name__}")
    if tensor.grad_fn is None and not tensor.requires_grad:
        raise RuntimeError(
            "It is not possible to get the gradient edge for a Tensor that does not require gradients; "
            "set requires_grad=True on it (or on what it is computed from) first"
        )
    return GradientEdge(*gradient_edge(tensor))


def increment_version(tensor):
    """Mark ``tensor`` as changed in place (as an in-place operation does), so that a node that saved
    it refuses to run backward on the old values. Takes a tensor or an iterable of tensors."""
    for each in [tensor] if isinstance(tensor, Tensor) else tensor:
        each._version_owner._version_count += 1


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """Call ``fn`` once per backward pass about several tensors: with ``mode="all"``, after every
    gradient of ``tensors`` that the pass computes has been computed, as ``fn(grads)`` (a list, None
    for a tensor the pass does not reach); with ``mode="any"``, at the first of them, as
    ``fn(grad)``. Returns a handle whose ``remove()`` takes the hook off."""
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    state = {"pass": None}

    def hook_for(position):
        def hook(grad):
            current = BackwardPass.current
            if state["pass"] != current.number:  # the first of this pass's gradients
                state.update({"pass": current.number, "grads": [None] * len(tensors), "done": False})
            if state["done"]:
                return
            if mode == "any":
                state["done"] = True
                fn(grad)
                return
            state["grads"][position] = grad
            reached = [current.reaches(gradient_edge(tensor)[0]) for tensor in tensors if tensor.requires_grad]
            if sum(grad is not None for grad in state["grads"]) == sum(reached):
                state["done"] = True
                fn(list(state["grads"]))

        return hook

    return _Handles([tensor.register_hook(hook_for(position)) for position, tensor in enumerate(tensors) if tensor.requires_grad])


class _Handles:
    """The handles of several hooks, removed together."""

    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        for handle in self.handles:
            handle.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.remove()


class saved_tensors_hooks:  # noqa: N801 (PyTorch's name)
    """Within the block, every tensor a node saves for backward is ``pack_hook(tensor)``, and
    backward reads ``unpack_hook(packed)``, which must return a tensor of the saved one's shape.

    The hooks in force when a tensor is saved are the ones used for it, whenever it is unpacked;
    blocks nest, the innermost pair applying.
    """

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _function._saved_tensors_hooks_disabled is not None:
            raise RuntimeError(_function._saved_tensors_hooks_disabled)
        _function._saved_tensors_hooks.append((self.pack_hook, self.unpack_hook))

    def __exit__(self, *exception):
        _function._saved_tensors_hooks.pop()


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 (PyTorch's name)
    """Keep every saved tensor on the CPU, moving it back to its device for backward: a GPU run's
    activations then wait in main memory. chainrule computes on the CPU, so they stay where they
    are (``pin_memory`` and ``device_type`` change nothing)."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        super().__init__(lambda tensor: (tensor.device, tensor.cpu()), lambda packed: packed[1].to(packed[0]))


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message):
    """Within the block, entering ``saved_tensors_hooks`` raises RuntimeError(``error_message``), for
    code that cannot run with them; entering it while such hooks are in force raises that error too.
    Also a decorator, as PyTorch's."""
    previous = _function._saved_tensors_hooks_disabled
    try:
        _function._saved_tensors_hooks_disabled = error_message
        if _function._saved_tensors_hooks:
            raise RuntimeError(error_message)
        yield
    finally:
        _function._saved_tensors_hooks_disabled = previous


class _SavedCopy:
    """What ``allow_mutation_on_saved_tensors`` packs for one saved tensor: a copy of its values (the
    unpacked copy is given the tensor's place in the graph, as every unpacked value is)."""

    __slots__ = ("copy", "__weakref__")

    def __init__(self, tensor):
        self.copy = tensor.detach().clone()


class _AllowMutationOnSavedContext:
    """The state of one ``allow_mutation_on_saved_tensors`` block: the copies it packed, dropped when
    the block ends (a backward of its graph outside the block then raises)."""

    def __init__(self):
        self.packed = weakref.WeakSet()

    def clear(self):
        for saved in self.packed:
            saved.copy = None
        self.packed.clear()


_mutation_allowed = False


@contextlib.contextmanager
def allow_mutation_on_saved_tensors():
    """Within the block, a tensor saved for backward may be changed in place: backward uses the values
    it had when it was saved (without the block, backward raises, since it would compute with the
    new ones). Run both the forward and the backward inside the block.

    PyTorch copies a saved tensor when it is changed; chainrule, which cannot see a change coming,
    keeps a copy of each one as it is saved: the gradients are the same, the memory the graph holds
    is at most doubled. Yields the block's state (for debugging, as PyTorch's)."""
    global _mutation_allowed
    context = _AllowMutationOnSavedContext()

    def pack(tensor):
        saved = _SavedCopy(tensor)
        context.packed.add(saved)
        return saved

    def unpack(saved):
        if not _mutation_allowed or saved.copy is None:
            raise AssertionError(
                "Trying to backward outside of the 'allow_mutation_on_saved_tensors' context in which the graph was "
                "originally recorded: run the backward inside the block too."
            )
        return saved.copy

    with saved_tensors_hooks(pack, unpack):
        try:
            if _mutation_allowed:
                raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
            _mutation_allowed = True
            yield context
        finally:
            context.clear()
            _mutation_allowed = False
