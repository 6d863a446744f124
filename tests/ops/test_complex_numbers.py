"""PyTorch's complex-number names on real tensors: exact answers (a real number is its own
conjugate and real part, has no imaginary part, its angle is 0 or π), as PyTorch gives them."""
import math
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.ops.oracle import OpCase, library_case, one_shape, table_test
from tests.ops.test_elementwise import away_from_zero
from tests.ops.test_decompositions import rectangular

CASES = [
    # angle is flat (its gradient is 0): added to x so that the check sees a gradient at all
    OpCase("angle", lambda a: chainrule.angle(a) + a, lambda a: torch.angle(a) + a, one_shape(), domain=away_from_zero),
    OpCase("angle_method", lambda a: a.angle() * a, lambda a: a.angle() * a, one_shape(), domain=away_from_zero),
    library_case("conj", lambda lib, a: lib.conj(a) * 2, one_shape()),
    library_case("resolve_conj", lambda lib, a: a.resolve_conj().resolve_neg() * 2, one_shape()),
    library_case("conj_physical", lambda lib, a: lib.conj_physical(a) * 2, one_shape()),
    library_case("real", lambda lib, a: a.real * 2 + lib.real(a), one_shape()),
    library_case("adjoint", lambda lib, a: lib.adjoint(a) * 2, rectangular()),
    library_case("mH", lambda lib, a: a.mH * 2, rectangular()),
    library_case("H", lambda lib, a: a.H * 2, rectangular(empty=False).filter(lambda shapes: len(shapes[0]) == 2)),
]

test_op = table_test(CASES)


def test_a_real_tensor_answers_the_complex_questions_as_in_pytorch():
    for lib in (chainrule, torch):
        x = lib.ones(2, requires_grad=True)
        assert (lib.is_complex(x), x.is_complex(), lib.is_conj(x), x.is_conj(), x.is_neg()) == (False,) * 5
        assert x.conj() is x and lib.conj(x) is x and x.resolve_conj() is x and x.resolve_neg() is x
        assert lib.conj_physical(x) is x and x.real is x and lib.real(x) is x
        with lib.no_grad():
            assert x.conj_physical_() is x


def test_the_imaginary_part_of_a_real_tensor_is_an_error_as_in_pytorch():
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex dtypes"):
            lib.ones(2).imag
        with pytest.raises(RuntimeError, match="imag is not implemented"):
            lib.imag(lib.ones(2))
    with pytest.raises(TypeError, match="must be Tensor"):
        chainrule.is_complex(1.0)


def test_angle_of_negative_zero_nan_and_integers():
    values = [-1.0, -0.0, 0.0, 2.0, math.nan, -math.inf, math.inf]
    ours, theirs = chainrule.angle(chainrule.tensor(values)), torch.angle(torch.tensor(values))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert chainrule.angle(chainrule.tensor([1, -2])).dtype == chainrule.float32
    assert chainrule.angle(chainrule.tensor([-1.0], dtype=chainrule.float64)).dtype == chainrule.float64


def test_angle_gives_zero_gradients_even_for_infinite_ones():
    for lib in (chainrule, torch):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        x.angle().backward(lib.tensor([math.inf, math.nan]))
        assert x.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("shape, attribute", [((3,), "H"), ((3,), "mH"), ((2, 2, 2), "H")])
def test_conjugate_transposes_refuse_what_pytorch_refuses(shape, attribute):
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match=f"tensor.{attribute} is only supported on matrices"):
            getattr(lib.ones(shape), attribute)
    with pytest.raises(RuntimeError, match="tensor.adjoint\\(\\) is only supported on matrices"):
        chainrule.ones(3).adjoint()


@pytest.mark.parametrize("attribute", ["H", "mH", "adjoint"])
def test_conjugate_transpose_of_a_0d_tensor_warns_and_gives_its_conjugate(attribute):
    """A real 0-d tensor is given back itself, a complex one conjugated, as by PyTorch."""
    x, z = chainrule.tensor(5.0), chainrule.tensor(2 + 1j)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        transposed = [getattr(x, attribute), getattr(z, attribute)]
        if attribute == "adjoint":
            transposed = [made() for made in transposed]
    assert transposed[0] is x and transposed[1].item() == 2 - 1j
    name = "adjoint()" if attribute == "adjoint" else f"Tensor.{attribute}"
    assert f"{name} is deprecated on 0-D tensors" in str(caught[0].message) and caught[0].filename == __file__


def _written_part(lib, step):
    """A complex tensor in the graph, changed through its real or imaginary parts (``step``), its
    values, and the gradients of a loss of it with respect to the values written and the old tensor."""
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    z0 = lib.tensor([1 + 5j, 2 - 7j, -3 + 0.5j], requires_grad=True)
    x = z0 * 1
    if step == "imag.mul_":
        x.imag.mul_(w)
    elif step == "real[1] =":
        x.real[1] = w[0] * 4
    elif step == "imag[1:].add_":
        x.imag[1:].add_(w[1:])
    elif step == "real = , imag =":
        x.real = w
        x.imag = w * 2
    elif step == "[1:].imag.sub_":
        x[1:].imag.sub_(w[:2])
    ((x * x.conj()).real.sum() + x.abs().sum()).backward()
    return [x.detach().numpy(), w.grad.numpy(), z0.grad.numpy()]


@pytest.mark.parametrize("step", ["imag.mul_", "real[1] =", "imag[1:].add_", "real = , imag =", "[1:].imag.sub_"])
def test_writing_a_part_of_complex_elements_keeps_the_other_part_and_its_gradient(step):
    """A write through ``x.real`` or ``x.imag`` recorded in the graph changes only that part of
    each element (it set the other part to 0), and gradients flow to the value written and to the
    other part, as in PyTorch; ``x.real = v`` and ``x.imag = v`` assign through them."""
    for ours, theirs in zip(_written_part(chainrule, step), _written_part(torch, step)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_a_real_tensor_takes_real_and_refuses_imag_assignment_as_pytorch():
    for lib in (torch, chainrule):
        x = lib.zeros(3)
        x.real = lib.tensor([1.0, 2.0, 3.0])
        assert x.tolist() == [1.0, 2.0, 3.0]
        with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex dtypes"):
            x.imag = lib.ones(3)


def test_isreal_and_float_power_of_complex_numbers_as_pytorch():
    """isreal is True where the imaginary part is zero; float_power of complex operands is complex128."""
    for lib in (torch, chainrule):
        assert lib.isreal(lib.tensor([1 + 1j, 2 + 0j, 3j])).tolist() == [False, True, False]
        powered = lib.float_power(lib.tensor([2, 3]), lib.tensor([1j, 0.5 + 0j]))
        assert powered.dtype == lib.complex128
        np.testing.assert_allclose(powered.numpy(), [2**1j, 3**0.5], rtol=1e-12)
        assert lib.float_power(lib.tensor([1j]), 2).tolist() == [-1 + 0j]
