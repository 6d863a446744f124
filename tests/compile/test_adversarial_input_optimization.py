"""chainrule.compile against eager execution where the compiled function differentiates with
respect to its INPUTS, or optimizes an input rather than weights: FGSM and PGD attacks (several
steps in one call, or one step per call with the adversarial tensor carried by the caller),
saliency maps, integrated gradients, SmoothGrad, style transfer of an image optimized by Adam
against a frozen model with a total-variation loss, deep-dream gradient ascent through ``.data``,
physics-informed losses with ``create_graph=True`` derivatives with respect to the input, WGAN-GP's
gradient penalty, inputs created inside the step or passed in, ``x.grad`` accumulating between
calls or cleared.

Each test runs one workflow from the same seeds eagerly
and compiled, over several calls with changing values, and compares bit for bit what the calls
return, the inputs and their grads, the parameters, grads and optimizer state, the buffers and the
random stream. A compiled run may fall back to eager with at most one warning, never give another
result. Where the workflow uses no random numbers, the eager run is also compared with PyTorch.
"""
import math
import warnings

import numpy as np
import pytest

import chainrule
from tests.compile.bitwise import assert_identical

real_torch = pytest.importorskip("torch")

CALLS = 5
FALLBACKS = {}


# ----------------------------------------------------------------------------- the harness
def arr(value):
    """Tensors (either library) as NumPy copies, recursively; None and plain values stay."""
    if isinstance(value, (chainrule.Tensor, real_torch.Tensor)):
        return np.array(value.detach().numpy(), copy=True)
    if isinstance(value, dict):
        return {key: arr(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(arr(item) for item in value)
    return value


def data(index, shape, low=None):
    values = np.random.RandomState(1000 + index).standard_normal(shape)
    if low is not None:  # images in [0, 1]
        values = 1.0 / (1.0 + np.exp(-values))
    return values


def labels(index, count, classes=3):
    return np.random.RandomState(2000 + index).randint(0, classes, size=count)


def set_weights(lib, module, seed):
    rs = np.random.RandomState(seed)
    with lib.no_grad():
        for p in module.parameters():
            p.copy_(lib.tensor(rs.standard_normal(tuple(p.shape)) * 0.4))


def mlp(lib, sizes=(4, 8, 3), seed=0):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [lib.nn.Linear(a, b), lib.nn.Tanh()]
    net = lib.nn.Sequential(*layers[:-1]).double()
    set_weights(lib, net, seed)
    return net


def convnet(lib, seed=0, norm=True):
    nn = lib.nn
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4) if norm else nn.Identity(), nn.ReLU(),
        nn.Conv2d(4, 5, 3, padding=1), nn.Tanh(), nn.Flatten(), nn.Dropout(0.5), nn.Linear(5 * 5 * 5, 3),
    ).double()
    set_weights(lib, net, seed)
    return net


def model_state(net, opt=None):
    found = {
        "params": {n: arr(p) for n, p in net.named_parameters()},
        "grads": {n: arr(p.grad) for n, p in net.named_parameters()},
        "buffers": {n: arr(b) for n, b in net.named_buffers()},
    }
    if opt is not None:
        found["opt"] = [arr(s) for s in opt.state_dict()["state"].values()]
    return found


def leaf(x):
    """What the caller can see of a tensor it holds."""
    return {"value": arr(x), "grad": arr(x.grad), "requires_grad": x.requires_grad, "is_leaf": x.is_leaf}


def run(scenario, lib=chainrule, compiled=False):
    made = []

    def wrap(function):
        if not compiled:
            return function
        function = chainrule.compile(function)
        made.append(function)
        return function

    lib.manual_seed(0)
    np.random.seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        observed = scenario(lib, wrap)
    if lib is chainrule:
        observed = {"observed": observed, "stream": arr(chainrule.rand(4))}
    fallbacks = [str(w.message) for w in caught if str(w.message).startswith("chainrule.compile")]
    return observed, fallbacks, [f.eager_reason for f in made]


def same_as_eager(scenario, name):
    eager, eager_fallbacks, _ = run(scenario)
    assert not eager_fallbacks
    compiled, fallbacks, reasons = run(scenario, compiled=True)
    assert len(fallbacks) <= 1, fallbacks
    FALLBACKS[name] = [r for r in reasons if r is not None]
    if FALLBACKS[name]:
        print(f"\nEAGER FALLBACK {name}: {FALLBACKS[name]}")
    assert_identical(compiled, eager, "compiled against eager")
    return eager


def close(ours, theirs, where="result"):
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray) and ours.shape == theirs.shape, f"{where}: {ours!r} against {theirs!r}"
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9, err_msg=where)
    elif isinstance(theirs, dict):
        assert set(ours) == set(theirs), where
        for key in theirs:
            close(ours[key], theirs[key], f"{where}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), f"{where}: {ours!r} against {theirs!r}"
        for index, (a, b) in enumerate(zip(ours, theirs)):
            close(a, b, f"{where}[{index}]")
    elif isinstance(theirs, float):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9, err_msg=where)
    else:
        assert ours == theirs, f"{where}: {ours!r} against {theirs!r}"


def same_as_pytorch(scenario, eager):
    theirs, _, _ = run(scenario, lib=real_torch)
    close(eager["observed"], theirs, "chainrule eager against PyTorch")


def check(scenario, name, pytorch=True):
    eager = same_as_eager(scenario, name)
    if pytorch:
        same_as_pytorch(scenario, eager)


# ----------------------------------------------------------------------------- FGSM
@pytest.mark.parametrize("origin", ["argument requires_grad_", "clone inside", "created inside"])
def test_fgsm_then_adversarial_training(origin):
    def scenario(lib, wrap):
        F = lib.nn.functional
        net = mlp(lib)
        opt = lib.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x, y, eps):
            if origin == "argument requires_grad_":
                x.requires_grad_(True)
            elif origin == "clone inside":
                x = x.clone().detach().requires_grad_(True)
            else:
                x = lib.tensor(x.numpy() * 1.0, requires_grad=True)
            loss = F.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            x_adv = lib.clamp(x + eps * x.grad.sign(), 0, 1).detach()
            opt.zero_grad()
            adv_loss = F.cross_entropy(net(x_adv), y)
            adv_loss.backward()
            opt.step()
            return loss, adv_loss, x_adv, x.grad

        step = wrap(step)
        seen = []
        for i in range(CALLS):
            x = lib.tensor(data(i, (6, 4), low=0))
            out = step(x, lib.tensor(labels(i, 6)), lib.tensor(0.05 * (i + 1), dtype=lib.float64))
            seen.append([arr(out), leaf(x), model_state(net, opt)])
        return seen

    check(scenario, f"fgsm {origin}")


def test_fgsm_with_autograd_grad_and_eps_as_closure_float():
    """autograd.grad instead of backward; eps read from a Python list the caller changes."""
    def scenario(lib, wrap):
        F = lib.nn.functional
        net = convnet(lib)
        net.eval()
        eps = [0.03]

        def attack(x, y):
            x = x.detach().requires_grad_(True)
            loss = F.cross_entropy(net(x), y)
            (g,) = lib.autograd.grad(loss, x)
            return lib.clamp(x + eps[0] * g.sign(), 0, 1).detach(), g, loss

        attack = wrap(attack)
        seen = []
        for i in range(CALLS):
            eps[0] = 0.03 * (1 + i % 2)
            out = attack(lib.tensor(data(i, (2, 3, 5, 5), low=0)), lib.tensor(labels(i, 2)))
            seen.append([arr(out), model_state(net)])
        return seen

    check(scenario, "fgsm autograd.grad conv")


# ----------------------------------------------------------------------------- PGD
@pytest.mark.parametrize("clear", ["zero_", "None", "rebuild"])
def test_pgd_loop_inside_one_call(clear):
    def scenario(lib, wrap):
        F = lib.nn.functional
        net = mlp(lib)
        eps, alpha = 0.1, 0.03

        def pgd(x, y):
            x_adv = x.clone().detach().requires_grad_(True)
            losses = []
            for _ in range(4):
                loss = F.cross_entropy(net(x_adv), y)
                loss.backward()
                losses.append(loss.detach())
                if clear == "rebuild":
                    x_adv = x_adv.detach() + alpha * x_adv.grad.sign()
                    x_adv = lib.max(lib.min(x_adv, x + eps), x - eps).clamp(0, 1).detach().requires_grad_(True)
                    continue
                with lib.no_grad():
                    x_adv += alpha * x_adv.grad.sign()
                    x_adv.copy_(lib.max(lib.min(x_adv, x + eps), x - eps))
                    x_adv.clamp_(0, 1)
                if clear == "zero_":
                    x_adv.grad.zero_()
                else:
                    x_adv.grad = None
            return x_adv, lib.stack(losses)

        pgd = wrap(pgd)
        seen = []
        for i in range(CALLS):
            out = pgd(lib.tensor(data(i, (5, 4), low=0)), lib.tensor(labels(i, 5)))
            seen.append([arr(out), leaf(out[0]), model_state(net)])
        return seen

    check(scenario, f"pgd inside {clear}")


def test_pgd_random_start_inside_one_call():
    def scenario(lib, wrap):
        F = lib.nn.functional
        net = mlp(lib)
        eps = 0.1

        def pgd(x, y):
            x_adv = (x + lib.empty_like(x).uniform_(-eps, eps)).clamp(0, 1).detach()
            for _ in range(3):
                x_adv.requires_grad_(True)
                (g,) = lib.autograd.grad(F.cross_entropy(net(x_adv), y), x_adv)
                x_adv = lib.max(lib.min(x_adv.detach() + 0.02 * g.sign(), x + eps), x - eps)
            return x_adv

        pgd = wrap(pgd)
        return [arr(pgd(lib.tensor(data(i, (5, 4), low=0)), lib.tensor(labels(i, 5)))) for i in range(CALLS)]

    check(scenario, "pgd random start", pytorch=False)


@pytest.mark.parametrize("clear", ["zero_ inside", "None inside", "caller zero_", "accumulate"])
def test_pgd_one_step_per_call_tensor_carried_by_caller(clear):
    def scenario(lib, wrap):
        F = lib.nn.functional
        net = mlp(lib)
        eps, alpha = 0.2, 0.04

        def pgd_step(x_adv, x, y):
            loss = F.cross_entropy(net(x_adv), y)
            loss.backward()
            with lib.no_grad():
                x_adv.add_(alpha * x_adv.grad.sign())
                x_adv.copy_(lib.max(lib.min(x_adv, x + eps), x - eps))
            if clear == "zero_ inside":
                x_adv.grad.zero_()
            elif clear == "None inside":
                x_adv.grad = None
            return loss

        pgd_step = wrap(pgd_step)
        x = lib.tensor(data(0, (5, 4), low=0))
        y = lib.tensor(labels(0, 5))
        x_adv = x.clone().requires_grad_(True)
        seen = []
        for i in range(CALLS + 1):
            loss = pgd_step(x_adv, x, y)
            seen.append([arr(loss), leaf(x_adv), model_state(net)])
            if clear == "caller zero_":
                x_adv.grad.zero_()
        return seen

    check(scenario, f"pgd per call {clear}")


def test_pgd_one_step_per_call_returns_the_next_leaf():
    def scenario(lib, wrap):
        F = lib.nn.functional
        net = mlp(lib)

        def pgd_step(x_adv, x, y):
            loss = F.cross_entropy(net(x_adv), y)
            (g,) = lib.autograd.grad(loss, x_adv)
            nxt = lib.max(lib.min(x_adv + 0.05 * g.sign(), x + 0.1), x - 0.1)
            return nxt.detach().requires_grad_(True), loss

        pgd_step = wrap(pgd_step)
        seen = []
        for batch in range(2):
            x = lib.tensor(data(batch, (5, 4), low=0))
            y = lib.tensor(labels(batch, 5))
            x_adv = x.clone().requires_grad_(True)
            for i in range(3):
                x_adv, loss = pgd_step(x_adv, x, y)
                seen.append([arr(loss), leaf(x_adv)])
        return seen

    check(scenario, "pgd returns next leaf")


# ----------------------------------------------------------------------------- attributions
def test_saliency_map_abs_max_over_channels():
    def scenario(lib, wrap):
        net = convnet(lib)
        net.eval()

        def saliency(x, target):
            x = x.requires_grad_()
            scores = net(x)
            score = scores.gather(1, target.view(-1, 1)).sum()
            (g,) = lib.autograd.grad(score, x)
            values, indices = g.abs().max(dim=1)
            return values, indices, scores.argmax(1)

        saliency = wrap(saliency)
        seen = []
        for i in range(CALLS):
            x = lib.tensor(data(i, (2, 3, 5, 5), low=0))
            seen.append([arr(saliency(x, lib.tensor(labels(i, 2)))), leaf(x), model_state(net)])
        return seen

    check(scenario, "saliency")


@pytest.mark.parametrize("steps", [5, 8])
def test_integrated_gradients_with_linspace_path(steps):
    def scenario(lib, wrap):
        net = mlp(lib, sizes=(4, 6, 3))

        def integrated(x, baseline, target):
            alphas = lib.linspace(0, 1, steps, dtype=lib.float64).view(-1, 1)
            path = (baseline + alphas * (x - baseline)).requires_grad_(True)
            out = net(path)[:, target].sum()
            out.backward()
            avg = (path.grad[:-1] + path.grad[1:]).mul(0.5).mean(dim=0)
            return (x - baseline) * avg, path.grad

        integrated = wrap(integrated)
        seen = []
        for i in range(CALLS):
            x = lib.tensor(data(i, (4,), low=0))
            base = lib.zeros(4, dtype=lib.float64) if i % 2 else lib.full((4,), 0.5, dtype=lib.float64)
            seen.append([arr(integrated(x, base, i % 3)), model_state(net)])
        return seen

    check(scenario, f"integrated gradients {steps}")


@pytest.mark.parametrize("accumulate", ["backward accumulates", "autograd.grad sum"])
def test_smoothgrad_with_randn_like(accumulate):
    def scenario(lib, wrap):
        net = mlp(lib)

        def smooth(x, target):
            total = lib.zeros_like(x)
            xs = []
            for _ in range(4):
                noisy = (x + 0.1 * lib.randn_like(x)).detach().requires_grad_(True)
                score = net(noisy)[:, target].sum()
                if accumulate == "backward accumulates":
                    score.backward()
                    total = total + noisy.grad
                else:
                    total = total + lib.autograd.grad(score, noisy)[0]
                xs.append(noisy)
            return total / 4, xs[-1].grad

        smooth = wrap(smooth)
        seen = []
        for i in range(CALLS):
            seen.append([arr(smooth(lib.tensor(data(i, (3, 4), low=0)), 1 + i % 2)), model_state(net)])
        return seen

    check(scenario, f"smoothgrad {accumulate}", pytorch=False)


# ----------------------------------------------------------------------------- image optimization
def gram(f):
    b, c, h, w = f.shape
    f = f.view(b * c, h * w)
    return f @ f.t() / (b * c * h * w)


def total_variation(img):
    return (img[:, :, 1:, :] - img[:, :, :-1, :]).abs().mean() + (img[:, :, :, 1:] - img[:, :, :, :-1]).abs().mean()


@pytest.mark.parametrize("kind", ["Parameter", "leaf tensor"])
def test_style_transfer_image_optimized_by_adam(kind):
    def scenario(lib, wrap):
        F = lib.nn.functional
        net = convnet(lib)
        for p in net.parameters():
            p.requires_grad_(False)
        net.eval()
        features = net[:5]
        content = lib.tensor(data(0, (1, 3, 5, 5), low=0))
        style = lib.tensor(data(1, (1, 3, 5, 5), low=0))
        with lib.no_grad():
            style_grams = [gram(features[:3](style)), gram(features(style))]
            content_feat = features(content)
        if kind == "Parameter":
            image = lib.nn.Parameter(content.clone())
        else:
            image = content.clone().requires_grad_(True)
        opt = lib.optim.Adam([image], lr=0.05)

        def step(tv_weight):
            opt.zero_grad()
            f1 = features[:3](image)
            f2 = features[3:](f1)
            style_loss = F.mse_loss(gram(f1), style_grams[0]) + F.mse_loss(gram(f2), style_grams[1])
            loss = 1e3 * style_loss + F.mse_loss(f2, content_feat) + tv_weight * total_variation(image)
            loss.backward()
            opt.step()
            with lib.no_grad():
                image.clamp_(0, 1)
            return loss

        step = wrap(step)
        seen = []
        for i in range(CALLS + 1):
            loss = step(lib.tensor(0.1 * (1 + i % 3), dtype=lib.float64))
            seen.append([arr(loss), leaf(image), model_state(net, opt)])
        return seen

    check(scenario, f"style transfer {kind}")


@pytest.mark.parametrize("clear", ["grad.data.zero_", "grad None", "accumulate"])
def test_deep_dream_gradient_ascent_through_data(clear):
    def scenario(lib, wrap):
        net = convnet(lib, norm=False)
        for p in net.parameters():
            p.requires_grad_(False)
        net.eval()
        x = lib.tensor(data(3, (1, 3, 5, 5), low=0), requires_grad=True)

        def dream(lr):
            act = net[:4](x)
            loss = act.pow(2).mean()
            loss.backward()
            x.data += lr * x.grad / x.grad.abs().mean()
            if clear == "grad.data.zero_":
                x.grad.data.zero_()
            elif clear == "grad None":
                x.grad = None
            return loss

        dream = wrap(dream)
        seen = []
        for i in range(CALLS + 1):
            seen.append([arr(dream(0.01 * (1 + i % 2))), leaf(x)])
        return seen

    check(scenario, f"deep dream {clear}")


# ----------------------------------------------------------------------------- input derivatives
@pytest.mark.parametrize("points", ["linspace inside", "passed in"])
def test_physics_informed_second_derivative(points):
    def scenario(lib, wrap):
        net = mlp(lib, sizes=(1, 8, 8, 1))
        opt = lib.optim.Adam(net.parameters(), lr=0.01)

        def step(x=None):
            if x is None:
                x = lib.linspace(0, 1, 7, dtype=lib.float64).view(-1, 1).requires_grad_(True)
            u = net(x)
            u_x = lib.autograd.grad(u, x, lib.ones_like(u), create_graph=True)[0]
            u_xx = lib.autograd.grad(u_x, x, lib.ones_like(u_x), create_graph=True)[0]
            residual = u_xx + math.pi ** 2 * lib.sin(math.pi * x)
            ends = net(lib.tensor([[0.0], [1.0]], dtype=lib.float64))
            loss = residual.pow(2).mean() + ends.pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, u_x, u_xx

        step = wrap(step)
        seen = []
        for i in range(CALLS):
            if points == "passed in":
                x = lib.tensor(np.sort(np.random.RandomState(i).rand(6, 1), axis=0), requires_grad=True)
                out = step(x)
                seen.append(leaf(x))
            else:
                out = step()
            seen.append([arr(out), model_state(net, opt)])
        return seen

    check(scenario, f"pinn {points}")


def test_physics_informed_heat_equation_two_input_columns():
    """u(t, x): u_t and u_xx from one input tensor, columns picked after the first grad."""
    def scenario(lib, wrap):
        net = mlp(lib, sizes=(2, 6, 1))
        opt = lib.optim.SGD(net.parameters(), lr=0.05)

        def step(tx):
            tx = tx.clone().requires_grad_(True)
            u = net(tx)
            du = lib.autograd.grad(u.sum(), tx, create_graph=True)[0]
            u_t, u_x = du[:, 0:1], du[:, 1:2]
            u_xx = lib.autograd.grad(u_x.sum(), tx, create_graph=True)[0][:, 1:2]
            loss = (u_t - 0.1 * u_xx).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        step = wrap(step)
        return [[arr(step(lib.tensor(data(i, (5, 2), low=0)))), model_state(net, opt)] for i in range(CALLS)]

    check(scenario, "pinn heat")


@pytest.mark.parametrize("alpha_from", ["argument", "torch.rand inside"])
def test_wgan_gradient_penalty_on_interpolates(alpha_from):
    def scenario(lib, wrap):
        critic = mlp(lib, sizes=(4, 8, 1))
        opt = lib.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))

        def step(real, fake, alpha=None):
            if alpha is None:
                alpha = lib.rand(real.size(0), 1, dtype=lib.float64)
            interp = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
            d = critic(interp)
            g = lib.autograd.grad(d, interp, grad_outputs=lib.ones_like(d), create_graph=True, retain_graph=True)[0]
            gp = ((g.norm(2, dim=1) - 1) ** 2).mean()
            loss = critic(fake).mean() - critic(real).mean() + 10 * gp
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, gp, interp.grad

        step = wrap(step)
        seen = []
        for i in range(CALLS):
            real, fake = lib.tensor(data(i, (4, 4))), lib.tensor(data(i + 50, (4, 4)))
            if alpha_from == "argument":
                out = step(real, fake, lib.tensor(np.random.RandomState(i).rand(4, 1)))
            else:
                out = step(real, fake)
            seen.append([arr(out), model_state(critic, opt)])
        return seen

    check(scenario, f"wgan-gp {alpha_from}", pytorch=alpha_from == "argument")


# ----------------------------------------------------------------------------- x.grad across calls
@pytest.mark.parametrize("policy", ["accumulate", "zero_ if present", "caller clears on call 2", "caller steps x"])
def test_input_grad_left_populated_between_calls(policy):
    def scenario(lib, wrap):
        net = mlp(lib)
        x = lib.tensor(data(7, (3, 4)), requires_grad=True)

        def step(scale):
            if policy == "zero_ if present" and x.grad is not None:
                x.grad.zero_()
            loss = (net(x) * scale).pow(2).sum()
            loss.backward()
            return loss, x.grad * 1.0, x.grad

        step = wrap(step)
        seen = []
        for i in range(CALLS + 1):
            out = step(lib.tensor(1.0 + 0.5 * i, dtype=lib.float64))
            seen.append([arr(out[:2]), leaf(x), model_state(net), out[2] is x.grad])
            if policy == "caller clears on call 2" and i == 2:
                x.grad = None
            if policy == "caller steps x":
                with lib.no_grad():
                    x -= 0.1 * x.grad
        return seen

    check(scenario, f"x.grad {policy}")


# ----------------------------------------------------------------------------- how the input arrives
@pytest.mark.parametrize("arrival", ["non-leaf of caller graph", "leaf view of a bigger tensor", "transposed leaf",
                                     "same tensor toggled requires_grad", "float32 input", "batch size changes"])
def test_fgsm_input_arrives_differently(arrival):
    def scenario(lib, wrap):
        F = lib.nn.functional
        net = mlp(lib)
        base = lib.tensor(data(9, (8, 4), low=0), requires_grad=arrival == "non-leaf of caller graph")
        big = lib.tensor(data(10, (9, 4), low=0))
        same = lib.tensor(data(11, (5, 4), low=0))

        def attack(x, y):
            if not x.requires_grad:
                x.requires_grad_(True)
            loss = F.cross_entropy(net(x.double()), y)
            net.zero_grad()
            loss.backward()
            with lib.no_grad():
                adv = (x + 0.05 * x.grad.sign()).clamp(0, 1)
            return loss, adv

        attack = wrap(attack)
        seen = []
        for i in range(CALLS):
            if arrival == "non-leaf of caller graph":
                x = (base[i:i + 4] * (1.0 + i))
                x.retain_grad()
            elif arrival == "leaf view of a bigger tensor":
                x = big[i:i + 4]
            elif arrival == "transposed leaf":
                x = lib.tensor(data(i, (4, 4), low=0)).t()
            elif arrival == "same tensor toggled requires_grad":
                x = same
                if i % 2:
                    x.requires_grad_(False)
                    x.grad = None
            elif arrival == "float32 input":
                x = lib.tensor(data(i, (4, 4), low=0), dtype=lib.float32)
            else:
                x = lib.tensor(data(i, (2 + i % 3, 4), low=0))
            out = attack(x, lib.tensor(labels(i, x.shape[0])))
            seen.append([arr(out), arr(x), arr(x.grad), model_state(net), arr(base), arr(base.grad), arr(big)])
        return seen

    check(scenario, f"fgsm arrival {arrival}")


@pytest.mark.parametrize("mode", ["always grad", "caller no_grad, enable_grad inside", "caller no_grad, no enable_grad"])
def test_attack_called_under_callers_no_grad(mode):
    def scenario(lib, wrap):
        F = lib.nn.functional
        net = mlp(lib)

        def attack(x, y):
            x = x.clone().requires_grad_(True) if mode == "always grad" else x.requires_grad_(True)
            if mode == "caller no_grad, enable_grad inside":
                with lib.enable_grad():
                    loss = F.cross_entropy(net(x), y)
            else:
                loss = F.cross_entropy(net(x), y)
            x_grad = lib.autograd.grad(loss, x)[0] if mode == "always grad" else None
            if x_grad is None:
                loss.backward()
                x_grad = x.grad
            return (x + 0.1 * x_grad.sign()).detach(), loss

        attack = wrap(attack)
        seen = []
        for i in range(CALLS):
            x, y = lib.tensor(data(i, (4, 4), low=0)), lib.tensor(labels(i, 4))
            try:
                if mode == "always grad" or i % 2 == 0:
                    out = attack(x, y)
                else:
                    with lib.no_grad():
                        out = attack(x, y)
                seen.append([arr(out), leaf(x), model_state(net)])
            except RuntimeError as error:
                seen.append(["raised", type(error).__name__])
        return seen

    check(scenario, f"attack under no_grad {mode}")


def test_caller_holds_input_grad_zeroed_in_place_by_next_call():
    def scenario(lib, wrap):
        net = mlp(lib)
        x = lib.tensor(data(12, (3, 4)), requires_grad=True)

        def step(scale):
            if x.grad is not None:
                x.grad.mul_(0.5)
            (net(x) * scale).sum().backward()
            with lib.no_grad():
                x.sub_(0.01 * x.grad)
            return x.grad

        step = wrap(step)
        held = []
        for i in range(CALLS):
            held.append(step(lib.tensor(1.0 + i, dtype=lib.float64)))
        return [arr(held), [h is x.grad for h in held], leaf(x), model_state(net)]

    check(scenario, "caller holds x.grad")


def test_input_hook_scales_the_input_gradient():
    def scenario(lib, wrap):
        F = lib.nn.functional
        net = mlp(lib)

        def attack(x, y):
            x.requires_grad_(True)
            x.register_hook(lambda g: g * 3.0)
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            return (x + 0.1 * x.grad).detach(), x.grad

        attack = wrap(attack)
        return [arr(attack(lib.tensor(data(i, (4, 4), low=0)), lib.tensor(labels(i, 4)))) for i in range(CALLS)]

    check(scenario, "input hook")


def test_image_adam_with_lr_schedule_and_train_eval_toggled():
    """The caller changes the Adam lr and toggles train/eval (dropout draws) between calls."""
    def scenario(lib, wrap):
        F = lib.nn.functional
        net = convnet(lib)
        for p in net.parameters():
            p.requires_grad_(False)
        image = lib.nn.Parameter(lib.tensor(data(4, (1, 3, 5, 5), low=0)))
        opt = lib.optim.Adam([image], lr=0.05)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

        def step(target):
            opt.zero_grad()
            loss = F.cross_entropy(net(image), target) + 0.1 * total_variation(image)
            loss.backward()
            opt.step()
            return loss

        step = wrap(step)
        seen = []
        for i in range(CALLS + 1):
            net.train(i % 3 == 0)
            seen.append([arr(step(lib.tensor([i % 3]))), leaf(image), model_state(net, opt)])
            sched.step()
        return seen

    check(scenario, "image adam lr schedule train/eval", pytorch=False)


# ----------------------------------------------------------------------------- aliasing and rebinding
@pytest.mark.parametrize("alias", ["clean is a detach of x_adv on odd calls", "x_adv is a row view of a buffer"])
def test_pgd_step_with_aliased_arguments(alias):
    def scenario(lib, wrap):
        F = lib.nn.functional
        net = mlp(lib)
        buffer = lib.tensor(data(13, (3, 5, 4), low=0))

        def pgd_step(x_adv, x, y):
            loss = F.cross_entropy(net(x_adv), y)
            loss.backward()
            with lib.no_grad():
                x_adv.add_(0.04 * x_adv.grad.sign())
                x_adv.copy_(lib.max(lib.min(x_adv, x + 0.05), x - 0.05))
            x_adv.grad = None
            return loss

        pgd_step = wrap(pgd_step)
        seen = []
        clean = lib.tensor(data(0, (5, 4), low=0))
        y = lib.tensor(labels(0, 5))
        x_adv = clean.clone().requires_grad_(True)
        for i in range(CALLS + 1):
            if alias.startswith("clean"):
                x = x_adv.detach() if i % 2 else clean
                loss = pgd_step(x_adv, x, y)
                seen.append([arr(loss), leaf(x_adv), arr(clean)])
            else:
                row = buffer[i % 3].requires_grad_(True)
                loss = pgd_step(row, clean, y)
                seen.append([arr(loss), leaf(row), arr(buffer)])
            seen.append(model_state(net))
        return seen

    check(scenario, f"pgd alias {alias}")


@pytest.mark.parametrize("how", ["data rebound", "data += then clamp_", "requires_grad_(False) at the end"])
def test_dream_image_rebound_or_reset(how):
    def scenario(lib, wrap):
        net = convnet(lib, norm=False)
        net.requires_grad_(False)
        x = lib.tensor(data(3, (1, 3, 5, 5), low=0), requires_grad=True)

        def dream(lr):
            x.requires_grad_(True)
            loss = net[:4](x).pow(2).mean()
            loss.backward()
            g = x.grad / (x.grad.norm() + 1e-8)
            if how == "data rebound":
                x.data = (x.data + lr * g).clamp(0, 1)
            else:
                x.data += lr * g
                x.data.clamp_(0, 1)
            x.grad = None
            if how == "requires_grad_(False) at the end":
                x.requires_grad_(False)
            return loss

        dream = wrap(dream)
        seen = []
        for i in range(CALLS + 1):
            seen.append([arr(dream(0.5 * (1 + i % 2))), leaf(x)])
            if i == 2:
                x.data = lib.tensor(data(5, (1, 3, 5, 5), low=0))
        return seen

    check(scenario, f"dream {how}")


def test_dream_octaves_image_shape_changes():
    def scenario(lib, wrap):
        F = lib.nn.functional
        conv = convnet(lib, norm=False)[:4]
        conv.requires_grad_(False)

        def ascend(img):
            img = img.detach().requires_grad_(True)
            for _ in range(2):
                loss = conv(img).pow(2).mean()
                loss.backward()
                img.data += 0.1 * img.grad / img.grad.abs().mean()
                img.grad.data.zero_()
            return img.detach()

        ascend = wrap(ascend)
        img = lib.tensor(data(6, (1, 3, 4, 4), low=0))
        seen = []
        for size in (4, 6, 8, 6, 8):
            img = F.interpolate(img, size=(size, size), mode="bilinear", align_corners=False)
            img = ascend(img)
            seen.append(arr(img))
        return seen

    check(scenario, "dream octaves")


def test_adversarial_patch_pasted_by_index_assignment():
    def scenario(lib, wrap):
        F = lib.nn.functional
        net = convnet(lib)
        net.eval()
        net.requires_grad_(False)
        patch = lib.nn.Parameter(lib.tensor(data(14, (3, 2, 2), low=0)))
        opt = lib.optim.Adam([patch], lr=0.1)

        def step(images, target, row):
            opt.zero_grad()
            patched = images.clone()
            patched[:, :, row:row + 2, 1:3] = patch
            loss = -F.log_softmax(net(patched), dim=1)[:, target].mean()
            loss.backward()
            opt.step()
            with lib.no_grad():
                patch.clamp_(0, 1)
            return loss

        step = wrap(step)
        seen = []
        for i in range(CALLS):
            seen.append([arr(step(lib.tensor(data(i, (2, 3, 5, 5), low=0)), 2, i % 3)), leaf(patch), arr(opt.state[patch])])
        return seen

    check(scenario, "adversarial patch")


@pytest.mark.parametrize("clear", ["grad.data.zero_", "grad None"])
def test_universal_perturbation_carried_across_batches(clear):
    def scenario(lib, wrap):
        F = lib.nn.functional
        net = mlp(lib)
        delta = lib.zeros(1, 4, dtype=lib.float64, requires_grad=True)

        def step(x, y):
            loss = F.cross_entropy(net((x + delta).clamp(0, 1)), y)
            loss.backward()
            delta.grad /= delta.grad.norm() + 1e-12
            delta.data = (delta.data + 0.05 * delta.grad).clamp(-0.1, 0.1)
            if clear == "grad None":
                delta.grad = None
            else:
                delta.grad.data.zero_()
            net.zero_grad(set_to_none=True)
            return loss

        step = wrap(step)
        seen = []
        for i in range(CALLS + 1):
            seen.append([arr(step(lib.tensor(data(i, (4, 4), low=0)), lib.tensor(labels(i, 4)))), leaf(delta), model_state(net)])
        return seen

    check(scenario, f"universal perturbation {clear}")


# ----------------------------------------------------------------------------- feature-map gradients and errors
@pytest.mark.parametrize("capture", ["retain_grad", "tensor hook", "autograd.grad on the feature map"])
def test_grad_cam_on_feature_map(capture):
    def scenario(lib, wrap):
        F = lib.nn.functional
        net = convnet(lib)
        net.eval()
        grads = []

        def cam(x, target):
            act = net[:3](x)
            if capture == "retain_grad":
                act.retain_grad()
            elif capture == "tensor hook":
                act.register_hook(lambda g: grads.append(g))
            score = net[3:](act)[:, target].sum()
            if capture == "autograd.grad on the feature map":
                g = lib.autograd.grad(score, act)[0]
            else:
                score.backward()
                g = act.grad if capture == "retain_grad" else grads[-1]
            weights = g.mean(dim=(2, 3), keepdim=True)
            heat = F.relu((weights * act).sum(dim=1))
            return heat / (heat.amax(dim=(1, 2), keepdim=True) + 1e-12)

        cam = wrap(cam)
        seen = []
        for i in range(CALLS):
            seen.append([arr(cam(lib.tensor(data(i, (2, 3, 5, 5), low=0)), i % 3)), model_state(net), arr(grads)])
        return seen

    check(scenario, f"grad-cam {capture}")


def test_fgsm_on_input_without_grad_raises_like_eager():
    """The caller forgets requires_grad on some calls: x.grad is None and .sign() raises."""
    def scenario(lib, wrap):
        F = lib.nn.functional
        net = mlp(lib)

        def attack(x, y):
            net.zero_grad()
            F.cross_entropy(net(x), y).backward()
            return (x + 0.1 * x.grad.sign()).detach()

        attack = wrap(attack)
        seen = []
        for i in range(CALLS):
            x = lib.tensor(data(i, (4, 4), low=0), requires_grad=i % 3 != 2)
            try:
                seen.append(arr(attack(x, lib.tensor(labels(i, 4)))))
            except AttributeError as error:
                seen.append(["raised", type(error).__name__])
            seen.append(model_state(net))
        return seen

    check(scenario, "fgsm forgets requires_grad")


def test_passed_input_arrives_with_or_without_a_grad_already():
    """Some calls get an input whose .grad the caller set (or left from an eager backward)."""
    def scenario(lib, wrap):
        net = mlp(lib)

        def step(x):
            loss = net(x).pow(2).sum()
            loss.backward()
            with lib.no_grad():
                moved = x - 0.1 * x.grad
            return loss, moved, x.grad

        step = wrap(step)
        seen = []
        for i in range(CALLS + 1):
            x = lib.tensor(data(i, (3, 4)), requires_grad=True)
            if i % 3 == 1:
                x.grad = lib.full((3, 4), 0.25 * i, dtype=lib.float64)
            elif i % 3 == 2:
                net(x).sum().backward()
            seen.append([arr(step(x)), leaf(x), model_state(net)])
        return seen

    check(scenario, "input arrives with grad")
