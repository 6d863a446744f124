"""Forward-mode AD (autograd.forward_ad) against PyTorch's and against finite differences: the
tangents of operations, modules, custom Functions with jvp, in-place writes, and the rules of
dual levels."""
import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as torch_fwAD

import chainrule
import chainrule.autograd.forward_ad as fwAD

rng = np.random.default_rng(0)


def _jvp(lib, forward, fn, primals, tangents):
    with forward.dual_level():
        duals = [forward.make_dual(lib.tensor(p), lib.tensor(t)) for p, t in zip(primals, tangents)]
        outputs = fn(lib, *duals)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        return [
            (forward.unpack_dual(output).primal.detach().numpy().copy(), forward.unpack_dual(output).tangent)
            for output in outputs
        ]


CASES = {
    "polynomial": (lambda lib, x, y: x ** 2 + y ** 3 - x * y, [(3, 4), (3, 4)]),
    "broadcast": (lambda lib, x, y: (x * y).tanh() / (1 + y.exp()), [(3, 1), (4,)]),
    "0-d": (lambda lib, x: (x.sin() * 2).sqrt(), [()]),
    "reductions": (lambda lib, x: (x.sum(0), x.mean(1), x.amax(1), lib.logsumexp(x, 1)), [(3, 5)]),
    "matmul": (lambda lib, a, b: a @ b, [(2, 3), (3, 4)]),
    "softmax": (lambda lib, x: lib.softmax(x, 1), [(2, 5)]),
    "views": (lambda lib, x: (x.t()[1:, 0] * x.reshape(-1)[:2].sum(), x[:, 1]), [(3, 3)]),
    "joins": (lambda lib, x, y: lib.cat([x, y * 2], 0).cumsum(0), [(2, 3), (1, 3)]),
    "conv": (lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1), [(1, 2, 5, 5), (3, 2, 3, 3)]),
    "losses": (lambda lib, x, y: lib.nn.functional.mse_loss(x, y) + lib.nn.functional.smooth_l1_loss(x, y), [(4, 3), (4, 3)]),
    "max with indices": (lambda lib, x: x.max(1).values, [(3, 4)]),
    "empty": (lambda lib, x: x * 2 + 1, [(0, 3)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_tangents_match_pytorch_and_finite_differences(name):
    fn, shapes = CASES[name]
    primals = [rng.standard_normal(shape) + (2.0 if name == "0-d" else 0.0) for shape in shapes]
    tangents = [rng.standard_normal(shape) for shape in shapes]
    ours = _jvp(chainrule, fwAD, fn, primals, tangents)
    theirs = _jvp(torch, torch_fwAD, fn, primals, tangents)
    eps = 1e-6
    plus = _jvp(chainrule, fwAD, fn, [p + eps * t for p, t in zip(primals, tangents)], tangents)
    minus = _jvp(chainrule, fwAD, fn, [p - eps * t for p, t in zip(primals, tangents)], tangents)
    for (value, tangent), (their_value, their_tangent), (high, _), (low, _) in zip(ours, theirs, plus, minus):
        np.testing.assert_allclose(value, their_value.reshape(value.shape), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(tangent.numpy(), their_tangent.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(tangent.numpy(), (high - low) / (2 * eps), rtol=1e-5, atol=1e-7)


def test_a_module_with_dual_parameters_gives_the_jvp_in_its_parameters():
    model = chainrule.nn.Sequential(chainrule.nn.Linear(4, 5), chainrule.nn.Tanh(), chainrule.nn.Linear(5, 2)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).double()
    theirs.load_state_dict({key: torch.tensor(value.numpy()) for key, value in model.state_dict().items()})
    x = rng.standard_normal((3, 4))
    tangents = {name: rng.standard_normal(tuple(p.shape)) for name, p in model.named_parameters()}
    results = []
    for lib, forward, module in ((chainrule, fwAD, model), (torch, torch_fwAD, theirs)):
        params = dict(module.named_parameters())
        with forward.dual_level():
            duals = {name: forward.make_dual(p, lib.tensor(tangents[name])) for name, p in params.items()}
            out = lib.func.functional_call(module, duals, (lib.tensor(x),))
            results.append(forward.unpack_dual(out).tangent.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10)


def test_a_custom_function_uses_its_jvp_with_what_forward_kept():
    calls = []

    class Exp(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.result = result
            ctx.save_for_forward(x)
            return result

        @staticmethod
        def jvp(ctx, x_tangent):
            (x,) = ctx.saved_tensors
            calls.append(tuple(x.shape))
            tangent = x_tangent * ctx.result
            del ctx.result
            return tangent

    x, t = rng.standard_normal(4), rng.standard_normal(4)
    with fwAD.dual_level():
        out = Exp.apply(fwAD.make_dual(chainrule.tensor(x), chainrule.tensor(t)))
        np.testing.assert_allclose(fwAD.unpack_dual(out).tangent.numpy(), t * np.exp(x), rtol=1e-12)
    assert calls == [(4,)]
    assert chainrule.autograd.gradcheck(
        Exp.apply, (chainrule.tensor(x, requires_grad=True),), check_forward_ad=True, check_backward_ad=False
    )


def test_gradcheck_finds_a_wrong_jvp():
    class WrongSquare(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.x = x
            return x * x

        @staticmethod
        def jvp(ctx, x_tangent):
            return x_tangent * ctx.x  # should be 2 x t

    x = chainrule.tensor([0.5, 1.5], dtype=chainrule.float64, requires_grad=True)
    with pytest.raises(chainrule.autograd.GradcheckError, match="forward mode"):
        chainrule.autograd.gradcheck(WrongSquare.apply, (x,), check_forward_ad=True, check_backward_ad=False)
    assert chainrule.autograd.gradcheck(lambda t: (t.sin() * t).cumsum(0), (x,), check_forward_ad=True)
    assert chainrule.autograd.gradgradcheck(lambda t: (t.sin() * t).sum(), (x,), check_fwd_over_rev=True)


def test_tangents_follow_in_place_writes_and_ignore_grad_mode_as_in_pytorch():
    for lib, forward in ((chainrule, fwAD), (torch, torch_fwAD)):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)
        with forward.dual_level():
            dual = forward.make_dual(x, lib.ones(3, dtype=lib.float64))
            copied = lib.zeros(3, dtype=lib.float64)
            copied.copy_(dual)
            scaled = dual.clone()
            scaled.mul_(2)
            with lib.no_grad():
                exp = dual.exp()
            written = lib.zeros(3, dtype=lib.float64)
            written[0] = dual[1] * 3  # a dual value written into a plain tensor
            overwritten = dual.clone()
            overwritten[2] = 0.0  # a plain value written over a dual tensor
            assert forward.unpack_dual(written).tangent.tolist() == [3.0, 0.0, 0.0]
            assert forward.unpack_dual(overwritten).tangent.tolist() == [1.0, 1.0, 0.0]
            assert forward.unpack_dual(copied).tangent.tolist() == [1.0, 1.0, 1.0]
            assert forward.unpack_dual(scaled).tangent.tolist() == [2.0, 2.0, 2.0]
            np.testing.assert_allclose(forward.unpack_dual(exp).tangent.numpy(), np.exp([1.0, 2.0, 3.0]))
            assert forward.unpack_dual(dual.detach()).tangent is None
            assert forward.unpack_dual(x).tangent is None
            assert forward.unpack_dual(dual.argmax()).tangent is None
        assert forward.unpack_dual(scaled).tangent is None  # dropped with the level


def test_a_dropout_tangent_uses_the_outputs_mask():
    chainrule.manual_seed(0)
    x = chainrule.ones(1000, dtype=chainrule.float64)
    with fwAD.dual_level():
        out = chainrule.nn.functional.dropout(fwAD.make_dual(x, chainrule.full((1000,), 3.0, dtype=chainrule.float64)), 0.5)
        primal, tangent = fwAD.unpack_dual(out)
    np.testing.assert_array_equal(tangent.numpy(), 3 * primal.numpy())


def test_tangents_are_differentiable_when_the_primals_require_grad():
    """Reverse over forward: d/dx of the jvp of sin at x along t is -sin(x) t."""
    x = chainrule.tensor([0.3, 1.1], dtype=chainrule.float64, requires_grad=True)
    t = chainrule.tensor([1.0, -2.0], dtype=chainrule.float64)
    with fwAD.dual_level():
        jvp = fwAD.unpack_dual(fwAD.make_dual(x, t).sin()).tangent
    jvp.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), -np.sin([0.3, 1.1]) * np.array([1.0, -2.0]), rtol=1e-12)


def test_the_repr_of_a_dual_tensor_shows_its_tangent():
    outputs = []
    for lib, forward in ((chainrule, fwAD), (torch, torch_fwAD)):
        with forward.dual_level():
            outputs.append(repr(forward.make_dual(lib.tensor([1.0, 2.0]), lib.tensor([0.5, 0.0]))).replace("torch", "chainrule"))
    assert outputs[0] == outputs[1] == "tensor([1., 2.], tangent=tensor([0.5000, 0.0000]))"


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda lib, fw: fw.make_dual(lib.ones(2), lib.ones(2)), RuntimeError, "no level exists"),
        (lambda lib, fw: _in_level(fw, lambda: fw.make_dual(lib.ones(2), lib.ones(3))), RuntimeError, "different size"),
        (lambda lib, fw: _in_level(fw, lambda: fw.make_dual(lib.arange(2), lib.ones(2))), ValueError, "floating point"),
        (lambda lib, fw: _in_level(fw, lambda: _in_level(fw, lambda: None)), RuntimeError, "Nested forward mode AD"),
    ],
)
def test_misuse_raises_pytorchs_errors(make, error, message):
    for lib, forward in ((chainrule, fwAD), (torch, torch_fwAD)):
        with pytest.raises(error, match=message):
            make(lib, forward)


def _in_level(forward, action):
    with forward.dual_level():
        return action()


def test_a_compiled_function_runs_eagerly_while_tangents_are_about():
    @chainrule.compile
    def square(x):
        return x * x

    x = chainrule.tensor([1.0, 2.0])
    square(x)
    square(x)
    with fwAD.dual_level():
        out = square(fwAD.make_dual(x, chainrule.ones(2)))
        assert fwAD.unpack_dual(out).tangent.tolist() == [2.0, 4.0]
    assert square.eager_reason is None
    assert square(x).tolist() == [1.0, 4.0]


def test_level_attribute_and_refusals_as_pytorch():
    """(``_current_level``, which code reads to know whether forward AD is on; a dual as a tangent;
    unpacking a non-tensor; exiting no level; a gradcheck asked to check nothing)"""
    for lib in (chainrule, torch):
        forward_ad = lib.autograd.forward_ad
        assert forward_ad._current_level == -1
        with forward_ad.dual_level():
            assert forward_ad._current_level == 0
            dual = forward_ad.make_dual(lib.ones(2), lib.ones(2))
            with pytest.raises(RuntimeError, match="Setting a forward grad that itself has a forward gradient"):
                forward_ad.make_dual(lib.ones(2), dual)
            with pytest.raises(TypeError, match="must be Tensor, not int"):
                forward_ad.unpack_dual(3)
        assert forward_ad._current_level == -1
        with pytest.raises(RuntimeError, match="Dual level must be a positive number"):
            forward_ad.exit_dual_level()
        with pytest.raises(AssertionError, match="at least one of check_forward_ad or check_backward_ad"):
            lib.autograd.gradcheck(lib.sin, (lib.ones(2, dtype=lib.float64, requires_grad=True),), check_backward_ad=False)


def test_a_custom_jvp_gets_none_for_an_integer_input_as_pytorchs():
    for lib in (chainrule, torch):
        seen = []

        class Pair(lib.autograd.Function):
            @staticmethod
            def forward(x, y):
                return x.clone(), y.clone()

            @staticmethod
            def setup_context(ctx, inputs, output):
                pass

            @staticmethod
            def backward(ctx, a, b):
                return a, None

            @staticmethod
            def jvp(ctx, x_t, y_t):
                seen.append(y_t)
                return x_t * 3, None

        forward_ad = lib.autograd.forward_ad
        with forward_ad.dual_level():
            out = Pair.apply(forward_ad.make_dual(lib.tensor(2.0), lib.tensor(1.0)), lib.tensor(3))
            assert forward_ad.unpack_dual(out[0]).tangent.item() == 3.0
        assert seen == [None]


def test_a_custom_jvp_gets_none_for_a_float_input_without_tangent_after_set_materialize_grads_false():
    """The extending notes: forward-mode tangents respect ``set_materialize_grads``; with it False a
    floating input that carries no tangent gets None in ``jvp``, not zeros."""
    results = []
    for lib in (torch, chainrule):
        seen = []

        class Add(lib.autograd.Function):
            @staticmethod
            def forward(x, y):
                return x + y

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.set_materialize_grads(inputs[0].numel() > 2)  # False for the small inputs below

            @staticmethod
            def jvp(ctx, x_t, y_t):
                seen.append((x_t is None, y_t is None))
                return x_t if y_t is None else y_t if x_t is None else x_t + y_t

        forward_ad = lib.autograd.forward_ad
        x, y = lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])
        with forward_ad.dual_level():
            first = forward_ad.unpack_dual(Add.apply(forward_ad.make_dual(x, lib.ones(2)), y)).tangent.tolist()
            second = forward_ad.unpack_dual(Add.apply(x, forward_ad.make_dual(y, lib.ones(2) * 2))).tangent.tolist()
            Add.apply(forward_ad.make_dual(lib.ones(3), lib.ones(3)), lib.ones(3))  # materialized: zeros
        results.append((seen, first, second))
    assert results[1] == results[0]
    assert results[1][0] == [(False, True), (True, False), (False, False)]
