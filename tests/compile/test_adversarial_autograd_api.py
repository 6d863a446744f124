"""chainrule.compile against eager execution where the compiled step uses the AUTOGRAD API itself:
``autograd.grad`` instead of backward, ``backward(inputs=...)``/``gradient=``/``retain_graph``,
``autograd.backward``, tensor hooks registered inside or outside the step (and changed by the
caller), ``retain_grad``, ``requires_grad_`` on leaves made in the step, grad-mode blocks and
decorators driven by a closure flag, ``detach``/``detach_``/``.data``, ``grad_fn`` introspection,
``autograd.functional``, custom ``autograd.Function``s, double backward, gradients accumulated
over calls and edited by the caller between calls, and autograd errors.

Each test runs the same calls from the same seed, eagerly and compiled, and compares bit for bit
every call's result (or exception type and message), the parameters and their gradients (with
None-ness), and the random stream afterwards. A compiled run may record anew or fall back to eager
with at most one warning; it must never give a different result or exception."""
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.autograd import Function
from chainrule.autograd import functional as AF
from chainrule.nn import functional as F
from tests.compile.bitwise import assert_identical

grad = chainrule.autograd.grad
CALLS = 5


# ----------------------------------------------------------------------------- harness
def arr(t):
    return np.array(t.detach().numpy(), copy=True)


def snap(obj):
    """A comparable picture of a returned value."""
    if isinstance(obj, chainrule.Tensor):
        return ("tensor", arr(obj), obj.requires_grad)
    if isinstance(obj, (list, tuple)):
        return type(obj)(snap(o) for o in obj)
    if isinstance(obj, dict):
        return {k: snap(v) for k, v in obj.items()}
    return obj


def snap_tensor(t):
    g = t.grad
    return ("tensor", arr(t), t.requires_grad, None if g is None else arr(g))


def snap_state(objects):
    out = []
    for obj in objects:
        if isinstance(obj, nn.Module):
            out.append({name: snap_tensor(p) for name, p in obj.named_parameters()})
        elif isinstance(obj, chainrule.Tensor):
            out.append(snap_tensor(obj))
        else:
            out.append(obj)
    return out


def normal(shape, seed, requires_grad=False):
    array = np.random.default_rng(seed).normal(size=shape)
    return chainrule.tensor(array, requires_grad=requires_grad)


def default_inputs(index):
    return (normal((4, 3), 100 + index), normal((4, 2), 200 + index))


def run(compiled, build, calls=CALLS):
    chainrule.manual_seed(0)
    case = build()
    step = case["step"]
    state = case.get("state", lambda: [])
    inputs = case.get("inputs", default_inputs)
    between = case.get("between")
    function = chainrule.compile(step) if compiled else step
    record = []
    kept = []
    call = case.get("call", lambda f, args: f(*args))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for index in range(calls):
            if between is not None:
                between(index)
            args = inputs(index)
            try:
                result = call(function, args)
                kept.append(result)
                record.append(("ok", snap(result)))
            except Exception as error:  # noqa: BLE001 - compared against eager
                record.append(("raised", type(error).__name__, str(error).split("\n")[0]))
            record.append(snap_state(state()))
        record.append(arr(chainrule.rand(4)))
        if "final" in case:
            record.append(snap(case["final"](kept)))
    messages = [str(w.message) for w in caught]
    return record, messages


def assert_same(build, calls=CALLS):
    eager, eager_messages = run(False, build, calls)
    compiled, messages = run(True, build, calls)
    assert len(compiled) == len(eager)
    for index, (mine, theirs) in enumerate(zip(compiled, eager)):
        assert_identical(mine, theirs, f"entry {index} (call {index // 2})")
    assert len(messages) <= len(eager_messages) + 1, messages
    return messages


def mlp():
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()


def setup_net(step_of, optimizer=None, **extra):
    """A case: ``step_of(net, opt)`` gives the step; state observed is the net."""

    def build():
        net = mlp()
        opt = optimizer(net) if optimizer else optim.SGD(net.parameters(), lr=0.1)
        case = {"step": step_of(net, opt), "state": lambda: [net]}
        case.update({k: (v(net, opt) if callable(v) and k == "between" else v) for k, v in extra.items()})
        return case

    return build


# ----------------------------------------------------------------------------- autograd.grad
def test_autograd_grad_instead_of_backward_with_manual_update():
    def step_of(net, opt):
        def step(x, y):
            loss = F.mse_loss(net(x), y)
            grads = grad(loss, list(net.parameters()))
            with chainrule.no_grad():
                for p, g in zip(net.parameters(), grads):
                    p -= 0.1 * g
            return loss.detach(), grads

        return step

    assert_same(setup_net(step_of))


def test_autograd_grad_twice_with_retain_graph_then_backward():
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            (g1,) = grad(loss, net[0].weight, retain_graph=True)
            (g2,) = grad(loss * 2, net[2].bias, retain_graph=True)
            loss.backward()
            opt.step()
            return g1, g2

        return step

    assert_same(setup_net(step_of))


@pytest.mark.parametrize("materialize", [False, True])
def test_autograd_grad_allow_unused_and_materialize(materialize):
    def build():
        w = normal((3, 2), 1, requires_grad=True)
        unused = normal((2,), 2, requires_grad=True)

        def step(x, y):
            loss = ((x @ w - y) ** 2).mean()
            gw, gu = grad(loss, [w, unused], allow_unused=True, materialize_grads=materialize)
            with chainrule.no_grad():
                w.sub_(0.1 * gw)
            return gw, gu

        return {"step": step, "state": lambda: [w, unused]}

    assert_same(build)


def test_autograd_grad_unused_without_allow_unused_raises_the_same():
    def build():
        w = normal((3, 2), 1, requires_grad=True)
        unused = normal((2,), 2, requires_grad=True)

        def step(x, y):
            loss = ((x @ w - y) ** 2).mean()
            return grad(loss, [w, unused])

        return {"step": step, "state": lambda: [w, unused]}

    assert_same(build)


def test_autograd_grad_with_grad_outputs_passed_as_argument():
    def build():
        w = normal((3, 2), 1, requires_grad=True)

        def step(x, weights):
            out = x @ w
            (gw,) = grad(out, w, grad_outputs=weights)
            with chainrule.no_grad():
                w.sub_(0.05 * gw)
            return out.detach(), gw

        return {"step": step, "state": lambda: [w]}

    assert_same(build)


# ----------------------------------------------------------------------------- backward variants
def test_backward_inputs_subset_leaves_other_grads_none():
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward(inputs=[net[0].weight, net[2].bias])
            opt.step()
            return loss.detach()

        return step

    assert_same(setup_net(step_of))


def test_backward_inputs_subset_chosen_by_closure_flag():
    flag = {"first": True}

    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            chosen = [net[0].weight] if flag["first"] else [net[2].weight]
            loss.backward(inputs=chosen)
            opt.step()
            return loss.detach()

        return step

    def between(net, opt):
        def toggle(index):
            flag["first"] = index % 2 == 0

        return toggle

    flag["first"] = True
    assert_same(setup_net(step_of, between=between))


def test_non_scalar_backward_with_gradient_argument():
    def step_of(net, opt):
        def step(x, g):
            opt.zero_grad()
            out = net(x)
            out.backward(g)
            opt.step()
            return out.detach()

        return step

    assert_same(setup_net(step_of))


def test_non_scalar_backward_without_gradient_raises_the_same():
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            net(x).backward()
            return None

        return step

    assert_same(setup_net(step_of))


def test_two_backwards_with_retain_graph_accumulate():
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward(retain_graph=True)
            (loss * 3).backward()
            opt.step()
            return loss.detach()

        return step

    assert_same(setup_net(step_of))


def test_second_backward_without_retain_graph_raises_the_same():
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            loss.backward()
            return loss.detach()

        return step

    assert_same(setup_net(step_of))


def test_autograd_backward_of_several_tensors_with_grad_tensors():
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            out = net(x)
            l1 = F.mse_loss(out, y)
            l2 = out.sum(0)
            chainrule.autograd.backward([l1, l2], [chainrule.tensor(2.0, dtype=chainrule.float64), y[0]])
            opt.step()
            return l1.detach(), l2.detach()

        return step

    assert_same(setup_net(step_of))


# ----------------------------------------------------------------------------- hooks
@pytest.mark.parametrize("kind", ["scale", "replace", "none"])
def test_hook_on_intermediate_inside_the_step(kind):
    def hook(g):
        if kind == "scale":
            return g * 3
        if kind == "replace":
            return chainrule.ones_like(g)
        return None

    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            h = net[1](net[0](x))
            h.register_hook(hook)
            loss = F.mse_loss(net[2](h), y)
            loss.backward()
            opt.step()
            return loss.detach()

        return step

    assert_same(setup_net(step_of))


def test_hook_registered_on_parameter_inside_step_and_removed():
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            handle = net[0].weight.register_hook(lambda g: g.clamp(-0.01, 0.01))
            loss = F.mse_loss(net(x), y)
            loss.backward()
            handle.remove()
            opt.step()
            return loss.detach()

        return step

    assert_same(setup_net(step_of))


def test_hook_registered_on_parameter_inside_step_never_removed_piles_up():
    # eagerly each call adds one more hook: call k scales the gradient by 2**k
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            net[0].weight.register_hook(lambda g: g * 2)
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss.detach()

        return step

    assert_same(setup_net(step_of))


def test_parameter_hook_outside_with_scale_from_closure_changed_between_calls():
    scale = {"value": 1.0}

    def step_of(net, opt):
        net[0].weight.register_hook(lambda g: g * scale["value"])

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss.detach()

        return step

    def between(net, opt):
        def change(index):
            scale["value"] = [1.0, 1.0, 0.5, 4.0, 4.0][index]

        return change

    assert_same(setup_net(step_of, between=between))


def test_parameter_hook_added_and_removed_by_caller_between_calls():
    handles = []

    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss.detach()

        return step

    def between(net, opt):
        def change(index):
            if index == 2:
                handles.append(net[2].weight.register_hook(lambda g: -g))
            if index == 4:
                handles.pop().remove()

        return change

    assert_same(setup_net(step_of, between=between))


def test_post_accumulate_grad_hook_optimizer_in_backward():
    def build():
        net = mlp()

        def update(p):
            with chainrule.no_grad():
                p.sub_(0.1 * p.grad)
            p.grad = None

        for p in net.parameters():
            p.register_post_accumulate_grad_hook(update)

        def step(x, y):
            loss = F.mse_loss(net(x), y)
            loss.backward()
            return loss.detach()

        return {"step": step, "state": lambda: [net]}

    assert_same(build)


def test_hook_counting_calls_in_a_closure_list():
    seen = []

    def build():
        seen.clear()
        net = mlp()

        def step(x, y):
            h = net(x)
            h.register_hook(lambda g: seen.append(1))
            loss = F.mse_loss(h, y)
            loss.backward()
            return loss.detach(), len(seen)

        return {"step": step, "state": lambda: [net]}

    assert_same(build)


# ----------------------------------------------------------------------------- retain_grad, requires_grad_
def test_retain_grad_on_intermediate_returned():
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            h = net[0](x)
            h.retain_grad()
            loss = F.mse_loss(net[2](net[1](h)), y)
            loss.backward()
            opt.step()
            return h.grad, h.retains_grad, h.is_leaf

        return step

    assert_same(setup_net(step_of))


def test_requires_grad_on_a_leaf_made_in_the_step():
    def build():
        def step(x, y):
            delta = chainrule.zeros(4, 3, dtype=chainrule.float64).requires_grad_()
            loss = ((x + delta) ** 2).sum()
            loss.backward()
            adv = x + 0.1 * delta.grad.sign()
            return adv, delta.grad, delta.is_leaf

        return {"step": step}

    assert_same(build)


def test_input_requires_grad_toggled_by_the_caller():
    def build():
        w = normal((3, 2), 1, requires_grad=True)

        def inputs(index):
            x, y = default_inputs(index)
            return x.requires_grad_(index % 2 == 1), y

        def step(x, y):
            loss = ((x @ w - y) ** 2).sum()
            loss.backward()
            return x.grad

        return {"step": step, "state": lambda: [w], "inputs": inputs}

    assert_same(build)


def test_parameter_frozen_by_caller_between_calls():
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss.detach()

        return step

    def between(net, opt):
        def change(index):
            net[0].weight.requires_grad_(index not in (2, 3))

        return change

    assert_same(setup_net(step_of, between=between))


# ----------------------------------------------------------------------------- grad modes
@pytest.mark.parametrize("how", ["context", "call", "decorator", "inference"])
def test_grad_mode_from_closure_flag_changing_between_calls(how):
    flag = {"on": True}

    @chainrule.no_grad()
    def frozen_part(layer, x):
        return layer(x)

    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            if how == "context":
                with chainrule.set_grad_enabled(flag["on"]):
                    h = net[0](x)
            elif how == "call":
                previous = chainrule.is_grad_enabled()
                chainrule.set_grad_enabled(flag["on"])
                h = net[0](x)
                chainrule.set_grad_enabled(previous)
            elif how == "decorator":
                h = net[0](x) if flag["on"] else frozen_part(net[0], x)
            else:
                if flag["on"]:
                    h = net[0](x)
                else:
                    with chainrule.inference_mode():
                        h = net[0](x)
                    h = h.clone()
            with chainrule.enable_grad():
                loss = F.mse_loss(net[2](net[1](h)), y)
            loss.backward()
            opt.step()
            return loss.detach(), h.requires_grad

        return step

    def between(net, opt):
        def change(index):
            flag["on"] = index in (0, 1, 4)

        return change

    assert_same(setup_net(step_of, between=between))


def test_global_grad_mode_switched_by_caller_between_calls():
    def build():
        w = normal((3, 2), 1, requires_grad=True)

        def step(x, y):
            out = x @ w
            return out, out.requires_grad

        def between(index):
            chainrule.set_grad_enabled(index % 2 == 0)

        return {"step": step, "state": lambda: [w], "between": between}

    try:
        assert_same(build)
    finally:
        chainrule.set_grad_enabled(True)


# ----------------------------------------------------------------------------- detach / data
@pytest.mark.parametrize("how", ["detach", "detach_", "data"])
def test_detached_middle(how):
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            h = net[1](net[0](x))
            if how == "detach":
                h2 = h.detach()
            elif how == "detach_":
                h2 = h * 1
                h2.detach_()
            else:
                h2 = h.data
            loss = F.mse_loss(net[2](h2), y) + 0.1 * h.pow(2).mean()
            loss.backward()
            opt.step()
            return loss.detach(), h2.requires_grad

        return step

    assert_same(setup_net(step_of))


def test_data_assigned_in_place_on_intermediate_then_backward():
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            h = net[0](x)
            h.data.clamp_(-0.5, 0.5)
            loss = F.mse_loss(net[2](net[1](h)), y)
            loss.backward()
            opt.step()
            return loss.detach()

        return step

    assert_same(setup_net(step_of))


# ----------------------------------------------------------------------------- grad_fn introspection
def test_grad_fn_name_and_next_functions_read_and_branched_on():
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            name = loss.grad_fn.name()
            count = len(loss.grad_fn.next_functions)
            if "Mse" in name or "Mean" in name:
                loss = loss * 1.5
            loss.backward()
            opt.step()
            return loss.detach(), name, count, loss.grad_fn is not None

        return step

    assert_same(setup_net(step_of))


def test_branch_on_parameter_grad_is_none_cleared_by_caller():
    def step_of(net, opt):
        def step(x, y):
            loss = F.mse_loss(net(x), y)
            first = net[0].weight.grad is None
            loss.backward()
            opt.step()
            return loss.detach(), first

        return step

    def between(net, opt):
        def change(index):
            if index in (1, 3):
                opt.zero_grad(set_to_none=True)

        return change

    assert_same(setup_net(step_of, between=between))


# ----------------------------------------------------------------------------- autograd.functional
def test_autograd_functional_jacobian_and_vjp_in_step():
    def build():
        w = normal((3, 2), 1, requires_grad=True)

        def step(x, y):
            f = lambda v: chainrule.tanh(v @ w)
            jac = AF.jacobian(f, x[0])
            out, v = AF.vjp(f, x[0], y[0])
            loss = (jac ** 2).sum() + (v ** 2).sum()
            loss.backward()
            with chainrule.no_grad():
                w.sub_(0.1 * w.grad)
                w.grad = None
            return jac, out, v

        return {"step": step, "state": lambda: [w]}

    assert_same(build)


# ----------------------------------------------------------------------------- custom Functions
class ScaledSquare(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * scale

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x * ctx.scale, None


class ArgmaxAndValue(Function):
    @staticmethod
    def forward(ctx, x):
        idx = x.argmax(dim=1)
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(x)
        return x * 1, idx

    @staticmethod
    def backward(ctx, g, g_idx):
        return g


class NeedsInputGrad(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g * b if ctx.needs_input_grad[0] else None
        gb = g * a if ctx.needs_input_grad[1] else None
        return ga, gb


class OnceClamp(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(-1, 1)

    @staticmethod
    @chainrule.autograd.function.once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ((x > -1) & (x < 1)).to(g.dtype)


class SetupCube(Function):
    @staticmethod
    def forward(x, k):
        return x ** 3 * k

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, k = inputs
        ctx.save_for_backward(x)
        ctx.k = k

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2 * ctx.k, None


@pytest.mark.parametrize("which", ["scaled", "argmax", "needs", "once", "setup"])
def test_custom_function_in_step(which):
    scale = {"value": 2.0}

    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            h = net[0](x)
            extra = None
            if which == "scaled":
                h = ScaledSquare.apply(h, scale["value"])
            elif which == "argmax":
                h, extra = ArgmaxAndValue.apply(h)
            elif which == "needs":
                h = NeedsInputGrad.apply(h, x.sum(1, keepdim=True).expand_as(h))
            elif which == "once":
                h = OnceClamp.apply(h * 2)
            else:
                h = SetupCube.apply(h, scale["value"])
            loss = F.mse_loss(net[2](net[1](h)), y)
            loss.backward()
            opt.step()
            return loss.detach(), extra

        return step

    def between(net, opt):
        def change(index):
            scale["value"] = [2.0, 2.0, 3.0, 3.0, 0.5][index]

        return change

    assert_same(setup_net(step_of, between=between))


def test_once_differentiable_double_backward_raises_the_same():
    def build():
        w = normal((3, 2), 1, requires_grad=True)

        def step(x, y):
            out = OnceClamp.apply(x @ w)
            (g,) = grad(out.sum(), w, create_graph=True)
            g.sum().backward()
            return w.grad

        return {"step": step, "state": lambda: [w]}

    assert_same(build)


# ----------------------------------------------------------------------------- double backward
def test_gradient_penalty_with_create_graph_on_parameters():
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            grads = grad(loss, list(net.parameters()), create_graph=True)
            penalty = sum((g ** 2).sum() for g in grads)
            (loss + 0.1 * penalty).backward()
            opt.step()
            return loss.detach(), penalty.detach()

        return step

    assert_same(setup_net(step_of, optimizer=lambda n: optim.Adam(n.parameters(), lr=0.01)))


def test_backward_create_graph_then_grad_of_grad():
    def build():
        w = normal((3, 2), 1, requires_grad=True)

        def step(x, y):
            loss = ((x @ w - y) ** 3).sum()
            loss.backward(create_graph=True)
            g = w.grad
            hv = grad((g * y[:3]).sum(), w)[0]
            w.grad = None
            with chainrule.no_grad():
                w.sub_(0.001 * hv)
            return hv, g.requires_grad

        return {"step": step, "state": lambda: [w]}

    assert_same(build)


# ----------------------------------------------------------------------------- accumulation and caller edits
def test_gradients_accumulate_across_calls_without_zero_grad():
    def step_of(net, opt):
        def step(x, y):
            loss = F.mse_loss(net(x), y)
            loss.backward()
            return loss.detach()

        return step

    assert_same(setup_net(step_of))


@pytest.mark.parametrize("edit", ["mul_", "zero_", "none", "replace", "data"])
def test_zero_grad_keep_then_caller_edits_grad_between_calls(edit):
    def step_of(net, opt):
        def step(x, y):
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=False)
            loss2 = F.mse_loss(net(x), y) * 0.5
            loss2.backward()
            return loss.detach(), loss2.detach()

        return step

    def between(net, opt):
        def change(index):
            if index in (2, 3):
                p = net[0].weight
                if p.grad is None:
                    return
                if edit == "mul_":
                    p.grad.mul_(-3.0)
                elif edit == "zero_":
                    p.grad.zero_()
                elif edit == "none":
                    p.grad = None
                elif edit == "replace":
                    p.grad = chainrule.ones_like(p) * 0.25
                else:
                    p.grad.data = p.grad.data * 2

        return change

    assert_same(setup_net(step_of, between=between))


def test_returned_grad_edited_in_place_by_caller():
    def build():
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad(set_to_none=False)
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return net[0].weight.grad

        def between(index):
            g = net[0].weight.grad
            if g is not None:
                g.add_(1.0)

        return {"step": step, "state": lambda: [net], "between": between}

    assert_same(build)


# ----------------------------------------------------------------------------- what the caller holds and does after the call
@pytest.mark.parametrize("set_to_none", [False, True])
def test_returned_grad_aliases_the_parameter_grad_held_by_caller(set_to_none):
    def build():
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad(set_to_none=set_to_none)
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return net[0].weight.grad, net[2].bias

        def final(kept):
            # held references, read after all calls (eagerly they follow the live tensors)
            return [(g, b, g is net[0].weight.grad, b is net[2].bias) for g, b in kept]

        return {"step": step, "state": lambda: [net], "final": final}

    assert_same(build)


def test_backward_after_the_call_through_a_graph_retained_in_the_step():
    def build():
        net = mlp()

        def step(x, y):
            loss = F.mse_loss(net(x), y)
            loss.backward(retain_graph=True)
            return loss

        def call(function, args):
            loss = function(*args)
            loss.backward()
            return loss.detach()

        return {"step": step, "state": lambda: [net], "call": call}

    assert_same(build)


def test_backward_after_the_call_through_a_returned_output():
    def build():
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.step()
            opt.zero_grad()
            return F.mse_loss(net(x), y)

        def call(function, args):
            loss = function(*args)
            loss.backward()
            return loss.detach()

        return {"step": step, "state": lambda: [net], "call": call}

    assert_same(build)


@pytest.mark.parametrize("mode", ["no_grad", "inference_mode", "enable_grad_inside"])
def test_step_called_under_a_grad_mode_on_some_calls(mode):
    def build():
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            if mode == "enable_grad_inside":
                with chainrule.enable_grad():
                    opt.zero_grad()
                    loss = F.mse_loss(net(x), y)
                    loss.backward()
                    opt.step()
                    return loss.detach(), loss.requires_grad
            out = net(x)
            return out, out.requires_grad

        def call(function, args):
            if args[0][0, 0].item() and len(call.seen) % 2 == 1:
                call.seen.append(1)
                manager = chainrule.inference_mode() if mode == "inference_mode" else chainrule.no_grad()
                with manager:
                    result = function(*args)
                return result, result[0].is_inference() if mode == "inference_mode" else None
            call.seen.append(1)
            return function(*args), None

        call.seen = []
        return {"step": step, "state": lambda: [net], "call": call}

    assert_same(build)


def test_anomaly_detection_switched_on_by_the_caller_with_a_nan_gradient():
    def build():
        w = chainrule.tensor(np.array([1.0, 0.0, 2.0]), requires_grad=True)

        def step(x, y):
            loss = chainrule.sqrt(w * w).sum()  # d/dw at 0: nan
            loss.backward()
            g = w.grad
            w.grad = None
            return loss.detach(), g

        def between(index):
            chainrule.autograd.set_detect_anomaly(index >= 2)

        return {"step": step, "state": lambda: [w], "between": between}

    try:
        assert_same(build)
    finally:
        chainrule.autograd.set_detect_anomaly(False)


# ----------------------------------------------------------------------------- custom Functions reading outside state
SCALE_IN_BACKWARD = 1.0


class GlobalScaledBackward(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        return g * SCALE_IN_BACKWARD


class CountingBackward(Function):
    calls = 0

    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        CountingBackward.calls += 1
        return g * CountingBackward.calls


@pytest.mark.parametrize("which", ["global", "counter"])
def test_custom_function_backward_reads_outside_state(which):
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            h = net[0](x)
            h = GlobalScaledBackward.apply(h) if which == "global" else CountingBackward.apply(h)
            loss = F.mse_loss(net[2](net[1](h)), y)
            loss.backward()
            opt.step()
            return loss.detach()

        return step

    def between(net, opt):
        def change(index):
            global SCALE_IN_BACKWARD
            if index == 0:
                CountingBackward.calls = 0
            SCALE_IN_BACKWARD = [1.0, 1.0, 3.0, 3.0, -1.0][index]

        return change

    try:
        assert_same(setup_net(step_of, between=between))
    finally:
        globals()["SCALE_IN_BACKWARD"] = 1.0


class DirtyScale(Function):
    @staticmethod
    def forward(ctx, x):
        x.mul_(2)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_custom_function_mark_dirty_in_place():
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            h = net[0](x) * 1
            h = DirtyScale.apply(h)
            loss = F.mse_loss(net[2](net[1](h)), y)
            loss.backward()
            opt.step()
            return loss.detach(), h.grad_fn is not None

        return step

    assert_same(setup_net(step_of))


def test_autograd_backward_with_inputs_and_grad_tensors():
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            out = net(x)
            chainrule.autograd.backward(out, grad_tensors=y, inputs=[net[2].weight])
            opt.step()
            return out.detach()

        return step

    assert_same(setup_net(step_of))


# ----------------------------------------------------------------------------- custom Functions: ctx state, randomness, aliasing
class FlagOnSomeCalls(Function):
    """forward sets ``ctx.flag`` only when its Python argument says so; backward reads it with a default."""

    @staticmethod
    def forward(ctx, x, flagged):
        if flagged:
            ctx.flag = True
        return x * 1

    @staticmethod
    def backward(ctx, g):
        return g * (3.0 if getattr(ctx, "flag", False) else 1.0), None


class SavesOnSomeCalls(Function):
    @staticmethod
    def forward(ctx, x, keep):
        if keep:
            ctx.save_for_backward(x)
        return x * 2

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved_tensors
        return (g * 2 + saved[0] if saved else g * 2), None


class NoisyBackward(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        return g + 0.01 * chainrule.randn_like(g)


class ReturnsItsInput(Function):
    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, g):
        return g * 2


class NoisyForward(Function):
    @staticmethod
    def forward(ctx, x):
        noise = chainrule.rand_like(x)
        ctx.save_for_backward(noise)
        return x * noise

    @staticmethod
    def backward(ctx, g):
        (noise,) = ctx.saved_tensors
        return g * noise


@pytest.mark.parametrize("which", ["flag", "saves", "noisy_backward", "returns_input", "noisy_forward"])
def test_custom_function_ctx_and_random_state(which):
    pattern = {"on": True}

    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            h = net[0](x)
            if which == "flag":
                h = FlagOnSomeCalls.apply(h, pattern["on"])
            elif which == "saves":
                h = SavesOnSomeCalls.apply(h, pattern["on"])
            elif which == "noisy_backward":
                h = NoisyBackward.apply(h)
            elif which == "returns_input":
                h = ReturnsItsInput.apply(h)
            else:
                h = NoisyForward.apply(h)
            loss = F.mse_loss(net[2](net[1](h)), y)
            loss.backward()
            opt.step()
            return loss.detach()

        return step

    def between(net, opt):
        def change(index):
            pattern["on"] = index in (0, 2, 3)

        return change

    assert_same(setup_net(step_of, between=between))


# ----------------------------------------------------------------------------- global autograd state left changed by the step
@pytest.mark.parametrize("leak", ["grad_off", "anomaly_on"])
def test_step_leaves_global_autograd_state_changed(leak):
    def build():
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            chainrule.set_grad_enabled(True)
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            if leak == "grad_off":
                chainrule.set_grad_enabled(False)
            else:
                chainrule.autograd.set_detect_anomaly(True)
            return loss.detach()

        def state():
            return [net, chainrule.is_grad_enabled(), chainrule.autograd.is_anomaly_enabled()]

        return {"step": step, "state": state}

    try:
        assert_same(build)
    finally:
        chainrule.set_grad_enabled(True)
        chainrule.autograd.set_detect_anomaly(False)


def test_argument_leaf_accumulates_grad_across_calls():
    delta = {}

    def build():
        delta["t"] = chainrule.zeros(4, 3, dtype=chainrule.float64, requires_grad=True)
        w = normal((3, 2), 1)

        def inputs(index):
            x, y = default_inputs(index)
            return x, y, delta["t"]

        def step(x, y, d):
            loss = (((x + d) @ w - y) ** 2).sum()
            loss.backward()
            return d.grad

        def final(kept):
            return [(g, g is delta["t"].grad) for g in kept]

        return {"step": step, "state": lambda: [delta["t"]], "inputs": inputs, "final": final}

    assert_same(build)


def test_saved_tensors_hooks_in_step():
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            with chainrule.autograd.graph.saved_tensors_hooks(lambda t: t * 2, lambda t: t / 2):
                loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss.detach()

        return step

    assert_same(setup_net(step_of))


class ItemInForward(Function):
    @staticmethod
    def forward(ctx, x):
        positive = x.sum().item() > 0
        ctx.positive = positive
        return x * (2.0 if positive else -1.0)

    @staticmethod
    def backward(ctx, g):
        return g * (2.0 if ctx.positive else -1.0)


def test_custom_function_reading_a_value_into_python_in_forward():
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            h = ItemInForward.apply(net[0](x))
            loss = F.mse_loss(net[2](net[1](h)), y)
            loss.backward()
            opt.step()
            return loss.detach()

        return step

    def inputs(index):
        x, y = default_inputs(index)
        return (x if index % 2 == 0 else -x - 3), y

    assert_same(setup_net(step_of, inputs=inputs))


class FlagWhenPositive(Function):
    """forward sets ``ctx.flag`` only when the values say so (a value read into Python inside a
    custom forward); backward reads it with a default, as a fresh eager ctx would give."""

    @staticmethod
    def forward(ctx, x):
        if x.sum().item() > 0:
            ctx.flag = True
        return x * 1

    @staticmethod
    def backward(ctx, g):
        return g * (3.0 if getattr(ctx, "flag", False) else 1.0)


class SavesWhenPositive(Function):
    @staticmethod
    def forward(ctx, x):
        if x.sum().item() > 0:
            ctx.save_for_backward(x)
        return x * 2

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved_tensors
        return g * 2 + saved[0] if saved else g * 2


@pytest.mark.parametrize("which", [FlagWhenPositive, SavesWhenPositive])
def test_custom_function_ctx_state_set_on_some_calls_by_values(which):
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            h = which.apply(net[0](x))
            loss = F.mse_loss(net[2](net[1](h)), y)
            loss.backward()
            opt.step()
            return loss.detach()

        return step

    def inputs(index):
        x, y = default_inputs(index)
        # the sign of the hidden pre-activation's sum: positive on calls 0 and 2, negative otherwise
        return (x + 20 if index in (0, 2) else x - 20), y

    assert_same(setup_net(step_of, inputs=inputs))


class GradModeInBackward(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        return g * (2.0 if chainrule.is_grad_enabled() else 1.0)


class GradModeInForward(Function):
    @staticmethod
    def forward(ctx, x):
        return x * (2.0 if chainrule.is_grad_enabled() else 1.0)

    @staticmethod
    def backward(ctx, g):
        return g


class RequiresGradInForward(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.factor = 2.0 if x.requires_grad else 1.0
        return x * ctx.factor

    @staticmethod
    def backward(ctx, g):
        return g * ctx.factor


class GradOfInputInBackward(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.is_leaf = x.is_leaf
        ctx.has_history = x.grad_fn is not None
        return x * 1

    @staticmethod
    def backward(ctx, g):
        return g * (1.0 + ctx.is_leaf + 2 * ctx.has_history)


class ListOfTensorsArgument(Function):
    @staticmethod
    def forward(ctx, x, extras):
        (w,) = extras
        ctx.save_for_backward(w)
        return x * w.sum()

    @staticmethod
    def backward(ctx, g):
        (w,) = ctx.saved_tensors
        return g * w.sum(), None


REPLAYED_FORWARD_INPUTS = (
    "known limit: a replayed custom Function.forward gets its tensor inputs rebuilt from arrays (grad "
    "mode off and requires_grad as eagerly, but is_leaf True and grad_fn None: their history is not "
    "replayed), so a forward that branches on x.is_leaf / x.grad_fn computes otherwise, with no warning"
)


@pytest.mark.parametrize(
    "which",
    [
        "grad_mode_backward",
        "grad_mode_forward",
        "requires_grad_forward",
        pytest.param("history_forward", marks=pytest.mark.xfail(strict=True, reason=REPLAYED_FORWARD_INPUTS)),
        "list_argument",
    ],
)
def test_custom_function_reading_autograd_state_of_its_inputs(which):
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            h = net[0](x)
            if which == "grad_mode_backward":
                h = GradModeInBackward.apply(h)
            elif which == "grad_mode_forward":
                h = GradModeInForward.apply(h)
            elif which == "requires_grad_forward":
                h = RequiresGradInForward.apply(h)
            elif which == "history_forward":
                h = GradOfInputInBackward.apply(h)
            else:
                h = ListOfTensorsArgument.apply(h, [net[2].bias])
            loss = F.mse_loss(net[2](net[1](h)), y)
            loss.backward()
            opt.step()
            return loss.detach()

        return step

    assert_same(setup_net(step_of))


class TwinGradient(Function):
    """backward hands the same gradient object to both inputs."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class TwoOutputsNoMaterialize(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, g1, g2):
        out = g1 * 2 if g1 is not None else 0.0
        if g2 is not None:
            out = out + g2 * 3
        return out if not isinstance(out, float) else None


@pytest.mark.parametrize("how", ["custom_twin", "builtin_add", "identity_views"])
@pytest.mark.parametrize("zero", [False, True])
def test_one_gradient_shared_by_two_leaves_accumulated(how, zero):
    def build():
        a = normal((2, 3), 1, requires_grad=True)
        b = normal((2, 3), 2, requires_grad=True)

        def step(x, y):
            if zero:
                a.grad = None
                b.grad = None
            if how == "custom_twin":
                s = TwinGradient.apply(a, b)
            elif how == "builtin_add":
                s = a + b
            else:
                s = a.view(2, 3) + b.reshape(2, 3)
            loss = (s * x[:2]).sum()
            loss.backward()
            return loss.detach()

        def between(index):
            if index == 3 and a.grad is not None:
                a.grad.mul_(0.5)

        return {"step": step, "state": lambda: [a, b], "between": between}

    assert_same(build)


def test_custom_function_without_materialized_grads_one_output_unused():
    def step_of(net, opt):
        def step(x, y):
            opt.zero_grad()
            h2, h3 = TwoOutputsNoMaterialize.apply(net[0](x))
            loss = F.mse_loss(net[2](net[1](h2)), y)
            loss.backward()
            opt.step()
            return loss.detach(), h3.detach()

        return step

    assert_same(setup_net(step_of))


def test_custom_function_needs_input_grad_with_a_tensor_frozen_by_the_caller():
    def build():
        a = normal((4, 3), 1, requires_grad=True)
        b = normal((4, 3), 2, requires_grad=True)

        def step(x, y):
            loss = (NeedsInputGrad.apply(a, b) * x).sum()
            loss.backward()
            with chainrule.no_grad():
                for t in (a, b):
                    if t.grad is not None:
                        t.sub_(0.1 * t.grad)
                        t.grad = None
            return loss.detach()

        def between(index):
            b.requires_grad_(index not in (2, 3))

        return {"step": step, "state": lambda: [a, b], "between": between}

    assert_same(build)
