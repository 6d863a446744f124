"""torch.func.vmap against PyTorch: in_dims, out_dims, nesting with grad, randomness, errors."""
import numpy as np
import pytest
import torch
import torch.func

import chainrule
from chainrule import func
from tests.func.helpers import assert_same, both

RNG = np.random.default_rng(4)
GENERATORS = {True: torch.Generator(), False: chainrule.Generator()}  # a draw from one in vmap: refused by default
A, B = RNG.standard_normal((4, 3)), RNG.standard_normal((3, 4))


@pytest.mark.parametrize(
    "in_dims, out_dims",
    [((0, 1), 0), ((0, 1), (1, 0)), ((0, None), 0), ((-2, -1), (-1, 0)), (0, 0)],
)
def test_in_dims_and_out_dims(in_dims, out_dims):
    (a, ta), (b, tb) = both(A), both(B)
    if in_dims == (0, None):
        b, tb = both(B[:, 0])
    if in_dims == 0:
        b, tb = both(A * 2)

    def f(x, y):
        return x * y, (x + y).sum()

    assert_same(func.vmap(f, in_dims, out_dims)(a, b), torch.func.vmap(f, in_dims, out_dims)(ta, tb))


def test_nested_inputs_and_per_example_gradients():
    (a, ta), (b, tb) = both(A), both(B[:, 0])
    ours = func.vmap(lambda d: d["x"] * d["y"], in_dims=({"x": 0, "y": None},))({"x": a, "y": b})
    theirs = torch.func.vmap(lambda d: d["x"] * d["y"], in_dims=({"x": 0, "y": None},))({"x": ta, "y": tb})
    assert_same(ours, theirs)
    per_example = func.vmap(func.grad(lambda w, x: (w * x).sin().sum()), in_dims=(None, 0))(b, a)
    expected = torch.func.vmap(torch.func.grad(lambda w, x: (w * x).sin().sum()), in_dims=(None, 0))(tb, ta)
    assert_same(per_example, expected)


def test_outputs_are_pytrees_as_pytorchs_named_tuples_ordered_dicts_and_out_dims_prefixes():
    """What torch.utils._pytree makes of outputs: return types (max's, slogdet's), OrderedDicts;
    one out_dims entry standing for a whole subtree."""
    (a, ta) = both(A)
    matrices, torch_matrices = both(RNG.standard_normal((3, 2, 2)))
    for ours, theirs in [
        (func.vmap(lambda x: x.max(0))(a), torch.func.vmap(lambda x: x.max(0))(ta)),
        (func.vmap(chainrule.linalg.slogdet)(matrices), torch.func.vmap(torch.linalg.slogdet)(torch_matrices)),
    ]:
        assert type(ours).__name__ == type(theirs).__name__
        assert_same(tuple(ours), tuple(theirs))
    ordered = func.vmap(lambda x: __import__("collections").OrderedDict(a=x, b=x.sum()))(a)
    assert type(ordered).__name__ == "OrderedDict" and list(ordered) == ["a", "b"]
    nested = func.vmap(lambda x: (x, (x * 2, x * 3)), out_dims=(0, 1))(a)
    expected = torch.func.vmap(lambda x: (x, (x * 2, x * 3)), out_dims=(0, 1))(ta)
    assert_same(nested, expected)


def test_vmap_over_autograd_grad_of_a_graph_made_outside():
    """The Jacobian recipe of torch.vmap's docstring: one vector-Jacobian product per basis vector
    through a graph made once, outside (PyTorch runs one batched backward; here each element runs
    one, and the graph is kept for the next)."""
    jacobians = []
    for lib, vmap in ((torch, torch.func.vmap), (chainrule, func.vmap)):
        x = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        y = x**2
        jacobians.append(vmap(lambda v: lib.autograd.grad(y, x, v))(lib.eye(3))[0].tolist())
    assert jacobians[0] == jacobians[1]

def test_randomness_same_draws_one_sample_for_every_element():
    a = chainrule.zeros(5, 3)
    same = func.vmap(lambda x: x + chainrule.rand(3), randomness="same")(a)
    assert np.allclose(same.numpy(), same.numpy()[0])
    different = func.vmap(lambda x: x + chainrule.rand(3), randomness="different")(a)
    assert not np.allclose(different.numpy(), different.numpy()[0])


@pytest.mark.parametrize(
    "call",
    [
        lambda f, a: f.vmap(lambda x: x, in_dims=2)(a),
        lambda f, a: f.vmap(lambda x, y: x, in_dims=(0,))(a, a),
        lambda f, a: f.vmap(lambda x, y: x)(a, a[:2]),
        lambda f, a: f.vmap(lambda x: x, randomness="foo")(a),
        lambda f, a: f.vmap(lambda x: x, in_dims=None)(a),
        lambda f, a: f.vmap(lambda x: 3)(a),
        lambda f, a: f.vmap(lambda x, n: x, in_dims=(0, 0))(a, 3),
        lambda f, a: f.vmap(lambda x: x, out_dims="lol")(a),
        lambda f, a: f.vmap(lambda x: (x, x), out_dims=(0, 0, 0))(a),
        lambda f, a: f.vmap(lambda: a)(),
        lambda f, a: f.vmap(lambda x: x + (torch if f is torch.func else chainrule).rand(3, generator=GENERATORS[f is torch.func]))(a),
    ],
)
def test_errors_match_pytorch(call):
    a, ta = both(A)
    with pytest.raises(Exception) as expected:
        call(torch.func, ta)
    with pytest.raises(expected.type):
        call(func, a)
