"""In-place operations as PyTorch records them (ops/inplace.py): through views onto their base,
with version counters shared by views and detached tensors, and retain_grad following the tensor."""
import numpy as np
import pytest
import torch

import chainrule
from tests.ops.oracle import both


def test_retain_grad_follows_an_in_place_change():
    x = chainrule.ones(2, requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.mul_(3)
    y.sum().backward()
    assert y.grad.tolist() == [1.0, 1.0] and y.retains_grad


def test_augmented_assignment_changes_the_tensor_in_place():
    a = chainrule.tensor([3.0, 5.0])
    b = a
    b **= 2
    b //= 2
    b %= 5
    assert a.tolist() == [4.0, 2.0] and a is b


def _mul_row(lib, a):
    x = a * 1
    x[0].mul_(2)
    return (x * x).sum()


def _add_to_element(lib, a):
    x = a * 1
    x[0] += 1
    return (x * x).sum()


def _scale_column(lib, a):
    x = a * 1
    x[:, 1] *= 3
    return (x**2).sum()


def _through_reshape(lib, a):
    x = a * 1
    x.reshape(4).add_(1)
    return (x * x).sum()


def _through_transpose(lib, a):
    x = a * 1
    x.t()[0].mul_(5)
    return (x * x).sum()


def _into_a_constant(lib, a):
    x = lib.zeros(2, 2)
    x[1].add_(a[0])
    return (x * x).sum()


def _view_used_after(lib, a):
    x = a * 1
    view = x[0]
    view.mul_(2)
    return x.sum() + view.sum() * 10


@pytest.mark.parametrize(
    "function",
    [_mul_row, _add_to_element, _scale_column, _through_reshape, _through_transpose, _into_a_constant, _view_used_after],
)
def test_in_place_through_a_view_is_recorded_on_its_base_like_pytorch(function):
    (out, ours), (expected, theirs) = both(function, [[1.0, 2.0], [3.0, 4.0]])
    out.backward()
    expected.backward()
    assert out.item() == pytest.approx(expected.item())
    np.testing.assert_allclose(ours[0].grad._array, theirs[0].grad.numpy())


def test_in_place_through_views_that_pytorch_refuses():
    leaf = chainrule.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
        leaf[0].mul_(2)
    x = leaf * 1
    with pytest.raises(RuntimeError, match="more than one element"):
        x.expand(3, 2, 2).mul_(2)


def test_views_and_detached_tensors_share_the_version_counter():
    a = chainrule.tensor([1.0, 2.0], requires_grad=True)
    b = a.exp()
    with chainrule.no_grad():
        b.view(-1)[0] = 0.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()
    c = a.exp()
    c.detach().zero_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


def test_an_in_place_operation_without_a_derivative_leaves_a_constant_not_a_leaf():
    a = chainrule.tensor([3.0, 4.0], requires_grad=True)
    x = a * 2
    x.floor_divide_(2)
    assert x.grad_fn is None and not x.requires_grad  # nothing backward could send to a
    y = a * 2
    y.sign_()
    assert y.grad_fn.name() == "SignBackward0"


@pytest.mark.parametrize(
    "write",
    # (PyTorch lets zero_ and fill_ through, every copy of an element getting the same value; chainrule refuses those too)
    [lambda x: x.add_(1), lambda x: x.mul_(2), lambda x: x.__setitem__((slice(None), 0), 5.0)],
)
def test_writing_into_an_expanded_tensor_is_pytorchs_runtime_error(write):
    for lib in (chainrule, torch):
        expanded = lib.ones(3).expand(2, 3)
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor refers to a single memory location"):
            write(expanded)
    assert chainrule.ones(3).expand(2, 3).clone().add_(1).tolist() == [[2.0] * 3] * 2  # the remedy the message names


def test_a_read_only_numpy_array_warns_on_from_numpy_and_refuses_in_place_writes(monkeypatch):
    from chainrule import caller_warnings

    monkeypatch.setattr(caller_warnings, "_given", set())
    frozen = np.ones(3, dtype=np.float32)
    frozen.flags.writeable = False
    with pytest.warns(UserWarning, match="The given NumPy array is not writable"):  # PyTorch warns too, once
        tensor = chainrule.from_numpy(frozen)
    for write in (lambda: tensor.add_(1), lambda: tensor.__setitem__(0, 5.0), lambda: tensor.zero_()):
        with pytest.raises(RuntimeError, match="NumPy array that is not writable.*clone"):
            write()
    assert tensor.tolist() == [1.0, 1.0, 1.0] and (tensor.clone().add_(1)).tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("code", [
    "y = x[0]; y.mul_(2)", "x.view(4)[1:].add_(1)", "x.T.zero_()", "y = x[0]\nwith L.no_grad(): y.mul_(2)",
    "z = x * 1; z[0].mul_(2); z.sum().backward()", "x.detach()[0].mul_(2)", "x.data[0] = 3",
])
def test_in_place_on_a_view_of_a_leaf_is_refused_as_in_pytorch(code):
    def outcome(library):
        x = library.ones(2, 2, requires_grad=True)
        try:
            exec(code, {"L": library, "x": x})  # noqa: S102
        except RuntimeError as error:
            return str(error).split(".")[0]
        return x.tolist(), None if x.grad is None else x.grad.tolist()

    assert outcome(chainrule) == outcome(torch)


@pytest.mark.parametrize("change", [lambda v: v.add_(5), lambda v: v.mul_(2), lambda v: v.copy_(v * 0 + 1)])
def test_a_view_made_before_its_base_required_grad_follows_it_as_pytorch(change):
    """A view's requires_grad follows its base's; changing it in place would change a leaf that
    requires grad: PyTorch's error (allowed under no_grad, and through .data or detach())."""
    for lib in (torch, chainrule):
        base = lib.randn(2, 3)
        view = base[:]
        base.requires_grad = True
        assert view.requires_grad
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used in an in-place operation"):
            change(view)
        with lib.no_grad():
            change(view)
        change(base.data[:])
        change(base.detach()[:])
