"""Indexing, shape, joining and sorting as course code meets them, compared with PyTorch: lists read
as tuples of indices, ``scatter(reduce=)``, dtype checks of index_put, the legacy empty tensor of
``cat``, NaN in ``unique``, ``diagonal`` as a view that writes into its base, and the errors
PyTorch raises (its exception types, and its words where they are given)."""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule.autograd import gradcheck
from tests.ops.oracle import both


def outcome(lib, call):
    """``(kind, value)``: the exception type's name, or the result as a NumPy array with its dtype
    name (a tuple or list of results as a tuple of those)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = call(lib)
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error).__name__, None
    return "ok", _plain(lib, result)


def _plain(lib, result):
    if isinstance(result, lib.Tensor):
        return str(result.dtype).split(".")[-1], np.asarray(result.detach().numpy()).copy()
    if isinstance(result, (tuple, list)):
        return tuple(_plain(lib, each) for each in result)
    return result


def assert_same(ours, theirs):
    if isinstance(theirs, tuple) and theirs and isinstance(theirs[0], str) and len(theirs) == 2 and isinstance(theirs[1], np.ndarray):
        assert ours[0] == theirs[0], f"dtype {ours[0]} != {theirs[0]}"
        assert ours[1].shape == theirs[1].shape
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6, equal_nan=True)
    elif isinstance(theirs, tuple):
        assert len(ours) == len(theirs)
        for mine, expected in zip(ours, theirs):
            assert_same(mine, expected)
    else:
        assert ours == theirs


def _cube(t):
    return t.arange(24.0).reshape(2, 3, 4)


def _write_into(t, make_view):
    """x after ``make_view(x).fill_(-1)``: changed where the result is a view of x."""
    x = t.arange(12.0).reshape(3, 4)
    make_view(x).fill_(-1)
    return x


def _set(t, x, key, value):
    x[key] = value
    return x


def _set_diagonal(t, x, key, value):
    x.diagonal()[key] = value
    return x


def _ridge(t):
    kernel = t.ones(3, 3)
    kernel.diagonal().add_(1e-3)
    return kernel


def _expanded_row(t):
    x = t.zeros(1, 4)
    x.expand(3, 4)[1].fill_(2.0)
    return x


SAME_AS_PYTORCH = {
    # a short list holding a tensor, a list, a slice, None or ... is a tuple of indices
    "x[[rows, cols]]": lambda t: _cube(t)[[t.tensor([0, 1]), t.tensor([1, 2])]],
    "x[[[1, 0], [0, 1]]]": lambda t: _cube(t)[[[1, 0], [0, 1]]],
    "x[[slice, int]]": lambda t: _cube(t)[[slice(None), 1]],
    "x[[None, int]]": lambda t: _cube(t)[[None, 1]],
    "x[[ints]] stays one index": lambda t: _cube(t)[[1, 0, 1]],
    "x[[rows, cols]] = v": lambda t: _set(t, t.zeros(3, 3), [[0, 1], [2, 0]], 5.0),
    # advanced indices separated by a slice, and ints among them
    "x[[0, 1], :, [1, 2]]": lambda t: _cube(t)[[0, 1], :, [1, 2]],
    "x[0, :, [1, 2]]": lambda t: _cube(t)[0, :, [1, 2]],
    "x[None, [0, 1], :, [1, 2]]": lambda t: _cube(t)[None, [0, 1], :, [1, 2]],
    # writing a tensor of another dtype at integer or boolean indices
    "x[[0, 1]] = float32 into float64": lambda t: _set(t, t.zeros(3, dtype=t.float64), [0, 1], t.ones(2)),
    "x[mask] = int64 into float32": lambda t: _set(t, t.zeros(3), t.tensor([True, False, True]), t.tensor([1, 2])),
    "x[[0, 1]] = 0-d int64": lambda t: _set(t, t.zeros(3), [0, 1], t.tensor(5)),
    "x[0:2] = float32 into float64 converts": lambda t: _set(t, t.zeros(3, dtype=t.float64), slice(0, 2), t.ones(2)),
    "x[mask] = a number": lambda t: _set(t, t.zeros(3), t.tensor([True, False, True]), 7),
    "index_put_ float64 into float32": lambda t: t.zeros(3).index_put_((t.tensor([0]),), t.tensor([1.0], dtype=t.float64)),
    # scatter's older reduce= and value=
    "scatter reduce add": lambda t: t.zeros(3, 4).scatter(1, t.tensor([[0, 0], [1, 1], [3, 3]]), t.ones(3, 2), reduce="add"),
    "scatter reduce multiply number": lambda t: t.full((3, 4), 2.0).scatter(1, t.tensor([[0, 0], [1, 1], [3, 3]]), 3.0, reduce="multiply"),
    "scatter_ reduce add number": lambda t: t.zeros(2, 3).scatter_(1, t.tensor([[0, 0], [2, 1]]), 1.5, reduce="add"),
    "scatter reduce mean refused": lambda t: t.zeros(3).scatter(0, t.tensor([0]), t.ones(1), reduce="mean"),
    "scatter value=": lambda t: t.zeros(2, 3).scatter(1, t.tensor([[0], [2]]), value=2.0),
    "scatter_reduce max": lambda t: t.zeros(3).scatter_reduce(0, t.tensor([0, 0]), t.tensor([-1.0, 2.0]), "max"),
    "scatter_reduce min": lambda t: t.zeros(3).scatter_reduce(0, t.tensor([0, 1]), t.tensor([-1.0, 2.0]), "min"),
    "gather sparse_grad": lambda t: t.arange(6.0).reshape(2, 3).gather(1, t.tensor([[2], [0]]), sparse_grad=False),
    # cat's legacy 1-D empty tensor: skipped, but its dtype counts
    "cat empty float with long": lambda t: t.cat([t.tensor([]), t.ones(2, 3, dtype=t.long)]),
    "cat empty along dim 1": lambda t: t.cat([t.ones(2, 3), t.tensor([]), t.zeros(2, 1)], 1),
    "cat only empties": lambda t: t.cat([t.tensor([]), t.tensor([])]),
    "stack of nothing": lambda t: t.stack([]),
    # unique: every nan is distinct
    "unique with nan": lambda t: t.unique(t.tensor([1.0, float("nan"), 1.0, float("nan"), 0.0]), return_inverse=True, return_counts=True),
    # errors of the right type
    "take int32 index": lambda t: t.ones(3).take(t.tensor([0], dtype=t.int32)),
    "take out of range": lambda t: t.ones(3).take(t.tensor([-4])),
    "take_along_dim int32 with dim": lambda t: t.take_along_dim(t.ones(3), t.tensor([0], dtype=t.int32), 0),
    "take_along_dim int32 flattened": lambda t: t.take_along_dim(t.ones(2, 2), t.tensor([3], dtype=t.int32)),
    "masked_select uint8 mask": lambda t: t.ones(3).masked_select(t.tensor([1, 0, 1], dtype=t.uint8)),
    "bincount of floats": lambda t: t.bincount(t.tensor([1.0, 2.0])),
    "repeat_interleave output_size wrong": lambda t: t.tensor([1, 2]).repeat_interleave(t.tensor([1, 2]), output_size=5),
    "repeat_interleave output_size right": lambda t: t.tensor([1, 2]).repeat_interleave(t.tensor([1, 2]), output_size=3),
    "repeat_interleave counts output_size": lambda t: t.repeat_interleave(t.tensor([1, 0, 2]), output_size=3),
    "0-d tensor indexed by an int": lambda t: t.tensor(5.0)[0],
    "too many indices": lambda t: t.ones(3)[0, 0],
    "negative step": lambda t: t.ones(3)[::-1],
    # views: writing into diagonal() (and a row of an expand) writes into x; diag() copies
    "diagonal is a view": lambda t: _write_into(t, lambda x: x.diagonal()),
    "diagonal below is a view": lambda t: _write_into(t, lambda x: x.diagonal(-1)),
    "diagonal of a transpose is a view": lambda t: _write_into(t, lambda x: x.t().diagonal(1)),
    "diagonal of dims (2, 0) is a view": lambda t: _write_into(t, lambda x: x.reshape(1, 3, 4).diagonal(0, 2, 0)),
    "diagonal set by index": lambda t: _set_diagonal(t, t.zeros(3, 3), [0, 2], 5.0),
    "diagonal set by mask": lambda t: _set_diagonal(t, t.zeros(3, 3), t.tensor([True, False, True]), 5.0),
    "diagonal strides": lambda t: (_cube(t).diagonal(0, 1, 2).stride(), _cube(t).diagonal(0, 1, 2).storage_offset()),
    "diag copies": lambda t: _write_into(t, lambda x: t.diag(x)),
    "diag node": lambda t: t.diag(t.ones(2, 2, requires_grad=True)).grad_fn.name(),
    "ridge on the diagonal": _ridge,
    "a row of an expand is a view": _expanded_row,
    "all of an expand refused": lambda t: t.zeros(1, 4).expand(3, 4).add_(1),
    "flip a dim twice": lambda t: t.ones(3, 3).flip(0, 0),
    "mT of a vector": lambda t: t.ones(3).mT,
    "mT of a 0-d tensor": lambda t: t.tensor(2.0).mT,
    "mT of a batch": lambda t: t.arange(24.0).reshape(2, 3, 4).mT,
    "tensor_split by float tensor": lambda t: t.ones(3).tensor_split(t.tensor([1.0])),
    "tensor_split by long tensor": lambda t: t.arange(5).tensor_split(t.tensor([1, 3])),
    "narrow negative length": lambda t: t.ones(3).narrow(0, 0, -1),
    "transpose is a view": lambda t: _write_into(t, lambda x: x.transpose(0, 1)[0]),
    "advanced indexing copies": lambda t: _write_into(t, lambda x: x[[0, 1]]),
    "True beside index lists": lambda t: t.arange(24.0).reshape(2, 3, 4)[True, [0, 1], [1]],
    "index list then True": lambda t: t.arange(24.0).reshape(2, 3, 4)[[0, 1], True],
    "True, an int and an index list": lambda t: t.arange(24.0).reshape(2, 3, 4)[0, True, [1, 2]],
    "None, True and index lists": lambda t: t.arange(24.0).reshape(2, 3, 4)[None, [0, 1], True, [1]],
}


@pytest.mark.parametrize("name", list(SAME_AS_PYTORCH))
def test_behaves_as_pytorch(name):
    call = SAME_AS_PYTORCH[name]
    ours, theirs = outcome(chainrule, call), outcome(torch, call)
    assert ours[0] == theirs[0], f"{name}: chainrule gave {ours}, PyTorch {theirs}"
    assert_same(ours[1], theirs[1])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: chainrule.zeros(3, dtype=chainrule.float64).__setitem__([0, 1], chainrule.ones(2)),
         r"Index put requires the source and destination dtypes match, got Double for the destination and Float for the source"),
        (lambda: chainrule.ones(3).take(chainrule.tensor([3])), r"out of range: tried to access index 3 on a tensor of 3 elements"),
        (lambda: chainrule.ones(3).take(chainrule.tensor([0], dtype=chainrule.int32)), r"take\(\): Expected a long tensor for index, but got Int"),
        (lambda: chainrule.tensor(5.0)[0], r"invalid index of a 0-dim tensor. Use `tensor.item\(\)`"),
        (lambda: chainrule.ones(3)[0, 0], r"too many indices for tensor of dimension 1"),
        (lambda: chainrule.ones(3).masked_select(chainrule.tensor([1, 0, 1])), r"masked_select: expected BoolTensor for mask"),
        (lambda: chainrule.bincount(chainrule.tensor([0.5])), r"\"bincount_cpu\" not implemented for 'Float'"),
        (lambda: chainrule.zeros(3).scatter(0, chainrule.tensor([0]), chainrule.ones(1), reduce="mean"),
         r"reduce argument must be either add or multiply"),
        (lambda: chainrule.stack([]), r"stack expects a non-empty TensorList"),
        (lambda: chainrule.ones(3, 3).flip(0, 0), r"dim 0 appears multiple times in the list of dims"),
        (lambda: chainrule.ones(3).mT, r"tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor"),
        (lambda: chainrule.ones(3).narrow(0, 0, -1), r"narrow\(\): length must be non-negative"),
        (lambda: chainrule.ones(3).tensor_split(chainrule.tensor([1.0])),
         r"tensor_split expected tensor_indices_or_sections to have dtype of long, but got Float"),
        (lambda: chainrule.tensor([1, 2]).repeat_interleave(chainrule.tensor([1, 2]), output_size=5),
         r"allocated size does not match required size"),
        (lambda: chainrule.zeros(2).__setitem__(0, chainrule.ones(3)),
         r"the number of sizes provided \(0\) must be greater or equal to the number of dimensions in the tensor \(1\)"),
    ],
)
def test_errors_in_pytorchs_words(call, message):
    with pytest.raises(Exception, match=message):
        call()


def test_scatter_with_a_tensor_and_reduce_warns_as_pytorch():
    with pytest.warns(UserWarning, match="The reduce argument of torch.scatter with Tensor src is deprecated"):
        chainrule.zeros(3).scatter(0, chainrule.tensor([0, 0]), chainrule.ones(2), reduce="add")


@pytest.mark.parametrize("key", [
    lambda lib: [lib.tensor([0, 1]), lib.tensor([2, 3])], lambda lib: [[0, 1], [2, 3]], lambda lib: [slice(None), 1],
    lambda lib: [None, 0], lambda lib: [0, 1], lambda lib: [True, False, True, True],
], ids=["tensors", "lists", "slice", "None", "ints", "bools"])
def test_a_list_read_as_a_tuple_of_indices_warns_as_pytorch(key):
    """PyTorch warns where it reads a list key as a tuple (``m[[rows, cols]]``, HistogramLoss's
    indexing), once for a read and once for a write; never for a list of ints or bools."""
    counts = []
    for lib in (chainrule, torch):
        matrix = lib.arange(16.0).reshape(4, 4)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            read = matrix[key(lib)]
            matrix[key(lib)] = 0.0
        counts.append(([str(each.message)[:50] for each in caught], [each.filename for each in caught], read.tolist(), matrix.tolist()))
    assert counts[0] == counts[1]


def _gradients(lib, function, *values):
    leaves = [lib.tensor(value, dtype=lib.float64, requires_grad=True) for value in values]
    out = function(lib, *leaves)
    weights = lib.arange(out.numel(), dtype=lib.float64).reshape(out.shape) * 0.37 + 1
    (out * weights).sum().backward()
    return [out.detach().numpy()] + [leaf.grad.numpy() for leaf in leaves]


def _diagonal_written_in_place(lib, x, v):
    y = x * 1
    y.diagonal().add_(v * 2)
    y.diagonal(1).mul_(v[:2])
    return y


def _diagonal_set(lib, x, v):
    y = x * 1
    y.diagonal()[[0, 2]] = v[1:] ** 2
    return y


def _index_as_tuple(lib, x, v):
    y = x[[lib.tensor([0, 2, 2]), lib.tensor([1, 0, 0])]] * 1
    z = x * 1
    z[[[0, 1], [2, 2]]] = v[:2]
    return y.sum() + z


GRADIENT_CASES = {
    "write into diagonal": (_diagonal_written_in_place, [np.arange(9.0).reshape(3, 3), [1.0, -2.0, 3.0]]),
    "set on diagonal": (_diagonal_set, [np.arange(9.0).reshape(3, 3), [1.0, -2.0, 3.0]]),
    "diagonal of 3-d": (lambda lib, x: x.diagonal(1, 2, 0), [np.arange(24.0).reshape(2, 3, 4)]),
    "diag of a matrix": (lambda lib, x: lib.diag(x, -1), [np.arange(12.0).reshape(3, 4)]),
    "list of index tensors": (_index_as_tuple, [np.arange(9.0).reshape(3, 3), [1.0, -2.0, 3.0]]),
    "scatter reduce add": (lambda lib, x, s: x.scatter(1, lib.tensor([[0, 0], [1, 3], [3, 3]]), s, reduce="add") * 1,
                           [np.arange(12.0).reshape(3, 4), np.arange(6.0).reshape(3, 2) + 1]),
    "cat with empties": (lambda lib, x, e: lib.cat([e, x, e], 1), [np.arange(6.0).reshape(2, 3), np.zeros(0)]),
}


@pytest.mark.parametrize("name", list(GRADIENT_CASES))
def test_gradients_match_pytorch_and_finite_differences(name):
    function, values = GRADIENT_CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = _gradients(chainrule, function, *values)
        if name == "scatter reduce add":  # PyTorch has no derivative for scatter(reduce=): its scatter_add's
            theirs = _gradients(torch, lambda lib, x, s: x.scatter_add(1, lib.tensor([[0, 0], [1, 3], [3, 3]]), s), *values)
        else:
            theirs = _gradients(torch, function, *values)
        for mine, expected in zip(ours, theirs):
            np.testing.assert_allclose(mine, expected, rtol=1e-10, atol=1e-12)
        leaves = [chainrule.tensor(value, dtype=chainrule.float64, requires_grad=True) for value in values]
        assert gradcheck(lambda *inputs: function(chainrule, *inputs), leaves)


def test_writing_into_diagonal_without_gradients_and_its_version():
    x = chainrule.ones(3, 3, requires_grad=True)
    with chainrule.no_grad():
        x.diagonal().fill_(0)
    assert x.tolist() == [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x.diagonal().fill_(2)
    y = x.exp()
    y.diagonal().zero_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize(
    "key",
    ["[:, 0::2]", "[0]", "[0, lib.tensor([0])]", "[None]", "[..., 0]", "[1, [0, 2]]", "[...]", "[:]", "[0:4]", "[lib.tensor([0])]", "[w > 0]", "[:, [0, 1]]"],
)
def test_assigning_into_a_leaf_names_the_view_where_pytorch_does(key):
    """``w[key] = 1`` into a leaf that requires grad: where the key's ints and slices take part of w,
    PyTorch writes through that view and names it ("a view of a leaf Variable ..."), else "a leaf
    Variable ..." (NYU DL's transformer notebook prints the message)."""
    messages = []
    for lib in (chainrule, torch):
        w = lib.zeros(4, 3, requires_grad=True)
        with pytest.raises(RuntimeError) as raised:
            exec(f"w{key} = 1.0", {"lib": lib, "w": w})
        messages.append(str(raised.value).split(" requires grad")[0])
    assert messages[0] == messages[1]


def test_in_place_through_diagonal_like_pytorch():
    def function(lib, a):
        x = a * 1
        x.diagonal().mul_(3)
        return (x * x).sum()

    (out, ours), (expected, theirs) = both(function, [[1.0, 2.0], [3.0, 4.0]])
    out.backward()
    expected.backward()
    assert out.item() == pytest.approx(expected.item())
    np.testing.assert_allclose(ours[0].grad._array, theirs[0].grad.numpy())


@pytest.mark.parametrize("write", [
    lambda lib, x: x.__setitem__(lib.tensor([True, False, True]), lib.tensor(7)),
    lambda lib, x: x.__setitem__(x == 0, lib.tensor(0.5, dtype=lib.float64)),
    lambda lib, x: x.__setitem__([True, False, True], lib.tensor(4)),
    lambda lib, x: x.__setitem__(lib.tensor([0, 2]), lib.tensor(7)),  # an integer index: PyTorch's dtype error
    lambda lib, x: x.__setitem__(lib.tensor([True, False, True]), lib.tensor([7, 8])),  # two values: the error too
], ids=["int value at a mask", "float64 value at a comparison", "list mask", "integer index", "two values"])
def test_one_value_written_at_a_mask_is_cast_as_pytorchs_masked_fill(write):
    """PyTorch writes a one-element value at a lone boolean mask with masked_fill_, which casts it."""
    outcomes = []
    for lib in (chainrule, torch):
        x = lib.zeros(3)
        try:
            write(lib, x)
            outcomes.append((x.tolist(), str(x.dtype).split(".")[-1]))
        except RuntimeError as error:
            outcomes.append(("RuntimeError", str(error)[:40]))
    assert outcomes[0] == outcomes[1]


def test_a_numpy_integer_beside_index_arrays_selects_as_a_python_int():
    """x[np.int64(0), :, [0, 1]] (an index from np.argmax): PyTorch reads the NumPy integer as an
    int, selected first; NumPy's rule would count it among the advanced indices."""
    values = np.arange(24.0).reshape(2, 3, 4)
    results = [lib.tensor(values)[np.int64(0), :, [0, 1]].tolist() for lib in (chainrule, torch)]
    assert results[0] == results[1]
