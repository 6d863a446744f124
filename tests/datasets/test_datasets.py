"""Tests of chainrule.datasets: shapes and dtypes, the closed-form geometry of the generated sets,
seeding, and the contents of the two shipped tables."""
import math

import numpy
import pytest

import chainrule
from chainrule.datasets import load_digits, load_iris, make_linear, make_moons, make_quadratic
from chainrule.datasets.digits import DIGITS_CLASS_NAMES, DIGITS_IMAGE_SHAPE
from chainrule.datasets.iris import IRIS_CLASS_NAMES, IRIS_FEATURE_NAMES
from chainrule.random import Generator
from chainrule.tensor import Tensor


def assert_features_and_labels(X, y, n_rows, n_features):
    """X is a float32 tensor (n_rows, n_features) and y an int64 tensor (n_rows,)."""
    assert isinstance(X, Tensor) and isinstance(y, Tensor)
    assert X.shape == (n_rows, n_features) and X.dtype == chainrule.float32
    assert y.shape == (n_rows,) and y.dtype == chainrule.int64


# make_moons


@pytest.mark.parametrize("n_samples", [1000, 7, 1, 0])
def test_moons_shapes_and_dtypes(n_samples):
    X, y = make_moons(n_samples, noise=0.1)
    assert_features_and_labels(X, y, n_samples, 2)


@pytest.mark.parametrize("n_samples", [1000, 7])
def test_moons_have_half_the_points_in_each_class(n_samples):
    _, y = make_moons(n_samples)
    n_outer = n_samples // 2
    assert numpy.bincount(y.numpy(), minlength=2).tolist() == [n_outer, n_samples - n_outer]


def test_unshuffled_moons_are_the_closed_form_points():
    # 7 points: 3 outer at t = 0, pi/2, pi; 4 inner at s = 0, pi/3, 2pi/3, pi.
    X, y = make_moons(7, shuffle=False)
    half_root3 = math.sqrt(3) / 2
    expected = [
        [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0],
        [0.0, 0.5], [0.5, 0.5 - half_root3], [1.5, 0.5 - half_root3], [2.0, 0.5],
    ]
    numpy.testing.assert_allclose(X.numpy(), expected, atol=1e-7)
    assert y.numpy().tolist() == [0, 0, 0, 1, 1, 1, 1]


def test_noiseless_moons_lie_on_their_half_circles():
    X, y = make_moons(1000)
    points, labels = X.numpy().astype(numpy.float64), y.numpy()
    outer, inner = points[labels == 0], points[labels == 1]
    # outer: upper half of the unit circle around (0, 0)
    numpy.testing.assert_allclose(numpy.hypot(outer[:, 0], outer[:, 1]), 1.0, atol=1e-6)
    assert (outer[:, 1] >= -1e-7).all()
    # inner: lower half of the unit circle around (1, 0.5)
    numpy.testing.assert_allclose(numpy.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0, atol=1e-6)
    assert (inner[:, 1] <= 0.5 + 1e-7).all()


def test_shuffling_reorders_the_same_points():
    in_order, labels_in_order = make_moons(100, shuffle=False)
    shuffled, labels_shuffled = make_moons(100, shuffle=True)
    assert not numpy.array_equal(shuffled.numpy(), in_order.numpy())
    rows_in_order = numpy.column_stack([in_order.numpy(), labels_in_order.numpy()])
    rows_shuffled = numpy.column_stack([shuffled.numpy(), labels_shuffled.numpy()])
    numpy.testing.assert_array_equal(
        numpy.unique(rows_shuffled, axis=0), numpy.unique(rows_in_order, axis=0)
    )


def test_moons_noise_has_the_requested_standard_deviation():
    # Same seed: the same permutation, then noise on top of the same points.
    chainrule.manual_seed(3)
    clean, clean_labels = make_moons(2000)
    chainrule.manual_seed(3)
    noisy, noisy_labels = make_moons(2000, noise=0.1)
    numpy.testing.assert_array_equal(noisy_labels.numpy(), clean_labels.numpy())
    difference = noisy.numpy().astype(numpy.float64) - clean.numpy()
    assert abs(difference.mean()) < 0.01
    assert difference.std() == pytest.approx(0.1, rel=0.05)


def test_manual_seed_makes_moons_reproducible():
    chainrule.manual_seed(0)
    first_X, first_y = make_moons(200, noise=0.2)
    chainrule.manual_seed(0)
    again_X, again_y = make_moons(200, noise=0.2)
    chainrule.manual_seed(1)
    other_X, other_y = make_moons(200, noise=0.2)
    numpy.testing.assert_array_equal(first_X.numpy(), again_X.numpy())
    numpy.testing.assert_array_equal(first_y.numpy(), again_y.numpy())
    assert not numpy.array_equal(first_X.numpy(), other_X.numpy())
    assert not numpy.array_equal(first_y.numpy(), other_y.numpy())


def test_moons_draw_from_a_given_generator_and_leave_the_global_one_alone():
    chainrule.manual_seed(0)
    from_global, _ = make_moons(200, noise=0.2)
    from_own, _ = make_moons(200, noise=0.2, generator=Generator(0))
    numpy.testing.assert_array_equal(from_own.numpy(), from_global.numpy())

    chainrule.manual_seed(5)
    make_moons(200, noise=0.2, generator=Generator(9))
    after_other_generator, _ = make_moons(200, noise=0.2)
    chainrule.manual_seed(5)
    untouched, _ = make_moons(200, noise=0.2)
    numpy.testing.assert_array_equal(after_other_generator.numpy(), untouched.numpy())


def test_moons_reject_a_negative_sample_count():
    with pytest.raises(ValueError, match="n_samples"):
        make_moons(-1)


# load_iris


def test_iris_shapes_dtypes_and_names():
    X, y = load_iris()
    assert_features_and_labels(X, y, 150, 4)
    assert len(IRIS_FEATURE_NAMES) == 4
    assert IRIS_CLASS_NAMES == ("setosa", "versicolor", "virginica")


def test_iris_has_three_blocks_of_fifty():
    _, y = load_iris()
    assert y.numpy().tolist() == [0] * 50 + [1] * 50 + [2] * 50


def test_iris_values_are_fishers():
    X, _ = load_iris(as_numpy=True)
    numpy.testing.assert_allclose(X[0], [5.1, 3.5, 1.4, 0.2], rtol=1e-6)
    # the two flowers where the UCI file has typos
    numpy.testing.assert_allclose(X[34], [4.9, 3.1, 1.5, 0.2], rtol=1e-6)
    numpy.testing.assert_allclose(X[37], [4.9, 3.6, 1.4, 0.1], rtol=1e-6)
    # the summary statistics published with the dataset
    numpy.testing.assert_allclose(X.min(axis=0), [4.3, 2.0, 1.0, 0.1], rtol=1e-6)
    numpy.testing.assert_allclose(X.max(axis=0), [7.9, 4.4, 6.9, 2.5], rtol=1e-6)
    numpy.testing.assert_allclose(X.mean(axis=0), [5.843, 3.057, 3.758, 1.199], atol=1e-3)


def test_iris_as_numpy_matches_the_tensors():
    X, y = load_iris()
    X_array, y_array = load_iris(as_numpy=True)
    assert isinstance(X_array, numpy.ndarray) and isinstance(y_array, numpy.ndarray)
    assert X_array.dtype == numpy.float32 and y_array.dtype == numpy.int64
    numpy.testing.assert_array_equal(X_array, X.numpy())
    numpy.testing.assert_array_equal(y_array, y.numpy())


def test_normalized_iris_has_zero_mean_and_unit_variance():
    raw, _ = load_iris(as_numpy=True)
    X, y = load_iris(normalize=True)
    assert_features_and_labels(X, y, 150, 4)
    normalized = X.numpy().astype(numpy.float64)
    numpy.testing.assert_allclose(normalized.mean(axis=0), 0.0, atol=1e-6)
    numpy.testing.assert_allclose(normalized.std(axis=0), 1.0, atol=1e-6)
    # undoing the standardization gives back the measurements
    raw = raw.astype(numpy.float64)
    numpy.testing.assert_allclose(normalized * raw.std(axis=0) + raw.mean(axis=0), raw, rtol=1e-6)


# load_digits


def test_digits_shapes_dtypes_and_pixel_range():
    X, y = load_digits()
    assert_features_and_labels(X, y, 1797, 64)
    pixels = X.numpy()
    assert numpy.array_equal(pixels, numpy.round(pixels))
    assert pixels.min() == 0 and pixels.max() == 16
    assert math.prod(DIGITS_IMAGE_SHAPE) == 64


def test_digits_class_counts_are_ucis():
    _, y = load_digits()
    # the class distribution UCI publishes for the optdigits test set
    assert numpy.bincount(y.numpy()).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert DIGITS_CLASS_NAMES == tuple("0123456789")


def test_digits_as_numpy_matches_the_tensors():
    X, y = load_digits()
    X_array, y_array = load_digits(as_numpy=True)
    assert X_array.dtype == numpy.float32 and y_array.dtype == numpy.int64
    numpy.testing.assert_array_equal(X_array, X.numpy())
    numpy.testing.assert_array_equal(y_array, y.numpy())


def test_normalized_digits_keep_constant_pixels_at_zero():
    X, _ = load_digits(normalize=True, as_numpy=True)
    assert X.dtype == numpy.float32 and numpy.isfinite(X).all()
    constant = [0, 32, 39]
    varying = [column for column in range(64) if column not in constant]
    assert (X[:, constant] == 0).all()
    normalized = X[:, varying].astype(numpy.float64)
    numpy.testing.assert_allclose(normalized.mean(axis=0), 0.0, atol=1e-6)
    numpy.testing.assert_allclose(normalized.std(axis=0), 1.0, atol=1e-5)


# make_linear, make_quadratic


def test_make_linear_defaults_are_the_lecture_points():
    x, y = make_linear()
    assert isinstance(x, Tensor) and isinstance(y, Tensor)
    assert x.dtype == chainrule.float32 and y.dtype == chainrule.float32
    assert x.numpy().tolist() == [1.0, 2.0, 3.0]
    assert y.numpy().tolist() == [2.0, 4.0, 6.0]


def test_make_quadratic_defaults_are_the_homework_points():
    x, y = make_quadratic()
    assert x.dtype == chainrule.float32 and y.dtype == chainrule.float32
    assert x.numpy().tolist() == [1.0, 2.0, 3.0]
    assert y.numpy().tolist() == [3.0, 7.0, 13.0]


def test_regression_sets_on_a_range():
    x, y = make_linear(5, start=-1.0, end=1.0, slope=3.0)
    assert x.numpy().tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert y.numpy().tolist() == [-3.0, -1.5, 0.0, 1.5, 3.0]
    x, y = make_quadratic(3, start=0.0, end=2.0, a=2.0, b=-1.0, c=0.5)
    assert x.numpy().tolist() == [0.0, 1.0, 2.0]
    assert y.numpy().tolist() == [0.5, 1.5, 6.5]  # 2x^2 - x + 0.5


@pytest.mark.parametrize("make, curve", [
    (make_linear, lambda x: 2 * x),
    (make_quadratic, lambda x: x**2 + x + 1),
])
def test_regression_noise_is_seeded_and_has_the_requested_spread(make, curve):
    chainrule.manual_seed(7)
    x, y = make(2000, start=0.0, end=1.0, noise=0.5)
    chainrule.manual_seed(7)
    _, y_again = make(2000, start=0.0, end=1.0, noise=0.5)
    numpy.testing.assert_array_equal(y.numpy(), y_again.numpy())
    residual = y.numpy().astype(numpy.float64) - curve(x.numpy().astype(numpy.float64))
    assert residual.std() == pytest.approx(0.5, rel=0.1)
