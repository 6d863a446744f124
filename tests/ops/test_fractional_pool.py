"""Fractional max pooling: the op table (gradcheck in float64, PyTorch's values and gradients over
drawn shapes, both libraries given the same ``_random_samples``), indices, float32 intervals,
nan, the global generator, the modules and the errors."""
import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import library_case, table_test


def planes(min_side, dims=2, batched=True):
    side = st.integers(min_side, min_side + (3 if dims == 2 else 1))
    leading = (st.integers(1, 2), st.integers(1, 2)) if batched else (st.integers(1, 2),)
    return st.tuples(*leading, *[side] * dims).map(lambda shape: (shape,))


def _samples(lib, x, dims):
    """The same samples u ∈ [0, 1) for both libraries: (N, C, dims), N = 1 when unbatched."""
    batched = x.ndim == dims + 2
    shape = (x.shape[0] if batched else 1, x.shape[-dims - 1], dims)
    return lib.tensor(np.random.default_rng(x.shape[-1]).uniform(0, 1, shape), dtype=x.dtype)


def _pool(lib, x, dims, kernel, **options):
    function = getattr(lib.nn.functional, f"fractional_max_pool{dims}d")
    return function(x, kernel, _random_samples=_samples(lib, x, dims), **options)


CASES = [
    library_case("fmp2d_size", lambda lib, x: _pool(lib, x, 2, 2, output_size=3), planes(4)),
    library_case("fmp2d_size_pair", lambda lib, x: _pool(lib, x, 2, (2, 3), output_size=(4, 2)), planes(5)),
    library_case("fmp2d_ratio", lambda lib, x: _pool(lib, x, 2, 2, output_ratio=(0.5, 0.7)), planes(4)),
    library_case("fmp2d_one", lambda lib, x: _pool(lib, x, 2, 3, output_size=1), planes(3)),
    library_case("fmp2d_unbatched", lambda lib, x: _pool(lib, x, 2, 2, output_size=(3, 4)), planes(5, batched=False)),
    library_case("fmp3d_size", lambda lib, x: _pool(lib, x, 3, 2, output_size=(2, 3, 2)), planes(5, dims=3)),
    library_case("fmp3d_ratio", lambda lib, x: _pool(lib, x, 3, (1, 2, 2), output_ratio=(0.5, 0.5, 0.6)), planes(4, dims=3)),
    library_case("fmp3d_unbatched", lambda lib, x: _pool(lib, x, 3, 2, output_size=2), planes(4, dims=3, batched=False)),
]

test_op = table_test(CASES, max_examples=5)


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_indices_and_float32_intervals_match_pytorch(dims, dtype):
    x = np.random.default_rng(0).standard_normal((2, 3) + (13,) * dims)
    results = []
    for lib in (chainrule, torch):
        tensor = lib.tensor(x, dtype=getattr(lib, dtype))
        results.append(_pool(lib, tensor, dims, 3, output_size=5, return_indices=True))
    (ours, our_indices), (theirs, their_indices) = results
    np.testing.assert_array_equal(ours._array, theirs.numpy())
    np.testing.assert_array_equal(our_indices._array, their_indices.numpy())
    assert our_indices.dtype == chainrule.int64


def test_nan_and_ties_choose_as_pytorch():
    x = np.array([[[[1.0, 1.0, np.nan], [np.nan, 0.0, 5.0], [2.0, 2.0, 1.0]]]])
    results = []
    for lib in (chainrule, torch):
        tensor = lib.tensor(x, requires_grad=True)
        output, indices = _pool(lib, tensor, 2, 2, output_size=2, return_indices=True)
        output.nan_to_num().sum().backward()
        results.append((indices, tensor.grad))
    (our_indices, our_grad), (their_indices, their_grad) = results
    np.testing.assert_array_equal(our_indices._array, their_indices.numpy())
    np.testing.assert_array_equal(our_grad._array, their_grad.numpy())


def test_samples_come_from_the_global_generator():
    x = chainrule.randn(2, 3, 9, 9)
    chainrule.manual_seed(7)
    first = chainrule.nn.functional.fractional_max_pool2d(x, 2, output_size=4, return_indices=True)[1]
    chainrule.manual_seed(7)
    again = chainrule.nn.FractionalMaxPool2d(2, output_size=4, return_indices=True)(x)[1]
    assert (first == again).all()


def test_modules_as_pytorch():
    samples = np.random.default_rng(1).uniform(0, 1, (2, 3, 2))
    x = np.random.default_rng(2).standard_normal((2, 3, 9, 10))
    ours = chainrule.nn.FractionalMaxPool2d((2, 3), output_ratio=0.5, _random_samples=chainrule.tensor(samples))
    theirs = torch.nn.FractionalMaxPool2d((2, 3), output_ratio=0.5, _random_samples=torch.tensor(samples))
    np.testing.assert_array_equal(ours(chainrule.tensor(x))._array, theirs(torch.tensor(x)).numpy())
    assert repr(ours) == repr(theirs) == "FractionalMaxPool2d()"
    assert list(dict(ours.named_buffers())) == list(dict(theirs.named_buffers())) == ["_random_samples"]
    volume = chainrule.nn.FractionalMaxPool3d(2, output_size=(2, 3, 2))(chainrule.randn(1, 2, 5, 6, 5))
    assert tuple(volume.shape) == (1, 2, 2, 3, 2)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda lib: lib.nn.functional.fractional_max_pool2d(lib.randn(2, 3, 7, 8), 3, output_size=6), RuntimeError, "pool height 3 too large relative to input height 7"),
        (lambda lib: lib.nn.functional.fractional_max_pool3d(lib.randn(2, 3, 7, 8), 2, output_size=3), RuntimeError, "pool time 2 too large"),
        (lambda lib: lib.nn.functional.fractional_max_pool3d(lib.randn(1, 1, 4, 4, 4), 2, output_size=3), RuntimeError, "pool time 2 too large"),
        (lambda lib: lib.nn.functional.fractional_max_pool2d(lib.randn(2, 3, 7, 8), 3), ValueError, "either an output_size or an output_ratio"),
        (lambda lib: lib.nn.functional.fractional_max_pool2d(lib.randn(2, 3, 7, 8), 3, output_size=5, _random_samples=lib.rand(2, 3, 3)), RuntimeError, "size\\(2\\) equals to 2"),
        (lambda lib: lib.nn.functional.fractional_max_pool2d(lib.randn(2, 3, 7, 8), 3, output_size=5, _random_samples=lib.rand(1, 3, 2)), RuntimeError, "no less then input batch size"),
        (lambda lib: lib.nn.functional.fractional_max_pool2d(lib.randn(2, 3, 7, 8), 3, output_size=5, _random_samples=lib.rand(2, 3, 2, dtype=lib.float64)), RuntimeError, "same dtype"),
        (lambda lib: lib.nn.FractionalMaxPool2d(2), ValueError, "output size, or a pooling ratio"),
        (lambda lib: lib.nn.FractionalMaxPool2d(2, output_size=3, output_ratio=0.5), ValueError, "only one of"),
        (lambda lib: lib.nn.FractionalMaxPool2d(2, output_ratio=1.5), ValueError, "between 0 and 1"),
    ],
)
def test_errors_as_pytorch(call, error, words):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error, match=words):
        call(chainrule)
