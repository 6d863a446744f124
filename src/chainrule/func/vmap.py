"""``torch.func.vmap``: a function of one example, applied to a whole batch.

``vmap(f)(xs)`` is ``stack([f(x) for x in xs])``: chainrule runs ``f`` once per batch element, in
a Python loop, and stacks the results (PyTorch instead rewrites every operation to work on the whole
batch at once). The results and their gradients are the same; only the speed differs.

``in_dims`` says which dimension of each argument is the batch (None: not batched, passed whole to
every call), as an int for all arguments or a tuple with one entry per argument (nested like the
argument for tuples, lists and dicts); ``out_dims`` says where the batch dimension goes in each
output (None: the output is not batched, the same for every element). ``randomness``:
``"different"`` draws new random numbers for each element, ``"same"`` the same numbers for every
element, ``"error"`` (PyTorch's default) refuses a draw from the global generator with PyTorch's
RuntimeError (raised once the element's call returns: the stream has moved on by then).
A custom ``autograd.Function`` needs vmap support, as in PyTorch (see ``custom_functions.py``).

What a loop cannot see, it checks by the results: PyTorch refuses to write a batched value in place
into an unbatched tensor, and here a write into an unbatched argument happens once per element, so
it is refused when two elements write different values. A batch of size 0 runs ``f`` once on
zeros, to learn the shapes of the (empty) results. ``.item()`` or ``bool()`` of a per-element
tensor works here, where PyTorch refuses it: a loop's elements are plain tensors.
"""
import contextlib
import functools

from chainrule.backend import xp
from chainrule.func.custom_functions import transforming
from chainrule.mersenne_twister import changes_so_far
from chainrule.nn import normalization
from chainrule.ops.join import stack
from chainrule.random import get_rng_state, set_rng_state
from chainrule.tensor import Tensor
from chainrule.utils._pytree import broadcast_to_and_flatten, tree_structure
from chainrule.utils._pytree import tree_flatten as flatten
from chainrule.utils._pytree import tree_unflatten as unflatten

RANDOMNESS = ("error", "different", "same")


def _name(func):
    return getattr(func, "__name__", repr(func))


def _dims_per_leaf(args, in_dims, func):
    """One batch dimension (or None) per leaf of ``args``, with PyTorch's ValueErrors: ``in_dims``
    is a prefix of the arguments' tree (an int or None stands for a whole subtree)."""
    prefix = f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>)"
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(
            f"{prefix}: expected `in_dims` to be int or a (potentially nested) tuple matching the "
            f"structure of inputs, got: {type(in_dims)}."
        )
    if not args:
        raise ValueError(
            f"vmap({_name(func)})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are trying "
            f"to vmap over a function with no inputs. The latter is unsupported."
        )
    args_spec = tree_structure(args)
    dims = broadcast_to_and_flatten(in_dims, args_spec)
    if dims is None:
        raise ValueError(
            f"{prefix}: in_dims is not compatible with the structure of `inputs`. in_dims has structure "
            f"{tree_structure(in_dims)} but inputs has structure {args_spec}."
        )
    for dim in dims:
        if dim is not None and not isinstance(dim, int):
            raise ValueError(f"{prefix}: Got in_dim={dim} for an input but in_dim must be either an integer dimension or None.")
    return dims


def _checked_dim(leaf, dim, func, in_dims):
    if dim is None:
        return None
    prefix = f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>)"
    if not isinstance(leaf, Tensor):
        raise ValueError(
            f"{prefix}: Got in_dim={dim} for an input but the input is of type {type(leaf)}. We cannot "
            f"vmap over non-Tensor arguments, please use None as the respective in_dim"
        )
    rank = leaf.dim()
    if not -rank <= dim < rank:
        raise ValueError(
            f"{prefix}: Got in_dim={dim} for some input, but that input is a Tensor of "
            f"dimensionality {rank} so expected in_dim to satisfy -{rank} <= in_dim < {rank}."
        )
    return dim % rank


def check_randomness(randomness):
    if randomness not in RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")


@contextlib.contextmanager
def random_draws_checked(randomness):
    """The block, then PyTorch's RuntimeError if it drew from any generator (the global one or
    one passed as ``generator=``) while ``randomness`` is "error" (a random factory, dropout in
    training)."""
    before = changes_so_far()
    yield
    if randomness == "error" and changes_so_far() != before:
        raise RuntimeError(
            "vmap: called random operation while in randomness error mode. Please either use the 'same' or "
            "'different' randomness flags on vmap or perform the randomness operation out of vmap"
        )


class _UnbatchedInputs:
    """The tensor arguments passed whole to every element (``in_dims`` None), watched for writes in
    place: each element's call writes again, which gives what PyTorch's single write gives only
    if every element writes the same values. Other writes are refused with PyTorch's error for a
    batched value written into an unbatched tensor (once two elements' writes differ: the tensor
    keeps what they wrote, where PyTorch refuses before writing)."""

    def __init__(self, tensors):
        self.tensors = tensors
        self.versions = [tensor._version for tensor in tensors]
        self.first_written = {}  # position -> the values the first writing element left

    def check(self):
        for position, tensor in enumerate(self.tensors):
            if tensor._version == self.versions[position]:
                continue
            self.versions[position] = tensor._version
            first = self.first_written.get(position)
            if first is None:
                self.first_written[position] = tensor._array.copy()
            elif not xp.array_equal(first, tensor._array):
                raise RuntimeError(
                    "vmap: inplace arithmetic(self, *extra_args) is not possible because there exists a Tensor "
                    "`other` in extra_args that has more elements than `self`. This happened due to `other` being "
                    "vmapped over but `self` not being vmapped over in a vmap. Please try to use out-of-place "
                    "operators instead of inplace arithmetic."
                )


def _sample(leaf, dim, element, size):
    """The ``element``-th slice of ``leaf`` along ``dim``; zeros of a slice's shape when the batch is empty."""
    if dim is None:
        return leaf
    if size == 0:
        return leaf.new_zeros(leaf.shape[:dim] + leaf.shape[dim + 1:])
    return leaf.select(dim, element)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``f -> batched f``: ``f`` run on each slice along ``in_dims``, results stacked at ``out_dims``."""
    check_randomness(randomness)
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def batched(*args, **kwargs):
        if any(dim is not None and not isinstance(dim, int) for dim in flatten(out_dims)[0]):
            raise ValueError(
                f"vmap({_name(func)}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a python collection "
                f"of ints representing where in the outputs the vmapped dimension should appear."
            )
        leaves, spec = flatten(args)
        dims = [_checked_dim(leaf, dim, func, in_dims) for leaf, dim in zip(leaves, _dims_per_leaf(args, in_dims, func))]
        sizes = [leaf.shape[dim] for leaf, dim in zip(leaves, dims) if dim is not None]
        if not sizes:
            raise ValueError("vmap: Expected at least one Tensor to vmap over")
        if len(set(sizes)) > 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes {sizes} for the mapped dimension")
        size = sizes[0]
        unbatched = _UnbatchedInputs([leaf for leaf, dim in zip(leaves, dims) if dim is None and isinstance(leaf, Tensor)])
        state = get_rng_state() if randomness == "same" else None
        results = []
        for element in range(max(size, 1)):
            if state is not None:
                set_rng_state(state)
            sliced = [_sample(leaf, dim, element, size) for leaf, dim in zip(leaves, dims)]
            with transforming("vmap", randomness), random_draws_checked(randomness):
                results.append(func(*unflatten(sliced, spec), **kwargs))
            unbatched.check()
        return _stacked(results, out_dims, func, size)

    return batched


def _stacked(results, out_dims, func, size):
    """The per-element outputs stacked leaf by leaf, each at its ``out_dims`` entry (``size``
    elements: none when the batch is empty, though ``results`` holds one)."""
    flat_results = [flatten(result) for result in results]
    output_leaves, output_spec = flat_results[0]
    if isinstance(results[0], Tensor):  # PyTorch's edge case: out_dims (d,) for one tensor
        dims = [out_dims[0]] if isinstance(out_dims, tuple) and len(out_dims) == 1 else [out_dims]
        if not (dims[0] is None or isinstance(dims[0], int)):
            dims = None
    else:
        dims = broadcast_to_and_flatten(out_dims, output_spec)
    if dims is None:
        raise ValueError(
            f"vmap({_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with the structure of "
            f"`outputs`. out_dims has structure {tree_structure(out_dims)} but outputs has structure {output_spec}."
        )
    stacked = []
    for position, dim in enumerate(dims):
        first = output_leaves[position]
        if dim is None:
            if isinstance(first, Tensor) and not all(_same(first, leaves[position]) for leaves, _ in flat_results):
                raise ValueError(f"vmap({_name(func)}, ...): `{_name(func)}` can not return a BatchedTensor when out_dim is None")
            stacked.append(first)
            continue
        if not isinstance(first, Tensor):
            raise ValueError(
                f"vmap({_name(func)}, ...): `{_name(func)}` must only return Tensors, got type "
                f"{type(first)}. Did you mean to set out_dims= to None for output?"
            )
        batch = stack([leaves[position] for leaves, _ in flat_results], dim=dim)
        stacked.append(batch if size else batch.narrow(dim, 0, 0))
    return unflatten(stacked, output_spec)


def _same(tensor, other):
    """Whether two elements' outputs hold the same values: an output that differs between elements
    is batched (one that does not may be too, as PyTorch sees, but a loop cannot tell)."""
    return isinstance(other, Tensor) and tensor.shape == other.shape and bool(xp.array_equal(tensor._array, other._array))


def replace_all_batch_norm_modules_(root):
    """Make every batch norm in ``root`` (BatchNorm1d, 2d, 3d) keep no running statistics, in
    place: ``running_mean``, ``running_var`` and ``num_batches_tracked`` become None and
    ``track_running_stats`` False, so that under ``vmap`` each call normalizes with the statistics
    of its own batch instead of updating statistics the calls would share. Returns ``root``."""
    for module in root.modules():
        if isinstance(module, normalization._BatchNorm):  # every batch norm, as PyTorch checks
            module.running_mean = module.running_var = module.num_batches_tracked = None
            module.track_running_stats = False
    return root
