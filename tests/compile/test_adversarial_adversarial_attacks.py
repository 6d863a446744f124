"""chainrule.compile against eager execution on ADVERSARIAL EXAMPLES and INTERPRETABILITY steps:
FGSM (x.requires_grad_(), loss.backward(), x.grad.sign(), x + eps * sign, clamp to [0, 1]),
targeted and iterative variants, PGD loops of k steps inside the compiled function with projection
onto L-inf and L2 balls, random starts, early stopping, adversarial training (attack in eval mode,
then train on the perturbed batch in train mode), TRADES, free / fast adversarial training with a
perturbation carried across calls, virtual adversarial training, saliency maps, integrated gradients
with linspace alphas, SmoothGrad with randn noise, gradient x input, input-gradient regularization
with autograd.grad(create_graph=True); eps, step size and the number of steps changed between
calls; x.grad zeroed or set to None; detach_ / requires_grad_ toggled on inputs across calls.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, parameters, grads, buffers,
optimizer state, inputs and their grads, Python side effects and the random stream after each call.
A compiled run may record anew or fall back to eager with at most one warning.
"""
import numpy as np

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.harness import Case, arr, same_as_eager


# ----------------------------------------------------------------------------- helpers
def images(i, n=4, c=1, h=6, w=6, classes=3, dtype="float64"):
    g = np.random.default_rng(700 + i)
    x = 1.0 / (1.0 + np.exp(-g.standard_normal((n, c, h, w))))
    return chainrule.tensor(x.astype(dtype)), chainrule.tensor(g.integers(0, classes, size=n))


def vectors(i, n=5, d=4, classes=3, dtype="float64"):
    g = np.random.default_rng(900 + i)
    x = 1.0 / (1.0 + np.exp(-g.standard_normal((n, d))))
    return chainrule.tensor(x.astype(dtype)), chainrule.tensor(g.integers(0, classes, size=n))


def leaf(x):
    """What the caller can see of a tensor it holds."""
    return {"value": arr(x), "grad": None if x.grad is None else arr(x.grad),
            "requires_grad": bool(x.requires_grad), "is_leaf": bool(x.is_leaf)}


def mlp(d=4, h=8, classes=3, dropout=0.0):
    layers = [nn.Linear(d, h), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(h, classes))
    return nn.Sequential(*layers).double()


class SmallCNN(nn.Module):
    def __init__(self, c=1, classes=3, bn=True, p=0.0):
        super().__init__()
        self.conv = nn.Conv2d(c, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4) if bn else nn.Identity()
        self.pool = nn.MaxPool2d(2)
        self.drop = nn.Dropout(p)
        self.fc = nn.Linear(4 * 3 * 3, classes)
        self.double()

    def forward(self, x):
        x = self.pool(F.relu(self.bn(self.conv(x))))
        return self.fc(self.drop(x.flatten(1)))


class Holder:
    """Keeps what the caller passed so the observer can see the input leaf after the call."""

    def __init__(self):
        self.x = None

    def view(self):
        return leaf(self.x) if self.x is not None else None

    def keep(self, inputs):
        """The inputs function, remembering the first argument (outside the compiled step)."""
        def made(i):
            args = inputs(i)
            self.x = args[0]
            return args
        return made


# ----------------------------------------------------------------------------- FGSM
def test_fgsm_tutorial_attack_eps_python_float_changed_between_calls():
    """The PyTorch FGSM tutorial: fgsm_attack(image, epsilon, data_grad) with epsilon from a list."""
    def setup():
        model = SmallCNN()
        model.eval()
        held = Holder()
        eps = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]

        def fgsm_attack(image, epsilon, data_grad):
            perturbed = image + epsilon * data_grad.sign()
            return chainrule.clamp(perturbed, 0, 1)

        def step(x, y, epsilon):
            x.requires_grad = True
            output = model(x)
            init_pred = output.max(1, keepdim=True)[1]
            loss = F.nll_loss(F.log_softmax(output, dim=1), y)
            model.zero_grad()
            loss.backward()
            perturbed = fgsm_attack(x, epsilon, x.grad.data)
            final_pred = model(perturbed).max(1, keepdim=True)[1]
            return perturbed, init_pred, final_pred, (final_pred.squeeze(1) == y).sum()

        return Case(step, lambda: [model, held.view()], inputs=held.keep(lambda i: images(i) + (eps[i],)))

    same_as_eager(setup, calls=7)


def test_fgsm_eps_as_zero_dim_tensor_and_float32_images():
    def setup():
        model = SmallCNN(bn=False).float()
        model.eval()
        held = Holder()

        def step(x, y, eps):
            x.requires_grad_()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            x_adv = (x + eps * x.grad.sign()).clamp(0.0, 1.0).detach()
            return x_adv, model(x_adv).argmax(1), loss

        def inputs(i):
            x, y = images(i, dtype="float32")
            return x, y, chainrule.tensor([0.01, 0.03, 0.03, 0.1, 0.0, 0.2][i], dtype=chainrule.float32)

        return Case(step, lambda: [model, held.view()], inputs=held.keep(inputs))

    same_as_eager(setup, calls=6)


def test_targeted_fgsm_steps_towards_the_target_class():
    def setup():
        model = mlp()
        held = Holder()
        state = {"eps": 0.1}

        def step(x, target):
            x.requires_grad_(True)
            loss = F.cross_entropy(model(x), target)
            grad, = chainrule.autograd.grad(loss, [x])
            x_adv = chainrule.clamp(x - state["eps"] * grad.sign(), min=0, max=1)
            success = (model(x_adv).argmax(dim=-1) == target).float().mean()
            return x_adv.detach(), success

        def before(i):
            state["eps"] = [0.1, 0.1, 0.3, 0.05, 0.5, 0.3][i]

        def inputs(i):
            x, y = vectors(i)
            return x, (y + 1) % 3

        return Case(step, lambda: [model, held.view()], inputs=held.keep(inputs), before=before)

    same_as_eager(setup, calls=6)


def test_fgsm_adversarial_training_eval_for_attack_train_for_update():
    """Goodfellow's mixed objective: alpha * clean loss + (1 - alpha) * adversarial loss."""
    def setup():
        model = SmallCNN(p=0.25)
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        cfg = {"eps": 0.1, "alpha": 0.5}

        def step(x, y):
            model.eval()
            x_att = x.clone().requires_grad_(True)
            F.cross_entropy(model(x_att), y).backward()
            x_adv = (x_att + cfg["eps"] * x_att.grad.sign()).clamp(0, 1).detach()
            model.train()
            opt.zero_grad()
            clean = F.cross_entropy(model(x), y)
            adv = F.cross_entropy(model(x_adv), y)
            loss = cfg["alpha"] * clean + (1 - cfg["alpha"]) * adv
            loss.backward()
            opt.step()
            return loss, clean.detach(), adv.detach()

        def before(i):
            cfg["eps"] = [0.1, 0.1, 0.2, 0.2, 0.05, 0.3, 0.1][i]
            cfg["alpha"] = [0.5, 0.5, 0.5, 0.3, 0.3, 1.0, 0.5][i]

        return Case(step, lambda: [model, opt], inputs=images, before=before)

    same_as_eager(setup, calls=7)


def test_iterative_fgsm_bim_step_count_argument_changes():
    """Basic iterative method (Kurakin): k steps of alpha * sign, clipped to the eps ball and [0, 1]."""
    def setup():
        model = mlp()
        model.eval()

        def bim(x, y, k, eps):
            alpha = eps / max(k, 1)
            x_adv = x.clone()
            for _ in range(k):
                x_adv.requires_grad_(True)
                loss = F.cross_entropy(model(x_adv), y)
                grad = chainrule.autograd.grad(loss, x_adv)[0]
                x_adv = x_adv.detach() + alpha * grad.sign()
                x_adv = chainrule.min(chainrule.max(x_adv, x - eps), x + eps).clamp(0, 1)
            return x_adv, (x_adv - x).abs().max()

        ks = [3, 3, 1, 5, 0, 3]
        epss = [0.1, 0.2, 0.1, 0.1, 0.1, 0.2]
        return Case(bim, lambda: [model], inputs=lambda i: vectors(i) + (ks[i], epss[i]))

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- PGD
def pgd_linf(model, x, y, eps, alpha, steps, rand_init=True):
    delta = chainrule.zeros_like(x)
    if rand_init:
        delta.uniform_(-eps, eps)
        delta = (x + delta).clamp(0, 1) - x
    delta.requires_grad_(True)
    for _ in range(steps):
        loss = F.cross_entropy(model(x + delta), y)
        loss.backward()
        delta.data = (delta + alpha * delta.grad.detach().sign()).clamp(-eps, eps)
        delta.data = (x + delta.data).clamp(0, 1) - x
        delta.grad.zero_()
    return delta.detach()


def test_madry_pgd_adversarial_training_delta_data_assignment():
    """Madry et al. training loop in the style of the 'adversarial robustness' tutorial."""
    def setup():
        model = SmallCNN()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            model.eval()
            delta = pgd_linf(model, x, y, eps=0.1, alpha=0.03, steps=3)
            model.train()
            yp = model(x + delta)
            loss = F.cross_entropy(yp, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, (yp.max(dim=1)[1] != y).sum(), delta

        return Case(step, lambda: [model, opt], inputs=images)

    same_as_eager(setup, calls=5)


def test_pgd_eps_and_alpha_changed_between_calls_via_attributes():
    class Attack:
        def __init__(self, model):
            self.model, self.eps, self.alpha, self.steps = model, 0.1, 0.02, 4

        def __call__(self, x, y):
            x_adv = x.clone().detach()
            for _ in range(self.steps):
                x_adv.requires_grad = True
                cost = F.cross_entropy(self.model(x_adv), y)
                grad = chainrule.autograd.grad(cost, x_adv, retain_graph=False, create_graph=False)[0]
                x_adv = x_adv.detach() + self.alpha * grad.sign()
                delta = chainrule.clamp(x_adv - x, min=-self.eps, max=self.eps)
                x_adv = chainrule.clamp(x + delta, min=0, max=1).detach()
            return x_adv

    def setup():
        model = mlp()
        model.eval()
        atk = Attack(model)

        def before(i):
            atk.eps = [0.1, 0.1, 0.05, 0.05, 0.3, 0.1][i]
            atk.alpha = [0.02, 0.02, 0.02, 0.01, 0.1, 0.02][i]
            atk.steps = [4, 4, 4, 2, 4, 6][i]

        return Case(atk.__call__, lambda: [model], inputs=vectors, before=before)

    same_as_eager(setup, calls=6)


def test_pgd_l2_normalized_gradient_and_renorm_projection():
    """L2 PGD: normalize the gradient per example, project with delta * min(1, eps / ||delta||)."""
    def setup():
        model = SmallCNN(bn=False)
        model.eval()

        def pgd_l2(x, y, eps):
            delta = chainrule.zeros_like(x, requires_grad=True)
            for _ in range(3):
                loss = F.cross_entropy(model(x + delta), y)
                loss.backward()
                g = delta.grad.detach()
                gnorm = g.view(g.shape[0], -1).norm(p=2, dim=1).view(-1, 1, 1, 1) + 1e-12
                delta.data = delta.data + 0.5 * eps * g / gnorm
                dnorm = delta.data.view(delta.shape[0], -1).norm(dim=1).view(-1, 1, 1, 1)
                factor = chainrule.clamp(eps / (dnorm + 1e-12), max=1.0)
                delta.data = (delta.data * factor)
                delta.data = (x + delta.data).clamp(0, 1) - x
                delta.grad = None
            return delta.detach(), delta.view(x.shape[0], -1).norm(dim=1)

        return Case(pgd_l2, lambda: [model], inputs=lambda i: images(i) + ([0.5, 0.5, 1.0, 0.25, 2.0][i],))

    same_as_eager(setup, calls=5)


def test_pgd_early_stop_when_every_example_is_fooled():
    """A data-dependent break: stop the attack as soon as all predictions are wrong."""
    def setup():
        model = mlp()
        model.eval()
        iters = []

        def pgd(x, y, eps):
            x_adv = x.clone()
            used = 0
            for _ in range(6):
                x_adv.requires_grad_(True)
                logits = model(x_adv)
                if (logits.argmax(1) != y).all():
                    break
                used += 1
                g, = chainrule.autograd.grad(F.cross_entropy(logits, y), x_adv)
                x_adv = (x + (x_adv.detach() + eps / 2 * g.sign() - x).clamp(-eps, eps)).clamp(0, 1)
            iters.append(used)
            return x_adv.detach(), used

        return Case(pgd, lambda: [model, list(iters)],
                    inputs=lambda i: vectors(i, n=2) + ([0.05, 0.5, 1.0, 0.5, 0.05, 1.0][i],))

    same_as_eager(setup, calls=6)


def test_pgd_input_grad_zeroed_vs_set_to_none_alternating_between_calls():
    def setup():
        model = mlp()
        model.eval()
        held = Holder()
        mode = {"clear": "zero"}

        def step(x, y):
            for _ in range(3):
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                with chainrule.no_grad():
                    x.add_(0.02 * x.grad.sign()).clamp_(0, 1)
                if mode["clear"] == "zero":
                    x.grad.zero_()
                else:
                    x.grad = None
            return loss

        def before(i):
            mode["clear"] = ["zero", "zero", "none", "zero", "none", "none"][i]

        def inputs(i):
            x, y = vectors(i)
            return x.requires_grad_(), y

        return Case(step, lambda: [model, held.view()], inputs=held.keep(inputs), before=before)

    same_as_eager(setup, calls=6)


def test_fgsm_eps_from_numpy_linspace_scalars():
    """Tutorials sweep epsilons = np.linspace(0, 0.3, 7): eps arrives as np.float64."""
    def setup():
        model = SmallCNN(bn=False)
        model.eval()
        eps = np.linspace(0, 0.3, 7)

        def step(x, y, e):
            x = x.clone().requires_grad_(True)
            F.cross_entropy(model(x), y).backward()
            adv = (x + e * x.grad.sign()).clamp(0, 1)
            return adv.detach(), model(adv).argmax(1)

        return Case(step, lambda: [model], inputs=lambda i: images(i) + (eps[i],))

    same_as_eager(setup, calls=7)


def test_caller_toggles_requires_grad_and_detach_on_a_reused_input():
    def setup():
        model = mlp()
        model.eval()
        x, y = vectors(1)
        held = {"x": x}

        def step(inp, target):
            if not inp.requires_grad:
                inp.requires_grad_()
            loss = F.cross_entropy(model(inp), target)
            g, = chainrule.autograd.grad(loss, inp)
            return g * inp, inp.requires_grad

        def before(i):
            t = held["x"]
            if i == 2:
                t.requires_grad_(False)
            elif i == 3:
                t.detach_()
            elif i == 4:
                held["x"] = t.detach().clone()
            elif i == 5:
                held["x"].requires_grad_(True)

        return Case(step, lambda: [model, leaf(held["x"])], inputs=lambda i: (held["x"], y), before=before)

    same_as_eager(setup, calls=7)


def test_returned_input_grad_is_aliased_and_zeroed_by_the_next_call():
    """The step returns x.grad itself; the next call zeroes it in place. Held results are observed."""
    def setup():
        model = mlp()
        model.eval()
        x, y = vectors(2)
        x.requires_grad_()
        returned = []

        def step(inp, target, k):
            if inp.grad is not None:
                inp.grad.zero_()
            (model(inp)[:, k].sum()).backward()
            g = inp.grad
            returned.append(g)
            return g

        return Case(step, lambda: [leaf(x), [arr(r) for r in returned]],
                    inputs=lambda i: (x, y, i % 3))

    same_as_eager(setup, calls=6)


def test_integrated_gradients_steps_argument_changes_shape():
    def setup():
        model = mlp()
        model.eval()

        def integrated_gradients(x, baseline, target, m_steps):
            alphas = chainrule.linspace(0.0, 1.0, m_steps + 1, dtype=x.dtype)
            grads = []
            for alpha in alphas:
                xi = (baseline + alpha * (x - baseline)).detach().requires_grad_(True)
                out = F.softmax(model(xi), dim=-1)[:, target].sum()
                model.zero_grad()
                out.backward()
                grads.append(xi.grad.detach().clone())
            grads = chainrule.stack(grads)
            avg = ((grads[:-1] + grads[1:]) / 2.0).mean(dim=0)
            attributions = (x - baseline) * avg
            return attributions, attributions.sum(dim=1)

        def inputs(i):
            x, _ = vectors(i, n=2)
            base = chainrule.zeros_like(x) if i % 2 == 0 else chainrule.full_like(x, 0.5)
            return x, base, i % 3, [4, 4, 2, 6, 4, 1][i]

        return Case(integrated_gradients, lambda: [model], inputs=inputs)

    same_as_eager(setup, calls=6)


def test_integrated_gradients_batched_path_with_riemann_right_rule_float32():
    def setup():
        model = SmallCNN(bn=False).float()
        model.eval()

        def ig(x, target, steps):
            alphas = chainrule.linspace(1.0 / steps, 1.0, steps).view(-1, 1, 1, 1)
            path = (alphas * x.unsqueeze(0)).view(-1, *x.shape).requires_grad_()
            scores = model(path)[:, target]
            g, = chainrule.autograd.grad(scores.sum(), path)
            return x * g.mean(dim=0), scores.detach()

        def inputs(i):
            x, y = images(i, n=1, dtype="float32")
            return x[0], int(y[0]), [3, 3, 5, 2, 3][i]

        return Case(ig, lambda: [model], inputs=inputs)

    same_as_eager(setup, calls=5)


def test_smoothgrad_sigma_from_input_range_item_and_sample_count_changes():
    def setup():
        model = mlp()
        model.eval()
        cfg = {"n": 4, "level": 0.15}

        def smoothgrad(x, target):
            stdev = cfg["level"] * (x.max() - x.min()).item()
            total = chainrule.zeros_like(x)
            for _ in range(cfg["n"]):
                noisy = x + chainrule.randn(x.shape, dtype=x.dtype) * stdev
                noisy.requires_grad_(True)
                model(noisy)[:, target].sum().backward()
                total += noisy.grad ** 2
            return total / cfg["n"], stdev

        def before(i):
            cfg["n"] = [4, 4, 2, 4, 8, 1][i]
            cfg["level"] = [0.15, 0.15, 0.15, 0.3, 0.1, 0.2][i]

        return Case(smoothgrad, lambda: [model], inputs=lambda i: (vectors(i)[0], i % 3), before=before)

    same_as_eager(setup, calls=6)


def test_gradient_times_input_and_saliency_with_eval_train_toggled_between_calls():
    def setup():
        model = SmallCNN(p=0.5)

        def explain(x, y):
            x = x.detach().requires_grad_()
            logits = model(x)
            score = logits[chainrule.arange(x.shape[0]), y].sum()
            score.backward()
            return x.grad * x, x.grad.abs().sum(dim=1), logits.argmax(1)

        def before(i):
            model.train(i in (1, 4))

        return Case(explain, lambda: [model], inputs=images, before=before)

    same_as_eager(setup, calls=6)


def test_input_gradient_regularization_double_backprop():
    """Ross & Doshi-Velez: train on loss + lambda * ||d loss / d x||^2 with create_graph=True."""
    def setup():
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()
        opt = optim.Adam(model.parameters(), lr=0.01)
        cfg = {"lam": 0.1}

        def step(x, y):
            x = x.clone().requires_grad_(True)
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            gx, = chainrule.autograd.grad(loss, x, create_graph=True)
            penalty = gx.pow(2).sum(dim=1).mean()
            total = loss + cfg["lam"] * penalty
            total.backward()
            opt.step()
            return total, penalty.detach(), x.grad

        def before(i):
            cfg["lam"] = [0.1, 0.1, 1.0, 0.0, 10.0, 0.1][i]

        return Case(step, lambda: [model, opt], inputs=vectors, before=before)

    same_as_eager(setup, calls=6)


def test_input_gradient_create_graph_then_plain_alternating():
    def setup():
        model = nn.Sequential(nn.Linear(4, 6), nn.Softplus(), nn.Linear(6, 3)).double()
        opt = optim.SGD(model.parameters(), lr=0.1)
        flag = {"cg": True}

        def step(x, y):
            x.requires_grad_(True)
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            g, = chainrule.autograd.grad(loss, x, create_graph=flag["cg"], retain_graph=True)
            if flag["cg"]:
                (loss + g.norm()).backward()
            else:
                loss.backward()
            opt.step()
            return loss, g.requires_grad, g

        def before(i):
            flag["cg"] = [True, True, False, True, False, False][i]

        return Case(step, lambda: [model, opt], inputs=vectors, before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- adversarial training variants
def test_fast_fgsm_training_delta_carried_in_closure_with_random_init():
    """Wong et al. 'Fast is better than free': delta.uniform_, one FGSM step of 1.25 eps, clamp."""
    def setup():
        model = SmallCNN()
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
        cfg = {"eps": 0.1}

        def step(x, y):
            eps = cfg["eps"]
            alpha = 1.25 * eps
            delta = chainrule.zeros_like(x).uniform_(-eps, eps)
            delta.data = chainrule.clamp(delta, 0 - x, 1 - x)
            delta.requires_grad = True
            output = model(x + delta)
            loss = F.cross_entropy(output, y)
            loss.backward()
            grad = delta.grad.detach()
            delta.data = chainrule.clamp(delta + alpha * chainrule.sign(grad), -eps, eps)
            delta.data = chainrule.clamp(delta, 0 - x, 1 - x)
            delta = delta.detach()
            output = model(chainrule.clamp(x + delta, 0, 1))
            loss = F.cross_entropy(output, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, (output.max(1)[1] == y).sum()

        def before(i):
            cfg["eps"] = [0.1, 0.1, 0.1, 0.05, 0.2, 0.1][i]

        return Case(step, lambda: [model, opt], inputs=images, before=before)

    same_as_eager(setup, calls=6)


def test_free_adversarial_training_global_delta_replayed_m_times():
    """Shafahi et al.: one global perturbation reused across minibatches, updated in place."""
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1)
        state = {"delta": chainrule.zeros(5, 4, dtype=chainrule.float64, requires_grad=True), "m": 2}

        def step(x, y):
            delta = state["delta"]
            losses = []
            for _ in range(state["m"]):
                adv = x + delta[: x.size(0)]
                out = model(adv.clamp(0, 1))
                loss = F.cross_entropy(out, y)
                opt.zero_grad()
                loss.backward()
                grad = delta.grad.detach()
                delta.data.add_(0.05 * chainrule.sign(grad))
                delta.data.clamp_(-0.1, 0.1)
                delta.grad.zero_()
                opt.step()
                losses.append(loss.item())
            return losses

        def before(i):
            state["m"] = [2, 2, 3, 2, 1, 2][i]

        def inputs(i):
            return vectors(i, n=[5, 5, 5, 3, 5, 5][i])

        return Case(step, lambda: [model, opt, leaf(state["delta"])], inputs=inputs, before=before)

    same_as_eager(setup, calls=6)


def test_trades_kl_attack_and_robust_loss_batchmean():
    """TRADES: attack maximizes KL(clean || adv); train on CE + beta * KL."""
    def setup():
        model = SmallCNN(bn=False)
        opt = optim.SGD(model.parameters(), lr=0.05)
        cfg = {"beta": 6.0, "steps": 2}

        def step(x, y):
            model.eval()
            x_adv = x.detach() + 0.001 * chainrule.randn(x.shape, dtype=x.dtype).detach()
            for _ in range(cfg["steps"]):
                x_adv.requires_grad_()
                with chainrule.enable_grad():
                    loss_kl = F.kl_div(F.log_softmax(model(x_adv), dim=1), F.softmax(model(x), dim=1),
                                       reduction="sum")
                grad = chainrule.autograd.grad(loss_kl, [x_adv])[0]
                x_adv = x_adv.detach() + 0.02 * chainrule.sign(grad.detach())
                x_adv = chainrule.min(chainrule.max(x_adv, x - 0.1), x + 0.1)
                x_adv = chainrule.clamp(x_adv, 0.0, 1.0)
            model.train()
            x_adv = x_adv.detach().requires_grad_(False)
            opt.zero_grad()
            logits = model(x)
            loss_natural = F.cross_entropy(logits, y)
            loss_robust = F.kl_div(F.log_softmax(model(x_adv), dim=1), F.softmax(logits, dim=1),
                                   reduction="batchmean")
            loss = loss_natural + cfg["beta"] * loss_robust
            loss.backward()
            opt.step()
            return loss, loss_robust.detach()

        def before(i):
            cfg["beta"] = [6.0, 6.0, 1.0, 1.0, 6.0][i]
            cfg["steps"] = [2, 2, 2, 3, 1][i]

        return Case(step, lambda: [model, opt], inputs=images, before=before)

    same_as_eager(setup, calls=5)


def test_virtual_adversarial_training_power_iteration_with_normalize():
    def setup():
        model = mlp()
        opt = optim.Adam(model.parameters(), lr=0.01)
        cfg = {"xi": 1e-6, "eps": 1.0, "ip": 1}

        def l2_normalize(d):
            return d / (d.view(d.size(0), -1).norm(dim=1, keepdim=True) + 1e-8)

        def step(x, y):
            opt.zero_grad()
            with chainrule.no_grad():
                pred = F.softmax(model(x), dim=1)
            d = chainrule.rand(x.shape, dtype=x.dtype) - 0.5
            d = l2_normalize(d)
            for _ in range(cfg["ip"]):
                d.requires_grad_()
                adv_distance = F.kl_div(F.log_softmax(model(x + cfg["xi"] * d), dim=1), pred, reduction="batchmean")
                adv_distance.backward()
                d = l2_normalize(d.grad)
                model.zero_grad()
            r_adv = d * cfg["eps"]
            lds = F.kl_div(F.log_softmax(model(x + r_adv), dim=1), pred, reduction="batchmean")
            loss = F.cross_entropy(model(x), y) + lds
            loss.backward()
            opt.step()
            return loss, lds.detach()

        def before(i):
            cfg["ip"] = [1, 1, 2, 1, 1][i]
            cfg["eps"] = [1.0, 1.0, 1.0, 2.5, 1.0][i]

        return Case(step, lambda: [model, opt], inputs=vectors, before=before)

    same_as_eager(setup, calls=5)


def test_attack_with_params_frozen_by_requires_grad_false_inside_the_step():
    """Freeze the weights while attacking (cheaper backward), unfreeze them to train."""
    def setup():
        model = mlp(dropout=0.2)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y, eps):
            for p in model.parameters():
                p.requires_grad_(False)
            x_adv = x.clone().requires_grad_(True)
            F.cross_entropy(model(x_adv), y).backward()
            x_adv = (x_adv + eps * x_adv.grad.sign()).clamp(0, 1).detach()
            for p in model.parameters():
                p.requires_grad_(True)
            opt.zero_grad()
            loss = F.cross_entropy(model(x_adv), y)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [model, opt], inputs=lambda i: vectors(i) + ([0.1, 0.1, 0.2, 0.1, 0.0, 0.1][i],))

    same_as_eager(setup, calls=6)


def test_attack_left_model_in_eval_on_some_calls_batchnorm_stats():
    """A buggy loop: the attack switches to eval, and only every other call switches back to train."""
    def setup():
        model = SmallCNN()
        opt = optim.SGD(model.parameters(), lr=0.05)
        count = {"n": 0}

        def step(x, y):
            count["n"] += 1
            was_training = model.training
            model.eval()
            x_adv = x.clone().requires_grad_()
            F.cross_entropy(model(x_adv), y).backward()
            x_adv = (x_adv + 0.1 * x_adv.grad.sign()).clamp(0, 1).detach()
            if count["n"] % 2 == 0:
                model.train()
            opt.zero_grad()
            loss = F.cross_entropy(model(x_adv), y)
            loss.backward()
            opt.step()
            return loss, was_training

        return Case(step, lambda: [model, opt, dict(count)], inputs=images)

    same_as_eager(setup, calls=7)


def test_attack_in_train_mode_updates_batchnorm_running_stats():
    def setup():
        model = SmallCNN()
        opt = optim.SGD(model.parameters(), lr=0.05)
        model.bn.momentum = 0.1

        def step(x, y, k):
            delta = chainrule.zeros_like(x, requires_grad=True)
            for _ in range(k):
                F.cross_entropy(model(x + delta), y).backward()
                delta = (delta + 0.03 * delta.grad.sign()).clamp(-0.1, 0.1).detach().requires_grad_()
            opt.zero_grad()
            loss = F.cross_entropy(model(x + delta.detach()), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            model.bn.momentum = [0.1, 0.1, None, 0.5, 0.1, 0.1][i]

        return Case(step, lambda: [model, opt], inputs=lambda i: images(i) + ([2, 2, 2, 1, 3, 2][i],), before=before)

    same_as_eager(setup, calls=6)


def test_robust_accuracy_eval_under_callers_no_grad_with_enable_grad_inside():
    def setup():
        model = mlp()
        model.eval()
        totals = {"correct": 0, "seen": 0}

        def evaluate(x, y):
            with chainrule.enable_grad():
                x_adv = x.clone().requires_grad_(True)
                for _ in range(2):
                    loss = F.cross_entropy(model(x_adv), y)
                    g, = chainrule.autograd.grad(loss, x_adv)
                    x_adv = (x_adv + 0.05 * g.sign()).clamp(0, 1).detach().requires_grad_(True)
            pred = model(x_adv).argmax(1)
            totals["correct"] += int((pred == y).sum())
            totals["seen"] += y.numel()
            return pred, totals["correct"] / totals["seen"]

        def before(i):
            chainrule.set_grad_enabled(i not in (1, 3))

        return Case(evaluate, lambda: [model, dict(totals)], inputs=vectors, before=before)

    try:
        same_as_eager(setup, calls=5)
    finally:
        chainrule.set_grad_enabled(True)


# ----------------------------------------------------------------------------- optimization-based attacks
def test_carlini_wagner_tanh_space_with_adam_created_inside_the_step():
    def setup():
        model = mlp()
        model.eval()
        cfg = {"c": 1.0, "kappa": 0.0, "steps": 3}

        def cw(x, y):
            w = chainrule.atanh((x * 2 - 1) * 0.999).detach().requires_grad_(True)
            opt = optim.Adam([w], lr=0.05)
            one_hot = F.one_hot(y, 3).to(x.dtype)
            for _ in range(cfg["steps"]):
                adv = 0.5 * (chainrule.tanh(w) + 1)
                logits = model(adv)
                real = (one_hot * logits).sum(1)
                other = ((1 - one_hot) * logits - one_hot * 1e4).max(1)[0]
                f = chainrule.clamp(real - other, min=-cfg["kappa"])
                l2 = ((adv - x) ** 2).flatten(1).sum(1)
                loss = l2.sum() + cfg["c"] * f.sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
            return adv.detach(), l2.detach(), opt.state[w]["exp_avg_sq"]

        def before(i):
            cfg["c"] = [1.0, 1.0, 10.0, 0.1, 1.0, 1.0][i]
            cfg["kappa"] = [0.0, 0.0, 0.0, 0.5, 0.0, 0.0][i]
            cfg["steps"] = [3, 3, 3, 3, 2, 4][i]

        return Case(cw, lambda: [model], inputs=vectors, before=before)

    same_as_eager(setup, calls=6)


def test_deepfool_while_loop_until_the_label_flips():
    def setup():
        model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3)).double()
        model.eval()

        def deepfool(x, max_iter):
            x0 = x.unsqueeze(0)
            label = model(x0).argmax(1).item()
            r_tot = chainrule.zeros_like(x0)
            k, it = label, 0
            while k == label and it < max_iter:
                xi = (x0 + 1.02 * r_tot).requires_grad_(True)
                out = model(xi)[0]
                grad_orig, = chainrule.autograd.grad(out[label], xi, retain_graph=True)
                best, w_best = None, None
                for c in range(3):
                    if c == label:
                        continue
                    g, = chainrule.autograd.grad(out[c], xi, retain_graph=True)
                    w_k = g - grad_orig
                    f_k = (out[c] - out[label]).detach()
                    pert = f_k.abs() / (w_k.norm() + 1e-8)
                    if best is None or pert < best:
                        best, w_best = pert, w_k
                r_tot = r_tot + (best + 1e-4) * w_best / (w_best.norm() + 1e-8)
                k = model(x0 + 1.02 * r_tot).argmax(1).item()
                it += 1
            return r_tot[0], it, k

        def inputs(i):
            return vectors(i, n=1)[0][0] * 4 - 2, [5, 5, 1, 10, 5, 0][i]

        return Case(deepfool, lambda: [model], inputs=inputs)

    same_as_eager(setup, calls=6)


def test_adversarial_patch_parameter_trained_with_optimizer_and_clamp_data():
    def setup():
        model = SmallCNN(bn=False)
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        patch = nn.Parameter(chainrule.full((1, 1, 3, 3), 0.5, dtype=chainrule.float64))
        opt = optim.SGD([patch], lr=0.5, momentum=0.5)
        cfg = {"target": 0, "r": 0}

        def step(x, y):
            x = x.clone()
            r = cfg["r"]
            x[:, :, r:r + 3, r:r + 3] = patch
            target = chainrule.full_like(y, cfg["target"])
            loss = F.cross_entropy(model(x), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            patch.data.clamp_(0, 1)
            return loss, (model(x).argmax(1) == target).double().mean()

        def before(i):
            cfg["target"] = [0, 0, 1, 1, 2, 0][i]
            cfg["r"] = [0, 0, 0, 3, 1, 0][i]

        return Case(step, lambda: [model, opt, leaf(patch)], inputs=images, before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- gradient plumbing
def test_hook_that_clips_the_input_gradient_changes_the_attack():
    def setup():
        model = mlp()
        model.eval()
        cfg = {"clip": 0.05}

        def step(x, y):
            x = x.clone().requires_grad_()
            h = x.register_hook(lambda g: g.clamp(-cfg["clip"], cfg["clip"]))
            F.cross_entropy(model(x), y, reduction="sum").backward()
            h.remove()
            return x.grad.clone(), (x + 0.2 * x.grad).clamp(0, 1).detach()

        def before(i):
            cfg["clip"] = [0.05, 0.05, 0.5, 0.01, 0.05][i]

        return Case(step, lambda: [model], inputs=vectors, before=before)

    same_as_eager(setup, calls=5)


def test_retain_grad_on_embeddings_freelb_style_text_attack():
    """Attack in embedding space: perturb word embeddings, read the embedding gradient via retain_grad."""
    class TextClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 6)
            self.fc = nn.Linear(6, 2)

        def forward(self, ids=None, embeds=None):
            if embeds is None:
                embeds = self.embed(ids)
            return self.fc(embeds.mean(1))

    def setup():
        model = TextClassifier().double()
        opt = optim.AdamW(model.parameters(), lr=0.01)
        cfg = {"adv_lr": 0.1, "k": 2}

        def step(ids, y):
            opt.zero_grad()
            emb = model.embed(ids)
            delta = chainrule.zeros_like(emb)
            total = 0.0
            for _ in range(cfg["k"]):
                delta.requires_grad_()
                inp = emb + delta
                inp.retain_grad()
                loss = F.cross_entropy(model(embeds=inp), y) / cfg["k"]
                total += loss.item()
                loss.backward(retain_graph=True)
                g = delta.grad.detach()
                delta = (delta + cfg["adv_lr"] * g / (g.norm(dim=-1, keepdim=True) + 1e-8)).detach()
                emb = model.embed(ids)
            opt.step()
            return total, inp.grad.norm()

        def before(i):
            cfg["adv_lr"] = [0.1, 0.1, 0.3, 0.1, 0.1][i]
            cfg["k"] = [2, 2, 2, 3, 1][i]

        def inputs(i):
            g = np.random.default_rng(40 + i)
            return chainrule.tensor(g.integers(0, 20, size=(3, 5))), chainrule.tensor(g.integers(0, 2, size=3))

        return Case(step, lambda: [model, opt], inputs=inputs, before=before)

    same_as_eager(setup, calls=5)


def test_autograd_grad_with_grad_outputs_and_allow_unused():
    def setup():
        model = mlp()
        model.eval()

        def step(x, mask, weights):
            x = x.detach().requires_grad_()
            unused = chainrule.zeros(1, dtype=x.dtype, requires_grad=True)
            out = model(x)
            gx, gu = chainrule.autograd.grad(out, [x, unused], grad_outputs=weights, allow_unused=True)
            return gx * mask, gu is None

        def inputs(i):
            x, y = vectors(i)
            weights = F.one_hot(y, 3).double() * (1 + i)
            return x, (x > 0.5).double(), weights

        return Case(step, lambda: [model], inputs=inputs)

    same_as_eager(setup, calls=5)


def test_attack_modifies_a_view_of_the_callers_batch_in_place():
    """The caller passes batch[:, :2] (a view): the step perturbs it in place, changing the batch."""
    def setup():
        model = nn.Linear(2, 3).double()
        model.eval()
        batch = vectors(3, n=5)[0]
        _, y = vectors(3, n=5)

        def step(part, eps):
            part.requires_grad_(True)
            F.cross_entropy(model(part), y).backward()
            with chainrule.no_grad():
                part += eps * part.grad.sign()
            g = part.grad
            part.grad = None
            part.requires_grad_(False)
            return g

        return Case(step, lambda: [arr(batch)], inputs=lambda i: (batch[:, :2], [0.1, 0.1, 0.2, 0.05, 0.1][i]))

    same_as_eager(setup, calls=5)


def test_adversarial_training_on_caller_leaf_with_eps_lr_and_mode_changed_between_calls():
    """The loader hands out batches that already require grad (x.requires_grad_() in the loop):
    the attack's backward fills the caller's x.grad, the update trains on the perturbed batch."""
    def setup():
        model = SmallCNN(p=0.3)
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        held = Holder()

        def step(x, y, eps):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            x_adv = (x + eps * x.grad.sign()).clamp(0, 1).detach()
            opt.zero_grad()
            loss = F.cross_entropy(model(x_adv), y)
            loss.backward()
            opt.step()
            return loss, x_adv

        def before(i):
            model.train(i not in (2, 3))
            opt.param_groups[0]["lr"] = [0.05, 0.05, 0.05, 0.01, 0.01, 0.05][i]

        def inputs(i):
            x, y = images(i)
            return x.requires_grad_(), y, [0.1, 0.1, 0.2, 0.1, 0.0, 0.1][i]

        return Case(step, lambda: [model, opt, held.view()], inputs=held.keep(inputs), before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- arguments changing
def test_eps_alternates_int_and_float_and_tensor():
    def setup():
        model = mlp()
        model.eval()

        def step(x, y, eps):
            x = x.clone().requires_grad_()
            F.cross_entropy(model(x), y).backward()
            return (x + eps * x.grad.sign()).clamp(0, 1), (x.grad.sign() * eps).dtype

        epss = [1, 1, 1.0, 0, chainrule.tensor(1), chainrule.tensor(0.5, dtype=chainrule.float32), 2]
        return Case(step, lambda: [model], inputs=lambda i: vectors(i) + (epss[i],))

    same_as_eager(setup, calls=7)


def test_eps_tensor_dtype_alternates_with_float32_images():
    def setup():
        model = SmallCNN(bn=False).float()
        model.eval()

        def step(x, y, eps):
            x.requires_grad_()
            F.cross_entropy(model(x), y).backward()
            adv = (x + eps * x.grad.sign()).clamp(0, 1).detach()
            return adv, adv.dtype

        dts = [chainrule.float32, chainrule.float32, chainrule.float64, chainrule.float64, chainrule.float32]

        def inputs(i):
            x, y = images(i, dtype="float32")
            return x, y, chainrule.tensor(0.1, dtype=dts[i])

        return Case(step, lambda: [model], inputs=inputs)

    same_as_eager(setup, calls=5)


def test_input_dtype_and_batch_size_change_between_calls():
    """Last batch smaller; one batch accidentally float32 against a float64 model (eager raises)."""
    def setup():
        model = mlp()
        model.eval()

        def step(x, y):
            x = x.detach().requires_grad_()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            return x.grad.sign(), loss

        def inputs(i):
            n = [5, 5, 3, 5, 5, 2][i]
            return vectors(i, n=n, dtype="float32" if i == 3 else "float64")

        return Case(step, lambda: [model], inputs=inputs)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- values the step reads
def test_labels_with_ignore_index_padding_on_some_calls():
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            x = x.clone().requires_grad_()
            F.cross_entropy(model(x), y, ignore_index=-100).backward()
            x_adv = (x + 0.1 * x.grad.sign()).clamp(0, 1).detach()
            opt.zero_grad()
            loss = F.cross_entropy(model(x_adv), y, ignore_index=-100)
            loss.backward()
            opt.step()
            return loss, x.grad

        def inputs(i):
            x, y = vectors(i)
            if i in (2, 4):
                y[1] = -100
            if i == 5:
                y[:] = -100
            return x, y

        return Case(step, lambda: [model, opt], inputs=inputs)

    same_as_eager(setup, calls=6)


def test_out_of_range_target_class_raises_on_a_replayed_call():
    def setup():
        model = mlp()
        model.eval()

        def step(x, target):
            x = x.clone().requires_grad_()
            loss = F.nll_loss(F.log_softmax(model(x), 1), target)
            g, = chainrule.autograd.grad(loss, x)
            return (x - 0.1 * g.sign()).clamp(0, 1)

        def inputs(i):
            x, y = vectors(i)
            if i == 3:
                y[2] = 3
            if i == 4:
                y[0] = -1
            return x, y

        return Case(step, lambda: [model], inputs=inputs)

    same_as_eager(setup, calls=6)


def test_attack_only_a_random_half_of_the_batch_boolean_mask():
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            mask = chainrule.rand(x.shape[0]) < 0.5
            x_adv = x.clone()
            if mask.any():
                xs = x[mask].clone().requires_grad_()
                F.cross_entropy(model(xs), y[mask]).backward()
                x_adv[mask] = (xs + 0.1 * xs.grad.sign()).clamp(0, 1).detach()
            opt.zero_grad()
            loss = F.cross_entropy(model(x_adv), y)
            loss.backward()
            opt.step()
            return loss, mask

        return Case(step, lambda: [model, opt], inputs=lambda i: vectors(i, n=6))

    same_as_eager(setup, calls=6)


def test_python_and_numpy_random_decide_whether_and_how_hard_to_attack():
    import random

    def setup():
        random.seed(3)
        np.random.seed(3)
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            eps = float(np.random.uniform(0.0, 0.2))
            if random.random() < 0.5:
                x = x.clone().requires_grad_()
                F.cross_entropy(model(x), y).backward()
                x = (x + eps * x.grad.sign()).clamp(0, 1).detach()
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss, eps

        return Case(step, lambda: [model, opt], inputs=vectors)

    same_as_eager(setup, calls=6)


def test_eps_warmup_schedule_from_a_counter_the_step_increments():
    class AdvTrainer:
        def __init__(self):
            self.model = mlp()
            self.opt = optim.SGD(self.model.parameters(), lr=0.1)
            self.step_count = 0
            self.eps_max, self.ramp = 0.2, 3

        def train_step(self, x, y):
            eps = self.eps_max * min(1.0, self.step_count / self.ramp)
            self.step_count += 1
            if eps == 0:
                x_adv = x
            else:
                x_adv = x.clone().requires_grad_()
                F.cross_entropy(self.model(x_adv), y).backward()
                x_adv = (x_adv + eps * x_adv.grad.sign()).clamp(0, 1).detach()
            self.opt.zero_grad()
            loss = F.cross_entropy(self.model(x_adv), y)
            loss.backward()
            self.opt.step()
            return loss, eps

    def setup():
        t = AdvTrainer()
        return Case(t.train_step, lambda: [t.model, t.opt, t.step_count], inputs=vectors)

    same_as_eager(setup, calls=6)


def test_noncontiguous_channels_last_images_attacked_in_place():
    def setup():
        model = SmallCNN(c=2, bn=False)
        model.eval()
        held = Holder()

        def step(x, y):
            x.requires_grad_()
            F.cross_entropy(model(x), y).backward()
            with chainrule.no_grad():
                x.add_(0.05 * x.grad.sign()).clamp_(0, 1)
            return x.grad.sum(dim=(2, 3)), x.is_contiguous()

        def inputs(i):
            x, y = images(i, c=2)
            if i in (1, 2, 4):
                x = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
            return x, y

        return Case(step, lambda: [held.view()], inputs=held.keep(inputs))

    same_as_eager(setup, calls=5)


def test_training_through_a_create_graph_l2_perturbation():
    """x_adv = x + eps * g / ||g|| with g from autograd.grad(create_graph=True): the update
    differentiates through the attack (second order), and x.grad is filled by the final backward."""
    def setup():
        model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3)).double()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y, eps):
            x = x.clone().requires_grad_()
            g, = chainrule.autograd.grad(F.cross_entropy(model(x), y), x, create_graph=True)
            x_adv = x + eps * g / (g.norm(dim=1, keepdim=True) + 1e-6)
            opt.zero_grad()
            loss = F.cross_entropy(model(x_adv), y)
            loss.backward()
            opt.step()
            return loss, x.grad

        return Case(step, lambda: [model, opt], inputs=lambda i: vectors(i) + ([0.1, 0.1, 0.5, 0.0, 0.1][i],))

    same_as_eager(setup, calls=5)
