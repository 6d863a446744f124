"""The Runner step by step: the order of one step, the evaluation schedule, best-model saving,
histories, modes, progress display and errors, with a tiny model whose calls are counted."""
import io
import sys

import pytest

import chainrule
from chainrule import nn, optim
from chainrule.train import Accuracy, Runner
from chainrule.train.metrics import Metric
from chainrule.train.runner import TrainingProgress
from chainrule.utils.data import DataLoader, TensorDataset


class Recorder:
    """Wraps a model, a loss, an optimizer and a monitor so that each call adds an event."""

    def __init__(self):
        self.events = []
        self.model = nn.Linear(2, 1)
        self.model.register_forward_hook(lambda module, args, output: self.events.append("forward"))
        for parameter in self.model.parameters():
            parameter.register_hook(lambda grad: self.events.append("backward"))
        self.optimizer = optim.SGD(self.model.parameters(), lr=0.1)

    def loss_fn(self, outputs, labels):
        self.events.append("loss")
        return ((outputs - labels) ** 2).mean()

    def after_backward(self, step, loss):
        self.events.append(f"monitor {step}")

    def runner(self, metric=None):
        recorder = self

        class RecordingOptimizer:
            def step(self):
                recorder.events.append("step")
                recorder.optimizer.step()

            def zero_grad(self):
                recorder.events.append("zero_grad")
                recorder.optimizer.zero_grad()

        return Runner(self.model, RecordingOptimizer(), self.loss_fn, metric, monitors=[self])


def regression_data(count):
    X = chainrule.randn(count, 2)
    return X, X.sum(dim=1, keepdim=True)


def loader(count, batch_size):
    return DataLoader(TensorDataset(*regression_data(count)), batch_size=batch_size)


def test_one_step_is_forward_loss_backward_log_step_zero_grad():
    recorder = Recorder()
    runner = recorder.runner()
    runner.train(regression_data(4), num_epochs=2, log_steps=0, custom_print_log=lambda r: recorder.events.append(f"log {r.global_step}"))
    one_step = ["forward", "loss", "backward", "backward", "monitor {s}", "log {s}", "step", "zero_grad"]
    assert recorder.events == [event.format(s=s) for s in (1, 2) for event in one_step]


def test_full_batch_is_one_step_per_epoch_and_histories_hold_floats():
    recorder = Recorder()
    runner = recorder.runner()
    runner.train(regression_data(8), num_epochs=3, log_steps=0)
    assert [step for step, _ in runner.train_step_losses] == [1, 2, 3]
    assert all(type(loss) is float for _, loss in runner.train_step_losses)
    assert runner.train_epoch_losses == [loss for _, loss in runner.train_step_losses]
    assert runner.dev_losses == [] and runner.best_score is None


@pytest.mark.parametrize(
    "eval_steps, expected_steps",
    [(None, [3, 6]), (2, [2, 4, 6]), (4, [4, 6]), (3, [3, 6]), (10, [6])],
)
def test_evaluation_schedule(eval_steps, expected_steps):
    recorder = Recorder()
    runner = recorder.runner()
    # 10 samples in batches of 4: 3 steps per epoch, 6 in all
    runner.train(loader(10, 4), regression_data(5), num_epochs=2, log_steps=0, eval_steps=eval_steps)
    assert [step for step, _ in runner.dev_losses] == expected_steps
    assert len(runner.train_step_losses) == 6
    assert runner.train_epoch_losses == pytest.approx(
        [sum(loss for _, loss in runner.train_step_losses[start : start + 3]) / 3 for start in (0, 3)]
    )


class ScriptedMetric(Metric):
    """Returns the next score of a script at each evaluation."""

    def __init__(self, scores):
        self.scores = list(scores)

    def update(self, outputs, labels):
        pass

    def accumulate(self):
        return self.scores.pop(0)

    def reset(self):
        pass


def test_the_model_is_saved_when_the_dev_score_improves(tmp_path):
    recorder = Recorder()
    runner = recorder.runner(ScriptedMetric([0.5, 0.7, 0.6, 0.9, 0.9]))
    saved_at = []
    runner.save_model = lambda path: saved_at.append((runner.global_step, path))
    path = tmp_path / "best.pt"
    runner.train(regression_data(4), regression_data(4), num_epochs=5, log_steps=0, save_path=path)
    # the last 0.9 ties the best score: saved again only if its dev loss is lower
    tie_saved = runner.dev_losses[4][1] < runner.dev_losses[3][1]
    assert saved_at == [(1, path), (2, path), (4, path)] + ([(5, path)] if tie_saved else [])
    assert runner.dev_scores == [0.5, 0.7, 0.6, 0.9, 0.9]
    assert runner.best_score == 0.9


def test_without_a_metric_the_best_model_has_the_lowest_dev_loss():
    recorder = Recorder()
    runner = recorder.runner()
    saved_at = []
    runner.save_model = lambda path: saved_at.append(runner.global_step)
    runner.train(regression_data(16), regression_data(8), num_epochs=4, log_steps=0, save_path="unused")
    losses = [loss for _, loss in runner.dev_losses]
    expected = [step for step, loss in runner.dev_losses if loss == min(losses[:step])]
    assert saved_at == expected and runner.dev_scores == [] and runner.best_score is None


def test_save_and_load_model_round_trip_through_a_checkpoint(tmp_path):
    recorder = Recorder()
    runner = recorder.runner(Accuracy())
    path = tmp_path / "model.pt"
    runner.train(regression_data(4), num_epochs=2, log_steps=0, save_path=path)  # no dev data: final model
    saved = {name: parameter.detach().clone() for name, parameter in recorder.model.named_parameters()}
    with chainrule.no_grad():
        for parameter in recorder.model.parameters():
            parameter.fill_(0.0)
    runner.load_model(path)
    for name, parameter in recorder.model.named_parameters():
        assert parameter.tolist() == saved[name].tolist()


def test_evaluate_weights_batches_by_size_and_restores_the_mode():
    recorder = Recorder()
    runner = Runner(recorder.model, recorder.optimizer, nn.MSELoss())
    X, y = regression_data(10)
    _, full_batch_loss = runner.evaluate((X, y))
    _, mini_batch_loss = runner.evaluate(DataLoader(TensorDataset(X, y), batch_size=4))
    assert mini_batch_loss == pytest.approx(full_batch_loss, rel=1e-5)
    for mode in (True, False):
        recorder.model.train(mode)
        runner.evaluate((X, y))
        prediction = runner.predict(X)
        assert recorder.model.training is mode
        assert not prediction.requires_grad


def test_evaluate_reports_the_metric_over_all_batches():
    model = nn.Linear(2, 2)
    with chainrule.no_grad():
        model.weight.copy_(chainrule.eye(2))
        model.bias.zero_()
    X = chainrule.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    y = chainrule.tensor([0, 1, 1, 1, 0])  # the model predicts the larger input: 4 of 5 right
    runner = Runner(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), Accuracy())
    score, _ = runner.evaluate(DataLoader(TensorDataset(X, y), batch_size=2))
    assert score == pytest.approx(0.8)


def test_plain_progress_lines_every_log_steps(capsys):
    recorder = Recorder()
    runner = recorder.runner(ScriptedMetric([0.25, 0.75]))
    runner.train(loader(8, 2), regression_data(4), num_epochs=2, log_steps=3, eval_steps=4)
    lines = capsys.readouterr().out.splitlines()
    train_lines = [line for line in lines if line.startswith("[Train] epoch")]
    assert [line.split(",")[1].strip() for line in train_lines] == ["step 3/8", "step 6/8", "step 8/8"]
    assert train_lines[0].startswith("[Train] epoch 1/2") and train_lines[1].startswith("[Train] epoch 2/2")
    evaluations = [line for line in lines if line.startswith("[Evaluate]")]
    assert evaluations[0].startswith("[Evaluate] step 4: dev ScriptedMetric 0.25000") and "best so far" in evaluations[0]
    assert lines[-1] == "[Train] done after 8 steps; best dev ScriptedMetric 0.75000"


def test_log_steps_zero_is_silent(capsys):
    Recorder().runner().train(regression_data(4), regression_data(4), num_epochs=3, log_steps=0)
    assert capsys.readouterr().out == ""


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_terminal_gets_a_tqdm_bar_and_plain_lines_without_tqdm(monkeypatch):
    pytest.importorskip("tqdm")
    terminal = Terminal()
    progress = TrainingProgress(total_steps=4, num_epochs=2, log_steps=2, score_name="Accuracy", stream=terminal)
    for step in range(1, 5):
        progress.step((step + 1) // 2, step, 0.5)
    progress.evaluated(4, 0.75, 0.4, True, None)
    progress.close()
    shown = terminal.getvalue()
    assert "4/4" in shown and "loss=0.5000" in shown and "[Train]" not in shown

    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now fails
    terminal = Terminal()
    progress = TrainingProgress(total_steps=4, num_epochs=2, log_steps=2, score_name="Accuracy", stream=terminal)
    progress.step(1, 2, 0.5)
    assert terminal.getvalue() == "[Train] epoch 1/2, step 2/4, loss 0.50000\n"


def test_errors_say_what_to_do():
    runner = Recorder().runner()
    with pytest.raises(ValueError, match="eval_steps=5 asks for evaluations, but dev_data is None"):
        runner.train(regression_data(4), eval_steps=5, log_steps=0)
    with pytest.raises(ValueError, match="at least 1"):
        runner.train(regression_data(4), regression_data(4), eval_steps=0, log_steps=0)
    with pytest.raises(TypeError, match=r"an \(X, y\) pair of tensors or a DataLoader"):
        runner.train(42, log_steps=0)
    with pytest.raises(TypeError, match="needs training data with a length"):
        runner.train(iter([regression_data(4)]), log_steps=0)
