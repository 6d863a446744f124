"""Products named by their indices: einsum, and what is built on it (tensordot, kron, inner),
pairwise distances (cdist), the cross product and Vandermonde matrices.

``einsum("ij,jk->ik", a, b)`` multiplies the operands elementwise over every label and sums the
labels missing from the output: out[i, k] = Σ_j a[i, j] b[j, k]. Its gradient is again an einsum:
for operand k, the arriving gradient (labelled like the output) times every other operand, summed
down to operand k's labels,

    d loss / d a[i, j] = Σ_k grad[i, k] b[j, k]      ("ik,jk->ij")

so the recorded backward (``create_graph``) is made of einsums too and higher orders come free. Two
cases need more than that one line: a label only operand k has (summed away in the forward) gets a
vector of ones, so that the gradient spreads over it; a label repeated in operand k (``"ii->"``, its
diagonal) is read from the gradient once and put back on the diagonal by identity matrices.
"""
import math
import operator
import string

from chainrule import dtypes
from chainrule.autograd.function import made_from_arguments
from chainrule.backend import ignoring_float_errors, ndarray, xp
from chainrule.caller_warnings import warn_once
from chainrule.ops import shape
from chainrule.ops.broadcast import broadcast_shape, broadcast_to
from chainrule.ops.join import cat
from chainrule.ops.op import Op
from chainrule.ops.reduce import nonzero_count, norm, norm_over
from chainrule.ops.registry import SAME_DTYPE, public
from chainrule.tensor import Tensor, check_dim, check_own_dim, tensor_from_array
from chainrule.utils.operation_mode import operands_in_modes


class Einsum(Op):
    """``equation`` is explicit ("ij,jk->ik"), without ellipsis, and every operand's sizes agree."""

    formula = "Σ over the labels missing from the output of the product of the operands"
    derivatives = (None, "einsum of grad with the other operands, down to each operand's labels")

    @staticmethod
    def forward(ctx, equation, *operands):
        ctx.equation = equation
        ctx.save_for_backward(*operands)
        inputs, _ = equation.split("->")
        ctx.sizes = {
            label: size
            for subscripts, operand in zip(inputs.split(","), operands)
            for label, size in zip(subscripts, operand.shape)
        }
        result = xp.einsum(equation, *operands, optimize=len(operands) > 2)
        ctx.dtype = result.dtype
        return result

    @staticmethod
    def backward(ctx, grad_output):
        operands = ctx.saved_tensors
        inputs, output = ctx.equation.split("->")
        subscripts = inputs.split(",")
        grads = []
        for position, own in enumerate(subscripts):
            if not ctx.needs_input_grad[position + 1]:
                grads.append(None)
                continue
            # (complex numbers: the other operands conjugated, PyTorch's convention; reals unchanged)
            others = [(subscript, ctx.xp.conj(operand)) for place, (subscript, operand) in enumerate(zip(subscripts, operands)) if place != position]
            terms = [(output, grad_output), *others]
            seen = set("".join(subscript for subscript, _ in terms))
            fresh = iter(letter for letter in string.ascii_letters if letter not in ctx.equation)
            wanted = ""
            for label in own:
                if label in wanted:  # a repeated label: its gradient lies on the diagonal
                    twin = next(fresh)
                    terms.append((label + twin, xp.eye(ctx.sizes[label], dtype=ctx.dtype)))
                    wanted += twin
                    continue
                if label not in seen:  # summed away in the forward: the gradient spreads over it
                    terms.append((label, xp.ones(ctx.sizes[label], dtype=ctx.dtype)))
                    seen.add(label)
                wanted += label
            equation = ",".join(subscript for subscript, _ in terms) + "->" + wanted
            grads.append(ctx.xp.einsum(equation, *(value for _, value in terms)))
        return (None, *grads)


# ----------------------------------------------------------------------------- equations
def _explicit_equation(equation, operands):
    """``(equation, target shapes)``: the equation with its ellipses spelled out as letters and its
    output written out ("ij,jk" -> "ij,jk->ik": the labels used once, in alphabetical order, after
    the ellipsis dimensions), and the shape each operand broadcasts to (a size 1 may meet a size n)."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    subscripts = inputs.split(",")
    if len(subscripts) != len(operands):
        raise RuntimeError(
            f"einsum(): more operands were provided than specified in the equation"
            if len(operands) > len(subscripts)
            else f"einsum(): fewer operands were provided than specified in the equation"
        )
    for position, subscript in enumerate(subscripts):
        _check_periods(subscript, f"operand {position}")
    if arrow:
        _check_periods(output, "output")
    for subscript in subscripts + [output]:
        for label in subscript.replace("...", ""):
            if label not in string.ascii_letters:
                raise RuntimeError(
                    f"einsum(): invalid subscript given at index {equation.index(label)} in the equation "
                    f"string, subscripts must be in [a-zA-Z]"
                )
    unused = [letter for letter in string.ascii_letters if letter not in equation]
    ellipsis_dims = 0
    for position, (subscript, operand) in enumerate(zip(subscripts, operands)):
        named = len(subscript.replace("...", ""))
        ndim = operand._array.ndim
        if ("..." in subscript and named > ndim) or ("..." not in subscript and named != ndim):
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({named}) does not match the number of "
                f"dimensions ({ndim}) for operand {position}" + ("" if "..." in subscript else " and no ellipsis was given")
            )
        if "..." in subscript:
            ellipsis_dims = max(ellipsis_dims, ndim - named)
    broadcast_letters = "".join(unused[:ellipsis_dims])
    spelled = []
    for subscript, operand in zip(subscripts, operands):
        own = operand._array.ndim - len(subscript.replace("...", ""))
        spelled.append(subscript.replace("...", broadcast_letters[ellipsis_dims - own :] if own else ""))
    if arrow:
        for label in set(output.replace("...", "")):
            if output.count(label) > 1:
                raise RuntimeError(f"einsum(): output subscript {label} appears more than once in the output")
        output = output.replace("...", broadcast_letters)
    else:
        labels = "".join(spelled)
        once = (label for label in set(labels) if labels.count(label) == 1 and label not in broadcast_letters)
        output = broadcast_letters + "".join(sorted(once))
    sizes = {}
    for position, (subscript, operand) in enumerate(zip(spelled, operands)):
        for label, size in zip(subscript, operand._array.shape):
            known = sizes.setdefault(label, size)
            if size != 1 and known not in (1, size):
                raise RuntimeError(
                    f"einsum(): subscript {label} has size {size} for operand {position} which does not "
                    f"broadcast with previously seen size {known}"
                )
            if known == 1:
                sizes[label] = size
    for label in output:
        if label not in sizes:
            raise RuntimeError(f"einsum(): output subscript {label} does not appear in the equation for any input operand")
    targets = [tuple(sizes[label] for label in subscript) for subscript in spelled]
    return ",".join(spelled) + "->" + output, targets


def _check_periods(subscript, where):
    """PyTorch's RuntimeError for a '.' outside the one ellipsis (``...``) a subscript may have;
    ``where`` is "operand 0", "operand 1", ... or "output"."""
    first = subscript.find(".")
    if first == -1:
        return
    if subscript[first : first + 3] != "...":
        raise RuntimeError(
            f"einsum(): found '.' for {where} that is not part of any ellipsis" + (" (...)" if where == "output" else "")
        )
    if "." in subscript[first + 3 :]:
        raise RuntimeError(
            "einsum(): found '.' for output but an ellipsis (...) was already found" if where == "output"
            else f"einsum(): found '.' for {where} for which an ellipsis was already found"
        )


# ----------------------------------------------------------------------------- public functions
def _sublist_equation(arguments):
    """``(equation, operands)`` of einsum's sublist form, einsum(a, [0, 1], b, [1, 2], [0, 2]): each
    operand followed by its labels as integers in [0, 52) (0-25 are A-Z, 26-51 a-z, as PyTorch
    spells them, so that an implicit output lists them in PyTorch's order) or ``...``, the output's
    labels last (optional)."""
    alphabet = string.ascii_uppercase + string.ascii_lowercase

    def letters(sublist):
        spelled = ""
        for label in sublist:
            if label is Ellipsis:
                spelled += "..."
            elif not 0 <= operator.index(label) < len(alphabet):
                raise ValueError("einsum(): subscript in subscript list is not within the valid range [0, 52)")
            else:
                spelled += alphabet[label]
        return spelled

    pairs = len(arguments) // 2
    operands = arguments[0 : 2 * pairs : 2]
    equation = ",".join(letters(sublist) for sublist in arguments[1 : 2 * pairs : 2])
    if len(arguments) % 2:
        equation += "->" + letters(arguments[-1])
    return equation, operands


@public(method=False)
def einsum(equation, *operands):
    """Einstein summation: the operands multiplied elementwise over their labelled dimensions, then
    summed over the labels not in the output. ``"ij,jk->ik"`` is a matrix product, ``"ii"`` a trace,
    ``"ii->i"`` a diagonal, ``"bij,bjk->bik"`` a batched product, ``"...ij->...ji"`` a transpose of
    the last two dimensions. Without ``->`` the output is the labels used once, alphabetically.
    The operands may also come as one list, or in the sublist form: einsum(a, [0, 1], b, [1, 2],
    [0, 2]) is einsum("ab,bc->ac", a, b). A size-1 dimension broadcasts against its label's size.
    The result's dtype is PyTorch's (see ``_result_dtype``): a sum of integers or bools is int64.
    """
    if not isinstance(equation, str):
        equation, operands = _sublist_equation((equation, *operands))
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError(
            "einsum(): must specify the equation string and at least one operand, or at least one operand and "
            "its subscripts list"
        )
    operands = tuple(_as_operand(operand, position) for position, operand in enumerate(operands))
    explicit, targets = _explicit_equation(equation, operands)
    return _contraction(explicit, targets, _in_result_dtype(explicit, operands))


def _as_operand(operand, position):
    """The operand as a tensor: PyTorch's TypeError for a number or a list. (An array is taken: the
    recorded backward passes its identity matrices and vectors of ones as arrays.)"""
    if isinstance(operand, Tensor):
        return operand
    if isinstance(operand, ndarray):
        return tensor_from_array(operand)
    raise TypeError(
        f"expected Tensor as element {position} in argument 1, but got {dtypes.python_type_name(operand)}: "
        f"give einsum tensors, e.g. chainrule.tensor({operand!r})"
    )


def _contraction(explicit, targets, operands):
    """The einsum of the explicit equation, the operands (of one dtype) broadcast to their ``targets``."""
    operands = tuple(
        operand if tuple(operand._array.shape) == target else _broadcast_labels(operand, target, subscript)
        for operand, target, subscript in zip(operands, targets, explicit.split("->")[0].split(","))
    )
    return Einsum.shown_as(_einsum_node(explicit)).apply(explicit, *operands)


def _einsum_node(explicit):
    """The node PyTorch's einsum of the explicit equation ends in: one operand is permuted to the
    output's labels and summed over the others (``SumBackward1``, else ``PermuteBackward0``); more
    operands are multiplied (``MulBackward0``) unless a label is summed away, which PyTorch does as
    a batched matrix product viewed back to the output's shape (``ViewBackward0``)."""
    inputs, output = explicit.split("->")
    summed = set(inputs.replace(",", "")) - set(output)
    if "," not in inputs:
        return "SumBackward1" if summed else "PermuteBackward0"
    return "ViewBackward0" if summed else "MulBackward0"


def _in_result_dtype(explicit, operands):
    """The operands converted to the dtype of einsum's result."""
    first = operands[0]._array.dtype
    if first.kind == "f" and all(operand._array.dtype == first for operand in operands[1:]):
        return operands  # one floating dtype: the result's
    result = _result_dtype(explicit, operands)
    return tuple(operand if operand.dtype is result else operand.to(result) for operand in operands)


def _result_dtype(explicit, operands):
    """The dtype of PyTorch's einsum, or its error, which follow from how it computes. One operand:
    summed by ``sum`` if any label is summed away (integers and bools give int64). More: contracted
    left to right, the running result with the next operand. A label summed away that only one of
    the two has with a size other than 1 is summed alone (``sum``: int64 again); labels both have
    are summed by a batched matrix product (``bmm``: one dtype and no bool; if a side is empty,
    zeros of the next operand's dtype);
    where nothing is summed the two are multiplied, and their dtypes promote as in a * b."""
    inputs, output = explicit.split("->")
    subscripts = inputs.split(",")
    summed = set(inputs) - set(output) - {","}
    dtype = operands[0].dtype
    if len(operands) == 1:
        return _dtype_of_sum(dtype) if summed else dtype
    sizes = [  # each operand's labels of a size other than 1
        {label: size for label, size in zip(subscript, operand._array.shape) if size != 1}
        for subscript, operand in zip(subscripts, operands)
    ]
    last = {label: max((place for place, each in enumerate(sizes) if label in each), default=0) for label in summed}
    running = dict(sizes[0])
    for label in summed & running.keys():
        if last[label] == 0:
            dtype = _dtype_of_sum(dtype)
            del running[label]
    for position in range(1, len(operands)):
        other, other_sizes = operands[position].dtype, dict(sizes[position])
        ending = {label for label in summed if last[label] == position}
        for label in ending - running.keys():  # only the next operand has it
            other = _dtype_of_sum(other)
            del other_sizes[label]
        if not ending & running.keys():
            dtype = dtypes.promote_types(dtype, other)
        elif 0 in running.values() or 0 in other_sizes.values():
            dtype = other  # an empty batched product: zeros like the next operand
        else:
            _check_batched_product(dtype, other)
        running = {label: size for label, size in {**running, **other_sizes}.items() if label not in ending}
    return dtype


def _dtype_of_sum(dtype):
    return dtypes.int64 if dtype.kind in "biu" else dtype


def _check_batched_product(dtype, other):
    if dtype is dtypes.bool_:
        raise NotImplementedError(
            "\"bmm\" not implemented for 'Bool': einsum sums products of bools only as numbers; convert them "
            "first, e.g. a.long()"
        )
    if other is not dtype:
        raise RuntimeError(
            f"expected scalar type {dtypes.scalar_type_name(dtype.dtype)} but found {dtypes.scalar_type_name(other.dtype)}: "
            f"einsum sums products only of operands of one dtype; convert them with .to()"
        )


def _broadcast_labels(operand, target, subscript):
    """The operand with its size-1 dimensions stretched to its labels' sizes (a repeated label,
    ``"ii"``, is stretched once and read back on the diagonal)."""
    if len(set(subscript)) == len(subscript):
        return broadcast_to(operand, target)
    raise RuntimeError(
        f"einsum(): operand of shape {list(operand._array.shape)} with a repeated subscript in '{subscript}' "
        f"must have equal sizes along it, got target {list(target)}"
    )


@public(method=False, out=SAME_DTYPE)
def tensordot(a, b, dims=2):
    """The sum of a · b over pairs of dimensions: the last ``dims`` of a with the first ``dims`` of b
    (an int), or ``dims = (dims_of_a, dims_of_b)``, two lists. (2, 3, 4) and (3, 4, 5) with dims=2
    -> (2, 5); ``tensordot(a, b, ([1], [0]))`` of two matrices is a @ b. A contracted size 1 meets
    any size (that dimension of the other is summed alone). a and b have one dtype, not bool."""
    dims_a, dims_b = _tensordot_dims(dims, a._array.ndim, b._array.ndim)
    if len(dims_a) != len(dims_b):
        raise RuntimeError(f"both dimension lists should have same length (got {len(dims_a)} and {len(dims_b)})")
    if a._array.dtype != b._array.dtype:
        raise RuntimeError(
            f"both inputs should have same dtype (got {dtypes.dtype_name(a._array.dtype)} and "
            f"{dtypes.dtype_name(b._array.dtype)}); convert one with .to()"
        )
    dims_a = [check_own_dim(dim, a._array.ndim, "tensordot") for dim in dims_a]
    dims_b = [check_own_dim(dim, b._array.ndim, "tensordot") for dim in dims_b]
    for dim_a, dim_b in zip(dims_a, dims_b):
        size_a, size_b = a._array.shape[dim_a], b._array.shape[dim_b]
        if size_a != size_b and 1 not in (size_a, size_b):
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {size_a} in dim {dim_a} "
                f"and second has size {size_b} in dim {dim_b}"
            )
    for dims_listed in (dims_a, dims_b):
        repeated = next((dim for place, dim in enumerate(dims_listed) if dim in dims_listed[:place]), None)
        if repeated is not None:
            raise RuntimeError(f"dim {repeated} appears multiple times in the list of dims")
    letters = iter(string.ascii_letters)
    labels_a = [next(letters) for _ in range(a._array.ndim)]
    labels_b = [next(letters) for _ in range(b._array.ndim)]
    for dim_a, dim_b in zip(dims_a, dims_b):
        labels_b[dim_b] = labels_a[dim_a]
    kept = [label for dim, label in enumerate(labels_a) if dim not in dims_a]
    kept += [label for dim, label in enumerate(labels_b) if dim not in dims_b]
    if a._array.dtype == xp.bool_ and (not kept or a._array.size and b._array.size):
        raise NotImplementedError(
            f"\"{'addmm_impl_cpu_' if kept else 'dot'}\" not implemented for 'Bool' (tensordot of shapes {tuple(a._array.shape)} "
            f"and {tuple(b._array.shape)}): convert the masks to numbers first, e.g. a.long()"
        )
    explicit, targets = _explicit_equation("".join(labels_a) + "," + "".join(labels_b) + "->" + "".join(kept), (a, b))
    return _contraction(explicit, targets, (a, b))  # in their own dtype: PyTorch's tensordot sums integers without widening


def _tensordot_dims(dims, ndim_a, ndim_b):
    """tensordot's ``dims`` as (dims of a, dims of b), with PyTorch's errors: an int (or a tensor
    holding one) n is a's last n and b's first n; else two lists of ints."""
    if isinstance(dims, Tensor):
        dims = dims.tolist() if dims.numel() > 1 else int(dims.item())
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(ndim_a, ndim_b):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        return list(range(ndim_a - dims, ndim_a)), list(range(dims))
    if not isinstance(dims, (tuple, list)):
        raise RuntimeError(
            f"tensordot expects dims to be int or tuple[list[int], list[int]] or list[list[int]] containing two "
            f"lists, but got dims={dims}"
        )
    dims_a, dims_b = dims
    for name, position, listed in (("dims_self", 3, dims_a), ("dims_other", 4, dims_b)):
        if not isinstance(listed, (tuple, list)):
            raise TypeError(
                f"tensordot(): argument '{name}' (position {position}) must be tuple of ints, not "
                f"{dtypes.python_type_name(listed)}: give dims as two lists, e.g. dims=([1], [0])"
            )
        wrong = next((place for place, dim in enumerate(listed) if not isinstance(dim, int)), None)
        if wrong is not None:
            raise TypeError(
                f"tensordot(): argument '{name}' (position {position}) must be tuple of ints, but found element of "
                f"type {dtypes.python_type_name(listed[wrong])} at pos {wrong}"
            )
    return list(dims_a), list(dims_b)


@public(out=True)
def kron(a, b):
    """The Kronecker product: every element of a times the whole of b, as blocks.
    (m, n) and (p, q) -> (m·p, n·q): out[i·p + k, j·q + l] = a[i, j] b[k, l]. The fewer dimensions
    are padded with leading 1s. The dtypes promote as in a product a * b.

    As PyTorch computes it: a laid out as (m, 1, n, 1) and b as (1, p, 1, q), their product
    (m, p, n, q) broadcast, laid out as (m·p, n·q); each layout is PyTorch's ``_unsafe_view``
    (``UnsafeViewBackward0``)."""
    ndim = max(a._array.ndim, b._array.ndim)
    sizes_a = (1,) * (ndim - a._array.ndim) + tuple(a._array.shape)
    sizes_b = (1,) * (ndim - b._array.ndim) + tuple(b._array.shape)
    unsafe_view = shape.Reshape.shown_as("UnsafeViewBackward0").apply
    spread_a = unsafe_view(a, tuple(size for size_a in sizes_a for size in (size_a, 1)))
    spread_b = unsafe_view(b, tuple(size for size_b in sizes_b for size in (1, size_b)))
    return unsafe_view(spread_a * spread_b, tuple(size_a * size_b for size_a, size_b in zip(sizes_a, sizes_b)))


@public(out=SAME_DTYPE)
def inner(a, b):
    """The sum of a · b over the last dimension of each: (*a, n) and (*b, n) -> (*a, *b); a 0-d
    operand multiplies the other."""
    if a._array.ndim == 0 or b._array.ndim == 0:
        return a * b
    if a._array.shape[-1] != b._array.shape[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got shapes "
            f"{list(a._array.shape)} and {list(b._array.shape)}"
        )
    return tensordot(a, b, ([-1], [-1]))


@public(out=SAME_DTYPE)
def vdot(a, b):
    """Σ_i conj(a[i]) b[i] for two 1-D tensors of one size and dtype (for real numbers, ``dot``)."""
    if a._array.ndim != 1 or b._array.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a._array.ndim}D and {b._array.ndim}D tensors")
    if a._array.dtype != b._array.dtype:
        raise RuntimeError(
            f"vdot : expected both vectors to have same dtype, but found {dtypes.dtype_name(a._array.dtype)} "
            f"and {dtypes.dtype_name(b._array.dtype)}"
        )
    if a._array.shape != b._array.shape:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a._array.shape[0]}] and src [{b._array.shape[0]}] "
            f"to have the same number of elements, but got {a._array.shape[0]} and {b._array.shape[0]} elements respectively"
        )
    if a._array.dtype == xp.bool_:
        raise NotImplementedError("\"dot\" not implemented for 'Bool': convert the masks to numbers first, e.g. a.long()")
    return einsum("i,i->", a.conj(), b)


@public(method=False)
def cdist(x1, x2, p=2.0, compute_mode=None):
    """The p-norm distance between every row of x1 and every row of x2: (*, P, M) and (*, R, M) ->
    (*, P, R), out[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p. The leading dimensions
    broadcast. The gradient at a distance of 0 is 0, as in PyTorch."""
    if x1._array.ndim < 2 or x2._array.ndim < 2:
        raise RuntimeError(
            f"cdist only supports at least 2D tensors, X1 got: {x1._array.ndim}D, X2 got: {x2._array.ndim}D"
        )
    if x1._array.shape[-1] != x2._array.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1._array.shape[-1]} X2: {x2._array.shape[-1]}"
        )
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if compute_mode not in (None, "use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, x in (("X1", x1), ("X2", x2)):
        if x._array.dtype.kind != "f":
            raise RuntimeError(
                f"cdist only supports floating-point dtypes, {name} got: {dtypes.scalar_type_name(x._array.dtype)}"
            )
    if x1._array.dtype == xp.float16 or x2._array.dtype != x1._array.dtype:
        x1, x2 = operands_in_modes("cdist", (x1, x2))  # autocast computes cdist in float32
        if x1._array.dtype == xp.float16:
            raise NotImplementedError("\"cdist\" not implemented for 'Half': convert with .float() first")
        if x2._array.dtype != x1._array.dtype:  # refused, not promoted
            raise RuntimeError(
                f"expected scalar type {dtypes.scalar_type_name(x1._array.dtype)} but found {dtypes.scalar_type_name(x2._array.dtype)}: "
                f"cdist needs x1 and x2 of one dtype; convert one, e.g. x2.to(x1.dtype)"
            )
    if x1._array.size and x2._array.size and _through_product(x1, x2, p, compute_mode):  # no (P, R, M) differences
        distances = EuclideanDistance.apply(x1, x2)
        return distances.view(distances.shape)  # PyTorch's ends in a view of its batched result
    differences = shape.unsqueeze(x1, -2) - shape.unsqueeze(x2, -3)
    if math.prod(differences._array.shape) == 0:
        return differences.sum(-1)
    if p == 0:
        return nonzero_count(differences, -1)
    return norm_over(differences, p, (differences.ndim - 1,), False, "CdistBackward0")


def _through_product(x1, x2, p, compute_mode):
    """Whether PyTorch's cdist takes the matrix product (``EuclideanDistance``): for p = 2, always
    with ``use_mm_for_euclid_dist``, and by default past 25 rows of either input."""
    return p == 2 and (
        compute_mode == "use_mm_for_euclid_dist"
        or (compute_mode in (None, "use_mm_for_euclid_dist_if_necessary") and max(x1.shape[-2], x2.shape[-2]) > 25)
    )


class EuclideanDistance(Op):
    """The distances between the rows of a (*, P, M) and of b (*, R, M) through one matrix product,
    as PyTorch's cdist computes them for p = 2 past 25 rows:

        d_ij² = Σ_k (-2 a_ik) b_jk + ||a_i||² · 1 + 1 · ||b_j||²

    one product of a augmented with the columns (||a_i||², 1) and b with (1, ||b_j||²), clamped at 0
    (rounding can make a small square negative), then √. Faster than the differences for many rows,
    and as imprecise as PyTorch's for near points (0 where the exact distance is 2e-3 among
    distances of 30): the same numbers. Its gradient is the differences' (0 at d = 0, as PyTorch's):

        ∂d_ij/∂a_i = (a_i - b_j) / d_ij,  so  grad_a = a · Σ_j r_ij - r b,  r = grad / d."""

    node_name = "EuclideanDistBackward0"
    formula = "√max(||a_i||² - 2 a_i·b_j + ||b_j||², 0)"
    derivatives = ("a · Σ_j r - r b, r = grad / d (0 where d = 0)", "b · Σ_i r - rᵀ a")

    @staticmethod
    def forward(ctx, a, b):
        a_squares = (a * a).sum(-1, keepdims=True)
        b_squares = (b * b).sum(-1, keepdims=True)
        augmented_a = xp.concatenate([-2 * a, a_squares, xp.ones_like(a_squares)], -1)
        augmented_b = xp.concatenate([b, xp.ones_like(b_squares), b_squares], -1)
        squares = augmented_a @ xp.swapaxes(augmented_b, -1, -2)
        distances = xp.sqrt(xp.maximum(squares, 0, out=squares), out=squares)
        ctx.save_for_backward(a, b, distances)
        return distances

    @staticmethod
    def backward(ctx, grad_output):
        a, b, distances = ctx.saved_tensors
        with ignoring_float_errors():  # 0 / 0 where the distance is 0, replaced by 0
            ratio = ctx.xp.where(distances == 0, 0, grad_output / distances)
        grad_a = a * ratio.sum(-1)[..., None] - ratio @ b if ctx.needs_input_grad[0] else None
        grad_b = b * ratio.sum(-2)[..., None] - ctx.xp.swapaxes(ratio, -1, -2) @ a if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


# ----------------------------------------------------------------------------- cross product, Vandermonde matrices
def cross_along(functions, a, b, axis):
    """a × b of the 3-vectors along ``axis``, with ``functions`` (NumPy or chainrule):
    (a1 b2 - a2 b1, a2 b0 - a0 b2, a0 b1 - a1 b0)."""
    lead = (slice(None),) * axis
    a0, a1, a2 = (a[lead + (part,)] for part in range(3))
    b0, b1, b2 = (b[lead + (part,)] for part in range(3))
    return functions.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis)


class LinalgCross(Op):
    """Broadcast operands are summed back to their shapes by the engine."""

    formula = "input × other along axis"
    derivatives = ("conj(other) × grad", "grad × conj(input)", None)

    @staticmethod
    def forward(ctx, input, other, axis):
        ctx.axis = axis
        ctx.save_for_backward(input, other)
        return cross_along(xp, input, other, axis)

    @staticmethod
    def backward(ctx, grad_output):
        input, other = ctx.saved_tensors
        grad_input = cross_along(ctx.xp, ctx.xp.conj(other), grad_output, ctx.axis) if ctx.needs_input_grad[0] else None
        grad_other = cross_along(ctx.xp, grad_output, ctx.xp.conj(input), ctx.axis) if ctx.needs_input_grad[1] else None
        return grad_input, grad_other, None


@public(out=SAME_DTYPE)
def cross(input, other, dim=None):
    """The cross product of the 3-vectors along ``dim`` of input and other (broadcast together; both
    with the same number of dimensions): (*, 3, *) -> (*, 3, *).

    Without ``dim``, PyTorch's old default: the first dimension of size 3 (with PyTorch's warning;
    pass dim, e.g. dim=-1, to say which).
    """
    if input.ndim != other.ndim:
        raise RuntimeError(
            f"linalg.cross: inputs must have the same number of dimensions (got shapes {list(input.shape)} "
            f"and {list(other.shape)}); unsqueeze one of them"
        )
    if input.dtype != other.dtype:
        raise RuntimeError(
            f"linalg.cross: expected both inputs of one dtype, but got {input.dtype} and {other.dtype}; convert one with .to()"
        )
    if input._array.dtype == xp.bool_:
        raise NotImplementedError("\"cross\" not implemented for 'Bool': convert the tensors to numbers first, e.g. a.long()")
    if dim is None:
        if 3 not in input.shape:
            raise RuntimeError(f"no dimension of size 3 in input (shape {list(input.shape)}); cross needs 3-vectors")
        warn_once(
            "torch.cross without dim",
            "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
            "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree with "
            "that of linalg.cross in a future release.",
        )
        dim = tuple(input.shape).index(3)
    axis = check_dim(dim, input.ndim, "linalg.cross")
    if input.shape[axis] != 3 or other.shape[axis] != 3:  # checked before broadcasting, naming dim as given
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[axis]} and {other.shape[axis]}"
        )
    broadcast_shape(input, other, "linalg.cross")
    return LinalgCross.apply(input, other, axis)


@public(method=False)
def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D x: column j is x^(N-1-j) (x^j with ``increasing``), N
    columns (len(x) by default). (n,) -> (n, N). The powers are running products of x, as in PyTorch,
    so the gradient at x = 0 is exact."""
    if x.ndim != 1:
        raise RuntimeError(f"x must be a one-dimensional tensor, but got shape {list(x.shape)}")
    columns = x.shape[0] if N is None else N
    if columns < 0:
        raise RuntimeError(f"N must be non-negative, but got N={columns}")
    powers = increasing_powers(x, columns)
    return powers if increasing else powers.flip(-1)


def increasing_powers(x, columns):
    """x^0, x^1, ..., x^(columns - 1) of each element of x, as a new last dimension: (*) -> (*, columns).
    Integers and booleans give int64."""
    if x._array.dtype.kind in "biu":
        x = x.to(dtypes.int64)
    ones = made_from_arguments(xp.ones((*x.shape, min(columns, 1)), dtype=x._array.dtype))
    repeated = broadcast_to(shape.unsqueeze(x, -1), (*x.shape, max(columns - 1, 0)))
    return cat([ones, repeated], -1).cumprod(-1)
