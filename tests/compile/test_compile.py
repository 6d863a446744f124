"""chainrule.compile: a compiled step gives the eager step's results bit for bit, recompiles or runs
eagerly when it must, and never returns a stale result."""
import copy
import re
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn, optim
from chainrule.compile import Unsupported
from chainrule.nn import functional as F


def network(activation=nn.Tanh, extra=()):
    return nn.Sequential(nn.Linear(2, 16), activation(), *extra, nn.Linear(16, 1))


def batches(count=4, size=8, last=None, features=2):
    generator = np.random.default_rng(1)
    shapes = [size] * count if last is None else [size] * (count - 1) + [last]
    return [
        (chainrule.tensor(generator.normal(size=(n, features)).astype(np.float32)), chainrule.tensor(generator.normal(size=(n, 1)).astype(np.float32)))
        for n in shapes
    ]


def training_step(model, optimizer, loss_fn=F.mse_loss, scheduler=None):
    """The step every test compiles: zero_grad, forward, loss, backward, step (and the scheduler's)."""

    def step(inputs, targets):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        return loss

    return step


def train(compiled, make_model, make_optimizer, loss_fn=F.mse_loss, data=None, make_scheduler=None, seed=0):
    """Train from seed ``seed`` over ``data``; return the losses, the final parameters, the
    optimizer's state and the random generator's state, all as NumPy values."""
    chainrule.manual_seed(seed)
    model = make_model()
    optimizer = make_optimizer(model.parameters())
    scheduler = make_scheduler(optimizer) if make_scheduler else None

    step = training_step(model, optimizer, loss_fn, scheduler)
    run = chainrule.compile(step) if compiled else step
    losses = [run(inputs, targets)._array.copy() for inputs, targets in (data or batches())]
    state = [value._array.copy() for values in optimizer.state.values() for value in values.values() if hasattr(value, "_array")]
    return losses, [p._array.copy() for p in model.parameters()], state, chainrule.random.default_generator.state_bytes(), run


def assert_same(eager, compiled):
    for name, first, second in zip(("losses", "parameters", "optimizer state"), eager[:3], compiled[:3]):
        assert len(first) == len(second), name
        for a, b in zip(first, second):
            assert a.dtype == b.dtype and a.shape == b.shape, name
            assert np.array_equal(a, b, equal_nan=True), f"{name} differ: {np.max(np.abs(a - b))}"
    assert eager[3] == compiled[3], "the random stream advanced differently"


def train_both(**kwargs):
    eager = train(False, **kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = train(True, **kwargs)
    assert_same(eager, compiled)
    return compiled[4], [str(warning.message) for warning in caught if "chainrule.compile" in str(warning.message)]


OPTIMIZERS = {
    "sgd": lambda params: optim.SGD(params, lr=0.1),
    "sgd momentum nesterov decay": lambda params: optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "sgd dampening maximize": lambda params: optim.SGD(params, lr=0.1, momentum=0.5, dampening=0.2, maximize=True),
    "adam": lambda params: optim.Adam(params, lr=1e-2),
    "adam amsgrad decay": lambda params: optim.Adam(params, lr=1e-2, amsgrad=True, weight_decay=1e-2),
    "adamw": lambda params: optim.AdamW(params, lr=1e-2),
    "adagrad": lambda params: optim.Adagrad(params, lr=1e-2),
    "rmsprop": lambda params: optim.RMSprop(params, lr=1e-2),
    "adadelta": lambda params: optim.Adadelta(params, weight_decay=1e-2),
    "adamax": lambda params: optim.Adamax(params, lr=1e-2),
    "nadam decoupled": lambda params: optim.NAdam(params, lr=1e-2, weight_decay=1e-2, decoupled_weight_decay=True),
    "radam": lambda params: optim.RAdam(params, lr=1e-2),
    "asgd": lambda params: optim.ASGD(params, lr=1e-2, t0=2),
    "rprop": lambda params: optim.Rprop(params, lr=1e-2),
    "adafactor": lambda params: optim.Adafactor(params, lr=1e-2),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_gives_the_eager_results_bit_for_bit(name):
    compiled, warned = train_both(make_model=network, make_optimizer=OPTIMIZERS[name])
    assert warned == []
    assert len(compiled.recordings) == 1


SCHEDULERS = {
    "step": lambda opt: optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
    "multistep": lambda opt: optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 3], gamma=0.3),
    "exponential": lambda opt: optim.lr_scheduler.ExponentialLR(opt, gamma=0.9),
    "cosine": lambda opt: optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3),
    "lambda": lambda opt: optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (epoch + 1)),
}


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_a_scheduler_stepped_inside_the_step_changes_the_rate_of_each_replay(name):
    compiled, warned = train_both(
        make_model=network, make_optimizer=lambda p: optim.SGD(p, lr=0.1, momentum=0.9), make_scheduler=SCHEDULERS[name], data=batches(6)
    )
    assert warned == [] and len(compiled.recordings) == 1


def optimizer_changes_between_calls(compiled):
    """Two steps, a state dict loaded, a parameter group added, a frozen layer: each call's results."""
    chainrule.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    optimizer = optim.Adam(model[0].parameters(), lr=1e-2)
    step = training_step(model, optimizer)
    run = chainrule.compile(step) if compiled else step
    data = batches(7)
    run(*data[0])
    saved = optimizer.state_dict()
    saved = {
        "state": {key: {name: value.clone() if isinstance(value, chainrule.Tensor) else value for name, value in entry.items()} for key, entry in saved["state"].items()},
        "param_groups": [dict(group, lr=0.05) for group in saved["param_groups"]],  # new group dicts, a new rate
    }
    run(*data[1])
    run(*data[2])
    optimizer.load_state_dict(saved)  # new state dicts: the program must update these
    run(*data[3])
    optimizer.add_param_group({"params": list(model[2].parameters()), "lr": 0.05})
    run(*data[4])
    model[2].bias.requires_grad_(False)  # a parameter with no gradient: step skips it
    run(*data[5])
    losses = [run(*data[6])._array.copy()]
    state = [value._array.copy() for values in optimizer.state.values() for value in values.values() if hasattr(value, "_array")]
    return losses, [p._array.copy() for p in model.parameters()], state, chainrule.random.default_generator.state_bytes(), run


def test_an_optimizer_s_state_loaded_and_a_group_added_between_calls_are_used_as_in_eager():
    """The program updates each parameter itself (no loop looking for gradients), reading the
    state the optimizer holds when it runs; a changed set of parameters records again."""
    eager = optimizer_changes_between_calls(False)
    compiled = optimizer_changes_between_calls(True)
    assert_same(eager, compiled)
    run = compiled[4]
    codes = [recording.code for recordings in run.recordings.values() for recording in recordings]
    assert run.eager_reason is None and len(codes) == 3  # the first, with the new group, with the bias frozen
    assert ["Adam_update(" in code for code in codes] == [True, True, False]
    assert "Optimizer_step(adam)" in codes[2]  # a parameter without gradient: the step is replayed whole


def test_zero_grad_clears_each_parameter_and_a_new_group_or_set_to_none_false_is_as_eager():
    """Gradients accumulated over two calls, then cleared inside the step: the program clears each
    parameter's gradient itself; a group added between calls records again, and zero_grad with
    set_to_none=False (zeros kept in .grad) is replayed as the call."""
    results = []
    for compile_it in (False, True):
        chainrule.manual_seed(3)
        model, extra = network(), nn.Linear(1, 1)
        optimizer = optim.SGD(model.parameters(), lr=0.1)

        def accumulate(inputs, targets, clear=True):
            if clear:
                optimizer.zero_grad()
            F.mse_loss(model(inputs), targets).backward()
            return model[0].weight.grad

        run = chainrule.compile(accumulate) if compile_it else accumulate
        record = []
        for index, (inputs, targets) in enumerate(batches(6)):
            if index == 3:
                optimizer.add_param_group({"params": extra.parameters()})
                extra(targets).sum().backward()  # the new group's gradients, cleared by the next call
            if index == 4:
                optimizer.zero_grad(set_to_none=False)
            record.append(run(inputs, targets, clear=index != 1).numpy().copy())
            record.append([None if p.grad is None else p.grad.numpy().copy() for p in [*model.parameters(), *extra.parameters()]])
        results.append(record)
        if compile_it:
            codes = [recording.code for recordings in run.recordings.values() for recording in recordings]
            assert "model_0_weight._grad = None  # SGD.zero_grad for model.0.weight" in codes[0], codes[0]
    for eager, compiled in zip(*results):
        if isinstance(eager, list):
            assert [e is None for e in eager] == [c is None for c in compiled]
            for e, c in zip(eager, compiled):
                if e is not None:
                    np.testing.assert_array_equal(e, c)
        else:
            np.testing.assert_array_equal(eager, compiled)


def positive(y):
    return (y > 0).float()


def two_classes(y):
    return (y[:, 0] > 0).long()


def class_probabilities(y):
    return chainrule.cat([chainrule.sigmoid(y), 1 - chainrule.sigmoid(y)], dim=1)


CLASS_WEIGHT = chainrule.tensor([0.2, 1.0, 3.0])  # a tensor found in the step's globals: state
SUMMED_CROSS_ENTROPY = nn.CrossEntropyLoss(weight=chainrule.tensor([0.5, 2.0]), reduction="sum")  # weight: a buffer


LOSSES = {  # name: (loss, how the targets are made from the regression targets, outside the step)
    "mse": (F.mse_loss, None),
    "l1": (F.l1_loss, None),
    "smooth_l1": (lambda out, y: F.smooth_l1_loss(out, y, beta=0.5), None),
    "mse_sum": (lambda out, y: F.mse_loss(out, y, reduction="sum"), None),
    "bce": (lambda out, y: F.binary_cross_entropy(chainrule.sigmoid(out), y), positive),
    "bce_with_logits": (F.binary_cross_entropy_with_logits, positive),
    "cross_entropy": (lambda out, y: F.cross_entropy(chainrule.cat([out, -out, out * 0.5], dim=1), y), two_classes),
    "cross_entropy_weight_ignore_smoothing": (
        lambda out, y: F.cross_entropy(
            chainrule.cat([out, -out, out * 0.5], dim=1), y, weight=CLASS_WEIGHT, ignore_index=1, label_smoothing=0.1
        ),
        two_classes,
    ),
    "cross_entropy_probabilities": (
        lambda out, y: F.cross_entropy(chainrule.cat([out, -out], dim=1), y, label_smoothing=0.2), class_probabilities
    ),
    "cross_entropy_loss_module_sum": (lambda out, y: SUMMED_CROSS_ENTROPY(chainrule.cat([out, -out], dim=1), y), two_classes),
    "nll_log_softmax": (lambda out, y: F.nll_loss(F.log_softmax(chainrule.cat([out, -out], dim=1), dim=1), y), two_classes),
    "nll_weight_ignore": (
        lambda out, y: F.nll_loss(F.log_softmax(chainrule.cat([out, -out, out], dim=1), dim=1), y, weight=CLASS_WEIGHT, ignore_index=0),
        two_classes,
    ),
    "composed_l2": (lambda out, y: ((out - y) ** 2).mean() + 1e-3 * (out * out).sum(), None),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_gives_the_eager_results_bit_for_bit(name):
    loss_fn, targets = LOSSES[name]
    data = [(inputs, targets(y) if targets else y) for inputs, y in batches()]
    compiled, warned = train_both(make_model=network, make_optimizer=OPTIMIZERS["adam"], loss_fn=loss_fn, data=data)
    assert warned == [], warned
    assert len(compiled.recordings) == 1


def test_a_mask_computed_inside_the_step_is_computed_again_on_each_call():
    """Comparisons have no gradient and are no Functions; the program still computes them again
    from each call's values, never freezing the first call's mask."""
    loss_fn = lambda out, y: F.binary_cross_entropy_with_logits(out, positive(y))  # noqa: E731
    compiled, warned = train_both(make_model=network, make_optimizer=OPTIMIZERS["sgd"], loss_fn=loss_fn)
    assert warned == [] and len(compiled.recordings) == 1
    assert "= xp.greater(x" in compiled.code


def test_a_tensor_made_from_values_read_outside_the_operations_runs_eagerly_instead_of_being_frozen():
    loss_fn = lambda out, y: F.binary_cross_entropy_with_logits(out, chainrule.tensor(y.detach().numpy() > 0).float())  # noqa: E731
    compiled, warned = train_both(make_model=network, make_optimizer=OPTIMIZERS["sgd"], loss_fn=loss_fn)
    assert len(warned) == 1 and "reads a tensor's value into Python (numpy)" in warned[0]


def test_dropout_draws_in_the_program_and_the_random_stream_advances_as_in_eager():
    compiled, warned = train_both(make_model=lambda: network(extra=(nn.Dropout(0.3),)), make_optimizer=OPTIMIZERS["sgd"], data=batches(6))
    assert warned == [] and len(compiled.recordings) == 1
    assert "# DropoutMask:" in compiled.code


def test_dropout2d_and_a_seed_set_between_calls_replay_as_eager():
    def make_model():
        return nn.Sequential(nn.Unflatten(1, (2, 1, 1)), nn.Dropout2d(0.5), nn.Flatten(), network(extra=(nn.Dropout(0.2),)))

    class Reseeded:  # manual_seed between calls: the program draws from the generator as it is then
        def __iter__(self):
            for number, batch in enumerate(batches(4)):
                chainrule.manual_seed(number)
                yield batch

    compiled, warned = train_both(make_model=make_model, make_optimizer=OPTIMIZERS["adam"], data=Reseeded())
    assert warned == [] and len(compiled.recordings) == 1


def test_random_numbers_drawn_outside_an_operation_run_eagerly_with_one_warning():
    def noisy(out, y):
        return F.mse_loss(out + chainrule.tensor(np.asarray(chainrule.random.numpy_generator().random(), np.float32)), y)

    compiled, warned = train_both(make_model=network, make_optimizer=OPTIMIZERS["sgd"], loss_fn=noisy)
    assert len(warned) == 1 and "random numbers" in warned[0]


def test_a_minibatch_drawn_with_randint_and_noise_from_factories_replay_as_eager():
    """makemore's loop: the step draws its own minibatch (randint), shuffles it (randperm) and adds
    noise (randn, rand, randn_like, normal); the program draws them again at the same points of the
    random stream, so a seed set between calls gives the eager numbers."""
    data_x, data_y = batches(1, size=40)[0]

    def make_model():
        return network()

    def loss_fn(out, y):
        rows = chainrule.randint(0, data_x.shape[0], (8,))
        order = chainrule.randperm(8)
        inputs = data_x[rows][order] + chainrule.randn(8, 2) * 0.01 + chainrule.rand(8, 2) * 0.001
        outputs = out.sum() * 0 + loss_fn.model(inputs)
        outputs = outputs + chainrule.randn_like(outputs) * chainrule.normal(0.0, 0.01, (8, 1))
        return F.mse_loss(outputs, data_y[rows][order])

    class Reseeded:
        def __iter__(self):
            for number, batch in enumerate(batches(4)):
                chainrule.manual_seed(number % 2)
                yield batch

    def make_model_kept():
        model = make_model()
        loss_fn.model = model
        return model

    compiled, warned = train_both(make_model=make_model_kept, make_optimizer=OPTIMIZERS["adam"], loss_fn=loss_fn, data=Reseeded())
    assert warned == [] and len(compiled.recordings) == 1
    assert compiled.code.count("drawn(") == 6


def assert_policy_step_replays_as_eager(make_step):
    """A policy-gradient step (4 states -> 3 actions, Adam), made by ``make_step(model, optimizer)``,
    trained 4 calls eagerly and compiled from seed 0: what it returns, the parameters and the random
    stream agree bit for bit, with one recording and no warning."""
    results = []
    for compiled in (False, True):
        chainrule.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
        optimizer = optim.Adam(model.parameters(), lr=1e-2)
        step = make_step(model, optimizer)
        run = chainrule.compile(step) if compiled else step
        generator = np.random.default_rng(0)
        outputs = []
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for _ in range(4):
                states = chainrule.tensor(generator.normal(size=(6, 4)).astype(np.float32))
                rewards = chainrule.tensor(generator.normal(size=(6,)).astype(np.float32))
                outputs += [each.detach().numpy().copy() for each in run(states, rewards)]
        outputs += [p.detach().numpy().copy() for p in model.parameters()]
        results.append((outputs, chainrule.default_generator.state_bytes()))
    (eager, eager_state), (replayed, state) = results
    assert len(run.recordings) == 1 and state == eager_state
    assert all(first.dtype == second.dtype and np.array_equal(first, second) for first, second in zip(eager, replayed))


def test_multinomial_and_bernoulli_of_each_calls_probabilities_replay_as_eager():
    """A policy-gradient step samples actions from the network's probabilities (multinomial) and a
    mask (bernoulli): the program draws from each call's probabilities, with eager's checks."""

    def make_step(model, optimizer):
        def step(states, rewards):
            probs = model(states).softmax(-1)
            actions = probs.detach().multinomial(1, replacement=True)[:, 0]
            others = probs.detach().multinomial(2)
            keep = chainrule.bernoulli(chainrule.full_like(rewards, 0.7)) * chainrule.bernoulli(probs[:, 0].detach(), 0.5)
            keep = keep * chainrule.bernoulli(probs[:, 1].detach())
            loss = -(probs.log().gather(1, actions[:, None])[:, 0] * rewards * keep).mean() + 0 * others.sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss, actions, others, keep

        return step

    assert_policy_step_replays_as_eager(make_step)

    draw = chainrule.compile(lambda probs: chainrule.bernoulli(probs) + probs.multinomial(1).float().sum())
    for _ in range(2):
        draw(chainrule.full((3,), 0.5))
    with pytest.raises(RuntimeError, match="must be in \\[0, 1\\]"):
        draw(chainrule.full((3,), -0.5))


def test_a_distribution_validating_its_arguments_replays_and_checks_each_call():
    """REINFORCE with Categorical (validate_args on, as PyTorch's default): the checks of the
    parameters and of the sampled values are made by the program on each call."""

    def make_step(model, optimizer):
        def step(states, rewards):
            distribution = chainrule.distributions.Categorical(logits=model(states))
            actions = distribution.sample()
            loss = -(distribution.log_prob(actions) * rewards).mean() - 0.01 * distribution.entropy().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss, actions

        return step

    assert_policy_step_replays_as_eager(make_step)

    log_prob = chainrule.compile(lambda probs, value: chainrule.distributions.Categorical(probs=probs).log_prob(value))
    probs, value = chainrule.tensor([[0.2, 0.8], [0.5, 0.5]]), chainrule.tensor([0, 1])
    log_prob(probs, value)
    log_prob(probs * 2, value)
    with pytest.raises(ValueError, match="to satisfy the constraint Simplex"):
        log_prob(chainrule.tensor([[0.2, -0.8], [0.5, 0.5]]), value)
    with pytest.raises(ValueError, match="to be within the support"):
        log_prob(probs, chainrule.tensor([0, 2]))
    assert len(log_prob.recordings) == 1


@pytest.mark.parametrize("name", ["det", "inv", "solve", "matrix_exp", "cholesky", "slogdet", "qr", "lu_factor", "solve_triangular"])
def test_matrix_functions_replay_their_backward(name):
    """Their backward computes with inverse, solve, matrix_exp on arrays: the program's context has
    them too (a replay raised AttributeError: numpy has no inverse)."""
    function = {
        "det": chainrule.linalg.det, "inv": chainrule.linalg.inv, "solve": lambda A: chainrule.linalg.solve(A, A[:, :1]),
        "matrix_exp": chainrule.linalg.matrix_exp, "cholesky": lambda A: chainrule.linalg.cholesky(A @ A.mT + 4 * chainrule.eye(4)),
        "slogdet": lambda A: chainrule.linalg.slogdet(A)[1], "qr": lambda A: chainrule.linalg.qr(A)[1],
        "lu_factor": lambda A: chainrule.linalg.lu_factor(A)[0],
        "solve_triangular": lambda A: chainrule.linalg.solve_triangular(A.triu() + 4 * chainrule.eye(4), A, upper=True),
    }[name]

    def step(A):
        out = function(A)
        out.sum().backward()
        return out.detach()

    compiled = chainrule.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in range(3):
            results = []
            for run in (step, compiled):
                A = chainrule.tensor(np.random.default_rng(seed).normal(size=(4, 4)), requires_grad=True)
                results.append((run(A).numpy(), A.grad.numpy()))
            assert all(np.array_equal(first, second) for first, second in zip(*results))
    assert len(compiled.recordings) == 1


def test_a_comparison_made_by_a_lambda_and_the_fallback_warning_point_at_the_users_code():
    """isposinf's array function is a lambda (its constant may not be named ``lambda``); the warning
    of a fallback is attributed to the line calling the compiled function."""
    compiled = chainrule.compile(lambda x: chainrule.isposinf(x) * 1 + chainrule.signbit(x))
    x = chainrule.tensor([1.0, float("inf"), -float("inf"), -0.0])
    assert [compiled(x * k).tolist() for k in (1, -1, 2)] == [[0, 1, 1, 1], [1, 1, 1, 0], [0, 1, 1, 1]]

    @chainrule.compile
    def reads(x):
        return x * 2 if (x.sum() > 0).item() else x

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reads(chainrule.ones(2))
    assert caught[0].filename == __file__


def test_lazy_modules_take_their_shapes_on_an_eager_first_call_then_replay():
    def make_model():
        return nn.Sequential(nn.LazyConv2d(2, 3), nn.LazyBatchNorm2d(), nn.ReLU(), nn.Flatten(), nn.LazyLinear(1))

    compiled, warned = train_both(make_model=make_model, make_optimizer=OPTIMIZERS["adam"], data=image_batches(4))
    assert warned == [] and len(compiled.recordings) == 1


class HandWrittenMomentum(optim.Optimizer):
    """An optimizer as the course writes one: its state filled on the first step, lr read in Python."""

    def __init__(self, params, lr=0.1, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))
        self.steps = 0

    @chainrule.no_grad()
    def step(self):
        self.steps += self.counting
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                if "velocity" not in state:
                    state["velocity"] = p.grad.clone()
                else:
                    state["velocity"].mul_(group["momentum"]).add_(p.grad)
                p.add_(state["velocity"], alpha=-group["lr"])


@pytest.mark.parametrize("counting, scheduled", [(0, False), (0, True), (1, False)])
def test_a_hand_written_optimizer_gives_eager_results(counting, scheduled):
    """Its first step fills its state (that call runs unrecorded, the next records); a learning
    rate a scheduler changes, or a step counter it keeps, records anew (the program holds what the
    step computed from them in Python): never a replay of the first step's branch or of an old rate."""

    def make_optimizer(params):
        optimizer = HandWrittenMomentum(params)
        optimizer.counting = counting
        return optimizer

    make_scheduler = (lambda optimizer: optim.lr_scheduler.StepLR(optimizer, 2, gamma=0.5)) if scheduled else None
    compiled, warned = train_both(make_model=network, make_optimizer=make_optimizer, make_scheduler=make_scheduler, data=batches(12))
    if counting:  # the step counts in Python, which a replay would not: eagerly
        assert len(warned) == 1 and "changes optimizer.steps in Python" in warned[0]
    else:
        assert warned == [] and compiled.eager_reason is None


class SharpnessAware(optim.Optimizer):
    """SAM as its authors' repository writes it: a base optimizer made inside, sharing the groups;
    first_step climbs to w + ρ g/‖g‖ keeping w in state[p]["old_p"], second_step goes back and steps."""

    def __init__(self, params, base_optimizer, rho=0.05, **kwargs):
        super().__init__(params, dict(rho=rho, **kwargs))
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups

    @chainrule.no_grad()
    def first_step(self):
        norm = chainrule.norm(chainrule.stack([p.grad.norm(p=2) for group in self.param_groups for p in group["params"]]), p=2)
        for group in self.param_groups:
            scale = group["rho"] / (norm + 1e-12)
            for p in group["params"]:
                self.state[p]["old_p"] = p.data.clone()
                p.add_(p.grad * scale.to(p))
        self.zero_grad()

    @chainrule.no_grad()
    def second_step(self):
        for group in self.param_groups:
            for p in group["params"]:
                p.data = self.state[p]["old_p"]
        self.base_optimizer.step()
        self.zero_grad()


def test_sharpness_aware_minimization_replays_its_state_rebound_each_step():
    """SAM puts a new tensor in ``state[p]["old_p"]`` on every step and steps a base optimizer it
    holds: the program puts it there again and steps that optimizer; ρ changed records anew."""
    def run(compile):
        chainrule.manual_seed(0)
        model = network()
        optimizer = SharpnessAware(model.parameters(), optim.SGD, lr=0.1, momentum=0.9)

        def step(inputs, targets):
            F.mse_loss(model(inputs), targets).backward()
            optimizer.first_step()
            loss = F.mse_loss(model(inputs), targets)
            loss.backward()
            optimizer.second_step()
            return loss.detach()

        function = chainrule.compile(step) if compile else step
        seen = []
        for number, (inputs, targets) in enumerate(batches(6)):
            optimizer.param_groups[0]["rho"] = 0.05 if number < 4 else 0.1
            seen.append(function(inputs, targets).numpy().tobytes())
        return seen + [p.detach().numpy().tobytes() for p in model.parameters()], function

    (eager, _), (ours, compiled) = run(False), run(True)
    assert ours == eager and compiled.eager_reason is None


def test_an_augmentation_drawing_from_pythons_or_numpys_generator_runs_eagerly():
    """``if random.random() < 0.5: x = x.flip(-1)``: a replay would take the recorded branch on every
    call; the step runs eagerly instead, with one warning."""
    import random

    def step(x):
        if random.random() < 0.5:
            x = x.flip(-1)
        return x * float(np.random.default_rng(0).random()) + x * float(np.random.rand() * 0)

    for draws in (step, lambda x: x * float(np.random.rand())):
        compiled = chainrule.compile(draws)
        random.seed(0)
        np.random.seed(0)
        expected = [draws(chainrule.arange(3.0)).tolist() for _ in range(6)]
        random.seed(0)
        np.random.seed(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert [compiled(chainrule.arange(3.0)).tolist() for _ in range(6)] == expected
        assert len(caught) == 1 and "Python's random module or NumPy's global generator" in str(caught[0].message)


def test_a_factory_drawing_from_its_own_generator_replays_from_it():
    generator = chainrule.Generator().manual_seed(5)
    model = network()

    def step(inputs):
        return (model(inputs) + chainrule.randn(inputs.shape[0], 1, generator=generator)).sum()

    inputs = batches(1)[0][0]
    eager = [step(inputs).item() for _ in range(3)]
    after_eager = generator.state_bytes()
    generator.manual_seed(5)
    compiled = chainrule.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        replayed = [compiled(inputs).item() for _ in range(3)]
    assert replayed == eager and len(compiled.recordings) == 1
    assert generator.state_bytes() == after_eager


def image_batches(count=3, size=4, shape=(1, 8, 8)):
    generator = np.random.default_rng(2)
    return [
        (chainrule.tensor(generator.normal(size=(size, *shape)).astype(np.float32)), chainrule.tensor(generator.normal(size=(size, 1)).astype(np.float32)))
        for _ in range(count)
    ]


CONVOLUTIONAL = {  # each layer whose backward calls a convolution or a fold on arrays, and the pools
    "conv2d max pool": lambda: nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(48, 1)),
    "conv2d avg pool": lambda: nn.Sequential(nn.Conv2d(1, 3, 3, stride=2, padding=1), nn.AvgPool2d(2, padding=1), nn.Flatten(), nn.Linear(27, 1)),
    "grouped batch norm adaptive": lambda: nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 4, 3, groups=2, dilation=1), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 1)
    ),
    "transposed group norm": lambda: nn.Sequential(nn.ConvTranspose2d(1, 2, 2, stride=2), nn.GroupNorm(2, 2), nn.Flatten(), nn.Linear(512, 1)),
    "conv1d": lambda: nn.Sequential(nn.Flatten(2), nn.Conv1d(1, 2, 5), nn.MaxPool1d(2), nn.Flatten(), nn.Linear(60, 1)),
}


@pytest.mark.parametrize("name", sorted(CONVOLUTIONAL))
def test_convolutional_networks_give_the_eager_results_bit_for_bit(name):
    compiled, warned = train_both(make_model=CONVOLUTIONAL[name], make_optimizer=OPTIMIZERS["sgd momentum nesterov decay"], data=image_batches())
    assert warned == [] and len(compiled.recordings) == 1


def test_batch_norm_statistics_match_eager():
    def make_model():
        return nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 1))

    compiled, warned = train_both(make_model=make_model, make_optimizer=OPTIMIZERS["sgd"])
    assert warned == [] and len(compiled.recordings) == 1


def running_statistics(compiled, make_model, data):
    """Train with cross-entropy and SGD; return the losses, the parameters and every buffer (as
    NumPy values), and the step."""
    chainrule.manual_seed(0)
    model = make_model()
    optimizer = OPTIMIZERS["sgd"](model.parameters())
    step = training_step(model, optimizer, F.cross_entropy)
    run = chainrule.compile(step) if compiled else step
    losses = [run(inputs, targets)._array.copy() for inputs, targets in data]
    return losses, [p._array.copy() for p in model.parameters()], [b._array.copy() for b in model.buffers()], run


def assert_same_running_statistics(make_model, data):
    """The compiled step (recorded once, no warning) gives the eager losses, parameters and buffers
    bit for bit; returns the buffers it leaves."""
    eager = running_statistics(False, make_model, data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled = running_statistics(True, make_model, data)
    for first, second in zip(eager[:3], compiled[:3]):
        assert len(first) == len(second) and all(np.array_equal(a, b) for a, b in zip(first, second))
    assert len(compiled[3].recordings) == 1
    return compiled[2]


@pytest.mark.parametrize("momentum", [0.1, 0.7])
def test_batch_norm_and_layer_norm_running_statistics_and_batch_count_match_eager_bit_for_bit(momentum):
    def make_model():
        return nn.Sequential(
            nn.Linear(2, 6), nn.Unflatten(1, (3, 2)), nn.BatchNorm1d(3, momentum=momentum), nn.Flatten(),
            nn.LayerNorm(6), nn.BatchNorm1d(6, affine=False), nn.Dropout(0.25), nn.ReLU(), nn.Linear(6, 3),
        )

    data = [(inputs, two_classes(y) + (inputs[:, 1] > 0).long()) for inputs, y in batches(5)]
    buffers = assert_same_running_statistics(make_model, data)
    assert int(buffers[2]) == 5  # num_batches_tracked counted every batch


def test_one_batch_norm_applied_twice_in_a_step_updates_its_statistics_twice_as_eager():
    def make_model():
        shared = nn.BatchNorm1d(4)
        return nn.Sequential(nn.Linear(2, 4), shared, nn.Tanh(), nn.Linear(4, 4), shared, nn.Linear(4, 3))

    buffers = assert_same_running_statistics(make_model, [(inputs, two_classes(y)) for inputs, y in batches(4)])
    assert int(buffers[2]) == 8


def test_batch_norm_with_a_cumulative_average_replays():
    """momentum=None divides by num_batches_tracked: the program computes 1 / count on each call."""

    def make_model():
        return nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16, momentum=None), nn.Tanh(), nn.Linear(16, 1))

    compiled, warned = train_both(make_model=make_model, make_optimizer=OPTIMIZERS["sgd"])
    assert warned == [] and len(compiled.recordings) == 1


def test_a_module_in_eval_mode_compiles_under_no_grad_and_keeps_batch_norm_buffers_live():
    chainrule.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 1), nn.Dropout(0.5))
    for inputs, _ in batches(3):
        model(inputs)  # training mode: the running statistics move
    model.eval()
    compiled = chainrule.compile(model)
    with chainrule.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("error")
        for inputs, _ in batches(3):
            assert np.array_equal(compiled(inputs)._array, model(inputs)._array)
        model[1].running_mean._array += 1.0  # state read afresh on every call
        inputs = batches(1)[0][0]
        assert np.array_equal(compiled(inputs)._array, model(inputs)._array)
    assert len(compiled.recordings) == 1


# ----------------------------------------------------------------------------- bad input
def test_a_smaller_last_batch_records_again_instead_of_reusing_the_program():
    compiled, warned = train_both(make_model=network, make_optimizer=OPTIMIZERS["adam"], data=batches(4, size=8, last=3))
    assert warned == [] and len(compiled.recordings) == 2


def test_calls_alternating_between_recordings_each_replay_their_own():
    """The recording the last call used is tried first, by its guard alone: a call with other
    shapes, other argument types or values, keywords for positions, goes on to its own."""
    weight = chainrule.randn(3, requires_grad=True)

    def step(x, factor, *, shift=0):
        return (x * factor * weight + shift).sum(0)

    compiled = chainrule.compile(step)
    calls = [
        ((chainrule.randn(4, 3), 2.0), {}), ((chainrule.randn(3, 3), 2.0), {}), ((chainrule.randn(4, 3), 2), {}),
        ((chainrule.randn(4, 3), True), {}), ((chainrule.randn(4, 3), 2.0), {"shift": 1}), ((chainrule.randn(4, 3), float("nan")), {}),
        ((chainrule.randn(4, 3).double(), 2.0), {}), ((chainrule.randn(4, 3, requires_grad=True), 2.0), {}),
    ]
    with chainrule.no_grad():
        for _ in range(2):
            for args, kwargs in calls:
                got, expected = compiled(*args, **kwargs), step(*args, **kwargs)
                assert got.dtype == expected.dtype and np.array_equal(got.numpy(), expected.numpy(), equal_nan=True)
    assert sum(map(len, compiled.recordings.values())) == len(calls)


def test_a_learning_rate_changed_between_calls_is_read_by_the_program():
    def change_rate_midway(optimizer_factory):
        def run(compiled):
            chainrule.manual_seed(0)
            model = network()
            optimizer = optimizer_factory(model.parameters())

            step = training_step(model, optimizer)
            run_step = chainrule.compile(step) if compiled else step
            for index, (inputs, targets) in enumerate(batches(4)):
                optimizer.param_groups[0]["lr"] = 0.1 / (index + 1)
                run_step(inputs, targets)
            return [p._array.copy() for p in model.parameters()]

        return run

    run = change_rate_midway(OPTIMIZERS["sgd"])
    for eager, compiled in zip(run(False), run(True)):
        assert np.array_equal(eager, compiled)


def test_a_swapped_parameter_records_again():
    chainrule.manual_seed(0)
    model = network()
    compiled = chainrule.compile(lambda inputs: model(inputs).sum())
    inputs = batches(1)[0][0]
    with chainrule.no_grad():
        before = compiled(inputs)._array.copy()
        compiled(inputs)
        model[0].weight = nn.Parameter(model[0].weight * 2)
        after = compiled(inputs)._array
        assert np.array_equal(after, model(inputs).sum()._array) and not np.array_equal(after, before)
    assert sum(len(entries) for entries in compiled.recordings.values()) == 2


def test_a_frozen_or_converted_parameter_records_again():
    chainrule.manual_seed(0)
    model = network()
    optimizer = optim.SGD(model.parameters(), lr=0.1)

    step = chainrule.compile(training_step(model, optimizer))

    data = batches(3)
    step(*data[0])
    step(*data[1])
    model[0].weight.requires_grad_(False)
    frozen = model[0].weight._array.copy()
    step(*data[2])
    assert np.array_equal(model[0].weight._array, frozen) and model[0].weight.grad is None
    model.double()
    loss = step(data[0][0].double(), data[0][1].double())
    assert loss.dtype == chainrule.float64
    assert sum(len(entries) for entries in step.recordings.values()) == 3


def test_eval_mode_records_again():
    chainrule.manual_seed(0)
    model = network(extra=(nn.Dropout(0.5),))
    compiled = chainrule.compile(model)
    inputs = batches(1)[0][0]
    model.eval()
    with chainrule.no_grad():
        first = compiled(inputs)._array.copy()
        model.train()
        chainrule.manual_seed(1)
        dropped = compiled(inputs)._array.copy()  # dropout in training mode: a second recording
        chainrule.manual_seed(1)
        assert np.array_equal(compiled(inputs)._array, dropped)
        model.eval()
        assert np.array_equal(compiled(inputs)._array, first)
    assert sum(len(entries) for entries in compiled.recordings.values()) == 2


def test_item_in_an_if_runs_eagerly_with_one_warning_naming_the_line():
    chainrule.manual_seed(0)
    model = network()
    optimizer = optim.SGD(model.parameters(), lr=0.1)

    def step(inputs, targets):
        optimizer.zero_grad()
        loss = F.mse_loss(model(inputs), targets)
        if loss.item() > 0.5:  # the branch depends on the value
            loss = loss * 2
        loss.backward()
        optimizer.step()
        return loss

    compiled = chainrule.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for inputs, targets in batches(3):
            compiled(inputs, targets)
    messages = [str(warning.message) for warning in caught]
    assert len(messages) == 1
    assert "item" in messages[0] and "test_compile.py" in messages[0] and "if loss.item() > 0.5" in messages[0]


def test_fullgraph_raises_where_a_value_is_read():
    chainrule.manual_seed(0)
    model = network()

    @chainrule.compile(fullgraph=True)
    def report(inputs):
        output = model(inputs)
        print(output)
        return output

    with pytest.raises(Unsupported, match="prints a tensor"):
        report(batches(1)[0][0])


def test_a_python_number_argument_is_never_baked_in():
    chainrule.manual_seed(0)
    weight = chainrule.randn(3, requires_grad=True)

    @chainrule.compile
    def scaled(x, factor):
        return (x * factor * weight).sum()

    x = chainrule.randn(3)
    with chainrule.no_grad():
        for factor in (1.0, 2.0, 3.0, 2.0):
            assert np.array_equal(scaled(x, factor)._array, (x * factor * weight).sum()._array)
    assert sum(len(entries) for entries in scaled.recordings.values()) == 3
    scaled.cache_size_limit = 3
    with chainrule.no_grad(), pytest.warns(UserWarning, match="recorded 3 times"):
        assert np.array_equal(scaled(x, 5.0)._array, (x * 5.0 * weight).sum()._array)


def hand_written_sgd_with_clipping(compile_it):
    """Hand-written SGD (``param -= lr * grad`` under no_grad) and WGAN's weight clipping through
    ``.data``: in-place writes into the parameters, which the program makes too."""
    chainrule.manual_seed(0)
    model = network()

    def step(inputs, targets):
        loss = F.mse_loss(model(inputs), targets)
        loss.backward()
        with chainrule.no_grad():
            for param in model.parameters():
                param -= 0.1 * param.grad
                param.grad = None
        for param in model.parameters():
            param.data.clamp_(-0.3, 0.3)
        return loss

    run = chainrule.compile(step) if compile_it else step
    losses = [run(inputs, targets).item() for inputs, targets in batches(4)]
    return losses, [param.detach().numpy().copy() for param in model.parameters()], run


def test_in_place_writes_into_parameters_are_replayed_bit_for_bit():
    eager_losses, eager_params, _ = hand_written_sgd_with_clipping(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses, params, compiled = hand_written_sgd_with_clipping(True)
    assert losses == eager_losses and all(np.array_equal(a, b) for a, b in zip(params, eager_params))
    assert compiled.eager_reason is None and "[...] = " in compiled.code and "written in place" in compiled.code


def test_a_residual_block_with_in_place_additions_and_relu_gives_the_eager_results():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.first, self.second, self.relu = nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(inplace=True)
            self.head = nn.Linear(2, 1)

        def forward(self, x):
            out = self.relu(self.first(x))
            out = self.second(out)
            out += x  # torchvision's BasicBlock: out += identity
            return self.head(self.relu(out))

    compiled, warned = train_both(make_model=Block, make_optimizer=OPTIMIZERS["sgd momentum nesterov decay"])
    assert warned == [] and "written in place" in compiled.code


def test_a_write_into_a_view_of_a_tensor_that_needs_grad_replays():
    """``out[0] += 1.0`` in the graph (PyTorch's CopySlices): replayed, the same gradients."""
    def run(compile):
        chainrule.manual_seed(0)
        model = network()

        def step(inputs, targets):
            out = model(inputs)
            out[0] += 1.0  # written through the view into out, in the graph
            loss = F.mse_loss(out, targets)
            loss.backward()
            return loss.detach()

        function = chainrule.compile(step) if compile else step
        seen = [function(inputs, targets).numpy().tobytes() for inputs, targets in batches(3)]
        return seen + [p.grad.numpy().tobytes() for p in model.parameters()], function

    (eager, _), (ours, compiled) = run(False), run(True)
    assert ours == eager and compiled.eager_reason is None


def test_input_gradients_accumulate_into_the_arguments():
    weight = chainrule.randn(3, 3)

    @chainrule.compile
    def gradient_of(x):
        (x @ weight).tanh().sum().backward()
        return x.grad

    for _ in range(3):
        x = chainrule.randn(2, 3, requires_grad=True)
        expected = chainrule.randn(2, 3, requires_grad=True)
        expected._array[...] = x._array
        (expected @ weight).tanh().sum().backward()
        assert np.array_equal(gradient_of(x)._array, expected.grad._array)


def test_the_code_reads_as_the_hand_written_program():
    chainrule.manual_seed(0)
    x = chainrule.randn(4, 3)
    w = chainrule.randn(3, requires_grad=True)

    @chainrule.compile
    def step(inputs):
        loss = (inputs * w).exp().sum()
        loss.backward()
        return loss

    step(x)
    code = step.code
    assert "def program(args, kwargs):" in code
    # each operation written in (its forward and backward's statements, on the program's arrays)
    assert "= x0 * p1  # Mul: x0 · p1" in code or "v3 = x0 * p1" in code
    assert "xp.exp(" in code and "accumulate(w, " in code and ".forward(" not in code
    assert "MulBackward0: d/dp1 = x0" in code and "ExpBackward0: d/d" in code


def runner_history(compile, model, data, loss_fn, num_epochs, lr, batch_size=None):
    from chainrule.train import Runner
    from chainrule.utils.data import DataLoader, TensorDataset

    chainrule.manual_seed(0)
    model = model()
    runner = Runner(model, optim.SGD(model.parameters(), lr=lr), loss_fn, compile=compile)
    if batch_size is not None:
        data = DataLoader(TensorDataset(*data), batch_size=batch_size, shuffle=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cross-entropy runs eagerly (its targets object)
        runner.train(data, num_epochs=num_epochs, log_steps=0)
    return runner.train_step_losses, [p._array.copy() for p in model.parameters()]


def assert_same_history(first, second):
    assert first[0] == second[0]
    assert all(np.array_equal(a, b) for a, b in zip(first[1], second[1]))


def test_the_two_moons_example_trains_the_same_compiled():
    from chainrule.examples._data import moons
    from chainrule.examples.two_moons import TwoLayerNetwork, autograd_copy

    chainrule.manual_seed(0)
    train_data, _, _ = moons(300)
    hand_model = TwoLayerNetwork(2, 5, 1)
    runs = [runner_history(compile, lambda: autograd_copy(hand_model), train_data, nn.BCELoss(), 20, 2.0) for compile in (True, False)]
    assert_same_history(*runs)


def test_the_iris_example_trains_the_same_compiled_in_mini_batches():
    from chainrule.datasets import load_iris

    X, y = load_iris(normalize=True)
    model = lambda: nn.Sequential(nn.Linear(4, 6), nn.Sigmoid(), nn.Linear(6, 3))  # noqa: E731
    runs = [runner_history(compile, model, (X, y), nn.CrossEntropyLoss(), 3, 0.1, batch_size=16) for compile in (True, False)]
    assert_same_history(*runs)


def test_runner_compile_gives_the_eager_losses():
    from chainrule.train import Runner

    def losses(compile):
        chainrule.manual_seed(0)
        model = network()
        runner = Runner(model, optim.SGD(model.parameters(), lr=0.1), nn.MSELoss(), compile=compile)
        inputs = chainrule.cat([b[0] for b in batches(4)])
        targets = chainrule.cat([b[1] for b in batches(4)])
        runner.train((inputs, targets), num_epochs=5, log_steps=0)
        return runner.train_step_losses, [p._array.copy() for p in model.parameters()]

    (compiled_losses, compiled_parameters), (eager_losses, eager_parameters) = losses(True), losses(False)
    assert compiled_losses == eager_losses
    assert all(np.array_equal(a, b) for a, b in zip(compiled_parameters, eager_parameters))


def test_the_compiled_step_example_replays_and_ends_with_the_eager_weights():
    """The example's step is a closure defined in chainrule's own package: it is compiled as any
    other (it once ran eagerly, its optimizer taken for an object made during the call)."""
    from chainrule.examples import compiled_step

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = compiled_step.main(quick=True)
    assert results["same_weights"]
    assert re.search(r"Linear: x\d+ @ p\d+ᵀ \+ p\d+", compiled_step.train(True, compiled_step.moons(50)[0], 2, 2.0)[0].code)


def test_memory_stays_flat_over_many_compiled_steps():
    chainrule.manual_seed(0)
    model = network()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    step = chainrule.compile(training_step(model, optimizer))
    assert memory_growth(step, *batches(1)[0]) < 50_000


def memory_growth(step, *args, steps=3_000):
    """Bytes allocated and still held after ``steps`` calls of ``step(*args)``, once warmed up (the
    tests allow 50,000 bytes: under 17 bytes a step, less than any Python object a step could keep)."""
    import tracemalloc

    tracemalloc.start()
    for _ in range(500):  # what the first steps allocate once (NumPy's caches) is not growth
        step(*args)
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(steps):
        step(*args)
    growth = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return growth


def test_a_compiled_method_is_compiled_for_each_instance():
    class Scaler(nn.Module):
        def __init__(self, factor):
            super().__init__()
            self.weight = nn.Parameter(chainrule.full((3,), factor))

        @chainrule.compile
        def forward(self, x):
            return x * self.weight

    small, large = Scaler(1.0), Scaler(10.0)
    x = chainrule.ones(3)
    with chainrule.no_grad():
        for _ in range(2):
            assert np.array_equal(small(x)._array, np.ones(3)) and np.array_equal(large(x)._array, np.full(3, 10.0))


def test_a_custom_function_written_with_tensors_is_replayed_through_its_own_forward_and_backward():
    class MulConstant(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x, constant):
            ctx.constant = constant
            return x * constant

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.constant, None

    def run(compiled):
        chainrule.manual_seed(0)
        weight = chainrule.randn(3, requires_grad=True)

        def step(x):
            weight.grad = None
            MulConstant.apply(weight * x, 3.0).tanh().sum().backward()
            return weight.grad

        step = chainrule.compile(step) if compiled else step
        return [step(chainrule.full((3,), float(k)))._array.copy() for k in range(3)]

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for eager, compiled in zip(run(False), run(True)):
            assert np.array_equal(eager, compiled)


def test_train_and_eval_called_inside_are_replayed():
    chainrule.manual_seed(0)
    model = network(extra=(nn.Dropout(0.5),))

    @chainrule.compile
    def evaluate(inputs):
        model.eval()
        with chainrule.no_grad():
            return model(inputs)

    inputs = batches(1)[0][0]
    first = evaluate(inputs)._array.copy()
    model.train()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = evaluate(inputs)
    assert np.array_equal(again._array, first) and not model.training


def test_gradients_are_never_shared_between_leaves_nor_between_steps():
    """A first gradient becomes .grad without eager's copy only when no other leaf or step holds it."""
    chainrule.manual_seed(0)
    first, second = chainrule.randn(3, 2, requires_grad=True), chainrule.randn(3, 2, requires_grad=True)
    model = network()
    optimizer = optim.SGD([first, second, *model.parameters()], lr=0.1)

    def step(inputs, targets):
        optimizer.zero_grad()
        loss = F.mse_loss(model(inputs), targets) + (first + second).sum()  # AddBackward0 sends one array to both
        loss.backward()
        return loss

    compiled = chainrule.compile(step)
    held = []
    for inputs, targets in batches(3):
        compiled(inputs, targets)
        held.append([p.grad for p in optimizer.param_groups[0]["params"]])
    assert "accumulate_unshared(model_0_weight" in compiled.code and "accumulate(first" in compiled.code
    assert not np.shares_memory(first.grad._array, second.grad._array)
    eager = []
    for inputs, targets in batches(3):
        step(inputs, targets)
        eager.append([p.grad._array.copy() for p in optimizer.param_groups[0]["params"]])
    for ours, theirs in zip(held, eager):  # each step's gradients untouched by the later steps
        assert all(np.array_equal(a._array, b) for a, b in zip(ours, theirs))


def test_cross_entropy_checks_each_replayed_call_s_targets():
    """The targets are rebuilt from each call's target tensor: an index out of range still raises."""
    model = nn.Linear(2, 3)
    compiled = chainrule.compile(lambda inputs, targets: F.cross_entropy(model(inputs), targets, ignore_index=2))
    inputs = batches(1)[0][0]
    with warnings.catch_warnings(), chainrule.no_grad():
        warnings.simplefilter("error")
        compiled(inputs, chainrule.zeros(8, dtype=chainrule.int64))
        ignored = compiled(inputs, chainrule.full((8,), 2, dtype=chainrule.int64))  # every target ignored: nan
        assert np.isnan(ignored._array)
        with pytest.raises(IndexError, match="Target 3 is out of bounds"):
            compiled(inputs, chainrule.full((8,), 3, dtype=chainrule.int64))
    assert sum(len(entries) for entries in compiled.recordings.values()) == 1


def test_memory_stays_flat_over_many_compiled_steps_with_dropout_batch_norm_and_cross_entropy():
    chainrule.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    step = chainrule.compile(training_step(model, optimizer, F.cross_entropy))
    inputs, targets = batches(1)[0]
    assert memory_growth(step, inputs, two_classes(targets)) < 50_000
    assert len(step.recordings) == 1 and step.eager_reason is None


# ----------------------------------------------------------------------------- models beyond the MLP
class _Tokens(nn.Module):
    """Embedding, then ``body`` on (batch, time, 16), then a linear read-out to 20 classes."""

    def __init__(self, body):
        super().__init__()
        self.embedding, self.body, self.out = nn.Embedding(20, 16, padding_idx=0), body, nn.Linear(16, 20)

    def forward(self, tokens):
        return self.out(self.body(self.embedding(tokens)))


class _Recurrent(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    def forward(self, x):
        state = chainrule.zeros(self.cell.num_layers, x.shape[0], 16)  # a factory inside the step
        state = (state, chainrule.zeros_like(state)) if isinstance(self.cell, nn.LSTM) else state
        return self.cell(x, state)[0]


class _Causal(nn.Module):
    """Karpathy's attention head: positions from arange, a causal mask from a buffer compared with 0."""

    def __init__(self):
        super().__init__()
        self.position = nn.Embedding(8, 16)
        self.attention = nn.MultiheadAttention(16, 2, batch_first=True)
        self.register_buffer("tril", chainrule.tril(chainrule.ones(8, 8)))

    def forward(self, x):
        length = x.shape[1]
        x = x + self.position(chainrule.arange(length))
        return self.attention(x, x, x, attn_mask=self.tril[:length, :length] == 0, need_weights=False)[0]


class _Padded(nn.Module):
    """Attention that skips the padding tokens (id 0), a mask that changes from call to call; rows
    whose every key is padding get zeros from scaled_dot_product_attention."""

    def forward(self, x):
        keep = x.abs().sum(-1) > 0  # (batch, tokens), from this call's values
        return F.scaled_dot_product_attention(x, x, x, attn_mask=keep[:, :, None] & keep[:, None, :])


SEQUENCE_MODELS = {
    "gru": lambda: _Tokens(_Recurrent(nn.GRU(16, 16, batch_first=True))),
    "lstm": lambda: _Tokens(_Recurrent(nn.LSTM(16, 16, num_layers=2, batch_first=True, dropout=0.2))),
    "transformer encoder": lambda: _Tokens(nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, 0.1, batch_first=True), 2)),
    "causal attention": lambda: _Tokens(_Causal()),
    "padded attention": lambda: _Tokens(_Padded()),
}


@pytest.mark.parametrize("name", sorted(SEQUENCE_MODELS))
def test_sequence_models_give_the_eager_results_bit_for_bit(name):
    """Embedding, recurrent layers with a zero state made in the step, attention with masks made
    from buffers, from arange and from each call's tokens (padding that covers a whole sequence in
    one batch): all recorded, none runs eagerly."""
    generator = np.random.default_rng(5)
    data = []
    for index in range(4):
        tokens = generator.integers(1, 20, (3, 6))
        tokens[0, 4:] = 0
        if index == 2:
            tokens[1, :] = 0  # a sequence of padding only: every key of its rows is masked out
        data.append((chainrule.tensor(tokens), chainrule.tensor(generator.integers(0, 20, (3, 6)))))

    def loss_fn(out, y):
        return F.cross_entropy(out.reshape(-1, 20), y.reshape(-1))

    compiled, warned = train_both(make_model=SEQUENCE_MODELS[name], make_optimizer=OPTIMIZERS["adamw"], loss_fn=loss_fn, data=data)
    assert warned == [], warned
    assert "# Embedding:" in compiled.code


def test_tensors_factories_make_inside_the_step_are_made_again_on_each_call():
    """zeros, arange, full_like, eye made inside the step (from Python values and shapes alone)
    are part of the program; a tensor made from a NumPy array is not (its values may change)."""

    def step(x):
        start = chainrule.zeros(3) + x
        return (start * chainrule.arange(3) + chainrule.full_like(x, 0.5)) @ chainrule.eye(3)

    compiled = chainrule.compile(step)
    for value in (1.0, 2.0, 3.0):
        x = chainrule.full((3,), value)
        np.testing.assert_array_equal(compiled(x).numpy(), step(x).numpy())
    assert compiled.code.count("made by a factory") == 4 and compiled.eager_reason is None

    held = np.array([1.0, 2.0, 3.0], np.float32)

    def from_data(x):
        return x + chainrule.tensor(held)

    with pytest.warns(UserWarning, match="computed outside a recorded operation"):
        chainrule.compile(from_data)(chainrule.ones(3))


def test_embedding_checks_each_replayed_call_s_indices():
    embedding = nn.Embedding(5, 2)
    compiled = chainrule.compile(lambda tokens: embedding(tokens).sum())
    compiled(chainrule.tensor([0, 4]))
    with pytest.raises(IndexError, match="index out of range in self"):
        compiled(chainrule.tensor([-1, 4]))  # NumPy would read the last row
    with pytest.raises(IndexError, match="index out of range in self"):
        compiled(chainrule.tensor([5, 4]))


def test_indexing_with_each_call_s_index_tensors_is_replayed():
    """makemore's C[X] and the hand-written likelihood probs[arange(n), Y]: the index tensors are
    each call's; a boolean mask, whose result's shape follows the values, runs eagerly."""
    table = chainrule.randn(27, 4, requires_grad=True)

    def negative_log_likelihood(X, Y):
        logits = table[X].view(X.shape[0], -1) @ chainrule.ones(12, 27)
        loss = -logits.softmax(1)[chainrule.arange(X.shape[0]), Y].log().mean()
        loss.backward()
        return loss

    compiled = chainrule.compile(negative_log_likelihood)
    generator = np.random.default_rng(0)
    for _ in range(3):
        X, Y = chainrule.tensor(generator.integers(0, 27, (5, 3))), chainrule.tensor(generator.integers(0, 27, 5))
        table.grad = None
        eager_loss, eager_grad = negative_log_likelihood(X, Y).item(), table.grad.numpy().copy()
        table.grad = None
        assert compiled(X, Y).item() == eager_loss
        np.testing.assert_array_equal(table.grad.numpy(), eager_grad)
    assert compiled.eager_reason is None and "# GetItem:" in compiled.code

    masked = chainrule.compile(lambda x: x[x > 0].sum())
    with pytest.warns(UserWarning, match="boolean mask"):
        masked(chainrule.randn(6))


def test_masked_writes_and_list_indices_are_replayed():
    """nanoGPT's ``generate``: ``logits[logits < v[:, [-1]]] = -float('Inf')`` keeps the shape
    whatever the mask holds, so it replays with each call's mask (the gradient of the logits too);
    ``x[:, [-1]]`` takes a list the Python code wrote. A masked write of a value that needs a
    gradient (read at the mask: as many elements as it holds True) runs eagerly."""
    weight = chainrule.randn(4, 6, requires_grad=True)

    def top_k_step(x, k):
        logits = x @ weight
        v, _ = chainrule.topk(logits, k)
        logits[logits < v[:, [-1]]] = -float("Inf")
        loss = -logits.softmax(-1)[:, [0, 2]].clamp_min(1e-6).log().sum()
        loss.backward()
        return loss.detach(), logits.detach()

    compiled = chainrule.compile(top_k_step)
    generator = np.random.default_rng(1)
    for k in (3, 3, 3, 2, 2):
        x = chainrule.tensor(generator.standard_normal((5, 4)).astype(np.float32))
        weight.grad = None
        eager = [t.numpy().copy() for t in top_k_step(x, k)] + [weight.grad.numpy().copy()]
        weight.grad = None
        ours = [t.numpy().copy() for t in compiled(x, k)] + [weight.grad.numpy().copy()]
        for mine, theirs in zip(ours, eager):
            assert mine.tobytes() == theirs.tobytes()
    assert compiled.eager_reason is None and sum(map(len, compiled.recordings.values())) == 2  # one for each k

    columns = [0, 2]  # a list the caller changes between calls: checked on every call
    picked = chainrule.compile(lambda x: x[:, columns] * 2)
    x = chainrule.arange(12.0).reshape(3, 4)
    for new in ([0, 2], [3, 1], [3, 1], [1]):
        columns[:] = new
        assert picked(x).tolist() == (x[:, new] * 2).tolist()
    assert picked.eager_reason is None

    value = chainrule.tensor(-1.0, requires_grad=True)

    def written_value(x):
        x = x.clone()
        x[x > 0] = value
        return x.sum()

    masked = chainrule.compile(written_value)
    with pytest.warns(UserWarning, match="boolean mask"):
        masked(chainrule.randn(6))


def test_tensors_of_written_numbers_are_constants_and_their_sources_are_checked():
    """``torch.tensor([0.2, 0.8])`` inside the step is a constant of the program, as ``x * 2``'s 2;
    a list or a dict the numbers come from is checked on each call (a key added to a vocabulary
    records anew); a list holding tensors reads their values, which runs eagerly."""
    weights = [1.0, 2.0]
    vocabulary = {"the": 2}

    def scaled(x):
        ids = chainrule.tensor([vocabulary.get(word, 1) for word in ("the", "dog")])
        return x * chainrule.tensor([0.5, 0.25]) * chainrule.tensor(weights) + ids

    compiled = chainrule.compile(scaled)
    x = chainrule.ones(2)
    for step in range(4):
        assert compiled(x).tolist() == scaled(x).tolist()
        weights[0] += 1.0
        if step == 1:
            vocabulary["dog"] = 7
    assert compiled.eager_reason is None and "constant" in compiled.code

    summed = chainrule.compile(lambda x: chainrule.tensor([x.sum()]) * 2)
    with pytest.warns(UserWarning, match="reads a tensor's value into Python"):
        summed(chainrule.zeros(3))
    assert summed(chainrule.ones(3)).tolist() == [6.0]


def test_writes_through_read_only_views_replay():
    """``h.diagonal().zero_()`` writes through NumPy's read-only diagonal view into its base, and
    with a gradient as PyTorch's CopySlices: both replay, bit for bit."""
    matrix = chainrule.ones(3, 3)

    def no_self_connections(x):
        matrix.diagonal().add_(x)
        return matrix.sum()

    compiled = chainrule.compile(no_self_connections)
    assert [compiled(chainrule.ones(3)).item() for _ in range(3)] == [12.0, 15.0, 18.0]

    def run(compiled):
        chainrule.manual_seed(0)
        w = chainrule.randn(4, 4, requires_grad=True)
        opt = chainrule.optim.SGD([w], lr=0.01)

        def step(x):
            opt.zero_grad()
            h = x @ w
            h.diagonal(1).mul_(0.5)
            h.diagonal().zero_()
            h[1:, 0] += 1.0
            loss = h.pow(2).sum()
            loss.backward()
            opt.step()
            return loss.detach()
        function = chainrule.compile(step) if compiled else step
        seen = [function(chainrule.full((4 if i < 3 else 2, 4), i + 1.0)).numpy().tobytes() for i in range(4)]
        return seen + [w.detach().numpy().tobytes()], function

    eager, _ = run(False)
    ours, function = run(True)
    assert ours == eager and function.eager_reason is None


def test_embedding_bag_of_padded_rows_replays_and_checks_each_call_s_ids():
    """EmbeddingBag(padding_idx=...) over a 2-D batch: which entries each bag counts follows the
    ids, computed again on each replay; an id out of range later raises eager's RuntimeError."""
    chainrule.manual_seed(0)
    bag = nn.EmbeddingBag(10, 4, mode="mean", padding_idx=0)
    twin = copy.deepcopy(bag)

    def pooled(module, ids):
        out = module(ids)
        out.sum().backward()
        return out.detach()

    compiled = chainrule.compile(pooled)
    for ids in ([[1, 2, 0], [0, 0, 0]], [[3, 0, 0], [4, 5, 6]], [[9, 9, 9], [0, 0, 1]]):
        ours, theirs = compiled(bag, chainrule.tensor(ids)), pooled(twin, chainrule.tensor(ids))
        assert ours.numpy().tobytes() == theirs.numpy().tobytes()
        assert bag.weight.grad.numpy().tobytes() == twin.weight.grad.numpy().tobytes()
    assert compiled.eager_reason is None
    with pytest.raises(RuntimeError, match="not in the valid range"):
        compiled(bag, chainrule.tensor([[1, 2, 10], [0, 0, 0]]))


def test_gather_and_index_select_read_and_check_each_call_s_index():
    """DQN's q(s).gather(1, actions) and an index_select lookup: each call's index, checked on
    each call (a negative position raises as in eager, where NumPy would wrap around)."""
    chainrule.manual_seed(0)
    net = nn.Linear(4, 3)

    def q_loss(states, actions, rows):
        q = net(states).gather(1, actions[:, None]).squeeze(1) + net.weight.index_select(0, rows).sum()
        loss = F.smooth_l1_loss(q, chainrule.ones(states.shape[0]))
        loss.backward()
        return loss

    compiled = chainrule.compile(q_loss)
    generator = np.random.default_rng(2)
    for _ in range(3):
        states = chainrule.tensor(generator.normal(size=(5, 4)).astype(np.float32))
        actions, rows = chainrule.tensor(generator.integers(0, 3, 5)), chainrule.tensor(generator.integers(0, 3, 2))
        net.zero_grad()
        eager_loss, eager_grad = q_loss(states, actions, rows).item(), net.weight.grad.numpy().copy()
        net.zero_grad()
        assert compiled(states, actions, rows).item() == eager_loss
        np.testing.assert_array_equal(net.weight.grad.numpy(), eager_grad)
    assert compiled.eager_reason is None and "# Gather:" in compiled.code and "# IndexSelect:" in compiled.code
    with pytest.raises(RuntimeError, match=r"^index -1 is out of bounds for dimension 1 with size 3 \(gather"):
        compiled(states, chainrule.tensor([0, -1, 0, 0, 0]), rows)
    with pytest.raises(IndexError, match=r"^index out of range in self \(index_select: index 3"):
        compiled(states, actions, chainrule.tensor([0, 3]))


class _Scaled(nn.Module):
    """A module whose forward reads plain number attributes (a temperature, a length)."""

    def __init__(self):
        super().__init__()
        self.linear, self.dropout = nn.Linear(4, 4), nn.Dropout(0.0)
        self.temperature, self.length, self.reduction = 2.0, 3, "mean"
        self.offset = chainrule.tensor(0.5)  # a tensor kept as a plain attribute, not a buffer

    def forward(self, x):
        out = self.dropout(self.linear(x[: self.length])) / self.temperature + chainrule.arange(self.length)[:, None]
        out = out + self.offset
        return out.mean(0) if self.reduction == "mean" else out.sum(0)


SETTINGS = {"shift": 1.0}


class _Config:
    scale = 1.0


CONFIG = _Config()


def test_numbers_read_from_modules_objects_and_dicts_between_calls_are_never_frozen():
    """A dropout's p, a module's attributes (numbers, a string), an object's attribute and a global
    dict's entry changed between calls: each change records again (never a stale result); a tensor
    kept as a module's plain attribute is state, read afresh (replaced: recorded again; changed in
    place: the same program reads its new values)."""
    chainrule.manual_seed(0)
    model = _Scaled()

    def step(x):
        with chainrule.no_grad():
            return model(x) * CONFIG.scale + SETTINGS["shift"]

    compiled = chainrule.compile(step)
    x = chainrule.randn(5, 4)
    changes = [
        lambda: None,
        lambda: setattr(model, "temperature", 4.0),
        lambda: setattr(model, "length", 5),
        lambda: setattr(model.dropout, "p", 0.5),
        lambda: setattr(CONFIG, "scale", -3.0),
        lambda: SETTINGS.update(shift=7.5),
        lambda: setattr(model, "reduction", "sum"),
        lambda: setattr(model, "offset", chainrule.tensor(-2.0)),
        lambda: model.offset.fill_(3.0),
    ]
    for change in changes:
        change()
        state = chainrule.get_rng_state()
        expected = step(x)
        chainrule.set_rng_state(state)
        np.testing.assert_array_equal(compiled(x).numpy(), expected.numpy())
    assert len([r for rs in compiled.recordings.values() for r in rs]) == len(changes) - 1 and compiled.eager_reason is None


def test_a_module_hook_added_or_removed_after_recording_is_never_skipped():
    chainrule.manual_seed(0)
    model = network()

    def step(x):
        loss = model(x).sum()
        loss.backward()
        return loss

    compiled = chainrule.compile(step)
    x = chainrule.ones(3, 2)

    def same():
        model.zero_grad()
        expected = step(x).item(), model[0].weight.grad.numpy().copy()
        model.zero_grad()
        assert compiled(x).item() == expected[0]
        np.testing.assert_array_equal(model[0].weight.grad.numpy(), expected[1])

    same()
    handle = model[0].register_forward_hook(lambda module, args, output: output + 10.0)
    same()
    handle.remove()
    same()  # the hooks are those of the first recording again: it replays
    assert compiled.eager_reason is None and len([r for rs in compiled.recordings.values() for r in rs]) == 2


def test_hooks_added_and_removed_between_steps_leave_the_recording_replaying():
    """A look at the activations between two steps (dead_relu_fractions hooks every ReLU, runs the
    model and removes them), or a hook on another model, changes no hook the step runs: one
    recording replays every step, bit for bit as eager."""
    from chainrule.train import dead_relu_fractions

    chainrule.manual_seed(0)
    model, other = network(nn.ReLU), network()
    twin = copy.deepcopy(model)

    def make(net):
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x):
            loss = net(x).square().mean()
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss.detach()

        return step

    compiled, eager = chainrule.compile(make(model)), make(twin)
    x = chainrule.ones(3, 2)
    for index in range(12):
        assert compiled(x).numpy().tobytes() == eager(x).numpy().tobytes()
        dead_relu_fractions(model, x)
        other[0].register_forward_hook(lambda module, args, output: None)  # kept, on another model
    assert compiled.eager_reason is None and sum(map(len, compiled.recordings.values())) == 1


@pytest.mark.parametrize("collate", ["list", "dict"])
def test_a_dataloader_batch_passed_whole_is_an_input_not_a_new_function_each_time(collate):
    """step(batch) with the [x, y] list (or a dict) a DataLoader yields: the tensors inside are the
    call's inputs, so one recording serves every batch of the same shapes."""
    from chainrule.utils.data import DataLoader, TensorDataset

    generator = np.random.default_rng(3)
    data = TensorDataset(chainrule.tensor(generator.normal(size=(24, 2)).astype(np.float32)), chainrule.tensor(generator.normal(size=(24, 1)).astype(np.float32)))
    results = []
    for compile_it in (False, True):
        chainrule.manual_seed(0)
        model = network()
        optimizer = optim.Adam(model.parameters(), lr=1e-2)

        def step(batch):
            inputs, targets = (batch["x"], batch["y"]) if collate == "dict" else batch
            optimizer.zero_grad()
            loss = F.mse_loss(model(inputs), targets)
            loss.backward()
            optimizer.step()
            return loss

        run = chainrule.compile(step) if compile_it else step
        losses = []
        for _ in range(3):
            for inputs, targets in DataLoader(data, batch_size=5):  # 4 batches of 5, then one of 4
                batch = {"x": inputs, "y": targets} if collate == "dict" else [inputs, targets]
                losses.append(run(batch).item())
        results.append((losses, [p.detach().numpy().copy() for p in model.parameters()], run))
    (eager_losses, eager_params, _), (losses, params, compiled) = results
    assert losses == eager_losses and all(np.array_equal(a, b) for a, b in zip(params, eager_params))
    assert compiled.eager_reason is None and len([r for rs in compiled.recordings.values() for r in rs]) == 2


def test_gradient_clipping_inside_the_step_is_replayed_bit_for_bit():
    """nanoGPT's step: backward, clip_grad_norm_ (its total norm returned), clip_grad_value_, step."""
    results = []
    for compile_it in (False, True):
        chainrule.manual_seed(0)
        model = network()
        optimizer = optim.AdamW(model.parameters(), lr=0.1)

        def step(inputs, targets):
            optimizer.zero_grad()
            loss = F.mse_loss(model(inputs), targets)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            nn.utils.clip_grad_value_(model.parameters(), 0.1)
            optimizer.step()
            return loss, norm

        run = chainrule.compile(step) if compile_it else step
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            values = [[value.item() for value in run(inputs, targets)] for inputs, targets in batches(4)]
        results.append((values, [p.detach().numpy().copy() for p in model.parameters()]))
    (eager, eager_params), (compiled, params) = results
    assert compiled == eager and all(np.array_equal(a, b) for a, b in zip(params, eager_params))


def test_a_parameter_swapped_deep_in_nested_modules_records_anew():
    chainrule.manual_seed(0)
    model = nn.Sequential(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Sequential(nn.Linear(4, 4))), nn.Linear(4, 1))

    def forward(x):
        return model(x).sum()

    compiled = chainrule.compile(forward)
    x = chainrule.randn(2, 3)
    with chainrule.no_grad():
        assert compiled(x).item() == forward(x).item()
        model[0][2][0].weight = nn.Parameter(chainrule.randn(4, 4))  # read through module_N names in the guard
        assert compiled(x).item() == forward(x).item()
        model[0][1] = nn.ReLU()
        assert compiled(x).item() == forward(x).item()
    assert len(compiled.recordings[next(iter(compiled.recordings))]) == 3


def test_globals_named_like_the_program_s_arrays_are_not_hidden_by_them():
    global p1, x1
    chainrule.manual_seed(0)
    p1 = chainrule.randn(3, requires_grad=True)
    x1 = chainrule.randn(3, requires_grad=True)

    def step(a, b):
        loss = (a * p1 + b * x1).sum()
        loss.backward()
        return loss

    compiled = chainrule.compile(step)
    a, b = chainrule.randn(3), chainrule.randn(3)
    first = compiled(a, b).item()  # records
    assert compiled(a, b).item() == first  # replays: p1 and x1 are the globals, not the program's arrays
    assert compiled.eager_reason is None


def test_a_compiled_module_is_a_module_holding_the_original_as_pytorchs_optimized_module():
    """model = torch.compile(model); optimizer = Adam(model.parameters()): the course's order works."""
    results = []
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
        compiled = lib.compile(model)
        assert isinstance(compiled, lib.nn.Module) and compiled._orig_mod is model
        assert [name for name, _ in compiled.named_parameters()] == ["_orig_mod.0.weight", "_orig_mod.0.bias", "_orig_mod.2.weight", "_orig_mod.2.bias"]
        assert list(compiled.state_dict()) == ["_orig_mod." + key for key in model.state_dict()]
        assert getattr(compiled, "0") is model[0] and len(compiled) == 3  # the original's own attributes
        compiled.eval()
        assert not model.training
        compiled.train()
        results.append(len(list(compiled.parameters())))
    assert results == [4, 4]


@pytest.mark.parametrize("set_to_none", [True, False])
def test_clipping_and_stepping_gradients_a_backward_outside_left_replays(set_to_none):
    """Gradient accumulation with the update compiled apart: backward runs outside (eagerly or in
    another compiled function), the compiled update clips each call's .grad in place, steps and
    clears; the norm it returns, the parameters and the gradients are eager's bit for bit."""

    def build():
        chainrule.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def update():
            norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
            optimizer.zero_grad(set_to_none=set_to_none)
            return norm

        return model, update

    def run(compiled):
        model, update = build()
        update = chainrule.compile(update) if compiled else update
        generator = np.random.default_rng(3)
        seen = []
        for _ in range(6):
            for _ in range(2):  # two micro-batches accumulate
                x = chainrule.tensor(generator.standard_normal((5, 3)).astype(np.float32))
                model(x).pow(2).mean().backward()
            seen.append(update().numpy().tobytes())
            seen += [p.detach().numpy().tobytes() for p in model.parameters()]
            seen += [None if p.grad is None else p.grad.numpy().tobytes() for p in model.parameters()]
        return seen, update

    eager, _ = run(False)
    compiled, update = run(True)
    assert compiled == eager
    assert update.eager_reason is None and sum(map(len, update.recordings.values())) <= 2


@pytest.mark.parametrize("clear", ["grad.data.zero_()", "grad.zero_()", "grad.detach_().zero_()"])
def test_old_style_gradient_clearing_and_legacy_constructors_replay(clear):
    """PyTorch 0.4 code: ``w.grad.data.zero_()`` at the start of the step clears the gradient the
    previous call left (its ``.data`` is that gradient's array); ``FloatTensor(2, 4).uniform_()``
    and ``FloatTensor([1, 2, 3, 4])`` are made again on each call, as ``empty`` and ``tensor``."""
    def run(compile):
        chainrule.manual_seed(0)
        w = chainrule.randn(3, 4, requires_grad=True)

        def step(x):
            if w.grad is not None:
                if clear == "grad.data.zero_()":
                    w.grad.data.zero_()
                elif clear == "grad.zero_()":
                    w.grad.zero_()
                else:
                    w.grad.detach_().zero_()
            noise = chainrule.FloatTensor(2, 4).uniform_() * 0.1
            loss = (x @ w + noise + chainrule.FloatTensor([1, 2, 3, 4])).pow(2).sum()
            loss.backward()
            with chainrule.no_grad():
                w.sub_(0.01 * w.grad)
            return loss.detach()

        function = chainrule.compile(step) if compile else step
        seen = [function(chainrule.ones(2, 3) * i).numpy().tobytes() for i in range(5)]
        return seen + [w.detach().numpy().tobytes(), w.grad.numpy().tobytes()], function

    (eager, _), (ours, compiled) = run(False), run(True)
    assert ours == eager and compiled.eager_reason is None


def test_attributes_of_tensors_set_by_the_step_are_set_again():
    """fast.ai's backprop by hand keeps gradients in attributes (``out.g``, ``w.g``) and its
    optimizers keep state on the parameters (``p.grad_avg``, made on the first step behind
    ``hasattr``): each replay sets them again, and the call that first finds them records anew."""
    def run(compile):
        chainrule.manual_seed(0)
        w = chainrule.randn(3, 2)

        def step(x, y, momentum):
            out = x @ w
            diff = out - y
            out.g = 2 * diff / diff.numel()
            w.g = x.t() @ out.g
            if not hasattr(w, "grad_avg"):
                w.grad_avg = chainrule.zeros_like(w.g)
            w.grad_avg = w.grad_avg * momentum + w.g * (1 - momentum)
            w.sub_(0.1 * w.grad_avg)
            return diff.pow(2).mean()

        function = chainrule.compile(step) if compile else step
        seen = [function(chainrule.ones(4, 3) * i, chainrule.zeros(4, 2), 0.9).numpy().tobytes() for i in range(5)]
        return seen + [t.numpy().tobytes() for t in (w, w.g, w.grad_avg)], function

    (eager, _), (ours, compiled) = run(False), run(True)
    assert ours == eager and compiled.eager_reason is None


def test_a_tensor_of_written_numbers_changed_in_place_starts_fresh_on_each_call():
    """``total = torch.tensor(0.0)`` then ``total += loss``: the program's constant of the numbers
    is copied as each call begins (written through a view too), so no call starts from the sums of
    the one before."""
    @chainrule.compile
    def accumulated(x):
        total = chainrule.tensor(0.0)
        for row in x:
            total += row.sum()
        counts = chainrule.tensor([0.0, 0.0])
        counts[0] += x[0, 0]
        counts.add_(1.0)
        return total, counts

    x = chainrule.ones(2, 3)
    assert [[t.tolist() for t in accumulated(x)] for _ in range(4)] == [[6.0, [2.0, 1.0]]] * 4
    assert accumulated.eager_reason is None


def test_a_step_decorated_with_no_grad_records_once():
    """``@torch.no_grad()`` around the compiled function: the grad mode its wrapper sets during the
    call is not taken for state of the caller's (it was guarded as on and off at once, so every
    call recorded anew)."""
    x = chainrule.randn(4, 3)

    @chainrule.no_grad()
    def rectified(t):
        return chainrule.relu_(t * 1.0)

    compiled = chainrule.compile(rectified)
    for _ in range(5):
        assert compiled(x).tolist() == rectified(x).tolist()
    assert sum(map(len, compiled.recordings.values())) == 1 and compiled.eager_reason is None


def test_a_step_returning_return_types_is_compiled_and_returns_them():
    """``x.max(1)``, ``sort`` and ``aminmax`` return struct sequences: the program rebuilds them
    (it ran eagerly, with a warning, before)."""
    def step(x, w):
        h = x @ w
        return h.max(1), chainrule.sort(h, 1), chainrule.aminmax(h)

    compiled = chainrule.compile(step)
    x, w = chainrule.randn(3, 4), chainrule.randn(4, 5, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no falling back to eager
        for _ in range(3):
            ours, eager = compiled(x, w), step(x, w)
    for mine, theirs in zip(ours, eager):
        assert type(mine) is type(theirs) and all(chainrule.equal(a, b) for a, b in zip(mine, theirs))
