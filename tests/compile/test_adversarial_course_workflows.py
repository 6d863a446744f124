"""The course's own workflows (src/chainrule/examples, the train package, the seeds' chapters) run
eagerly and compiled from the same seed: losses, metrics, parameters, gradients, checkpoints,
printed reports and monitor/trace outputs must be the same bits. At most one fall-back warning."""
import contextlib
import functools
import importlib
import io
import re
import warnings

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn, optim
from chainrule.train import (
    Accuracy,
    GradientNormMonitor,
    NonFiniteWatch,
    Runner,
    SymmetryMonitor,
    dead_relu_fractions,
)
from chainrule.utils.data import DataLoader, TensorDataset
from tests.compile.bitwise import assert_identical


def arr(t):
    return None if t is None else np.array(t.detach().numpy() if hasattr(t, "detach") else t, copy=True)


def params_of(model):
    return {name: arr(p) for name, p in model.named_parameters()}


def grads_of(model):
    return {name: arr(p.grad) for name, p in model.named_parameters()}


def both_ways(workflow):
    """``workflow(compiled)`` eagerly, then compiled; its results and its printed text the same bits.
    Returns the fall-back warnings of the compiled run (at most one allowed)."""
    out = {}
    caught_by = {}
    for compiled in (False, True):
        buffer = io.StringIO()
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(buffer):
            warnings.simplefilter("always")
            result = workflow(compiled)
        out[compiled] = (result, re.sub(r"saved to \S+\)", "saved to PATH)", buffer.getvalue()))
        caught_by[compiled] = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    assert caught_by[False] == []
    fallbacks = caught_by[True]
    assert len(fallbacks) <= 1, fallbacks
    assert_identical(out[True][0], out[False][0], "results")
    assert out[True][1] == out[False][1], f"printed text differs:\n{out[True][1]}\n---\n{out[False][1]}"
    return fallbacks


def runner_record(runner):
    return {
        "steps": list(runner.train_step_losses),
        "epochs": list(runner.train_epoch_losses),
        "scores": list(runner.dev_scores),
        "dev": list(runner.dev_losses),
        "best": runner.best_score,
        "params": params_of(runner.model),
    }


# ----------------------------------------------------------------------------- the examples' main()
RUNNER_EXAMPLES = {
    "initialization": ["initialization"],
    "two_moons": ["two_moons"],
    "iris": ["iris"],
    "digits": ["iris"],
    "cnn_digits": ["iris"],
    "vanishing_gradients": ["vanishing_gradients"],
    "dead_relu": ["dead_relu"],
}


#: Each runner of an example trains at most this many epochs, in both runs: from its second step on a
#: compiled runner replays the same program, and dead_relu's and initialization's 800 full-batch
#: epochs per network made 12 s of this file (the examples' own tests train them in full).
MOST_EPOCHS = 100


@pytest.mark.parametrize("name", sorted(RUNNER_EXAMPLES))
def test_example_main_with_every_runner_compiled(name, monkeypatch):
    """Each Runner example's main(quick=True) with its Runners built compile=True: the same report,
    results, and every runner's histories and final weights."""
    module = importlib.import_module(f"chainrule.examples.{name}")

    def workflow(compiled):
        runners = []

        def Recording(*args, **kwargs):  # the real class, not a subclass (see the subclass test)
            runner = Runner(*args, compile=compiled, **kwargs)
            train = runner.train
            runner.train = lambda *data, num_epochs, **options: train(*data, num_epochs=min(num_epochs, MOST_EPOCHS), **options)
            runners.append(runner)
            return runner

        for holder in RUNNER_EXAMPLES[name]:
            monkeypatch.setattr(importlib.import_module(f"chainrule.examples.{holder}"), "Runner", Recording)
        results = module.main(quick=True)
        return results, [runner_record(r) for r in runners]

    assert both_ways(workflow) == []


def test_compiled_step_example_same_weights():
    from chainrule.examples import compiled_step
    from chainrule.examples._data import moons

    torch.manual_seed(0)
    data, _, _ = moons(120)
    _, _, compiled_model = compiled_step.train(True, data, 20, 2.0)
    _, _, eager_model = compiled_step.train(False, data, 20, 2.0)
    assert_identical(params_of(compiled_model), params_of(eager_model))


# ----------------------------------------------------------------------------- hand-written steps
def maybe(fn, compiled):
    return torch.compile(fn) if compiled else fn


def test_linear_model_w_data_updates_and_grad_data_zero():
    """Seed 000/001: y = w x, one point per step, ``w.data = w.data - lr * w.grad.data``."""

    def workflow(compiled, lr=0.01):
        x_data = torch.tensor([1.0, 2.0, 3.0])
        y_data = torch.tensor([2.0, 4.0, 6.0])
        w = torch.tensor([1.0], requires_grad=True)

        def step(x, y):
            loss = (x * w - y) ** 2
            loss.backward()
            grad = w.grad.clone()
            w.data = w.data - lr * w.grad.data
            w.grad.data.zero_()
            return loss, grad

        run = maybe(step, compiled)
        history = []
        for epoch in range(6):
            for x, y in zip(x_data, y_data):
                loss, grad = run(x, y)
                history.append((arr(loss), arr(grad)))
            print(f"epoch {epoch}: w = {w.item():.6f}")
        return history, arr(w), arr(w.grad), (4.0 * w).item()

    both_ways(workflow)


def test_quadratic_homework_python_float_points_and_inplace_no_grad_update():
    """Seed 001 homework: y = w1 x^2 + w2 x + b on Python-float points, ``-=`` under no_grad."""

    def workflow(compiled):
        w1, w2, b = (torch.tensor([0.5], requires_grad=True) for _ in range(3))

        def step(x, y):
            loss = (w1 * x**2 + w2 * x + b - y) ** 2
            loss.backward()
            grads = [p.grad.item() for p in (w1, w2, b)]
            with torch.no_grad():
                for p in (w1, w2, b):
                    p -= 0.01 * p.grad
                    p.grad.zero_()
            return loss.item(), grads

        run = maybe(step, compiled)
        history = [run(x, y) for _ in range(5) for x, y in ((1.0, 3.0), (2.0, 7.0), (3.0, 13.0))]
        return history, [arr(p) for p in (w1, w2, b)], (w1 * 16.0 + w2 * 4.0 + b).item()

    both_ways(workflow)


def test_two_moons_hand_written_operators_no_autograd():
    """Seed 002, part 1: Linear/Logistic/BCE with their own backward, BatchGD rebinding params."""
    from chainrule.examples import two_moons
    from chainrule.examples._data import moons

    def workflow(compiled):
        torch.manual_seed(1)
        X, y = moons(100)[0]
        model = two_moons.TwoLayerNetwork(2, 5, 1)
        loss_fn = two_moons.BinaryCrossEntropyLoss()
        optimizer = two_moons.BatchGD(2.0, model)

        def step(X, y):
            loss = loss_fn(model(X), y)
            model.backward(loss_fn.backward())
            optimizer.step()
            return loss

        run = maybe(step, compiled)
        losses = [run(X, y).item() for _ in range(8)]
        return losses, [{k: arr(v) for k, v in layer.params.items()} for layer in model.layers], [
            {k: arr(v) for k, v in layer.grads.items()} for layer in model.layers if hasattr(layer, "grads")
        ]

    both_ways(workflow)


def _classifier_step(model, optimizer, loss_fn):
    def step(X, y):
        optimizer.zero_grad()
        out = model(X)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        return loss, (out.argmax(1) == y).float().mean()

    return step


def test_logistic_regression_and_softmax_on_digits_with_smaller_last_batch():
    from chainrule.datasets import load_digits

    def workflow(compiled):
        torch.manual_seed(0)
        X, y = load_digits(normalize=True)
        X, y = X[:90], y[:90]
        results = []
        # logistic regression: digit 0 or not, BCEWithLogits on (N, 1)
        logit = nn.Linear(64, 1)
        opt = optim.SGD(logit.parameters(), lr=0.1)
        bce = nn.BCEWithLogitsLoss()

        def binary(X, t):
            opt.zero_grad()
            loss = bce(logit(X), t)
            loss.backward()
            opt.step()
            return loss

        run = maybe(binary, compiled)
        target = (y == 0).float().reshape(-1, 1)
        results.append([run(X[i:i + 32], target[i:i + 32]).item() for _ in range(3) for i in range(0, 90, 32)])
        # softmax classifier, cross-entropy, momentum
        softmax = nn.Linear(64, 10)
        opt2 = optim.SGD(softmax.parameters(), lr=0.05, momentum=0.9)
        run2 = maybe(_classifier_step(softmax, opt2, nn.CrossEntropyLoss()), compiled)
        for _ in range(3):
            for i in range(0, 90, 32):
                loss, acc = run2(X[i:i + 32], y[i:i + 32])
                results.append((loss.item(), acc.item()))
        return results, params_of(logit), params_of(softmax), grads_of(softmax)

    both_ways(workflow)


def test_rnn_classifier_hand_written_step():
    def workflow(compiled):
        torch.manual_seed(0)
        rnn = nn.RNN(3, 8, batch_first=True)
        head = nn.Linear(8, 2)
        opt = optim.Adam([*rnn.parameters(), *head.parameters()], lr=0.01)
        X = torch.randn(12, 5, 3)
        y = (X.sum(dim=(1, 2)) > 0).long()

        def step(X, y):
            opt.zero_grad()
            out, h = rnn(X)
            loss = nn.functional.cross_entropy(head(out[:, -1]), y)
            loss.backward()
            nn.utils.clip_grad_norm_([*rnn.parameters(), *head.parameters()], 1.0)
            opt.step()
            return loss

        run = maybe(step, compiled)
        losses = [run(X[i:i + 5], y[i:i + 5]).item() for _ in range(3) for i in range(0, 12, 5)]
        return losses, params_of(rnn), params_of(head)

    both_ways(workflow)


def test_trace_backward_inside_a_compiled_step():
    """Seed 004: J = 3 (a + b c) traced by trace_backward inside the step; the trace text the same."""
    from chainrule.viz import trace_backward

    def workflow(compiled):
        a = torch.tensor(5.0, requires_grad=True)
        b = torch.tensor(3.0, requires_grad=True)
        c = torch.tensor(2.0, requires_grad=True)

        def step():
            v = b * c
            u = a + v
            J = 3 * u
            trace = trace_backward(J)
            text = str(trace)
            with torch.no_grad():
                for p in (a, b, c):
                    p -= 0.1 * p.grad
                    p.grad = None
            return text, J.item()

        run = maybe(step, compiled)
        return [run() for _ in range(3)], [arr(p) for p in (a, b, c)]

    both_ways(workflow)


# ----------------------------------------------------------------------------- the Runner, learner changes
def moons_data(n=80, seed=0):
    from chainrule.examples._data import moons

    torch.manual_seed(seed)
    return moons(n)


def mlp(activation=nn.ReLU, width=8):
    return nn.Sequential(nn.Linear(2, width), activation(), nn.Linear(width, width), activation(), nn.Linear(width, 1))


@pytest.mark.parametrize("dead_mid_training", [False, True])
def test_runner_monitors_dead_relu_mid_training_checkpoint_and_progress(tmp_path, dead_mid_training):
    """Monitors, StepLR between fits, eval_steps, a short last batch, best checkpoint loaded back.
    With dead_relu_fractions called from custom_print_log (its forward hooks registered and removed
    every step) the step's hooks are the same again at each call: it replays, without a warning."""

    def workflow(compiled):
        train, dev, test = moons_data()
        torch.manual_seed(3)
        model = mlp()
        monitor = GradientNormMonitor(model)
        symmetry = SymmetryMonitor(model)
        optimizer = optim.SGD(model.parameters(), lr=0.3)
        scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
        runner = Runner(model, optimizer, nn.BCEWithLogitsLoss(), Accuracy(), monitors=[monitor, symmetry, NonFiniteWatch(model)], compile=compiled)
        dead, grads, lrs = [], [], []

        def log(r):
            grads.append(grads_of(r.model))
            if dead_mid_training:
                dead.append(dead_relu_fractions(r.model, train[0]))  # evaluation mid-training
            lrs.append(optimizer.param_groups[0]["lr"])

        loader = DataLoader(TensorDataset(*train), batch_size=15, shuffle=True)  # 51 samples: last batch 6
        path = tmp_path / f"best_{compiled}.pt"
        for _ in range(2):
            runner.train(loader, dev, num_epochs=2, log_steps=2, eval_steps=3, save_path=str(path), custom_print_log=log)
            scheduler.step()
        saved = {k: arr(v) for k, v in torch.load(str(path)).items()}
        score, loss = runner.evaluate(test)
        dead.append(dead_relu_fractions(model, train[0]))
        return runner_record(runner), monitor.norms, monitor.steps, symmetry.flagged, dead, grads, lrs, saved, score, loss

    assert both_ways(workflow) == []


@pytest.mark.parametrize("activation", [nn.Sigmoid, nn.Tanh, nn.ReLU, functools.partial(nn.LeakyReLU, 0.1)])
def test_runner_learner_changes_lr_activation_more_epochs(activation):
    """A learner's second run: another learning rate on the same model, then more epochs."""

    def workflow(compiled):
        train, dev, _ = moons_data()
        torch.manual_seed(5)
        model = mlp(activation)
        records = []
        for lr, epochs in ((0.5, 2), (0.1, 3)):
            runner = Runner(model, optim.SGD(model.parameters(), lr=lr), nn.BCEWithLogitsLoss(), Accuracy(), compile=compiled)
            runner.train(train, dev, num_epochs=epochs, log_steps=1)
            runner.train(train, None, num_epochs=1, log_steps=0)  # more epochs, same runner
            records.append(runner_record(runner))
            records.append(runner.predict(dev[0]).numpy().copy())
        return records

    assert both_ways(workflow) == []


def test_runner_zero_init_symmetry_and_early_stop_by_exception():
    """Zero initialization (seed 002): the symmetry monitor; early stopping raised from custom_print_log."""

    class Stop(Exception):
        pass

    def workflow(compiled):
        train, dev, _ = moons_data()
        model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1))
        for p in model.parameters():
            nn.init.zeros_(p)
        symmetry = SymmetryMonitor(model)
        runner = Runner(model, optim.SGD(model.parameters(), lr=2.0), nn.BCEWithLogitsLoss(), Accuracy(), monitors=[symmetry], compile=compiled)

        def early_stop(r):
            if r.global_step == 5:
                raise Stop

        with pytest.raises(Stop):
            runner.train(train, dev, num_epochs=10, log_steps=1, custom_print_log=early_stop)
        runner.optimizer.zero_grad()
        runner.train(train, dev, num_epochs=2, log_steps=1)
        return runner_record(runner), symmetry.flagged

    assert both_ways(workflow) == []


def test_a_runner_subclass_replays_as_the_runner_does():
    """A learner's own ``class MyRunner(Runner): pass``: the runner's history lists (which change
    every step) are the library's, not values the step reads, so it replays without recording anew."""

    class MyRunner(Runner):
        pass

    def workflow(compiled):
        train, dev, _ = moons_data()
        torch.manual_seed(5)
        model = mlp()
        runner = MyRunner(model, optim.SGD(model.parameters(), lr=0.5), nn.BCEWithLogitsLoss(), Accuracy(), compile=compiled)
        runner.train(train, dev, num_epochs=10, log_steps=0)
        return runner_record(runner)

    assert both_ways(workflow) == []
