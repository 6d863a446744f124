"""Empty dimensions: every family of operations on tensors with a size-0 dimension, against
PyTorch (values, gradients) and gradcheck, as the random-shape tables draw sides of 1 and more."""
from hypothesis import strategies as st

from tests.ops.oracle import library_case, table_test


def shapes(*inputs):
    return st.just(inputs)


CASES = [
    library_case("add_empty", lambda lib, a, b: a + b, shapes((0,), (0,))),
    library_case("mul_broadcast_empty", lambda lib, a, b: a * b, shapes((2, 0), (0,))),
    library_case("sub_size1_against_empty", lambda lib, a, b: a - b, shapes((0, 3), (1, 3))),
    library_case("div_empty", lambda lib, a, b: a / (b * b + 1), shapes((3, 0), (1, 0))),
    library_case("exp_empty", lambda lib, a: a.exp(), shapes((0, 2))),
    library_case("sigmoid_empty", lambda lib, a: a.sigmoid(), shapes((2, 0, 3))),
    library_case("relu_empty", lambda lib, a: lib.relu(a), shapes((0,))),
    library_case("sum_all_empty", lambda lib, a: a.sum(), shapes((0, 3))),
    library_case("sum_dim_empty", lambda lib, a: a.sum(1), shapes((2, 0))),
    library_case("mean_of_nothing_is_nan", lambda lib, a: a.mean(0), shapes((0, 3))),
    library_case("matmul_inner_empty", lambda lib, a, b: a @ b, shapes((2, 0), (0, 3))),
    library_case("matmul_rows_empty", lambda lib, a, b: a @ b, shapes((0, 4), (4, 3))),
    library_case("linear_batch_empty", lambda lib, a, w, b: lib.nn.functional.linear(a, w, b), shapes((0, 4), (3, 4), (3,))),
    library_case("reshape_empty", lambda lib, a: a.reshape(3, 0, 2), shapes((0, 6))),
    library_case("transpose_empty", lambda lib, a: a.transpose(0, 1), shapes((0, 5))),
    library_case("cat_with_empty", lambda lib, a, b: lib.cat([a, b], 0), shapes((0, 3), (2, 3))),
    library_case("stack_empty", lambda lib, a, b: lib.stack([a, b], 1), shapes((0,), (0,))),
    library_case("slice_to_empty", lambda lib, a: a[1:1], shapes((3, 2))),
    library_case("mask_selects_nothing", lambda lib, a: a[a > 100], shapes((3, 2))),
    library_case("softmax_empty_batch", lambda lib, a: a.softmax(1), shapes((0, 4))),
    library_case("log_softmax_empty_batch", lambda lib, a: a.log_softmax(-1), shapes((0, 3))),
    library_case("tril_empty", lambda lib, a: a.tril(), shapes((0, 3))),
    library_case("roll_empty", lambda lib, a: a.roll(1, 0), shapes((0, 2))),
    library_case("rot90_empty", lambda lib, a: a.rot90(), shapes((2, 0))),
    library_case("diagonal_empty", lambda lib, a: a.diagonal(), shapes((0, 3))),
    library_case("diag_embed_empty", lambda lib, a: lib.diag_embed(a), shapes((2, 0))),
    library_case("trace_empty", lambda lib, a: lib.trace(a), shapes((0, 2))),
    library_case("narrow_empty", lambda lib, a: a.narrow(1, 0, 0), shapes((2, 3))),
    library_case("repeat_interleave_empty", lambda lib, a: a.repeat_interleave(2, dim=0), shapes((0, 2))),
    library_case("tensor_split_empty", lambda lib, a: lib.cat(a.tensor_split(2)), shapes((0, 2))),
    library_case("index_add_empty", lambda lib, a, b: a.index_add(0, lib.tensor([], dtype=lib.int64), b), shapes((2, 3), (0, 3))),
    library_case("einsum_empty", lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), shapes((2, 0), (0, 3))),
    library_case("kron_empty", lambda lib, a, b: lib.kron(a, b), shapes((0, 2), (2, 2))),
    library_case("cdist_empty", lambda lib, a, b: lib.cdist(a, b), shapes((0, 3), (2, 3))),
    library_case("block_diag_empty", lambda lib, a, b: lib.block_diag(a, b), shapes((0, 2), (2, 1))),
    library_case("meshgrid_empty", lambda lib, a, b: lib.stack(lib.meshgrid(a, b, indexing="ij")), shapes((0,), (3,))),
]

test_op = table_test(CASES, max_examples=2)
