"""chainrule.compile against eager execution on TRANSFER-LEARNING and FINE-TUNING workflows: a backbone
frozen with ``requires_grad_(False)`` and unfrozen mid-training, ``optimizer.add_param_group`` between
steps, param groups whose lr / weight_decay are edited between (or inside) steps, the classifier head
replaced (``model.fc = nn.Linear(...)``), frozen BatchNorm layers put in eval mode while the head trains,
discriminative learning rates with schedulers stepped per batch (LambdaLR, MultiStepLR, OneCycleLR,
CosineAnnealingWarmRestarts), pretrained weights loaded with ``load_state_dict(strict=False)`` between
compiled calls, gradual unfreezing layer by layer, and ``no_grad`` feature extraction feeding a head.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, the module structure,
parameters (values, grads, requires_grad), buffers, optimizer state AND param groups (lr, momentum,
betas, weight decay, group sizes), scheduler state, Python side effects and the random stream after
each call. A compiled run may record anew or fall back to eager with at most one warning.
"""
import warnings

import numpy as np

import chainrule as torch
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.optim import lr_scheduler
from chainrule.random import default_generator
from tests.compile.bitwise import assert_identical


# ----------------------------------------------------------------------------- the harness
def arr(t):
    return np.array(t.detach().numpy(), copy=True)


def snap(value):
    if isinstance(value, torch.Tensor):
        return ("tensor", str(value.dtype), arr(value))
    if isinstance(value, (list, tuple)):
        return tuple(snap(v) for v in value)
    if isinstance(value, dict):
        return {k: snap(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return np.asarray(value)
    if isinstance(value, nn.Module):
        return module_state(value)
    if isinstance(value, optim.Optimizer):
        return {"state": [{k: snap(v) for k, v in s.items()} for s in value.state.values()],
                "groups": [{k: (len(v) if k == "params" else snap(v)) for k, v in g.items()}
                           for g in value.param_groups]}
    if isinstance(value, lr_scheduler.LRScheduler):
        return ("sched", value.last_epoch, snap(list(value.get_last_lr())))
    return value


def module_state(model):
    return {
        "modules": [(name, type(m).__name__, bool(m.training)) for name, m in model.named_modules()],
        "params": [(name, str(p.dtype), bool(p.requires_grad), arr(p), None if p.grad is None else arr(p.grad))
                   for name, p in model.named_parameters()],
        "buffers": [(name, str(b.dtype), arr(b)) for name, b in model.named_buffers()],
        "state_dict": list(model.state_dict().keys()),
    }


class Case:
    def __init__(self, step, observe, inputs=None, before=None):
        self.step, self.observe = step, observe
        self.inputs = inputs or batches()
        self.before = before or (lambda i: None)


def batches(sizes=(8, 8, 8, 5, 8, 8, 8, 3), features=6, classes=3):
    """A loader's batches: float32 features, int64 labels, a smaller last batch of an epoch."""
    def inputs(i):
        g = np.random.default_rng(100 + i)
        n = sizes[i % len(sizes)]
        return (torch.from_numpy(g.standard_normal((n, features)).astype(np.float32)),
                torch.from_numpy(g.integers(0, classes, n)))
    return inputs


def run(compiled, setup, calls):
    torch.manual_seed(0)
    case = setup()
    function = torch.compile(case.step) if compiled else case.step
    history = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            case.before(i)
            args = case.inputs(i)
            try:
                result = function(*args)
                history.append(("ok", snap(result)))
            except Exception as error:  # compared: type and message
                history.append(("raised", type(error).__name__, str(error)))
            history.append([snap(thing) for thing in case.observe()])
    history.append(("random", default_generator.state_bytes()))
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return history, messages


def same_as_eager(setup, calls=7):
    eager, eager_messages = run(False, setup, calls)
    compiled, messages = run(True, setup, calls)
    assert not eager_messages
    assert_identical(compiled, eager, "compiled")
    assert len(messages) <= 1, messages
    return messages


class Net(nn.Module):
    """A small 'pretrained' backbone and a classifier head, as a torchvision model is laid out."""

    def __init__(self, classes=3, bn=True):
        super().__init__()
        self.layer1 = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8) if bn else nn.Identity(), nn.ReLU())
        self.layer2 = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8) if bn else nn.Identity(), nn.ReLU())
        self.fc = nn.Linear(8, classes)

    def features(self, x):
        return self.layer2(self.layer1(x))

    def forward(self, x):
        return self.fc(self.features(x))


def train_step(model, opt, sched=None, holder=None):
    def step(x, y):
        o = holder["opt"] if holder else opt
        model.train()
        o.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        o.step()
        if sched is not None:
            sched.step()
        return loss
    return step


def freeze(module, flag=False):
    for p in module.parameters():
        p.requires_grad = flag


# ----------------------------------------------------------------------------- freezing and unfreezing
def test_backbone_frozen_with_requires_grad_then_unfrozen_mid_training_sgd_momentum():
    def setup():
        model = Net()
        model.layer1.requires_grad_(False)
        model.layer2.requires_grad_(False)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def before(i):
            if i == 3:
                model.layer1.requires_grad_(True)
                model.layer2.requires_grad_(True)
        return Case(train_step(model, opt), lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_optimizer_over_trainable_params_only_then_add_param_group_for_backbone():
    def setup():
        model = Net()
        freeze(model.layer1)
        freeze(model.layer2)
        opt = optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1, momentum=0.9)

        def before(i):
            if i == 3:
                freeze(model.layer2, True)
                opt.add_param_group({"params": model.layer2.parameters(), "lr": 0.01})
            if i == 5:
                freeze(model.layer1, True)
                opt.add_param_group({"params": list(model.layer1.parameters()), "lr": 0.001, "momentum": 0.5})
        return Case(train_step(model, opt), lambda: [model, opt], before=before)

    same_as_eager(setup, calls=8)


def test_adamw_add_param_group_inherits_defaults_weight_decay_and_amsgrad():
    def setup():
        model = Net()
        freeze(model.layer1)
        freeze(model.layer2)
        opt = optim.AdamW(model.fc.parameters(), lr=3e-3, weight_decay=0.05, amsgrad=True)

        def before(i):
            if i == 3:
                freeze(model.layer1, True)
                freeze(model.layer2, True)
                opt.add_param_group({"params": [*model.layer1.parameters(), *model.layer2.parameters()]})
        return Case(train_step(model, opt), lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_ulmfit_gradual_unfreezing_with_layer_groups_added_at_decayed_lr():
    def setup():
        model = Net()
        groups = [model.fc, model.layer2, model.layer1]
        freeze(model)
        freeze(model.fc, True)
        opt = optim.Adam(model.fc.parameters(), lr=1e-2)

        def before(i):
            if i in (2, 4):
                k = i // 2
                groups[k].requires_grad_(True)
                opt.add_param_group({"params": groups[k].parameters(), "lr": 1e-2 / 2.6 ** k})
        return Case(train_step(model, opt), lambda: [model, opt], before=before)

    same_as_eager(setup, calls=7)


def test_freezing_after_zero_grad_set_to_none_false_leaves_zero_grads_momentum_still_moves():
    """A param frozen after training keeps its zeroed .grad, so SGD still applies momentum/decay."""
    def setup():
        model = Net(bn=False)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)

        def step(x, y):
            opt.zero_grad(set_to_none=False)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i == 2:
                model.layer1.requires_grad_(False)
            if i == 5:
                model.layer1.requires_grad_(True)
        return Case(step, lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_freezing_inside_the_step_by_epoch_argument():
    def setup():
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y, epoch):
            model.layer1.requires_grad_(epoch >= 1)
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        inputs = batches()
        return Case(step, lambda: [model, opt], inputs=lambda i: inputs(i) + ([0, 0, 1, 1, 1, 0, 2][i],))

    same_as_eager(setup)


def test_everything_frozen_backward_raises_same_error():
    def setup():
        model = Net(bn=False)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def before(i):
            freeze(model, i not in (2, 3, 5))
        return Case(train_step(model, opt), lambda: [model, opt], before=before)

    same_as_eager(setup, calls=6)


def test_clip_grad_norm_over_trainable_params_only_while_unfreezing():
    def setup():
        model = Net()
        freeze(model.layer1)
        opt = optim.SGD(model.parameters(), lr=0.5)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            norm = nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], max_norm=0.5)
            opt.step()
            return loss, norm

        def before(i):
            if i == 3:
                freeze(model.layer1, True)
        return Case(step, lambda: [model, opt], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- param groups edited
def test_param_group_weight_decay_and_lr_edited_per_group_adamw():
    def setup():
        model = Net()
        opt = optim.AdamW([{"params": model.layer1.parameters(), "lr": 1e-4, "weight_decay": 0.0},
                           {"params": model.layer2.parameters(), "lr": 1e-3},
                           {"params": model.fc.parameters(), "lr": 1e-2, "weight_decay": 0.1}])

        def before(i):
            if i == 2:
                opt.param_groups[0]["weight_decay"] = 0.01
            if i == 4:
                opt.param_groups[2]["lr"] = 3e-3
                opt.param_groups[1]["betas"] = (0.85, 0.98)
            if i == 5:
                opt.param_groups[0]["lr"] = 0.0
        return Case(train_step(model, opt), lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_warmup_lr_set_inside_step_from_float_argument():
    def setup():
        model = Net()
        opt = optim.SGD([{"params": [*model.layer1.parameters(), *model.layer2.parameters()]},
                         {"params": model.fc.parameters()}], lr=0.1, momentum=0.9)
        base = [0.01, 0.1]

        def step(x, y, warm):
            for g, lr in zip(opt.param_groups, base):
                g["lr"] = lr * warm
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        inputs = batches()
        return Case(step, lambda: [model, opt], inputs=lambda i: inputs(i) + (min(1.0, (i + 1) / 4),))

    same_as_eager(setup)


def test_momentum_and_nesterov_toggled_in_group_between_steps():
    def setup():
        model = Net(bn=False)
        opt = optim.SGD([{"params": model.layer1.parameters(), "lr": 0.01},
                         {"params": [*model.layer2.parameters(), *model.fc.parameters()]}],
                        lr=0.1, momentum=0.9)

        def before(i):
            if i == 2:
                opt.param_groups[1]["nesterov"] = True
            if i == 4:
                opt.param_groups[0]["momentum"] = 0.5
                opt.param_groups[0]["dampening"] = 0.1
        return Case(train_step(model, opt), lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_group_lr_read_inside_step_for_logging_before_optimizer_step():
    def setup():
        model = Net()
        opt = optim.Adam([{"params": model.layer1.parameters(), "lr": 1e-4},
                          {"params": [*model.layer2.parameters(), *model.fc.parameters()], "lr": 1e-3}])

        def step(x, y):
            lrs = [g["lr"] for g in opt.param_groups]
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss, lrs

        def before(i):
            if i in (2, 5):
                opt.param_groups[1]["lr"] /= 10
        return Case(step, lambda: [model, opt], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- replacing the head
def test_head_replaced_between_calls_with_new_optimizer():
    def setup():
        model = Net()
        freeze(model.layer1)
        freeze(model.layer2)
        holder = {"opt": optim.SGD(model.fc.parameters(), lr=0.1, momentum=0.9)}

        def before(i):
            if i == 3:
                model.fc = nn.Linear(8, 5)
                holder["opt"] = optim.SGD(model.fc.parameters(), lr=0.05, momentum=0.9)
        inputs = batches()

        def inputs_(i):
            x, y = inputs(i)
            return x, (y + i) % (3 if i < 3 else 5)
        return Case(train_step(model, None, holder=holder), lambda: [model, holder["opt"]],
                    before=before, inputs=inputs_)

    same_as_eager(setup)


def test_head_replaced_and_added_to_existing_optimizer_old_head_left_in_it():
    def setup():
        model = Net()
        opt = optim.Adam(model.parameters(), lr=1e-2)

        def before(i):
            if i == 3:
                model.fc = nn.Linear(8, 3)
                opt.add_param_group({"params": model.fc.parameters(), "lr": 5e-2})
        return Case(train_step(model, opt), lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_head_replaced_with_dropout_sequential_between_calls():
    def setup():
        model = Net()
        model.requires_grad_(False)
        model.fc.requires_grad_(True)
        holder = {"opt": optim.Adam(model.fc.parameters(), lr=1e-2)}

        def before(i):
            if i == 2:
                model.fc = nn.Sequential(nn.Dropout(0.3), nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))
                holder["opt"] = optim.Adam(model.fc.parameters(), lr=1e-3)
            if i == 5:
                model.fc[0].p = 0.5
        return Case(train_step(model, None, holder=holder), lambda: [model, holder["opt"]], before=before)

    same_as_eager(setup)


def test_compiled_model_head_replaced_through_the_wrapper():
    """chainrule.compile(model): `cmodel.fc = nn.Linear(...)` replaces the original's head (README)."""
    def setup():
        torch.manual_seed(1)
        model = Net()
        cmodel = torch.compile(model)
        freeze(model.layer1)
        holder = {"opt": optim.SGD([p for p in cmodel.parameters() if p.requires_grad], lr=0.1)}

        def step(x, y):
            o = holder["opt"]
            o.zero_grad()
            loss = F.cross_entropy(cmodel(x), y)
            loss.backward()
            o.step()
            return loss

        def before(i):
            if i == 3:
                cmodel.fc = nn.Linear(8, 3)
                holder["opt"] = optim.SGD([p for p in cmodel.parameters() if p.requires_grad], lr=0.05)
        return Case(step, lambda: [model, holder["opt"], cmodel.fc is model.fc], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- frozen BatchNorm
def set_bn_eval(m):
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        m.eval()


def test_frozen_batchnorm_put_in_eval_inside_step_after_model_train():
    def setup():
        model = Net()
        freeze(model.layer1)
        freeze(model.layer2)
        opt = optim.SGD(model.fc.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            model.train()
            model.apply(set_bn_eval)
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [model, opt])

    same_as_eager(setup)


def test_batchnorm_affine_frozen_but_running_stats_still_updated_in_train():
    def setup():
        model = Net()
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.weight.requires_grad_(False)
                m.bias.requires_grad_(False)
        opt = optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)

        def before(i):
            if i == 3:
                model.layer1[1].momentum = None  # cumulative average from here on
            if i == 5:
                model.layer2[1].track_running_stats = False
        return Case(train_step(model, opt), lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_frozen_batchnorm2d_conv_backbone_eval_head_trains_smaller_last_batch():
    def setup():
        class ConvNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                              nn.MaxPool2d(2), nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                                              nn.AdaptiveAvgPool2d(1))
                self.classifier = nn.Linear(4, 3)

            def forward(self, x):
                return self.classifier(torch.flatten(self.features(x), 1))

        model = ConvNet()
        model.features.requires_grad_(False)
        opt = optim.SGD(model.classifier.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            model.train()
            model.features.eval()
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = np.random.default_rng(7 + i)
            n = [4, 4, 4, 2, 4, 4][i % 6]
            return (torch.tensor(g.standard_normal((n, 1, 8, 8)), dtype=torch.float32),
                    torch.tensor(g.integers(0, 3, n)))

        def before(i):
            if i == 4:
                model.features[4:].requires_grad_(True)
                opt.add_param_group({"params": model.features[4:].parameters(), "lr": 0.01})
        return Case(step, lambda: [model, opt], inputs=inputs, before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- schedulers per batch
def discriminative(model, cls=optim.SGD, **kw):
    return cls([{"params": model.layer1.parameters(), "lr": 1e-3},
                {"params": model.layer2.parameters(), "lr": 1e-2},
                {"params": model.fc.parameters(), "lr": 1e-1}], **kw)


def test_lambdalr_with_one_lambda_per_group_stepped_per_batch_inside_step():
    def setup():
        model = Net()
        opt = discriminative(model, momentum=0.9)
        sched = lr_scheduler.LambdaLR(opt, [lambda s: 0.0 if s < 2 else 1.0,
                                            lambda s: min(1.0, (s + 1) / 3),
                                            lambda s: 0.95 ** s])
        return Case(train_step(model, opt, sched), lambda: [model, opt, sched])

    same_as_eager(setup)


def test_onecyclelr_with_max_lr_list_adam_cycles_betas_per_batch():
    def setup():
        model = Net()
        opt = discriminative(model, cls=optim.Adam)
        sched = lr_scheduler.OneCycleLR(opt, max_lr=[1e-3, 1e-2, 1e-1], total_steps=8, pct_start=0.3)
        return Case(train_step(model, opt, sched), lambda: [model, opt, sched])

    same_as_eager(setup)


def test_onecyclelr_sgd_momentum_cycled_linear_anneal_stepped_between_calls():
    def setup():
        model = Net()
        opt = discriminative(model, momentum=0.9, nesterov=True)
        sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=2, steps_per_epoch=4, anneal_strategy="linear",
                                        three_phase=True)

        def before(i):
            if i > 0:
                sched.step()
        return Case(train_step(model, opt), lambda: [model, opt, sched], before=before)

    same_as_eager(setup)


def test_onecyclelr_past_total_steps_raises_inside_compiled_step():
    def setup():
        model = Net(bn=False)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        sched = lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=4)
        return Case(train_step(model, opt, sched), lambda: [model, opt, sched])

    same_as_eager(setup, calls=6)


def test_cosine_warm_restarts_with_fractional_epoch_per_batch():
    def setup():
        model = Net()
        opt = discriminative(model, cls=optim.AdamW, weight_decay=0.01)
        sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=1, T_mult=2, eta_min=1e-5)
        iters = 4

        def step(x, y, epoch, i):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            sched.step(epoch + i / iters)
            return loss

        inputs = batches()
        return Case(step, lambda: [model, opt, sched], inputs=lambda i: inputs(i) + (i // iters, i % iters))

    same_as_eager(setup, calls=8)


def test_scheduler_created_after_add_param_group_per_batch():
    """Unfreeze at call 3, add the group, and start a new LambdaLR over all groups."""
    def setup():
        model = Net()
        freeze(model.layer1)
        freeze(model.layer2)
        opt = optim.SGD(model.fc.parameters(), lr=0.1, momentum=0.9)
        holder = {"sched": lr_scheduler.MultiStepLR(opt, milestones=[1], gamma=0.5)}

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            holder["sched"].step()
            return loss

        def before(i):
            if i == 3:
                freeze(model, True)
                opt.add_param_group({"params": [*model.layer1.parameters(), *model.layer2.parameters()],
                                     "lr": 0.01})
                holder["sched"] = lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (1 + s))
        return Case(step, lambda: [model, opt, holder["sched"]], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- loading pretrained weights
def pretrained_state(seed, classes=10, bn=True):
    torch.manual_seed(seed)
    return Net(classes=classes, bn=bn).state_dict()


def test_load_pretrained_backbone_strict_false_between_compiled_calls():
    def setup():
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        torch.manual_seed(5)
        result = {}

        def before(i):
            if i == 2:
                state = {k: v for k, v in pretrained_state(42).items() if not k.startswith("fc.")}
                result["keys"] = model.load_state_dict(state, strict=False)
        return Case(train_step(model, opt), lambda: [model, opt, tuple(map(list, result.get("keys", ((), ()))))],
                    before=before)

    same_as_eager(setup)


def test_load_state_dict_strict_false_with_mismatched_head_filtered_and_extra_keys():
    def setup():
        model = Net()
        opt = optim.Adam(model.parameters(), lr=1e-3)
        seen = []

        def before(i):
            if i in (1, 4):
                pretrained = pretrained_state(10 + i, classes=10)
                pretrained["aux.weight"] = torch.ones(2)
                own = model.state_dict()
                state = {k: v for k, v in pretrained.items() if k in own and v.shape == own[k].shape}
                state["aux.weight"] = pretrained["aux.weight"]
                missing, unexpected = model.load_state_dict(state, strict=False)
                seen.append((sorted(missing), sorted(unexpected)))
        return Case(train_step(model, opt), lambda: [model, opt, list(seen)], before=before)

    same_as_eager(setup)


def test_load_state_dict_restores_running_stats_and_num_batches_tracked():
    def setup():
        model = Net()
        freeze(model.layer1)
        opt = optim.SGD(model.parameters(), lr=0.1)
        saved = {}

        def before(i):
            if i == 1:
                saved["model"] = {k: v.clone() for k, v in model.state_dict().items()}
                saved["opt"] = opt.state_dict()
            if i == 4:
                model.load_state_dict(saved["model"])
                opt.load_state_dict(saved["opt"])
        return Case(train_step(model, opt), lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_load_state_dict_into_compiled_wrapper_orig_mod_prefix():
    def setup():
        model = Net()
        cmodel = torch.compile(model)
        opt = optim.SGD(cmodel.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(cmodel(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i == 3:
                state = {"_orig_mod." + k: v for k, v in pretrained_state(9, classes=3).items()
                         if k.startswith("layer")}
                cmodel.load_state_dict(state, strict=False)
        return Case(step, lambda: [model, opt], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- feature extraction
def test_no_grad_feature_extraction_inside_step_head_trained():
    def setup():
        model = Net()
        model.eval()
        head = nn.Linear(8, 3)
        opt = optim.Adam(head.parameters(), lr=1e-2)

        def step(x, y):
            with torch.no_grad():
                feats = model.features(x)
            opt.zero_grad()
            loss = F.cross_entropy(head(feats), y)
            loss.backward()
            opt.step()
            return loss, feats.requires_grad
        return Case(step, lambda: [model, head, opt])

    same_as_eager(setup)


def test_feature_extraction_in_train_mode_under_no_grad_moves_bn_stats():
    def setup():
        model = Net()
        head = nn.Sequential(nn.Dropout(0.2), nn.Linear(8, 3))
        opt = optim.SGD(head.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            with torch.no_grad():
                feats = model.features(x)
            opt.zero_grad()
            loss = F.cross_entropy(head(feats), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            model.train(i % 3 != 2)
        return Case(step, lambda: [model, head, opt], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- common slips and recipes
def test_head_replaced_but_optimizer_not_updated_new_head_grads_accumulate():
    """The classic slip: model.fc replaced, the optimizer still holds the old head; zero_grad never
    reaches the new head, so its .grad keeps accumulating and it is never stepped."""
    def setup():
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def before(i):
            if i == 2:
                model.fc = nn.Linear(8, 3)
        return Case(train_step(model, opt), lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_embedding_from_pretrained_frozen_then_unfrozen_and_rows_zeroed_between_calls():
    """pytorch-sentiment-analysis: pretrained vectors copied in, <unk>/<pad> rows zeroed, frozen, then
    unfrozen for fine-tuning."""
    def setup():
        vectors = torch.tensor(np.random.default_rng(3).standard_normal((12, 5)), dtype=torch.float32)

        class Bag(nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = nn.Embedding.from_pretrained(vectors, freeze=True, padding_idx=1)
                self.fc = nn.Linear(5, 3)

            def forward(self, text):
                return self.fc(self.embedding(text).mean(1))

        model = Bag()
        opt = optim.Adam(model.parameters(), lr=1e-2)

        def before(i):
            if i == 1:
                model.embedding.weight.data.copy_(vectors * 0.5)
                model.embedding.weight.data[0] = torch.zeros(5)
                model.embedding.weight.data[1] = torch.zeros(5)
            if i == 3:
                model.embedding.weight.requires_grad = True

        def inputs(i):
            g = np.random.default_rng(i)
            n = [4, 4, 4, 2][i % 4]
            return torch.tensor(g.integers(0, 12, (n, 6))), torch.tensor(g.integers(0, 3, n))
        return Case(train_step(model, opt), lambda: [model, opt], inputs=inputs, before=before)

    same_as_eager(setup)


def test_lambdalr_lambda_reads_a_config_dict_changed_between_calls():
    def setup():
        model = Net()
        opt = discriminative(model, momentum=0.9)
        cfg = {"warmup": 4}
        sched = lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / cfg["warmup"]))

        def before(i):
            if i == 2:
                cfg["warmup"] = 2
        return Case(train_step(model, opt, sched), lambda: [model, opt, sched], before=before)

    same_as_eager(setup)


def test_scheduler_and_optimizer_resumed_from_state_dict_between_calls():
    def setup():
        model = Net()
        opt = discriminative(model, cls=optim.Adam)
        sched = lr_scheduler.OneCycleLR(opt, max_lr=[1e-3, 1e-2, 1e-1], total_steps=10)
        saved = {}

        def before(i):
            if i == 2:
                saved.update(model=model.state_dict(), opt=opt.state_dict(), sched=sched.state_dict())
                saved["model"] = {k: v.clone() for k, v in saved["model"].items()}
            if i == 5:
                model.load_state_dict(saved["model"])
                opt.load_state_dict(saved["opt"])
                sched.load_state_dict(saved["sched"])
        return Case(train_step(model, opt, sched), lambda: [model, opt, sched], before=before)

    same_as_eager(setup, calls=8)


def test_head_replaced_with_float64_linear_raises_dtype_error_then_fixed():
    def setup():
        model = Net()
        holder = {"opt": optim.SGD(model.parameters(), lr=0.1)}

        def before(i):
            if i == 2:
                model.fc = nn.Linear(8, 3).double()
                holder["opt"] = optim.SGD(model.parameters(), lr=0.1)
            if i == 4:
                model.fc = model.fc.float()
        return Case(train_step(model, None, holder=holder), lambda: [model, holder["opt"]], before=before)

    same_as_eager(setup)


def test_pretrained_weight_assigned_through_data_between_calls():
    def setup():
        model = Net(bn=False)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def before(i):
            if i == 3:
                pretrained = pretrained_state(21, classes=3, bn=False)
                model.layer1[0].weight.data = pretrained["layer1.0.weight"].clone()
                model.layer2[0].weight.data = pretrained["layer2.0.weight"].t().contiguous().t()
        return Case(train_step(model, opt), lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_model_compile_in_place_with_gradual_unfreezing():
    def setup():
        model = Net()
        model.compile()
        model.requires_grad_(False)
        model.fc.requires_grad_(True)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def before(i):
            if i == 2:
                model.layer2.requires_grad_(True)
            if i == 4:
                model.layer1.requires_grad_(True)
        return Case(train_step(model, opt), lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_per_layer_grad_norms_logged_only_for_params_that_have_grads():
    def setup():
        model = Net()
        model.requires_grad_(False)
        model.fc.requires_grad_(True)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            norms = {name: p.grad.norm() for name, p in model.named_parameters() if p.grad is not None}
            trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
            opt.step()
            return loss, norms, trainable

        def before(i):
            if i == 2:
                model.layer2.requires_grad_(True)
            if i == 4:
                model.requires_grad_(True)
        return Case(step, lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_model_train_override_keeps_frozen_backbone_in_eval():
    """detectron-style: the model's own train() puts the frozen backbone back in eval mode."""
    def setup():
        class Frozen(Net):
            def train(self, mode=True):
                super().train(mode)
                if self.freeze_bn:
                    self.layer1.eval()
                    self.layer2.eval()
                return self

        model = Frozen()
        model.freeze_bn = True
        model.layer1.requires_grad_(False)
        opt = optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1, momentum=0.9)

        def before(i):
            if i == 4:
                model.freeze_bn = False
        return Case(train_step(model, opt), lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_load_state_dict_assign_true_between_calls_replaces_parameters():
    def setup():
        model = Net(bn=False)
        holder = {"opt": optim.SGD(model.parameters(), lr=0.1, momentum=0.9)}

        def before(i):
            if i == 3:
                state = {k: v.clone() for k, v in pretrained_state(8, classes=3, bn=False).items()}
                model.load_state_dict(state, assign=True)
                holder["opt"] = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        return Case(train_step(model, None, holder=holder), lambda: [model, holder["opt"]], before=before)

    same_as_eager(setup)


def test_group_lr_decayed_inside_the_step_by_hand():
    """`for g in opt.param_groups: g['lr'] *= 0.9` inside the step: the dict changes on every call."""
    def setup():
        model = Net()
        opt = discriminative(model, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            for g in opt.param_groups:
                g["lr"] *= 0.9
            return loss
        return Case(step, lambda: [model, opt])

    same_as_eager(setup)


def test_sequentiallr_warmup_then_cosine_per_batch_over_no_decay_groups():
    def setup():
        model = Net()
        decay = [p for n, p in model.named_parameters() if n.endswith("weight") and p.dim() > 1]
        no_decay = [p for n, p in model.named_parameters() if not (n.endswith("weight") and p.dim() > 1)]
        opt = optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                          lr=1e-2)
        warm = lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=3)
        cos = lr_scheduler.CosineAnnealingLR(opt, T_max=5, eta_min=1e-4)
        sched = lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[3])
        return Case(train_step(model, opt, sched), lambda: [model, opt, sched])

    same_as_eager(setup, calls=8)


def test_zero_dim_tensor_lrs_in_param_groups_changed_in_place_between_calls():
    """The README's advice for a value changing every step: a 0-d tensor lr, edited in place."""
    def setup():
        model = Net()
        opt = optim.Adam([{"params": model.layer1.parameters(), "lr": torch.tensor(0.001)},
                          {"params": [*model.layer2.parameters(), *model.fc.parameters()], "lr": torch.tensor(0.01)}])

        def before(i):
            if i >= 2:
                opt.param_groups[1]["lr"].fill_(0.01 / (i + 1))
                opt.param_groups[0]["lr"].mul_(0.5)
        return Case(train_step(model, opt), lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_backbone_unfrozen_and_group_added_inside_the_step_at_second_epoch():
    def setup():
        model = Net()
        freeze(model.layer1)
        freeze(model.layer2)
        opt = optim.SGD(model.fc.parameters(), lr=0.1, momentum=0.9)

        def step(x, y, epoch):
            if epoch == 1 and len(opt.param_groups) == 1:
                freeze(model, True)
                opt.add_param_group({"params": [*model.layer1.parameters(), *model.layer2.parameters()], "lr": 0.01})
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        inputs = batches()
        return Case(step, lambda: [model, opt], inputs=lambda i: inputs(i) + (i // 3,))

    same_as_eager(setup)
