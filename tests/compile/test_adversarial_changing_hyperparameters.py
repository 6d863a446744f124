"""chainrule.compile against eager execution when HYPERPARAMETERS change between (or during) compiled
calls: loss weights as Python floats passed as arguments, read from an object attribute, a dict entry,
a list element, or a tensor updated in place (fill_, copy_) or rebound; dropout p changed on a module,
nn.Dropout replaced, F.dropout(training=flag); label_smoothing / weight / reduction changed on a loss
module, class weights modified in place or replaced; clip_grad_norm_ max_norm changing; EMA decay
changing; LambdaLR / OneCycleLR / ReduceLROnPlateau stepped inside and outside the step; layers frozen and
unfrozen between calls; optimizer.add_param_group; param_groups[i]['weight_decay'] changed; momentum
buffers cleared; BatchNorm momentum changed; chainrule.set_default_dtype changed between calls.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, parameters, grads, buffers,
optimizer state, Python side effects and the random stream after each call. A compiled run may
record anew or fall back to eager with at most one warning.
"""
import functools
import sys
import types

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.optim import lr_scheduler
from tests.compile.harness import Case, lin, same_as_eager, train_step


def batch(i, n=8, d=6, classes=4, dtype="float64"):
    g = np.random.default_rng(700 + i)
    x = chainrule.tensor(g.standard_normal((n, d)).astype(dtype))
    y = chainrule.tensor(g.integers(0, classes, size=n))
    return x, y


def classify_inputs(n=8, d=6, classes=4, dtype="float64", sizes=None):
    def inputs(i):
        m = sizes[i % len(sizes)] if sizes else n
        return batch(i, m, d, classes, dtype)
    return inputs


def regress_inputs(n=4, d=3, o=2, dtype="float64", sizes=None):
    def inputs(i):
        m = sizes[i % len(sizes)] if sizes else n
        g = np.random.default_rng(900 + i)
        return (chainrule.tensor(g.standard_normal((m, d)).astype(dtype)),
                chainrule.tensor(g.standard_normal((m, o)).astype(dtype)))
    return inputs


class MLP(nn.Module):
    def __init__(self, d=6, h=10, classes=4, p=0.5):
        super().__init__()
        self.fc1 = nn.Linear(d, h)
        self.drop = nn.Dropout(p)
        self.fc2 = nn.Linear(h, classes)

    def forward(self, x):
        return self.fc2(self.drop(F.relu(self.fc1(x))))


def ce_step(model, opt, crit=None):
    crit = crit or nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


# ----------------------------------------------------------------------------- loss weights
def test_loss_weight_python_float_argument_changes():
    def setup():
        net = lin()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y, alpha):
            opt.zero_grad()
            out = net(x)
            loss = F.mse_loss(out, y) + alpha * out.pow(2).mean()
            loss.backward()
            opt.step()
            return loss

        alphas = [0.1, 0.1, 0.5, 0.0, 1e-3, 2.0, 0.5]
        base = regress_inputs()
        return Case(step, lambda: [net, opt], inputs=lambda i: base(i) + (alphas[i],))

    same_as_eager(setup, calls=7)


def test_loss_weight_read_from_object_attribute():
    class Config:
        l1 = 0.01

    def setup():
        cfg = Config()
        net = lin(3, 2)
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y) + cfg.l1 * net.weight.abs().sum()
            loss.backward()
            opt.step()
            return loss

        def before(i):
            cfg.l1 = [0.01, 0.01, 0.1, 0.0, 0.05, 0.05, 1.0][i]
        return Case(step, lambda: [net, opt], inputs=regress_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_loss_weights_in_dict_entry():
    def setup():
        weights = {"mse": 1.0, "l2": 1e-3}
        net = lin(3, 2)
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            out = net(x)
            parts = {"mse": F.mse_loss(out, y), "l2": sum(p.pow(2).sum() for p in net.parameters())}
            loss = sum(weights[k] * v for k, v in parts.items())
            loss.backward()
            opt.step()
            return loss, {k: v.detach() for k, v in parts.items()}

        def before(i):
            if i == 2:
                weights["l2"] = 0.1
            if i == 4:
                weights["mse"] = 0.5
            if i == 5:
                weights["l2"] = 0
        return Case(step, lambda: [net, opt, dict(weights)], inputs=regress_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_loss_weights_list_element_mutated():
    def setup():
        lambdas = [1.0, 0.5]
        net = MLP(p=0.0).double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            logits = net(x)
            loss = lambdas[0] * F.cross_entropy(logits, y) + lambdas[1] * logits.logsumexp(-1).pow(2).mean()
            loss.backward()
            opt.step()
            return loss

        def before(i):
            lambdas[1] = [0.5, 0.5, 0.25, 0.0, 0.125, 2.0][i]
            if i == 4:
                lambdas[0] = 3.0
        return Case(step, lambda: [net, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_loss_weight_tensor_copy_in_place_and_rebound():
    def setup():
        holder = {"w": chainrule.ones(2, dtype=chainrule.float64)}
        net = lin(3, 2)
        opt = optim.Adam(net.parameters(), lr=0.02)

        def step(x, y):
            opt.zero_grad()
            per = ((net(x) - y) ** 2).mean(0)
            loss = (holder["w"] * per).sum()
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i == 2:
                holder["w"].copy_(chainrule.tensor([0.2, 1.8]))
            if i == 3:
                holder["w"] = chainrule.tensor([3.0, 0.5], dtype=chainrule.float64)
            if i == 5:
                holder["w"].mul_(2)
        return Case(step, lambda: [net, opt, holder["w"]], inputs=regress_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_loss_weight_tensor_updated_inside_step_warmup():
    """KL annealing: beta is a tensor incremented in place by the step itself."""
    def setup():
        beta = chainrule.zeros((), dtype=chainrule.float64)
        net = lin(3, 4)
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            h = net(x)
            mu, logvar = h[:, :2], h[:, 2:]
            kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1).mean()
            loss = F.mse_loss(mu, y) + beta * kl
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                beta.add_(0.25).clamp_(max=1.0)
            return loss, kl.detach()
        return Case(step, lambda: [net, opt, beta], inputs=regress_inputs())

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- dropout
def test_dropout_p_changed_on_module():
    def setup():
        net = MLP(p=0.5).double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            net.drop.p = [0.5, 0.5, 0.3, 0.3, 0.0, 0.9, 0.5][i]
        return Case(ce_step(net, opt), lambda: [net, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_dropout_module_replaced():
    def setup():
        net = MLP(p=0.2).double()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def before(i):
            if i == 2:
                net.drop = nn.Dropout(0.6)
            if i == 4:
                net.drop = nn.Identity()
            if i == 5:
                net.drop = nn.AlphaDropout(0.2)
        return Case(ce_step(net, opt), lambda: [net, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_functional_dropout_training_flag_argument():
    def setup():
        net = lin(6, 4)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y, training):
            opt.zero_grad()
            loss = F.cross_entropy(F.dropout(net(x), p=0.3, training=training), y)
            if training:
                loss.backward()
                opt.step()
            return loss

        flags = [True, True, False, True, False, False, True]
        base = classify_inputs()
        return Case(step, lambda: [net, opt], inputs=lambda i: base(i) + (flags[i],))

    same_as_eager(setup, calls=7)


def test_dropout_train_eval_toggle_and_p_change_float32():
    def setup():
        net = MLP(p=0.4)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            net.train(i % 3 != 2)
            if i == 4:
                net.drop.p = 0.1
        return Case(ce_step(net, opt), lambda: [net, opt],
                    inputs=classify_inputs(dtype="float32"), before=before)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- loss modules
def test_label_smoothing_changed_on_criterion():
    def setup():
        net = MLP(p=0.0).double()
        crit = nn.CrossEntropyLoss()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            crit.label_smoothing = [0.0, 0.0, 0.1, 0.1, 0.3, 0.0][i]
        return Case(ce_step(net, opt, crit), lambda: [net, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_class_weight_modified_in_place():
    def setup():
        net = MLP(p=0.0).double()
        crit = nn.CrossEntropyLoss(weight=chainrule.ones(4, dtype=chainrule.float64))
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            if i == 2:
                crit.weight[0] = 3.0
            if i == 3:
                crit.weight.mul_(0.5)
            if i == 5:
                crit.weight.copy_(chainrule.tensor([1.0, 2.0, 3.0, 4.0]))
        return Case(ce_step(net, opt, crit), lambda: [net, opt, crit.weight],
                    inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_class_weight_replaced_and_removed():
    def setup():
        net = MLP(p=0.0).double()
        crit = nn.CrossEntropyLoss()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def before(i):
            if i == 2:
                crit.weight = chainrule.tensor([0.5, 1.0, 2.0, 1.0], dtype=chainrule.float64)
            if i == 4:
                crit.weight = chainrule.tensor([4.0, 1.0, 1.0, 1.0], dtype=chainrule.float64)
            if i == 5:
                crit.weight = None
        return Case(ce_step(net, opt, crit), lambda: [net, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_reduction_changed_on_criterion():
    def setup():
        net = lin(3, 2)
        crit = nn.MSELoss()
        opt = optim.SGD(net.parameters(), lr=0.02)

        def step(x, y):
            opt.zero_grad()
            loss = crit(net(x), y)
            if loss.dim() > 0:
                loss = loss.mean(-1).sum()
            loss.backward()
            opt.step()
            return loss

        def before(i):
            crit.reduction = ["mean", "mean", "sum", "none", "mean", "sum"][i]
        return Case(step, lambda: [net, opt], inputs=regress_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_bce_pos_weight_in_place_and_rebound():
    def setup():
        net = lin(6, 3)
        crit = nn.BCEWithLogitsLoss(pos_weight=chainrule.ones(3, dtype=chainrule.float64))
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            target = F.one_hot(y % 3, 3).double()
            loss = crit(net(x), target)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i == 2:
                crit.pos_weight.fill_(2.0)
            if i == 4:
                crit.pos_weight = chainrule.tensor([1.0, 5.0, 0.5], dtype=chainrule.float64)
        return Case(step, lambda: [net, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- clipping, EMA
def test_clip_grad_norm_max_norm_argument_changes():
    def setup():
        net = MLP(p=0.0).double()
        opt = optim.SGD(net.parameters(), lr=0.5)

        def step(x, y, max_norm):
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            total = nn.utils.clip_grad_norm_(net.parameters(), max_norm)
            opt.step()
            return loss, total

        norms = [1.0, 1.0, 0.1, 100.0, 0.01, 0.5, 0.5]
        base = classify_inputs()
        return Case(step, lambda: [net, opt], inputs=lambda i: base(i) + (norms[i],))

    same_as_eager(setup, calls=7)


def test_ema_decay_attribute_changes():
    class EMA:
        def __init__(self, model, decay):
            self.decay = decay
            self.shadow = {n: p.detach().clone() for n, p in model.named_parameters()}

        @chainrule.no_grad()
        def update(self, model):
            for n, p in model.named_parameters():
                self.shadow[n].mul_(self.decay).add_(p.detach(), alpha=1 - self.decay)

    def setup():
        net = lin(3, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)
        ema = EMA(net, 0.9)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            ema.update(net)
            return loss

        def before(i):
            ema.decay = [0.9, 0.9, 0.99, 0.5, 0.0, 0.999, 0.9][i]
        return Case(step, lambda: [net, opt, ema.shadow], inputs=regress_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_ema_warmup_decay_computed_from_step_counter():
    """decay = min(decay, (1 + n) / (10 + n)) as in timm's ModelEmaV2 / TF's ExponentialMovingAverage."""
    def setup():
        net = MLP(p=0.0).double()
        ema = MLP(p=0.0).double()
        ema.load_state_dict(net.state_dict())
        ema.requires_grad_(False)
        opt = optim.Adam(net.parameters(), lr=0.01)
        counter = [0]

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            counter[0] += 1
            d = min(0.99, (1 + counter[0]) / (10 + counter[0]))
            with chainrule.no_grad():
                for pe, p in zip(ema.parameters(), net.parameters()):
                    pe.lerp_(p, 1 - d)
            return loss, d
        return Case(step, lambda: [net, ema, opt, counter[0]], inputs=classify_inputs())

    same_as_eager(setup, calls=7)


def test_averaged_model_ema_with_changing_decay():
    from chainrule.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    def setup():
        net = lin(3, 2)
        holder = {}
        holder["ema"] = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.9))
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            holder["ema"].update_parameters(net)
            return loss

        def before(i):
            if i == 3:
                holder["ema"].multi_avg_fn = get_ema_multi_avg_fn(0.5)
        return Case(step, lambda: [net, opt, holder["ema"]], inputs=regress_inputs(), before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- learning rate schedules
def test_lr_changed_in_param_groups_between_calls():
    def setup():
        net = lin()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def before(i):
            for g in opt.param_groups:
                g["lr"] = [0.1, 0.1, 0.05, 0.05, 0.2, 0.0, 0.01][i]
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup, calls=7)


def test_onecycle_lr_and_momentum_stepped_inside():
    def setup():
        net = MLP(p=0.0).double()
        opt = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        sched = lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=10)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            sched.step()
            return loss, opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]
        return Case(step, lambda: [net, opt], inputs=classify_inputs())

    same_as_eager(setup, calls=7)


def test_onecycle_adam_betas_cycled_outside():
    def setup():
        net = lin()
        opt = optim.AdamW(net.parameters(), lr=0.01, weight_decay=0.01)
        sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=12, pct_start=0.3)

        def before(i):
            if i > 0:
                sched.step()
        return Case(train_step(net, opt), lambda: [net, opt, opt.param_groups[0]["betas"]], before=before)

    same_as_eager(setup, calls=7)


def test_reduce_lr_on_plateau_outside_on_validation_metric():
    def setup():
        net = MLP(p=0.0).double()
        opt = optim.Adam(net.parameters(), lr=0.05)
        sched = lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.3, patience=1)
        xv, yv = batch(99, n=16)

        def before(i):
            if i > 0:
                with chainrule.no_grad():
                    acc = (net(xv).argmax(-1) == yv).double().mean().item()
                sched.step(acc if i != 3 else 0.0)
        return Case(ce_step(net, opt), lambda: [net, opt, opt.param_groups[0]["lr"]],
                    inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- freezing, groups, state
def test_freeze_unfreeze_layer_between_calls():
    def setup():
        net = MLP(p=0.0).double()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def before(i):
            if i == 2:
                net.fc1.requires_grad_(False)
            if i == 4:
                net.fc1.requires_grad_(True)
            if i == 5:
                net.fc2.bias.requires_grad = False
        return Case(ce_step(net, opt), lambda: [net, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_freeze_inside_step_after_warmup_counter():
    def setup():
        net = MLP(p=0.0).double()
        opt = optim.Adam(net.parameters(), lr=0.01)
        count = [0]

        def step(x, y):
            count[0] += 1
            if count[0] == 3:
                for p in net.fc1.parameters():
                    p.requires_grad = False
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net, opt], inputs=classify_inputs())

    same_as_eager(setup, calls=6)


def test_add_param_group_between_calls_unfreezing_backbone():
    def setup():
        net = MLP(p=0.0).double()
        net.fc1.requires_grad_(False)
        opt = optim.SGD(net.fc2.parameters(), lr=0.1, momentum=0.9)

        def before(i):
            if i == 3:
                net.fc1.requires_grad_(True)
                opt.add_param_group({"params": net.fc1.parameters(), "lr": 0.01})
            if i == 5:
                opt.param_groups[1]["lr"] = 0.05
        return Case(ce_step(net, opt), lambda: [net, opt, [g["lr"] for g in opt.param_groups]],
                    inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_weight_decay_changed_in_param_group():
    def setup():
        net = MLP(p=0.0).double()
        decay = [p for n, p in net.named_parameters() if n.endswith("weight")]
        no_decay = [p for n, p in net.named_parameters() if n.endswith("bias")]
        opt = optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                          lr=0.01)

        def before(i):
            if i == 2:
                opt.param_groups[0]["weight_decay"] = 0.5
            if i == 3:
                opt.param_groups[1]["weight_decay"] = 0.1
            if i == 5:
                opt.param_groups[0]["weight_decay"] = 0
        return Case(ce_step(net, opt), lambda: [net, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_momentum_buffers_cleared_between_calls():
    def setup():
        net = lin()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def before(i):
            if i == 3:
                for p in net.parameters():
                    opt.state[p] = {}
            if i == 5:
                opt.state[net.weight]["momentum_buffer"].zero_()
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- batchnorm, dtype
def test_batchnorm_momentum_changed():
    def setup():
        net = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 4)).double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            net[1].momentum = [0.1, 0.1, 0.5, None, None, 0.01, 0.1][i]
        return Case(ce_step(net, opt), lambda: [net, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_batchnorm_eps_and_track_stats_changed_float32():
    def setup():
        net = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 4))
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            if i == 2:
                net[1].eps = 1e-1
            if i == 4:
                net.eval()
            if i == 5:
                net.train()
                net[1].momentum = 0.9
        return Case(ce_step(net, opt), lambda: [net, opt],
                    inputs=classify_inputs(dtype="float32"), before=before)

    same_as_eager(setup, calls=7)


def test_default_dtype_changed_between_calls():
    saved = chainrule.get_default_dtype()
    try:
        def setup():
            chainrule.set_default_dtype(chainrule.float32)
            net = lin()
            opt = optim.SGD(net.parameters(), lr=0.1)

            def step(x, y):
                opt.zero_grad()
                scale = chainrule.tensor(0.5)
                noise = chainrule.zeros(x.shape) + 1e-3
                loss = F.mse_loss(net(x + noise.to(x.dtype)), y) * scale
                loss.backward()
                opt.step()
                return loss, scale, noise

            def before(i):
                chainrule.set_default_dtype(chainrule.float64 if i in (2, 3, 5) else chainrule.float32)
            return Case(step, lambda: [net, opt], before=before)

        same_as_eager(setup, calls=7)
    finally:
        chainrule.set_default_dtype(saved)


def test_default_dtype_changed_python_float_tensor_in_loss():
    saved = chainrule.get_default_dtype()
    try:
        def setup():
            chainrule.set_default_dtype(chainrule.float64)
            net = lin(3, 2).float()
            opt = optim.SGD(net.parameters(), lr=0.1)

            def step(x, y):
                opt.zero_grad()
                w = chainrule.tensor([1.0, 2.0])
                loss = ((net(x.float()) - y.float()) ** 2 * w).mean()
                loss.backward()
                opt.step()
                return loss, w

            def before(i):
                chainrule.set_default_dtype(chainrule.float32 if i in (3, 4) else chainrule.float64)
            return Case(step, lambda: [net, opt], before=before)

        same_as_eager(setup, calls=6)
    finally:
        chainrule.set_default_dtype(saved)


# ----------------------------------------------------------------------------- during the call
def test_hyperparameter_changed_by_the_step_itself():
    """Curriculum: the step lowers the label smoothing and raises the dropout after each call."""
    def setup():
        net = MLP(p=0.1).double()
        crit = nn.CrossEntropyLoss(label_smoothing=0.3)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = crit(net(x), y)
            loss.backward()
            opt.step()
            crit.label_smoothing = max(0.0, crit.label_smoothing - 0.1)
            net.drop.p = min(0.5, net.drop.p + 0.1)
            return loss
        return Case(step, lambda: [net, opt, crit.label_smoothing, net.drop.p], inputs=classify_inputs())

    same_as_eager(setup, calls=7)


def test_batch_size_and_loss_scale_change_together():
    """Gradient accumulation: the loss is divided by an accum count that changes with the batch size."""
    def setup():
        net = lin()
        opt = optim.SGD(net.parameters(), lr=0.1)
        cfg = {"accum": 1}

        def step(x, y):
            opt.zero_grad()
            for xc, yc in zip(x.chunk(cfg["accum"]), y.chunk(cfg["accum"])):
                (F.mse_loss(net(xc), yc) / cfg["accum"]).backward()
            opt.step()
            return net.weight.grad.clone()

        def before(i):
            cfg["accum"] = [1, 1, 2, 4, 2, 1, 4][i]
        return Case(step, lambda: [net, opt], inputs=regress_inputs(sizes=[4, 4, 8, 8, 4, 6, 12]), before=before)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- where the value lives
LAMBDA_REG = 0.01  # a script-level hyperparameter, changed with ``global`` between calls


class RegularizedMSE:
    """A loss object as in course code: ``criterion = RegularizedMSE(net)``, reading a global weight."""

    def __init__(self, net):
        self.net = net

    def __call__(self, out, y):
        return F.mse_loss(out, y) + LAMBDA_REG * sum(p.pow(2).sum() for p in self.net.parameters())


def test_global_weight_read_in_loss_object_call():
    def setup():
        global LAMBDA_REG
        LAMBDA_REG = 0.01
        net = lin()
        crit = RegularizedMSE(net)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = crit(net(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            global LAMBDA_REG
            LAMBDA_REG = [0.01, 0.01, 0.5, 0.5, 0.0, 0.1][i]
        return Case(step, lambda: [net, opt], before=before)

    try:
        same_as_eager(setup)
    finally:
        globals()["LAMBDA_REG"] = 0.01


def test_config_module_attribute_on_trainer():
    class Trainer:
        def __init__(self, cfg):
            self.cfg = cfg
            self.net = MLP(p=0.0).double()
            self.opt = optim.SGD(self.net.parameters(), lr=0.1)

        def train_step(self, x, y):
            self.opt.zero_grad()
            loss = F.cross_entropy(self.net(x), y, label_smoothing=self.cfg.LABEL_SMOOTHING)
            loss.backward()
            self.opt.step()
            return loss

    def setup():
        cfg = types.ModuleType("config")
        cfg.LABEL_SMOOTHING = 0.0
        t = Trainer(cfg)

        def before(i):
            cfg.LABEL_SMOOTHING = [0.0, 0.0, 0.2, 0.2, 0.1, 0.0][i]
        return Case(t.train_step, lambda: [t.net, t.opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup)


def test_config_module_imported_inside_step():
    def setup():
        cfg = types.ModuleType("chp_train_config")
        cfg.AUX_WEIGHT = 0.5
        sys.modules["chp_train_config"] = cfg
        net = lin(3, 4)
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y):
            import chp_train_config as config
            opt.zero_grad()
            h = net(x)
            loss = F.mse_loss(h[:, :2], y) + config.AUX_WEIGHT * h[:, 2:].pow(2).mean()
            loss.backward()
            opt.step()
            return loss

        def before(i):
            cfg.AUX_WEIGHT = [0.5, 0.5, 0.0, 2.0, 2.0, 0.1][i]
        return Case(step, lambda: [net, opt], before=before)

    try:
        same_as_eager(setup)
    finally:
        sys.modules.pop("chp_train_config", None)


def test_class_attribute_changed_on_config_class():
    class Config:
        l1 = 0.01

    def setup():
        Config.l1 = 0.01
        cfg = Config()
        net = lin()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y) + cfg.l1 * net.weight.abs().sum()
            loss.backward()
            opt.step()
            return loss

        def before(i):
            Config.l1 = [0.01, 0.01, 0.5, 0.0, 0.2, 0.2][i]
        return Case(step, lambda: [net, opt], before=before)

    same_as_eager(setup)


def test_partial_loss_keywords_mutated():
    def setup():
        loss_fn = functools.partial(F.cross_entropy, label_smoothing=0.0)
        net = lin(6, 4)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            loss_fn.keywords["label_smoothing"] = [0.0, 0.0, 0.2, 0.2, 0.5, 0.0][i]
        return Case(step, lambda: [net, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup)


def test_parameter_python_attribute_lr_scale():
    def setup():
        net = MLP(p=0.0).double()
        for p in net.parameters():
            p.lr_scale = 1.0
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            for p in net.parameters():
                p.grad.mul_(p.lr_scale)
            opt.step()
            return loss

        def before(i):
            if i == 2:
                net.fc1.weight.lr_scale = 0.1
            if i == 3:
                net.fc2.bias.lr_scale = 0.0
            if i == 5:
                net.fc1.weight.lr_scale = 3.0
        return Case(step, lambda: [net, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_hyperparameter_tensor_is_view_of_changed_base():
    def setup():
        hp = chainrule.tensor([0.1, 0.5], dtype=chainrule.float64)
        l2 = hp[0]
        net = lin()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            out = net(x)
            loss = F.mse_loss(out, y) + l2 * out.pow(2).mean()
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i == 2:
                hp[0] = 0.9
            if i == 3:
                hp.mul_(0.5)
            if i == 5:
                hp.copy_(chainrule.tensor([0.0, 1.0]))
        return Case(step, lambda: [net, opt, hp], before=before)

    same_as_eager(setup, calls=7)


def test_adam_tensor_lr_filled_and_replaced():
    def setup():
        lr = chainrule.tensor(0.01, dtype=chainrule.float64)
        net = lin()
        opt = optim.Adam(net.parameters(), lr=lr)

        def before(i):
            if i == 2:
                opt.param_groups[0]["lr"].fill_(0.05)
            if i == 4:
                lr.mul_(0.1)
            if i == 5:
                opt.param_groups[0]["lr"] = chainrule.tensor(0.2, dtype=chainrule.float64)
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup, calls=7)


def test_steplr_inside_step_gamma_changed_between_calls():
    def setup():
        net = lin()
        opt = optim.SGD(net.parameters(), lr=0.1)
        sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.9)
        inner = train_step(net, opt)

        def step(x, y):
            loss = inner(x, y)
            sched.step()
            return loss

        def before(i):
            if i == 3:
                sched.gamma = 0.5
            if i == 5:
                sched.step_size = 2
        return Case(step, lambda: [net, opt, opt.param_groups[0]["lr"]], before=before)

    same_as_eager(setup, calls=7)


def test_embedding_max_norm_switched_on():
    def setup():
        emb = nn.Embedding(10, 4).double()
        head = lin(4, 4)
        opt = optim.SGD(list(emb.parameters()) + list(head.parameters()), lr=0.5)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(head(emb(x)), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i == 2:
                emb.max_norm = 1.0
            if i == 4:
                emb.max_norm = 0.5
            if i == 5:
                emb.norm_type = 1.0

        def inputs(i):
            g = np.random.default_rng(i)
            return chainrule.tensor(g.integers(0, 10, 8)), chainrule.tensor(g.integers(0, 4, 8))
        return Case(step, lambda: [emb, head, opt], inputs=inputs, before=before)

    same_as_eager(setup, calls=7)


def test_default_dtype_set_and_restored_inside_step():
    saved = chainrule.get_default_dtype()
    try:
        def setup():
            chainrule.set_default_dtype(chainrule.float32)
            net = lin()
            opt = optim.SGD(net.parameters(), lr=0.1)

            def step(x, y):
                chainrule.set_default_dtype(chainrule.float64)
                opt.zero_grad()
                w = chainrule.tensor([1.0, 3.0])
                loss = ((net(x) - y) ** 2 * w).mean()
                loss.backward()
                opt.step()
                chainrule.set_default_dtype(chainrule.float32)
                return loss
            return Case(step, lambda: [net, opt, chainrule.tensor(1.0)])

        same_as_eager(setup, calls=6)
    finally:
        chainrule.set_default_dtype(saved)
