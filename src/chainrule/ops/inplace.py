"""In-place operations (``x.add_(y)``, ``x += y``, ``x[0].mul_(2)``): PyTorch's rules for writing
into a tensor that the graph may still need.

Each in-place method computes its out-of-place operation and writes the result into the tensor's
own array (``write_in_place``). Outside ``no_grad`` the change is recorded: the tensor becomes the
result of the operation in the graph, and its version counter goes up, so that a node that saved
the old values notices at backward time instead of computing with the new ones. A leaf that
requires grad refuses, since backward would need its old value. A view is written through its base,
as PyTorch's CopySlices does, so that both show the change and both have a correct gradient.
"""
from chainrule import dtypes
from chainrule.autograd import function as function_module
from chainrule.autograd import grad_mode
from chainrule.autograd.function import ViewMadeWithoutGrad, rebase_view, snapshot, view_positions, written_in_place
from chainrule.backend import element_strides, has_repeated_elements, is_writable, positions_in, xp
from chainrule.ops.operands import write_error
from chainrule.tensor import Tensor, tensor_from_array


def check_not_inference(tensor):
    """PyTorch's refusal to change a tensor made under ``inference_mode`` in place outside it."""
    if tensor._is_inference and not grad_mode._state.inference:
        raise RuntimeError(
            "Inplace update to inference tensor outside InferenceMode is not allowed. You can make a clone "
            "to get a normal tensor before doing inplace update (x = x.clone())."
        )


def write_in_place(tensor, operation, *args, **kwargs):
    """Compute ``operation(tensor, *args, **kwargs)`` and write the result into ``tensor``'s array."""
    check_not_inference(tensor)
    if not is_writable(tensor.array) and _positions_in_base(tensor) is None:
        raise unwritable_error(tensor.array)  # x.expand(...).add_(1), or from_numpy of a read-only array
    recording = records_in_place(tensor, args)
    if recording and tensor._requires_grad and tensor.grad_fn is None:
        if type(tensor._accumulator) is ViewMadeWithoutGrad:
            raise tensor._accumulator.error()
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation. Wrap "
            "the update in `with chainrule.no_grad():` or change `.data` instead."
        )
    if recording and tensor._base is not None:
        base = tensor._base
        if base._requires_grad and base.grad_fn is None:  # y = w[0]; y.mul_(2): it would change the leaf w
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place operation. Wrap "
                "the update in `with chainrule.no_grad():`, or change a copy (w[0].clone()) instead."
            )
        return _write_through_view(tensor, operation, args, kwargs)
    if recording:
        result = operation(snapshot(tensor), *args, **kwargs)
    else:
        with grad_mode.no_grad():
            result = operation(tensor, *args, **kwargs)
    check_castable(result, tensor)
    if result.array.shape != tensor.array.shape and xp.broadcast_shapes(tensor.array.shape, result.array.shape) != tensor.array.shape:
        raise write_error(tensor.array.shape, result.array.shape, getattr(operation, "__name__", "in-place operation") + "_")
    _store(tensor, result.array)
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
    if tensor._base is None or not is_writable(tensor._base.array):
        return None
    return positions_in(tensor._base.array, tensor.array)


def _store(tensor, values):
    """``tensor``'s elements become ``values`` (broadcast), written through its base when its own
    array is a read-only view."""
    if is_writable(tensor.array):
        tensor.array[...] = values
    else:
        tensor._base.array[_positions_in_base(tensor)] = xp.broadcast_to(values, tensor.array.shape)


def unwritable_error(array):
    """The error for a write into a read-only array: PyTorch's where elements share memory
    (``expand``'s), else one naming the read-only NumPy array (``from_numpy`` of one)."""
    if has_repeated_elements(array):
        return RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single memory "
            f"location (an expanded tensor of shape {list(array.shape)}, strides {list(element_strides(array))}). "
            "Please clone() the tensor before performing the operation."
        )
    return RuntimeError(
        f"a tensor of shape {list(array.shape)} holds a NumPy array that is not writable (from_numpy of a "
        f"read-only array): writing into it in place is refused. Copy it first (x = x.clone()), or make the array "
        f"writable before from_numpy"
    )


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
    new_base = snapshot(base)._copy_slices(positions, new_values.to(base.array.dtype))  # ops/index.py's copy_slices
    base.array[...] = new_base.array
    base._version_owner._version_count += 1
    written_in_place(base)
    if function_module._recorder is not None:  # chainrule.compile is recording: its program writes too
        function_module._recorder.wrote_in_place(base, new_base)
    rebase_view(view, positions, new_base)
    return view


def records_in_place(tensor, args):
    """Whether an in-place change of ``tensor`` with ``args`` enters the graph."""
    return grad_mode._state.enabled and (
        tensor._requires_grad or any(isinstance(arg, Tensor) and arg._requires_grad for arg in args)
    )


def check_castable(result, target):
    """PyTorch's refusal to write a result into a tensor of a lower kind (float into int)."""
    if not dtypes.can_cast(dtypes.of(result.array.dtype), dtypes.of(target.array.dtype)):
        raise RuntimeError(
            f"result type {dtypes.scalar_type_name(result.array.dtype)} can't be cast to the desired "
            f"output type {dtypes.scalar_type_name(target.array.dtype)} (write into a tensor of the result's "
            f"dtype, e.g. x = x.to({dtypes.dtype_name(result.array.dtype)}) first, or use the out-of-place form)"
        )
