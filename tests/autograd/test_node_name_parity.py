"""``print(y.grad_fn)`` and walks along ``next_functions`` show PyTorch's node names for the
operations course code prints: addmm, matmul of every rank, ``y[0] = 5`` (CopySlices), reshape of
a transposed tensor, adaptive pooling, group and instance norm, pairwise_distance, cdist, einsum and
the recurrent layers. Each case also checks values, gradients and, on chainrule, finite differences:
a node shown under PyTorch's name computes what it computed before."""
import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import check_case, library_case


def _setitem(lib, x, key, value):
    y = x * 1
    y[key] = value
    return y


def _write_into_view(lib, x):
    y = x * 1
    y[:, 1] += 5
    return y


def _rnn(kind):
    def run(lib, x):
        lib.manual_seed(0)
        layer = getattr(lib.nn, kind)(4, 3).double()
        with lib.no_grad():
            for position, parameter in enumerate(layer.parameters()):
                parameter.copy_(lib.tensor(np.random.default_rng(position).standard_normal(tuple(parameter.shape)) * 0.3))
        return layer(x)[0]

    return run


F = lambda lib: lib.nn.functional  # noqa: E731

#: name: (function of (library, *inputs), input shapes, the names along the first ``next_functions``
#: where chainrule's graph has PyTorch's structure there, else None: only the node itself is compared)
CASES = {
    "addmm": (lambda lib, b, m1, m2: lib.addmm(b, m1, m2), [(5,), (3, 4), (4, 5)], True),
    "addmm_matrix_input": (lambda lib, b, m1, m2: lib.addmm(b, m1, m2), [(3, 5), (3, 4), (4, 5)], True),
    "addmm_column_input": (lambda lib, b, m1, m2: lib.addmm(b, m1, m2), [(3, 1), (3, 4), (4, 5)], True),
    "addmm_scaled": (lambda lib, b, m1, m2: lib.addmm(b, m1, m2, beta=0.5, alpha=2), [(5,), (3, 4), (4, 5)], True),
    "addmm_beta_0": (lambda lib, b, m1, m2: lib.addmm(b, m1, m2, beta=0), [(5,), (3, 4), (4, 5)], True),
    "matmul_vector_matrix": (lambda lib, a, b: a @ b, [(3,), (3, 4)], False),
    "matmul_batches": (lambda lib, a, b: a @ b, [(2, 3, 4), (2, 4, 5)], False),
    "matmul_batch_matrix": (lambda lib, a, b: a @ b, [(2, 3, 4), (4, 5)], False),
    "matmul_batch_vector": (lambda lib, a, b: a @ b, [(2, 3, 4), (4,)], False),
    "matmul_matrix_batch": (lambda lib, a, b: a @ b, [(3, 4), (2, 4, 5)], False),
    "matmul_4d_broadcast": (lambda lib, a, b: a @ b, [(2, 1, 3, 4), (5, 4, 2)], False),
    "bmm": (lambda lib, a, b: lib.bmm(a, b), [(2, 3, 4), (2, 4, 5)], True),
    "setitem_int": (lambda lib, x: _setitem(lib, x, 0, 5.0), [(3, 4)], True),
    "setitem_row_tensor": (lambda lib, x, v: _setitem(lib, x, 0, v), [(3, 4), (4,)], True),
    "setitem_column": (lambda lib, x: _setitem(lib, x, (slice(None), 1), 0.0), [(3, 4)], True),
    "setitem_index_list": (lambda lib, x, v: _setitem(lib, x, [0, 2], v), [(3, 4), (2, 4)], True),
    "setitem_full_slice_list": (lambda lib, x: _setitem(lib, x, (Ellipsis, [0, 2]), 0.0), [(3, 4)], True),
    "setitem_list_slice": (lambda lib, x: _setitem(lib, x, ([0, 2], slice(1, None)), 0.0), [(3, 4)], False),
    "setitem_all": (lambda lib, x: _setitem(lib, x, slice(None), 2.0), [(3, 4)], True),
    "setitem_all_tensor": (lambda lib, x, v: _setitem(lib, x, Ellipsis, v), [(3, 4), (3, 4)], True),
    "add_into_column": (_write_into_view, [(3, 4)], False),
    "reshape_transposed": (lambda lib, x: x.t().reshape(12), [(3, 4)], False),
    "reshape_aliased": (lambda lib, x: x.permute(2, 0, 1).reshape(4, 6), [(2, 3, 4)], True),
    "flatten_transposed": (lambda lib, x: x.transpose(1, 2).flatten(1), [(2, 3, 4)], False),
    "flatten_one_dimension": (lambda lib, x: (x * 1).flatten(), [(4,)], True),
    "adaptive_avg_pool2d_1": (lambda lib, x: F(lib).adaptive_avg_pool2d(x, 1), [(2, 3, 4, 4)], True),
    "adaptive_avg_pool2d_2": (lambda lib, x: F(lib).adaptive_avg_pool2d(x, (2, 1)), [(2, 3, 4, 4)], True),
    "adaptive_avg_pool1d_1": (lambda lib, x: F(lib).adaptive_avg_pool1d(x, 1), [(2, 3, 4)], False),
    "adaptive_avg_pool3d_2": (lambda lib, x: F(lib).adaptive_avg_pool3d(x, 2), [(1, 2, 4, 4, 4)], True),
    "adaptive_max_pool2d_2": (lambda lib, x: F(lib).adaptive_max_pool2d(x, 2), [(2, 3, 4, 4)], True),
    "adaptive_max_pool1d_2": (lambda lib, x: F(lib).adaptive_max_pool1d(x, 2), [(2, 3, 4)], False),
    "adaptive_max_pool3d_1": (lambda lib, x: F(lib).adaptive_max_pool3d(x, 1), [(1, 2, 4, 4, 4)], True),
    "group_norm": (lambda lib, x, w, b: F(lib).group_norm(x, 2, w, b), [(2, 4, 3, 3), (4,), (4,)], True),
    "group_norm_sequence": (lambda lib, x, w, b: F(lib).group_norm(x, 2, w, b), [(3, 4, 5), (4,), (4,)], True),
    "instance_norm": (lambda lib, x: F(lib).instance_norm(x), [(2, 3, 5)], False),
    "pairwise_distance": (lambda lib, a, b: F(lib).pairwise_distance(a, b), [(3, 4), (3, 4)], False),
    "pairwise_distance_l1_keepdim": (lambda lib, a, b: F(lib).pairwise_distance(a, b, 1, keepdim=True), [(3, 4), (3, 4)], False),
    "cdist": (lambda lib, a, b: lib.cdist(a, b), [(3, 4), (5, 4)], False),
    "cdist_many_rows": (lambda lib, a, b: lib.cdist(a, b), [(30, 2), (5, 2)], False),
    "einsum_product": (lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), [(3, 4), (4, 5)], False),
    "einsum_batched": (lambda lib, a, b: lib.einsum("bij,bkj->bik", a, b), [(2, 3, 4), (2, 5, 4)], False),
    "einsum_outer": (lambda lib, a, b: lib.einsum("i,j->ij", a, b), [(3,), (4,)], False),
    "einsum_sum": (lambda lib, a: lib.einsum("ij->j", a), [(3, 4)], False),
    "einsum_transpose": (lambda lib, a: lib.einsum("ij->ji", a), [(3, 4)], False),
    "einsum_diagonal": (lambda lib, a: lib.einsum("ii->i", a), [(3, 3)], False),
    "rnn": (_rnn("RNN"), [(5, 2, 4)], False),
    "gru": (_rnn("GRU"), [(5, 2, 4)], False),
    "diag": (lambda lib, x: lib.diag(x), [(4,)], True),
    "diag_embed": (lambda lib, x: lib.diag_embed(x, 1), [(2, 3)], True),
    "scatter_number": (lambda lib, x: (x * 1).scatter_(1, lib.tensor([[0], [1], [2]]), 1.0), [(3, 4)], True),
    "transpose_in_place": (lambda lib, x: (x * 1).transpose_(0, 1), [(3, 4)], True),
    "t_in_place": (lambda lib, x: (x * 1).t_(), [(3, 4)], True),
    "unsqueeze_in_place": (lambda lib, x: (x * 1).unsqueeze_(1), [(3, 4)], True),
    "squeeze_in_place": (lambda lib, x: (x * 1).squeeze_(), [(3, 1, 4)], True),
    "squeeze_in_place_dim": (lambda lib, x: (x * 1).squeeze_(1), [(3, 1, 4)], True),
    "squeeze_in_place_dims": (lambda lib, x: (x * 1).squeeze_((1,)), [(3, 1, 4)], True),
}


def _inputs(lib, shapes):
    rng = np.random.default_rng(0)
    return [lib.tensor(rng.standard_normal(shape), requires_grad=True) for shape in shapes]


def _next_names(node):
    return [None if next_node is None else type(next_node).__name__ for next_node, _ in node.next_functions]


@pytest.mark.parametrize("name", list(CASES))
def test_the_node_has_pytorchs_name(name):
    function, shapes, same_edges = CASES[name]
    ours = function(chainrule, *_inputs(chainrule, shapes)).grad_fn
    theirs = function(torch, *_inputs(torch, shapes)).grad_fn
    assert type(ours).__name__ == type(theirs).__name__
    assert str(ours).split(" object")[0] == str(theirs).split(" object")[0]
    if same_edges:
        assert _next_names(ours) == _next_names(theirs)


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_are_pytorchs(name):
    function, shapes, _ = CASES[name]
    check_case(library_case(name, function, st.just(shapes)), shapes)


def test_addmm_beta_0_ignores_nan_in_input_and_gives_it_zero_gradient():
    inputs = [np.full(5, np.nan), np.ones((3, 4)), np.ones((4, 5))]
    results = []
    for lib in (chainrule, torch):
        tensors = [lib.tensor(value, requires_grad=True) for value in inputs]
        output = lib.addmm(*tensors, beta=0)
        output.sum().backward()
        results.append((output.detach().numpy(), tensors[0].grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


@pytest.mark.parametrize("error_case", ["mat1_3d", "inner_sizes", "input_shape"])
def test_addmm_refuses_what_pytorch_refuses(error_case):
    shapes = {
        "mat1_3d": [(5,), (2, 3, 4), (4, 5)],
        "inner_sizes": [(5,), (3, 4), (3, 5)],
        "input_shape": [(4,), (3, 4), (4, 5)],
    }[error_case]
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError):
            lib.addmm(*_inputs(lib, shapes))


def test_a_write_through_a_view_is_copyslices_and_keeps_gradients():
    grads = []
    for lib in (chainrule, torch):
        (x,) = _inputs(lib, [(3, 4)])
        y = x * 2
        y[0].mul_(3)
        assert type(y.grad_fn).__name__ == "CopySlices"
        y.sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1])


@pytest.mark.parametrize(
    "write",
    [lambda lib, y: y.fill_(2.0), lambda lib, y: y.zero_(), lambda lib, y: y.fill_(lib.tensor(3.0)),
     lambda lib, y: y.copy_(lib.ones(3)), lambda lib, y: y.copy_(lib.ones(3, requires_grad=True))],
    ids=["fill_number", "zero", "fill_tensor", "copy", "copy_needing_grad"],
)
def test_in_place_fills_and_copies_are_named_as_pytorchs(write):
    names = []
    for lib in (chainrule, torch):
        x = lib.ones(3, requires_grad=True)
        names.append(type(write(lib, x * 1).grad_fn).__name__)
    assert names[0] == names[1]
