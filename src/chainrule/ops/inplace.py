"""In-place operations (``x.add_(y)``, ``x += y``, ``x[0].mul_(2)``): PyTorch's rules for writing
into a tensor that the graph may still need.

Each in-place method computes its out-of-place operation and writes the result into the tensor's
own array (``write_in_place``). Outside ``no_grad`` the change is recorded: the tensor becomes the
result of the operation in the graph, and its version counter goes up, so that a node that saved
the old values notices at backward time instead of computing with the new ones. A leaf that
requires grad refuses, since backward would need its old value. A view is written through its base,
as PyTorch's CopySlices does, so that both show the change and both have a correct gradient; an
output of ``unbind``/``split``/``chunk`` refuses, as in PyTorch.

Computing out of place first would make any write well defined; PyTorch's kernels write as they
read, so it refuses what would depend on their order, and so does chainrule: an operand sharing
part of the written tensor's memory (``t[1:].add_(t[:-1])``), and a write into elements that repeat
in memory (an ``expand``'s), except the fills that PyTorch lets through (``fill_``, ``zero_``,
``masked_fill_``...).
"""
from chainrule import dtypes
from chainrule.autograd import function as function_module
from chainrule.autograd import grad_mode
from chainrule.autograd.function import (
    ViewMadeWithoutGrad, modified_view_of_several_error, rebase_view, refresh_view_history, snapshot, view_of_several_node,
    view_positions, written_in_place,
)
from chainrule.backend import (
    MetaArray, complex_part, element_strides, has_repeated_elements, is_writable, memory_overlap, memory_owner, positions_in,
    write_where_changed, xp,
)
from chainrule.ops.operands import write_error
from chainrule.tensor import Tensor


def check_not_inference(tensor):
    """PyTorch's refusal to change a tensor made under ``inference_mode`` in place outside it."""
    if tensor._is_inference and not grad_mode._state.inference:
        raise RuntimeError(
            "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to get a "
            "normal tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 for more details. "
            "(x = x.clone() first)"
        )


def leaf_view_error():
    """The error of an in-place change of a view of a leaf that requires grad (``w[0].mul_(2)``)."""
    return RuntimeError(
        "a view of a leaf Variable that requires grad is being used in an in-place operation. Wrap "
        "the update in `with chainrule.no_grad():`, or change a copy (w[0].clone()) instead."
    )


def write_in_place(tensor, operation, *args, **kwargs):
    """Compute ``operation(tensor, *args, **kwargs)`` and write the result into ``tensor``'s array."""
    check_not_inference(tensor)
    if not is_writable(tensor._array):
        if type(tensor._array) is MetaArray:  # no values to write: PyTorch's meta kernels leave it as it is
            return tensor
        if _positions_in_base(tensor) is None and not _writes_into_repeats(tensor, operation, args):
            raise unwritable_error(tensor._array)  # x.expand(...).add_(1), or from_numpy of a read-only array
    owner = tensor._version_holder  # an operand sharing this one's memory shares its version counter too
    if owner is None:
        owner = tensor
    for operand in (*args, *kwargs.values()) if kwargs else args:
        if isinstance(operand, Tensor) and (operand is owner or operand._version_holder is owner):
            _check_apart(tensor, operand, operation)
    recording = records_in_place(tensor, args)
    base = tensor._base
    if not recording and base is not None and base._requires_grad and base.grad_fn is None and grad_mode._state.enabled:
        raise leaf_view_error()  # v = a[:]; a.requires_grad_(); v.add_(5): it would change the leaf a
    if recording and tensor._requires_grad and tensor.grad_fn is None:
        if type(tensor._accumulator) is ViewMadeWithoutGrad:
            raise tensor._accumulator.error()
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation. Wrap "
            "the update in `with chainrule.no_grad():` or change `.data` instead."
        )
    if recording and tensor._base is not None:
        refresh_view_history(tensor)  # made again from its base's node if the base changed since (raises for some)
        _refuse_view_of_several(tensor)
        if base._requires_grad and base.grad_fn is None:  # y = w[0]; y.mul_(2): it would change the leaf w
            raise leaf_view_error()
        return _write_through_view(tensor, operation, args, kwargs)
    if recording:
        result = operation(snapshot(tensor), *args, **kwargs)
    else:
        with grad_mode.no_grad():
            result = operation(tensor, *args, **kwargs)
    check_castable(result, tensor)
    if result._array.shape != tensor._array.shape and xp.broadcast_shapes(tensor._array.shape, result._array.shape) != tensor._array.shape:
        raise write_error(tensor._array.shape, result._array.shape, getattr(operation, "__name__", "in-place operation") + "_")
    _store(tensor, result._array)
    tensor._version_owner._version_count += 1
    written_in_place(tensor)
    if function_module._forward_ad is not None:  # forward mode: the tangent goes with the values
        function_module._forward_ad.tangent_moved(result, tensor)
    if function_module._recorder is not None:  # chainrule.compile is recording: its program writes too
        function_module._recorder.wrote_in_place(tensor, result)
    if recording:
        retained = tensor.retains_grad
        if retained:  # retain_grad() follows the tensor to its new node, as in PyTorch
            del tensor.grad_fn._retained[tensor._output_nr]
        # A result without a node (floor_divide_, a comparison) is a constant now, not a leaf.
        tensor.grad_fn, tensor._output_nr, tensor._requires_grad = result.grad_fn, result._output_nr, result.grad_fn is not None
        if retained:
            tensor.retain_grad()
        if tensor.grad_fn is not None:
            tensor.grad_fn.saved_output_moved_to(tensor)
    return tensor


def _positions_in_base(tensor):
    """Where a view's elements lie in its base (``positions_in``), when the base can be written:
    a read-only view of writable memory (NumPy's ``diagonal``, one row of an ``expand``) is written
    through its base. None otherwise."""
    if tensor._base is None or not is_writable(tensor._base._array):
        return None
    return positions_in(tensor._base._array, tensor._array)


def _store(tensor, values):
    """``tensor``'s elements become ``values`` (broadcast), written through its base when its own
    array is a read-only view (only those that change where its elements repeat: see
    ``_writes_into_repeats``, through the memory they repeat)."""
    if is_writable(tensor._array):
        tensor._array[...] = values
        return
    positions = _positions_in_base(tensor)
    if positions is None:
        write_where_changed(memory_owner(tensor._array), tensor._array, values)
    elif tensor._array.size:
        tensor._base._array[positions] = xp.broadcast_to(values, tensor._array.shape)


def _operation_key(operation):
    """``module.name`` of the function an in-place method computes, as the tables below list them."""
    return f"{getattr(operation, '__module__', '')}.{getattr(operation, '__qualname__', '')}"


#: The in-place operations that PyTorch lets write into a tensor whose elements repeat in memory
#: (an ``expand``'s), by module and name: each writes values that do not depend on what the tensor
#: holds (a fill, a masked or indexed write), so an element reached twice gets one of them. Any
#: other (``add_``, ``copy_``, ``fill_`` of a tensor, ``x[:, 0] = v`` on repeated elements) raises,
#: as PyTorch's check for internal overlap does.
WRITES_INTO_REPEATS = {
    "chainrule.ops.elementwise._filled",  # fill_(number), zero_
    "chainrule.ops.index.masked_fill",
    "chainrule.ops.index.index_fill",
    "chainrule.ops.index.index_put",
    "chainrule.ops.index._assigned",  # x[key] = value
}


def _writes_into_repeats(tensor, operation, args):
    """Whether PyTorch lets ``operation`` write into ``tensor``, a read-only view of writable memory
    whose elements repeat in it (``WRITES_INTO_REPEATS``): ``fill_`` with a number (with a tensor
    it copies), and ``x[key] = value`` where ``key`` indexes with a tensor or a list (``index_put_``)
    or picks elements that do not repeat (``x.expand(2, 3)[0] = 1``)."""
    if not has_repeated_elements(tensor._array) or not is_writable(memory_owner(tensor._array)):
        return False
    name = _operation_key(operation)
    if name not in WRITES_INTO_REPEATS:
        return False
    if name.endswith("._filled"):
        return not isinstance(args[0], Tensor)
    if name.endswith("._assigned"):
        key = args[0] if isinstance(args[0], tuple) else (args[0],)
        basic = all(part is None or part is Ellipsis or type(part) in (int, slice) for part in key)
        return not basic or not has_repeated_elements(tensor._array[args[0]])
    return True


#: The in-place operations that read no operand overlapping the tensor they write, as PyTorch's
#: skip its check (a fill's value is read before any write; ``x[key] = value`` is checked by what
#: key picks, in ops/index.py), by module and name.
OVERLAP_NOT_CHECKED = {
    "chainrule.ops.elementwise._filled",
    "chainrule.ops.index.masked_fill",
    "chainrule.ops.index.index_fill",
    "chainrule.ops.placement.masked_scatter",
    "chainrule.ops.index._assigned",
}
#: The indexed writes, which PyTorch refuses even an operand that is the written tensor itself
#: (``t.index_add_(0, i, t)``); elementwise ones take it (``t.add_(t)``).
OVERLAP_REFUSED_WHOLE = {
    "chainrule.ops.index.index_add",
    "chainrule.ops.index.index_copy",
    "chainrule.ops.index.scatter",
    "chainrule.ops.index.scatter_add",
    "chainrule.ops.index.scatter_reduce",
    "chainrule.ops.index.index_put",
    "chainrule.ops.placement.put",
}


def _check_apart(tensor, operand, operation):
    """``check_apart`` for an in-place ``operation`` writing into ``tensor`` and reading ``operand``,
    which shares its version counter (a view of the same base), as PyTorch checks it for that kind
    of operation (``OVERLAP_NOT_CHECKED``, ``OVERLAP_REFUSED_WHOLE``)."""
    name = _operation_key(operation)
    if name not in OVERLAP_NOT_CHECKED:
        check_apart(tensor, operand, f"{getattr(operation, '__name__', 'an in-place operation')}_", name in OVERLAP_REFUSED_WHOLE)


def check_apart(written, operand, operation_name, whole_refused=False):
    """PyTorch's refusal of an operand that shares some of the memory of the tensor an operation
    writes (``t[1:].add_(t[:-1])``, ``t.mul_(t.t())``, ``exp(t[1:], out=t[:-1])``): the result would
    depend on the order the elements are written in. One that is the written tensor itself, in
    the same layout (``t.add_(t)``), is taken unless ``whole_refused``."""
    overlap = memory_overlap(written._array, operand._array)
    if overlap == "partial" or (overlap == "full" and whole_refused):
        raise RuntimeError(
            "unsupported operation: some elements of the input tensor and the written-to tensor refer to a single "
            "memory location. Please clone() the tensor before performing the operation. "
            f"({operation_name} writes a tensor of shape {list(written._array.shape)}, strides "
            f"{list(element_strides(written._array))} and reads one of shape {list(operand._array.shape)}, strides "
            f"{list(element_strides(operand._array))} in the same memory.)"
        )


def _refuse_view_of_several(view):
    """PyTorch's refusal to change in place, with the change recorded, an output of a function that
    returns several views (``unbind``, ``split``, ``chunk``) or a view of one: their backward
    joins the outputs' gradients and cannot take one output's history apart. Checked along the
    chain of views from ``view``'s node back to its base's."""
    node, stop = view.grad_fn, view._base.grad_fn
    while node is not None and node is not stop:
        if view_of_several_node(node):
            raise modified_view_of_several_error(view, "is being modified inplace")
        node = node.next_nodes[0] if node.next_nodes else None


def unwritable_error(array):
    """The error for a write into a read-only array: PyTorch's where elements share memory
    (``expand``'s), else one naming the read-only NumPy array (``from_numpy`` of one)."""
    if has_repeated_elements(array):
        return RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation. "
            f"(It is an expanded tensor of shape {list(array.shape)}, strides {list(element_strides(array))}.)"
        )
    return RuntimeError(
        f"a tensor of shape {list(array.shape)} holds a NumPy array that is not writable (from_numpy of a "
        f"read-only array): writing into it in place is refused. Copy it first (x = x.clone()), or make the array "
        f"writable before from_numpy"
    )


#: ``complex(real, imag)`` of two real tensors, recorded: set by ops/complex_numbers.py, which builds on this module
complex_from_parts = None


def _write_through_view(view, operation, args, kwargs):
    """A recorded in-place change of a view (``x[0].mul_(2)``, ``x[i] += v``), as PyTorch's
    CopySlices: the base becomes its old value with the view's elements replaced by the new ones,
    and the view reads them from there. Both share memory, so both show the change."""
    base = view._base
    if base._requires_grad and base.grad_fn is None:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation. "
            "Wrap the update in `with chainrule.no_grad():` or change the leaf's `.data` instead."
        )
    positions = view_positions(view)
    new_values = operation(snapshot(view), *args, **kwargs)
    check_castable(new_values, base)
    old_base = snapshot(base)
    part = complex_part(base._array, view._array)
    if part is not None:  # x.real.copy_(v), x.imag = v: the elements' other parts are kept
        new_values = new_values.to(view._array.dtype)
        kept = getattr(old_base[positions], "imag" if part == "real" else "real")
        new_values = complex_from_parts(*((new_values, kept) if part == "real" else (kept, new_values)))
    new_base = old_base._copy_slices(positions, new_values.to(base._array.dtype))  # ops/index.py's copy_slices
    base._array[...] = new_base._array
    base._version_owner._version_count += 1
    written_in_place(base)
    if function_module._recorder is not None:  # chainrule.compile is recording: its program writes too
        function_module._recorder.wrote_in_place(base, new_base)
    rebase_view(view, positions, new_base, part)
    if new_values.grad_fn is not None and new_values.grad_fn._saved:
        # h[1:].exp_(): ExpBackward0 saved its output, which the view now holds; a later change through
        # the view or any other view of its base (h[0].neg_()) moves their shared version counter.
        new_values.grad_fn.saved_output_moved_to(view._version_owner, new_values._output_nr)
    return view


def records_in_place(tensor, args):
    """Whether an in-place change of ``tensor`` with ``args`` enters the graph."""
    return grad_mode._state.enabled and (
        tensor._requires_grad or any(isinstance(arg, Tensor) and arg._requires_grad for arg in args)
    )


def check_castable(result, target):
    """PyTorch's refusal to write a result into a tensor of a lower kind (float into int)."""
    if not dtypes.castable_kinds(result._array.dtype.kind, target._array.dtype.kind):
        raise RuntimeError(
            f"result type {dtypes.scalar_type_name(result._array.dtype)} can't be cast to the desired "
            f"output type {dtypes.scalar_type_name(target._array.dtype)} (write into a tensor of the result's "
            f"dtype, e.g. x = x.to({dtypes.dtype_name(result._array.dtype)}) first, or use the out-of-place form)"
        )
