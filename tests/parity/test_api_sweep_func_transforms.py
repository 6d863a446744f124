"""A sweep of ``torch.autograd.functional``, ``torch.func`` and ``torch.autograd.forward_ad`` against
PyTorch (the oracle): values, shapes and the nesting of results (tuple vs tensor) for tuple inputs and
outputs, ``argnums`` / ``has_aux`` / ``chunk_size``, ``vmap`` with ``in_dims`` / ``out_dims`` /
``randomness``, ``functional_call`` with ``strict`` / ``tie_weights`` / buffers, ``stack_module_state``,
``linearize``, dual numbers, and the exception types PyTorch raises for bad input.

Each test runs the same code with ``torch`` and with ``chainrule`` (float64) and compares. Tests
marked ``xfail(strict=True, reason="BUG: ...")`` are differences found: each turns into an XPASS
failure the day it is fixed, and the mark must go.
"""

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import bug, outcome, raises_as_torch


def plain(value):
    """Tensors become (dtype, shape, values); tuples, lists and dicts keep their kind so nesting is compared."""
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return ("T", str(value.dtype).split(".")[-1], tuple(value.shape),
                np.asarray(value.detach().numpy(), dtype=np.float64))
    if isinstance(value, tuple):
        return ("tuple", [plain(each) for each in value])
    if isinstance(value, list):
        return ("list", [plain(each) for each in value])
    if isinstance(value, dict):
        return ("dict", [(key, plain(value[key])) for key in sorted(value)])
    return value


def assert_same(actual, expected, rtol=1e-6, atol=1e-9):
    if isinstance(expected, tuple) and expected and expected[0] == "T":
        assert isinstance(actual, tuple) and actual[:3] == expected[:3], (actual[:3] if isinstance(actual, tuple) else actual, expected[:3])
        np.testing.assert_allclose(actual[3], expected[3], rtol=rtol, atol=atol)
    elif isinstance(expected, tuple) and expected and expected[0] in ("tuple", "list", "dict"):
        assert isinstance(actual, tuple) and actual[0] == expected[0], (actual, expected[0])
        assert len(actual[1]) == len(expected[1]), (len(actual[1]), len(expected[1]))
        for each_actual, each_expected in zip(actual[1], expected[1]):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, (tuple, list)):
        assert type(actual) is type(expected) and len(actual) == len(expected), (actual, expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    else:
        assert actual == expected


def same_in_both(run, rtol=1e-6, atol=1e-9):
    torch.manual_seed(0)
    expected = plain(run(torch))
    chainrule.manual_seed(0)
    actual = plain(run(chainrule))
    assert_same(actual, expected, rtol, atol)


def t(lib, data):
    return lib.tensor(data, dtype=lib.float64)


def x3(lib):
    return t(lib, [1.0, 2.0, 3.0])


def m23(lib):
    return t(lib, [[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])


# ============================================================ torch.autograd.functional: structure of results
def _two_in_two_out(x, y):
    return x * y.sum(), (x**2).sum() * y[:2]


AF_CASES = {
    "jacobian tuple in, tensor out": lambda F, lib: F.jacobian(lambda x, y: x * y, (x3(lib), x3(lib) + 1)),
    "jacobian tensor in, tuple out": lambda F, lib: F.jacobian(lambda x: (x.sin(), x.sum()), x3(lib)),
    "jacobian tuple in, tuple out": lambda F, lib: F.jacobian(_two_in_two_out, (x3(lib), x3(lib) + 1)),
    "jacobian one-tuple in": lambda F, lib: F.jacobian(lambda x: x.exp(), (x3(lib),)),
    "jacobian one-tuple out": lambda F, lib: F.jacobian(lambda x: (x.exp(),), x3(lib)),
    "jacobian matrix in, matrix out": lambda F, lib: F.jacobian(lambda m: m.t() @ m, m23(lib)),
    "jacobian vectorize tuple": lambda F, lib: F.jacobian(_two_in_two_out, (x3(lib), x3(lib) + 1), vectorize=True),
    "jacobian forward-mode": lambda F, lib: F.jacobian(lambda x: x.sin() * x, x3(lib), vectorize=True, strategy="forward-mode"),
    "jacobian forward-mode tuple": lambda F, lib: F.jacobian(_two_in_two_out, (x3(lib), x3(lib) + 1), vectorize=True, strategy="forward-mode"),
    "jacobian empty input, 0-d output": lambda F, lib: F.jacobian(lambda x: x.sum(), lib.zeros(0, dtype=lib.float64)),
    "jacobian 0-d in tuple out": lambda F, lib: F.jacobian(lambda x: (x * 2, x.exp().reshape(1)), t(lib, 0.5)),
    "jacobian unused input": lambda F, lib: F.jacobian(lambda x, y: x * 2, (x3(lib), x3(lib))),
    "hessian tuple inputs nesting": lambda F, lib: F.hessian(lambda x, y: (x**2 * y[:3]).sum() + y.prod(), (x3(lib), t(lib, [1.0, 2.0, 3.0, 4.0]))),
    "hessian matrix input": lambda F, lib: F.hessian(lambda m: (m**3).sum(), m23(lib)),
    "hessian 0-d": lambda F, lib: F.hessian(lambda x: x**4, t(lib, 1.5)),
    "hessian one-tuple": lambda F, lib: F.hessian(lambda x: (x**3).sum(), (x3(lib),)),
    "hessian vectorize forward-mode outer": lambda F, lib: F.hessian(lambda x: (x.sin() * x).sum(), x3(lib), vectorize=True, outer_jacobian_strategy="forward-mode"),
    "hessian vectorize tuple forward-mode": lambda F, lib: F.hessian(lambda x, y: (x * y).sum() ** 2, (x3(lib), x3(lib) + 1), vectorize=True, outer_jacobian_strategy="forward-mode"),
    "vjp tuple in, tuple out": lambda F, lib: F.vjp(_two_in_two_out, (x3(lib), x3(lib) + 1), (lib.ones(3, dtype=lib.float64), t(lib, [1.0, -1.0]))),
    "vjp scalar output, v None": lambda F, lib: F.vjp(lambda x: (x**2).sum(), x3(lib)),
    "vjp 0-d v": lambda F, lib: F.vjp(lambda x: (x**2).sum(), x3(lib), t(lib, 2.0)),
    "vjp one-tuple in": lambda F, lib: F.vjp(lambda x: x**2, (x3(lib),), lib.ones(3, dtype=lib.float64)),
    "jvp tuple in, tuple out": lambda F, lib: F.jvp(_two_in_two_out, (x3(lib), x3(lib) + 1), (lib.ones(3, dtype=lib.float64), t(lib, [1.0, 0.0, -1.0]))),
    "jvp 0-d input, v None": lambda F, lib: F.jvp(lambda x: x**3, t(lib, 2.0)),
    "jvp one-tuple in": lambda F, lib: F.jvp(lambda x: x.exp(), (x3(lib),), (lib.ones(3, dtype=lib.float64),)),
    "hvp tuple inputs": lambda F, lib: F.hvp(lambda x, y: (x**2 * y).sum(), (x3(lib), x3(lib) + 1), (lib.ones(3, dtype=lib.float64), t(lib, [0.0, 1.0, 2.0]))),
    "vhp tuple inputs": lambda F, lib: F.vhp(lambda x, y: (x**2 * y).sum(), (x3(lib), x3(lib) + 1), (lib.ones(3, dtype=lib.float64), t(lib, [0.0, 1.0, 2.0]))),
    "hvp matrix": lambda F, lib: F.hvp(lambda m: (m**3).sum(), m23(lib), lib.ones(2, 3, dtype=lib.float64)),
    "vhp non-symmetric": lambda F, lib: F.vhp(lambda x: x[0] * x[1] ** 2 + x[2].sin(), x3(lib), t(lib, [1.0, 2.0, 3.0])),
    "hvp unused tuple input": lambda F, lib: F.hvp(lambda x, y: (x**3).sum(), (x3(lib), x3(lib)), (lib.ones(3, dtype=lib.float64),) * 2),
}


_AF_BUGS = {
}


@pytest.mark.parametrize("call", [pytest.param(name, marks=bug(_AF_BUGS[name])) if name in _AF_BUGS else name for name in AF_CASES])
def test_autograd_functional_results(call):
    same_in_both(lambda lib: AF_CASES[call](lib.autograd.functional, lib))


AF_ERRORS = {
    "jacobian strict independent tuple output": lambda F, lib: F.jacobian(lambda x, y: (x * 2, y.detach()), (x3(lib), x3(lib)), strict=True),
    "jacobian strict output independent of one input": lambda F, lib: F.jacobian(lambda x, y: x * 2, (x3(lib), x3(lib)), strict=True),
    "jacobian bad strategy": lambda F, lib: F.jacobian(lambda x: x * 2, x3(lib), strategy="sideways"),
    "jacobian forward-mode not vectorized": lambda F, lib: F.jacobian(lambda x: x * 2, x3(lib), strategy="forward-mode"),
    "jacobian forward-mode create_graph": lambda F, lib: F.jacobian(lambda x: x * 2, x3(lib), vectorize=True, strategy="forward-mode", create_graph=True),
    "hessian output not scalar": lambda F, lib: F.hessian(lambda x: x**2, x3(lib)),
    "hessian tuple output": lambda F, lib: F.hessian(lambda x: ((x**2).sum(),), x3(lib)),
    "hessian bad outer strategy": lambda F, lib: F.hessian(lambda x: (x**2).sum(), x3(lib), outer_jacobian_strategy="sideways"),
    "vjp v None for non-scalar": lambda F, lib: F.vjp(lambda x: x**2, x3(lib)),
    "vjp v wrong shape": lambda F, lib: F.vjp(lambda x: x**2, x3(lib), lib.ones(2, dtype=lib.float64)),
    "vjp v count mismatch": lambda F, lib: F.vjp(lambda x: (x, x * 2), x3(lib), lib.ones(3, dtype=lib.float64)),
    "jvp v None for non-scalar input": lambda F, lib: F.jvp(lambda x: x**2, x3(lib)),
    "hvp v wrong shape": lambda F, lib: F.hvp(lambda x: (x**3).sum(), x3(lib), lib.ones(2, dtype=lib.float64)),
    "hvp output not scalar": lambda F, lib: F.hvp(lambda x: x**3, x3(lib), lib.ones(3, dtype=lib.float64)),
    "function returns list": lambda F, lib: F.jacobian(lambda x: [x * 2], x3(lib)),
}


@pytest.mark.parametrize("call", list(AF_ERRORS))
def test_autograd_functional_errors(call):
    raises_as_torch(lambda lib: AF_ERRORS[call](lib.autograd.functional, lib))


# ============================================================ torch.func: grad, vjp, jvp, jac*, hessian, linearize
def _loss_aux(x, y):
    loss = (x.sin() * y).sum()
    return loss, {"loss": loss.detach(), "y2": y * 2}


def _fn_lin(f, lib):
    out, jvp_fn = f.linearize(lambda x: x.sin() * x, x3(lib))
    return out, jvp_fn(t(lib, [1.0, 0.5, -1.0])), jvp_fn(t(lib, [0.0, 1.0, 0.0]))


FUNC_CASES = {
    "grad": lambda f, lib: f.grad(lambda x: (x**3).sum())(x3(lib)),
    "grad 0-d": lambda f, lib: f.grad(lambda x: x.sin() * x)(t(lib, 0.7)),
    "grad argnums int": lambda f, lib: f.grad(lambda x, y: (x * y**2).sum(), argnums=1)(x3(lib), x3(lib) + 1),
    "grad argnums tuple": lambda f, lib: f.grad(lambda x, y: (x * y**2).sum(), argnums=(0, 1))(x3(lib), x3(lib) + 1),
    "grad argnums one-tuple": lambda f, lib: f.grad(lambda x, y: (x * y**2).sum(), argnums=(1,))(x3(lib), x3(lib) + 1),
    "grad negative argnums": lambda f, lib: f.grad(lambda x, y: (x * y**2).sum(), argnums=-1)(x3(lib), x3(lib) + 1),
    "grad has_aux": lambda f, lib: f.grad(_loss_aux, has_aux=True)(x3(lib), x3(lib) + 1),
    "grad pytree input": lambda f, lib: f.grad(lambda p: (p["w"] ** 2).sum() + p["b"][0].sum())({"w": x3(lib), "b": (x3(lib),)}),
    "grad of grad": lambda f, lib: f.grad(f.grad(lambda x: x**4))(t(lib, 2.0)),
    "grad_and_value": lambda f, lib: f.grad_and_value(lambda x: (x**3).sum())(x3(lib)),
    "grad_and_value has_aux argnums": lambda f, lib: f.grad_and_value(_loss_aux, argnums=(0, 1), has_aux=True)(x3(lib), x3(lib) + 1),
    "grad through no_grad block": lambda f, lib: f.grad(lambda x: (x * x.detach()).sum())(x3(lib)),
    "vjp": lambda f, lib: (lambda out, fn: (out, fn(lib.ones(3, dtype=lib.float64))))(*f.vjp(lambda x: x.exp(), x3(lib))),
    "vjp two primals": lambda f, lib: (lambda out, fn: (out, fn(t(lib, [1.0, 2.0, 3.0]))))(*f.vjp(lambda x, y: x * y, x3(lib), x3(lib) + 1)),
    "vjp tuple output": lambda f, lib: (lambda out, fn: (out, fn((lib.ones(3, dtype=lib.float64), t(lib, 2.0)))))(*f.vjp(lambda x: (x.sin(), x.sum()), x3(lib))),
    "vjp has_aux": lambda f, lib: (lambda out, fn, aux: (out, fn(lib.ones(3, dtype=lib.float64)), aux))(*f.vjp(lambda x: (x**2, x.sum()), x3(lib), has_aux=True)),
    "jvp": lambda f, lib: f.jvp(lambda x: x.sin() * x, (x3(lib),), (t(lib, [1.0, 0.0, 2.0]),)),
    "jvp two primals": lambda f, lib: f.jvp(lambda x, y: x * y, (x3(lib), x3(lib) + 1), (lib.ones(3, dtype=lib.float64), t(lib, [0.0, 1.0, 0.0]))),
    "jvp tuple output": lambda f, lib: f.jvp(lambda x: (x.sin(), x.sum()), (x3(lib),), (lib.ones(3, dtype=lib.float64),)),
    "jvp has_aux": lambda f, lib: f.jvp(lambda x: (x**2, x.sum()), (x3(lib),), (lib.ones(3, dtype=lib.float64),), has_aux=True),
    "jacrev": lambda f, lib: f.jacrev(lambda x: x.sin() * x.sum())(x3(lib)),
    "jacrev matrix": lambda f, lib: f.jacrev(lambda m: m @ m.t())(m23(lib)),
    "jacrev argnums tuple": lambda f, lib: f.jacrev(lambda x, y: x * y.sum(), argnums=(0, 1))(x3(lib), t(lib, [1.0, 2.0])),
    "jacrev tuple output": lambda f, lib: f.jacrev(lambda x: (x.sin(), x.sum()))(x3(lib)),
    "jacrev dict output": lambda f, lib: f.jacrev(lambda x: {"a": x * 2, "b": x.sum()})(x3(lib)),
    "jacrev has_aux": lambda f, lib: f.jacrev(lambda x: (x**2, x.sum()), has_aux=True)(x3(lib)),
    "jacrev chunk_size": lambda f, lib: f.jacrev(lambda x: x.sin() * x.sum(), chunk_size=1)(x3(lib)),
    "jacrev 0-d": lambda f, lib: f.jacrev(lambda x: x**3)(t(lib, 2.0)),
    "jacfwd": lambda f, lib: f.jacfwd(lambda x: x.sin() * x.sum())(x3(lib)),
    "jacfwd argnums tuple": lambda f, lib: f.jacfwd(lambda x, y: x * y.sum(), argnums=(0, 1))(x3(lib), t(lib, [1.0, 2.0])),
    "jacfwd argnums=1": lambda f, lib: f.jacfwd(lambda x, y: x * y.sum(), argnums=1)(x3(lib), t(lib, [1.0, 2.0])),
    "jacfwd has_aux": lambda f, lib: f.jacfwd(lambda x: (x**2, x.sum()), has_aux=True)(x3(lib)),
    "jacfwd tuple output": lambda f, lib: f.jacfwd(lambda x: (x.sin(), x.sum()))(x3(lib)),
    "jacfwd of jacrev": lambda f, lib: f.jacfwd(f.jacrev(lambda x: (x**3).sum()))(x3(lib)),
    "hessian": lambda f, lib: f.hessian(lambda x: (x.sin() * x**2).sum())(x3(lib)),
    "hessian argnums tuple": lambda f, lib: f.hessian(lambda x, y: (x**2 * y).sum(), argnums=(0, 1))(x3(lib), x3(lib) + 1),
    "hessian of matrix input": lambda f, lib: f.hessian(lambda m: (m**3).sum())(m23(lib)),
    "linearize": _fn_lin,
}


@pytest.mark.parametrize("call", list(FUNC_CASES))
def test_func_results(call):
    same_in_both(lambda lib: FUNC_CASES[call](lib.func, lib))


FUNC_ERRORS = {
    "grad non-scalar output": lambda f, lib: f.grad(lambda x: x**2)(x3(lib)),
    "grad output not a tensor": lambda f, lib: f.grad(lambda x: 3.0)(x3(lib)),
    "grad has_aux without tuple": lambda f, lib: f.grad(lambda x: (x**2).sum(), has_aux=True)(x3(lib)),
    "grad argnums out of range": lambda f, lib: f.grad(lambda x: (x**2).sum(), argnums=1)(x3(lib)),
    "grad argnums float": lambda f, lib: f.grad(lambda x: (x**2).sum(), argnums=0.0)(x3(lib)),
    "grad empty argnums": lambda f, lib: f.grad(lambda x: (x**2).sum(), argnums=())(x3(lib)),
    "grad integer input": lambda f, lib: f.grad(lambda x: (x**2).sum())(lib.ones(3, dtype=lib.int64)),
    "jvp primals not a tuple": lambda f, lib: f.jvp(lambda x: x**2, x3(lib), lib.ones(3, dtype=lib.float64)),
    "jvp tangent shape mismatch": lambda f, lib: f.jvp(lambda x: x**2, (x3(lib),), (lib.ones(2, dtype=lib.float64),)),
    "jvp tangent count mismatch": lambda f, lib: f.jvp(lambda x: x**2, (x3(lib),), (lib.ones(3, dtype=lib.float64),) * 2),
    "vjp cotangent shape mismatch": lambda f, lib: f.vjp(lambda x: x**2, x3(lib))[1](lib.ones(2, dtype=lib.float64)),
    "jacrev argnums out of range": lambda f, lib: f.jacrev(lambda x: x**2, argnums=2)(x3(lib)),
    "jacrev chunk_size 0": lambda f, lib: f.jacrev(lambda x: x**2, chunk_size=0)(x3(lib)),
    "jacfwd randomness bad": lambda f, lib: f.jacfwd(lambda x: x**2, randomness="sometimes")(x3(lib)),
    "jacrev of integer output": lambda f, lib: f.jacrev(lambda x: (x > 1).long())(x3(lib)),
    "grad aux not a tensor": lambda f, lib: f.grad(lambda x: ((x**2).sum(), 3), has_aux=True)(x3(lib)),
    "grad_and_value has_aux wrong arity": lambda f, lib: f.grad_and_value(lambda x: ((x**2).sum(), x, x), has_aux=True)(x3(lib)),
    "jvp output not a tensor": lambda f, lib: f.jvp(lambda x: 3.0, (x3(lib),), (x3(lib),)),
    "jacfwd integer input": lambda f, lib: f.jacfwd(lambda x: x * 2)(lib.ones(3, dtype=lib.int64)),
    "vjp integer primal": lambda f, lib: f.vjp(lambda x: x * 2, lib.ones(3, dtype=lib.int64)),
}


_FUNC_ERROR_BUGS = {
}


@pytest.mark.parametrize("call", [pytest.param(name, marks=bug(_FUNC_ERROR_BUGS[name])) if name in _FUNC_ERROR_BUGS else name for name in FUNC_ERRORS])
def test_func_errors(call):
    raises_as_torch(lambda lib: FUNC_ERRORS[call](lib.func, lib))


# ============================================================ torch.func.vmap
def b34(lib):
    return lib.arange(12, dtype=lib.float64).reshape(3, 4) / 7


def b234(lib):
    return lib.arange(24, dtype=lib.float64).reshape(2, 3, 4) / 5 - 2


VMAP_CASES = {
    "sum(dim)": lambda f, lib: f.vmap(lambda r: r.sum(0))(b34(lib)),
    "sum(dim=-1) keepdim": lambda f, lib: f.vmap(lambda r: r.sum(dim=-1, keepdim=True))(b234(lib)),
    "in_dims=1": lambda f, lib: f.vmap(lambda r: r * 2, in_dims=1)(b34(lib)),
    "out_dims=1": lambda f, lib: f.vmap(lambda r: r.exp(), out_dims=1)(b34(lib)),
    "out_dims=-1": lambda f, lib: f.vmap(lambda r: r[:2] * 2, out_dims=-1)(b234(lib)),
    "in_dims None": lambda f, lib: f.vmap(lambda r, w: r @ w, in_dims=(0, None))(b34(lib), lib.ones(4, 2, dtype=lib.float64)),
    "in_dims tuple both batched": lambda f, lib: f.vmap(lambda a, b: a.dot(b), in_dims=(0, 1))(b34(lib), b34(lib).t().contiguous()),
    "matmul": lambda f, lib: f.vmap(lambda a, b: a @ b)(b234(lib), b234(lib).transpose(1, 2)),
    "indexing": lambda f, lib: f.vmap(lambda r: r[1:3] + r[0])(b34(lib)),
    "python scalar arg": lambda f, lib: f.vmap(lambda r, s: r * s, in_dims=(0, None))(b34(lib), 3.0),
    "tuple output": lambda f, lib: f.vmap(lambda r: (r.sum(), r.max()))(b34(lib)),
    "tuple out_dims": lambda f, lib: f.vmap(lambda r: (r * 2, r.sum()), out_dims=(1, 0))(b34(lib)),
    "dict input nested in_dims": lambda f, lib: f.vmap(lambda d: d["a"] + d["b"], in_dims=({"a": 0, "b": None},))({"a": b34(lib), "b": lib.ones(4, dtype=lib.float64)}),
    "nested tuple input": lambda f, lib: f.vmap(lambda p: p[0] * p[1], in_dims=((0, 1),))((b34(lib), b34(lib).t().contiguous())),
    "0-d per sample": lambda f, lib: f.vmap(lambda s: s**2 + 1)(t(lib, [1.0, 2.0, 3.0])),
    "nested vmap": lambda f, lib: f.vmap(f.vmap(lambda a: a.sin() * a))(b34(lib)),
    "nested vmap outer product": lambda f, lib: f.vmap(f.vmap(lambda a, b: a * b, in_dims=(None, 0)), in_dims=(0, None))(x3(lib), t(lib, [1.0, 2.0])),
    "chunk_size": lambda f, lib: f.vmap(lambda r: r.sum(0), chunk_size=2)(b234(lib)),
    "vmap of grad (per-sample)": lambda f, lib: f.vmap(f.grad(lambda w, x: (w * x).sum() ** 2), in_dims=(None, 0))(t(lib, [1.0, -1.0, 0.5, 2.0]), b34(lib)),
    "vmap of jacrev": lambda f, lib: f.vmap(f.jacrev(lambda x: x.sin() * x.sum()))(b34(lib)),
    "new tensors inside": lambda f, lib: f.vmap(lambda r: r + lib.ones(4, dtype=lib.float64))(b34(lib)),
    "randomness same with in-place ones": lambda f, lib: f.vmap(lambda r: r * 0 + 1, randomness="same")(b34(lib)),
    "empty batch": lambda f, lib: f.vmap(lambda r: r * 2)(lib.zeros(0, 3, dtype=lib.float64)),
    "size-1 batch, softmax": lambda f, lib: f.vmap(lambda r: r.softmax(-1))(b34(lib)[:1]),
    "reshape and transpose": lambda f, lib: f.vmap(lambda m: m.reshape(4, 3).t())(b234(lib)),
    "where and comparisons": lambda f, lib: f.vmap(lambda r: lib.where(r > 0.5, r, -r))(b34(lib)),
}


_VMAP_BUGS = {}


@pytest.mark.parametrize("call", [pytest.param(name, marks=bug(_VMAP_BUGS[name])) if name in _VMAP_BUGS else name for name in VMAP_CASES])
def test_vmap(call):
    same_in_both(lambda lib: VMAP_CASES[call](lib.func, lib))


def test_vmap_randomness_different_and_same_shapes():
    def run(lib):
        lib.manual_seed(0)
        different = lib.func.vmap(lambda r: r + lib.rand(4, dtype=lib.float64), randomness="different")(lib.zeros(3, 4, dtype=lib.float64))
        same = lib.func.vmap(lambda r: r + lib.rand(4, dtype=lib.float64), randomness="same")(lib.zeros(3, 4, dtype=lib.float64))
        return (tuple(different.shape), bool((different[0] != different[1]).any()),
                tuple(same.shape), bool((same[0] == same[1]).all()), bool((same[1] == same[2]).all()))

    assert run(chainrule) == run(torch)


VMAP_ERRORS = {
    "randomness error (default)": lambda f, lib: f.vmap(lambda r: r + lib.rand(4))(lib.zeros(3, 4)),
    "randomness bad name": lambda f, lib: f.vmap(lambda r: r * 2, randomness="sometimes")(lib.zeros(3, 4)),
    "in_dims out of range": lambda f, lib: f.vmap(lambda r: r * 2, in_dims=2)(lib.zeros(3, 4)),
    "in_dims wrong length": lambda f, lib: f.vmap(lambda a, b: a * b, in_dims=(0,))(lib.zeros(3), lib.zeros(3)),
    "batch sizes differ": lambda f, lib: f.vmap(lambda a, b: a * b)(lib.zeros(3), lib.zeros(4)),
    "no batched input": lambda f, lib: f.vmap(lambda a: a * 2, in_dims=None)(lib.zeros(3)),
    "0-d input batched": lambda f, lib: f.vmap(lambda a: a * 2)(lib.tensor(1.0)),
    "output not a tensor": lambda f, lib: f.vmap(lambda a: 3.0)(lib.zeros(3)),
    "out_dims None for batched output": lambda f, lib: f.vmap(lambda a: a * 2, out_dims=None)(lib.zeros(3, 2)),
    "item inside vmap": lambda f, lib: f.vmap(lambda a: a.sum().item())(lib.zeros(3, 2)),
    "in_dims float": lambda f, lib: f.vmap(lambda a: a * 2, in_dims=0.0)(lib.zeros(3, 2)),
    "data-dependent control flow": lambda f, lib: f.vmap(lambda a: a if a.sum() > 0 else -a)(lib.ones(3, 2)),
    "dropout with randomness error": lambda f, lib: f.vmap(lambda a: lib.nn.functional.dropout(a, 0.5))(lib.ones(3, 4)),
    "in-place into unbatched tensor": lambda f, lib: f.vmap(lambda a, b: b.add_(a), in_dims=(0, None))(lib.ones(3, 2), lib.zeros(2)),
    "out_dims beyond output rank": lambda f, lib: f.vmap(lambda a: a.sum(), out_dims=1)(lib.ones(3, 2)),
    "in_dims as a list": lambda f, lib: f.vmap(lambda a, b: a + b, in_dims=[0, None])(lib.ones(3, 2), lib.ones(2)),
    "out_dims tuple too long": lambda f, lib: f.vmap(lambda a: (a, a), out_dims=(0, 0, 0))(lib.ones(3, 2)),
    "chunk_size 0": lambda f, lib: f.vmap(lambda a: a * 2, chunk_size=0)(lib.ones(3, 2)),
}


_VMAP_ERROR_BUGS = {
    "out_dims None for batched output": "vmap(out_dims=None) of a batched output whose elements are all equal (here zeros) returns one; PyTorch raises ValueError (chainrule's loop refuses only outputs that differ)",
    "item inside vmap": ".item() inside vmap returns a float (ValueError only for the output); PyTorch raises RuntimeError at .item()",
    "data-dependent control flow": "`if tensor:` inside vmap works per sample; PyTorch raises RuntimeError (data-dependent control flow)",
}


@pytest.mark.parametrize("call", [pytest.param(name, marks=bug(_VMAP_ERROR_BUGS[name])) if name in _VMAP_ERROR_BUGS else name for name in VMAP_ERRORS])
def test_vmap_errors(call):
    raises_as_torch(lambda lib: VMAP_ERRORS[call](lib.func, lib))


# ============================================================ functional_call, stack_module_state
def _net(lib):
    lib.manual_seed(0)
    net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Linear(4, 2)).double()
    with lib.no_grad():
        for index, parameter in enumerate(net.parameters()):
            parameter.copy_(lib.arange(parameter.numel(), dtype=lib.float64).reshape(parameter.shape) / (10 + index) - 0.3)
    return net


def _batch(lib):
    return lib.arange(15, dtype=lib.float64).reshape(5, 3) / 4 - 1


def _params(lib, net, scale=2.0):
    return {name: value.detach() * scale for name, value in net.named_parameters()}


def _call_with_params(lib):
    net = _net(lib)
    out = lib.func.functional_call(net, _params(lib, net), (_batch(lib),))
    return out, net[0].weight, net[1].running_mean  # module parameters untouched, buffers updated in train mode


def _call_with_buffers(lib):
    net = _net(lib).eval()
    buffers = {"1.running_mean": lib.ones(4, dtype=lib.float64), "1.running_var": lib.full((4,), 4.0, dtype=lib.float64)}
    return lib.func.functional_call(net, (_params(lib, net), buffers), _batch(lib)), net[1].running_mean


def _call_partial(lib):
    net = _net(lib)
    return lib.func.functional_call(net, {"0.weight": lib.zeros(4, 3, dtype=lib.float64)}, (_batch(lib),))


def _call_kwargs(lib):
    lin = lib.nn.Linear(3, 2).double()
    return lib.func.functional_call(lin, {"weight": lib.ones(2, 3, dtype=lib.float64), "bias": lib.zeros(2, dtype=lib.float64)},
                                    args=(), kwargs={"input": _batch(lib)})


def _grad_wrt_params(lib):
    net = _net(lib).eval()
    params = {name: value.detach() for name, value in net.named_parameters()}
    loss = lambda p: lib.func.functional_call(net, p, (_batch(lib),)).pow(2).sum()
    grads = lib.func.grad(loss)(params)
    return [(name, grads[name]) for name in sorted(grads)]


def _tied(lib, tie_weights):
    class Tied(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lib.nn.Linear(2, 2, bias=False).double()
            self.b = self.a

        def forward(self, x):
            return self.b(self.a(x))

    model = Tied()
    return lib.func.functional_call(model, {"a.weight": lib.eye(2, dtype=lib.float64) * 3}, (lib.ones(1, 2, dtype=lib.float64),), tie_weights=tie_weights)


def _stack(lib):
    lib.manual_seed(0)
    models = [lib.nn.Linear(3, 2).double() for _ in range(4)]
    with lib.no_grad():
        for index, model in enumerate(models):
            model.weight.fill_(index)
            model.bias.fill_(-index)
    params, buffers = lib.func.stack_module_state(models)
    out = lib.func.vmap(lambda p, b, x: lib.func.functional_call(models[0], (p, b), (x,)), in_dims=(0, 0, None))(params, buffers, _batch(lib))
    return ([(name, params[name], params[name].requires_grad, params[name].is_leaf) for name in sorted(params)], buffers, out)


def _stack_with_buffers(lib):
    lib.manual_seed(0)
    models = [lib.nn.BatchNorm1d(3).double() for _ in range(2)]
    models[1].running_mean.fill_(1.0)
    params, buffers = lib.func.stack_module_state(models)
    return [(name, buffers[name]) for name in sorted(buffers)], sorted(params)


MODULE_CASES = {
    "functional_call with params": _call_with_params,
    "functional_call params and buffers": _call_with_buffers,
    "functional_call partial dict": _call_partial,
    "functional_call kwargs": _call_kwargs,
    "grad wrt params dict": _grad_wrt_params,
    "tie_weights=True": lambda lib: _tied(lib, True),
    "tie_weights=False": lambda lib: _tied(lib, False),
    "tied names given one tensor twice": lambda lib: _tied_conflict(lib, same=True),
    "tied names given two tensors, tie_weights=False": lambda lib: _tied_conflict(lib, tie_weights=False),
    "stack_module_state + vmap": _stack,
    "stack_module_state buffers": _stack_with_buffers,
}


@pytest.mark.parametrize("call", list(MODULE_CASES))
def test_functional_call_and_stacking(call):
    same_in_both(MODULE_CASES[call])


MODULE_ERRORS = {
    "strict with missing key": lambda lib: lib.func.functional_call(_net(lib), {"0.weight": lib.zeros(4, 3, dtype=lib.float64)}, (_batch(lib),), strict=True),
    "unexpected key strict": lambda lib: lib.func.functional_call(lib.nn.Linear(3, 2).double(), {"weight": lib.ones(2, 3, dtype=lib.float64), "bias": lib.zeros(2, dtype=lib.float64), "extra": lib.zeros(1)}, (_batch(lib),), strict=True),
    "unexpected key not strict": lambda lib: lib.func.functional_call(lib.nn.Linear(3, 2).double(), {"nope.weight": lib.ones(2, 3, dtype=lib.float64)}, (_batch(lib),)),
    "duplicate key in params and buffers": lambda lib: lib.func.functional_call(lib.nn.Linear(3, 2).double(), ({"bias": lib.zeros(2, dtype=lib.float64)}, {"bias": lib.ones(2, dtype=lib.float64)}), (_batch(lib),)),
    "tied weights given different values": lambda lib: _tied_conflict(lib),
    "stack_module_state empty": lambda lib: lib.func.stack_module_state([]),
    "stack_module_state mixed types": lambda lib: lib.func.stack_module_state([lib.nn.Linear(3, 2), lib.nn.Linear(3, 3)]),
    "stack_module_state mixed requires_grad": lambda lib: lib.func.stack_module_state([lib.nn.Linear(3, 2), lib.nn.Linear(3, 2).requires_grad_(False)]),
    "strict with missing buffers": lambda lib: lib.func.functional_call(lib.nn.BatchNorm1d(2).eval(), {"weight": lib.ones(2), "bias": lib.zeros(2)}, (lib.zeros(3, 2),), strict=True),
}


def _tied_conflict(lib, same=False, tie_weights=True):
    """A module holding one Linear under two names, called with a value for each name: two
    different tensors (refused when tied), or one tensor given twice (``same``)."""
    class Tied(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lib.nn.Linear(2, 2, bias=False)
            self.b = self.a

        def forward(self, x):
            return self.b(self.a(x))

    first = lib.eye(2)
    values = {"a.weight": first, "b.weight": first if same else lib.eye(2) * 2}
    return lib.func.functional_call(Tied(), values, (lib.ones(1, 2),), tie_weights=tie_weights)


_MODULE_ERROR_BUGS = {}


@pytest.mark.parametrize("call", [pytest.param(name, marks=bug(_MODULE_ERROR_BUGS[name])) if name in _MODULE_ERROR_BUGS else name for name in MODULE_ERRORS])
def test_functional_call_errors(call):
    raises_as_torch(MODULE_ERRORS[call])


# ============================================================ torch.autograd.forward_ad
def _dual(lib, body):
    fwAD = lib.autograd.forward_ad
    with fwAD.dual_level():
        result = body(lib, fwAD)
    return result


def _unpack(fwAD, value):
    primal, tangent = fwAD.unpack_dual(value)
    return primal, tangent


DUAL_CASES = {
    "elementwise chain": lambda lib, fwAD: _unpack(fwAD, (fwAD.make_dual(x3(lib), t(lib, [1.0, 0.5, -1.0])).sin() * 3).exp()),
    "matmul with plain tensor": lambda lib, fwAD: _unpack(fwAD, fwAD.make_dual(m23(lib), lib.ones(2, 3, dtype=lib.float64)) @ x3(lib)),
    "reduction sum(dim)": lambda lib, fwAD: _unpack(fwAD, fwAD.make_dual(m23(lib), m23(lib) * 2).sum(dim=1)),
    "0-d dual": lambda lib, fwAD: _unpack(fwAD, fwAD.make_dual(t(lib, 2.0), t(lib, 1.0)) ** 3),
    "indexing and view": lambda lib, fwAD: _unpack(fwAD, fwAD.make_dual(m23(lib), m23(lib) + 1)[:, 1:].t()),
    "unpack of plain tensor": lambda lib, fwAD: _unpack(fwAD, x3(lib) * 2),
    "named tuple fields": lambda lib, fwAD: (lambda u: (u.primal, u.tangent))(fwAD.unpack_dual(fwAD.make_dual(x3(lib), x3(lib)) * 2)),
    "two duals": lambda lib, fwAD: _unpack(fwAD, fwAD.make_dual(x3(lib), lib.ones(3, dtype=lib.float64)) * fwAD.make_dual(x3(lib) + 1, t(lib, [0.0, 1.0, 2.0]))),
    "functional softmax": lambda lib, fwAD: _unpack(fwAD, lib.nn.functional.softmax(fwAD.make_dual(x3(lib), t(lib, [1.0, 0.0, 0.0])), dim=0)),
    "linear layer": lambda lib, fwAD: _unpack(fwAD, lib.nn.functional.linear(fwAD.make_dual(m23(lib), lib.ones(2, 3, dtype=lib.float64)), t(lib, [[1.0, 2.0, 3.0]]), t(lib, [0.5]))),
}


@pytest.mark.parametrize("call", list(DUAL_CASES))
def test_forward_ad(call):
    same_in_both(lambda lib: _dual(lib, DUAL_CASES[call]))


def test_tangent_gone_after_dual_level_exits():
    def run(lib):
        fwAD = lib.autograd.forward_ad
        with fwAD.dual_level():
            dual = fwAD.make_dual(x3(lib), lib.ones(3, dtype=lib.float64)) * 2
        primal, tangent = fwAD.unpack_dual(dual)
        return primal, tangent is None

    same_in_both(run)


DUAL_ERRORS = {
    "make_dual outside dual_level": lambda lib: lib.autograd.forward_ad.make_dual(x3(lib), x3(lib)),
    "tangent shape mismatch": lambda lib: _dual(lib, lambda lib, fwAD: fwAD.make_dual(x3(lib), lib.ones(2, dtype=lib.float64))),
    "tangent dtype mismatch": lambda lib: _dual(lib, lambda lib, fwAD: fwAD.make_dual(x3(lib), lib.ones(3, dtype=lib.int64))),
    "integer primal": lambda lib: _dual(lib, lambda lib, fwAD: fwAD.make_dual(lib.ones(3, dtype=lib.int64), lib.ones(3, dtype=lib.int64))),
    "nested dual_level": lambda lib: _dual(lib, lambda lib, fwAD: fwAD.dual_level().__enter__()),
}


@pytest.mark.parametrize("call", list(DUAL_ERRORS))
def test_forward_ad_errors(call):
    raises_as_torch(DUAL_ERRORS[call])


# ============================================================ vmap: what the per-element loop checks by the results
def test_vmap_write_of_the_same_value_into_an_unbatched_tensor_is_kept():
    def run(lib):
        shared = lib.ones(2, dtype=lib.float64)
        out = lib.func.vmap(lambda a, b: (b.zero_(), a * 2)[1], in_dims=(0, None))(b34(lib)[:, :2], shared)
        return out, shared

    same_in_both(run)


def test_vmap_out_dims_none_refuses_outputs_that_differ_between_elements():
    raises_as_torch(lambda lib: lib.func.vmap(lambda a: a * 2, out_dims=None)(b34(lib)))


def test_vmap_empty_batch_with_tuple_out_dims():
    same_in_both(lambda lib: lib.func.vmap(lambda r: (r * 2, r.sum()), out_dims=(1, 0))(lib.zeros(0, 3, dtype=lib.float64)))
