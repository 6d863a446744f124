"""torch.func.vjp, jvp and linearize against PyTorch: tuples, dicts, has_aux, errors."""
import numpy as np
import pytest
import torch
import torch.func

import chainrule
from chainrule import func
from tests.func.helpers import assert_same, assert_same_error, both

RNG = np.random.default_rng(2)
X, Y = RNG.standard_normal(3), RNG.standard_normal(3)


def pair(x, y):
    return x.sin() * y, {"sum": (x * y).sum()}


def test_vjp_returns_output_and_a_reusable_pullback():
    (x, tx), (y, ty) = both(X), both(Y)
    output, pullback = func.vjp(pair, x, y)
    torch_output, torch_pullback = torch.func.vjp(pair, tx, ty)
    assert_same(output, torch_output)
    for scale in (1.0, 2.0):
        cotangent = (y * scale, {"sum": x.sum()})
        assert_same(pullback(cotangent), torch_pullback((ty * scale, {"sum": tx.sum()})))


def test_vjp_has_aux():
    (x, tx), _ = both(X), None
    ours = func.vjp(lambda x: (x.exp(), x.sum()), x, has_aux=True)
    theirs = torch.func.vjp(lambda x: (x.exp(), x.sum()), tx, has_aux=True)
    assert_same(ours[0], theirs[0])
    assert_same(ours[2], theirs[2])
    assert_same(ours[1](x), theirs[1](tx))


def test_jvp():
    (x, tx), (y, ty) = both(X), both(Y)
    assert_same(func.jvp(pair, (x, y), (y, x)), torch.func.jvp(pair, (tx, ty), (ty, tx)))
    assert_same(func.jvp(lambda x: x * 2, (x,), (y,)), torch.func.jvp(lambda x: x * 2, (tx,), (ty,)))
    assert_same(
        func.jvp(lambda x: (x.exp(), x.sum()), (x,), (y,), has_aux=True),
        torch.func.jvp(lambda x: (x.exp(), x.sum()), (tx,), (ty,), has_aux=True),
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda f, x: f.jvp(lambda x: x, [x], [x]),
        lambda f, x: f.jvp(lambda x: x, (x,), (x, x)),
        lambda f, x: f.jvp(lambda x: x, (x,), (x[:2],)),
        lambda f, x: f.vjp(lambda x: x * 2, x)[1]((x,)),
        lambda f, x: f.vjp(lambda x: (), x),
        lambda f, x: f.vjp(lambda x: None, x),
        lambda f, x: f.vjp(lambda x: [x, x], x, has_aux=True),
        lambda f, x: f.jvp(lambda x: (), (x,), (x,)),
        lambda f, x: f.jvp(lambda x: [x, x], (x,), (x,), has_aux=True),
        lambda f, x: f.jvp(lambda x: (x, x.detach() + 1), (x,), (x,), strict=True),
        lambda f, x: f.jvp(lambda x: x, (1.0,), (x,)),
        lambda f, x: f.jvp(lambda x: x, (x,), (1.0,)),
        lambda f, x: f.jvp(lambda x: x, ((),), ((),)),
        lambda f, x: f.jvp(lambda x: x, (), ()),
        lambda f, x: f.jacrev(lambda x: x * 2)(x * 1j),
        lambda f, x: f.jacfwd(lambda x: x * 1j)(x),
    ],
)
def test_errors_match_pytorch(call):
    x, tx = both(X)
    assert_same_error(call, (func, x), (torch.func, tx), first_words_only=True)


def test_linearize_gives_the_jacobian_vector_products_of_pytorch_at_the_primals():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((3, 2)), rng.standard_normal(2)

    def f(lib):
        return lambda a, b: ((a * b).tanh().sum(0), a.exp() @ b)

    ours_output, ours_jvp = chainrule.func.linearize(f(chainrule), chainrule.tensor(x), chainrule.tensor(y))
    theirs_output, theirs_jvp = torch.func.linearize(f(torch), torch.tensor(x), torch.tensor(y))
    for ours, theirs in zip(ours_output, theirs_output):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    for _ in range(3):  # the same linear map, called again and again
        tx, ty = rng.standard_normal((3, 2)), rng.standard_normal(2)
        for ours, theirs in zip(ours_jvp(chainrule.tensor(tx), chainrule.tensor(ty)), theirs_jvp(torch.tensor(tx), torch.tensor(ty))):
            np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10)
    for wrong, words in [
        ((chainrule.ones(4), chainrule.tensor(ty)), r"tangent:0 with shape chainrule.Size\(\[4\]\) in flattened pytree doesn't match the shape"),
        ((chainrule.tensor(tx), chainrule.tensor(ty).float()), "tangent:1 with dtype chainrule.float32 in flattened pytree doesn't match the dtype"),
        ((chainrule.tensor(tx),), "Expected the tangents .* to have the same argspec as the primals"),
    ]:
        with pytest.raises(RuntimeError, match=words):
            ours_jvp(*wrong)


def test_replace_all_batch_norm_modules_drops_running_statistics_as_pytorch_does():
    def make(lib):
        return lib.nn.Sequential(lib.nn.BatchNorm1d(3), lib.nn.InstanceNorm1d(3, track_running_stats=True), lib.nn.BatchNorm2d(2))

    results = []
    for lib in (chainrule, torch):
        model = make(lib)
        assert lib.func.replace_all_batch_norm_modules_(model) is model
        results.append(([name for name, _ in model.named_buffers()], [getattr(m, "track_running_stats", None) for m in model]))
    assert results[0] == results[1] == (["1.running_mean", "1.running_var", "1.num_batches_tracked"], [False, True, False])


def _cube(lib, with_jvp):
    class Cube(lib.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x):
            return x**3

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.x = inputs[0]

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x**2

        if with_jvp:
            @staticmethod
            def jvp(ctx, tangent):
                return tangent * 3 * ctx.x**2

    return Cube


@pytest.mark.parametrize(
    "transform",
    [
        lambda lib, f, x: lib.func.jvp(f, (x,), (lib.ones(3),)),
        lambda lib, f, x: lib.func.jacfwd(f)(x),
        lambda lib, f, x: lib.func.hessian(lambda x: f(x).sum())(x),
        lambda lib, f, x: lib.func.linearize(f, x)[0],
    ],
)
def test_forward_mode_transforms_need_a_custom_functions_jvp_as_pytorchs(transform):
    """jvp, jacfwd, hessian and linearize refuse a custom Function without ``jvp`` in PyTorch's words
    (the extending-func notes show hessian failing so); with ``jvp`` they agree with PyTorch."""
    assert_same_error(lambda lib, x: transform(lib, _cube(lib, False).apply, x), (chainrule, chainrule.ones(3)), (torch, torch.ones(3)))
    ours = transform(chainrule, _cube(chainrule, True).apply, chainrule.tensor([1.0, 2.0, 3.0]))
    theirs = transform(torch, _cube(torch, True).apply, torch.tensor([1.0, 2.0, 3.0]))
    assert_same(ours, theirs)
    assert chainrule.func.jacrev(_cube(chainrule, False).apply)(chainrule.ones(3)).shape == (3, 3)  # reverse mode needs none


def test_transforms_differentiate_inside_no_grad_and_inference_mode_as_pytorch_does():
    """A transform's result does not depend on the grad mode around it (PyTorch's functorch
    note); inside inference_mode() too, with inputs and captured tensors made there."""
    results = []
    for lib in (chainrule, torch):
        with lib.inference_mode():
            x, c = lib.tensor(X), lib.tensor(Y)
            grad = lib.func.grad(lambda x: (x**2 * c).sum())(x)
            jacobian = lib.func.jacrev(lambda x: x.sin() * c)(x)
            _, tangent = lib.func.jvp(lambda x: (x**2).sum(), (x,), (c,))
            (cotangent,) = lib.func.vjp(lambda x: x.exp(), x)[1](c)
        with lib.no_grad():
            hessian = lib.func.hessian(lambda x: (x**3).sum())(lib.tensor(X))
        results.append([value.detach().numpy() for value in (grad, jacobian, tangent, cotangent, hessian)])
        assert not grad.requires_grad and not hessian.requires_grad
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_vjp_fn_records_its_graph_by_the_grad_mode_it_is_called_in():
    for lib in (chainrule, torch):
        x = lib.tensor(3.0, requires_grad=True)
        _, pullback = lib.func.vjp(lambda x: x**2, x)
        with lib.no_grad():
            (y,) = pullback(lib.tensor(1.0))
        assert not y.requires_grad
        with lib.no_grad():
            _, pullback = lib.func.vjp(lambda x: x**2, x)
        (y,) = pullback(lib.tensor(1.0))
        assert y.requires_grad and lib.autograd.grad(y, x)[0].item() == 2.0
