"""Two families of PyTorch's eager behaviour, each run with torch (the oracle) and chainrule:

- the number-first call forms PyTorch 2 still accepts with a UserWarning (``p.add_(-lr, grad)``,
  ``torch.addmm(beta, M, alpha, m1, m2)``): the same results, gradients and warning text, and the
  same TypeError for the forms it refuses;
- operands whose shapes do not broadcast, and normalization parameters of the wrong size: PyTorch's
  RuntimeError and the beginning of its message.
"""
import warnings

import numpy as np
import pytest
import torch

import chainrule

RNG = np.random.RandomState(0)
ARRAYS = {
    "a": RNG.randn(3, 4), "b": RNG.randn(3, 4), "c": RNG.rand(3, 4) + 0.5,
    "M": RNG.randn(2, 3), "m1": RNG.randn(2, 4), "m2": RNG.randn(4, 3),
    "v": RNG.randn(2), "mat": RNG.randn(2, 5), "vec": RNG.randn(5), "v1": RNG.randn(2), "v2": RNG.randn(3),
    "B": RNG.randn(5, 2, 3), "b1": RNG.randn(5, 2, 4), "b2": RNG.randn(5, 4, 3),
}


def tensors(lib, requires_grad=False):
    """The arrays above as float64 tensors of ``lib``, by name."""
    return {name: lib.tensor(array, requires_grad=requires_grad) for name, array in ARRAYS.items()}


def with_warnings(lib, call):
    """``call()``'s result and the (category, message) of the deprecation warnings it gave, every
    warning given (PyTorch's and chainrule's are otherwise given once per process)."""
    always = lib.is_warn_always_enabled()
    lib.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = call()
    finally:
        lib.set_warn_always(always)
    given = [(each.category, str(each.message).split(" (Triggered internally")[0]) for each in caught]
    return result, [each for each in given if "deprecated" in each[1]]


# ----------------------------------------------------------------------------- deprecated number-first forms
#: Each form, called on (lib, tensors by name): the function, the method and the in-place method.
DEPRECATED_FORMS = {
    "torch.add(input, alpha, other)": lambda L, t: L.add(t["a"], 2, t["b"]),
    "Tensor.add(alpha, other)": lambda L, t: t["a"].add(-0.5, t["b"]),
    "Tensor.add_(alpha, other)": lambda L, t: (t["a"] * 1).add_(-0.1, t["b"]),
    "Tensor.add(alpha, number)": lambda L, t: t["a"].add(2, 3),
    "torch.add(input, 0-d tensor alpha, other)": lambda L, t: L.add(t["a"], L.tensor(2.0), t["b"]),
    "torch.add(input, alpha, other=)": lambda L, t: L.add(t["a"], 2, other=t["b"]),
    "torch.sub(input, alpha, other)": lambda L, t: L.sub(t["a"], 2, t["b"]),
    "Tensor.sub(alpha, other)": lambda L, t: t["a"].sub(2, t["b"]),
    "Tensor.sub_(alpha, other)": lambda L, t: (t["a"] * 1).sub_(2, t["b"]),
    "torch.addcmul(input, value, t1, t2)": lambda L, t: L.addcmul(t["a"], 0.5, t["b"], t["c"]),
    "Tensor.addcmul(value, t1, t2)": lambda L, t: t["a"].addcmul(0.5, t["b"], t["c"]),
    "Tensor.addcmul_(value, t1, t2)": lambda L, t: (t["a"] * 0.999).addcmul_(1 - 0.999, t["b"], t["b"]),
    "torch.addcdiv(input, value, t1, t2)": lambda L, t: L.addcdiv(t["a"], 0.5, t["b"], t["c"]),
    "Tensor.addcdiv(value, t1, t2)": lambda L, t: t["a"].addcdiv(0.5, t["b"], t["c"]),
    "Tensor.addcdiv_(value, t1, t2)": lambda L, t: (t["a"] * 1).addcdiv_(-0.01, t["b"], t["c"].sqrt() + 1e-8),
    "torch.addmm(beta, input, alpha, m1, m2)": lambda L, t: L.addmm(2, t["M"], 3, t["m1"], t["m2"]),
    "torch.addmm(beta, input, m1, m2)": lambda L, t: L.addmm(0.5, t["M"], t["m1"], t["m2"]),
    "Tensor.addmm(beta, alpha, m1, m2)": lambda L, t: t["M"].addmm(2, 3, t["m1"], t["m2"]),
    "Tensor.addmm(beta, m1, m2)": lambda L, t: t["M"].addmm(2, t["m1"], t["m2"]),
    "Tensor.addmm_(beta, alpha, m1, m2)": lambda L, t: (t["M"] * 1).addmm_(2, 3, t["m1"], t["m2"]),
    "Tensor.addmm_(beta, m1, m2)": lambda L, t: (t["M"] * 1).addmm_(2, t["m1"], t["m2"]),
    "torch.addmv(beta, input, alpha, mat, vec)": lambda L, t: L.addmv(2, t["v"], 3, t["mat"], t["vec"]),
    "torch.addmv(beta, input, mat, vec)": lambda L, t: L.addmv(2, t["v"], t["mat"], t["vec"]),
    "Tensor.addmv(beta, alpha, mat, vec)": lambda L, t: t["v"].addmv(2, 3, t["mat"], t["vec"]),
    "Tensor.addmv_(beta, mat, vec)": lambda L, t: (t["v"] * 1).addmv_(2, t["mat"], t["vec"]),
    "torch.addr(beta, input, alpha, vec1, vec2)": lambda L, t: L.addr(2, t["M"], 3, t["v1"], t["v2"]),
    "torch.addr(beta, input, vec1, vec2)": lambda L, t: L.addr(2, t["M"], t["v1"], t["v2"]),
    "Tensor.addr(beta, vec1, vec2)": lambda L, t: t["M"].addr(2, t["v1"], t["v2"]),
    "Tensor.addr_(beta, alpha, vec1, vec2)": lambda L, t: (t["M"] * 1).addr_(2, 3, t["v1"], t["v2"]),
    "torch.addbmm(beta, input, alpha, b1, b2)": lambda L, t: L.addbmm(2, t["M"], 3, t["b1"], t["b2"]),
    "torch.addbmm(beta, input, b1, b2)": lambda L, t: L.addbmm(2, t["M"], t["b1"], t["b2"]),
    "Tensor.addbmm_(beta, alpha, b1, b2)": lambda L, t: (t["M"] * 1).addbmm_(2, 3, t["b1"], t["b2"]),
    "torch.baddbmm(beta, input, alpha, b1, b2)": lambda L, t: L.baddbmm(2, t["B"], 3, t["b1"], t["b2"]),
    "torch.baddbmm(beta, input, b1, b2)": lambda L, t: L.baddbmm(0.5, t["B"], t["b1"], t["b2"]),
    "Tensor.baddbmm(beta, alpha, b1, b2)": lambda L, t: t["B"].baddbmm(2, 3, t["b1"], t["b2"]),
    "Tensor.baddbmm_(beta, b1, b2)": lambda L, t: (t["B"] * 1).baddbmm_(2, t["b1"], t["b2"]),
}


@pytest.mark.parametrize("form", list(DEPRECATED_FORMS))
def test_deprecated_form_gives_pytorchs_result_gradients_and_warning(form):
    results, gradients, given = [], [], []
    for lib in (torch, chainrule):
        inputs = tensors(lib, requires_grad=True)
        result, warned = with_warnings(lib, lambda: DEPRECATED_FORMS[form](lib, inputs))
        (result * lib.tensor(np.linspace(-1, 1, result.numel()).reshape(tuple(result.shape)))).sum().backward()
        results.append(result.detach().numpy())
        gradients.append({name: each.grad.numpy() for name, each in inputs.items() if each.grad is not None})
        given.append(warned)
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12, atol=1e-12)
    assert gradients[1].keys() == gradients[0].keys()
    for name in gradients[0]:
        np.testing.assert_allclose(gradients[1][name], gradients[0][name], rtol=1e-12, atol=1e-12, err_msg=name)
    assert given[1] == given[0] and len(given[0]) == 1


def test_deprecated_form_with_out_writes_into_it_as_pytorch():
    results = []
    for lib in (torch, chainrule):
        t, out = tensors(lib), lib.empty(2, 3, dtype=lib.float64)
        result, warned = with_warnings(lib, lambda: lib.addmm(2, t["M"], 3, t["m1"], t["m2"], out=out))
        assert result is out and warned[0][1].startswith("This overload of addmm is deprecated:\n\taddmm(Number beta")
        results.append(out.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12)


def test_deprecation_warning_is_given_once_per_process_as_pytorchs():
    """PyTorch gives one warning for all the deprecated forms (TORCH_WARN_ONCE): after any of them
    has warned, none warns again unless ``set_warn_always(True)``."""
    a, b = chainrule.ones(2), chainrule.ones(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a.add(2, b)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a.sub(2, b)
        chainrule.addcmul(a, 0.5, b, b)
    assert not caught


REFUSED_AS_PYTORCH = {
    "torch.add(input, other, alpha) by position": lambda L, t: L.add(t["a"], t["b"], 2),
    "Tensor.add(other, alpha) by position": lambda L, t: t["a"].add(t["b"], 2),
    "torch.add(input, alpha, other, alpha=)": lambda L, t: L.add(t["a"], 2, t["b"], alpha=3),
    "torch.add(number, input, other)": lambda L, t: L.add(2, t["a"], t["b"]),
    "torch.add(input, 1-element tensor alpha, other)": lambda L, t: L.add(t["a"], L.ones(1), t["b"]),
    "torch.subtract(input, alpha, other)": lambda L, t: L.subtract(t["a"], 2, t["b"]),
    "Tensor.subtract(alpha, other)": lambda L, t: t["a"].subtract(2, t["b"]),
    "torch.rsub(input, alpha, other)": lambda L, t: L.rsub(t["a"], 2, t["b"]),
    "torch.addcmul(input, t1, t2, value) by position": lambda L, t: L.addcmul(t["a"], t["b"], t["c"], 0.5),
    "torch.addcmul(input, value, t1, t2, value=)": lambda L, t: L.addcmul(t["a"], 0.5, t["b"], t["c"], value=2),
    "torch.addmm(input, m1, m2, beta, alpha) by position": lambda L, t: L.addmm(t["M"], t["m1"], t["m2"], 2, 3),
    "torch.addmm(input, beta, m1, m2)": lambda L, t: L.addmm(t["M"], 2, t["m1"], t["m2"]),
    "torch.addmm(beta, input, m1, m2, alpha=)": lambda L, t: L.addmm(2, t["M"], t["m1"], t["m2"], alpha=3),
    "Tensor.addmm(beta, m1, m2, alpha=)": lambda L, t: t["M"].addmm(2, t["m1"], t["m2"], alpha=3),
}


@pytest.mark.parametrize("form", list(REFUSED_AS_PYTORCH))
def test_forms_pytorch_refuses_raise_type_error(form):
    for lib in (torch, chainrule):
        with pytest.raises(TypeError):
            REFUSED_AS_PYTORCH[form](lib, tensors(lib))


def test_deprecated_form_keeps_the_checks_of_the_current_one():
    for lib in (torch, chainrule):
        integers = lib.tensor([1, 2])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match="For integral input tensors, argument alpha must not be a floating point number"):
                integers.add(2.5, integers)
            with pytest.raises(RuntimeError, match="Boolean alpha only supported for Boolean results"):
                lib.add(lib.ones(2), True, lib.ones(2))


# ----------------------------------------------------------------------------- shapes that do not broadcast
def _functional(lib):
    return lib.nn.functional


#: Each call on (lib, a (3, 4), z (2, 5)), whose shapes do not broadcast together.
NOT_BROADCASTING = {
    "a ** z": lambda L, a, z: a ** z,
    "2 ** z + a": lambda L, a, z: L.pow(2, z) + a,
    "a.pow_(z)": lambda L, a, z: a.pow_(z),
    "a // z": lambda L, a, z: a // z,
    "int a // int z": lambda L, a, z: a.long() // (z + 1).long(),
    "torch.float_power": lambda L, a, z: L.float_power(a, z),
    "torch.lerp(end)": lambda L, a, z: L.lerp(a, z, 0.5),
    "torch.lerp(weight)": lambda L, a, z: L.lerp(a, a, z),
    "Tensor.lerp_": lambda L, a, z: a.lerp_(z, 0.5),
    "torch.addcmul": lambda L, a, z: L.addcmul(a, a, z),
    "torch.addcdiv": lambda L, a, z: L.addcdiv(a, a, z),
    "clamp(min=tensor)": lambda L, a, z: a.clamp(min=z),
    "clamp(max=tensor)": lambda L, a, z: a.clamp(max=z),
    "clamp_min(tensor)": lambda L, a, z: a.clamp_min(z),
    "div(rounding_mode='floor')": lambda L, a, z: L.div(a, z, rounding_mode="floor"),
    "div(rounding_mode='trunc')": lambda L, a, z: L.div(a, z, rounding_mode="trunc"),
    "div of integers (rounding_mode='trunc')": lambda L, a, z: L.div(a.long(), (z + 1).long(), rounding_mode="trunc"),
    "F.smooth_l1_loss": lambda L, a, z: _functional(L).smooth_l1_loss(a, z),
    "F.multilabel_soft_margin_loss": lambda L, a, z: _functional(L).multilabel_soft_margin_loss(a, z),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("call", list(NOT_BROADCASTING))
def test_shapes_that_do_not_broadcast_raise_pytorchs_runtime_error(call):
    messages = []
    for lib in (torch, chainrule):
        a, z = lib.tensor(ARRAYS["a"]), lib.zeros(2, 5, dtype=lib.float64)
        with pytest.raises(RuntimeError) as raised:
            NOT_BROADCASTING[call](lib, a, z)
        messages.append(str(raised.value))
    assert messages[1].startswith(messages[0]), messages


#: Normalizations given parameters whose size differs from the input's channels or normalized shape.
WRONG_PARAMETER_SIZES = {
    "batch_norm running_mean": lambda F, L, x: F.batch_norm(x, L.zeros(5), L.ones(4)),
    "batch_norm running_var (training)": lambda F, L, x: F.batch_norm(x, L.zeros(4), L.ones(6), training=True),
    "batch_norm weight and bias": lambda F, L, x: F.batch_norm(x, L.zeros(4), L.ones(4), L.ones(7), L.ones(8)),
    "batch_norm bias": lambda F, L, x: F.batch_norm(x, None, None, None, L.ones(8), training=True),
    "instance_norm running stats": lambda F, L, x: F.instance_norm(x[None], L.zeros(5), L.ones(5)),
    "instance_norm running_var, stats not used": lambda F, L, x: F.instance_norm(
        x[None], L.zeros(3), L.ones(6), use_input_stats=False),
    "instance_norm weight of a batch of 2": lambda F, L, x: F.instance_norm(L.ones(2, 3, 4, 4), None, None, L.ones(5)),
    "layer_norm weight": lambda F, L, x: F.layer_norm(x, (4,), L.ones(5)),
    "layer_norm weight of another number of dimensions": lambda F, L, x: F.layer_norm(x, (4,), L.ones(1, 4)),
    "layer_norm bias": lambda F, L, x: F.layer_norm(x, (4,), L.ones(4), L.ones(3)),
    "layer_norm weight, checked before the input": lambda F, L, x: F.layer_norm(x, (5,), L.ones(4)),
}


@pytest.mark.parametrize("call", list(WRONG_PARAMETER_SIZES))
def test_normalization_parameters_of_the_wrong_size_raise_as_pytorch(call):
    messages = []
    for lib in (torch, chainrule):
        x = lib.tensor(ARRAYS["a"]).float()
        with pytest.raises(RuntimeError) as raised:
            WRONG_PARAMETER_SIZES[call](lib.nn.functional, lib, x)
        messages.append(str(raised.value))
    assert messages[1].startswith(messages[0]), messages


def test_normalization_parameters_of_the_right_size_still_normalize():
    results = []
    for lib in (torch, chainrule):
        F, x = lib.nn.functional, lib.tensor(ARRAYS["a"])
        results.append([each.numpy() for each in (
            F.batch_norm(x, lib.zeros(4, dtype=lib.float64), lib.ones(4, dtype=lib.float64), lib.ones(4, dtype=lib.float64)),
            F.instance_norm(x[None], lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)),
            F.layer_norm(x, (4,), lib.ones(4, dtype=lib.float64), lib.zeros(4, dtype=lib.float64)),
        )])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
