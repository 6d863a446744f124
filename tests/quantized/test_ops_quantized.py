"""``chainrule.ops.quantized`` (``torch.ops.quantized``): quantized additions and products, the
integers and parameters PyTorch's kernels give, for two tensors and for a tensor and a number
(whose zero point moves, or is clamped with a wider scale, as PyTorch's)."""
import numpy as np
import pytest
import torch

import chainrule

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

NAMES = ["add", "add_relu", "mul", "mul_relu"]


def both(function):
    """``function(library)`` for PyTorch and chainrule: (integers, scale, zero point) of each."""
    results = []
    for library in (torch, chainrule):
        result = function(library)
        results.append((result.int_repr().numpy(), result.q_scale(), result.q_zero_point()))
    return results


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("number", [0.5, -0.7, 2.5, 12.0, -30.0, 0.013, 0.0])
def test_a_tensor_and_a_number_give_pytorchs_integers_and_parameters(name, number):
    rng = np.random.default_rng(abs(hash((name, number))) % 1000)
    x = (rng.standard_normal(200) * 3).astype(np.float32)

    def computed(library):
        quantized = library.quantize_per_tensor(library.tensor(x), 0.09, 82, library.quint8)
        return getattr(library.ops.quantized, name)(quantized, number)

    (their_integers, *their_parameters), (our_integers, *our_parameters) = both(computed)
    np.testing.assert_array_equal(our_integers, their_integers)
    assert our_parameters == their_parameters


@pytest.mark.parametrize("name", NAMES)
def test_two_tensors_give_pytorchs_integers(name):
    rng = np.random.default_rng(1)
    x, y = (rng.standard_normal((2, 6, 64)) * 3).astype(np.float32)

    def computed(library):
        a = library.quantize_per_tensor(library.tensor(x), 0.05, 100, library.quint8)
        b = library.quantize_per_tensor(library.tensor(y), 0.07, 120, library.quint8)
        return getattr(library.ops.quantized, name)(a, b, 0.09, 110)

    (their_integers, *their_parameters), (our_integers, *our_parameters) = both(computed)
    np.testing.assert_array_equal(our_integers, their_integers)
    assert our_parameters == their_parameters
