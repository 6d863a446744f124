"""The convolutional-network example: the digits as images, the demo's accuracy and its figures."""
import numpy as np

from chainrule.datasets import load_digits
from chainrule.examples import cnn_digits, resolve


def test_digits_load_as_images_in_conv2d_layout():
    X, y = load_digits(images=True)
    flat, _ = load_digits()
    assert tuple(X.shape) == (1797, 1, 8, 8) and tuple(y.shape) == (1797,)
    np.testing.assert_array_equal(X._array.reshape(1797, 64), flat._array)


def test_the_cnn_reaches_97_percent_and_draws_its_figures(tmp_path):
    results = cnn_digits.main(out=tmp_path, quick=True)
    assert results["test_accuracy"] >= 0.97
    for name in ("training.png", "kernels.png", "feature_maps.png", "confusion.png", "report.md"):
        assert (tmp_path / name).stat().st_size > 0
    assert resolve("cnn-digits") == "cnn_digits"
