"""chainrule.compile against eager execution where one compiled step trains or uses several models
and optimizers at once: knowledge distillation from a frozen teacher, mean-teacher / BYOL / DINO
style EMA target networks updated inside the step (mul_/add_, lerp, copy_, AveragedModel), Siamese
and contrastive models (NT-Xent, triplet and margin losses), multi-task heads with learnable
uncertainty weights, two optimizers over disjoint parameter sets (one stepping only on some calls),
a backbone frozen then unfrozen, deep copies and state-dict syncs of target networks, parameters
tied between two models, zero_grad orderings, and gradients crossing from one model's loss into
another's parameters.

Each test runs one workflow from the same seeds eagerly
and compiled, and compares bit for bit what the calls return and the parameters, gradients,
optimizer states and buffers of every model after each call. A compiled run may fall back to eager
with at most one warning, never give a different result.
"""
import copy
import warnings

import numpy as np
import pytest

import chainrule
import chainrule as torch
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.optim.swa_utils import AveragedModel
from tests.compile.bitwise import assert_identical

CALLS = 5


def arr(tensor):
    return np.array(tensor.detach().numpy(), copy=True)


def data(index, shape=(6, 4)):
    return torch.tensor(np.random.RandomState(100 + index).standard_normal(shape))


def labels(index, classes=3, n=6):
    return torch.tensor(np.random.RandomState(200 + index).randint(0, classes, size=n))


def returned(value):
    if isinstance(value, torch.Tensor):
        return arr(value)
    if isinstance(value, (list, tuple)):
        return type(value)(returned(item) for item in value)
    if isinstance(value, dict):
        return {key: returned(item) for key, item in value.items()}
    return value


def module_state(*modules):
    found = []
    for module in modules:
        for name, p in module.named_parameters():
            found.append((name, arr(p), None if p.grad is None else arr(p.grad), p.requires_grad))
        for name, b in module.named_buffers():
            found.append((name, arr(b)))
        found.append(module.training)
    return found


def optimizer_state(*optimizers):
    found = []
    for opt in optimizers:
        for group in opt.param_groups:
            for p in group["params"]:
                st = opt.state.get(p, {})
                found.append({key: returned(value) for key, value in sorted(st.items())})
            found.append({key: value for key, value in group.items() if key != "params"})
    return found


def run(scenario, compiled):
    torch.manual_seed(0)
    np.random.seed(0)
    made = []

    def wrap(function):
        if not compiled:
            return function
        made.append(chainrule.compile(function))
        return made[-1]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        observed = scenario(wrap)
    streams = [arr(torch.rand(3))]
    fallbacks = [str(w.message) for w in caught if str(w.message).startswith("chainrule.compile")]
    others = [str(w.message) for w in caught if not str(w.message).startswith("chainrule.compile")]
    return {"observed": observed, "streams": streams, "warnings": others}, fallbacks, made


def same_as_eager(scenario):
    """Compiled against eager, bit for bit; returns the compiled functions' eager reasons."""
    eager, eager_fallbacks, _ = run(scenario, False)
    assert not eager_fallbacks
    compiled, fallbacks, made = run(scenario, True)
    assert len(fallbacks) <= 1, fallbacks
    assert_identical(compiled, eager, "compiled against eager")
    return [function.eager_reason for function in made]


def replays(scenario):
    reasons = same_as_eager(scenario)
    assert reasons == [None] * len(reasons), reasons


def mlp(i=4, h=5, o=3, dropout=0.0, norm=False):
    layers = [nn.Linear(i, h)]
    if norm:
        layers.append(nn.BatchNorm1d(h))
    layers.append(nn.ReLU())
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(h, o))
    return nn.Sequential(*layers).double()


# ----------------------------------------------------------------------------- distillation
def distillation(T_argument):
    def scenario(wrap):
        teacher = mlp(dropout=0.3, norm=True)
        teacher.eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
        student = mlp(h=3, dropout=0.2, norm=True)
        opt = optim.Adam(student.parameters(), lr=0.01)
        T = 2.0

        def step(x, y, alpha, temperature=T):
            opt.zero_grad()
            with torch.no_grad():
                t_logits = teacher(x)
            s_logits = student(x)
            soft = F.kl_div(F.log_softmax(s_logits / temperature, dim=1), F.softmax(t_logits / temperature, dim=1),
                            reduction="batchmean") * temperature * temperature
            hard = F.cross_entropy(s_logits, y)
            loss = alpha * soft + (1 - alpha) * hard
            loss.backward()
            opt.step()
            return loss.detach(), soft.detach(), t_logits

        step = wrap(step)
        results = []
        for index in range(CALLS):
            alpha = torch.tensor(0.5 + 0.1 * index, dtype=torch.float64)
            if T_argument:
                results.append(returned(step(data(index), labels(index), alpha, 1.0 + index % 2)))
            else:
                results.append(returned(step(data(index), labels(index), alpha)))
            results.append(module_state(student, teacher))
            results.append(optimizer_state(opt))
        return results

    return scenario


def test_distillation_from_a_frozen_eval_teacher_under_no_grad():
    replays(distillation(False))


def test_distillation_with_the_temperature_a_python_float_alternating():
    same_as_eager(distillation(True))


def test_distillation_with_log_target_and_teacher_left_requiring_grad():
    def scenario(wrap):
        teacher = mlp()
        teacher.eval()
        student = mlp(h=4)
        opt = optim.SGD(student.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            with torch.no_grad():
                t = F.log_softmax(teacher(x) / 3.0, dim=-1)
            s = F.log_softmax(student(x) / 3.0, dim=-1)
            loss = F.kl_div(s, t, reduction="batchmean", log_target=True) * 9.0 + F.nll_loss(s, y)
            loss.backward()
            opt.step()
            return loss, t.requires_grad

        step = wrap(step)
        results = []
        for index in range(CALLS):
            results.append(returned(step(data(index), labels(index))))
            results.append(module_state(student, teacher))
        return results

    replays(scenario)


# ----------------------------------------------------------------------------- EMA targets
def ema_training(update, momentum_as):
    """A mean teacher: the student trains on CE plus consistency with the EMA teacher, which
    ``update(ema, student, m)`` moves inside the step; the momentum follows a schedule."""

    def scenario(wrap):
        student = mlp(norm=True)
        ema = copy.deepcopy(student)
        for p in ema.parameters():
            p.requires_grad_(False)
        opt = optim.SGD(student.parameters(), lr=0.1)
        schedule = [0.9, 0.95, 0.99, 0.5, 0.0, 0.999]
        counter = [0]

        def step(x, y, m=None):
            if momentum_as == "closure":
                m = schedule[counter[0]]
                counter[0] += 1
            opt.zero_grad()
            out = student(x)
            with torch.no_grad():
                target = F.softmax(ema(x + 0.1), dim=1)
            loss = F.cross_entropy(out, y) + F.mse_loss(F.softmax(out, dim=1), target)
            loss.backward()
            opt.step()
            with torch.no_grad():
                update(ema, student, m)
            return loss

        step = wrap(step)
        results = []
        for index in range(CALLS):
            if momentum_as == "closure":
                results.append(returned(step(data(index), labels(index))))
            elif momentum_as == "float":
                results.append(returned(step(data(index), labels(index), schedule[index])))
            else:
                results.append(returned(step(data(index), labels(index), torch.tensor(schedule[index], dtype=torch.float64))))
            results.append(module_state(student, ema))
        return results

    return scenario


def mul_add(ema, student, m):
    for ema_p, p in zip(ema.parameters(), student.parameters()):
        ema_p.mul_(m).add_(p.detach(), alpha=1 - m) if not isinstance(m, torch.Tensor) else ema_p.mul_(m).add_(p.detach() * (1 - m))
    for ema_b, b in zip(ema.buffers(), student.buffers()):
        ema_b.copy_(b)


def lerp(ema, student, m):
    for ema_p, p in zip(ema.parameters(), student.parameters()):
        ema_p.copy_(torch.lerp(ema_p, p.detach(), 1 - m))


def lerp_inplace(ema, student, m):
    for ema_p, p in zip(ema.parameters(), student.parameters()):
        ema_p.lerp_(p, 1 - m)


def copy_formula(ema, student, m):
    for ema_p, p in zip(ema.state_dict().values(), student.state_dict().values()):
        if ema_p.dtype.is_floating_point:
            ema_p.copy_(ema_p * m + p * (1 - m))
        else:
            ema_p.copy_(p)


@pytest.mark.parametrize("update", [mul_add, lerp, lerp_inplace, copy_formula], ids=lambda f: f.__name__)
@pytest.mark.parametrize("momentum_as", ["closure", "float", "tensor"])
def test_mean_teacher_ema_updated_inside_the_step(update, momentum_as):
    same_as_eager(ema_training(update, momentum_as))


@pytest.mark.parametrize("update", [mul_add, lerp, copy_formula], ids=lambda f: f.__name__)
def test_mean_teacher_ema_with_the_momentum_a_tensor_replays(update):
    replays(ema_training(update, "tensor"))


def test_averaged_model_with_a_custom_avg_fn_updated_inside_the_step():
    def scenario(wrap):
        net = mlp(norm=True)
        decay = [0.9]
        swa = AveragedModel(net, avg_fn=lambda avg, p, n: decay[0] * avg + (1 - decay[0]) * p, use_buffers=True)
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.5)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            swa.update_parameters(net)
            with torch.no_grad():
                avg_out = swa(x)
            return loss, avg_out

        step = wrap(step)
        results = []
        for index in range(CALLS):
            decay[0] = 0.9 + 0.02 * index
            results.append(returned(step(data(index), labels(index))))
            results.append(module_state(net, swa))
        return results

    same_as_eager(scenario)


def test_averaged_model_default_swa_average_counting_updates():
    def scenario(wrap):
        net = mlp()
        swa = AveragedModel(net)
        opt = optim.Adam(net.parameters(), lr=0.02)

        def step(x, y, average):
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            if average:
                swa.update_parameters(net)
            return loss

        step = wrap(step)
        results = []
        for index in range(CALLS + 1):
            results.append(returned(step(data(index), labels(index), index % 3 != 1)))
            results.append(module_state(net, swa))
        return results

    same_as_eager(scenario)


def byol(predictor_lr_argument=False):
    def scenario(wrap):
        online = mlp(o=4, norm=True)
        predictor = mlp(i=4, h=3, o=4)
        target = copy.deepcopy(online)
        target.requires_grad_(False)
        opt = optim.Adam(list(online.parameters()) + list(predictor.parameters()), lr=0.01)

        def loss_fn(p, z):
            return 2 - 2 * (F.normalize(p, dim=-1) * F.normalize(z, dim=-1)).sum(dim=-1).mean()

        def step(x, tau):
            v1 = x + 0.1 * torch.randn_like(x)
            v2 = x * (1 + 0.1 * torch.rand_like(x))
            p1, p2 = predictor(online(v1)), predictor(online(v2))
            with torch.no_grad():
                z1, z2 = target(v1), target(v2)
            loss = loss_fn(p1, z2.detach()) + loss_fn(p2, z1.detach())
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                for t, o in zip(target.parameters(), online.parameters()):
                    t.mul_(tau).add_((1 - tau) * o)
            return loss

        step = wrap(step)
        results = []
        for index in range(CALLS):
            tau = torch.tensor(1 - 0.1 * (index + 1), dtype=torch.float64)
            results.append(returned(step(data(index), tau)))
            results.append(module_state(online, predictor, target))
            results.append(optimizer_state(opt))
        return results

    return scenario


def test_byol_online_predictor_and_ema_target_with_random_views():
    replays(byol())


def test_dino_with_center_buffer_teacher_temperature_schedule_and_ema():
    def scenario(wrap):
        student = mlp(o=6)
        teacher = copy.deepcopy(student)
        for p in teacher.parameters():
            p.requires_grad = False
        center = torch.zeros(1, 6, dtype=torch.float64)
        opt = optim.AdamW(student.parameters(), lr=0.01, weight_decay=0.04)

        def step(crops, teacher_temp, m):
            nonlocal center
            s_out = [student(c) / 0.1 for c in crops]
            with torch.no_grad():
                t_out = [teacher(c) for c in crops[:2]]
                t_soft = [F.softmax((t - center) / teacher_temp, dim=-1) for t in t_out]
            loss, terms = 0, 0
            for iq, q in enumerate(t_soft):
                for v, s in enumerate(s_out):
                    if v == iq:
                        continue
                    loss = loss + torch.sum(-q * F.log_softmax(s, dim=-1), dim=-1).mean()
                    terms += 1
            loss = loss / terms
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                for pt, ps in zip(teacher.parameters(), student.parameters()):
                    pt.data.mul_(m).add_((1 - m) * ps.detach().data)
                batch_center = torch.cat(t_out).mean(dim=0, keepdim=True)
                center = center * 0.9 + batch_center * 0.1
            return loss

        step = wrap(step)
        results = []
        for index in range(CALLS):
            crops = [data(index), data(index + 10), data(index + 20)]
            temp = torch.tensor(0.04 + 0.01 * index, dtype=torch.float64)
            m = torch.tensor(0.99 - 0.01 * index, dtype=torch.float64)
            results.append(returned(step(crops, temp, m)))
            results.append(module_state(student, teacher))
            results.append(arr(center))
        return results

    replays(scenario)


# ----------------------------------------------------------------------------- contrastive / Siamese
def test_simclr_nt_xent_with_a_shared_encoder_on_two_views():
    def scenario(wrap):
        encoder = mlp(o=4, norm=True)
        head = nn.Linear(4, 3).double()
        opt = optim.SGD(list(encoder.parameters()) + list(head.parameters()), lr=0.1, momentum=0.9)

        def nt_xent(z1, z2, temperature):
            z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
            n = z1.shape[0]
            sim = z @ z.t() / temperature
            mask = torch.eye(2 * n, dtype=torch.float64).bool()
            sim = sim.masked_fill(mask, float("-inf"))
            targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
            return F.cross_entropy(sim, targets)

        def step(x, temperature):
            v1 = x + 0.05 * torch.randn(x.shape, dtype=x.dtype)
            v2 = torch.flip(x, dims=[1]) * 0.5
            loss = nt_xent(head(encoder(v1)), head(encoder(v2)), temperature)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        step = wrap(step)
        results = []
        for index in range(CALLS):
            results.append(returned(step(data(index), torch.tensor(0.5 - 0.05 * index, dtype=torch.float64))))
            results.append(module_state(encoder, head))
            results.append(optimizer_state(opt))
        return results

    replays(scenario)


def test_triplet_and_margin_losses_on_a_siamese_encoder():
    def scenario(wrap):
        encoder = mlp(o=4)
        triplet = nn.TripletMarginLoss(margin=1.0, p=2)
        opt = optim.RMSprop(encoder.parameters(), lr=0.01)

        def step(a, p, n, sign, margin):
            ea, ep, en = encoder(a), encoder(p), encoder(n)
            loss = triplet(ea, ep, en)
            loss = loss + F.triplet_margin_loss(ea, ep, en, margin=margin, swap=True)
            loss = loss + F.margin_ranking_loss(ea.sum(1), en.sum(1), sign, margin=0.5)
            loss = loss + F.cosine_embedding_loss(ea, en, sign, margin=0.1)
            loss = loss + F.pairwise_distance(ea, ep).mean() * 0.1
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        step = wrap(step)
        results = []
        for index in range(CALLS):
            sign = torch.tensor(np.where(np.arange(6) % (index + 2) == 0, 1.0, -1.0))
            results.append(returned(step(data(index), data(index) * 0.9, data(index + 7), sign, 0.5)))
            results.append(module_state(encoder))
            results.append(optimizer_state(opt))
        return results

    replays(scenario)


# ----------------------------------------------------------------------------- multi-task
def test_multi_task_heads_with_learnable_uncertainty_weights():
    def scenario(wrap):
        trunk = mlp(o=5)
        cls_head = nn.Linear(5, 3).double()
        reg_head = nn.Linear(5, 2).double()
        log_vars = nn.Parameter(torch.zeros(2, dtype=torch.float64))
        opt = optim.Adam([
            {"params": list(trunk.parameters()) + list(cls_head.parameters()) + list(reg_head.parameters())},
            {"params": [log_vars], "lr": 0.1},
        ], lr=0.01)

        def step(x, y, r):
            feats = trunk(x)
            losses = [F.cross_entropy(cls_head(feats), y), F.smooth_l1_loss(reg_head(feats), r)]
            total = sum(torch.exp(-log_vars[i]) * l + log_vars[i] for i, l in enumerate(losses))
            opt.zero_grad()
            total.backward()
            opt.step()
            return total, [l.detach() for l in losses]

        step = wrap(step)
        results = []
        for index in range(CALLS):
            results.append(returned(step(data(index), labels(index), data(index, (6, 2)))))
            results.append(module_state(trunk, cls_head, reg_head))
            results.append([arr(log_vars), arr(log_vars.grad)])
            results.append(optimizer_state(opt))
        return results

    replays(scenario)


# ----------------------------------------------------------------------------- several optimizers
def two_optimizers(second_every):
    def scenario(wrap):
        encoder = mlp(o=4)
        decoder = mlp(i=4, h=5, o=4)
        opt_e = optim.SGD(encoder.parameters(), lr=0.05, momentum=0.9, nesterov=True)
        opt_d = optim.Adam(decoder.parameters(), lr=0.01, amsgrad=True)

        def step(x, step_decoder):
            opt_e.zero_grad()
            if step_decoder:
                opt_d.zero_grad()
            loss = F.mse_loss(decoder(encoder(x)), x)
            loss.backward()
            opt_e.step()
            if step_decoder:
                opt_d.step()
            return loss

        step = wrap(step)
        results = []
        for index in range(CALLS + 1):
            results.append(returned(step(data(index), second_every(index))))
            results.append(module_state(encoder, decoder))
            results.append(optimizer_state(opt_e, opt_d))
        return results

    return scenario


def test_two_optimizers_over_disjoint_parameters_stepping_in_one_call():
    replays(two_optimizers(lambda index: True))


def test_a_second_optimizer_stepping_only_when_a_bool_argument_says():
    same_as_eager(two_optimizers(lambda index: index % 2 == 1))


def test_a_second_optimizer_whose_first_step_comes_late():
    same_as_eager(two_optimizers(lambda index: index >= 3))


def test_gan_style_two_losses_two_optimizers_in_one_call_with_grads_crossing():
    """The generator's loss flows into the discriminator's parameters (no detach); the step zeroes
    the discriminator's grads with ``model.zero_grad()`` before its own backward."""

    def scenario(wrap):
        gen = mlp(i=2, h=4, o=4)
        disc = mlp(i=4, h=3, o=1)
        opt_g = optim.Adam(gen.parameters(), lr=0.01, betas=(0.5, 0.9))
        opt_d = optim.SGD(disc.parameters(), lr=0.05)

        def step(real, noise):
            fake = gen(noise)
            opt_g.zero_grad()
            g_loss = F.binary_cross_entropy_with_logits(disc(fake), torch.ones(6, 1, dtype=torch.float64))
            g_loss.backward(retain_graph=True)  # also fills disc grads
            disc_grad_after_g = [arr(p.grad) for p in disc.parameters()]
            disc.zero_grad()
            d_loss = F.binary_cross_entropy_with_logits(disc(real), torch.ones(6, 1, dtype=torch.float64)) + \
                F.binary_cross_entropy_with_logits(disc(fake), torch.zeros(6, 1, dtype=torch.float64))
            d_loss.backward()  # fake not detached: adds to gen grads
            opt_g.step()
            opt_d.step()
            return g_loss, d_loss, disc_grad_after_g

        step = wrap(step)
        results = []
        for index in range(CALLS):
            results.append(returned(step(data(index), data(index + 5, (6, 2)))))
            results.append(module_state(gen, disc))
            results.append(optimizer_state(opt_g, opt_d))
        return results

    same_as_eager(scenario)


@pytest.mark.parametrize("order", ["model_zero_grad_after_backward", "opt_zero_grad_set_to_none_false", "zero_before_backward_of_other"])
def test_zero_grad_orderings_between_two_models_sharing_a_loss(order):
    def scenario(wrap):
        a = mlp(o=4)
        b = mlp(i=4, h=3, o=2)
        opt_a = optim.SGD(a.parameters(), lr=0.1)
        opt_b = optim.SGD(b.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            loss = F.mse_loss(b(a(x)), y)
            if order == "model_zero_grad_after_backward":
                loss.backward()
                opt_b.step()
                a.zero_grad()  # a accumulates nothing, never steps with a grad
                opt_a.step()
                b.zero_grad(set_to_none=False)
            elif order == "opt_zero_grad_set_to_none_false":
                opt_a.zero_grad(set_to_none=False)
                loss.backward()
                opt_a.step()
                opt_b.step()  # b's grads accumulate over calls
            else:
                opt_b.zero_grad()
                loss.backward(retain_graph=True)
                opt_a.zero_grad()
                (loss * 2).backward()
                opt_a.step()
                opt_b.step()
            return loss

        step = wrap(step)
        results = []
        for index in range(CALLS):
            results.append(returned(step(data(index), data(index, (6, 2)))))
            results.append(module_state(a, b))
            results.append(optimizer_state(opt_a, opt_b))
        return results

    same_as_eager(scenario)


# ----------------------------------------------------------------------------- freezing, copies, syncs
def test_backbone_frozen_for_the_first_calls_then_unfrozen_between_calls():
    def scenario(wrap):
        backbone = mlp(o=4)
        head = nn.Linear(4, 3).double()
        opt_head = optim.Adam(head.parameters(), lr=0.01)
        opt_back = optim.SGD(backbone.parameters(), lr=0.05, momentum=0.9)
        backbone.requires_grad_(False)

        def step(x, y):
            opt_head.zero_grad()
            opt_back.zero_grad()
            loss = F.cross_entropy(head(backbone(x)), y)
            loss.backward()
            opt_head.step()
            opt_back.step()
            return loss

        step = wrap(step)
        results = []
        for index in range(CALLS + 1):
            if index == 2:
                backbone.requires_grad_(True)
            if index == 4:
                backbone[0].requires_grad_(False)
            results.append(returned(step(data(index), labels(index))))
            results.append(module_state(backbone, head))
            results.append(optimizer_state(opt_head, opt_back))
        return results

    same_as_eager(scenario)


def deepcopy_target(inside):
    def scenario(wrap):
        online = mlp(norm=True)
        holder = {"target": copy.deepcopy(online)}
        opt = optim.SGD(online.parameters(), lr=0.1)

        def step(x, y, refresh):
            if inside and refresh:
                holder["target"] = copy.deepcopy(online)
                holder["target"].eval()
            with torch.no_grad():
                t = holder["target"](x).argmax(dim=1)
            loss = F.cross_entropy(online(x), t) + F.cross_entropy(online(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        step = wrap(step)
        results = []
        for index in range(CALLS + 1):
            refresh = index % 2 == 0
            if not inside and refresh:
                holder["target"] = copy.deepcopy(online)
                holder["target"].eval()
            results.append(returned(step(data(index), labels(index), refresh)))
            results.append(module_state(online, holder["target"]))
        return results

    return scenario


@pytest.mark.parametrize("inside", [False, True], ids=["outside", "inside"])
def test_target_network_deep_copied(inside):
    same_as_eager(deepcopy_target(inside))


def load_state_dict_target(where):
    def scenario(wrap):
        online = mlp(norm=True)
        target = mlp(norm=True)
        target.load_state_dict(online.state_dict())
        opt = optim.Adam(online.parameters(), lr=0.01)
        count = [0]

        def step(x, y):
            q = online(x)
            with torch.no_grad():
                next_q = target(x * 0.5).max(dim=1).values
            loss = F.smooth_l1_loss(q.gather(1, y[:, None]).squeeze(1), 0.9 * next_q + 1.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            count[0] += 1
            if where == "inside" and count[0] % 2 == 0:
                target.load_state_dict(online.state_dict())
            return loss

        step = wrap(step)
        results = []
        for index in range(CALLS + 1):
            results.append(returned(step(data(index), labels(index))))
            if where == "outside" and index % 2 == 1:
                target.load_state_dict(online.state_dict())
            results.append(module_state(online, target))
        return results

    return scenario


@pytest.mark.parametrize("where", ["outside", "inside"])
def test_target_network_synced_with_load_state_dict(where):
    same_as_eager(load_state_dict_target(where))


def test_a_tied_embedding_shared_between_two_models_with_two_optimizers():
    def scenario(wrap):
        shared = nn.Embedding(7, 4).double()
        enc = nn.Sequential(shared, nn.Linear(4, 4).double())
        dec = nn.Linear(4, 7).double()
        dec.weight = shared.weight  # tied
        opt_enc = optim.SGD(enc.parameters(), lr=0.1)
        opt_dec = optim.SGD([dec.bias], lr=0.2, momentum=0.5)

        def step(tokens):
            opt_enc.zero_grad()
            opt_dec.zero_grad()
            logits = dec(enc(tokens))
            loss = F.cross_entropy(logits.reshape(-1, 7), tokens.reshape(-1))
            loss.backward()
            opt_enc.step()
            opt_dec.step()
            return loss

        step = wrap(step)
        results = []
        for index in range(CALLS):
            tokens = torch.tensor(np.random.RandomState(index).randint(0, 7, size=(2, 3)))
            results.append(returned(step(tokens)))
            results.append(module_state(enc, dec))
            results.append(dec.weight is shared.weight)
        return results

    replays(scenario)


def test_a_parameter_listed_in_two_optimizers_stepped_twice_per_call():
    def scenario(wrap):
        shared = nn.Linear(4, 4).double()
        a = nn.Sequential(shared, nn.Tanh(), nn.Linear(4, 2).double())
        b = nn.Sequential(shared, nn.Sigmoid(), nn.Linear(4, 1).double())
        opt_a = optim.Adam(a.parameters(), lr=0.01)
        opt_b = optim.SGD(b.parameters(), lr=0.05, momentum=0.9)

        def step(x, ya, yb):
            opt_a.zero_grad()
            opt_b.zero_grad()
            loss = F.mse_loss(a(x), ya) + F.mse_loss(b(x), yb)
            loss.backward()
            opt_a.step()
            opt_b.step()
            return loss

        step = wrap(step)
        results = []
        for index in range(CALLS):
            results.append(returned(step(data(index), data(index, (6, 2)), data(index, (6, 1)))))
            results.append(module_state(a, b))
            results.append(optimizer_state(opt_a, opt_b))
        return results

    replays(scenario)


# ----------------------------------------------------------------------------- replaying variants and harder changes
def sync_by_argument(how):
    """The sync of the target decided by a bool argument (no Python counter), so calls replay."""

    def scenario(wrap):
        online = mlp(norm=True)
        target = mlp(norm=True)
        target.load_state_dict(online.state_dict())
        opt = optim.Adam(online.parameters(), lr=0.01)

        def step(x, y, sync):
            q = online(x)
            with torch.no_grad():
                next_q = target(x * 0.5).max(dim=1).values
            loss = F.smooth_l1_loss(q.gather(1, y[:, None]).squeeze(1), 0.9 * next_q + 1.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sync:
                if how == "load_state_dict":
                    target.load_state_dict(online.state_dict())
                elif how == "copy_":
                    with torch.no_grad():
                        for t, o in zip(target.state_dict().values(), online.state_dict().values()):
                            t.copy_(o)
                else:
                    with torch.no_grad():
                        nn.utils.vector_to_parameters(nn.utils.parameters_to_vector(online.parameters()), target.parameters())
            return loss.detach()

        step = wrap(step)
        results = []
        for index in range(CALLS + 1):
            results.append(returned(step(data(index), labels(index), index % 2 == 1)))
            results.append(module_state(online, target))
        return results

    return scenario


@pytest.mark.parametrize("how", ["load_state_dict", "copy_", "vector_to_parameters"])
def test_target_synced_inside_the_step_when_a_bool_argument_says(how):
    replays(sync_by_argument(how))


def test_ema_momentum_picked_from_a_schedule_by_an_int_argument():
    def scenario(wrap):
        student = mlp()
        ema = copy.deepcopy(student).requires_grad_(False)
        opt = optim.SGD(student.parameters(), lr=0.1)
        schedule = [0.5, 0.9, 0.99, 0.9, 0.5, 0.0]

        def step(x, y, epoch):
            m = schedule[epoch]
            opt.zero_grad()
            loss = F.cross_entropy(student(x), y)
            loss.backward()
            opt.step()
            with torch.no_grad():
                for e, p in zip(ema.parameters(), student.parameters()):
                    e.mul_(m).add_(p.detach(), alpha=1 - m)
            return loss.detach()

        step = wrap(step)
        results = []
        for index in range(CALLS + 1):
            results.append(returned(step(data(index), labels(index), [0, 1, 1, 2, 0, 5][index])))
            results.append(module_state(student, ema))
        return results

    same_as_eager(scenario)


def test_ema_target_initialised_by_copy_on_the_first_call_only():
    def scenario(wrap):
        student = mlp()
        ema = mlp().requires_grad_(False)
        opt = optim.SGD(student.parameters(), lr=0.1, momentum=0.9)

        def step(x, y, first, m):
            opt.zero_grad()
            loss = F.cross_entropy(student(x), y)
            loss.backward()
            opt.step()
            with torch.no_grad():
                for e, p in zip(ema.parameters(), student.parameters()):
                    if first:
                        e.copy_(p)
                    else:
                        e.copy_(torch.lerp(e, p, 1 - m))
            return loss.detach()

        step = wrap(step)
        results = []
        for index in range(CALLS + 1):
            m = torch.tensor(0.9 - 0.1 * index, dtype=torch.float64)
            results.append(returned(step(data(index), labels(index), index == 0 or index == 3, m)))
            results.append(module_state(student, ema))
        return results

    replays(scenario)


def test_teacher_switched_between_eval_and_train_between_calls():
    """The teacher's dropout and batch-norm mode flips between calls: in train mode under no_grad
    its running stats move and dropout draws from the random stream."""

    def scenario(wrap):
        teacher = mlp(dropout=0.5, norm=True).requires_grad_(False)
        student = mlp(h=3)
        opt = optim.Adam(student.parameters(), lr=0.01)

        def step(x, y):
            with torch.no_grad():
                t = teacher(x)
            s = student(x)
            loss = F.kl_div(F.log_softmax(s / 2.0, dim=1), F.softmax(t / 2.0, dim=1), reduction="batchmean") * 4.0 \
                + F.cross_entropy(s, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.detach()

        step = wrap(step)
        results = []
        for index in range(CALLS + 1):
            teacher.train(index in (2, 3, 5))
            results.append(returned(step(data(index), labels(index))))
            results.append(module_state(student, teacher))
        return results

    replays(scenario)


def test_distillation_with_a_smaller_last_batch():
    def scenario(wrap):
        teacher = mlp().eval()
        student = mlp(h=3)
        opt = optim.SGD(student.parameters(), lr=0.1)

        def step(x, y):
            with torch.no_grad():
                t = teacher(x)
            s = student(x)
            loss = F.kl_div(F.log_softmax(s, dim=1), F.softmax(t, dim=1), reduction="batchmean") + F.cross_entropy(s, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.detach()

        step = wrap(step)
        results = []
        for index in range(CALLS + 1):
            n = 6 if index % 3 != 2 else 2
            results.append(returned(step(data(index, (n, 4)), labels(index, n=n))))
            results.append(module_state(student))
        return results

    replays(scenario)


def test_freezing_a_backbone_inside_the_step_by_a_bool_argument():
    def scenario(wrap):
        backbone = mlp(o=4)
        head = nn.Linear(4, 3).double()
        opt = optim.SGD(list(backbone.parameters()) + list(head.parameters()), lr=0.1, momentum=0.9, weight_decay=0.01)

        def step(x, y, frozen):
            backbone.requires_grad_(not frozen)
            opt.zero_grad()
            loss = F.cross_entropy(head(backbone(x)), y)
            loss.backward()
            opt.step()
            return loss.detach()

        step = wrap(step)
        results = []
        for index in range(CALLS + 1):
            results.append(returned(step(data(index), labels(index), index in (0, 1, 4))))
            results.append(module_state(backbone, head))
            results.append(optimizer_state(opt))
        return results

    same_as_eager(scenario)


def test_a_new_deep_copy_made_inside_every_call_and_returned():
    def scenario(wrap):
        online = mlp(norm=True)
        opt = optim.SGD(online.parameters(), lr=0.1)

        def step(x, y):
            snapshot = copy.deepcopy(online)
            loss = F.cross_entropy(online(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                drift = sum(((a - b) ** 2).sum() for a, b in zip(online.parameters(), snapshot.parameters()))
            return loss.detach(), drift, snapshot

        step = wrap(step)
        results = []
        snapshots = []
        for index in range(CALLS):
            loss, drift, snapshot = step(data(index), labels(index))
            snapshots.append(snapshot)
            results.append(returned((loss, drift)))
            results.append(module_state(online, snapshot))
        results.append([snapshots[0] is snapshots[1], module_state(snapshots[0])])
        return results

    same_as_eager(scenario)


def test_the_teacher_without_eval_under_no_grad_moves_its_batch_norm_stats():
    def scenario(wrap):
        online = mlp(norm=True)
        target = copy.deepcopy(online)  # left in train mode
        opt = optim.SGD(online.parameters(), lr=0.1)

        def step(x, y, m):
            with torch.no_grad():
                t = target(x).argmax(dim=1)
            loss = F.cross_entropy(online(x), t) + F.cross_entropy(online(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                for a, b in zip(target.parameters(), online.parameters()):
                    a.copy_(a * m + b * (1 - m))
            return loss.detach(), t

        step = wrap(step)
        results = []
        for index in range(CALLS):
            results.append(returned(step(data(index), labels(index), torch.tensor(0.8, dtype=torch.float64))))
            results.append(module_state(online, target))
        return results

    replays(scenario)


def test_second_optimizer_lr_changed_between_calls_and_stepped_by_argument():
    def scenario(wrap):
        a = mlp(o=4)
        b = nn.Linear(4, 3).double()
        opt_a = optim.Adam(a.parameters(), lr=0.01)
        opt_b = optim.SGD(b.parameters(), lr=0.1, momentum=0.9)

        def step(x, y, both):
            opt_a.zero_grad()
            opt_b.zero_grad()
            loss = F.cross_entropy(b(a(x)), y)
            loss.backward()
            opt_a.step()
            if both:
                opt_b.step()
            return loss.detach()

        step = wrap(step)
        results = []
        for index in range(CALLS + 1):
            opt_b.param_groups[0]["lr"] = 0.1 / (index + 1)
            opt_a.param_groups[0]["betas"] = (0.9, 0.99 if index < 3 else 0.9)
            results.append(returned(step(data(index), labels(index), index != 2)))
            results.append(module_state(a, b))
            results.append(optimizer_state(opt_a, opt_b))
        return results

    same_as_eager(scenario)


def test_a_student_trained_on_the_teachers_output_without_detach_trains_both():
    """No detach between the two models: the student's loss reaches the teacher's parameters, and
    each model's optimizer steps; the teacher's grads accumulate as it zeroes them only on some calls."""

    def scenario(wrap):
        teacher = mlp(o=4)
        student = mlp(i=4, h=4, o=3)
        opt_t = optim.SGD(teacher.parameters(), lr=0.05)
        opt_s = optim.Adam(student.parameters(), lr=0.01)

        def step(x, y, zero_teacher):
            if zero_teacher:
                opt_t.zero_grad()
            opt_s.zero_grad()
            loss = F.cross_entropy(student(torch.tanh(teacher(x))), y)
            loss.backward()
            opt_s.step()
            opt_t.step()
            return loss.detach()

        step = wrap(step)
        results = []
        for index in range(CALLS + 1):
            results.append(returned(step(data(index), labels(index), index % 3 == 0)))
            results.append(module_state(teacher, student))
        return results

    replays(scenario)


# ----------------------------------------------------------------------------- more EMA forms, MoCo, PCGrad, mining
def ema_by(form):
    def scenario(wrap):
        student = mlp(norm=True)
        ema = copy.deepcopy(student).requires_grad_(False)
        opt = optim.SGD(student.parameters(), lr=0.1)

        @torch.no_grad()
        def update(m):
            if form == "data_rebound":
                for e, p in zip(ema.parameters(), student.parameters()):
                    e.data = m * e.data + (1 - m) * p.data
            elif form == "timm_all_state":  # ints too: num_batches_tracked goes through float and back
                for e, v in zip(ema.state_dict().values(), student.state_dict().values()):
                    e.copy_(e * m + (1.0 - m) * v)
            elif form == "sub_mul":
                for e, p in zip(ema.parameters(), student.parameters()):
                    e.sub_((1 - m) * (e - p))

        def step(x, y, m):
            opt.zero_grad()
            loss = F.cross_entropy(student(x), y)
            loss.backward()
            opt.step()
            update(m)
            return loss.detach()

        step = wrap(step)
        results = []
        for index in range(CALLS):
            results.append(returned(step(data(index), labels(index), torch.tensor(0.7 + 0.05 * index, dtype=torch.float64))))
            results.append(module_state(student, ema))
        return results

    return scenario


@pytest.mark.parametrize("form", ["data_rebound", "timm_all_state", "sub_mul"])
def test_ema_forms_under_a_no_grad_decorator(form):
    replays(ema_by(form))


def moco(queue_as):
    def scenario(wrap):
        q_enc = mlp(o=4)
        k_enc = copy.deepcopy(q_enc).requires_grad_(False)
        state = {"queue": F.normalize(torch.randn(8, 4, dtype=torch.float64), dim=1), "ptr": 0}
        opt = optim.SGD(q_enc.parameters(), lr=0.05, momentum=0.9)

        def step(x, m):
            q = F.normalize(q_enc(x + 0.1 * torch.randn_like(x)), dim=1)
            with torch.no_grad():
                for pk, pq in zip(k_enc.parameters(), q_enc.parameters()):
                    pk.mul_(m).add_(pq.detach() * (1 - m))
                k = F.normalize(k_enc(x * 0.9), dim=1)
            l_pos = (q * k).sum(dim=1, keepdim=True)
            l_neg = q @ state["queue"].t()
            logits = torch.cat([l_pos, l_neg], dim=1) / 0.2
            loss = F.cross_entropy(logits, torch.zeros(x.shape[0], dtype=torch.long))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if queue_as == "cat":
                state["queue"] = torch.cat([k, state["queue"]], dim=0)[:8]
            elif queue_as == "copy_":
                state["queue"].copy_(torch.cat([k, state["queue"]], dim=0)[:8])
            else:  # written in place at a pointer kept as a Python int
                n = k.shape[0]
                ptr = state["ptr"]
                state["queue"][ptr:ptr + n] = k[: 8 - ptr] if ptr + n > 8 else k
                state["ptr"] = (ptr + n) % 8
            return loss.detach()

        step = wrap(step)
        results = []
        for index in range(CALLS):
            results.append(returned(step(data(index, (2, 4)), torch.tensor(0.9, dtype=torch.float64))))
            results.append(module_state(q_enc, k_enc))
            results.append([arr(state["queue"]), state["ptr"]])
        return results

    return scenario


def test_moco_with_a_queue_rebound_by_cat_and_a_momentum_key_encoder():
    same_as_eager(moco("cat"))  # runs eagerly: it sets an item of a dict


def test_moco_with_a_queue_updated_in_place_by_copy_replays():
    replays(moco("copy_"))


def test_moco_with_a_queue_written_at_a_python_pointer():
    same_as_eager(moco("pointer"))


def test_pcgrad_two_task_gradients_projected_with_where_and_written_to_grad():
    def scenario(wrap):
        trunk = mlp(o=4)
        heads = [nn.Linear(4, 3).double(), nn.Linear(4, 2).double()]
        shared = list(trunk.parameters())
        opt = optim.Adam(shared + [p for h in heads for p in h.parameters()], lr=0.01)

        def step(x, y, r):
            feats = trunk(x)
            losses = [F.cross_entropy(heads[0](feats), y), F.mse_loss(heads[1](feats), r)]
            opt.zero_grad()
            grads = [torch.autograd.grad(l, shared, retain_graph=True) for l in losses]
            flat = [torch.cat([g.reshape(-1) for g in gs]) for gs in grads]
            dot = (flat[0] * flat[1]).sum()
            g0 = torch.where(dot < 0, flat[0] - dot / (flat[1] * flat[1]).sum() * flat[1], flat[0])
            g1 = torch.where(dot < 0, flat[1] - dot / (flat[0] * flat[0]).sum() * flat[0], flat[1])
            total = g0 + g1
            sum(losses).backward()  # the heads' grads; the trunk's are replaced below
            offset = 0
            for p in shared:
                p.grad = total[offset:offset + p.numel()].reshape(p.shape).clone()
                offset += p.numel()
            opt.step()
            return [l.detach() for l in losses], dot

        step = wrap(step)
        results = []
        for index in range(CALLS):
            results.append(returned(step(data(index), labels(index), data(index, (6, 2)) * (index - 2))))
            results.append(module_state(trunk, *heads))
        return results

    same_as_eager(scenario)  # runs eagerly: autograd.grad is not recorded


def test_triplet_with_batch_hard_mining_over_a_distance_matrix():
    def scenario(wrap):
        encoder = mlp(o=4)
        opt = optim.SGD(encoder.parameters(), lr=0.05)

        def step(x, y):
            e = encoder(x)
            dist = torch.cdist(e, e)
            same = y[:, None] == y[None, :]
            eye = torch.eye(len(y), dtype=torch.float64).bool()
            hardest_pos = dist.masked_fill(~same | eye, float("-inf")).max(dim=1).values
            hardest_neg = dist.masked_fill(same, float("inf")).min(dim=1).values
            valid = torch.isfinite(hardest_pos) & torch.isfinite(hardest_neg)
            per = F.relu(hardest_pos - hardest_neg + 0.5)
            loss = torch.where(valid, per, torch.zeros_like(per)).sum() / valid.sum().clamp(min=1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.detach(), valid

        step = wrap(step)
        results = []
        for index in range(CALLS):
            results.append(returned(step(data(index), labels(index, classes=2 + index % 3))))
            results.append(module_state(encoder))
        return results

    replays(scenario)


def test_a_teacher_run_under_inference_mode_raises_as_eager_when_saved_for_backward():
    def scenario(wrap):
        teacher = mlp().eval()
        student = mlp(h=3)
        opt = optim.SGD(student.parameters(), lr=0.1)

        def step(x, y, clone):
            with torch.inference_mode():
                t = teacher(x)
            if clone:
                t = t.clone()
            loss = (student(x) * t).mean() + F.cross_entropy(student(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.detach()

        step = wrap(step)
        results = []
        for index in range(CALLS):
            try:
                results.append(returned(step(data(index), labels(index), index in (1, 3))))
            except RuntimeError as error:
                results.append(str(error).split(" (")[0])
            results.append(module_state(student))
        return results

    same_as_eager(scenario)


def test_target_loads_the_state_dict_of_a_compiled_online_model_with_prefixed_keys():
    """torch.compile(model).state_dict() has ``_orig_mod.`` keys: loading it into a plain target
    raises (strict) in the step, eagerly and compiled alike; ``online._orig_mod.state_dict()`` works."""

    def scenario(wrap):
        online = mlp()
        target = mlp().requires_grad_(False)
        opt = optim.SGD(online.parameters(), lr=0.1)

        def step(x, y, strict_source):
            loss = F.cross_entropy(online(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            source = torch.compile(online) if strict_source else online
            try:
                target.load_state_dict(source.state_dict())
                outcome = "loaded"
            except RuntimeError as error:
                outcome = str(error)[:40]
            return loss.detach(), outcome

        step = wrap(step)
        results = []
        for index in range(CALLS):
            results.append(returned(step(data(index), labels(index), index % 2 == 0)))
            results.append(module_state(online, target))
        return results

    same_as_eager(scenario)


# ----------------------------------------------------------------------------- aliasing across calls
def test_state_dicts_returned_by_the_step_alias_the_live_weights_read_later():
    """The step returns the target's state_dict (tensors that alias its weights) and the online
    model's parameters list: read after later calls, they show the latest values as in eager."""

    def scenario(wrap):
        online = mlp(norm=True)
        target = copy.deepcopy(online).requires_grad_(False)
        opt = optim.SGD(online.parameters(), lr=0.1)

        def step(x, y, m):
            loss = F.cross_entropy(online(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                for t, o in zip(target.parameters(), online.parameters()):
                    t.mul_(m).add_(o * (1 - m))
            return target.state_dict(), list(online.parameters()), loss.detach()

        step = wrap(step)
        held = []
        for index in range(CALLS):
            held.append(step(data(index), labels(index), torch.tensor(0.5, dtype=torch.float64)))
        return [returned(h) for h in held] + [module_state(online, target)]

    replays(scenario)


def test_load_state_dict_with_assign_ties_the_target_to_the_online_weights():
    def scenario(wrap):
        online = mlp()
        target = mlp()
        opt = optim.SGD(online.parameters(), lr=0.1)

        def step(x, y):
            with torch.no_grad():
                t = target(x)
            loss = F.cross_entropy(online(x), y) + F.mse_loss(online(x), t)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.detach()

        step = wrap(step)
        results = []
        for index in range(CALLS + 1):
            if index == 2:
                target.load_state_dict(online.state_dict(), assign=True)
            results.append(returned(step(data(index), labels(index))))
            results.append(module_state(online, target))
            results.append([a is b for a, b in zip(online.parameters(), target.parameters())])
        return results

    same_as_eager(scenario)


def test_online_and_target_swapped_between_calls_double_q_style():
    def scenario(wrap):
        nets = [mlp(), mlp()]
        opts = [optim.Adam(nets[0].parameters(), lr=0.01), optim.Adam(nets[1].parameters(), lr=0.02)]
        pair = list(zip(nets, opts))

        def step(x, y):
            (online, opt), (target, _) = pair
            with torch.no_grad():
                best = online(x).argmax(dim=1)
                value = target(x).gather(1, best[:, None]).squeeze(1)
            loss = F.mse_loss(online(x).gather(1, y[:, None]).squeeze(1), value + 1.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.detach()

        step = wrap(step)
        results = []
        for index in range(CALLS + 1):
            if index % 2 == 1:
                pair.reverse()
            results.append(returned(step(data(index), labels(index))))
            results.append(module_state(*nets))
            results.append(optimizer_state(*opts))
        return results

    replays(scenario)


def test_ema_parameters_passed_as_a_list_argument_alternating_between_two_targets():
    def scenario(wrap):
        student = mlp()
        slow = copy.deepcopy(student).requires_grad_(False)
        fast = copy.deepcopy(student).requires_grad_(False)
        opt = optim.SGD(student.parameters(), lr=0.1)

        def step(x, y, ema_params, m):
            loss = F.cross_entropy(student(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                for e, p in zip(ema_params, student.parameters()):
                    e.lerp_(p, 1 - m)
            return loss.detach()

        step = wrap(step)
        results = []
        for index in range(CALLS + 1):
            target, m = (slow, 0.99) if index % 2 else (fast, 0.5)
            results.append(returned(step(data(index), labels(index), list(target.parameters()), torch.tensor(m, dtype=torch.float64))))
            results.append(module_state(student, slow, fast))
        return results

    replays(scenario)


def test_optimizer_deep_copied_inside_the_step_for_a_lookahead_probe():
    def scenario(wrap):
        net = mlp()
        opt = optim.Adam(net.parameters(), lr=0.05)

        def step(x, y):
            loss = F.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            probe_net = copy.deepcopy(net)
            probe_opt = optim.Adam(probe_net.parameters(), lr=0.05)
            probe_opt.load_state_dict(opt.state_dict())
            for pp, p in zip(probe_net.parameters(), net.parameters()):
                pp.grad = p.grad.clone()
            probe_opt.step()
            with torch.no_grad():
                ahead = F.cross_entropy(probe_net(x), y)
            opt.step()
            return loss.detach(), ahead

        step = wrap(step)
        results = []
        for index in range(CALLS):
            results.append(returned(step(data(index), labels(index))))
            results.append(module_state(net))
            results.append(optimizer_state(opt))
        return results

    same_as_eager(scenario)


class ModelEMA:
    """YOLOv5's ModelEMA: a decay ramped by an update count kept on the object."""

    def __init__(self, model, decay=0.9, tau=2.0):
        self.ema = copy.deepcopy(model).eval().requires_grad_(False)
        self.updates = 0
        self.decay_base, self.tau = decay, tau

    def update(self, model):
        import math
        self.updates += 1
        d = self.decay_base * (1 - math.exp(-self.updates / self.tau))
        with torch.no_grad():
            msd = model.state_dict()
            for k, v in self.ema.state_dict().items():
                if v.dtype.is_floating_point:
                    v *= d
                    v += (1 - d) * msd[k].detach()


@pytest.mark.parametrize("counted", ["inside", "between_calls"])
def test_yolo_model_ema_with_an_update_count_on_the_object(counted):
    def scenario(wrap):
        net = mlp(norm=True)
        ema = ModelEMA(net)
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True)
        temperature = [1.0]

        def step(x, y):
            with torch.no_grad():
                t = ema.ema(x)
            s = net(x)
            loss = F.cross_entropy(s, y) + F.kl_div(F.log_softmax(s / temperature[0], 1), F.softmax(t / temperature[0], 1),
                                                    reduction="batchmean")
            opt.zero_grad()
            loss.backward()
            opt.step()
            if counted == "inside":
                ema.update(net)
            return loss.detach()

        step = wrap(step)
        results = []
        for index in range(CALLS):
            temperature[0] = 1.0 + (index % 2)
            results.append(returned(step(data(index), labels(index))))
            if counted == "between_calls":
                ema.update(net)
            results.append(module_state(net, ema.ema))
            results.append(ema.updates)
        return results

    same_as_eager(scenario)
