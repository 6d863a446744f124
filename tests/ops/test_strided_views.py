"""``Tensor.unfold`` and ``as_strided`` as views of the input's memory, against PyTorch: values,
strides, storage offsets, gradients (overlapping windows adding up), writes through the view into
the base (unrecorded and recorded, with the gradients after them), and errors.

The functions are tested as ``chainrule.ops.shape`` declares them, and through the public names."""
import numpy as np
import pytest
import torch

import chainrule
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.ops import shape

UNFOLDS = [((6,), 0, 2, 2), ((6,), 0, 2, 1), ((6,), 0, 0, 1), ((6,), 0, 6, 3), ((4, 6), 1, 3, 2), ((4, 6), 0, 2, 1), ((4, 6), -1, 1, 4), ((2, 3, 5), 1, 2, 1), ((), 0, 1, 1), ((), -1, 0, 1)]


def _pair(shape_, seed=0, dtype=np.float32):
    values = np.random.default_rng(seed).standard_normal(shape_).astype(dtype)
    return torch.tensor(values, requires_grad=True), chainrule.tensor(values, requires_grad=True)


def _same_view(ours, theirs):
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.stride() == theirs.stride()
    assert ours.storage_offset() == theirs.storage_offset()
    assert ours._is_view() and theirs._is_view()
    assert ours.grad_fn.name() == theirs.grad_fn.name()


def _same_gradients(ours, theirs, our_input, their_input, seed=1):
    weights = np.random.default_rng(seed).standard_normal(tuple(theirs.shape)).astype(np.float32)
    (theirs * torch.tensor(weights)).sum().backward()
    (ours * chainrule.tensor(weights)).sum().backward()
    np.testing.assert_allclose(our_input.grad.numpy(), their_input.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("size, dim, length, step", UNFOLDS)
def test_unfold_is_pytorchs_view(size, dim, length, step):
    their_input, our_input = _pair(size)
    theirs, ours = (their_input * 1).unfold(dim, length, step), shape.unfold(our_input * 1, dim, length, step)
    _same_view(ours, theirs)
    _same_gradients(ours, theirs, our_input, their_input)


@pytest.mark.parametrize("permutation", [(1, 0), (0, 1)])
def test_unfold_of_a_transposed_tensor_keeps_its_strides(permutation):
    their_input, our_input = _pair((4, 6))
    theirs = their_input.permute(*permutation).unfold(0, 2, 2)
    ours = shape.unfold(our_input.permute(*permutation), 0, 2, 2)
    _same_view(ours, theirs)
    _same_gradients(ours, theirs, our_input, their_input)


def test_unfold_of_a_reversed_view():
    """A view with a negative stride (x[::-1] in NumPy; PyTorch has none) unfolds along it."""
    x = chainrule.arange(6.0)
    x._array = x._array[::-1]
    assert shape.unfold(x, 0, 2, 2).tolist() == [[5.0, 4.0], [3.0, 2.0], [1.0, 0.0]]


AS_STRIDED = [((2, 2), (1, 2), 1), ((3,), (2,), None), ((2, 3), (0, 1), 2), ((2, 2), (6, 1), None), ((2, 2), (6, 1), 0), ((0, 3), (1, 1), 5), ((), (), 7)]


@pytest.mark.parametrize("size, stride, offset", AS_STRIDED)
@pytest.mark.parametrize("sliced", [False, True])
def test_as_strided_is_pytorchs_view(size, stride, offset, sliced):
    """Of a tensor, or of a slice of one, whose memory is then the base's (x[1:] starts at 6)."""
    their_input, our_input = _pair((4, 6))
    their_x, our_x = their_input * 1, our_input * 1
    if sliced:
        their_x, our_x = their_x[1:], our_x[1:]
    theirs = their_x.as_strided(size, stride, offset)
    ours = shape.as_strided(our_x, size, stride, offset)
    _same_view(ours, theirs)
    _same_gradients(ours, theirs, our_input, their_input)


def test_as_strided_of_a_transposed_view_reads_the_base_memory():
    their_input, our_input = _pair((3, 4))
    theirs = (their_input * 1).t().as_strided((2, 3), (1, 4), 1)
    ours = shape.as_strided((our_input * 1).t(), (2, 3), (1, 4), 1)
    _same_view(ours, theirs)
    _same_gradients(ours, theirs, our_input, their_input)


def test_writes_into_the_views_reach_the_base():
    for make in (lambda x: shape.unfold(x, 0, 2, 2), lambda x: shape.as_strided(x, (3, 2), (2, 1))):
        x = chainrule.arange(6.0)
        view = make(x)
        view[1, 0] = 100.0
        view.add_(1)
        assert x.tolist() == [1.0, 2.0, 101.0, 4.0, 5.0, 6.0]
        x.mul_(2)
        assert view.tolist() == [[2.0, 4.0], [202.0, 8.0], [10.0, 12.0]]


VIEWS = {
    "unfold": (lambda x: x.unfold(0, 2, 2), lambda x: shape.unfold(x, 0, 2, 2)),
    "unfold_3": (lambda x: x.unfold(0, 2, 3), lambda x: shape.unfold(x, 0, 2, 3)),
    "as_strided": (lambda x: x.as_strided((2, 2), (1, 3), 1), lambda x: shape.as_strided(x, (2, 2), (1, 3), 1)),
}


@pytest.mark.parametrize("name", VIEWS)
@pytest.mark.parametrize("loss", ["base", "view"])
def test_gradients_after_an_in_place_write_into_the_view(name, loss):
    """b = w * 1; v = view of b; v *= w[:2] (recorded through b, as PyTorch's CopySlices)."""
    gradients = []
    for library, make in zip((torch, chainrule), VIEWS[name]):
        w = library.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], requires_grad=True)
        b = w * 1
        v = make(b)
        v.mul_(w[:2])
        result = (b * library.arange(6.0)).sum() if loss == "base" else (v * v).sum()
        result.backward()
        gradients.append((w.grad.numpy().copy(), b.detach().numpy().copy()))
    (their_grad, their_base), (our_grad, our_base) = gradients
    np.testing.assert_array_equal(our_base, their_base)
    np.testing.assert_allclose(our_grad, their_grad, rtol=1e-6)


def test_an_in_place_write_into_a_view_of_a_leaf_is_refused():
    w = chainrule.ones(6, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
        shape.unfold(w, 0, 2, 2).mul_(2)


@pytest.mark.parametrize(
    "make",
    [
        lambda x: shape.unfold(x, 1, 2, 1),
        lambda x: shape.unfold(x, 0, 1, 2),
        lambda x: shape.as_strided(x, (2, 3), (2, 1), 1),
        lambda x: shape.as_strided(x[1:], (3, 3), (0, 2)),
    ],
)
def test_gradients_by_finite_differences(make):
    x = chainrule.tensor(np.random.default_rng(2).standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(make, (x,), eps=1e-6, atol=1e-6)
    assert gradgradcheck(make, (x,), eps=1e-6, atol=1e-6)


ERRORS = [
    ("unfold", (6,), (0, 7, 1)),
    ("unfold", (6,), (0, -1, 1)),
    ("unfold", (6,), (0, 2, 0)),
    ("unfold", (6,), (1, 2, 1)),
    ("unfold", (), (0, 2, 1)),
    ("as_strided", (6,), ((2, 2), (1,))),
    ("as_strided", (6,), ((2,), (-1,))),
    ("as_strided", (6,), ((-2,), (1,))),
    ("as_strided", (6,), ((3,), (3,))),
    ("as_strided", (6,), ((3,), (1,), -1)),
]


@pytest.mark.parametrize("name, size, args", ERRORS)
def test_errors_match_pytorch(name, size, args):
    ours = shape.unfold if name == "unfold" else shape.as_strided
    with pytest.raises(Exception) as their_error:
        getattr(torch.zeros(size), name)(*args)
    with pytest.raises(type(their_error.value)) as our_error:
        ours(chainrule.zeros(size), *args)
    assert str(their_error.value).split(" (")[0] in str(our_error.value)  # ours may name the op first


def test_public_names_are_the_views():
    x = chainrule.arange(6.0)
    x.unfold(0, 2, 2)[0, 0] = 10.0
    chainrule.as_strided(x, (2,), (1,), 1)[0] = 20.0
    assert x.tolist() == [10.0, 20.0, 2.0, 3.0, 4.0, 5.0]


def test_view_of_an_array_numpy_made_with_as_strided():
    """A tensor whose array NumPy's as_strided made (as a loaded PyTorch file's can be) has a
    wrapper object as its array's base: the view is still known as one."""
    storage = np.arange(12.0)
    x = chainrule.from_numpy(np.lib.stride_tricks.as_strided(storage, (3, 4), (32, 8)))
    view = shape.unfold(x, 1, 2, 2)
    assert view._is_view() and view._base is x


def test_views_of_an_array_numpy_laid_out_transposed():
    """The conjugate transpose of a batch of complex matrices is an array NumPy lays out as its
    input (neither row- nor column-major): slicing it, even to nothing, and copying it work."""
    for lib in (torch, chainrule):
        lib.manual_seed(0)
        adjoint = lib.randn(2, 3, 3, dtype=lib.complex128).mH
        assert tuple(adjoint[..., :0].shape) == (2, 3, 0) and tuple(adjoint[..., 1:].shape) == (2, 3, 2)
        assert lib.equal(__import__("copy").deepcopy(adjoint), adjoint)
