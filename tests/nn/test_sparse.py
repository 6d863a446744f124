"""EmbeddingBag and F.embedding_bag against PyTorch: values, weight and per-sample-weight gradients
(and float64 gradcheck) for every mode, bags given by rows or offsets (empty bags included),
padding_idx, the module from identical weights, its repr, and errors."""
import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from chainrule import nn
from tests.nn.pairs import assert_close, error_of, module_pair
from tests.ops.oracle import library_case, table_test

IDS = [3, 1, 4, 1, 5, 9, 2, 6]
OFFSETS = [0, 3, 3, 5]  # bags [3 1 4], [], [1 5], [9 2 6]
# with include_last_offset the offsets end with input's length (as PyTorch documents; for a shorter last
# offset PyTorch's own paths disagree: see embedding_bag)
LAST_OFFSETS = OFFSETS + [len(IDS)]


def tables():
    """weight (num_embeddings, dim), sizes including a single row and empty rows."""
    return st.tuples(st.integers(1, 5), st.integers(0, 3)).map(lambda shape: (shape,))


def with_weights():
    return st.tuples(st.integers(1, 5), st.integers(0, 3)).map(lambda shape: (shape, (len(IDS),)))


def bag(lib, weight, **settings):
    ids = lib.tensor(IDS) % weight.shape[0]
    offsets = LAST_OFFSETS if settings.get("include_last_offset") else OFFSETS
    return lib.nn.functional.embedding_bag(ids, weight, lib.tensor(offsets), **settings)


def rows_of_bags(lib, weight, mode):
    ids = (lib.tensor(IDS) % weight.shape[0]).reshape(2, 4)
    return lib.nn.functional.embedding_bag(ids, weight, mode=mode)


TABLE = [
    library_case("embedding_bag_mean", lambda lib, w: bag(lib, w), tables()),
    library_case("embedding_bag_sum", lambda lib, w: bag(lib, w, mode="sum"), tables()),
    library_case("embedding_bag_max", lambda lib, w: bag(lib, w, mode="max"), tables()),
    library_case("embedding_bag_padding_mean", lambda lib, w: bag(lib, w, padding_idx=0), tables()),
    library_case("embedding_bag_padding_max", lambda lib, w: bag(lib, w, mode="max", padding_idx=-1), tables()),
    library_case("embedding_bag_last_offset", lambda lib, w: bag(lib, w, mode="sum", include_last_offset=True), tables()),
    library_case(
        "embedding_bag_per_sample_weights", lambda lib, w, p: bag(lib, w, mode="sum", per_sample_weights=p), with_weights()
    ),
    library_case("embedding_bag_2d_mean", lambda lib, w: rows_of_bags(lib, w, "mean"), tables()),
    library_case("embedding_bag_2d_max", lambda lib, w: rows_of_bags(lib, w, "max"), tables()),
]

test_op = table_test(TABLE, max_examples=5)


MODULES = [
    ("mean", lambda lib: lib.nn.EmbeddingBag(10, 3)),
    ("sum_padding", lambda lib: lib.nn.EmbeddingBag(10, 3, mode="sum", padding_idx=1)),
    ("max_last_offset", lambda lib: lib.nn.EmbeddingBag(10, 3, mode="max", include_last_offset=True)),
]


@pytest.mark.parametrize("make", [case[1] for case in MODULES], ids=[case[0] for case in MODULES])
def test_module_matches_torch(make):
    ours, theirs = module_pair(make)
    assert repr(ours) == repr(theirs)
    offsets = LAST_OFFSETS if ours.include_last_offset else OFFSETS
    for lib, module in ((chainrule, ours), (torch, theirs)):
        module(lib.tensor(IDS), lib.tensor(offsets)).pow(2).sum().backward()
    assert_close(ours(chainrule.tensor(IDS), chainrule.tensor(offsets)), theirs(torch.tensor(IDS), torch.tensor(offsets)), "output")
    assert_close(ours.weight.grad, theirs.weight.grad, "weight gradient")


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "per_sample_weights"])
def test_a_short_last_offset_ends_the_last_bag(mode, weighted):
    """include_last_offset with a last offset short of input's end: the entries after it are in no bag,
    in the value and in both gradients (PyTorch's float32 sum; its other paths disagree with each other)."""
    if weighted and mode != "sum":
        pytest.skip("per_sample_weights is for mode 'sum' only")
    weight = chainrule.arange(12.0, dtype=chainrule.float64).reshape(4, 3).requires_grad_()
    scales = chainrule.tensor([1.0, 2.0, 3.0, 4.0], dtype=chainrule.float64, requires_grad=True) if weighted else None
    out = chainrule.nn.functional.embedding_bag(
        chainrule.tensor([0, 1, 2, 3]), weight, chainrule.tensor([0, 2, 3]), mode=mode, per_sample_weights=scales,
        include_last_offset=True,
    )
    out.sum().backward()
    expected = chainrule.nn.functional.embedding_bag(
        chainrule.tensor([0, 1, 2]), weight.detach(), chainrule.tensor([0, 2]), mode=mode,
        per_sample_weights=None if scales is None else scales.detach()[:3],
    )
    assert_close(out, expected, "output")
    assert (weight.grad._array[3] == 0).all() and (scales is None or scales.grad._array[3] == 0)


def test_padding_row_starts_at_zero_and_from_pretrained_freezes():
    bag = nn.EmbeddingBag(5, 2, padding_idx=3)
    assert (bag.weight._array[3] == 0).all()
    frozen = nn.EmbeddingBag.from_pretrained(chainrule.ones(4, 2), mode="sum")
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(chainrule.tensor([[0, 1, 2]]))._array, [[3.0, 3.0]])


ERRORS = [
    ("first_offset_not_zero", lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor(IDS), w, lib.tensor([1, 4]))),
    ("offsets_with_2d", lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor(IDS).reshape(2, 4), w, lib.tensor([0, 4]))),
    ("no_offsets", lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor(IDS), w)),
    ("unknown_mode", lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor(IDS), w, lib.tensor([0]), mode="min")),
    ("index_out_of_range", lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([1, 20]), w, lib.tensor([0]))),
    ("float_ids", lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([1.0, 2.0]), w, lib.tensor([0]))),
    ("last_offset_too_large", lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor(IDS), w, lib.tensor([0, 4, 10]))),
    (
        "per_sample_weights_with_mean",
        lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor(IDS), w, lib.tensor([0]), per_sample_weights=lib.ones(8)),
    ),
    (
        "per_sample_weights_shape",
        lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor(IDS), w, lib.tensor([0]), mode="sum", per_sample_weights=lib.ones(7)),
    ),
]


@pytest.mark.parametrize("call", [case[1] for case in ERRORS], ids=[case[0] for case in ERRORS])
def test_errors_match_torch(call):
    ours = error_of(lambda: call(chainrule, chainrule.ones(10, 3)))
    theirs = error_of(lambda: call(torch, torch.ones(10, 3)))
    assert ours is not None and ours[0] is theirs[0], (ours, theirs)
    assert ours[1][:30] == theirs[1][:30]
