"""nn.functional's private helpers that library code imports (attention written after PyTorch's
MultiheadAttention, losses after its _Loss), against PyTorch's: the same projections, masks,
dtypes, errors and warnings."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule
import chainrule.nn.functional as F
from tests.nn.pairs import assert_close, error_of, normal


def _pair(array, requires_grad=True):
    return chainrule.tensor(array, requires_grad=requires_grad), torch.tensor(array, requires_grad=requires_grad)


@pytest.mark.parametrize("sharing", ["self", "encoder-decoder", "separate"])
@pytest.mark.parametrize("bias", [True, False])
def test_in_projection_packed_matches_pytorch_values_and_gradients(sharing, bias):
    size = 4
    (q_ours, q_theirs) = _pair(normal(3, 2, size, seed=1))
    (k_ours, k_theirs) = (q_ours, q_theirs) if sharing == "self" else _pair(normal(5, 2, size, seed=2))
    (v_ours, v_theirs) = (k_ours, k_theirs) if sharing != "separate" else _pair(normal(5, 2, size, seed=3))
    w_ours, w_theirs = _pair(normal(3 * size, size, seed=4))
    b_ours, b_theirs = _pair(normal(3 * size, seed=5)) if bias else (None, None)
    mine = F._in_projection_packed(q_ours, k_ours, v_ours, w_ours, b_ours)
    reference = TF._in_projection_packed(q_theirs, k_theirs, v_theirs, w_theirs, b_theirs)
    assert len(mine) == len(reference) == 3
    for position, (got, expected) in enumerate(zip(mine, reference)):
        assert_close(got, expected, f"projection {position}")
        assert got.is_contiguous()
    for results, lib in ((mine, chainrule), (reference, torch)):
        sum((part * lib.tensor(normal(*part.shape, seed=9 + i))).sum() for i, part in enumerate(results)).backward()
    assert_close(w_ours.grad, w_theirs.grad, "weight gradient")
    assert_close(q_ours.grad, q_theirs.grad, "query gradient")
    if bias:
        assert_close(b_ours.grad, b_theirs.grad, "bias gradient")


def test_in_projection_checks_shapes_as_pytorch():
    q, k, v = normal(3, 4, seed=1), normal(5, 6, seed=2), normal(5, 2, seed=3)
    weights = [normal(4, 4, seed=4), normal(4, 6, seed=5), normal(4, 2, seed=6)]
    biases = [normal(4, seed=7 + i) for i in range(3)]
    mine = F._in_projection(*(chainrule.tensor(a) for a in (q, k, v, *weights, *biases)))
    reference = TF._in_projection(*(torch.tensor(a) for a in (q, k, v, *weights, *biases)))
    for got, expected in zip(mine, reference):
        assert_close(got, expected, "separate projection")
    wrong = [normal(4, 4, seed=4), normal(4, 5, seed=5), normal(4, 2, seed=6)]
    mine = error_of(lambda: F._in_projection(*(chainrule.tensor(a) for a in (q, k, v, *wrong))))
    reference = error_of(lambda: TF._in_projection(*(torch.tensor(a) for a in (q, k, v, *wrong))))
    assert mine[0] is reference[0] is AssertionError
    assert mine[1].replace("chainrule", "torch") == reference[1]


@pytest.mark.parametrize("kind", ["bool", "float", "none", "int"])
def test_canonical_mask_matches_pytorch(kind):
    mask = np.array([[True, False, True], [False, False, True]])
    arrays = {"bool": mask, "float": normal(2, 3, seed=1).astype(np.float32), "int": mask.astype(np.int64)}
    results = []
    for lib in (chainrule, torch):
        value = None if kind == "none" else lib.tensor(arrays[kind])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call = lambda: (lib.nn.functional._canonical_mask(value, "key_padding_mask", lib.float32, "attn_mask", lib.float32))  # noqa: E731
            outcome = error_of(call) if kind == "int" else call()
        results.append((outcome, [str(w.message) for w in caught]))
    (mine, my_warnings), (reference, their_warnings) = results
    if kind == "int":
        assert mine[0] is reference[0] is AssertionError and mine[1] == reference[1]
    elif kind == "none":
        assert mine is None and reference is None
    else:
        assert_close(mine, reference, "mask")
        assert str(mine.dtype).split(".")[-1] == str(reference.dtype).split(".")[-1] == "float32"
        assert my_warnings == their_warnings == ([] if kind == "float" else ["Support for mismatched key_padding_mask and attn_mask is deprecated. Use same type for both instead."])


def test_none_or_dtype_softmax_dim_and_the_normalization_checks_match_pytorch():
    assert F._none_or_dtype(None) is None and F._none_or_dtype(chainrule.zeros(2, dtype=chainrule.float64)) is chainrule.float64
    assert error_of(lambda: F._none_or_dtype(3)) == error_of(lambda: TF._none_or_dtype(3))
    for ndim in range(5):
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            mine = F._get_softmax_dim("softmax", ndim, 3)
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            assert mine == TF._get_softmax_dim("softmax", ndim, 3)
    for size in ([1, 3], [1, 3, 1, 1], [2, 3], [1, 3, 2]):
        assert error_of(lambda: F._verify_batch_size(size)) == error_of(lambda: TF._verify_batch_size(size))
        assert error_of(lambda: F._verify_spatial_size(size)) == error_of(lambda: TF._verify_spatial_size(size))
    for shape in ((2, 5), (3, 5), (2, 4)):
        mask = np.zeros(shape, dtype=bool)
        assert error_of(lambda: F._check_key_padding_mask(chainrule.tensor(mask), 5, 2)) == error_of(
            lambda: TF._check_key_padding_mask(torch.tensor(mask), 5, 2)
        )


def test_reduction_module_matches_pytorch():
    from torch.nn import _reduction as theirs

    from chainrule.nn import _reduction as ours

    assert F._Reduction is ours and F._VF is chainrule._VF
    for name in ("none", "mean", "sum"):
        assert ours.get_enum(name) == theirs.get_enum(name)
    assert error_of(lambda: ours.get_enum("max")) == error_of(lambda: theirs.get_enum("max"))
    for size_average in (None, True, False):
        for reduce in (None, True, False):
            with warnings.catch_warnings(record=True) as mine:
                warnings.simplefilter("always")
                got = ours.legacy_get_enum(size_average, reduce)
            with warnings.catch_warnings(record=True) as reference:
                warnings.simplefilter("always")
                expected = theirs.legacy_get_enum(size_average, reduce)
            assert got == expected
            assert [str(w.message) for w in mine] == [str(w.message) for w in reference]
            assert ours.legacy_get_string(size_average, reduce, emit_warning=False) == theirs.legacy_get_string(size_average, reduce, False)
    with pytest.warns(UserWarning, match="elementwise_mean"):
        assert ours.get_enum("elementwise_mean") == 1


def test_torch_function_helpers_are_reexported_as_in_pytorch():
    import chainrule.overrides as overrides

    for name in ("handle_torch_function", "has_torch_function", "has_torch_function_unary", "has_torch_function_variadic"):
        assert getattr(F, name) is getattr(overrides, name)
        assert hasattr(TF, name)
