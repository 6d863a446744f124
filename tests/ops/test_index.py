"""Indexing: the table runs gradcheck and the PyTorch comparison; then accumulation, setitem and errors."""
from functools import partial

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import library_case, one_shape, table_test
from tests.ops.second_order import second_order_test


def positions(shape, size):
    """Integer positions in [0, size) filling ``shape``, repeating once there are more than ``size``."""
    count = int(np.prod(shape, dtype=np.int64))
    return (np.arange(count) * 5 % size).reshape(shape)


def pattern_mask(shape):
    """A boolean mask of ``shape`` with every third element set (fixed, so gradcheck cannot flip it)."""
    return np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape) % 3 == 0


def gather_index(shape, dim):
    """An index for gather along ``dim``: 3 positions there, one less than x elsewhere (at least 1)."""
    index_shape = [max(size - 1, 1) for size in shape]
    index_shape[dim] = 3
    return positions(tuple(index_shape), shape[dim])


def scatter_into(lib, a, src, dim, accumulate):
    """x.scatter_add(dim, index, src), with repeated positions; or x.scatter with distinct ones per column."""
    if accumulate:
        index = positions(src.shape, a.shape[dim])
    else:
        index = np.argsort(positions(src.shape, 97), axis=dim)
    return (lib.scatter_add if accumulate else lib.scatter)(a, dim, lib.tensor(index), src)


def reduce_into(lib, a, src, reduce, include_self=True):
    """x.scatter_reduce(0, index, src, reduce) with repeated positions, some of x's never named."""
    index = positions(src.shape, a.shape[0]) % max(a.shape[0] - 1, 1)
    return lib.scatter_reduce(a, 0, lib.tensor(index), src, reduce, include_self=include_self)


reduce_shapes = st.sampled_from([((3, 4), (5, 3)), ((2, 3), (2, 3)), ((4,), (6,)), ((3, 2), (1, 2))])


def set_rows(lib, a):
    b = a * 1
    b[0] = 0.5
    b[..., -1] = -2.0
    return b


def set_with_value(lib, a, value):
    b = a * 2
    b[1:, [0, -1]] = value * 3
    return b


def set_at(a, key, value):
    b = a * 1
    b[key] = value
    return b


def set_with_mask(lib, a, value):
    b = a + 0
    b[lib.tensor(pattern_mask(a.shape))] = value
    return b


matrices = one_shape(min_dims=2, max_dims=2, min_side=2)
cubes = one_shape(min_dims=3, max_dims=3, min_side=2)

CASES = [
    library_case("int", lambda lib, a: a[0], one_shape(min_dims=1)),
    library_case("negative_int", lambda lib, a: a[-1, 0], one_shape(min_dims=2)),
    library_case("slices", lambda lib, a: a[1:, ::2], one_shape(min_dims=2)),
    library_case("slice_step_and_stop", lambda lib, a: a[::3, 1:3], one_shape(min_dims=2, max_side=5)),
    library_case("none_and_ellipsis", lambda lib, a: a[None, ..., 0], one_shape(min_dims=1)),
    library_case("ellipsis_only", lambda lib, a: a[...] * 2, one_shape()),
    library_case("repeated_list", lambda lib, a: a[[0, 0, -1]], one_shape(min_dims=1)),
    library_case("int_tensor_2d", lambda lib, a: a[lib.tensor(positions((2, 5), a.shape[0]))], one_shape(min_dims=1)),
    library_case("mixed_tuple", lambda lib, a: a[[0, -1, 0], ..., 1:], one_shape(min_dims=2)),
    library_case("separated_arrays", lambda lib, a: a[[1, 0], :, [0, 0]], cubes),
    library_case("range_and_list", lambda lib, a: a[range(2), [0, 0]], matrices),
    library_case("array_and_int", lambda lib, a: a[lib.tensor([1, 1]), -1], matrices),
    library_case("int_slice_array", lambda lib, a: a[0, :, [1, 0, 1]], cubes),
    library_case("int_two_slices_array", lambda lib, a: a[-1, :, :, lib.tensor([[0, 1], [1, 1]])], one_shape(min_dims=4, max_dims=4, min_side=2, max_side=3)),
    library_case("slice_int_slice_array", lambda lib, a: a[:, 1, :, [0, 1, 0]], one_shape(min_dims=4, max_dims=4, min_side=2, max_side=3)),
    library_case("none_int_slice_array", lambda lib, a: a[None, 0, ..., [1, 1]], cubes),
    library_case("array_slice_int", lambda lib, a: a[[1, 0, 1], :, 0], cubes),
    library_case("int_slice_mask", lambda lib, a: a[1, :, lib.tensor(pattern_mask(a.shape[2:]))], cubes),
    library_case("setitem_int_slice_array", lambda lib, a, value: set_at(a, (0, slice(None), [1, 0]), value), st.just(((2, 3, 2), (3, 2)))),
    library_case("bool_mask_full", lambda lib, a: a[lib.tensor(pattern_mask(a.shape))], one_shape()),
    library_case("bool_mask_rows", lambda lib, a: a[lib.tensor(pattern_mask(a.shape[:1]))], one_shape(min_dims=1)),
    library_case("bool_list", lambda lib, a: a[[True, False]], one_shape(min_dims=1, min_side=2, max_side=2)),
    library_case("setitem_non_leaf", set_rows, one_shape(min_dims=1)),
    library_case("setitem_tensor_value", set_with_value, st.sampled_from([((3, 4), (2, 2)), ((3, 4), (2,)), ((2, 3), ()), ((3, 2, 2), (1, 2, 2))])),
    library_case("setitem_mask_value", set_with_mask, one_shape(min_dims=1).map(lambda shapes: shapes + ((),))),
    library_case("gather_dim0", lambda lib, a: lib.gather(a, 0, lib.tensor(gather_index(a.shape, 0))), one_shape(min_dims=1)),
    library_case("gather_last", lambda lib, a: a.gather(-1, lib.tensor(gather_index(a.shape, -1))), one_shape(min_dims=1)),
    library_case("take_along_dim", lambda lib, a: lib.take_along_dim(a, lib.tensor(positions((a.shape[0], 2), a.shape[1])[:, None, :]), 2), st.just(((3, 1, 4),))),
    library_case("take_along_dim_flat", lambda lib, a: lib.take_along_dim(a, lib.tensor(positions((4,), max(a.numel(), 1)))), one_shape()),
    library_case("take", lambda lib, a: lib.take(a, lib.tensor(positions((2, 3), max(a.numel(), 1)))), one_shape()),
    library_case("index_select_rows", lambda lib, a: lib.index_select(a, 0, lib.tensor(positions((7,), a.shape[0]))), one_shape(min_dims=1)),
    library_case("index_select_last", lambda lib, a: a.index_select(-1, lib.tensor([0, a.shape[-1] - 1, 0])), one_shape(min_dims=1)),
    library_case("unfold_windows", lambda lib, a: a.unfold(0, min(2, a.shape[0]), 1), one_shape(min_dims=1)),
    library_case("unfold_strided_last", lambda lib, a: a.unfold(-1, 1, 2), one_shape()),
    library_case("unfold_overlapping", lambda lib, a: a.unfold(1, 3, 2), st.sampled_from([((2, 7),), ((3, 3, 1),), ((1, 5, 2),)])),
    # as_strided: im2col's overlapping windows (gradients add up), a view's memory, offsets, stride 0
    library_case("as_strided_windows", lambda lib, a: a.as_strided((3, 3, 2, 2), (4, 1, 4, 1)), st.just(((4, 4),))),
    library_case("as_strided_of_a_view", lambda lib, a: lib.as_strided(a.t()[1:], (2, 3), (4, 1)), st.just(((2, 4),))),
    # reading an element of the base outside the view: its value, but no gradient (PyTorch's rule, not a derivative)
    library_case("as_strided_past_a_view", lambda lib, a: lib.as_strided(a.t()[1:], (2, 3), (1, 2)), st.just(((2, 4),)), gradcheck=False),
    library_case("as_strided_offset", lambda lib, a: a.as_strided((2,), (3,), storage_offset=2), st.just(((6,),))),
    library_case("as_strided_repeat", lambda lib, a: a.as_strided((3, 2), (0, 1)), st.just(((2,),))),
    library_case("as_strided_0d", lambda lib, a: a.as_strided((), ()) * 2, st.just(((),))),
    library_case("as_strided_empty", lambda lib, a: a.as_strided((0, 2), (1, 1), 9), st.just(((3,),))),
    library_case("masked_fill", lambda lib, a: a.masked_fill(lib.tensor(pattern_mask(a.shape)), -1.5), one_shape()),
    library_case("masked_fill_broadcast_mask", lambda lib, a: lib.masked_fill(a, lib.tensor(pattern_mask(a.shape[-1:])), 0.0), one_shape(min_dims=1)),
    library_case("masked_fill_tensor_value", lambda lib, a, value: a.masked_fill(lib.tensor(pattern_mask(a.shape)), value), one_shape().map(lambda shapes: shapes + ((),))),
    library_case("masked_select", lambda lib, a: lib.masked_select(a, lib.tensor(pattern_mask(a.shape[-1:]))), one_shape(min_dims=1)),
    library_case("scatter_add", partial(scatter_into, dim=0, accumulate=True), st.sampled_from([((3, 4), (5, 3)), ((2, 3), (2, 3)), ((4,), (6,))])),
    library_case("scatter_add_last", partial(scatter_into, dim=-1, accumulate=True), st.sampled_from([((3, 4), (2, 6)), ((2, 2, 3), (2, 1, 3))])),
    library_case("diagonal", lambda lib, a: lib.diagonal(a), one_shape(min_dims=2)),
    library_case("diagonal_offset_dims", lambda lib, a: a.diagonal(1, -1, 0), one_shape(min_dims=2)),
    library_case("diagonal_below", lambda lib, a: lib.diagonal(a, -1, 1, 2), one_shape(min_dims=3)),
    library_case("diag_of_matrix", lambda lib, a: lib.diag(a, 1), matrices),
    library_case("diag_of_vector", lambda lib, a: a.diag(-1), one_shape(min_dims=1, max_dims=1)),
    library_case("diag_embed", lambda lib, a: lib.diag_embed(a), one_shape(min_dims=1)),
    library_case("diag_embed_dims", lambda lib, a: a.diag_embed(-1, 0, 2), one_shape(min_dims=2)),
    library_case("diagflat", lambda lib, a: lib.diagflat(a, 1), one_shape()),
    library_case("trace", lambda lib, a: lib.trace(a), one_shape(min_dims=2, max_dims=2)),
    library_case("narrow", lambda lib, a: lib.narrow(a, -1, 1, a.shape[-1] - 1), one_shape(min_dims=1)),
    library_case("narrow_negative_start", lambda lib, a: a.narrow(0, -1, 1), one_shape(min_dims=1)),
    library_case("select", lambda lib, a: lib.select(a, -1, 0), one_shape(min_dims=1)),
    library_case("select_method", lambda lib, a: a.select(0, -1) * 2, one_shape(min_dims=1)),
    library_case("repeat_interleave_flat", lambda lib, a: lib.repeat_interleave(a, 2), one_shape()),
    library_case("repeat_interleave_counts", lambda lib, a: a.repeat_interleave(lib.tensor(positions(a.shape[:1], 3)), 0), one_shape(min_dims=1)),
    library_case("repeat_interleave_dim", lambda lib, a: a.repeat_interleave(3, dim=-1), one_shape(min_dims=1)),
    library_case("index_add", lambda lib, a, src: lib.index_add(a, 0, lib.tensor(positions(src.shape[:1], a.shape[0])), src), st.sampled_from([((3, 2), (5, 2)), ((4,), (2,)), ((2, 3, 1), (1, 3, 1))])),
    library_case("index_add_alpha_in_place", lambda lib, a, src: (a * 1).index_add_(-1, lib.tensor([1, 1, 0]), src, alpha=-2.0), st.just(((2, 3), (2, 3)))),
    library_case("index_copy", lambda lib, a, src: a.index_copy(1, lib.tensor([2, 0]), src), st.just(((2, 3, 2), (2, 2, 2)))),
    library_case("index_copy_in_place", lambda lib, a, src: (a * 1).index_copy_(0, lib.tensor([1]), src), st.just(((3, 2), (1, 2)))),
    library_case("index_fill", lambda lib, a: lib.index_fill(a, -1, lib.tensor([0, -1, 0]), -1.5), one_shape(min_dims=1)),
    library_case("index_fill_tensor_value", lambda lib, a, value: (a * 1).index_fill_(0, lib.tensor([1, 1]), value), st.just(((3, 2), ()))),
    library_case("scatter_reduce_sum", partial(reduce_into, reduce="sum"), reduce_shapes),
    library_case("scatter_reduce_sum_without_self", partial(reduce_into, reduce="sum", include_self=False), reduce_shapes),
    library_case("scatter_reduce_mean", partial(reduce_into, reduce="mean"), reduce_shapes),
    library_case("scatter_reduce_mean_without_self", partial(reduce_into, reduce="mean", include_self=False), reduce_shapes),
    library_case("scatter_reduce_amax", partial(reduce_into, reduce="amax"), reduce_shapes),
    library_case("scatter_reduce_amin_without_self", partial(reduce_into, reduce="amin", include_self=False), reduce_shapes),
    library_case("scatter_reduce_amax_ties", lambda lib, a, src: lib.scatter_reduce(a.round(), 0, lib.tensor([[0, 0], [0, 1], [1, 1]]), src.round(), "amax"), st.just(((2, 2), (3, 2))), gradcheck=False),
    library_case("scatter_reduce_amax_onto_minus_inf", lambda lib, src: src.new_full((3, 2), -float("inf")).scatter_reduce(0, lib.tensor([[0, 0], [0, 1]]), src, "amax", include_self=False), st.just(((2, 2),))),
    library_case("scatter_reduce_amin_onto_inf", lambda lib, src: src.new_full((3, 2), float("inf")).scatter_reduce(0, lib.tensor([[0, 0], [0, 1]]), src, "amin"), st.just(((2, 2),))),
    library_case("scatter_reduce_prod", partial(reduce_into, reduce="prod"), reduce_shapes),
    library_case("scatter_reduce_prod_without_self", partial(reduce_into, reduce="prod", include_self=False), reduce_shapes),
    library_case("scatter", partial(scatter_into, dim=0, accumulate=False), st.sampled_from([((3, 4), (3, 4)), ((4,), (2,)), ((2, 3), (1, 2))])),
]


test_op = table_test(CASES)
test_second_order = second_order_test(CASES)


# ----------------------------------------------------------------------------- accumulation
@pytest.mark.parametrize(
    "read",
    [
        lambda lib, x: x[[0, 0, 2]],
        lambda lib, x: x[lib.tensor([[0, 0], [2, 0]])],
        lambda lib, x: lib.index_select(x, 0, lib.tensor([0, 0, 2])),
        lambda lib, x: x.gather(0, lib.tensor([[0, 0], [0, 2]])),
    ],
)
def test_repeated_positions_accumulate_their_gradients(read):
    ours = chainrule.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    theirs = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    out = read(chainrule, ours)
    out.backward(chainrule.ones(*out.shape))
    read(torch, theirs).backward(torch.ones(*out.shape))
    np.testing.assert_array_equal(ours.grad._array, theirs.grad.numpy())
    assert ours.grad._array[0].sum() > 2  # x[0] was read more than once


def test_scatter_add_adds_every_value_sent_to_one_position():
    out = chainrule.scatter_add(chainrule.zeros(3), 0, chainrule.tensor([0, 0, 2, 0]), chainrule.ones(4))
    np.testing.assert_array_equal(out._array, [3.0, 0.0, 1.0])


def test_scatter_add_uses_only_the_block_of_src_the_index_covers():
    src = np.arange(6.0).reshape(2, 3)
    ours = chainrule.scatter_add(chainrule.zeros(3, 3), 0, chainrule.tensor([[2, 0]]), chainrule.tensor(src, dtype=chainrule.float32))
    theirs = torch.zeros(3, 3).scatter_add(0, torch.tensor([[2, 0]]), torch.tensor(src, dtype=torch.float32))
    np.testing.assert_array_equal(ours._array, theirs.numpy())


@pytest.mark.parametrize("call", [
    lambda lib, x, i, s: x.clone().scatter_(0, i, s),
    lambda lib, x, i, s: lib.scatter_add(x, 0, i, s),
    lambda lib, x, i, s: x.scatter_reduce(0, i, s, "amax"),
    lambda lib, x, i, s: x.clone().scatter_(0, i, s, reduce="add"),
])
def test_scatter_refuses_a_src_of_another_dtype_as_pytorch(call):
    """Every form of scatter raises PyTorch's RuntimeError for a src whose dtype is not x's (a
    float src into a long confusion matrix), rather than converting it; masked_scatter too."""
    for lib in (chainrule, torch):
        x, i, s = lib.zeros(5, dtype=lib.long), lib.tensor([0, 4]), lib.ones(2)
        with pytest.raises(RuntimeError, match=r"scatter\(\): Expected self.dtype to be equal to src.dtype"):
            call(lib, x, i, s)
        with pytest.raises(RuntimeError, match="masked_scatter: expected self and source to have same dtypes"):
            x.masked_scatter(x == 0, s)


@pytest.mark.parametrize("dtype", ["int16", "uint8", "int8"])
def test_index_select_takes_only_int32_and_int64_positions_as_pytorch(dtype):
    for lib in (chainrule, torch):
        index = lib.tensor([1, 0], dtype=getattr(lib, dtype))
        with pytest.raises(RuntimeError, match=r"index_select\(\): Expected dtype int32 or int64 for index"):
            lib.index_select(lib.ones(2, 2), 1, index)
        assert lib.index_select(lib.eye(2), 1, index.int()).tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_embedding_lookup_gradient_counts_each_use():
    table = chainrule.zeros(1000, 8, requires_grad=True)
    tokens = chainrule.tensor(np.arange(5000) % 7)
    rows = table[tokens]
    assert rows.shape == (5000, 8)
    rows.backward(chainrule.ones(5000, 8))
    np.testing.assert_array_equal(table.grad._array[:7, 0], np.bincount(np.arange(5000) % 7))
    assert not table.grad._array[7:].any()


def test_boolean_mask_selects_like_pytorch():
    values = np.array([[0.5, -1.0, 2.0], [-0.25, 3.0, -4.0]])
    ours = chainrule.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    mask = values > 0
    np.testing.assert_array_equal(ours[chainrule.tensor(mask)]._array, theirs[torch.tensor(mask)].detach().numpy())
    np.testing.assert_array_equal(ours[mask]._array, theirs[torch.tensor(mask)].detach().numpy())
    ours[chainrule.tensor(mask)].backward(chainrule.tensor([1.0, 2.0, 3.0]))
    theirs[torch.tensor(mask)].backward(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    np.testing.assert_array_equal(ours.grad._array, theirs.grad.numpy())


def test_second_order_gradient_through_indexing():
    x = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x[[0, 0, 2]] ** 3
    (grad,) = chainrule.autograd.grad(y, x, grad_outputs=chainrule.ones(3), create_graph=True)
    np.testing.assert_allclose(grad._array, [6.0, 0.0, 27.0])
    grad.backward(chainrule.ones(3))
    np.testing.assert_allclose(x.grad._array, [12.0, 0.0, 18.0])


# ----------------------------------------------------------------------------- setitem
def test_setitem_on_a_non_leaf_then_backward_matches_pytorch():
    def run(lib):
        x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        value = lib.tensor([10.0, 20.0], requires_grad=True)
        y = x * 2
        y[:, 1] = value * value
        y[0, 0] = 0.0
        y.backward(lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
        return y.detach().numpy(), x.grad.numpy(), value.grad.numpy()

    for ours, theirs in zip(run(chainrule), run(torch)):
        np.testing.assert_allclose(ours, theirs)


def test_setitem_on_a_leaf_that_requires_grad_is_refused_outside_no_grad():
    w = chainrule.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w[0] = 1.0
    with chainrule.no_grad():
        w[0] = 1.0
        w[chainrule.tensor([False, True, False])] = 2.0
    np.testing.assert_array_equal(w._array, [1.0, 2.0, 0.0])
    assert w.is_leaf and w.requires_grad


def test_setitem_writes_numbers_and_tensors_in_place():
    x = chainrule.zeros(2, 3)
    x[0] = 1
    x[1, :2] = chainrule.from_numpy(np.array([2.0, 3.0]))
    x[:, 2] = chainrule.tensor([4.0, 5.0])
    np.testing.assert_array_equal(x._array, [[1.0, 1.0, 4.0], [2.0, 3.0, 5.0]])
    assert x.dtype == chainrule.float32


def test_setitem_refuses_an_array_as_pytorch_does():
    x = chainrule.zeros(2, 3)
    with pytest.raises(TypeError, match="can't assign a numpy.ndarray"):
        x[1, :2] = np.array([2.0, 3.0])
    np.testing.assert_array_equal(x._array, np.zeros((2, 3)))


def test_setitem_invalidates_tensors_saved_for_backward():
    x = chainrule.ones(3, requires_grad=True)
    y = x * 1
    z = y * y
    y[0] = 5.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward(chainrule.ones(3))


# ----------------------------------------------------------------------------- other functions
def test_nonzero_matches_pytorch():
    values = np.array([[1, 0, 2], [0, 0, 3]])
    np.testing.assert_array_equal(chainrule.nonzero(chainrule.tensor(values))._array, torch.nonzero(torch.tensor(values)).numpy())
    for ours, theirs in zip(chainrule.nonzero(chainrule.tensor(values), as_tuple=True), torch.nonzero(torch.tensor(values), as_tuple=True)):
        np.testing.assert_array_equal(ours._array, theirs.numpy())
    assert chainrule.nonzero(chainrule.tensor(values)).dtype == chainrule.int64


def test_masked_fill_keeps_the_dtype_and_fills_in_place():
    counts = chainrule.tensor([1, 2, 3])
    assert counts.masked_fill(chainrule.tensor([True, False, True]), 0).dtype == chainrule.int64
    x = chainrule.ones(2, 2)
    x.masked_fill_(chainrule.tensor([True, False]), -1.0)
    np.testing.assert_array_equal(x._array, [[-1.0, 1.0], [-1.0, 1.0]])


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda lib, x: x[5], IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
        (lambda lib, x: x[:, -9], IndexError, "index -9 is out of bounds for dimension 1 with size 4"),
        (lambda lib, x: x[lib.tensor([0, 5])], IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
        (lambda lib, x: x[0, 0, 0], IndexError, "too many indices for tensor"),
        (lambda lib, x: x[lib.tensor([True, False])], IndexError, "3"),
        (lambda lib, x: x[lib.tensor([1.0])], IndexError, "tensors used as indices must be long, int, byte or bool tensors"),
        (lambda lib, x: x.gather(0, lib.tensor([[5]])), RuntimeError, "index 5 is out of bounds for dimension 0 with size 3"),
        (lambda lib, x: x.gather(0, lib.tensor([1])), RuntimeError, "Index tensor must have the same number of dimensions as input tensor"),
        (lambda lib, x: x.gather(0, lib.tensor([[0, 0, 0, 0, 0]])), RuntimeError, r"Size does not match at dimension 1"),
        (lambda lib, x: x.index_select(0, lib.tensor([3])), IndexError, r"^index out of range in self \(index_select: index 3 is not in \[0, 2\]"),
        (lambda lib, x: x.index_select(0, lib.tensor([-1])), IndexError, r"^index out of range in self \(index_select: index -1"),
        (lambda lib, x: x.gather(1, lib.tensor([[-1]])), RuntimeError, "index -1 is out of bounds for dimension 1 with size 4"),
        (lambda lib, x: x.index_select(0, lib.tensor([[0]])), IndexError, "Index is supposed to be a vector"),
        (lambda lib, x: x.unfold(1, 5, 1), RuntimeError, "maximum size for tensor at dimension 1 is 4 but size is 5"),
        (lambda lib, x: x.unfold(0, 2, 0), RuntimeError, "step is 0 but must be > 0"),
        (lambda lib, x: x.unfold(2, 1, 1), IndexError, "Dimension out of range"),
        (lambda lib, x: x.as_strided((2, 4), (4, 1), 8), RuntimeError, "requiring a storage size of 64 are out of bounds for storage of size 48"),
        (lambda lib, x: x.as_strided((2,), (-1,)), RuntimeError, "Negative strides are not supported"),
        (lambda lib, x: x.as_strided((2, 2), (1,)), RuntimeError, "mismatch in length of strides and shape"),
        (lambda lib, x: x.masked_fill(lib.tensor([1, 0, 1, 0]), 0.0), RuntimeError, "masked_fill_ only supports boolean masks"),
        (lambda lib, x: x.masked_fill(lib.tensor([True] * 4), lib.ones(2)), RuntimeError, "only supports a 0-dimensional value tensor"),
    ],
)
def test_index_errors_match_pytorch(call, error, message):
    with pytest.raises(error, match=message):
        call(chainrule, chainrule.zeros(3, 4))
    with pytest.raises(error):
        call(torch, torch.zeros(3, 4))


# ----------------------------------------------------------------------------- bincount, node names
@pytest.mark.parametrize("call", [
    lambda lib: lib.bincount(lib.tensor([0, 2, 2, 5])),
    lambda lib: lib.tensor([1, 1, 3]).bincount(minlength=6),
    lambda lib: lib.bincount(lib.tensor([0, 2, 2]), lib.tensor([0.5, 1.0, 2.0])),
    lambda lib: lib.bincount(lib.tensor([0, 2, 2]), lib.tensor([0.5, 1.0, 2.0], dtype=lib.float64), minlength=5),
    lambda lib: lib.bincount(lib.tensor([3, 0]), lib.tensor([2, 7])),
])
def test_bincount_matches_pytorch(call):
    ours, theirs = call(chainrule), call(torch)
    np.testing.assert_array_equal(ours._array, theirs.numpy())
    assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))


def test_bincount_sends_each_bin_gradient_to_the_weights_that_fell_in_it():
    weights = chainrule.tensor([0.5, 1.0, 2.0], requires_grad=True)
    (chainrule.bincount(chainrule.tensor([0, 2, 2]), weights, minlength=4) * chainrule.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(weights.grad._array, [1.0, 3.0, 3.0])


def test_bincount_refuses_what_pytorch_refuses():
    for positions in ([[0, 1]], [-1, 2], [0.5]):
        with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs"):
            chainrule.bincount(chainrule.tensor(positions))


@pytest.mark.parametrize("call", [
    lambda lib, x, i: x[0], lambda lib, x, i: x[0, 1], lambda lib, x, i: x[:, 1:3], lambda lib, x, i: x[None],
    lambda lib, x, i: x[...], lambda lib, x, i: x[[0, 1]], lambda lib, x, i: x[x > 0], lambda lib, x, i: x.gather(1, i),
    lambda lib, x, i: x.index_select(0, lib.tensor([0, 2])), lambda lib, x, i: x.take(lib.tensor([0, 5])),
    lambda lib, x, i: lib.take_along_dim(x, i, 1), lambda lib, x, i: x.masked_select(x > 0),
    lambda lib, x, i: x.index_put((lib.tensor([0]),), lib.tensor(1.0)), lambda lib, x, i: x.scatter(1, i, lib.ones(3, 1)),
    lambda lib, x, i: x.scatter(1, i, 2.0), lambda lib, x, i: x.scatter_add(1, i, lib.ones(3, 1)),
])
def test_nodes_are_named_as_pytorch_names_them(call):
    names = [call(lib, lib.ones(3, 4, requires_grad=True), lib.tensor([[0], [1], [2]])).grad_fn.name() for lib in (chainrule, torch)]
    assert names[0] == names[1]


def test_indexing_rules_follow_pytorch():
    x = chainrule.tensor([10.0, 20.0, 30.0])
    assert x[chainrule.tensor([1, 0, 1], dtype=chainrule.uint8)].tolist() == [10.0, 30.0]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    assert x.flip(0).tolist() == [30.0, 20.0, 10.0]
    with pytest.raises(RuntimeError, match="boolean tensor"):
        chainrule.where(chainrule.tensor([1, 0, 1]), x, x)
    with pytest.raises(RuntimeError, match="no larger size than src"):
        chainrule.zeros(2, 3).scatter(1, chainrule.tensor([[0, 1], [2, 0]]), chainrule.ones(1, 2))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        chainrule.take_along_dim(chainrule.ones(2, 3), chainrule.tensor([0]), dim=1)


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda lib: lib.zeros(3, 2).index_add(0, lib.tensor([0, 0]), lib.ones(3, 2)), RuntimeError),
        (lambda lib: lib.zeros(3, 2).index_add(0, lib.tensor([0, 0]), lib.ones(2, 2, dtype=lib.float64)), RuntimeError),
        (lambda lib: lib.zeros(3, 2).index_add(0, lib.tensor([0.0]), lib.ones(1, 2)), RuntimeError),
        (lambda lib: lib.zeros(3, 2).index_copy(0, lib.tensor([5]), lib.ones(1, 2)), IndexError),
        (lambda lib: lib.zeros(3, 2).index_add(0, lib.tensor([-1]), lib.ones(1, 2)), RuntimeError),
        (lambda lib: lib.zeros(3, 2).index_add(0, lib.tensor([[0]]), lib.ones(1, 2)), IndexError),
        (lambda lib: lib.zeros(3).index_add(0, lib.tensor([0, 3]), lib.ones(2)), IndexError),  # 1-D: IndexError
        (lambda lib: lib.zeros(3).index_add_(0, lib.tensor([-1]), lib.ones(1)), IndexError),
        (lambda lib: lib.zeros(3, 2).index_fill(0, lib.tensor([0]), lib.ones(2)), RuntimeError),
        (lambda lib: lib.zeros(3, 2).scatter_reduce(0, lib.tensor([[0]]), lib.ones(1, 1), "average"), RuntimeError),
        (lambda lib: lib.ones(3).diagonal(), IndexError),
        (lambda lib: lib.ones(3, 3).diagonal(0, 1, 1), RuntimeError),
        (lambda lib: lib.diag(lib.ones(2, 2, 2)), RuntimeError),
        (lambda lib: lib.trace(lib.ones(3)), RuntimeError),
        (lambda lib: lib.narrow(lib.ones(5), 0, 4, 2), RuntimeError),
        (lambda lib: lib.select(lib.ones(2, 3), 1, 3), IndexError),
        (lambda lib: lib.ones(2, 3).repeat_interleave(lib.tensor([1, 2]), 1), RuntimeError),
    ],
)
def test_new_index_errors_match_pytorch(call, error):
    with pytest.raises(error) as expected:
        call(torch)
    with pytest.raises(error) as got:
        call(chainrule)
    assert " ".join(str(expected.value).split()[:2]) in str(got.value)


@pytest.mark.parametrize("call", [
    lambda lib: lib.tril_indices(3, 4, 1), lambda lib: lib.triu_indices(3, 2, -1), lambda lib: lib.tril_indices(0, 3),
    lambda lib: lib.triu_indices(4, 4, dtype=lib.int32), lambda lib: lib.argwhere(lib.tensor([[0.0, 1.0], [2.0, 0.0]])),
    lambda lib: lib.argwhere(lib.tensor(1.0)), lambda lib: lib.repeat_interleave(lib.tensor([2, 0, 1])),
    lambda lib: lib.arange(6).reshape(2, 3).scatter_reduce(0, lib.tensor([[0, 1, 0], [1, 1, 1]]), lib.tensor([[5, -1, 2], [1, 4, 4]]), "mean"),
    lambda lib: lib.arange(6).reshape(2, 3).scatter_reduce(0, lib.tensor([[0, 1, 0]]), lib.tensor([[5, -1, 2]]), "amin", include_self=False),
    lambda lib: lib.arange(6).reshape(2, 3).index_add(1, lib.tensor([0, 0]), lib.ones(2, 2, dtype=lib.int64)),
    lambda lib: lib.trace(lib.arange(6).reshape(2, 3)), lambda lib: lib.zeros(()).index_fill(0, lib.tensor([0]), 1),
    lambda lib: lib.tensor([[True, False], [False, True]]).scatter_reduce(0, lib.tensor([[0, 0], [1, 1]]), lib.tensor([[False, True], [False, False]]), "amax", include_self=False),
    lambda lib: lib.tensor([[True, False], [True, True]]).scatter_reduce(0, lib.tensor([[0, 0]]), lib.tensor([[False, True]]), "amin", include_self=False),
])
def test_integer_results_match_pytorch(call):
    ours, theirs = call(chainrule), call(torch)
    assert ours.dtype == getattr(chainrule, str(theirs.dtype).split(".")[1])
    np.testing.assert_array_equal(ours._array, theirs.numpy())


@pytest.mark.parametrize("call", [
    lambda lib, x: x.narrow(1, 0, 2), lambda lib, x: x.select(1, 0), lambda lib, x: x.diagonal(),
    lambda lib, x: x.diagonal(0, 1, 0), lambda lib, x: lib.diag_embed(x), lambda lib, x: lib.diag(x[0]),
    lambda lib, x: x.index_add(0, lib.tensor([0]), lib.ones(1, 3)), lambda lib, x: x.index_copy(0, lib.tensor([0]), lib.ones(1, 3)),
    lambda lib, x: x.index_fill(0, lib.tensor([0]), 1.0), lambda lib, x: x.scatter_reduce(0, lib.tensor([[0, 0]]), lib.ones(1, 2), "sum"),
    lambda lib, x: x.scatter_reduce(0, lib.tensor([[0, 0]]), lib.ones(1, 2), "amax"), lambda lib, x: x.scatter_reduce(0, lib.tensor([[0, 0]]), lib.ones(1, 2), "prod"),
])
def test_new_nodes_are_named_as_pytorch_names_them(call):
    names = [call(lib, lib.ones(2, 3, requires_grad=True) * 1).grad_fn.name() for lib in (chainrule, torch)]
    assert names[0] == names[1]


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_gradient_with_zero_factors_matches_pytorch(include_self):
    x = np.array([[1.0, 0.0, 2.0], [3.0, 4.0, 0.0]])
    src = np.array([[0.0, 5.0, 1.0], [2.0, 0.0, 0.0], [3.0, 1.0, 2.0]])
    index = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 1]])
    results = []
    for lib in (chainrule, torch):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(src, requires_grad=True)
        out = a.scatter_reduce(0, lib.tensor(index), b, "prod", include_self=include_self)
        (out * lib.tensor(np.arange(1.0, 7.0).reshape(2, 3))).sum().backward()
        results.append([np.asarray(value.tolist()) for value in (out, a.grad, b.grad)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs)


# ----------------------------------------------------------------------------- writing into views, index_reduce
def reduce_rows(lib, a, source, reduce, include_self=True):
    """a.index_reduce(0, index, source, reduce) with repeated rows and a row of a never named."""
    index = lib.tensor(positions(source.shape[:1], a.shape[0]) % max(a.shape[0] - 1, 1))
    return a.index_reduce(0, index, source, reduce, include_self=include_self)


rows_and_sources = st.sampled_from([((3, 2), (5, 2)), ((4,), (6,)), ((3, 2, 2), (2, 2, 2)), ((2, 3), (1, 3))])

VIEW_CASES = [
    library_case("slice_scatter", lambda lib, a, src: lib.slice_scatter(a, src, 1, 1, None, 2), st.just(((3, 4), (3, 2)))),
    library_case("slice_scatter_dim0", lambda lib, a, src: a.slice_scatter(src, start=-2), st.just(((3, 2), (2, 2)))),
    library_case("slice_scatter_empty", lambda lib, a, src: lib.slice_scatter(a, src, 0, 2, 2), st.just(((3, 2), (0, 2)))),
    library_case("select_scatter", lambda lib, a, src: lib.select_scatter(a, src, -1, 0), st.just(((2, 3), (2,)))),
    library_case("select_scatter_to_0d", lambda lib, a, src: a.select_scatter(src, 0, -1), st.just(((3,), ()))),
    library_case("diagonal_scatter", lambda lib, a, src: lib.diagonal_scatter(a, src), st.just(((3, 4), (3,)))),
    library_case("diagonal_scatter_offset", lambda lib, a, src: a.diagonal_scatter(src, -1), st.just(((3, 3), (2,)))),
    library_case("diagonal_scatter_dims", lambda lib, a, src: lib.diagonal_scatter(a, src, 1, 2, 0), st.just(((3, 2, 4), (2, 2)))),
    library_case("narrow_copy", lambda lib, a: lib.narrow_copy(a, -1, 1, a.shape[-1] - 1), one_shape(min_dims=1)),
    # Not a negative start: PyTorch 2.13's NarrowCopyBackward0 then sends no gradient at all (a bug).
    library_case("narrow_copy_method", lambda lib, a: a.narrow_copy(0, a.shape[0] - 1, 1), one_shape(min_dims=1)),
    library_case("index_reduce_prod", partial(reduce_rows, reduce="prod"), rows_and_sources),
    library_case("index_reduce_prod_without_self", partial(reduce_rows, reduce="prod", include_self=False), rows_and_sources),
    library_case("index_reduce_mean", partial(reduce_rows, reduce="mean"), rows_and_sources),
    library_case("index_reduce_mean_without_self", partial(reduce_rows, reduce="mean", include_self=False), rows_and_sources),
    library_case("index_reduce_amax", partial(reduce_rows, reduce="amax"), rows_and_sources),
    library_case("index_reduce_amin_without_self", partial(reduce_rows, reduce="amin", include_self=False), rows_and_sources),
    library_case("combinations", lambda lib, a: lib.combinations(a), one_shape(min_dims=1, max_dims=1)),
    library_case("combinations_3_with_replacement", lambda lib, a: lib.combinations(a, 3, with_replacement=True), one_shape(min_dims=1, max_dims=1)),
    library_case("combinations_more_than_there_are", lambda lib, a: lib.combinations(a, 5), one_shape(min_dims=1, max_dims=1)),
    library_case("index_reduce_in_place", lambda lib, a, src: (a * 1).index_reduce_(1, lib.tensor([1, 1, 0]), src, "amin"), st.just(((2, 3), (2, 3)))),
]

test_view_op = table_test(VIEW_CASES)
test_view_second_order = second_order_test(VIEW_CASES)


@pytest.mark.parametrize("call", [
    lambda lib: lib.unravel_index(lib.tensor([5, 7, 9, -1, -9]), (2, 4)),
    lambda lib: lib.unravel_index(lib.tensor(5), (3, 2)),
    lambda lib: lib.unravel_index(lib.tensor([[0, 11], [3, 4]], dtype=lib.int32), (2, 3, 2)),
    lambda lib: lib.unravel_index(lib.tensor(1), ()),
    lambda lib: lib.unravel_index(lib.tensor([], dtype=lib.int64), (4,)),
    lambda lib: (lib.arange(6).reshape(2, 3).index_reduce(1, lib.tensor([0, 2, 0]), lib.tensor([[5, 1, 2], [1, 4, 4]]), "mean"),),
    lambda lib: (lib.arange(6).reshape(2, 3).index_reduce(0, lib.tensor([1]), lib.tensor([[5, -1, 2]]), "amax", include_self=False),),
    lambda lib: (lib.arange(6).reshape(3, 2).slice_scatter(lib.zeros(3, 1, dtype=lib.int64), 1, 1),),
    lambda lib: (lib.combinations(lib.tensor([1, 2, 3])), lib.combinations(lib.tensor([1.0, 2.0]), 0), lib.combinations(lib.tensor([]), 2)),
])
def test_unravel_index_and_integer_writes_match_pytorch(call):
    for ours, theirs in zip(*(call(lib) for lib in (chainrule, torch)), strict=True):
        assert ours.dtype == getattr(chainrule, str(theirs.dtype).split(".")[1])
        np.testing.assert_array_equal(ours._array, theirs.numpy())


@pytest.mark.parametrize("call, error", [
    (lambda lib: lib.slice_scatter(lib.zeros(3, 4), lib.ones(3, 3), 1, 0, 4, 2), RuntimeError),
    (lambda lib: lib.select_scatter(lib.zeros(3, 4), lib.ones(3), 0, 1), RuntimeError),
    (lambda lib: lib.select_scatter(lib.zeros(3, 4), lib.ones(4), 0, 5), IndexError),
    (lambda lib: lib.diagonal_scatter(lib.zeros(3, 4), lib.ones(2)), RuntimeError),
    (lambda lib: lib.slice_scatter(lib.zeros(3, 4), lib.ones(3, 4), 2), IndexError),
    (lambda lib: lib.narrow_copy(lib.zeros(3, 4), 1, 2, 3), RuntimeError),
    (lambda lib: lib.zeros(3).index_reduce(0, lib.tensor([0]), lib.ones(1), "sum"), RuntimeError),
    (lambda lib: lib.zeros(3, 2).index_reduce(0, lib.tensor([0, 1]), lib.ones(1, 2), "prod"), RuntimeError),
    (lambda lib: lib.zeros(3).index_reduce(0, lib.tensor([3]), lib.ones(1), "amax"), IndexError),
    (lambda lib: lib.unravel_index(lib.tensor([1.0]), (2, 4)), TypeError),
    (lambda lib: lib.unravel_index(lib.tensor([1]), (2, -4)), ValueError),
    (lambda lib: lib.combinations(lib.ones(2, 2)), RuntimeError),
    (lambda lib: lib.combinations(lib.ones(2), -1), RuntimeError),
    (lambda lib: lib.slice_scatter(lib.zeros(4), lib.ones(2), 0, None, None, -2), RuntimeError),
    (lambda lib: lib.select_scatter(lib.zeros(()), lib.ones(()), 0, 0), IndexError),
    (lambda lib: lib.narrow_copy(lib.tensor(1.0), 0, 0, 1), RuntimeError),
])
def test_view_write_errors_match_pytorch(call, error):
    with pytest.raises(error) as expected:
        call(torch)
    with pytest.raises(error) as got:
        call(chainrule)
    assert type(got.value) is type(expected.value)
    assert str(expected.value).split()[0] in str(got.value)


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.slice_scatter(x, lib.ones(2, 1), 1, 1, 2), lambda lib, x: lib.select_scatter(x, lib.ones(3), 0, 1),
    lambda lib, x: lib.diagonal_scatter(x, lib.ones(2)), lambda lib, x: x.narrow_copy(1, 0, 2),
])
def test_view_write_nodes_are_named_as_pytorch_names_them(call):
    names = [call(lib, lib.ones(2, 3, requires_grad=True) * 1).grad_fn.name() for lib in (chainrule, torch)]
    assert names[0] == names[1]


@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor([0, 1, 0, 2]).nonzero_static(size=3),
    lambda lib: lib.tensor([[0, 1], [1, 1]]).nonzero_static(size=1, fill_value=7),
    lambda lib: lib.nonzero_static(lib.tensor([0.0, 1.0]), size=0),
    lambda lib: lib.nonzero_static(lib.tensor(3.0), size=2),
    lambda lib: lib.nonzero_static(lib.zeros(2, 2), size=2, fill_value=0),
])
def test_nonzero_static_matches_pytorch(call):
    ours, theirs = call(chainrule), call(torch)
    assert ours.dtype == chainrule.int64 and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours._array, theirs.numpy())


def test_nonzero_static_refuses_a_negative_size_as_pytorch_does():
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="'size' must be an non-negative integer"):
            lib.tensor([1]).nonzero_static(size=-1)


@pytest.mark.parametrize(
    "make",
    [lambda lib: lib.zeros(3, dtype=lib.int32).masked_fill(lib.tensor([True, False, True]), float("nan")),
     lambda lib: lib.zeros(3, dtype=lib.uint8).masked_fill(lib.tensor([True, False, True]), -0.97),
     lambda lib: lib.zeros(3, dtype=lib.float16).masked_fill(lib.tensor([True, False, True]), 1e6),
     lambda lib: lib.zeros(3, dtype=lib.int32).index_fill(0, lib.tensor([0]), float("nan")),
     lambda lib: lib.trace(lib.ones(2, 2, dtype=lib.bool)),
     lambda lib: lib.trace(lib.ones(2, dtype=lib.bool)),
     lambda lib: lib.diag_embed(lib.tensor(1.0))],
    ids=["masked_fill_nan_into_int", "masked_fill_fraction_into_uint8", "masked_fill_past_float16", "index_fill_nan_into_int",
         "trace_of_bool", "trace_of_bool_vector", "diag_embed_of_0d"],
)
def test_fills_trace_and_diag_embed_refuse_what_pytorch_refuses(make):
    errors = []
    for lib in (chainrule, torch):
        with pytest.raises(Exception) as caught:
            make(lib)
        errors.append((caught.type, str(caught.value).split(" (got")[0].split(";")[0]))
    assert errors[0] == errors[1]


def test_masked_fill_wraps_a_negative_int_into_uint8_as_pytorch():
    results = [lib.zeros(3, dtype=lib.uint8).masked_fill(lib.tensor([True, False, True]), -3).tolist() for lib in (chainrule, torch)]
    assert results[0] == results[1] == [253, 0, 253]


def test_a_written_value_loses_its_leading_size_one_dimensions_as_in_pytorch():
    """IBM's PyTorch course: ``model.state_dict()['linear.bias'].data[0] = torch.tensor([[-10]])``."""

    def run(lib):
        b = lib.zeros(1)
        b[0] = lib.tensor([[-10.0]])
        z = lib.zeros(2, 3)
        z[0, 1] = lib.tensor([9.0])
        z[1] = lib.tensor([[1.0, 2.0, 3.0]])
        q = lib.zeros(4)
        q[lib.tensor([0, 2])] = lib.tensor([[7.0, 8.0]])
        w, v = lib.zeros(2, 3, requires_grad=True).clone(), lib.tensor([[[5.0]]], requires_grad=True)
        w[1, 2] = v
        w.sum().backward()
        return b.tolist(), z.tolist(), q.tolist(), w.tolist(), v.grad.tolist()

    assert run(chainrule) == run(torch)


def test_scatter_of_a_zero_dimensional_src_reads_it_as_one_element():
    """PyTorch reads a 0-d src as one element along the index's one dimension, gradient included."""
    results = []
    for lib in (chainrule, torch):
        src = lib.tensor(5.0, requires_grad=True)
        written = lib.zeros(3).scatter(0, lib.tensor([1]), src)
        added = lib.zeros(3).scatter_add(0, lib.tensor([2]), src)
        (written + added).sum().backward()
        results.append((written.tolist(), added.tolist(), src.grad.item()))
    assert results[0] == results[1]
