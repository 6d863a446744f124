"""Shape operations: the table runs gradcheck and the PyTorch comparison; then the error messages."""
import numpy as np
import pytest
import torch

import chainrule
from hypothesis import strategies as st

from tests.ops.oracle import library_case, one_shape, table_test
from tests.ops.second_order import second_order_test


def many_ones(min_dims=0, max_dims=4):
    """Shapes rich in size-1 dimensions, for squeeze."""
    return one_shape(min_dims=min_dims, max_dims=max_dims, max_side=2)


CASES = [
    library_case("flip_last", lambda lib, a: a.flip(-1), one_shape(min_dims=1)),
    library_case("flip_two", lambda lib, a: lib.flip(a, (0, -1)), one_shape(min_dims=2)),
    library_case("reshape_flat", lambda lib, a: a.reshape(-1), one_shape()),
    library_case("reshape_reversed", lambda lib, a: a.reshape(tuple(reversed(a.shape))), one_shape()),
    library_case("reshape_column", lambda lib, a: lib.reshape(a, (-1, 1)), one_shape()),
    library_case("view_flat", lambda lib, a: a.view(-1), one_shape()),
    library_case("view_as", lambda lib, a: (a * 2).view(a.numel(), 1).view_as(a), one_shape()),
    library_case("flatten", lambda lib, a: lib.flatten(a), one_shape()),
    library_case("flatten_from_1", lambda lib, a: a.flatten(1), one_shape(min_dims=2)),
    library_case("flatten_middle", lambda lib, a: a.flatten(0, -2), one_shape(min_dims=2)),
    library_case("squeeze_all", lambda lib, a: a.squeeze(), many_ones()),
    library_case("squeeze_first", lambda lib, a: a.squeeze(0), many_ones(min_dims=1)),
    library_case("squeeze_tuple", lambda lib, a: lib.squeeze(a, (0, -1)), many_ones(min_dims=2)),
    library_case("unsqueeze_front", lambda lib, a: a.unsqueeze(0), one_shape()),
    library_case("unsqueeze_back", lambda lib, a: lib.unsqueeze(a, -1), one_shape()),
    library_case("transpose_ends", lambda lib, a: a.transpose(0, -1), one_shape()),
    library_case("transpose_01", lambda lib, a: lib.transpose(a, 0, 1), one_shape(min_dims=2)),
    library_case("swapaxes", lambda lib, a: lib.swapaxes(a, -1, 0), one_shape(min_dims=1)),
    library_case("t", lambda lib, a: a.t(), one_shape(max_dims=2)),
    library_case("T", lambda lib, a: a.T, one_shape()),
    library_case("mT", lambda lib, a: a.mT, one_shape(min_dims=2)),
    library_case("permute", lambda lib, a: a.permute(2, 0, 1), one_shape(min_dims=3, max_dims=3)),
    library_case("permute_tuple", lambda lib, a: lib.permute(a, tuple(reversed(range(a.dim())))), one_shape()),
    library_case("movedim", lambda lib, a: lib.movedim(a, 0, -1), one_shape(min_dims=1)),
    library_case("movedim_tuple", lambda lib, a: lib.movedim(a, (0, 1), (2, 0)), one_shape(min_dims=3, max_dims=3)),
    library_case("repeat_each", lambda lib, a: a.repeat(*(2,) * max(a.dim(), 1)), one_shape(max_side=3)),
    library_case("repeat_new_dims", lambda lib, a: a.repeat(2, 1, *(3,) * a.dim()), one_shape(max_dims=2, max_side=3)),
    library_case("tile", lambda lib, a: lib.tile(a, (2,)), one_shape(max_side=3)),
    library_case("roll_flat", lambda lib, a: lib.roll(a, 2), one_shape()),
    library_case("roll_dims", lambda lib, a: a.roll((1, -3), (0, -1)), one_shape(min_dims=1)),
    library_case("rot90", lambda lib, a: lib.rot90(a), one_shape(min_dims=2)),
    library_case("rot90_k", lambda lib, a: a.rot90(-3, (-1, 0)) * 2, one_shape(min_dims=2)),
    library_case("rot90_half", lambda lib, a: lib.rot90(a, 2, [1, 2]), one_shape(min_dims=3)),
    library_case("fliplr", lambda lib, a: lib.fliplr(a), one_shape(min_dims=2)),
    library_case("flipud", lambda lib, a: a.flipud(), one_shape(min_dims=1)),
    library_case("tril", lambda lib, a: lib.tril(a), one_shape(min_dims=2)),
    library_case("tril_offset", lambda lib, a: a.tril(-1), one_shape(min_dims=2)),
    library_case("triu", lambda lib, a: lib.triu(a, 1), one_shape(min_dims=2)),
    library_case("triu_in_place", lambda lib, a: (a * 1).triu_(-1), one_shape(min_dims=2)),
    library_case("tril_in_place", lambda lib, a: (a * 2).tril_(), one_shape(min_dims=2)),
    library_case("unflatten", lambda lib, a: lib.unflatten(a, -1, (1, -1)), one_shape(min_dims=1)),
    library_case("unflatten_split", lambda lib, a: a.unflatten(0, (2, 3)), st.just(((6, 2),))),
    library_case("ravel", lambda lib, a: lib.ravel(a.mT), one_shape(min_dims=2)),
    library_case("t_in_place", lambda lib, a: (a * 1).t_(), one_shape(max_dims=2)),
    library_case("unsqueeze_in_place", lambda lib, a: (a * 1).unsqueeze_(-1), one_shape()),
    library_case("squeeze_in_place", lambda lib, a: (a * 1).squeeze_(0), many_ones(min_dims=1)),
    library_case("transpose_in_place", lambda lib, a: (a * 1).transpose_(0, -1), one_shape(min_dims=1)),
    library_case("swapaxes_in_place", lambda lib, a: (a * 1).swapaxes_(0, -1), one_shape(min_dims=1)),
    library_case("swapdims_in_place", lambda lib, a: (a * 1).swapdims_(-1, 0), one_shape(min_dims=1)),
    library_case("chained", lambda lib, a: a.unsqueeze(1).transpose(0, 1).reshape(-1).unsqueeze(0), one_shape(min_dims=1)),
]


test_op = table_test(CASES)
test_second_order = second_order_test(CASES)


def test_view_minus_one_gives_a_flat_tensor_sharing_memory():
    x = chainrule.zeros(2, 3)
    flat = x.view(-1)
    assert flat.shape == (6,)
    assert x.view(3, -1).shape == (3, 2)
    flat._array[0] = 5.0  # a view: the original sees the change, as in PyTorch
    assert x._array[0, 0] == 5.0


def test_second_order_gradient_through_reshape_and_permute():
    x = chainrule.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    y = (x.reshape(3, 1).t() ** 3).permute(1, 0)
    (grad,) = chainrule.autograd.grad(y, x, grad_outputs=chainrule.ones(3, 1), create_graph=True)
    np.testing.assert_allclose(grad._array, 3 * x._array**2)
    grad.backward(chainrule.ones(1, 3))
    np.testing.assert_allclose(x.grad._array, 6 * x._array)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x: x.reshape(2, 4), r"shape '\[2, 4\]' is invalid for input of size 6"),
        (lambda x: x.view(4, -1), r"shape '\[4, -1\]' is invalid for input of size 6"),
        (lambda x: x.reshape(-1, -1), "only one dimension can be inferred"),
        (lambda x: x.reshape(0, -1), "ambiguous"),
        (lambda x: x.unsqueeze(0).t(), "t\\(\\) expects a tensor with <= 2 dimensions, but self is 3D"),
        (lambda x: x.permute(0), r"input.dim\(\) = 2 is not equal to len\(dims\) = 1"),
        (lambda x: x.permute(0, 0), "duplicate dims are not allowed"),
        (lambda x: x.repeat(2), "can not be smaller than number of dimensions"),
        (lambda x: x.flatten(1, 0), "start_dim cannot come after end_dim"),
    ],
)
def test_shape_errors_are_runtime_errors_with_pytorch_messages(call, message):
    with pytest.raises(RuntimeError, match=message):
        call(chainrule.zeros(2, 3))
    with pytest.raises(RuntimeError):
        call(torch.zeros(2, 3))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.transpose(0, 2),
        lambda x: x.squeeze(2),
        lambda x: x.unsqueeze(3),
        lambda x: x.flatten(0, 5),
        lambda x: x.permute(0, 2),
        lambda x: chainrule.movedim(x, 0, 2) if isinstance(x, chainrule.Tensor) else torch.movedim(x, 0, 2),
    ],
)
def test_dimension_out_of_range_is_an_index_error(call):
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-\d, \d\], but got \d\)"):
        call(chainrule.zeros(2, 3))
    with pytest.raises(IndexError):
        call(torch.zeros(2, 3))


def test_zero_dimensional_shapes_match_pytorch():
    for call in (
        lambda x: x.flatten(),
        lambda x: x.transpose(0, -1),
        lambda x: x.t(),
        lambda x: x.squeeze(0),
        lambda x: x.unsqueeze(-1),
        lambda x: x.repeat(2, 3),
        lambda x: x.reshape(1, 1),
        lambda x: x.T,
    ):
        assert tuple(call(chainrule.tensor(5.0)).shape) == tuple(call(torch.tensor(5.0)).shape)


def test_squeeze_of_a_dimension_that_is_not_one_changes_nothing():
    assert chainrule.zeros(2, 1, 3).squeeze(0).shape == (2, 1, 3)
    assert chainrule.zeros(2, 1, 3).squeeze(1).shape == (2, 3)


@pytest.mark.parametrize("call", [
    lambda x: x.reshape(6), lambda x: x.view(-1), lambda x: x.flatten(), lambda x: x.unsqueeze(0).squeeze(),
    lambda x: x.unsqueeze(0).squeeze(0), lambda x: x.unsqueeze(0).squeeze((0,)), lambda x: x.unsqueeze(1),
    lambda x: x.permute(1, 0), lambda x: x.transpose(0, 1), lambda x: x.t(), lambda x: x.T, lambda x: x.mT,
    lambda x: x.movedim(0, 1), lambda x: x.flip(0), lambda x: x.repeat(2, 1), lambda x: x.tile(2),
    lambda x: x.roll(1), lambda x: x.roll(1, 0), lambda x: x.rot90(), lambda x: x.tril(), lambda x: x.triu(1),
    lambda x: x.fliplr(), lambda x: x.flipud(), lambda x: x.unflatten(1, (3, 1)), lambda x: x.ravel(),
])
def test_nodes_are_named_as_pytorch_names_them(call):
    names = [call(lib.ones(2, 3, requires_grad=True)).grad_fn.name() for lib in (chainrule, torch)]
    assert names[0] == names[1]


VIEWS = [
    lambda x: x.t().view(-1), lambda x: x.t().view(3, 2), lambda x: x.t().view(3, 1, 2),
    lambda x: x.t().contiguous().view(-1), lambda x: x.transpose(0, 1).view(6), lambda x: x[:, ::2].view(-1),
    lambda x: x[:, 1:].view(-1), lambda x: x[1:].view(-1), lambda x: x.unsqueeze(0).transpose(0, 1).view(2, 3),
    lambda x: x.flip(0).view(-1), lambda x: x.t()[1:].view(-1), lambda x: x[:, None].transpose(0, 1).view(-1), lambda x: x.unsqueeze(0).expand(4, 2, 3).view(4, 6),
    lambda x: x.unsqueeze(0).expand(4, 2, 3).view(-1), lambda x: x.t().t().view(-1), lambda x: x.T.view(3, 2),
]


@pytest.mark.parametrize("call", VIEWS)
def test_view_works_where_pytorch_allows_it_and_raises_where_it_does_not(call):
    try:
        expected = tuple(call(torch.arange(6.0).reshape(2, 3)).shape)
    except RuntimeError:
        with pytest.raises(RuntimeError, match=r"view size is not compatible .* Use \.reshape\(\.\.\.\) instead"):
            call(chainrule.arange(6.0).reshape(2, 3))
        return
    assert tuple(call(chainrule.arange(6.0).reshape(2, 3)).shape) == expected


@pytest.mark.parametrize("call", [
    lambda x: x, lambda x: x.transpose(0, 2), lambda x: x[1], lambda x: x[:, 1:, ::2], lambda x: x[0, 1],
    lambda x: x.permute(1, 0, 2)[1:], lambda x: x.t() if x.dim() <= 2 else x.mT.contiguous(),
])
def test_contiguity_strides_and_offsets_match_pytorch(call):
    ours, theirs = call(chainrule.arange(24.0).reshape(2, 3, 4)), call(torch.arange(24.0).reshape(2, 3, 4))
    assert ours.is_contiguous() == theirs.is_contiguous()
    assert tuple(ours.stride()) == tuple(theirs.stride())
    assert ours.storage_offset() == theirs.storage_offset()
    assert ours.stride(-1) == theirs.stride(-1)


ELEMENTWISE_LAYOUTS = {
    "scaled_permute": lambda lib: lib.ones(2, 3, 4).permute(1, 0, 2) * 2.0,
    "permute_plus_broadcast": lambda lib: lib.ones(2, 3, 4).permute(1, 0, 2) * 2.0 + lib.ones(3, 1, 4),
    "broadcast_plus_permute": lambda lib: lib.ones(3, 1, 4) + lib.ones(2, 3, 4).permute(1, 0, 2),
    "transposed_first": lambda lib: lib.ones(3, 4).t() + lib.ones(4, 3),
    "row_major_first": lambda lib: lib.ones(4, 3) + lib.ones(3, 4).t(),
    "unary_chain": lambda lib: lib.sigmoid(lib.ones(3, 4).t()).exp().neg() * 2,
    "activation": lambda lib: lib.nn.functional.gelu(lib.relu(lib.ones(3, 4).t()), approximate="tanh"),
    "special": lambda lib: lib.special.erfinv(lib.ones(3, 4).t() * 0.5),
    "where": lambda lib: lib.where(lib.ones(3, 4).t() > 0, lib.ones(3, 4).t(), 0.0),
    "comparison": lambda lib: lib.ones(3, 4).t() > lib.ones(4, 3),
    "logical_not": lambda lib: lib.logical_not(lib.ones(3, 4).t() > 0),
    "strided_slice": lambda lib: lib.ones(3, 4)[:, ::2].t() * 2,
    "channels_last": lambda lib: lib.ones(2, 3, 4, 5).to(memory_format=lib.channels_last) + lib.ones(2, 3, 4, 5),
    "row_major_with_channels_last": lambda lib: lib.ones(2, 3, 4, 5) + lib.ones(2, 3, 4, 5).to(memory_format=lib.channels_last),
    "expanded_transposed": lambda lib: lib.ones(3, 4).expand(2, 3, 4).transpose(1, 2) * 2,
    "requiring_grad": lambda lib: lib.ones(3, 4, requires_grad=True).t() * 2,
    "number_to_the_power_of": lambda lib: 2 ** lib.ones(3, 4).t(),
    "reduction": lambda lib: lib.ones(3, 4).t().sum(1, keepdim=True),
    "softmax": lambda lib: lib.ones(3, 4).t().softmax(-1),
    "layer_norm": lambda lib: lib.nn.functional.layer_norm(lib.ones(3, 4).t(), (3,)),
}


@pytest.mark.parametrize("make", ELEMENTWISE_LAYOUTS.values(), ids=ELEMENTWISE_LAYOUTS.keys())
def test_elementwise_results_lie_in_memory_as_pytorchs(make):
    """An elementwise result keeps its operands' layout as PyTorch's TensorIterator lays it out (the
    first operand that tells two dimensions apart deciding), so stride(), is_contiguous() and view
    answer as PyTorch's; reductions, softmax and layer_norm give row-major results."""
    ours, theirs = make(chainrule), make(torch)
    assert tuple(ours.stride()) == tuple(theirs.stride())
    assert ours.is_contiguous() == theirs.is_contiguous()
    assert tuple(chainrule.empty_like(ours).stride()) == tuple(torch.empty_like(theirs).stride())
    try:
        theirs.view(-1)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="view size is not compatible"):
            ours.view(-1)
    else:
        np.testing.assert_array_equal(ours.detach().view(-1).numpy(), theirs.detach().view(-1).numpy())


CHANNELS_LAST_KEPT = {
    "conv2d": lambda lib, x: lib.nn.functional.conv2d(x, lib.ones(8, 4, 3, 3), lib.ones(8), padding=1),
    "conv2d_of_a_channels_last_weight": lambda lib, x: lib.nn.functional.conv2d(
        x.contiguous(), lib.ones(8, 4, 3, 3).to(memory_format=lib.channels_last)),
    "conv_transpose2d": lambda lib, x: lib.nn.functional.conv_transpose2d(x, lib.ones(4, 3, 2, 2), stride=2),
    "batch_norm": lambda lib, x: lib.nn.functional.batch_norm(x, None, None, training=True),
    "group_norm": lambda lib, x: lib.nn.functional.group_norm(x, 2),
    "instance_norm": lambda lib, x: lib.nn.functional.instance_norm(x),
    "layer_norm": lambda lib, x: lib.nn.functional.layer_norm(x, (6,)),
    "max_pool2d": lambda lib, x: lib.nn.functional.max_pool2d(x, 2),
    "avg_pool2d": lambda lib, x: lib.nn.functional.avg_pool2d(x, 2),
    "nearest": lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2),
    "bilinear": lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2, mode="bilinear"),
    "cat": lambda lib, x: lib.cat([x, x], 1),
    "cat_with_a_row_major_one": lambda lib, x: lib.cat([x, x.contiguous()], 1),
    "pad": lambda lib, x: lib.nn.functional.pad(x, (1, 1, 1, 1)),
    "silu_plus_conv": lambda lib, x: lib.nn.functional.silu(x) + lib.nn.functional.conv2d(x, lib.ones(4, 1, 1, 1), groups=4),
    "softmax": lambda lib, x: x.softmax(1),
    "flip": lambda lib, x: lib.flip(x, [3]),
    "masked_fill": lambda lib, x: x.masked_fill(x > 0, 0.0),
}


@pytest.mark.parametrize("make", CHANNELS_LAST_KEPT.values(), ids=CHANNELS_LAST_KEPT.keys())
@pytest.mark.parametrize("channels_last", [
    lambda lib: lib.randn(2, 4, 6, 6).to(memory_format=lib.channels_last),
    lambda lib: lib.randn(2, 6, 6, 4).permute(0, 3, 1, 2),
], ids=["to_channels_last", "permuted"])
def test_channels_last_is_kept_where_pytorch_keeps_it(make, channels_last):
    """Convolutions, batch and group norm, pooling, upsampling, padding and cat (of channels-last
    inputs only) give a channels-last input a channels-last result, as PyTorch's suggest_memory_format,
    and flip keeps its input's layout; instance norm, layer norm, softmax and masked_fill (a fill of a
    row-major clone in PyTorch) give a row-major one."""
    ours, theirs = make(chainrule, channels_last(chainrule)), make(torch, channels_last(torch))
    assert tuple(ours.stride()) == tuple(theirs.stride())
    assert ours.is_contiguous(memory_format=chainrule.channels_last) == theirs.is_contiguous(memory_format=torch.channels_last)


def test_dropout_of_a_permuted_result_draws_its_mask_in_memory_order():
    """Transformer code's ``x.permute(1, 0, 2) * sqrt(d) + pe`` keeps x's memory order, and dropout's
    mask (PyTorch's empty_like, filled in memory order) is drawn so."""
    results = []
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        x = lib.arange(2 * 5 * 8.0).reshape(2, 5, 8)
        results.append(lib.nn.functional.dropout(x.permute(1, 0, 2) * 4.0 + lib.ones(5, 1, 8), 0.3).numpy())
    np.testing.assert_array_equal(*results)


def test_contiguous_copies_only_what_is_not_contiguous():
    x = chainrule.ones(2, 3, requires_grad=True)
    assert x.contiguous() is x
    y = x.t().contiguous()
    assert y.is_contiguous() and y.grad_fn.name() == "CloneBackward0"
    y.view(-1).sum().backward()
    np.testing.assert_array_equal(x.grad._array, np.ones((2, 3)))


@pytest.mark.parametrize("call", [lambda x: x.t_(), lambda x: x.unsqueeze_(0), lambda x: x.squeeze_(), lambda x: x.transpose_(0, 1)])
def test_shape_changes_in_place_follow_pytorch(call):
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            call(lib.ones(2, 3, requires_grad=True))
    ours, theirs = chainrule.ones(2, 3), torch.ones(2, 3)
    assert call(ours) is ours and tuple(ours.shape) == tuple(call(theirs).shape)
    assert ours.stride() == theirs.stride()


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.tril(lib.ones(3)),
        lambda lib: lib.ones(3).triu(),
        lambda lib: lib.rot90(lib.ones(2, 3), 1, (0, 0)),
        lambda lib: lib.rot90(lib.ones(2, 3), 1, (0,)),
        lambda lib: lib.rot90(lib.ones(3)),
        lambda lib: lib.roll(lib.ones(2, 3), (1, 2), (0,)),
        lambda lib: lib.fliplr(lib.ones(3)),
        lambda lib: lib.flipud(lib.ones(())),
        lambda lib: lib.ones(2, 3).unflatten(1, (4, -1)),
    ],
)
def test_shape_errors_match_pytorch(call):
    with pytest.raises(RuntimeError) as expected:
        call(torch)
    with pytest.raises(RuntimeError) as got:
        call(chainrule)
    assert " ".join(str(expected.value).split()[:3]) in str(got.value)


def test_results_of_operations_view_as_in_pytorch_whatever_numpys_layout():
    """A convolution's array is not row-major in NumPy, PyTorch's is: view must not refuse it."""
    conv = chainrule.nn.Conv2d(3, 5, 3, padding=1)
    out = conv(chainrule.randn(4, 3, 8, 8))
    assert out.view(4, -1).shape == (4, 320)
    assert out[0].view(-1).shape == (320,)
    assert out.relu().view(out.size(0), -1).shape == (4, 320)
    assert out.is_contiguous() and out.contiguous() is out


def test_a_row_major_result_of_a_transposed_input_is_row_major_in_memory_too():
    """batch_norm of a transposed input is row-major in PyTorch; NumPy computes it in the input's
    layout, so chainrule copies it: a view of it (``.transpose``) then has PyTorch's strides, and
    dropout's mask, drawn in memory order, is PyTorch's (CMU 11-785's pBLSTM decoder)."""
    seen = []
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        x = lib.randn(4, 14, 6).transpose(1, 2)
        out = lib.nn.functional.batch_norm(x, None, None, training=True)
        view = out.transpose(1, 2)
        lib.manual_seed(1)
        mask = lib.nn.functional.dropout(view, 0.5) == 0
        seen.append((out.stride(), view.stride(), out.is_contiguous(), view.is_contiguous(), mask.tolist()))
    assert seen[0] == seen[1]


@pytest.mark.parametrize(
    "shapes",
    [
        [(2, 1), (3,)], [2, (3, 1)], [], [[2], [1]], [(0,), (1,)], [(1, 1, 1), (2,), None, (3, 1)], [(5,), 5, 1],
        [(-1,), (1,)], [(2,), (3,)], [-1], [(0,), (-2,)], [(4, 2), (3, 1)], [(2.0,), (1,)], ["ab"], [object()],
    ],
)
def test_broadcast_shapes_reads_shapes_as_pytorch_does(shapes):
    """A Size, read right-aligned from Sizes, tuples, lists or ints (None skipped), with PyTorch's
    errors: a negative size meeting a 1 is a ValueError, other mismatches RuntimeErrors naming both."""
    try:
        expected = torch.broadcast_shapes(*shapes)
    except (RuntimeError, ValueError, TypeError) as error:
        with pytest.raises(type(error)) as got:
            chainrule.broadcast_shapes(*shapes)
        assert str(got.value).replace("chainrule", "torch").startswith(str(error).split(" at 0x")[0])
        return
    got = chainrule.broadcast_shapes(*shapes)
    assert type(got) is chainrule.Size and tuple(got) == tuple(expected)


def test_ravel_copies_what_is_not_contiguous_as_pytorch():
    """ravel is contiguous().view(-1): a strided or expanded x gives a row-major copy, never a view
    of x's memory that writes would go through."""
    for lib in (torch, chainrule):
        y = lib.arange(12.0).view(3, 4)
        flat = y[:, ::2].ravel()
        flat += 100
        assert y[0].tolist() == [0.0, 1.0, 2.0, 3.0] and flat.is_contiguous() and flat.stride() == (1,)
        repeated = lib.zeros(1).expand(4).ravel()
        repeated[0] = 5
        assert repeated.tolist() == [5.0, 0.0, 0.0, 0.0]
        assert lib.arange(6.0).view(2, 3).ravel()._is_view()


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: x.expand(5, 5).as_strided([5, 5], [0, 1], 0),
        lambda lib, x: x[:4].view(2, 2).expand(3, 2, 2).as_strided([2, 2], [2, 1], 0),
        lambda lib, x: x.expand(3, 5).as_strided([2, 3], [0, 1], 1) * lib.arange(6.0, dtype=lib.float64).view(2, 3),
        lambda lib, x: x.as_strided([3, 2], [1, 1]).as_strided([2, 2], [1, 1]),
    ],
)
def test_as_strided_of_an_expanded_tensor_gives_each_place_its_gradient_once(call):
    """Where x's elements share memory (an expand), PyTorch splits a place's gradient among them,
    so the expansion's backward adds it up once: the leaf's gradient is not multiplied."""
    grads = []
    for lib in (torch, chainrule):
        x = lib.arange(5.0, dtype=lib.float64).requires_grad_()
        call(lib, x).sum().backward()
        grads.append(x.grad.tolist())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)
    x = chainrule.arange(5.0, dtype=chainrule.float64).requires_grad_()
    assert chainrule.autograd.gradcheck(lambda x: call(chainrule, x), (x,))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.topk(2, True), lambda x: x.sum(True), lambda x: x.squeeze(True), lambda x: x.unsqueeze(True),
        lambda x: x.softmax(True), lambda x: x.cumsum(True), lambda x: x.argmax(True), lambda x: x.max(True),
        lambda x: x.transpose(True, 0), lambda x: x.mean(True), lambda x: x.select(True, 0), lambda x: x.sort(True),
        lambda x: x.flatten(True), lambda x: x.split(2, True),
    ],
)
def test_a_bool_is_no_dim_as_in_pytorch(call):
    """PyTorch's argument parser refuses True where a dim is due (it is not dim 1): a TypeError."""
    for lib in (torch, chainrule):
        with pytest.raises(TypeError):
            call(lib.randn(3, 4, 5))
