"""Runner(compile=True) against Runner(compile=False), from the same seed, bit for bit.

Each case builds the same tiny model, optimizer and data twice, trains once eagerly and once
compiled, and compares every history the Runner keeps, the final parameters and buffers, the
optimizer's state, the random stream and (where saved) the checkpoints. The compiled run may fall
back to eager execution with at most one warning; anything else that differs is a bug.
"""
import math
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from chainrule.random import get_rng_state
from chainrule.train import Accuracy, F1, GradientNormMonitor, Runner
from chainrule.utils.data import DataLoader, TensorDataset


# ----------------------------------------------------------------------------- harness
def data(n=11, features=3, classes=3, seed=123):
    generator = np.random.default_rng(seed)
    inputs = chainrule.tensor(generator.normal(size=(n, features)))
    labels = chainrule.tensor(generator.integers(0, classes, size=n))
    return inputs, labels


def mlp(dropout=0.0, batch_norm=False):
    layers = [nn.Linear(3, 6)]
    if batch_norm:
        layers.append(nn.BatchNorm1d(6))
    layers.append(nn.Tanh())
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(6, 3))
    return nn.Sequential(*layers).double()


def loader(inputs, labels, batch_size=4, shuffle=True):
    return DataLoader(TensorDataset(inputs, labels), batch_size=batch_size, shuffle=shuffle, drop_last=False)


def arrays(value):
    """A nested structure with every tensor / ndarray made a plain ndarray copy (for comparison)."""
    if isinstance(value, tuple) and len(value) == 2 and value[0] in ("tensor", "array") and isinstance(value[1], np.ndarray):
        return value  # already copied
    if isinstance(value, chainrule.Tensor):
        return ("tensor", np.array(value._array, copy=True))
    if isinstance(value, np.ndarray):
        return ("array", value.copy())
    if isinstance(value, dict):
        return {key: arrays(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(arrays(item) for item in value)
    return value


def same(first, second, where="root"):
    if isinstance(first, tuple) and len(first) == 2 and first[0] in ("tensor", "array"):
        assert isinstance(second, tuple) and second[0] == first[0], where
        assert first[1].dtype == second[1].dtype and np.array_equal(first[1], second[1], equal_nan=True), where
        return
    if isinstance(first, dict):
        assert isinstance(second, dict) and first.keys() == second.keys(), where
        for key in first:
            same(first[key], second[key], f"{where}.{key}")
        return
    if isinstance(first, (list, tuple)):
        assert type(first) is type(second) and len(first) == len(second), where
        for index, (a, b) in enumerate(zip(first, second)):
            same(a, b, f"{where}[{index}]")
        return
    if isinstance(first, float) and isinstance(second, float) and math.isnan(first) and math.isnan(second):
        return
    assert first == second, f"{where}: {first!r} != {second!r}"


def runner_state(runner, extra=None):
    return arrays(
        {
            "train_step_losses": runner.train_step_losses,
            "train_epoch_losses": runner.train_epoch_losses,
            "dev_scores": runner.dev_scores,
            "dev_losses": runner.dev_losses,
            "best_score": runner.best_score,
            "skipped_steps": runner.skipped_steps,
            "global_step": runner.global_step,
            "epoch": runner.epoch,
            "model": runner.model.state_dict(),
            "grads": [None if p.grad is None else p.grad for p in runner.model.parameters()],
            "optimizer": runner.optimizer.state_dict(),
            "rng": get_rng_state(),
            "extra": extra,
        }
    )


def both(scenario):
    """``scenario(compiled)`` -> (runner, extra) run eagerly then compiled; the two states, and the
    compiled run's warnings (at most one allowed)."""
    results, caught_per_run = [], []
    for compiled in (False, True):
        chainrule.manual_seed(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            runner, extra = scenario(compiled)
        results.append(runner_state(runner, extra))
        if compiled:  # the compiled run really replays a recording (or says why it does not)
            step = runner._forward_backward_step
            assert step.recordings or step.eager_reason, "the compiled step recorded nothing"

        caught_per_run.append([str(w.message) for w in caught])
    return results, caught_per_run


def assert_same(scenario):
    (eager, compiled), (eager_warnings, compiled_warnings) = both(scenario)
    extra_warnings = [w for w in compiled_warnings if w not in eager_warnings]
    assert len(extra_warnings) <= 1, extra_warnings
    same(eager, compiled)


# ----------------------------------------------------------------------------- cases
def test_metric_dev_loop_each_epoch_with_best_checkpoint_and_shuffled_short_batch(tmp_path):
    inputs, labels = data(11)
    dev_inputs, dev_labels = data(7, seed=5)

    def scenario(compiled):
        model = mlp(dropout=0.3, batch_norm=True)
        runner = Runner(model, optim.Adam(model.parameters(), lr=0.05), nn.CrossEntropyLoss(), metric=Accuracy(), compile=compiled)
        path = tmp_path / f"best-{compiled}.pt"
        runner.train(loader(inputs, labels), dev_data=loader(dev_inputs, dev_labels, 3, False), num_epochs=4, log_steps=0, save_path=str(path))
        return runner, {"checkpoint": chainrule.load(str(path)), "predict": runner.predict(dev_inputs), "evaluate": runner.evaluate((dev_inputs, dev_labels))}

    assert_same(scenario)


def test_eval_steps_and_f1_metric_and_gradient_norm_monitor():
    inputs, labels = data(10, classes=2)

    def scenario(compiled):
        model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double()
        monitor = GradientNormMonitor(model)
        runner = Runner(model, optim.SGD(model.parameters(), lr=0.3, momentum=0.9), nn.CrossEntropyLoss(), metric=F1(), monitors=[monitor], compile=compiled)
        runner.train(loader(inputs, labels, 3), dev_data=(inputs, labels), num_epochs=3, log_steps=0, eval_steps=2)
        return runner, {"norms": monitor.norms, "steps": monitor.steps}

    assert_same(scenario)


def test_gradient_clipping_in_custom_print_log_changes_the_gradients_before_the_step():
    """custom_print_log runs after backward and before step: clip_grad_norm_ / clip_grad_value_
    there change the gradients in place, as a course does for clipping."""
    inputs, labels = data(12)

    def scenario(compiled):
        model = mlp()
        runner = Runner(model, optim.SGD(model.parameters(), lr=0.5), nn.CrossEntropyLoss(), compile=compiled)
        norms = []

        def clip(r):
            norms.append(float(clip_grad_norm_(r.model.parameters(), 0.05)))
            clip_grad_value_(r.model.parameters(), 0.01)

        runner.train(loader(inputs, labels, 5), num_epochs=3, log_steps=0, custom_print_log=clip)
        return runner, {"norms": norms}

    assert_same(scenario)


def test_scheduler_stepped_per_batch_in_custom_print_log_and_per_epoch_between_fits():
    inputs, labels = data(9)

    def scenario(compiled):
        model = mlp(dropout=0.2)
        optimizer = optim.SGD(model.parameters(), lr=0.2)
        runner = Runner(model, optimizer, nn.CrossEntropyLoss(), compile=compiled)
        per_batch = optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 / (1 + step))
        lrs = []
        runner.train(loader(inputs, labels, 4), num_epochs=2, log_steps=0, custom_print_log=lambda r: lrs.append(optimizer.param_groups[0]["lr"]))
        # per-epoch: one fit per epoch, StepLR stepped between them (after the optimizer stepped)
        per_epoch = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
        for _ in range(3):
            runner.train(loader(inputs, labels, 4), num_epochs=1, log_steps=0)
            per_epoch.step()
            per_batch.step()
            lrs.append(optimizer.param_groups[0]["lr"])
        return runner, {"lrs": lrs, "sched": [per_batch.state_dict().get("last_epoch"), per_epoch.state_dict()]}

    assert_same(scenario)


def test_changing_the_learning_rate_and_momentum_between_two_fits():
    inputs, labels = data(8)

    def scenario(compiled):
        model = mlp()
        optimizer = optim.Adam(model.parameters(), lr=0.01)
        runner = Runner(model, optimizer, nn.CrossEntropyLoss(), compile=compiled)
        runner.train(loader(inputs, labels, 3), num_epochs=2, log_steps=0)
        for group in optimizer.param_groups:
            group["lr"] = 0.1
            group["betas"] = (0.5, 0.9)
        runner.train(loader(inputs, labels, 3), num_epochs=2, log_steps=0)
        return runner, None

    assert_same(scenario)


def test_mid_training_checkpoint_resumed_into_a_fresh_compiled_runner(tmp_path):
    """Train 2 epochs, save model + optimizer, then a fresh model/optimizer/Runner loads both and
    trains 2 more: the same as the eager run doing the same."""
    inputs, labels = data(10)

    def scenario(compiled):
        model = mlp(batch_norm=True)
        optimizer = optim.Adam(model.parameters(), lr=0.03)
        runner = Runner(model, optimizer, nn.CrossEntropyLoss(), compile=compiled)
        runner.train(loader(inputs, labels, 4), num_epochs=2, log_steps=0)
        path = tmp_path / f"mid-{compiled}.pt"
        chainrule.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, str(path))
        first = runner_state(runner)
        fresh = mlp(batch_norm=True)
        fresh_optimizer = optim.Adam(fresh.parameters(), lr=0.03)
        checkpoint = chainrule.load(str(path))
        fresh.load_state_dict(checkpoint["model"])
        fresh_optimizer.load_state_dict(checkpoint["optimizer"])
        resumed = Runner(fresh, fresh_optimizer, nn.CrossEntropyLoss(), compile=compiled)
        resumed.train(loader(inputs, labels, 4), num_epochs=2, log_steps=0)
        return resumed, {"first": first}

    assert_same(scenario)


def test_load_model_into_the_same_compiled_runner_then_keep_training(tmp_path):
    """Save the best checkpoint, train on, load_model the best back into the same Runner (whose
    compiled step is already recorded), then train again: the reloaded values must be used."""
    inputs, labels = data(10)

    def scenario(compiled):
        model = mlp()
        runner = Runner(model, optim.SGD(model.parameters(), lr=0.2), nn.CrossEntropyLoss(), metric=Accuracy(), compile=compiled)
        path = tmp_path / f"best-{compiled}.pt"
        runner.train(loader(inputs, labels, 4), dev_data=(inputs, labels), num_epochs=3, log_steps=0, save_path=str(path))
        runner.load_model(str(path))
        runner.train(loader(inputs, labels, 4), num_epochs=2, log_steps=0)
        return runner, {"eval": runner.evaluate((inputs, labels)), "predict": runner.predict(inputs)}

    assert_same(scenario)


def test_on_nonfinite_skip_with_a_batch_holding_nan():
    inputs, labels = data(8)
    inputs._array[5, 1] = np.nan  # the second batch of 4 holds NaN

    def scenario(compiled):
        model = mlp()
        runner = Runner(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), on_nonfinite="skip", compile=compiled)
        runner.train(loader(inputs, labels, 4, shuffle=False), num_epochs=2, log_steps=0)
        return runner, None

    assert_same(scenario)


def test_freezing_a_layer_between_fits():
    """requires_grad_(False) on the first layer between two fits: the compiled step must stop
    giving it gradients (and SGD must stop moving it)."""
    inputs, labels = data(8)

    def scenario(compiled):
        model = mlp()
        runner = Runner(model, optim.SGD(model.parameters(), lr=0.2, weight_decay=0.01), nn.CrossEntropyLoss(), compile=compiled)
        runner.train(loader(inputs, labels, 4), num_epochs=1, log_steps=0)
        for parameter in model[0].parameters():
            parameter.requires_grad_(False)
        runner.train(loader(inputs, labels, 4), num_epochs=2, log_steps=0)
        return runner, None

    assert_same(scenario)


def test_changing_a_module_attribute_between_fits():
    """A Python attribute a layer reads in forward (Dropout.p, the loss's label_smoothing)
    changed between fits: the compiled step must use the new value (or record anew)."""
    inputs, labels = data(8)

    def scenario(compiled):
        model = mlp(dropout=0.1)
        loss_fn = nn.CrossEntropyLoss()
        runner = Runner(model, optim.SGD(model.parameters(), lr=0.2), loss_fn, compile=compiled)
        runner.train(loader(inputs, labels, 4), num_epochs=1, log_steps=0)
        model[2].p = 0.6
        loss_fn.label_smoothing = 0.2
        runner.train(loader(inputs, labels, 4), num_epochs=1, log_steps=0)
        return runner, None

    assert_same(scenario)


def test_full_batch_mse_with_progress_on_and_predict_after(capsys):
    inputs, _ = data(6)
    targets = chainrule.tensor(np.linspace(-1, 1, 18).reshape(6, 3))

    def scenario(compiled):
        model = nn.Sequential(nn.Linear(3, 5), nn.Sigmoid(), nn.Linear(5, 3)).double()
        runner = Runner(model, optim.RMSprop(model.parameters(), lr=0.01), nn.MSELoss(), compile=compiled)
        runner.train((inputs, targets), dev_data=(inputs, targets), num_epochs=5, log_steps=2)
        return runner, {"predict": runner.predict(inputs)}

    assert_same(scenario)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[: len(lines) // 2] == lines[len(lines) // 2:]


def test_class_weights_of_the_loss_changed_in_place_and_replaced_between_fits():
    """CrossEntropyLoss(weight=w): w edited in place, then replaced by a new tensor, between fits;
    the compiled step must read the current weights, not the recorded ones."""
    inputs, labels = data(8)

    def scenario(compiled):
        model = mlp()
        weight = chainrule.tensor(np.array([1.0, 2.0, 0.5]))
        loss_fn = nn.CrossEntropyLoss(weight=weight)
        runner = Runner(model, optim.SGD(model.parameters(), lr=0.2), loss_fn, compile=compiled)
        runner.train(loader(inputs, labels, 4), num_epochs=1, log_steps=0)
        weight._array[:] = [3.0, 0.1, 1.0]
        runner.train(loader(inputs, labels, 4), num_epochs=1, log_steps=0)
        loss_fn.weight = chainrule.tensor(np.array([0.2, 0.2, 5.0]))
        runner.train(loader(inputs, labels, 4), num_epochs=1, log_steps=0)
        return runner, None

    assert_same(scenario)


def test_replacing_the_head_and_the_optimizer_between_fits():
    """A new last layer and a new optimizer over the new parameters between two fits (fine-tuning):
    the compiled step must train the new layer, not the old one it recorded."""
    inputs, labels = data(8)

    def scenario(compiled):
        model = mlp()
        runner = Runner(model, optim.SGD(model.parameters(), lr=0.2), nn.CrossEntropyLoss(), compile=compiled)
        runner.train(loader(inputs, labels, 4), num_epochs=1, log_steps=0)
        model[2] = nn.Linear(6, 3).double()
        runner.optimizer = optim.Adam(model.parameters(), lr=0.05)
        runner.train(loader(inputs, labels, 4), num_epochs=2, log_steps=0)
        return runner, None

    assert_same(scenario)


def test_dtype_of_the_batches_changes_between_fits():
    inputs, labels = data(8)

    def scenario(compiled):
        model = mlp().float()
        runner = Runner(model, optim.SGD(model.parameters(), lr=0.2), nn.CrossEntropyLoss(), compile=compiled)
        runner.train(loader(inputs.float(), labels, 4), num_epochs=1, log_steps=0)
        model.double()
        runner.train(loader(inputs, labels, 4), num_epochs=1, log_steps=0)
        return runner, None

    assert_same(scenario)
