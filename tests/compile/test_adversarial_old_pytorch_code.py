"""chainrule.compile against eager execution on PyTorch code of the 0.4 / 1.x era that still runs in
PyTorch 2.x (often with a deprecation warning): ``torch.autograd.Variable(x, requires_grad=True)``,
``volatile=True``, ``.data`` everywhere, the deprecated ``add_(alpha, other)`` / ``addcmul_(value, t1, t2)``
/ ``addcdiv_(value, t1, t2)`` overloads of hand-written optimizers, ``F.sigmoid`` / ``F.tanh``,
``size_average`` / ``reduce`` losses, ``x.type(torch.FloatTensor)``, ``torch.FloatTensor(3, 4).uniform_()``,
``.cuda()`` guarded by ``torch.cuda.is_available()``, ``nn.init.xavier_uniform``, ``clip_grad_norm``,
DCGAN's preallocated ``input.resize_as_(x).copy_(x)`` / ``label.resize_(n).fill_(1)``, forward and
(non-full) backward hooks.

First each form is checked eagerly against real PyTorch (same result, same warning categories); then
training steps written as tutorials of that era write them (only the import changed) run from the same
seed eagerly and compiled, compared bit for bit: what each call
returns or raises, parameters, grads, buffers, optimizer state, Python side effects and the random
stream. A compiled run may record anew or fall back to eager with at most one warning.
"""
import math
import warnings

import numpy as np
import pytest

import chainrule
import chainrule as torch  # the only line a tutorial of the era needs changed
import chainrule.nn as nn
import chainrule.nn.functional as F
import chainrule.optim as optim
from chainrule.autograd import Variable
from chainrule.random import default_generator
from tests.compile.bitwise import assert_identical

# the era's forms warn where they are set up (size_average, xavier_uniform, volatile): expected, not reported
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")

# ----------------------------------------------------------------------------- eager parity with PyTorch
def _np(value):
    if hasattr(value, "detach"):
        return np.array(value.detach().numpy(), copy=True)
    if isinstance(value, (list, tuple)):
        return tuple(_np(v) for v in value)
    return value


def _same(ours, theirs, where):
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray) and ours.shape == theirs.shape, (where, ours, theirs)
        assert ours.dtype.name == theirs.dtype.name, (where, ours.dtype, theirs.dtype)
        np.testing.assert_allclose(ours, theirs, rtol=1e-6 if ours.dtype == np.float32 else 1e-12, atol=0, err_msg=where)
    elif isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), (where, ours, theirs)
        for k, (a, b) in enumerate(zip(ours, theirs)):
            _same(a, b, f"{where}[{k}]")
    else:
        assert ours == theirs, (where, ours, theirs)


def _outcome(lib, form):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ("ok", _np(form(lib)))
        except Exception as error:
            result = ("raised", type(error).__name__, str(error))
    return result, sorted({w.category.__name__ for w in caught})


A = np.arange(12.0).reshape(3, 4) / 7 - 0.5
B = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
LABELS = [0, 3, 1]


def _backward_through_variable(L):
    v = L.autograd.Variable(L.tensor(A), requires_grad=True)
    (F_of(L).tanh(v) ** 2).sum().backward()
    return v.grad.data, v.is_leaf, v.requires_grad


def F_of(L):
    return L.nn.functional


def _clip_grad_norm_old_name(L):
    p = L.nn.Parameter(L.tensor(A))
    p.grad = L.tensor(B)
    total = L.nn.utils.clip_grad_norm(p, 0.5)
    return total, p.grad


def _xavier_uniform_old_name(L):
    w = L.empty(30, 40, dtype=L.float64)
    out = L.nn.init.xavier_uniform(w, gain=2.0)
    bound = 2.0 * math.sqrt(6.0 / 70)
    return out is w, bool((w.abs() <= bound).all()), bool((w.abs() > bound * 0.8).any())


def _float_tensor_uniform(L):
    t = L.FloatTensor(3, 4).uniform_()
    return t.shape[0], t.shape[1], t.type(), bool(((t >= 0) & (t < 1)).all())


def _losses_size_average_reduce(L):
    x, y, logits = L.tensor(A), L.tensor(B), L.tensor(A)
    target = L.tensor(LABELS)
    return (
        L.nn.MSELoss(size_average=False)(x, y),
        F_of(L).mse_loss(x, y, reduce=False),
        L.nn.CrossEntropyLoss(size_average=False)(logits, target),
        F_of(L).nll_loss(F_of(L).log_softmax(logits, 1), target, reduce=False),
        L.nn.BCELoss(size_average=True)(F_of(L).sigmoid(x), (y > 0).double()),
        F_of(L).l1_loss(x, y, size_average=False, reduce=True),
        L.nn.SmoothL1Loss(reduce=False)(x, y),
        L.nn.KLDivLoss(size_average=False)(F_of(L).log_softmax(x, 1), F_of(L).softmax(y, 1)),
        L.nn.MSELoss(size_average=False).reduction,
    )


PARITY = {
    "variable_requires_grad_backward": _backward_through_variable,
    "variable_volatile_is_ignored_with_warning": lambda L: L.autograd.Variable(L.tensor(A), volatile=True).requires_grad,
    "variable_volatile_attribute_read": lambda L: L.autograd.Variable(L.tensor(A), volatile=True).volatile,
    "add_alpha_first_overload": lambda L: L.tensor(A).add_(-0.1, L.tensor(B)),
    "addcmul_value_first_overload": lambda L: L.tensor(A).mul_(0.999).addcmul_(1 - 0.999, L.tensor(B), L.tensor(B)),
    "addcdiv_value_first_overload": lambda L: L.tensor(A).addcdiv_(-0.01, L.tensor(B), L.tensor(B).abs().sqrt().add_(1e-8)),
    "tensor_resize_deprecated": lambda L: L.tensor(A).resize(2, 6),
    "functional_sigmoid_tanh": lambda L: (F_of(L).sigmoid(L.tensor(A)), F_of(L).tanh(L.tensor(B))),
    "size_average_reduce_losses": _losses_size_average_reduce,
    "type_FloatTensor_and_back": lambda L: (L.tensor(A).type(L.FloatTensor), L.tensor(A).float().type(L.DoubleTensor),
                                            (L.tensor(A) * 10).type(L.LongTensor), L.tensor(A).type("torch.FloatTensor")),
    "FloatTensor_sizes_uniform_": _float_tensor_uniform,
    "xavier_uniform_no_underscore": _xavier_uniform_old_name,
    "clip_grad_norm_no_underscore": _clip_grad_norm_old_name,
    "softmax_without_dim": lambda L: (F_of(L).softmax(L.tensor(A)), F_of(L).log_softmax(L.tensor(A).reshape(3, 2, 2))),
    "loss_data_index_0_raises": lambda L: (L.tensor(A) ** 2).sum().data[0],
}


@pytest.mark.parametrize("form", list(PARITY.values()), ids=list(PARITY))
def test_eager_form_matches_pytorch(form):
    real = pytest.importorskip("torch")
    always = real.is_warn_always_enabled()
    real.set_warn_always(True)  # PyTorch's deprecation warnings are otherwise issued once per process
    ours_always = chainrule.is_warn_always_enabled()
    chainrule.set_warn_always(True)  # (chainrule's too)
    try:
        theirs, their_warnings = _outcome(real, form)
        ours, our_warnings = _outcome(chainrule, form)
    finally:
        real.set_warn_always(always)
        chainrule.set_warn_always(ours_always)
    if theirs[0] == "ok" and isinstance(theirs[1], tuple):  # type() names differ only in the package name
        theirs = ("ok", tuple(t.replace("torch.", "chainrule.") if isinstance(t, str) and "Tensor" in t else t for t in theirs[1]))
    assert ours[0] == theirs[0], (ours, theirs)
    if ours[0] == "ok":
        _same(ours[1], theirs[1], "result")
    else:
        assert ours[1:] == theirs[1:]
    assert our_warnings == their_warnings


# ----------------------------------------------------------------------------- the harness
def arr(t):
    return np.array(t.detach().numpy(), copy=True)


def snap(value):
    if isinstance(value, chainrule.Tensor):
        return ("tensor", str(value.dtype), arr(value), None if value.grad is None else arr(value.grad))
    if isinstance(value, (list, tuple)):
        return tuple(snap(v) for v in value)
    if isinstance(value, dict):
        return {k: snap(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return np.asarray(value)
    if isinstance(value, nn.Module):
        return {
            "modules": [(n, type(m).__name__, bool(m.training)) for n, m in value.named_modules()],
            "params": [(n, snap(p), bool(p.requires_grad)) for n, p in value.named_parameters()],
            "buffers": [(n, snap(b)) for n, b in value.named_buffers()],
        }
    if isinstance(value, optim.Optimizer):
        return ([{k: snap(v) for k, v in s.items()} for s in value.state.values()],
                [{k: v for k, v in g.items() if k != "params"} for g in value.param_groups])
    return value


class Case:
    def __init__(self, step, observe, inputs=None, before=None):
        self.step, self.observe = step, observe
        self.inputs = inputs or batches()
        self.before = before or (lambda i: None)


def batches(sizes=(4, 4, 4, 2, 4, 3, 4), n_in=3, n_out=2, dtype=np.float64, classes=None):
    """Tutorial-style batches: the last batch of an epoch smaller, float64 or float32, labels as floats."""
    def inputs(i):
        g = np.random.default_rng(100 + i)
        n = sizes[i % len(sizes)]
        x = torch.from_numpy(g.standard_normal((n, n_in)).astype(dtype))
        if classes:
            y = torch.from_numpy(g.integers(0, classes, n).astype(dtype))
        else:
            y = torch.from_numpy(g.standard_normal((n, n_out)).astype(dtype))
        return x, y
    return inputs


def run(compiled, setup, calls):
    chainrule.manual_seed(0)
    case = setup()
    function = chainrule.compile(case.step) if compiled else case.step
    history = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            case.before(i)
            args = case.inputs(i)
            try:
                history.append(("ok", snap(function(*args))))
            except Exception as error:  # compared: type and message
                history.append(("raised", type(error).__name__, str(error)))
            history.append(snap(list(case.observe())))
    history.append(("random", default_generator.state_bytes()))
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return history, messages


def same_as_eager(setup, calls=7, raises=False):
    eager, eager_messages = run(False, setup, calls)
    failed = [h for h in eager if isinstance(h, tuple) and h[:1] == ("raised",)]
    assert bool(failed) == raises, failed[:1]  # the era's code must run eagerly (or raise where it should)
    compiled, messages = run(True, setup, calls)
    assert not eager_messages
    assert_identical(compiled, eager, "compiled")
    assert len(messages) <= 1, messages
    return messages


# ----------------------------------------------------------------------------- Variable and .data
def test_variable_wrapped_batches_mseloss_size_average_false_sgd():
    def setup():
        model = torch.nn.Linear(3, 2).double()
        criterion = torch.nn.MSELoss(size_average=False)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

        def step(x, y):
            inputs, targets = Variable(x), Variable(y, requires_grad=False)
            y_pred = model(inputs)
            loss = criterion(y_pred, targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.data
        return Case(step, lambda: [model, optimizer])

    same_as_eager(setup)


def test_two_layer_net_variables_with_type_dtype_and_data_updates():
    # jcjohnson's pytorch-examples, "PyTorch: Variables and autograd"
    def setup():
        dtype = torch.DoubleTensor
        w1 = Variable(torch.randn(3, 5).type(dtype), requires_grad=True)
        w2 = Variable(torch.randn(5, 2).type(dtype), requires_grad=True)
        learning_rate = 1e-2

        def step(x, y):
            x, y = Variable(x.type(dtype), requires_grad=False), Variable(y.type(dtype), requires_grad=False)
            y_pred = x.mm(w1).clamp(min=0).mm(w2)
            loss = (y_pred - y).pow(2).sum()
            loss.backward()
            w1.data -= learning_rate * w1.grad.data
            w2.data -= learning_rate * w2.grad.data
            w1.grad.data.zero_()
            w2.grad.data.zero_()
            return loss.data
        return Case(step, lambda: [w1, w2])

    same_as_eager(setup)


def test_hand_written_sgd_with_data_add_negative_lr_overload():
    def setup():
        model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 2)).double()
        lr = 0.05

        def step(x, y):
            model.zero_grad()
            loss = F.mse_loss(model(Variable(x)), Variable(y))
            loss.backward()
            for p in model.parameters():
                p.data.add_(-lr, p.grad.data)
            return loss.data
        return Case(step, lambda: [model])

    same_as_eager(setup)


class OldAdam(optim.Optimizer):
    """torch/optim/adam.py as of PyTorch 0.4 / 1.0."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        super(OldAdam, self).__init__(params, defaults)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            loss = closure()
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                grad = p.grad.data
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = 0
                    state['exp_avg'] = torch.zeros_like(p.data)
                    state['exp_avg_sq'] = torch.zeros_like(p.data)
                exp_avg, exp_avg_sq = state['exp_avg'], state['exp_avg_sq']
                beta1, beta2 = group['betas']
                state['step'] += 1
                if group['weight_decay'] != 0:
                    grad = grad.add(group['weight_decay'], p.data)
                exp_avg.mul_(beta1).add_(1 - beta1, grad)
                exp_avg_sq.mul_(beta2).addcmul_(1 - beta2, grad, grad)
                denom = exp_avg_sq.sqrt().add_(group['eps'])
                bias_correction1 = 1 - beta1 ** state['step']
                bias_correction2 = 1 - beta2 ** state['step']
                step_size = group['lr'] * math.sqrt(bias_correction2) / bias_correction1
                p.data.addcdiv_(-step_size, exp_avg, denom)
        return loss


def test_hand_written_adam_with_old_addcmul_addcdiv_overloads():
    def setup():
        model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2)).double()
        optimizer = OldAdam(model.parameters(), lr=0.01, weight_decay=1e-4)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(Variable(x)), Variable(y))
            loss.backward()
            optimizer.step()
            return loss.data
        return Case(step, lambda: [model, optimizer])

    same_as_eager(setup)


class OldMomentumSGD(optim.Optimizer):
    """A 1.x-era optimizer subclass: ``required``, ``__setstate__``, closure, ``.data`` and ``add_(alpha=)``."""

    def __init__(self, params, lr=optim.optimizer.required, momentum=0, nesterov=False):
        defaults = dict(lr=lr, momentum=momentum, nesterov=nesterov)
        super(OldMomentumSGD, self).__init__(params, defaults)

    def __setstate__(self, state):
        super(OldMomentumSGD, self).__setstate__(state)
        for group in self.param_groups:
            group.setdefault('nesterov', False)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            loss = closure()
        for group in self.param_groups:
            momentum = group['momentum']
            for p in group['params']:
                if p.grad is None:
                    continue
                d_p = p.grad.data
                if momentum != 0:
                    param_state = self.state[p]
                    if 'momentum_buffer' not in param_state:
                        buf = param_state['momentum_buffer'] = torch.clone(d_p).detach()
                    else:
                        buf = param_state['momentum_buffer']
                        buf.mul_(momentum).add_(d_p)
                    d_p = d_p.add(buf, alpha=momentum) if group['nesterov'] else buf
                p.data.add_(d_p, alpha=-group['lr'])
        return loss


def test_old_optimizer_subclass_with_closure_signature():
    def setup():
        model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()
        optimizer = OldMomentumSGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)

        def step(x, y):
            def closure():
                optimizer.zero_grad()
                loss = F.mse_loss(model(x), y)
                loss.backward()
                return loss
            return optimizer.step(closure).data
        return Case(step, lambda: [model, optimizer])

    same_as_eager(setup)


def test_manual_grad_data_zero_before_backward_and_sgd_momentum():
    def setup():
        model = nn.Linear(3, 2).double()
        optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.5)

        def step(x, y):
            for p in model.parameters():
                if p.grad is not None:
                    p.grad.data.zero_()
            loss = F.mse_loss(model(Variable(x)), Variable(y))
            loss.backward()
            optimizer.step()
            return loss.data
        return Case(step, lambda: [model, optimizer])

    same_as_eager(setup)


def test_wgan_critic_weight_clipping_with_data_clamp_and_rmsprop():
    def setup():
        netD = nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1)).double()
        optimizerD = optim.RMSprop(netD.parameters(), lr=5e-3)
        clamp = {"c": 0.05}

        def step(real, fake):
            for p in netD.parameters():
                p.data.clamp_(-clamp["c"], clamp["c"])
            netD.zero_grad()
            errD_real = netD(Variable(real)).mean(0).view(1)
            errD_fake = netD(Variable(fake[:, :1].repeat(1, 3))).mean(0).view(1)
            errD = errD_real - errD_fake
            errD.backward()
            optimizerD.step()
            return errD.data, errD_real.data, errD_fake.data

        def before(i):
            clamp["c"] = 0.05 if i < 4 else 0.02
        return Case(step, lambda: [netD, optimizerD], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- deprecated functional forms
def test_sigmoid_tanh_functional_mlp_bceloss_size_average_adam():
    def setup():
        class Net(nn.Module):
            def __init__(self):
                super(Net, self).__init__()
                self.fc1 = nn.Linear(3, 6)
                self.fc2 = nn.Linear(6, 1)

            def forward(self, x):
                x = F.tanh(self.fc1(x))
                return F.sigmoid(self.fc2(x))

        net = Net().double()
        criterion = nn.BCELoss(size_average=True)
        optimizer = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y):
            target = Variable((y[:, :1] > 0).double())
            optimizer.zero_grad()
            loss = criterion(net(Variable(x)), target)
            loss.backward()
            optimizer.step()
            return loss.data
        return Case(step, lambda: [net, optimizer])

    same_as_eager(setup)


def test_cross_entropy_reduce_false_per_sample_weights_and_long_targets_via_type():
    def setup():
        model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 4)).double()
        criterion = nn.CrossEntropyLoss(reduce=False)
        optimizer = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            target = Variable(y.type(torch.LongTensor))
            weights = Variable(torch.linspace(0.5, 1.5, x.size(0)).double())
            output = model(Variable(x))
            losses = criterion(output, target)
            loss = (losses * weights).sum() / weights.sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            _, predicted = torch.max(output.data, 1)
            correct = (predicted == target.data).sum()
            return loss.data, losses.data, correct
        return Case(step, lambda: [model, optimizer], inputs=batches(classes=4))

    same_as_eager(setup)


def test_mnist_example_log_softmax_without_dim_nll_size_average_false():
    # pytorch/examples mnist/main.py as of 0.3/0.4: view(-1, n), F.log_softmax(x), size_average=False for the test loss
    def setup():
        class Net(nn.Module):
            def __init__(self):
                super(Net, self).__init__()
                self.conv1 = nn.Conv2d(1, 3, kernel_size=3)
                self.conv2_drop = nn.Dropout2d()
                self.fc1 = nn.Linear(3 * 2 * 2, 5)

            def forward(self, x):
                x = F.relu(F.max_pool2d(self.conv2_drop(self.conv1(x)), 2))
                x = x.view(-1, 3 * 2 * 2)
                x = F.dropout(x, training=self.training)
                return F.log_softmax(self.fc1(x))

        model = Net().double()
        optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.5)

        def step(data, target):
            data, target = Variable(data.view(-1, 1, 6, 6)), Variable(target.type(torch.LongTensor))
            if model.training:
                optimizer.zero_grad()
                output = model(data)
                loss = F.nll_loss(output, target)
                loss.backward()
                optimizer.step()
                return loss.data
            output = model(data)
            test_loss = F.nll_loss(output, target, size_average=False).data
            pred = output.data.max(1, keepdim=True)[1]
            return test_loss, pred.eq(target.data.view_as(pred)).long().cpu().sum()

        def before(i):
            model.train(i not in (2, 5))
        return Case(step, lambda: [model, optimizer], before=before,
                    inputs=batches(sizes=(4, 4, 3, 4, 2, 4, 4), n_in=36, classes=5))

    same_as_eager(setup)


def test_softmax_without_dim_changes_implicit_dim_with_input_rank():
    def setup():
        proj = nn.Linear(3, 2).double()
        optimizer = optim.SGD(proj.parameters(), lr=0.1)

        def step(x, y):
            scores = proj(x)
            attn = F.softmax(scores)                 # dim=1 for 2-d input, dim=0 for 3-d
            loss = (attn * scores).sum() / y.numel()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.data, attn.data

        base = batches(sizes=(4, 4, 4, 4, 2, 4, 4))

        def inputs(i):
            x, y = base(i)
            return (x.view(2, 2, 3), y) if i in (2, 3, 6) else (x, y)
        return Case(step, lambda: [proj, optimizer], inputs=inputs)

    same_as_eager(setup)


def test_type_FloatTensor_conversion_inside_step_float32_model():
    def setup():
        dtype = torch.FloatTensor
        model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2)).type(dtype)
        optimizer = optim.Adagrad(model.parameters(), lr=0.1)
        base = batches()

        def inputs(i):
            x, y = base(i)
            return (x.float(), y) if i in (1, 4) else (x, y)   # some batches already float32

        def step(x, y):
            x = Variable(x.type(dtype))
            y = Variable(y.type(dtype))
            optimizer.zero_grad()
            loss = F.smooth_l1_loss(model(x), y, size_average=True)
            loss.backward()
            optimizer.step()
            return loss.data, x.type()
        return Case(step, lambda: [model, optimizer], inputs=inputs)

    same_as_eager(setup)


def test_model_type_DoubleTensor_switched_between_calls():
    def setup():
        model = nn.Linear(3, 2)
        optimizer = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            x = x.type_as(next(model.parameters()))
            y = y.type_as(x)
            optimizer.zero_grad()
            loss = nn.MSELoss(size_average=False)(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.data

        def before(i):
            if i == 3:
                model.type(torch.DoubleTensor)
            if i == 5:
                model.type(torch.FloatTensor)
        return Case(step, lambda: [model, optimizer], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- cuda guards, legacy constructors
def test_cuda_guarded_by_is_available_with_cpu_round_trip():
    def setup():
        use_cuda = torch.cuda.is_available()
        device = torch.device("cuda:0" if use_cuda else "cpu")
        model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double()
        if use_cuda:
            model.cuda()
        model = model.to(device)
        optimizer = optim.Adam(model.parameters(), lr=0.01, amsgrad=True)

        def step(x, y):
            if use_cuda:
                x, y = x.cuda(), y.cuda()
            x, y = Variable(x.to(device)), Variable(y.to(device))
            optimizer.zero_grad()
            output = model(x)
            loss = F.mse_loss(output, y)
            loss.backward()
            optimizer.step()
            return loss.cpu().data, output.cpu().data.clone()
        return Case(step, lambda: [model, optimizer])

    same_as_eager(setup)


def test_denoising_autoencoder_noise_from_FloatTensor_uniform_():
    def setup():
        model = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 3)).float()
        optimizer = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            x = x.type(torch.FloatTensor)
            noise = torch.FloatTensor(x.size()).uniform_(-0.1, 0.1)
            keep = (torch.FloatTensor(x.size(0), x.size(1)).uniform_() > 0.2).float()
            recon = model(Variable(x * keep + noise))
            loss = F.mse_loss(recon, Variable(x), size_average=True)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.data, keep
        return Case(step, lambda: [model, optimizer])

    same_as_eager(setup)


def test_dcgan_preallocated_input_and_label_resized_inside_step():
    # pytorch/examples dcgan/main.py as of 0.2/0.3: buffers resized to each batch in place
    def setup():
        def weights_init(m):
            classname = m.__class__.__name__
            if classname.find('Linear') != -1:
                m.weight.data.normal_(0.0, 0.02)
                m.bias.data.fill_(0)

        netD = nn.Sequential(nn.Linear(3, 6), nn.LeakyReLU(0.2, inplace=True), nn.Linear(6, 1), nn.Sigmoid()).double()
        netG = nn.Sequential(nn.Linear(2, 6), nn.ReLU(True), nn.Linear(6, 3), nn.Tanh()).double()
        netD.apply(weights_init)
        netG.apply(weights_init)
        criterion = nn.BCELoss()
        input = torch.DoubleTensor(4, 3)
        noise = torch.DoubleTensor(4, 2)
        label = torch.DoubleTensor(4)
        real_label, fake_label = 1, 0
        optimizerD = optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
        optimizerG = optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))

        def step(real_cpu, _):
            batch_size = real_cpu.size(0)
            netD.zero_grad()
            input.resize_as_(real_cpu).copy_(real_cpu)
            label.resize_(batch_size).fill_(real_label)
            inputv, labelv = Variable(input), Variable(label)
            output = netD(inputv).view(-1)
            errD_real = criterion(output, labelv)
            errD_real.backward()
            D_x = output.data.mean()
            noise.resize_(batch_size, 2).normal_(0, 1)
            fake = netG(Variable(noise))
            labelv = Variable(label.fill_(fake_label))
            output = netD(fake.detach()).view(-1)
            errD_fake = criterion(output, labelv)
            errD_fake.backward()
            optimizerD.step()
            netG.zero_grad()
            labelv = Variable(label.fill_(real_label))
            errG = criterion(netD(fake).view(-1), labelv)
            errG.backward()
            optimizerG.step()
            return (errD_real + errD_fake).data, errG.data, D_x
        return Case(step, lambda: [netD, netG, optimizerD, optimizerG, input, label, noise])

    same_as_eager(setup)


# ----------------------------------------------------------------------------- old init and clip names
def test_xavier_uniform_no_underscore_reinit_between_calls():
    def setup():
        def weights_init(m):
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform(m.weight.data, gain=nn.init.calculate_gain('relu'))
                nn.init.constant(m.bias, 0.1)

        model = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 2)).double()
        model.apply(weights_init)
        optimizer = optim.SGD(model.parameters(), lr=0.05, weight_decay=1e-3)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.data

        def before(i):
            if i == 3:
                model.apply(weights_init)  # re-initialised in place, as a restart does
        return Case(step, lambda: [model, optimizer], before=before)

    same_as_eager(setup)


def test_kaiming_normal_and_normal_no_underscore_inside_step_on_fresh_layer():
    def setup():
        head_holder = {}
        trunk = nn.Linear(3, 4).double()
        optimizer = optim.SGD(trunk.parameters(), lr=0.1)

        def step(x, y):
            w = torch.DoubleTensor(2, 4)
            nn.init.kaiming_normal(w)            # a fresh random head every call (random-feature probe)
            b = nn.init.normal(torch.DoubleTensor(2), 0, 0.01)
            out = F.linear(F.relu(trunk(x)), Variable(w), Variable(b))
            loss = F.mse_loss(out, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.data, w
        return Case(step, lambda: [trunk, optimizer, head_holder])

    same_as_eager(setup)


def test_clip_grad_norm_no_underscore_max_norm_argument_varies():
    def setup():
        model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)).double()
        optimizer = optim.SGD(model.parameters(), lr=0.5)
        base = batches()
        norms = [1.0, 0.5, 0.5, 0.1, 1.0, 0.5, 0.5]

        def step(x, y, max_norm):
            optimizer.zero_grad()
            loss = F.mse_loss(model(Variable(x)), Variable(y), size_average=False)
            loss.backward()
            total_norm = torch.nn.utils.clip_grad_norm(model.parameters(), max_norm)
            optimizer.step()
            return loss.data, total_norm
        return Case(step, lambda: [model, optimizer], inputs=lambda i: base(i) + (norms[i],))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- learning-rate schedules by hand
def test_adjust_learning_rate_by_hand_between_calls_imagenet_style():
    def setup():
        model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double()
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)

        def adjust_learning_rate(optimizer, epoch):
            lr = 0.1 * (0.1 ** (epoch // 2))
            for param_group in optimizer.param_groups:
                param_group['lr'] = lr

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(Variable(x)), Variable(y))
            loss.backward()
            optimizer.step()
            return loss.data
        return Case(step, lambda: [model, optimizer], before=lambda i: adjust_learning_rate(optimizer, i))

    same_as_eager(setup)


def test_adjust_learning_rate_called_inside_step_with_epoch_argument():
    def setup():
        model = nn.Linear(3, 2).double()
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        base = batches()

        def adjust_learning_rate(optimizer, epoch):
            lr = 0.1 * (0.5 ** (epoch // 3))
            for param_group in optimizer.param_groups:
                param_group['lr'] = lr

        def step(x, y, epoch):
            adjust_learning_rate(optimizer, epoch)
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.data
        return Case(step, lambda: [model, optimizer], inputs=lambda i: base(i) + (i // 2,))

    same_as_eager(setup)


def test_lr_scheduler_step_before_optimizer_step_old_order():
    def setup():
        model = nn.Linear(3, 2).double()
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)

        def step(x, y):
            scheduler.step()                      # the pre-1.1 order: scheduler first
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.data
        return Case(step, lambda: [model, optimizer, scheduler.last_epoch])

    same_as_eager(setup)


# ----------------------------------------------------------------------------- volatile evaluation, hidden state
def test_train_then_volatile_evaluation_in_one_step():
    def setup():
        model = nn.Sequential(nn.Linear(3, 6), nn.Dropout(0.3), nn.ReLU(), nn.Linear(6, 2)).double()
        optimizer = optim.Adam(model.parameters(), lr=0.01)
        val_x = torch.randn(5, 3).double()
        val_y = torch.randn(5, 2).double()

        def step(x, y):
            model.train()
            optimizer.zero_grad()
            loss = F.mse_loss(model(Variable(x)), Variable(y))
            loss.backward()
            optimizer.step()
            model.eval()
            inputs = Variable(val_x, volatile=True)
            targets = Variable(val_y, volatile=True)
            val_loss = F.mse_loss(model(inputs), targets, size_average=False).data / val_x.size(0)
            return loss.data, val_loss
        return Case(step, lambda: [model, optimizer])

    same_as_eager(setup)


def test_char_rnn_hidden_variable_repackaged_with_data_between_calls():
    def setup():
        class RNN(nn.Module):
            def __init__(self, input_size, hidden_size, output_size):
                super(RNN, self).__init__()
                self.hidden_size = hidden_size
                self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
                self.h2o = nn.Linear(hidden_size, output_size)
                self.hidden = self.init_hidden(4)

            def forward(self, input, hidden):
                combined = torch.cat((input, hidden), 1)
                hidden = F.tanh(self.i2h(combined))
                return self.h2o(hidden), hidden

            def init_hidden(self, batch):
                return Variable(torch.zeros(batch, self.hidden_size).double())

        rnn = RNN(3, 5, 2).double()
        rnn.hidden = rnn.init_hidden(4)
        optimizer = optim.SGD(rnn.parameters(), lr=0.05)

        def repackage_hidden(h):
            return Variable(h.data)

        def step(x, y):
            hidden = repackage_hidden(rnn.hidden)
            rnn.zero_grad()
            loss = 0
            for t in range(2):
                output, hidden = rnn(x * (t + 1), hidden)
                loss += F.mse_loss(output, y)
            loss.backward()
            optimizer.step()
            rnn.hidden = hidden
            return loss.data / 2

        def before(i):
            if i == 3:
                rnn.hidden = rnn.init_hidden(4)
        return Case(step, lambda: [rnn, optimizer, rnn.hidden], before=before,
                    inputs=batches(sizes=(4,)))

    same_as_eager(setup)


def test_loss_data_index_zero_raises_after_the_update():
    def setup():
        model = nn.Linear(3, 2).double()
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        running = {"loss": 0.0}

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(Variable(x)), Variable(y))
            loss.backward()
            optimizer.step()
            return loss.data[0]                   # 0.3 idiom: IndexError on a 0-dim tensor since 0.5
        return Case(step, lambda: [model, optimizer, running])

    same_as_eager(setup, raises=True)


def test_loss_data_numpy_appended_to_history_inside_step():
    def setup():
        model = nn.Linear(3, 2).double()
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        losses = []

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(Variable(x)), Variable(y))
            loss.backward()
            optimizer.step()
            losses.append(loss.data.numpy().copy())
            return loss.data
        return Case(step, lambda: [model, optimizer, list(losses)])

    same_as_eager(setup)


# ----------------------------------------------------------------------------- hooks through Module.__call__
def test_forward_and_pre_hooks_registered_and_removed_between_calls():
    def setup():
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        handles = {}

        def scale_output(module, input, output):
            return output * 0.5

        def shift_input(module, input):
            return (input[0] + 1.0,)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.data

        def before(i):
            if i == 1:
                handles["f"] = model[0].register_forward_hook(scale_output)
            if i == 3:
                handles["p"] = model[2].register_forward_pre_hook(shift_input)
            if i == 4:
                handles.pop("f").remove()
            if i == 6:
                handles.pop("p").remove()
        return Case(step, lambda: [model, optimizer, sorted(handles)], before=before)

    same_as_eager(setup)


def test_forward_called_directly_bypasses_hooks_unlike_call():
    def setup():
        class Net(nn.Module):
            def __init__(self):
                super(Net, self).__init__()
                self.fc = nn.Linear(3, 2)

            def forward(self, x):
                return F.sigmoid(self.fc(x))

        net = Net().double()
        net.fc.register_forward_hook(lambda m, i, o: o * 2.0)
        optimizer = optim.SGD(net.parameters(), lr=0.1)
        mode = {"direct": False}

        def step(x, y):
            optimizer.zero_grad()
            out = net.forward(x) if mode["direct"] else net(x)
            loss = F.mse_loss(out, y)
            loss.backward()
            optimizer.step()
            return loss.data, out.data

        def before(i):
            mode["direct"] = i in (2, 3, 6)
        return Case(step, lambda: [net, optimizer], before=before)

    same_as_eager(setup)


def test_forward_hook_keeping_activations_in_dict():
    def setup():
        model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double()
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        activation = {}

        def get_activation(name):
            def hook(model, input, output):
                activation[name] = output.detach()
            return hook
        model[1].register_forward_hook(get_activation('relu'))

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.data
        return Case(step, lambda: [model, optimizer, dict(activation)])

    same_as_eager(setup)


def test_deprecated_module_backward_hook_scaling_grad_input():
    def setup():
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
        optimizer = optim.SGD(model.parameters(), lr=0.1)

        def halve(module, grad_input, grad_output):
            return tuple(None if g is None else g * 0.5 for g in grad_input)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            model[1].register_backward_hook(halve)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(Variable(x)), Variable(y))
            loss.backward()
            optimizer.step()
            return loss.data
        return Case(step, lambda: [model, optimizer])

    same_as_eager(setup)
