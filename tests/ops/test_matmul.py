"""Matrix products: the table runs gradcheck and the PyTorch comparison over every rank combination;
then the fused linear, dtypes, second derivatives and errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import OpCase, both, library_case, table_test
from tests.ops.second_order import second_order_test

SIDE = st.integers(1, 4)


@st.composite
def product_shapes(draw, a_dims, b_dims):
    """Shapes of a and b that ``matmul`` accepts: a (..., n, k), b (..., k, m), 1-D as (k,); the batch
    dimensions broadcast (some of them drawn as 1 on one side)."""
    n, k, m = draw(SIDE), draw(SIDE), draw(SIDE)
    batch_dims = max(a_dims, b_dims, 2) - 2
    batch = tuple(draw(st.lists(SIDE, min_size=batch_dims, max_size=batch_dims)))

    def batch_of(dims):
        own = batch[len(batch) - max(dims - 2, 0):]
        return tuple(1 if draw(st.booleans()) else side for side in own)

    a = (k,) if a_dims == 1 else batch_of(a_dims) + (n, k)
    b = (k,) if b_dims == 1 else batch_of(b_dims) + (k, m)
    return a, b


RANKS = [(a_dims, b_dims) for a_dims in (1, 2, 3, 4) for b_dims in (1, 2, 3, 4)]

CASES = [
    library_case(f"matmul_{a_dims}d_{b_dims}d", lambda lib, a, b: a @ b, product_shapes(a_dims, b_dims))
    for a_dims, b_dims in RANKS
] + [
    library_case("matmul_function", lambda lib, a, b: lib.matmul(a, b), product_shapes(3, 2)),
    library_case("matmul_method_chain", lambda lib, a, b: a.matmul(b).tanh() @ b.mT, product_shapes(2, 2)),
    library_case("mm", lambda lib, a, b: lib.mm(a, b), product_shapes(2, 2)),
    library_case("mm_method", lambda lib, a, b: a.mm(b), product_shapes(2, 2)),
    library_case("bmm", lambda lib, a, b: lib.bmm(a, b), st.sampled_from([((2, 3, 4), (2, 4, 5)), ((1, 1, 2), (1, 2, 1))])),
    library_case("dot", lambda lib, a, b: lib.dot(a, b), product_shapes(1, 1)),
    library_case("dot_method", lambda lib, a, b: a.dot(b), product_shapes(1, 1)),
    library_case("outer", lambda lib, a, b: lib.outer(a, b), st.tuples(st.tuples(SIDE), st.tuples(SIDE))),
    library_case("outer_method", lambda lib, a, b: a.outer(b), st.tuples(st.tuples(SIDE), st.tuples(SIDE))),
    library_case("addmm", lambda lib, c, a, b: lib.addmm(c, a, b), st.sampled_from([((2, 4), (2, 3), (3, 4)), ((4,), (1, 2), (2, 4))])),
    library_case("addmm_scaled", lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=-2.0), st.just(((2, 1), (2, 3), (3, 4)))),
    library_case("addmm_in_place", lambda lib, c, a, b: (c * 1).addmm_(a, b, beta=0.5, alpha=-2.0), st.just(((2, 4), (2, 3), (3, 4)))),
    library_case("mv", lambda lib, a, v: lib.mv(a, v), product_shapes(2, 1)),
    library_case("mv_method", lambda lib, a, v: a.mv(v) * 2, product_shapes(2, 1)),
    library_case("addmv", lambda lib, c, a, v: lib.addmv(c, a, v), st.sampled_from([((2,), (2, 3), (3,)), ((1,), (4, 1), (1,)), ((), (2, 2), (2,))])),
    library_case("addmv_scaled", lambda lib, c, a, v: c.addmv(a, v, beta=-1.5, alpha=0.5), st.just(((3,), (3, 2), (2,)))),
    library_case("addr", lambda lib, c, u, v: lib.addr(c, u, v), st.sampled_from([((2, 3), (2,), (3,)), ((3,), (2,), (3,)), ((1, 1), (1,), (1,))])),
    library_case("addr_scaled", lambda lib, c, u, v: c.addr(u, v, beta=2.0, alpha=-1.0), st.just(((2, 4), (2,), (4,)))),
    library_case("baddbmm", lambda lib, c, a, b: lib.baddbmm(c, a, b), st.sampled_from([((2, 3, 5), (2, 3, 4), (2, 4, 5)), ((3, 1), (2, 3, 4), (2, 4, 1))])),
    library_case("baddbmm_scaled", lambda lib, c, a, b: c.baddbmm(a, b, beta=0.5, alpha=3.0), st.just(((1, 2, 2), (3, 2, 1), (3, 1, 2)))),
    library_case("addbmm", lambda lib, c, a, b: lib.addbmm(c, a, b), st.sampled_from([((3, 5), (2, 3, 4), (2, 4, 5)), ((5,), (1, 3, 4), (1, 4, 5))])),
    library_case("addbmm_scaled", lambda lib, c, a, b: c.addbmm(a, b, beta=-1.0, alpha=0.25), st.just(((2, 2), (3, 2, 1), (3, 1, 2)))),
    OpCase("linear_2d", chainrule.linear, F.linear, st.sampled_from([((5, 3), (4, 3), (4,)), ((1, 1), (1, 1), (1,))])),
    OpCase("linear_3d", chainrule.linear, F.linear, st.just(((2, 5, 3), (4, 3), (4,)))),
    OpCase("linear_4d", chainrule.linear, F.linear, st.just(((2, 1, 2, 3), (4, 3), (4,)))),
    OpCase("linear_1d", chainrule.linear, F.linear, st.just(((3,), (4, 3), (4,)))),
    OpCase("linear_no_bias", chainrule.linear, F.linear, st.sampled_from([((5, 3), (4, 3)), ((2, 5, 3), (4, 3))])),
    OpCase("linear_frozen_input", chainrule.linear, F.linear, st.just(((6, 3), (2, 3), (2,))), differentiable=[False, True, True]),
]

test_op = table_test(CASES)
test_second_order = second_order_test(CASES)


def test_every_rank_combination_and_broadcast_batch_matches_pytorch():
    rng = np.random.default_rng(0)
    shapes = {1: [(3,)], 2: [(2, 3), (3, 2)], 3: [(4, 2, 3), (1, 3, 2)], 4: [(2, 1, 2, 3), (1, 4, 3, 2)]}
    for a_dims, b_dims in RANKS:
        a_shape = shapes[a_dims][0]
        b_shape = (3,) if b_dims == 1 else shapes[b_dims][-1]
        a_data, b_data = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
        ours = [chainrule.tensor(a_data, requires_grad=True), chainrule.tensor(b_data, requires_grad=True)]
        theirs = [torch.tensor(a_data, requires_grad=True), torch.tensor(b_data, requires_grad=True)]
        out, expected = ours[0] @ ours[1], theirs[0] @ theirs[1]
        assert out.shape == expected.shape, (a_shape, b_shape)
        np.testing.assert_allclose(out._array, expected.detach().numpy())
        weights = rng.standard_normal(tuple(expected.shape))
        (out * chainrule.tensor(weights)).sum().backward()
        (expected * torch.tensor(weights)).sum().backward()
        for mine, reference in zip(ours, theirs):
            np.testing.assert_allclose(mine.grad._array, reference.grad.numpy(), err_msg=f"{a_shape} @ {b_shape}")


def test_float32_stays_float32():
    a, b = chainrule.randn(2, 3, requires_grad=True), chainrule.randn(3, 4, requires_grad=True)
    bias = chainrule.randn(4, requires_grad=True)
    for out in (a @ b, chainrule.mm(a, b), chainrule.linear(a, b.t(), bias), chainrule.addmm(bias, a, b)):
        assert out.dtype == chainrule.float32
        out.sum().backward()
    assert a.grad.dtype == b.grad.dtype == bias.grad.dtype == chainrule.float32


def test_linear_is_one_node_with_pytorchs_gradients_for_a_3d_input():
    rng = np.random.default_rng(1)
    data = [rng.standard_normal(shape).astype(np.float32) for shape in ((2, 5, 3), (4, 3), (4,))]
    ours = [chainrule.tensor(array, requires_grad=True) for array in data]
    theirs = [torch.tensor(array, requires_grad=True) for array in data]
    out = chainrule.linear(*ours)
    expected = F.linear(*theirs)
    assert out.grad_fn.name() == expected.grad_fn.name() == "ViewBackward0"  # PyTorch's last step for a 3-D input
    assert all(node is not None for node, _ in out.grad_fn.next_functions)  # x, weight and bias, in one step
    assert chainrule.linear(ours[0][0], *ours[1:]).grad_fn.name() == F.linear(theirs[0][0], *theirs[1:]).grad_fn.name() == "AddmmBackward0"
    assert chainrule.linear(ours[0], ours[1]).grad_fn.name() == F.linear(theirs[0], theirs[1]).grad_fn.name() == "UnsafeViewBackward0"
    np.testing.assert_allclose(out._array, expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    (out**2).sum().backward()
    (expected**2).sum().backward()
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad._array, reference.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name, call, shapes", [
    ("matmul", lambda lib, a, b: a @ b, ((3, 2, 4), (4, 3))),
    ("matmul_vector", lambda lib, a, b: a @ b, ((4,), (2, 4, 3))),
    ("linear", lambda lib, a, b: (F if lib is torch else lib).linear(a, b.mT), ((3, 2, 4), (4, 3))),
])
def test_second_derivatives_match_pytorch(name, call, shapes):
    rng = np.random.default_rng(2)
    data = [rng.standard_normal(shape) for shape in shapes]
    results = []
    for lib in (chainrule, torch):
        a, b = (lib.tensor(array.copy(), requires_grad=True) for array in data)
        grad_a, grad_b = lib.autograd.grad((lib.tanh(call(lib, a, b)) ** 2).sum(), (a, b), create_graph=True)
        second = lib.autograd.grad((grad_a**2).sum() + (grad_b * grad_b).sum(), (a, b))
        results.append([gradient.detach().numpy() for gradient in second])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9, err_msg=name)


def test_numbers_and_arrays_mix_with_tensors():
    w = chainrule.ones(3, 2)
    np.testing.assert_allclose((np.ones((1, 3), dtype=np.float32) @ w)._array, [[3.0, 3.0]])
    np.testing.assert_allclose(w.T.matmul(np.ones(3, dtype=np.float32))._array, [3.0, 3.0])


@pytest.mark.parametrize("call, words", [
    (lambda: chainrule.ones(2, 3) @ chainrule.ones(4, 5), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\) \(matmul: the last size of the first \(3\)"),
    (lambda: chainrule.ones(3) @ chainrule.ones(4, 5), r"mat1 and mat2 shapes cannot be multiplied \(1x3 and 4x5\)"),
    (lambda: chainrule.ones(2, 3, 4) @ chainrule.ones(3, 4, 6), r"The size of tensor a \(2\) must match the size of tensor b \(3\) at non-singleton dimension 0 \(matmul: the batch dimensions \(2,\) and \(3,\)"),
    (lambda: chainrule.tensor(1.0) @ chainrule.ones(4), "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),
    (lambda: chainrule.ones(2, 3) @ chainrule.ones(3, dtype=chainrule.float64), "expected m1 and m2 to have the same dtype, but got: float != double \\(matmul: convert one"),
    (lambda: chainrule.mm(chainrule.ones(3), chainrule.ones(3, 3)), r"^self must be a matrix \(mm: self must be 2-D, got shape \(3,\)\)"),
    (lambda: chainrule.bmm(chainrule.ones(2, 3, 4), chainrule.ones(3, 4, 6)), r"^Expected size for first two dimensions of batch2 tensor to be: \[2, 4\] but got: \[3, 4\]. \(bmm"),
    (lambda: chainrule.bmm(chainrule.ones(2, 3), chainrule.ones(2, 3, 3)), r"^batch1 must be a 3D tensor \(bmm: batch1 must be 3-D"),
    (lambda: chainrule.dot(chainrule.ones(3), chainrule.ones(4)), r"inconsistent tensor size, expected tensor \[3\] and src \[4\] to have the same number of elements, but got 3 and 4 elements respectively \(dot: "),
    (lambda: chainrule.outer(chainrule.ones(2, 3), chainrule.ones(3)), r"^outer: Expected 1-D argument self, but got 2-D \(outer: self must be 1-D"),
    (lambda: chainrule.linear(chainrule.ones(2, 3), chainrule.ones(4, 5)), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 5x4\) \(linear: the input's last size \(3\)"),
    (lambda: chainrule.linear(chainrule.ones(2, 3), chainrule.ones(4, 3), chainrule.ones(5)), r"^The expanded size of the tensor \(4\) must match the existing size \(5\) at non-singleton dimension 1.  Target sizes: \[2, 4\].  Tensor sizes: \[5\] \("),
    (lambda: chainrule.linear(chainrule.ones(2, 3), chainrule.ones(4, 3), chainrule.ones(4, dtype=chainrule.float64)), r"^self and mat2 must have the same dtype, but got Double and Float \(linear"),
    (lambda: chainrule.linear(chainrule.tensor(1.0), chainrule.ones(4, 3)), r"^both arguments to linear need to be at least 1D, but they are 0D and 2D \(linear"),
])
def test_errors_name_the_operation_and_the_shapes(call, words):
    with pytest.raises(RuntimeError, match=words):
        call()


@pytest.mark.parametrize("call, shapes, name", [
    (lambda lib, a, b: a @ b, ((2, 3), (3, 4)), "MmBackward0"),
    (lambda lib, a, b: lib.mm(a, b), ((2, 3), (3, 4)), "MmBackward0"),
    (lambda lib, a, b: a @ b, ((2, 3), (3,)), "MvBackward0"),
    (lambda lib, a, b: lib.dot(a, b), ((3,), (3,)), "DotBackward0"),
    (lambda lib, a, b: lib.bmm(a, b), ((2, 2, 3), (2, 3, 4)), "BmmBackward0"),
    (lambda lib, a, b: (F if lib is torch else lib).linear(a, b), ((2, 3), (4, 3)), "MmBackward0"),
])
def test_nodes_are_named_as_pytorch_names_them(call, shapes, name):
    for lib in (chainrule, torch):
        a, b = (lib.ones(*shape, requires_grad=True) for shape in shapes)
        assert call(lib, a, b).grad_fn.name() == name


def test_linear_with_a_broadcast_bias():
    (out, ours), (expected, theirs) = both(lambda lib, x, w, b: lib.nn.functional.linear(x, w, b).sum(), np.ones((4, 3)), np.ones((2, 3)), np.zeros((1, 2)))
    out.backward()
    expected.backward()
    np.testing.assert_array_equal(ours[2].grad._array, theirs[2].grad.numpy())


@pytest.mark.parametrize("name, shapes", [("matmul", ((2, 3), (3, 4))), ("mm", ((2, 3), (3, 4))), ("bmm", ((2, 2, 3), (2, 3, 4))), ("outer", ((2,), (3,)))])
def test_products_write_into_out(name, shapes):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(shape).astype(np.float32) for shape in shapes)
    out = chainrule.empty(1)
    result = getattr(chainrule, name)(chainrule.tensor(a), chainrule.tensor(b), out=out)
    expected = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    assert result is out and out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5)


@pytest.mark.parametrize("call", [
    lambda lib: lib.mv(lib.ones(2, 3), lib.ones(2)),
    lambda lib: lib.mv(lib.ones(2, 3, 1), lib.ones(3)),
    lambda lib: lib.addmv(lib.ones(2), lib.ones(2, 3), lib.ones(4)),
    lambda lib: lib.addr(lib.ones(2, 3), lib.ones(2, 1), lib.ones(3)),
    lambda lib: lib.baddbmm(lib.ones(2, 2, 2), lib.ones(2, 2, 3), lib.ones(3, 3, 2)),
    lambda lib: lib.addbmm(lib.ones(2, 2), lib.ones(2, 2, 3), lib.ones(2, 4, 2)),
])
def test_added_product_errors_are_runtime_errors(call):
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError):
        call(chainrule)


@pytest.mark.parametrize("name, shapes", [("mv", ((2, 3), (3,))), ("addmv", ((2,), (2, 3), (3,))), ("addr", ((2, 3), (2,), (3,))),
                                          ("baddbmm", ((2, 2, 4), (2, 2, 3), (2, 3, 4))), ("addbmm", ((2, 4), (2, 2, 3), (2, 3, 4)))])
def test_added_products_write_into_out(name, shapes):
    arrays = [np.random.default_rng(4).standard_normal(shape).astype(np.float32) for shape in shapes]
    out = chainrule.zeros(1)
    result = getattr(chainrule, name)(*(chainrule.tensor(array) for array in arrays), out=out)
    expected = getattr(torch, name)(*(torch.tensor(array) for array in arrays))
    assert result is out
    np.testing.assert_allclose(out._array, expected.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bias_shape", [None, (), (1,), (3,), (1, 3), (5, 3), (1, 5, 3)])
@pytest.mark.parametrize("input_shape", [(4,), (2, 4), (2, 5, 4), (2, 3, 5, 4), "transposed"])
def test_linear_ends_in_the_node_pytorch_ends_in(input_shape, bias_shape):
    """PyTorch's linear takes another path for each kind of input (addmm for a matrix; flattened,
    multiplied and viewed back for a contiguous input with a one-row bias; multiplied then added to
    otherwise; matmul's squeeze or reshape without a bias): dlwpt's p1ch6 prints the node of a
    Linear layer called on one sample."""

    def node(lib):
        x = lib.ones(5, 2, 4).transpose(0, 1) if input_shape == "transposed" else lib.ones(*input_shape)
        bias = None if bias_shape is None else lib.zeros(bias_shape, requires_grad=True)
        try:
            return lib.nn.functional.linear(x, lib.ones(3, 4, requires_grad=True), bias).grad_fn.name()
        except RuntimeError:
            return "refused"

    expected = node(torch)
    if expected != "refused":
        assert node(chainrule) == expected


@pytest.mark.parametrize("shape", [(2,), (3, 2), (4, 3, 2)])
def test_a_linear_layer_without_outputs_backpropagates_zeros(shape):
    """nn.Linear(2, 0) (a zero-width head): its backward reshaped (rows, 0) with -1 to infer."""
    results = []
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        x = lib.ones(*shape, requires_grad=True)
        layer = lib.nn.Linear(2, 0)
        layer(x).sum().backward()
        results.append((tuple(x.grad.shape), x.grad.sum().item(), tuple(layer.weight.grad.shape), tuple(layer.bias.grad.shape)))
    assert results[0] == results[1]
