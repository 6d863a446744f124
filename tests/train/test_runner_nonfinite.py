"""The Runner's guard: a NaN or infinite loss or gradient stops (or skips, or warns), and a diverged
model never becomes the best checkpoint."""
import math

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.train import Accuracy, Runner
from chainrule.utils.data import DataLoader, TensorDataset


def classification(count=60, seed=0):
    chainrule.manual_seed(seed)
    X = chainrule.randn(count, 2)
    y = (X[:, 0] > 0).long()
    return X, y


def setup(lr=0.1, on_nonfinite="stop"):
    chainrule.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = optim.SGD(model.parameters(), lr=lr)
    return model, optimizer, Runner(model, optimizer, nn.CrossEntropyLoss(), Accuracy(), on_nonfinite=on_nonfinite)


def poisoned_loader(bad_batch):
    X, y = classification()
    X = X.clone()
    X[bad_batch * 10] = math.nan
    return DataLoader(TensorDataset(X, y), batch_size=10)


def test_a_nan_batch_stops_training_naming_epoch_step_and_parameter():
    model, _, runner = setup()
    before = {key: value._array.copy() for key, value in model.state_dict().items()}
    with pytest.raises(RuntimeError, match=r"at epoch 1, step 3, the loss is nan\. Training stopped before this step changed the model"):
        runner.train(poisoned_loader(bad_batch=2), num_epochs=2, log_steps=0)
    assert runner.global_step == 3
    for key, value in model.state_dict().items():
        assert np.isfinite(value._array).all(), key
    assert any(not np.array_equal(model.state_dict()[key]._array, before[key]) for key in before), "steps 1-2 were taken"


def test_a_non_finite_gradient_names_the_first_parameter():
    model, _, runner = setup()
    model[2].bias.register_hook(lambda grad: grad * math.inf)
    X, y = classification()
    with pytest.raises(RuntimeError, match=r"at epoch 1, step 1, the gradient of parameter '2.bias' holds an infinity"):
        runner.train((X, y), log_steps=0)


def test_skip_leaves_the_model_unchanged_on_bad_steps_and_goes_on():
    model, _, runner = setup(on_nonfinite="skip")
    with pytest.warns(RuntimeWarning, match="the loss is nan; the step was skipped"):
        runner.train(poisoned_loader(bad_batch=2), num_epochs=2, log_steps=0)
    assert runner.skipped_steps == [3, 9] and runner.global_step == 12
    for key, value in model.state_dict().items():
        assert np.isfinite(value._array).all(), key


def test_warn_takes_the_step_and_says_so():
    model, _, runner = setup(on_nonfinite="warn")
    with pytest.warns(RuntimeWarning, match="the step was taken anyway"):
        runner.train(poisoned_loader(bad_batch=0), num_epochs=1, log_steps=0)
    assert not np.isfinite(model[0].weight._array).all()


def test_on_nonfinite_is_checked():
    with pytest.raises(ValueError, match="on_nonfinite must be one of 'stop', 'skip', 'warn', got 'ignore'"):
        setup(on_nonfinite="ignore")


def test_a_diverging_run_leaves_the_previous_best_checkpoint_untouched(tmp_path):
    X, y = classification()
    dev = classification(seed=1)
    model, optimizer, runner = setup(on_nonfinite="warn")
    best = tmp_path / "best.pt"
    runner.train((X, y), dev_data=dev, num_epochs=5, log_steps=0, save_path=best)
    saved, best_score = best.read_bytes(), runner.best_score
    assert math.isfinite(best_score)
    for group in optimizer.param_groups:
        group["lr"] = 1e38  # diverges to inf, then NaN
    with pytest.warns(RuntimeWarning):
        runner.train((X, y), dev_data=dev, num_epochs=5, log_steps=0, save_path=best)
    assert not np.isfinite(model[0].weight._array).all(), "the run did diverge"
    assert best.read_bytes() == saved and runner.best_score == best_score
    model.load_state_dict(chainrule.load(best))
    assert runner.evaluate(dev)[0] == best_score


def test_a_run_that_never_was_finite_saves_nothing_as_best(tmp_path):
    X, y = classification()
    model, _, runner = setup(on_nonfinite="warn")
    with chainrule.no_grad():
        model[0].weight.fill_(math.nan)
    with pytest.warns(RuntimeWarning):
        runner.train((X, y), dev_data=classification(seed=1), num_epochs=3, log_steps=0, save_path=tmp_path / "best.pt")
    assert runner.best_score is None and not (tmp_path / "best.pt").exists()
