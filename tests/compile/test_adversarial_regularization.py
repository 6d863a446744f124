"""chainrule.compile against eager execution on REGULARIZATION TRICKS written inside a training step:
mixup (lam from np.random.beta or torch.distributions.Beta, passed in or drawn inside), cutmix boxes
from Python random ints, label smoothing (``cross_entropy(label_smoothing=...)`` and hand-written
smoothed targets), stochastic depth (``torch.rand(1) < p`` deciding a branch, bernoulli masks),
DropConnect on weights, an L1 penalty over parameters, manual weight decay, gradient clipping by value
and by norm (``error_if_nonfinite``), an EMA of weights updated by hand after the step (a loop of
``mul_``/``add_``/``lerp_``, ``torch._foreach_*``, ``AveragedModel``), spectral and weight norm
parametrizations, gradient noise from ``randn_like``.

Each test runs the same calls from the same seeds (chainrule, NumPy's global generator, Python's
random) eagerly and compiled, and compares bit for bit what each
call returns or raises, parameters, grads, buffers, optimizer state, Python side effects and the
three random streams after the run. A compiled run may record anew or fall back to eager with at
most one warning.
"""
import random
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.random import default_generator
from tests.compile.bitwise import assert_identical

torch = chainrule


# ----------------------------------------------------------------------------- the harness
def arr(t):
    return np.array(t.detach().numpy(), copy=True)


def snap(value):
    if isinstance(value, chainrule.Tensor):
        return ("tensor", str(value.dtype), arr(value))
    if isinstance(value, (list, tuple)):
        return tuple(snap(v) for v in value)
    if isinstance(value, dict):
        return {k: snap(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return np.asarray(value)
    if isinstance(value, nn.Module):
        return module_state(value)
    return value


def module_state(model):
    return {
        "modules": [(name, type(m).__name__, bool(m.training)) for name, m in model.named_modules()],
        "params": [(name, str(p.dtype), bool(p.requires_grad), arr(p), None if p.grad is None else arr(p.grad))
                   for name, p in model.named_parameters()],
        "buffers": [(name, str(b.dtype), arr(b)) for name, b in model.named_buffers()],
        "state_dict": list(model.state_dict().keys()),
    }


def observe(objects):
    out = []
    for thing in objects:
        if isinstance(thing, optim.Optimizer):
            out.append([{k: snap(v) for k, v in s.items()} for s in thing.state.values()])
            out.append([{k: snap(v) for k, v in g.items() if k != "params"} for g in thing.param_groups])
        else:
            out.append(snap(thing))
    return out


class Case:
    def __init__(self, step, observe, inputs=None, before=None):
        self.step, self.observe = step, observe
        self.inputs = inputs or cls_inputs()
        self.before = before or (lambda i: None)


def cls_inputs(features=4, classes=3, dtype=chainrule.float64, last=3, calls=7, n=5):
    """Classification batches; the last one is smaller, as a DataLoader's last batch."""
    def inputs(i):
        g = np.random.default_rng(100 + i)
        size = last if i == calls - 1 else n
        x = chainrule.tensor(g.standard_normal((size, features))).to(dtype)
        y = chainrule.tensor(g.integers(0, classes, size))
        return x, y
    return inputs


def img_inputs(classes=3, last=3, calls=7, n=4, dtype=chainrule.float32):
    def inputs(i):
        g = np.random.default_rng(300 + i)
        size = last if i == calls - 1 else n
        x = chainrule.tensor(g.standard_normal((size, 1, 6, 6))).to(dtype)
        y = chainrule.tensor(g.integers(0, classes, size))
        return x, y
    return inputs


def run(compiled, setup, calls):
    chainrule.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    case = setup()
    function = chainrule.compile(case.step) if compiled else case.step
    history = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            args = case.before(i) or ()
            args = tuple(case.inputs(i)) + tuple(args)
            try:
                result = function(*args)
                history.append(("ok", snap(result)))
            except Exception as error:  # compared: type and message
                history.append(("raised", type(error).__name__, str(error)))
            history.append(observe(case.observe()))
    history.append(("random", default_generator.state_bytes(), np.random.rand(2), random.random()))
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return history, messages


def same_as_eager(setup, calls=7, may_raise=False):
    eager, eager_messages = run(False, setup, calls)
    raised = [h for h in eager if isinstance(h, tuple) and h and h[0] == "raised"]
    assert may_raise or not raised, raised
    compiled, messages = run(True, setup, calls)
    assert not eager_messages
    assert_identical(compiled, eager, "compiled")
    assert len(messages) <= 1, messages
    return eager, messages


def mlp(i=4, h=8, o=3, dtype=chainrule.float64):
    return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o)).to(dtype)


class SmallCNN(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 3 * 3, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        return self.fc(torch.flatten(x, 1))


# ----------------------------------------------------------------------------- mixup
def mixup_criterion(criterion, pred, y_a, y_b, lam):
    return lam * criterion(pred, y_a) + (1 - lam) * criterion(pred, y_b)


def test_mixup_lam_from_np_random_beta_passed_in_as_float():
    """The mixup paper's code: lam = np.random.beta(alpha, alpha) in the loop, a float argument."""
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
        criterion = nn.CrossEntropyLoss()

        def step(x, y, lam):
            batch_size = x.size()[0]
            index = torch.randperm(batch_size)
            mixed_x = lam * x + (1 - lam) * x[index, :]
            y_a, y_b = y, y[index]
            outputs = model(mixed_x)
            loss = mixup_criterion(criterion, outputs, y_a, y_b, lam)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, outputs

        def before(i):
            return (float(np.random.beta(0.4, 0.4)) if i != 3 else 1.0,)
        return Case(step, lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_mixup_lam_passed_as_zero_dim_tensor():
    """The README's advice: a value that changes every step passed as a 0-d tensor."""
    def setup():
        model = mlp(dtype=chainrule.float32)
        opt = optim.Adam(model.parameters(), lr=1e-2)

        def step(x, y, lam):
            index = torch.randperm(x.shape[0])
            mixed = lam * x + (1 - lam) * x[index]
            out = model(mixed)
            loss = lam * F.cross_entropy(out, y) + (1 - lam) * F.cross_entropy(out, y[index])
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        def before(i):
            return (torch.tensor(np.random.beta(1.0, 1.0), dtype=torch.float32),)
        return Case(step, lambda: [model, opt], before=before, inputs=cls_inputs(dtype=chainrule.float32))

    same_as_eager(setup)


def test_mixup_lam_drawn_inside_the_step_with_np_random_beta():
    """Documented: NumPy's generator called by hand inside the step makes it run eagerly, one warning."""
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.05)
        alpha = 0.2

        def step(x, y):
            lam = np.random.beta(alpha, alpha) if alpha > 0 else 1
            index = torch.randperm(x.size(0))
            mixed_x = lam * x + (1 - lam) * x[index, :]
            pred = model(mixed_x)
            loss = lam * F.cross_entropy(pred, y) + (1 - lam) * F.cross_entropy(pred, y[index])
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, lam

        return Case(step, lambda: [model, opt])

    same_as_eager(setup)


def test_mixup_lam_drawn_inside_with_torch_distributions_beta():
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.05, nesterov=True, momentum=0.9)
        beta = torch.distributions.Beta(torch.tensor(0.4, dtype=torch.float64), torch.tensor(0.4, dtype=torch.float64))

        def step(x, y):
            lam = beta.sample()
            index = torch.randperm(x.size(0))
            mixed = lam * x + (1 - lam) * x.flip(0)[index]
            y_onehot = F.one_hot(y, 3).to(x.dtype)
            target = lam * y_onehot + (1 - lam) * y_onehot.flip(0)[index]
            loss = torch.sum(-target * F.log_softmax(model(mixed), dim=-1), dim=-1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, lam

        return Case(step, lambda: [model, opt])

    same_as_eager(setup)


def test_mixup_soft_targets_into_cross_entropy_probabilities_with_smoothing():
    """cross_entropy with probability targets and label smoothing (timm's Mixup + SoftTargetCrossEntropy);
    lam from np.random.beta outside, a float argument."""
    def setup():
        model = mlp(dtype=chainrule.float32)
        opt = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.05)

        def step(x, y, lam, smoothing):
            target = F.one_hot(y, num_classes=3).float()
            target = target * lam + target.flip(0) * (1.0 - lam)
            out = model(x * lam + x.flip(0) * (1.0 - lam))
            loss = F.cross_entropy(out, target, label_smoothing=smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        def before(i):
            return float(np.random.beta(0.8, 0.8)), [0.1, 0.1, 0.0, 0.2, 0.1, 0.0, 0.1][i]
        return Case(step, lambda: [model, opt], inputs=cls_inputs(dtype=chainrule.float32), before=before)

    same_as_eager(setup)


def test_mixup_soft_targets_with_beta_sample_inside_the_step():
    """Beta.sample inside the step (gamma draws by rejection): recorded or one fall-back warning."""
    def setup():
        model = mlp(dtype=chainrule.float32)
        opt = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.05)
        dist = torch.distributions.Beta(torch.tensor([0.8]), torch.tensor([0.8]))

        def step(x, y):
            lam = dist.sample()[0]
            target = F.one_hot(y, num_classes=3).float()
            target = target * lam + target.roll(1, 0) * (1.0 - lam)
            loss = F.cross_entropy(model(x * lam + x.roll(1, 0) * (1.0 - lam)), target, label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [model, opt], inputs=cls_inputs(dtype=chainrule.float32))

    same_as_eager(setup)


def test_mixup_lam_cycled_through_a_few_floats_reuses_recordings():
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y, lam):
            index = torch.randperm(x.size(0))
            out = model(lam * x + (1 - lam) * x[index])
            loss = lam * F.cross_entropy(out, y) + (1 - lam) * F.cross_entropy(out, y[index])
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        lams = [0.3, 0.7, 0.3, 0.7, 1.0, 0.3, 0.7]
        return Case(step, lambda: [model, opt], before=lambda i: (lams[i],))

    same_as_eager(setup)


def test_mixup_lam_from_uniform_distribution_inside_the_step():
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1)
        uniform = torch.distributions.Uniform(torch.tensor(0.0, dtype=torch.float64),
                                              torch.tensor(1.0, dtype=torch.float64))

        def step(x, y):
            lam = uniform.sample()
            lam = torch.max(lam, 1 - lam)
            index = torch.randperm(x.size(0))
            out = model(lam * x + (1 - lam) * x[index])
            loss = lam * F.cross_entropy(out, y) + (1 - lam) * F.cross_entropy(out, y[index])
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, lam

        return Case(step, lambda: [model, opt])

    same_as_eager(setup)


# ----------------------------------------------------------------------------- cutmix
def rand_bbox(size, lam):
    W, H = size[2], size[3]
    cut_rat = np.sqrt(1. - lam)
    cut_w = int(W * cut_rat)
    cut_h = int(H * cut_rat)
    cx = np.random.randint(W)
    cy = np.random.randint(H)
    bbx1 = np.clip(cx - cut_w // 2, 0, W)
    bby1 = np.clip(cy - cut_h // 2, 0, H)
    bbx2 = np.clip(cx + cut_w // 2, 0, W)
    bby2 = np.clip(cy + cut_h // 2, 0, H)
    return bbx1, bby1, bbx2, bby2


def test_cutmix_box_from_python_random_ints_passed_in():
    """The CutMix reference code: the box drawn outside, written into the batch inside the step."""
    def setup():
        model = SmallCNN()
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        criterion = nn.CrossEntropyLoss()

        def step(x, y, box, use_cutmix):
            if use_cutmix:
                x1, y1, x2, y2 = box
                rand_index = torch.randperm(x.size()[0])
                target_a, target_b = y, y[rand_index]
                x = x.clone()
                x[:, :, x1:x2, y1:y2] = x[rand_index, :, x1:x2, y1:y2]
                lam = 1 - ((x2 - x1) * (y2 - y1) / (x.size()[-1] * x.size()[-2]))
                output = model(x)
                loss = criterion(output, target_a) * lam + criterion(output, target_b) * (1. - lam)
            else:
                output = model(x)
                loss = criterion(output, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        def before(i):
            lam = np.random.beta(1.0, 1.0)
            box = tuple(int(v) for v in rand_bbox((4, 1, 6, 6), lam))
            return box, random.random() < 0.7
        return Case(step, lambda: [model, opt], before=before, inputs=img_inputs())

    same_as_eager(setup)


def test_cutmix_box_drawn_inside_with_python_random():
    """Documented: random.randint inside the step makes it run eagerly, with at most one warning."""
    def setup():
        model = SmallCNN()
        opt = optim.Adam(model.parameters(), lr=1e-3)

        def step(x, y):
            H, W = x.shape[2:]
            cut = random.randint(1, 4)
            cx, cy = random.randint(0, W - cut), random.randint(0, H - cut)
            perm = torch.randperm(x.size(0))
            x = x.clone()
            x[:, :, cy:cy + cut, cx:cx + cut] = x[perm, :, cy:cy + cut, cx:cx + cut]
            lam = 1 - cut * cut / (H * W)
            out = model(x)
            loss = lam * F.cross_entropy(out, y) + (1 - lam) * F.cross_entropy(out, y[perm])
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [model, opt], inputs=img_inputs())

    same_as_eager(setup)


def test_cutmix_box_drawn_inside_with_torch_randint_and_int():
    """int(torch.randint(...)) reads a value into Python: a documented fall-back, at most one warning."""
    def setup():
        model = SmallCNN()
        opt = optim.SGD(model.parameters(), lr=0.05)

        def step(x, y):
            cut = 3
            cx = int(torch.randint(0, 6 - cut + 1, (1,)))
            cy = torch.randint(0, 6 - cut + 1, (1,)).item()
            perm = torch.randperm(x.size(0))
            mask = torch.ones_like(x)
            mask[:, :, cy:cy + cut, cx:cx + cut] = 0
            mixed = x * mask + x[perm] * (1 - mask)
            lam = mask.mean()
            out = model(mixed)
            loss = lam * F.cross_entropy(out, y) + (1 - lam) * F.cross_entropy(out, y[perm])
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, lam

        return Case(step, lambda: [model, opt], inputs=img_inputs())

    same_as_eager(setup)


# ----------------------------------------------------------------------------- label smoothing
def test_cross_entropy_label_smoothing_argument_changed_between_calls():
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y, eps):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y, label_smoothing=eps)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [model, opt], before=lambda i: ([0.1, 0.1, 0.0, 0.3, 0.1, 0.05, 0.1][i],))

    same_as_eager(setup)


def test_crossentropyloss_label_smoothing_attribute_changed_between_calls():
    def setup():
        model = mlp(dtype=chainrule.float32)
        opt = optim.Adam(model.parameters(), lr=1e-2)
        criterion = nn.CrossEntropyLoss(label_smoothing=0.1)

        def step(x, y):
            out = model(x)
            loss = criterion(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        def before(i):
            criterion.label_smoothing = [0.1, 0.1, 0.2, 0.2, 0.0, 0.1, 0.1][i]
        return Case(step, lambda: [model, opt, criterion.label_smoothing], before=before,
                    inputs=cls_inputs(dtype=chainrule.float32))

    same_as_eager(setup)


def test_label_smoothing_with_ignore_index_weight_and_reductions():
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1)
        weight = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)

        def step(x, y, reduction):
            y = y.clone()
            y[0] = -100
            out = model(x)
            loss = F.cross_entropy(out, y, weight=weight, ignore_index=-100, label_smoothing=0.2,
                                   reduction=reduction)
            opt.zero_grad()
            loss.sum().backward()
            opt.step()
            return loss

        return Case(step, lambda: [model, opt],
                    before=lambda i: (["mean", "mean", "sum", "none", "mean", "sum", "none"][i],))

    same_as_eager(setup)


def test_label_smoothing_matches_pytorch_with_ignore_index_and_weight():
    """Eager parity with PyTorch for label smoothing combined with class weights and ignore_index."""
    real = pytest.importorskip("torch")
    g = np.random.default_rng(5)
    logits = g.standard_normal((6, 4))
    target = np.array([0, 3, -100, 1, 2, -100])
    weight = np.array([1.0, 2.0, 0.5, 3.0])
    for reduction in ("mean", "sum", "none"):
        ours = F.cross_entropy(chainrule.tensor(logits, requires_grad=True), chainrule.tensor(target),
                               weight=chainrule.tensor(weight), label_smoothing=0.3, reduction=reduction)
        theirs = real.nn.functional.cross_entropy(real.tensor(logits), real.tensor(target),
                                                  weight=real.tensor(weight), label_smoothing=0.3,
                                                  reduction=reduction)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)


class LabelSmoothingLoss(nn.Module):
    """The hand-written smoothed targets of many tutorials (scatter_ into a filled tensor)."""
    def __init__(self, classes, smoothing=0.0, dim=-1):
        super().__init__()
        self.confidence = 1.0 - smoothing
        self.smoothing = smoothing
        self.cls = classes
        self.dim = dim

    def forward(self, pred, target):
        pred = pred.log_softmax(dim=self.dim)
        with torch.no_grad():
            true_dist = torch.zeros_like(pred)
            true_dist.fill_(self.smoothing / (self.cls - 1))
            true_dist.scatter_(1, target.data.unsqueeze(1), self.confidence)
        return torch.mean(torch.sum(-true_dist * pred, dim=self.dim))


def test_hand_written_label_smoothing_loss_with_scatter_and_smoothing_changed():
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        criterion = LabelSmoothingLoss(3, smoothing=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i == 3:
                criterion.smoothing, criterion.confidence = 0.2, 0.8
        return Case(step, lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_hand_written_smoothed_one_hot_targets_in_float32():
    def setup():
        model = mlp(dtype=chainrule.float32)
        opt = optim.RMSprop(model.parameters(), lr=1e-3)

        def step(x, y, eps):
            n_class = 3
            one_hot = torch.zeros_like(model(x)).scatter(1, y.view(-1, 1), 1)
            one_hot = one_hot * (1 - eps) + (1 - one_hot) * eps / (n_class - 1)
            log_prb = F.log_softmax(model(x), dim=1)
            loss = -(one_hot * log_prb).sum(dim=1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [model, opt], inputs=cls_inputs(dtype=chainrule.float32),
                    before=lambda i: (0.1 if i < 4 else 0.05,))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- stochastic depth
class ResBlock(nn.Module):
    def __init__(self, dim, survival):
        super().__init__()
        self.fc1 = nn.Linear(dim, dim)
        self.fc2 = nn.Linear(dim, dim)
        self.survival = survival

    def forward(self, x):
        if self.training:
            if torch.rand(1) < self.survival:
                return x + self.fc2(F.relu(self.fc1(x)))
            return x
        return x + self.survival * self.fc2(F.relu(self.fc1(x)))


class ResNet(nn.Module):
    def __init__(self, dim=4, classes=3, survivals=(1.0, 0.8, 0.5)):
        super().__init__()
        self.blocks = nn.Sequential(*[ResBlock(dim, s) for s in survivals])
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        return self.head(self.blocks(x))


def test_stochastic_depth_branch_decided_by_torch_rand_less_than_p():
    """`if torch.rand(1) < p:` reads a value into Python: eager from then on, one warning at most."""
    def setup():
        model = ResNet().double()
        opt = optim.SGD(model.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            model.train(i != 4)
        return Case(step, lambda: [model, opt], before=before)

    same_as_eager(setup)


def drop_path(x, drop_prob: float = 0., training: bool = False, scale_by_keep: bool = True):
    """timm's drop_path, verbatim."""
    if drop_prob == 0. or not training:
        return x
    keep_prob = 1 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    random_tensor = x.new_empty(shape).bernoulli_(keep_prob)
    if keep_prob > 0.0 and scale_by_keep:
        random_tensor.div_(keep_prob)
    return x * random_tensor


class DropPath(nn.Module):
    def __init__(self, drop_prob=None, scale_by_keep=True):
        super().__init__()
        self.drop_prob = drop_prob
        self.scale_by_keep = scale_by_keep

    def forward(self, x):
        return drop_path(x, self.drop_prob, self.training, self.scale_by_keep)


class DropPathBlock(nn.Module):
    def __init__(self, dim, p):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.drop_path = DropPath(p) if p > 0. else nn.Identity()

    def forward(self, x):
        return x + self.drop_path(self.mlp(self.norm(x)))


def test_timm_drop_path_bernoulli_per_sample_with_train_eval_and_rate_changes():
    def setup():
        dpr = [x.item() for x in torch.linspace(0, 0.3, 3)]
        model = nn.Sequential(*[DropPathBlock(4, p) for p in dpr], nn.Linear(4, 3))
        opt = optim.AdamW(model.parameters(), lr=1e-3)

        def step(x, y):
            out = model(x)
            loss = F.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, out

        def before(i):
            model.train(i not in (2, 5))
            if i == 4:
                model[2].drop_path.drop_prob = 0.5
        return Case(step, lambda: [model, opt], before=before, inputs=cls_inputs(dtype=chainrule.float32))

    same_as_eager(setup)


def test_stochastic_depth_with_torch_bernoulli_of_a_survival_tensor():
    def setup():
        model = ResNet().double()
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        survival = torch.tensor([1.0, 0.8, 0.5], dtype=torch.float64)

        def step(x, y):
            gates = torch.bernoulli(survival)
            h = x
            for gate, block in zip(gates, model.blocks):
                h = h + gate * block.fc2(F.relu(block.fc1(h)))
            loss = F.cross_entropy(model.head(h), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, gates

        return Case(step, lambda: [model, opt])

    same_as_eager(setup)


# ----------------------------------------------------------------------------- DropConnect
class DropConnectLinear(nn.Linear):
    def __init__(self, i, o, p=0.5):
        super().__init__(i, o)
        self.p = p

    def forward(self, x):
        if self.training and self.p > 0:
            mask = torch.bernoulli(torch.full_like(self.weight, 1 - self.p))
            weight = self.weight * mask / (1 - self.p)
        else:
            weight = self.weight
        return F.linear(x, weight, self.bias)


def test_dropconnect_bernoulli_mask_on_weights_with_p_and_mode_changed():
    def setup():
        model = nn.Sequential(DropConnectLinear(4, 8, 0.3), nn.Tanh(), nn.Linear(8, 3)).double()
        opt = optim.Adam(model.parameters(), lr=1e-2)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            model.train(i != 3)
            model[0].p = [0.3, 0.3, 0.5, 0.5, 0.0, 0.3, 0.3][i]
        return Case(step, lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_dropconnect_via_functional_dropout_on_weight_as_in_awd_lstm():
    """AWD-LSTM's WeightDrop: F.dropout applied to a raw weight, the module calls F.linear."""
    def setup():
        lin = nn.Linear(4, 3).double()
        opt = optim.SGD(lin.parameters(), lr=0.1)
        state = {"p": 0.4}

        def step(x, y):
            w = F.dropout(lin.weight, p=state["p"], training=lin.training)
            out = F.linear(x, w, lin.bias)
            loss = F.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        def before(i):
            state["p"] = 0.4 if i < 3 else 0.2
            lin.train(i != 5)
        return Case(step, lambda: [lin, opt], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- L1 / weight decay
def test_l1_penalty_sum_abs_over_parameters_with_lambda_attribute():
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.05)
        cfg = type("Cfg", (), {"l1_lambda": 1e-3})()

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            l1_norm = sum(p.abs().sum() for p in model.parameters())
            loss = loss + cfg.l1_lambda * l1_norm
            loss.backward()
            opt.step()
            return loss, l1_norm

        def before(i):
            cfg.l1_lambda = 1e-3 if i < 3 else 1e-2
        return Case(step, lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_l1_penalty_with_torch_norm_p1_on_weights_only_and_sign_subgradient_at_zero():
    """Weights with exact zeros: the subgradient of |w| at 0 must be 0 in both runs."""
    def setup():
        model = mlp(dtype=chainrule.float32)
        with torch.no_grad():
            model[0].weight[:, 0] = 0.0
        opt = optim.SGD(model.parameters(), lr=0.05)

        def step(x, y):
            out = model(x)
            reg = 0.
            for name, param in model.named_parameters():
                if "weight" in name:
                    reg = reg + torch.norm(param, 1)
            loss = F.cross_entropy(out, y) + 1e-4 * reg
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [model, opt], inputs=cls_inputs(dtype=chainrule.float32))

    same_as_eager(setup)


def test_manual_decoupled_weight_decay_before_optimizer_step():
    def setup():
        model = mlp()
        opt = optim.Adam(model.parameters(), lr=1e-2)
        wd = 1e-2

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            lr = opt.param_groups[0]["lr"]
            with torch.no_grad():
                for name, p in model.named_parameters():
                    if p.ndim > 1:
                        p.mul_(1 - lr * wd)
            opt.step()
            return loss

        def before(i):
            if i == 4:
                opt.param_groups[0]["lr"] = 5e-3
        return Case(step, lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_weight_decay_added_to_grads_by_hand_and_l2_penalty_term():
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y, wd, mode):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            if mode == "penalty":
                loss = loss + 0.5 * wd * sum(p.pow(2).sum() for p in model.parameters())
            loss.backward()
            if mode == "grad":
                for p in model.parameters():
                    p.grad.add_(p.data, alpha=wd)
            elif mode == "grad+=":
                for p in model.parameters():
                    p.grad += wd * p.data
            opt.step()
            return loss

        modes = ["penalty", "grad", "grad", "grad+=", "penalty", "grad", "grad"]
        return Case(step, lambda: [model, opt], before=lambda i: (1e-3 if i < 5 else 1e-2, modes[i]))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- gradient clipping
def test_clip_grad_value_with_clip_value_changed_between_calls():
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.5)

        def step(x, y, clip):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y) * 10
            loss.backward()
            nn.utils.clip_grad_value_(model.parameters(), clip_value=clip)
            opt.step()
            return loss

        return Case(step, lambda: [model, opt], before=lambda i: ([0.1, 0.1, 0.5, 0.01, 0.1, 1.0, 0.1][i],))

    same_as_eager(setup)


def test_clip_grad_norm_returns_total_norm_with_norm_types_changed():
    def setup():
        model = mlp(dtype=chainrule.float32)
        opt = optim.Adam(model.parameters(), lr=1e-2)
        norms = []

        def step(x, y, max_norm, norm_type):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm, norm_type=norm_type)
            opt.step()
            return loss, total

        args = [(1.0, 2.0), (1.0, 2.0), (0.1, 2.0), (0.1, float("inf")), (0.5, 1), (0.1, 2.0), (1.0, "inf")]
        return Case(step, lambda: [model, opt, norms], before=lambda i: args[i],
                    inputs=cls_inputs(dtype=chainrule.float32))

    same_as_eager(setup)


def test_clip_grad_norm_error_if_nonfinite_raises_on_a_nan_batch():
    """A later batch holds a NaN: clip_grad_norm_(error_if_nonfinite=True) raises in both runs;
    the optimizer has not stepped, the NaN grads stay in place."""
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        base = cls_inputs()

        def inputs(i):
            x, y = base(i)
            if i == 3:
                x = x.clone()
                x[1, 2] = float("nan")
            return x, y

        def step(x, y):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0, error_if_nonfinite=True)
            opt.step()
            return loss, total

        return Case(step, lambda: [model, opt], inputs=inputs)

    eager, _ = same_as_eager(setup, may_raise=True)
    raised = [h for h in eager if isinstance(h, tuple) and h and h[0] == "raised"]
    assert len(raised) == 1 and raised[0][1] == "RuntimeError", raised


def test_clip_grad_norm_error_message_matches_pytorch():
    real = pytest.importorskip("torch")
    p = chainrule.tensor([1.0, 2.0], requires_grad=True)
    p.grad = chainrule.tensor([float("inf"), 1.0])
    q = real.tensor([1.0, 2.0], requires_grad=True)
    q.grad = real.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError) as theirs:
        real.nn.utils.clip_grad_norm_([q], 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as ours:
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert str(ours.value) == str(theirs.value)


def test_clip_grad_norm_nonfinite_without_error_matches_pytorch():
    """error_if_nonfinite=False with an inf gradient: total norm inf, grads scaled by 1/inf (zeros
    and nan), as PyTorch does."""
    real = pytest.importorskip("torch")
    for grad in ([float("inf"), 1.0], [float("nan"), 1.0]):
        p = chainrule.tensor([1.0, 2.0], requires_grad=True)
        p.grad = chainrule.tensor(grad)
        q = real.tensor([1.0, 2.0], requires_grad=True)
        q.grad = real.tensor(grad)
        ours = nn.utils.clip_grad_norm_([p], 1.0)
        theirs = real.nn.utils.clip_grad_norm_([q], 1.0)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_clip_grad_norm_with_grad_accumulation_and_foreach_argument():
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1)
        accum = 2

        def step(x, y):
            opt.zero_grad()
            for chunk_x, chunk_y in zip(x.chunk(accum), y.chunk(accum)):
                loss = F.cross_entropy(model(chunk_x), chunk_y) / accum
                loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5, foreach=True)
            opt.step()
            return loss, norm

        return Case(step, lambda: [model, opt])

    same_as_eager(setup)


# ----------------------------------------------------------------------------- EMA of weights
def test_ema_loop_mul_add_after_step_with_decay_passed_in():
    def setup():
        model = mlp()
        ema = mlp()
        ema.load_state_dict(model.state_dict())
        for p in ema.parameters():
            p.requires_grad_(False)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y, decay):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            with torch.no_grad():
                for ema_p, p in zip(ema.parameters(), model.parameters()):
                    ema_p.mul_(decay).add_(p.detach(), alpha=1 - decay)
            return loss

        return Case(step, lambda: [model, ema, opt],
                    before=lambda i: (min(0.999, (1 + i) / (10 + i)),))

    same_as_eager(setup)


class ModelEma:
    """timm's ModelEmaV2-style helper, with an update counter."""
    def __init__(self, model, decay=0.99):
        import copy
        self.module = copy.deepcopy(model)
        self.module.eval()
        self.decay = decay
        self.num_updates = 0

    @torch.no_grad()
    def update(self, model):
        self.num_updates += 1
        decay = min(self.decay, (1 + self.num_updates) / (10 + self.num_updates))
        for ema_v, model_v in zip(self.module.state_dict().values(), model.state_dict().values()):
            if ema_v.dtype.is_floating_point:
                ema_v.lerp_(model_v, 1.0 - decay)
            else:
                ema_v.copy_(model_v)


def test_ema_helper_with_lerp_and_counter_updated_inside_the_step():
    """A counter attribute bumped inside the step: documented eager fall-back, one warning at most.
    The state dict includes BatchNorm's buffers (num_batches_tracked copied)."""
    def setup():
        model = SmallCNN()
        ema = ModelEma(model)
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            ema.update(model)
            return loss

        return Case(step, lambda: [model, ema.module, opt, ema.num_updates], inputs=img_inputs())

    same_as_eager(setup)


def test_ema_with_lerp_in_a_loop_over_state_dict_and_constant_decay():
    def setup():
        model = SmallCNN()
        import copy
        ema = copy.deepcopy(model).eval()
        opt = optim.Adam(model.parameters(), lr=1e-3)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            with torch.no_grad():
                msd = model.state_dict()
                for k, ema_v in ema.state_dict().items():
                    model_v = msd[k].detach()
                    if ema_v.dtype.is_floating_point:
                        ema_v.lerp_(model_v, 0.1)
                    else:
                        ema_v.copy_(model_v)
            return loss

        def before(i):
            model.train(i != 3)
        return Case(step, lambda: [model, ema, opt], before=before, inputs=img_inputs())

    same_as_eager(setup)


def test_ema_with_foreach_mul_and_add_after_step():
    def setup():
        model = mlp()
        ema_params = [p.detach().clone() for p in model.parameters()]
        opt = optim.SGD(model.parameters(), lr=0.1)
        decay = 0.9

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            with torch.no_grad():
                model_params = [p.detach() for p in model.parameters()]
                torch._foreach_mul_(ema_params, decay)
                torch._foreach_add_(ema_params, model_params, alpha=1 - decay)
            return loss

        return Case(step, lambda: [model, opt, ema_params])

    same_as_eager(setup)


def test_ema_with_foreach_lerp_after_step():
    def setup():
        model = mlp()
        ema_params = [p.detach().clone() for p in model.parameters()]
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y, decay):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            with torch.no_grad():
                torch._foreach_lerp_(ema_params, [p.detach() for p in model.parameters()], weight=1. - decay)
            return loss

        return Case(step, lambda: [model, opt, ema_params], before=lambda i: (0.9 if i < 4 else 0.99,))

    same_as_eager(setup)


def test_averaged_model_ema_update_parameters_after_step():
    def setup():
        model = SmallCNN()
        ema = optim.swa_utils.AveragedModel(model, multi_avg_fn=optim.swa_utils.get_ema_multi_avg_fn(0.9),
                                            use_buffers=True)
        opt = optim.SGD(model.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            ema.update_parameters(model)
            return loss

        return Case(step, lambda: [model, ema, opt], inputs=img_inputs())

    same_as_eager(setup)


# ----------------------------------------------------------------------------- parametrizations
def test_spectral_norm_parametrization_power_iteration_with_train_eval():
    def setup():
        from chainrule.nn.utils import parametrizations as P
        model = nn.Sequential(P.spectral_norm(nn.Linear(4, 8)), nn.LeakyReLU(0.2),
                              P.spectral_norm(nn.Linear(8, 3))).double()
        opt = optim.Adam(model.parameters(), lr=2e-3, betas=(0.5, 0.999))

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            model.train(i not in (3, 4))
        return Case(step, lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_weight_norm_parametrization_with_dim_and_sgd():
    def setup():
        from chainrule.nn.utils.parametrizations import weight_norm
        model = nn.Sequential(weight_norm(nn.Linear(4, 8)), nn.ReLU(), weight_norm(nn.Linear(8, 3), dim=None))
        model = model.float()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            return loss, model[0].weight.detach()

        return Case(step, lambda: [model, opt], inputs=cls_inputs(dtype=chainrule.float32))

    same_as_eager(setup)


def test_old_style_spectral_norm_hook_and_weight_norm_hook():
    def setup():
        model = nn.Sequential(nn.utils.spectral_norm(nn.Linear(4, 8)), nn.Tanh(),
                              nn.utils.weight_norm(nn.Linear(8, 3))).double()
        opt = optim.RMSprop(model.parameters(), lr=1e-3)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            model.train(i != 2)
        return Case(step, lambda: [model, opt], before=before)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        same_as_eager(setup)


def test_spectral_norm_under_parametrize_cached_with_weight_read_twice():
    def setup():
        from chainrule.nn.utils import parametrize
        from chainrule.nn.utils.parametrizations import spectral_norm
        lin = spectral_norm(nn.Linear(4, 4)).double()
        head = nn.Linear(4, 3).double()
        opt = optim.SGD(list(lin.parameters()) + list(head.parameters()), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            with parametrize.cached():
                h = torch.tanh(lin(x))
                h = torch.tanh(lin(h))        # weight computed once, used twice
            loss = F.cross_entropy(head(h), y)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [lin, head, opt])

    same_as_eager(setup)


def test_spectral_norm_matches_pytorch_after_training_steps():
    """Eager parity: parametrizations.spectral_norm's u/v and weight after a few train-mode calls."""
    real = pytest.importorskip("torch")
    g = np.random.default_rng(1)
    w0 = g.standard_normal((5, 4))
    u0 = g.standard_normal(5)
    v0 = g.standard_normal(4)
    from chainrule.nn.utils.parametrizations import spectral_norm
    ours = spectral_norm(nn.Linear(4, 5).double())
    theirs = real.nn.utils.parametrizations.spectral_norm(real.nn.Linear(4, 5).double())
    for mod, lib in ((ours, chainrule), (theirs, real)):
        with lib.no_grad():
            mod.parametrizations.weight.original.copy_(lib.tensor(w0))
            mod.bias.zero_()
            p = mod.parametrizations.weight[0]
            p._u.copy_(lib.tensor(u0 / np.linalg.norm(u0)))
            p._v.copy_(lib.tensor(v0 / np.linalg.norm(v0)))
    x = g.standard_normal((3, 4))
    for _ in range(3):
        a = ours(chainrule.tensor(x))
        b = theirs(real.tensor(x))
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.parametrizations.weight[0]._u.numpy(),
                               theirs.parametrizations.weight[0]._u.numpy(), rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- more DropConnect / layer drop
class WeightDrop(nn.Module):
    """AWD-LSTM's WeightDrop: the raw weight a parameter, the dropped weight set as a plain attribute."""
    def __init__(self, module, weights, dropout=0.0):
        super().__init__()
        self.module = module
        self.weights = weights
        self.dropout = dropout
        for name_w in self.weights:
            w = getattr(self.module, name_w)
            del self.module._parameters[name_w]
            self.module.register_parameter(name_w + "_raw", nn.Parameter(w.data))

    def _setweights(self):
        for name_w in self.weights:
            raw_w = getattr(self.module, name_w + "_raw")
            w = F.dropout(raw_w, p=self.dropout, training=self.training)
            setattr(self.module, name_w, w)

    def forward(self, *args):
        self._setweights()
        return self.module.forward(*args)


def test_awd_lstm_weight_drop_setattr_of_dropped_weight_inside_the_step():
    def setup():
        model = nn.Sequential(WeightDrop(nn.Linear(4, 8), ["weight"], dropout=0.3), nn.Tanh(), nn.Linear(8, 3))
        model = model.double()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            # not eval(): F.dropout(training=False) returns the Parameter itself, which setattr then
            # registers as a parameter, and the next train-mode call raises (as in PyTorch)
            model[0].dropout = 0.3 if i < 4 else 0.1
        return Case(step, lambda: [model, opt, model[0].module.weight], before=before)

    same_as_eager(setup)


class LayerDropEncoder(nn.Module):
    """fairseq's LayerDrop: ``dropout_probability = torch.empty(1).uniform_()`` compared in Python."""
    def __init__(self, layerdrop=0.3):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
        self.out = nn.Linear(4, 3)
        self.layerdrop = layerdrop

    def forward(self, x):
        for layer in self.layers:
            dropout_probability = torch.empty(1).uniform_()
            if self.training and (dropout_probability < self.layerdrop):
                continue
            x = x + torch.relu(layer(x))
        return self.out(x)


def test_fairseq_layerdrop_uniform_draw_compared_in_python():
    def setup():
        model = LayerDropEncoder()
        opt = optim.Adam(model.parameters(), lr=1e-3)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [model, opt], inputs=cls_inputs(dtype=chainrule.float32))

    same_as_eager(setup)


def test_skip_update_when_grad_norm_is_not_finite_checked_in_python():
    """``if not torch.isfinite(norm)`` reads a value: one fall-back warning at most; the NaN batch
    is skipped in both runs."""
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1)
        skipped = []
        base = cls_inputs()

        def inputs(i):
            x, y = base(i)
            if i == 4:
                x = x * float("inf")
            return x, y

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            if not torch.isfinite(norm):
                skipped.append(True)
                opt.zero_grad()
                return loss
            opt.step()
            return loss

        return Case(step, lambda: [model, opt, list(skipped)], inputs=inputs)

    same_as_eager(setup)


def test_old_style_weight_decay_add_number_tensor_overload():
    """Pre-1.5 optimizers and tutorials: ``d_p.add_(weight_decay, p.data)``; PyTorch 2 still accepts
    it with a deprecation warning."""
    def setup():
        model = mlp()
        wd, lr = 1e-2, 0.1

        def step(x, y):
            for p in model.parameters():
                p.grad = None
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                for p in model.parameters():
                    d_p = p.grad.data
                    d_p.add_(wd, p.data)
                    p.data.add_(-lr, d_p)
            return loss

        return Case(step, lambda: [model])

    same_as_eager(setup)


def test_ema_by_rebinding_data_after_step():
    """``ema_p.data = decay * ema_p.data + (1 - decay) * p.data``: a new array given by hand."""
    def setup():
        model = mlp(dtype=chainrule.float32)
        ema = mlp(dtype=chainrule.float32)
        ema.load_state_dict(model.state_dict())
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            for ema_p, p in zip(ema.parameters(), model.parameters()):
                ema_p.data = 0.95 * ema_p.data + 0.05 * p.data
            return loss

        return Case(step, lambda: [model, ema, opt], inputs=cls_inputs(dtype=chainrule.float32))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- gradient noise
def test_gradient_noise_randn_like_with_annealed_std_passed_in():
    """Neelakantan et al.: std = eta / (1 + t) ** gamma, a new float each call."""
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y, std):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            for p in model.parameters():
                if p.grad is not None:
                    p.grad.add_(torch.randn_like(p.grad) * std)
            opt.step()
            return loss

        return Case(step, lambda: [model, opt], before=lambda i: (0.3 / (1 + i) ** 0.55,))

    same_as_eager(setup)


def test_gradient_noise_rebinding_grad_with_std_as_tensor_float32():
    def setup():
        model = mlp(dtype=chainrule.float32)
        opt = optim.Adam(model.parameters(), lr=1e-2)

        def step(x, y, std):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            for p in model.parameters():
                p.grad = p.grad + torch.randn_like(p) * std
            opt.step()
            return loss

        return Case(step, lambda: [model, opt], inputs=cls_inputs(dtype=chainrule.float32),
                    before=lambda i: (torch.tensor(0.1 / (1 + i) ** 0.55),))

    same_as_eager(setup)


def test_gradient_noise_from_its_own_generator_and_grad_data_add():
    def setup():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
        gen = torch.Generator().manual_seed(1234)

        def step(x, y, std):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            for p in model.parameters():
                noise = torch.randn(p.grad.size(), generator=gen, dtype=p.grad.dtype) * std
                p.grad.data.add_(noise)
            opt.step()
            return loss

        return Case(step, lambda: [model, opt, gen.get_state()], before=lambda i: (0.1 if i < 3 else 0.05,))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- everything at once
def test_full_recipe_mixup_smoothing_clip_ema_and_scheduler():
    def setup():
        model = SmallCNN()
        import copy
        ema = copy.deepcopy(model)
        opt = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
        sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=7)
        criterion = nn.CrossEntropyLoss(label_smoothing=0.1)

        def step(x, y, lam):
            index = torch.randperm(x.size(0))
            mixed = lam * x + (1 - lam) * x[index]
            out = model(mixed)
            loss = lam * criterion(out, y) + (1 - lam) * criterion(out, y[index])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=2.0)
            opt.step()
            sched.step()
            with torch.no_grad():
                for e, p in zip(ema.parameters(), model.parameters()):
                    e.lerp_(p, 0.01)
                for e, b in zip(ema.buffers(), model.buffers()):
                    e.copy_(b)
            return loss, norm

        def before(i):
            return (torch.tensor(float(np.random.beta(0.2, 0.2)), dtype=torch.float32),)
        return Case(step, lambda: [model, ema, opt, sched.last_epoch], before=before, inputs=img_inputs())

    same_as_eager(setup)
