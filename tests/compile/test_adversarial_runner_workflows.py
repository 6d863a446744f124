"""The course's training workflows through chainrule.train, Runner(compile=True) against
Runner(compile=False): each workflow runs eagerly and compiled once,
from the same seeds; every history, parameter, gradient, optimizer/scheduler state, checkpoint,
monitor value, printed text, viz output and the random streams must be the same bits. A compiled
run may fall back to eager with at most one ``chainrule.compile`` warning."""
import contextlib
import io
import re
import warnings

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn, optim
from chainrule.datasets import load_iris, make_moons
from chainrule.random import get_rng_state
from chainrule.train import (
    F1,
    Accuracy,
    ConfusionMatrix,
    GradientNormMonitor,
    NonFiniteWatch,
    Precision,
    Recall,
    Runner,
    SymmetryMonitor,
    dead_relu_fractions,
    identical_rows,
    symmetric_weights,
)
from chainrule.utils.data import DataLoader, TensorDataset
from tests.compile.bitwise import assert_identical

F = nn.functional


# ----------------------------------------------------------------------------- harness
def arr(t):
    if t is None:
        return None
    if hasattr(t, "detach"):
        return np.array(t.detach().numpy(), copy=True)
    return np.array(t, copy=True)


def plain(value):
    """Tensors and arrays made ndarray copies, all the way down."""
    if isinstance(value, torch.Tensor) or isinstance(value, np.ndarray):
        return arr(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value)
    return value


def record(runner, extra=None):
    return plain(
        {
            "steps": list(runner.train_step_losses),
            "epochs": list(runner.train_epoch_losses),
            "scores": list(runner.dev_scores),
            "dev": list(runner.dev_losses),
            "best": runner.best_score,
            "skipped": list(runner.skipped_steps),
            "global_step": runner.global_step,
            "params": {name: arr(p) for name, p in runner.model.named_parameters()},
            "grads": {name: arr(p.grad) for name, p in runner.model.named_parameters()},
            "state": dict(runner.model.state_dict()),
            "optimizer": runner.optimizer.state_dict(),
            "extra": extra,
        }
    )


FALLBACKS = {}


def eager_then_compiled(workflow):
    """``workflow(compiled)`` eagerly, then compiled; the compiled run's fall-back warnings."""
    out = []
    for compiled in (False, True):
        buffer = io.StringIO()
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(buffer):
            warnings.simplefilter("always")
            torch.manual_seed(0)
            result = workflow(compiled)
            result = (plain(result), arr(get_rng_state()))
        text = re.sub(r"saved to \S+\)", "saved to PATH)", buffer.getvalue())
        messages = [str(w.message) for w in caught]
        out.append((result, text, messages))
    (first, text1, msgs1), (compiled_result, text3, msgs3) = out
    assert_identical(compiled_result, first, "compiled")
    assert text3 == text1, f"printed text differs:\n{text3}\n---\n{text1}"
    fallbacks = [m for m in msgs3 if "chainrule.compile" in m]
    assert [m for m in msgs1 if "chainrule.compile" in m] == []
    assert len(fallbacks) <= 1, fallbacks
    other = [m for m in msgs3 if "chainrule.compile" not in m]
    assert other == msgs1, (other, msgs1)
    return fallbacks


def iris_split():
    X, y = load_iris(normalize=True)
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(7))
    return (X[order[:110]], y[order[:110]]), (X[order[110:]], y[order[110:]])


def moons_split(n=90, noise=0.2, binary_float=True):
    X, y = make_moons(n_samples=n, noise=noise, generator=torch.Generator().manual_seed(11))
    if binary_float:
        y = y.float().reshape(-1, 1)
    return (X[: n * 2 // 3], y[: n * 2 // 3]), (X[n * 2 // 3 :], y[n * 2 // 3 :])


def seeded_loader(data, batch_size, seed=3, shuffle=True):
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(*data), batch_size=batch_size, shuffle=shuffle, generator=generator)


def iris_net(dropout=0.0, batch_norm=False):
    layers = [nn.Linear(4, 10)]
    if batch_norm:
        layers.append(nn.BatchNorm1d(10))
    layers.append(nn.ReLU())
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(10, 3))
    return nn.Sequential(*layers)


def moons_net(activation=nn.ReLU, width=8, depth=2):
    layers, size = [], 2
    for _ in range(depth):
        layers += [nn.Linear(size, width), activation()]
        size = width
    layers.append(nn.Linear(size, 1))
    return nn.Sequential(*layers)


# ----------------------------------------------------------------------------- Iris, every Runner option
def test_iris_seeded_shuffle_short_batch_eval_every_k_best_checkpoint_metrics_predict(tmp_path):
    def workflow(compiled):
        train, dev = iris_split()
        torch.manual_seed(1)
        model = iris_net(dropout=0.25, batch_norm=True)
        optimizer = optim.AdamW(model.parameters(), lr=0.03, weight_decay=0.05, amsgrad=True)
        scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=6)
        runner = Runner(model, optimizer, nn.CrossEntropyLoss(label_smoothing=0.1), F1(average="macro"), compile=compiled)
        path = tmp_path / f"best-{compiled}.pt"
        dev_loader = seeded_loader(dev, 16, shuffle=False)  # 40 samples: 16, 16, 8
        for _ in range(3):
            runner.train(seeded_loader(train, 32), dev_loader, num_epochs=1, log_steps=2, eval_steps=3, save_path=str(path))
            scheduler.step()
        checkpoint = torch.load(str(path))
        scores = {}
        for metric in (Precision(average="macro"), Recall(average="macro"), ConfusionMatrix(3), Accuracy()):
            runner.metric = metric
            scores[type(metric).__name__] = runner.evaluate(dev_loader)
        runner.load_model(str(path))
        return record(runner, {"checkpoint": dict(checkpoint), "scores": scores, "predict": runner.predict(dev[0]), "sched": scheduler.state_dict()})

    FALLBACKS["iris_every_option"] = eager_then_compiled(workflow)


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
        lambda ps: optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.5),
        lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
        lambda ps: optim.Adamax(ps, lr=0.02),
        lambda ps: optim.NAdam(ps, lr=0.02),
        lambda ps: optim.RAdam(ps, lr=0.02),
        lambda ps: optim.Rprop(ps, lr=0.01),
        lambda ps: optim.Adadelta(ps, lr=1.0),
    ],
    ids=["sgd-nesterov", "rmsprop", "adagrad", "adamax", "nadam", "radam", "rprop", "adadelta"],
)
def test_iris_optimizers_with_reduce_on_plateau_between_fits(make_optimizer):
    def workflow(compiled):
        train, dev = iris_split()
        torch.manual_seed(2)
        model = iris_net()
        optimizer = make_optimizer(model.parameters())
        plateau = optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
        runner = Runner(model, optimizer, nn.CrossEntropyLoss(), Accuracy(), compile=compiled)
        lrs = []
        for _ in range(3):
            runner.train(seeded_loader(train, 25), dev, num_epochs=1, log_steps=0)
            plateau.step(runner.dev_losses[-1][1])
            lrs.append(optimizer.param_groups[0]["lr"])
        return record(runner, {"lrs": lrs})

    assert eager_then_compiled(workflow) == []


# ----------------------------------------------------------------------------- custom losses
class CountingFocalLoss(nn.Module):
    """A focal loss with a Python counter (a side effect) and a gamma read from an attribute."""

    def __init__(self, gamma=2.0):
        super().__init__()
        self.gamma = gamma
        self.calls = 0
        self.batch_sizes = []

    def forward(self, outputs, labels):
        self.calls += 1
        self.batch_sizes.append(outputs.shape[0])
        log_p = F.log_softmax(outputs, dim=1).gather(1, labels.reshape(-1, 1)).reshape(-1)
        return (-(1 - log_p.exp()) ** self.gamma * log_p).mean()


def test_custom_loss_module_with_python_counter_and_gamma_changed_between_fits():
    def workflow(compiled):
        train, dev = iris_split()
        torch.manual_seed(3)
        model = iris_net(dropout=0.1)
        loss_fn = CountingFocalLoss()
        runner = Runner(model, optim.Adam(model.parameters(), lr=0.02), loss_fn, Accuracy(), compile=compiled)
        runner.train(seeded_loader(train, 32), dev, num_epochs=2, log_steps=0)
        loss_fn.gamma = 0.5
        runner.train(seeded_loader(train, 32), dev, num_epochs=2, log_steps=0)
        return record(runner, {"calls": loss_fn.calls, "sizes": loss_fn.batch_sizes})

    FALLBACKS["focal_gamma_changed"] = eager_then_compiled(workflow)


def test_custom_loss_function_with_data_dependent_python_branch():
    """A loss that reads a batch value into Python and branches on it (class-balance reweighting
    only when the batch is unbalanced): different shuffled batches take different branches."""

    def balanced_bce(outputs, labels):
        positives = int(labels.sum().item())
        if 2 * positives > labels.shape[0]:
            weight = torch.where(labels > 0.5, torch.tensor(0.5), torch.tensor(1.5))
            return F.binary_cross_entropy_with_logits(outputs, labels, weight=weight)
        return F.binary_cross_entropy_with_logits(outputs, labels) + 0.0 * positives

    def workflow(compiled):
        train, dev = moons_split()
        torch.manual_seed(4)
        model = moons_net()
        runner = Runner(model, optim.SGD(model.parameters(), lr=0.5), balanced_bce, Accuracy(), compile=compiled)
        runner.train(seeded_loader(train, 7), dev, num_epochs=3, log_steps=0)
        return record(runner)

    FALLBACKS["data_dependent_loss"] = eager_then_compiled(workflow)


def test_custom_loss_with_l2_penalty_over_the_runners_parameters_and_weight_changed_each_step():
    """The loss closes over the model (an L2 penalty of every weight) and over a dict whose
    coefficient custom_print_log changes every step (Python state the step reads)."""

    def workflow(compiled):
        train, dev = moons_split()
        torch.manual_seed(5)
        model = moons_net(nn.Tanh)
        settings = {"l2": 1e-3}

        def loss_fn(outputs, labels):
            penalty = sum((p * p).sum() for name, p in model.named_parameters() if name.endswith("weight"))
            return F.binary_cross_entropy_with_logits(outputs, labels) + settings["l2"] * penalty

        def anneal(r):
            settings["l2"] = settings["l2"] * 0.5

        runner = Runner(model, optim.Adam(model.parameters(), lr=0.05), loss_fn, compile=compiled)
        runner.train(seeded_loader(train, 20), dev, num_epochs=4, log_steps=0, custom_print_log=anneal)
        return record(runner, settings)

    FALLBACKS["l2_coefficient_each_step"] = eager_then_compiled(workflow)


def test_loss_printing_inside_the_step_and_forward_side_effects(capsys):
    """Python side effects inside the recorded step (print, list append) happen each step."""

    class Logged(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = moons_net(width=6, depth=1)
            self.seen = []

        def forward(self, x):
            self.seen.append(tuple(x.shape))
            return self.net(x)

    def loss_fn(outputs, labels):
        loss = F.binary_cross_entropy_with_logits(outputs, labels)
        print("batch loss", loss.item())
        return loss

    def workflow(compiled):
        train, dev = moons_split()
        torch.manual_seed(6)
        model = Logged()
        runner = Runner(model, optim.SGD(model.parameters(), lr=0.3), loss_fn, Accuracy(), compile=compiled)
        runner.train(seeded_loader(train, 8), dev, num_epochs=2, log_steps=3)
        return record(runner, {"seen": model.seen})

    FALLBACKS["print_in_loss"] = eager_then_compiled(workflow)


# ----------------------------------------------------------------------------- gradients left behind
def test_monitor_raising_after_backward_leaves_gradients_that_the_next_step_accumulates():
    class Interrupt(Exception):
        pass

    class FlakyMonitor:
        def __init__(self):
            self.seen = []

        def after_backward(self, step, loss):
            self.seen.append((step, loss))
            if step in (3, 4):
                raise Interrupt

    def workflow(compiled):
        train, dev = moons_split()
        torch.manual_seed(7)
        model = moons_net()
        monitor = FlakyMonitor()
        runner = Runner(model, optim.SGD(model.parameters(), lr=0.2, momentum=0.5), nn.BCEWithLogitsLoss(), Accuracy(), monitors=[monitor], compile=compiled)
        grads = []
        for _ in range(3):
            with contextlib.suppress(Interrupt):
                runner.train(seeded_loader(train, 10), dev, num_epochs=1, log_steps=0)
            grads.append({name: arr(p.grad) for name, p in model.named_parameters()})
        return record(runner, {"seen": monitor.seen, "grads": grads})

    FALLBACKS["monitor_raises"] = eager_then_compiled(workflow)


def test_user_monitor_with_its_own_history_list():
    """A learner's monitor keeping (step, loss) in a list: the step never reads it."""

    class LossHistory:
        def __init__(self):
            self.history = []

        def after_backward(self, step, loss):
            self.history.append((step, loss))

    def workflow(compiled):
        train, dev = moons_split()
        torch.manual_seed(17)
        model = moons_net()
        history = LossHistory()
        runner = Runner(model, optim.SGD(model.parameters(), lr=0.3), nn.BCEWithLogitsLoss(), Accuracy(), monitors=[history], compile=compiled)
        runner.train(seeded_loader(train, 6), dev, num_epochs=2, log_steps=0)
        return record(runner, {"history": history.history})

    FALLBACKS["user_monitor_history"] = eager_then_compiled(workflow)
    assert FALLBACKS["user_monitor_history"] == []  # the compiled forward and backward reads the runner's model and loss only


def test_parameter_outside_the_optimizer_accumulates_its_gradient_across_steps():
    """A temperature parameter that requires grad but is in no optimizer: Runner's zero_grad never
    clears it, so its .grad sums over every step; a second param group has its own lr."""

    class Tempered(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = iris_net()
            self.temperature = nn.Parameter(torch.tensor(1.5))

        def forward(self, x):
            return self.body(x) / self.temperature

    def workflow(compiled):
        train, dev = iris_split()
        torch.manual_seed(8)
        model = Tempered()
        groups = [{"params": model.body[0].parameters(), "lr": 0.05}, {"params": model.body[2].parameters()}]
        runner = Runner(model, optim.SGD(groups, lr=0.2), nn.CrossEntropyLoss(), Accuracy(), compile=compiled)
        temps = []
        runner.train(seeded_loader(train, 30), dev, num_epochs=2, log_steps=0, custom_print_log=lambda r: temps.append(arr(model.temperature.grad)))
        return record(runner, {"temps": temps})

    FALLBACKS["param_outside_optimizer"] = eager_then_compiled(workflow)


# ----------------------------------------------------------------------------- custom_print_log hooks
def test_custom_print_log_grad_norms_in_place_grad_scaling_noise_and_dead_relus():
    """Per-layer grad norms with chainrule ops, the first layer's gradient scaled in place, Gaussian
    gradient noise drawn from the global RNG (which dropout in the step also draws from), and
    dead_relu_fractions on the batch: all between compiled steps."""

    def workflow(compiled):
        train, dev = moons_split()
        torch.manual_seed(9)
        model = nn.Sequential(nn.Linear(2, 12), nn.ReLU(), nn.Dropout(0.3), nn.Linear(12, 12), nn.ReLU(), nn.Linear(12, 1))
        runner = Runner(model, optim.SGD(model.parameters(), lr=0.4), nn.BCEWithLogitsLoss(), Accuracy(), monitors=[NonFiniteWatch(model)], compile=compiled)
        log = []

        def hook(r):
            norms = {name: float(p.grad.norm()) for name, p in r.model.named_parameters()}
            with torch.no_grad():
                r.model[0].weight.grad.mul_(4.0)
                for p in r.model.parameters():
                    p.grad.add_(torch.randn_like(p.grad) * 0.01)
            log.append((norms, dead_relu_fractions(r.model, train[0])))

        runner.train(seeded_loader(train, 16), dev, num_epochs=3, log_steps=0, eval_steps=2, custom_print_log=hook)
        return record(runner, {"log": log})

    FALLBACKS["grad_hooks"] = eager_then_compiled(workflow)


def test_eval_every_step_flips_batchnorm_and_dropout_modes_and_metric_updated_in_hook():
    """eval_steps=1: every step is followed by an evaluation (eval mode, no_grad), and the hook
    runs its own forward in eval mode through a metric, before the compiled step runs again."""

    def workflow(compiled):
        train, dev = iris_split()
        torch.manual_seed(10)
        model = iris_net(dropout=0.4, batch_norm=True)
        runner = Runner(model, optim.Adam(model.parameters(), lr=0.02), nn.CrossEntropyLoss(), Accuracy(), compile=compiled)
        side = ConfusionMatrix(3)
        modes = []

        def hook(r):
            modes.append(r.model.training)
            with torch.no_grad():
                r.model.eval()
                side.update(r.model(dev[0]), dev[1])
                r.model.train()

        runner.train(seeded_loader(train, 24), dev, num_epochs=2, log_steps=0, eval_steps=1, custom_print_log=hook)
        return record(runner, {"confusion": side.accumulate(), "modes": modes})

    FALLBACKS["eval_every_step"] = eager_then_compiled(workflow)


# ----------------------------------------------------------------------------- checkpoints and resume
def test_checkpoint_with_optimizer_and_scheduler_saved_mid_fit_and_resumed_in_a_fresh_runner(tmp_path):
    def workflow(compiled):
        train, dev = moons_split()
        torch.manual_seed(11)
        model = moons_net(nn.LeakyReLU)
        optimizer = optim.Adam(model.parameters(), lr=0.05)
        scheduler = optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
        runner = Runner(model, optimizer, nn.BCEWithLogitsLoss(), Accuracy(), compile=compiled)
        path = tmp_path / f"mid-{compiled}.pt"

        def save_at_5(r):
            if r.global_step == 5:  # after backward, before step: the gradients are saved too
                torch.save({"model": r.model.state_dict(), "optimizer": r.optimizer.state_dict(), "scheduler": scheduler.state_dict(), "grads": [p.grad.clone() for p in r.model.parameters()]}, str(path))

        for _ in range(2):
            runner.train(seeded_loader(train, 20), dev, num_epochs=1, log_steps=0, custom_print_log=save_at_5)
            scheduler.step()
        first = record(runner)
        saved = torch.load(str(path))

        torch.manual_seed(12)
        model2 = moons_net(nn.LeakyReLU)
        model2.load_state_dict(saved["model"])
        optimizer2 = optim.Adam(model2.parameters(), lr=0.05)
        optimizer2.load_state_dict(saved["optimizer"])
        scheduler2 = optim.lr_scheduler.ExponentialLR(optimizer2, gamma=0.9)
        scheduler2.load_state_dict(saved["scheduler"])
        for p, g in zip(model2.parameters(), saved["grads"]):
            p.grad = g
        optimizer2.step()  # finish the interrupted step 5 by hand
        optimizer2.zero_grad()
        runner2 = Runner(model2, optimizer2, nn.BCEWithLogitsLoss(), Accuracy(), compile=compiled)
        runner2.train(seeded_loader(train, 20, seed=4), dev, num_epochs=2, log_steps=0)
        scheduler2.step()
        return first, record(runner2, {"saved": {k: v for k, v in saved.items() if k != "scheduler"}, "sched": scheduler2.state_dict()})

    FALLBACKS["resume"] = eager_then_compiled(workflow)


def test_early_stopping_with_patience_over_fits_keeps_the_best_model(tmp_path):
    def workflow(compiled):
        train, dev = moons_split(noise=0.35)
        torch.manual_seed(13)
        model = moons_net(width=16)
        runner = Runner(model, optim.Adam(model.parameters(), lr=0.1), nn.BCEWithLogitsLoss(), Accuracy(), compile=compiled)
        path = tmp_path / f"best-{compiled}.pt"
        best, waited, epochs = None, 0, 0
        while waited < 2 and epochs < 12:
            runner.train(seeded_loader(train, 12, seed=epochs), dev, num_epochs=1, log_steps=0, save_path=str(path))
            epochs += 1
            if best is None or runner.best_score > best:
                best, waited = runner.best_score, 0
            else:
                waited += 1
        runner.load_model(str(path))
        return record(runner, {"epochs": epochs, "evaluate": runner.evaluate(dev), "predict": runner.predict(dev[0])})

    assert eager_then_compiled(workflow) == []


# ----------------------------------------------------------------------------- vanishing gradients
def test_vanishing_gradients_deep_sigmoid_and_relu_runners_compiled_side_by_side():
    def workflow(compiled):
        train, dev = moons_split(n=60)
        results = {}
        runners = []
        for activation in (nn.Sigmoid, nn.ReLU):
            torch.manual_seed(14)
            model = moons_net(activation, width=16, depth=4)
            monitor = GradientNormMonitor(model)
            runners.append((Runner(model, optim.SGD(model.parameters(), lr=0.05), nn.BCEWithLogitsLoss(), Accuracy(), monitors=[monitor], compile=compiled), monitor))
        per_step = {0: [], 1: []}
        for epoch in range(3):  # the two compiled runners alternate, epoch by epoch
            for index, (runner, monitor) in enumerate(runners):
                def hook(r, index=index):
                    per_step[index].append([float(p.grad.norm()) for name, p in r.model.named_parameters() if name.endswith("weight")])
                runner.train(seeded_loader(train, 10, seed=epoch), dev, num_epochs=1, log_steps=0, custom_print_log=hook)
        for index, (runner, monitor) in enumerate(runners):
            norms = list(monitor.mean_norms().values())
            results[index] = record(runner, {"norms": monitor.norms, "steps": monitor.steps, "ratio": norms[0] / norms[-1], "per_step": per_step[index]})
        return results

    assert eager_then_compiled(workflow) == []


# ----------------------------------------------------------------------------- zero initialization symmetry
def test_constant_init_symmetry_broken_by_hand_mid_training():
    """Constant initialization keeps the hidden rows identical; at step 4 the hook nudges one row
    in place (under no_grad): the symmetry monitors must see exactly what eager sees."""

    def workflow(compiled):
        train, dev = moons_split()
        model = nn.Sequential(nn.Linear(2, 5), nn.Sigmoid(), nn.Linear(5, 5), nn.Tanh(), nn.Linear(5, 1))
        for p in model.parameters():
            nn.init.constant_(p, 0.1)
        symmetry = SymmetryMonitor(model)
        runner = Runner(model, optim.SGD(model.parameters(), lr=1.0), nn.BCEWithLogitsLoss(), Accuracy(), monitors=[symmetry], compile=compiled)
        seen = []

        def hook(r):
            seen.append((identical_rows(r.model[0].weight), identical_rows(r.model[2].weight.grad), symmetric_weights(r.model)))
            if r.global_step == 4:
                with torch.no_grad():
                    r.model[0].weight[1] += 0.3
                    r.model[2].weight.data[3, 0] = -0.2

        runner.train(seeded_loader(train, 15), dev, num_epochs=3, log_steps=0, custom_print_log=hook)
        return record(runner, {"flagged": symmetry.flagged, "seen": seen, "final": symmetric_weights(model)})

    FALLBACKS["symmetry_nudged"] = eager_then_compiled(workflow)


# ----------------------------------------------------------------------------- seeing backprop on a compiled-trained model
def test_viz_trace_delta_rule_and_gradient_check_on_a_model_a_compiled_step_trains(tmp_path):
    from chainrule.viz import check_gradients, explore_network, trace_backward
    from chainrule.viz.network import network_data

    def workflow(compiled):
        train, dev = moons_split(n=45)
        torch.manual_seed(15)
        model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1), nn.Sigmoid())
        runner = Runner(model, optim.SGD(model.parameters(), lr=0.8), nn.MSELoss(), Accuracy(is_logits=False), compile=compiled)
        shown = []

        def hook(r):  # the layer view (delta rule) and a traced backward on one example, each step
            data = network_data(r.model, train[0][0], train[1][0], lr=0.5)
            x, t = train[0][:2], train[1][:2]
            J = ((r.model(x) - t) ** 2).mean()
            trace = trace_backward(J, params=dict(r.model.named_parameters()), retain_graph=False)
            shown.append((data, str(trace)))

        runner.train(seeded_loader(train, 10), dev, num_epochs=2, log_steps=0, custom_print_log=hook)
        # the hook's traced backward added into the gradients the step left: the Runner saw the sum
        w = model[0].weight.detach().clone().requires_grad_(True)
        w.name = "W1"

        X, T = train[0].double(), train[1].double()
        b1, W2, b2 = (t.detach().double() for t in (model[0].bias, model[2].weight, model[2].bias))

        def fn(w):
            hidden = torch.sigmoid(X @ w.t() + b1)
            return ((torch.sigmoid(hidden @ W2.t() + b2) - T) ** 2).mean()

        def manual(w):
            h = torch.sigmoid(X @ w.t() + b1)
            y = torch.sigmoid(h @ W2.t() + b2)
            dy = 2 * (y - T) / y.numel() * y * (1 - y)
            dz = (dy @ W2) * h * (1 - h)
            return (dz.t() @ X).detach()

        check = check_gradients(fn, [w], manual)
        page = tmp_path / f"net-{compiled}.html"
        explore_network(model, train[0][3], train[1][3], str(page))
        rows = [(row.name, row.manual, row.autograd, row.numerical) for row in check.rows]
        return record(runner, {"shown": shown, "check": (check.ok, rows), "page": page.read_text().replace(str(page), "PATH")})

    FALLBACKS["viz"] = eager_then_compiled(workflow)


def test_full_batch_two_moons_mse_sigmoid_with_course_progress_and_evaluate_on_short_batches():
    def workflow(compiled):
        X, y = make_moons(n_samples=70, noise=0.1, generator=torch.Generator().manual_seed(2))
        y = y.float().reshape(-1, 1)
        torch.manual_seed(16)
        model = nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 1), nn.Sigmoid())
        runner = Runner(model, optim.SGD(model.parameters(), lr=1.0), nn.MSELoss(), Accuracy(is_logits=False), compile=compiled)
        runner.train((X[:50], y[:50]), (X[50:], y[50:]), num_epochs=15, log_steps=4, eval_steps=5)
        short = seeded_loader((X, y), 16, shuffle=False)  # 16, 16, 16, 16, 6
        return record(runner, {"evaluate": runner.evaluate(short), "predict": runner.predict(X)})

    assert eager_then_compiled(workflow) == []


def test_report_fallbacks():
    """Not a check: lists which workflows ran eagerly (pytest -s shows them)."""
    for name, messages in FALLBACKS.items():
        print(name, messages)
