"""chainrule.compile against eager execution where the step uses HIGHER-ORDER or FUNCTIONAL
autograd inside the compiled function: gradient penalties (WGAN-GP) and input-gradient
regularization through ``autograd.grad(create_graph=True)``, Hessian-vector products,
``autograd.grad`` with ``retain_graph``/``allow_unused``/``grad_outputs``/``materialize_grads``,
``chainrule.func`` transforms (grad, vmap, jacrev, hessian, vjp, jvp, functional_call),
``autograd.functional`` (jacobian, hessian, vjp, hvp, vhp, jvp), ``backward(inputs=[...])``,
``retain_grad`` read by the caller after the call, and grad-mode nesting around ``autograd.grad``.

Each test runs the same calls from the same seed with fresh state, eagerly and compiled, and
compares results, arguments, module/optimizer state (params and grads) bit for bit through the
shared harness of test_adversarial_tensor_state.py. A compiled run may replay, record anew or
fall back to eager with at most one warning; it must never give a different result or crash.
(Plain ``autograd.grad(create_graph=True)``, ``backward(create_graph=True)`` and double
``autograd.grad`` on a linear model are already in test_adversarial_tensor_state.py.)"""
import pytest

import chainrule
from chainrule import func, nn, optim
from chainrule.autograd import functional as AF
from chainrule.nn import functional as F
from tests.compile.test_adversarial_replay import normal
from tests.compile.test_adversarial_tensor_state import Case, assert_same_as_eager

grad = chainrule.autograd.grad


def mlp():
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()


def training(loss_of, optimizer=lambda net: optim.SGD(net.parameters(), lr=0.05), model=mlp, inputs=None, after=None):
    """A Case whose step zeroes grads, takes ``(loss, *extra) = loss_of(net, x, y)``, runs
    ``loss.backward()``, steps the optimizer, and returns ``(loss.detach(), *extra)``."""

    def setup():
        net = model()
        opt = optimizer(net)

        def step(*args):
            opt.zero_grad()
            loss, *extra = loss_of(net, *args)
            loss.backward()
            opt.step()
            return (loss.detach(), *extra)

        return Case(step, lambda: [net, opt], inputs=inputs, after=after)

    return setup


def leaf_inputs(index):
    """Inputs that require grad, made fresh for each call (the same in both runs)."""
    return (normal((4, 3), 10 + index, requires_grad=True), normal((4, 2), 20 + index))


# ----------------------------------------------------------------------------- gradient penalties
def test_wgan_gp_gradient_penalty_on_random_interpolates():
    def loss_of(critic, real, fake):
        alpha = chainrule.rand(real.shape[0], 1, dtype=chainrule.float64)
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        score = critic(mixed)
        (g,) = grad(score, mixed, grad_outputs=chainrule.ones_like(score), create_graph=True, retain_graph=True)
        penalty = ((g.norm(2, dim=1) - 1) ** 2).mean()
        loss = critic(fake).mean() - critic(real).mean() + 10 * penalty
        return loss, penalty.detach()

    def critic():
        return nn.Sequential(nn.Linear(3, 6), nn.Softplus(), nn.Linear(6, 1)).double()

    inputs = lambda index: (normal((4, 3), 10 + index), normal((4, 3), 30 + index))
    assert_same_as_eager(training(loss_of, model=critic, inputs=inputs, optimizer=lambda n: optim.Adam(n.parameters(), lr=1e-2)))


def test_input_gradient_regularization_with_grad_of_a_non_scalar_output():
    def loss_of(net, x, y):
        out = net(x)
        (gx,) = grad(out, x, grad_outputs=chainrule.ones_like(out) * 0.5, create_graph=True)
        return F.mse_loss(out, y) + 0.1 * gx.pow(2).sum(), gx.detach()

    assert_same_as_eager(training(loss_of, inputs=leaf_inputs))


def test_double_backprop_through_parameter_gradients_norm():
    def loss_of(net, x, y):
        loss = F.mse_loss(net(x), y)
        grads = grad(loss, list(net.parameters()), create_graph=True)
        norm = sum(g.pow(2).sum() for g in grads)
        return loss + 0.01 * norm, norm.detach()

    assert_same_as_eager(training(loss_of))


def test_hessian_vector_product_by_double_grad():
    def setup():
        net = mlp()

        def step(x, y, v):
            params = list(net.parameters())
            loss = F.mse_loss(net(x), y)
            gs = grad(loss, params, create_graph=True)
            dot = sum((g * vi).sum() for g, vi in zip(gs, v))
            hv = grad(dot, params)
            return loss.detach(), hv

        def inputs(index):
            shapes = [p.shape for p in net.parameters()]
            return (normal((4, 3), 10 + index), normal((4, 2), 20 + index), [normal(s, 40 + index + k) for k, s in enumerate(shapes)])

        return Case(lambda x, y, v: step(x, y, v), lambda: [net], inputs=inputs)

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- autograd.grad options
def test_grad_with_retain_graph_twice_then_backward():
    def loss_of(net, x, y):
        loss = F.mse_loss(net(x), y)
        (gw,) = grad(loss, net[0].weight, retain_graph=True)
        (gb,) = grad(loss * 2, net[2].bias, retain_graph=True)
        return loss, gw, gb

    assert_same_as_eager(training(loss_of))


@pytest.mark.parametrize("materialize", [False, True])
def test_grad_allow_unused_with_an_unused_parameter(materialize):
    def loss_of(net, x, y):
        unused = net[0].bias
        loss = F.mse_loss(x @ net[0].weight.t() @ net[2].weight.t(), y)
        gw, gu = grad(loss, [net[0].weight, unused], allow_unused=True, retain_graph=True, materialize_grads=materialize)
        return loss, gw, gu

    assert_same_as_eager(training(loss_of))


def test_grad_outputs_depending_on_the_call():
    def loss_of(net, x, y):
        out = net(x)
        weights = (y - out).detach().abs()
        (gx,) = grad(out, x, grad_outputs=weights, retain_graph=True)
        return F.mse_loss(out, y), gx

    assert_same_as_eager(training(loss_of, inputs=leaf_inputs))


def test_grad_is_grads_batched():
    def setup():
        net = mlp()

        def step(x, y):
            out = net(x)
            eye = chainrule.eye(2, dtype=chainrule.float64).unsqueeze(1).expand(2, 4, 2)
            (jac,) = grad(out, x, grad_outputs=eye, is_grads_batched=True)
            return out.detach(), jac

        return Case(step, lambda: [net], inputs=leaf_inputs)

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- backward(inputs=...) and retain_grad
def test_backward_with_inputs_accumulates_only_there():
    def setup():
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward(inputs=[net[2].weight, x], retain_graph=True)
            (loss * 3).backward(inputs=[net[0].bias])
            opt.step()
            return loss.detach(), x.grad

        return Case(step, lambda: [net, opt], inputs=leaf_inputs)

    assert_same_as_eager(setup)


def test_retain_grad_on_intermediates_read_by_the_caller_after_the_call():
    def loss_of(net, x, y):
        hidden = net[1](net[0](x))
        hidden.retain_grad()
        return F.mse_loss(net[2](hidden), y), hidden

    def after(index, result):
        return result[1].grad.clone()

    assert_same_as_eager(training(loss_of, after=after))


# ----------------------------------------------------------------------------- grad-mode nesting
def test_autograd_grad_under_enable_grad_inside_no_grad():
    def setup():
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            with chainrule.no_grad():
                target = net(x) * 0.5 + y
                with chainrule.enable_grad():
                    loss = F.mse_loss(net(x), target)
                    (gx,) = grad(loss, x, create_graph=True)
                    total = loss + gx.pow(2).mean()
                total.backward()  # the graph was built under enable_grad
            opt.step()
            return total.detach(), gx.requires_grad, target.requires_grad

        return Case(step, lambda: [net, opt], inputs=leaf_inputs)

    assert_same_as_eager(setup)


def test_create_graph_under_no_grad_gives_constant_gradient():
    def setup():
        net = mlp()

        def step(x, y):
            loss = F.mse_loss(net(x), y)
            with chainrule.no_grad():
                (gx,) = grad(loss, x, create_graph=True)
            return loss.detach(), gx, gx.requires_grad

        return Case(step, lambda: [net], inputs=leaf_inputs)

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- chainrule.func
def test_func_grad_of_functional_call_as_the_update():
    def setup():
        net = mlp()

        def loss_fn(params, x, y):
            return F.mse_loss(func.functional_call(net, params, (x,)), y)

        def step(x, y):
            params = {k: v.detach() for k, v in net.named_parameters()}
            grads, loss = func.grad_and_value(loss_fn)(params, x, y)
            with chainrule.no_grad():
                for k, p in net.named_parameters():
                    p.sub_(0.05 * grads[k])
            return loss, grads

        return Case(step, lambda: [net])

    assert_same_as_eager(setup)


def test_func_vmap_of_grad_per_sample_gradients():
    def setup():
        net = mlp()

        def sample_loss(params, x, y):
            out = func.functional_call(net, params, (x.unsqueeze(0),))
            return F.mse_loss(out, y.unsqueeze(0))

        def step(x, y):
            params = {k: v.detach() for k, v in net.named_parameters()}
            per_sample = func.vmap(func.grad(sample_loss), in_dims=(None, 0, 0))(params, x, y)
            with chainrule.no_grad():
                for k, p in net.named_parameters():
                    p.sub_(0.05 * per_sample[k].clamp(-1, 1).mean(0))
            return per_sample

        return Case(step, lambda: [net])

    assert_same_as_eager(setup)


def test_func_jacrev_and_hessian_inside_the_step():
    def setup():
        net = mlp()

        def step(x, y):
            f = lambda v: net(v).tanh().sum(0)
            jac = func.jacrev(f)(x)
            hes = func.hessian(lambda v: net(v).pow(2).sum())(x[0])
            return jac, hes

        return Case(step, lambda: [net])

    assert_same_as_eager(setup)


def test_func_vjp_and_jvp_inside_the_step():
    def setup():
        net = mlp()

        def step(x, y):
            out, pullback = func.vjp(net, x)
            (vjp,) = pullback(y)
            primal, tangent = func.jvp(net, (x,), (chainrule.ones_like(x),))
            return out, vjp, primal, tangent

        return Case(step, lambda: [net])

    assert_same_as_eager(setup)


# ----------------------------------------------------------------------------- autograd.functional
@pytest.mark.parametrize("what", ["jacobian", "hessian", "vjp", "hvp", "vhp", "jvp"])
def test_autograd_functional_inside_a_training_step(what):
    def loss_of(net, x, y):
        scalar = lambda v: net(v).pow(2).sum()
        if what == "jacobian":
            extra = AF.jacobian(lambda v: net(v).sum(0), x)
        elif what == "hessian":
            extra = AF.hessian(scalar, x[0])
        elif what == "vjp":
            extra = AF.vjp(net, x, y)
        elif what == "hvp":
            extra = AF.hvp(scalar, x, chainrule.ones_like(x))
        elif what == "vhp":
            extra = AF.vhp(scalar, x, chainrule.ones_like(x))
        else:
            extra = AF.jvp(net, x, chainrule.ones_like(x))
        return F.mse_loss(net(x), y), extra

    assert_same_as_eager(training(loss_of))


def test_autograd_functional_with_create_graph_feeding_the_loss():
    def loss_of(net, x, y):
        jac = AF.jacobian(lambda v: net(v).sum(0), x, create_graph=True)
        _, hv = AF.hvp(lambda v: net(v).pow(2).sum(), x, chainrule.ones_like(x), create_graph=True)
        return F.mse_loss(net(x), y) + 0.01 * jac.pow(2).sum() + 0.01 * hv.sum(), jac.detach()

    assert_same_as_eager(training(loss_of))


# ----------------------------------------------------------------------------- higher-order only on some calls
# The first calls record a plain step; later calls take the higher-order path, decided by a global
# flag or a module attribute set between calls (read, never written, inside the step) or by a
# tensor's value. The replay must notice the change, not reuse the plain recording.
FLAGS = {"special": False}


def special_on(index):
    return index in (2, 3, 5)


@pytest.mark.parametrize("decide", ["global flag", "module attribute", "tensor value"])
def test_gradient_penalty_only_on_some_calls(decide):
    def setup():
        net = mlp()
        net.penalize = False
        opt = optim.SGD(net.parameters(), lr=0.05)

        def penalized(x):
            if decide == "global flag":
                return FLAGS["special"]
            if decide == "module attribute":
                return net.penalize
            return bool(x.sum() > 0)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            if penalized(x):
                (gx,) = grad(loss, x, create_graph=True)
                loss = loss + gx.pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach()

        def before(index):
            FLAGS["special"] = net.penalize = special_on(index)

        return Case(step, lambda: [net, opt], inputs=leaf_inputs, before=before, cleanup=lambda: FLAGS.update(special=False))

    assert_same_as_eager(setup)


@pytest.mark.parametrize("how", ["backward(inputs=...)", "retain_grad", "autograd.grad", "hvp", "func.grad"])
def test_special_backward_only_on_some_calls(how):
    def setup():
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            hidden = net[1](net[0](x))
            loss = F.mse_loss(net[2](hidden), y)
            extra = None
            if not FLAGS["special"]:
                loss.backward()
            elif how == "backward(inputs=...)":
                loss.backward(inputs=[net[2].weight])
            elif how == "retain_grad":
                hidden.retain_grad()
                loss.backward()
                extra = hidden.grad
            elif how == "autograd.grad":
                gs = grad(loss, list(net.parameters()))
                for p, g in zip(net.parameters(), gs):
                    p.grad = g * 0.5
            elif how == "hvp":
                loss.backward(retain_graph=True)
                extra = AF.hvp(lambda v: F.mse_loss(net(v), y), x, chainrule.ones_like(x))[1]
            else:
                extra = func.grad(lambda v: F.mse_loss(net(v), y))(x)
                loss.backward()
            opt.step()
            return loss.detach(), extra

        def before(index):
            FLAGS["special"] = special_on(index)

        return Case(step, lambda: [net, opt], before=before, cleanup=lambda: FLAGS.update(special=False))

    assert_same_as_eager(setup)
