"""Runner: the course's training driver, one class for full-batch and mini-batch training.

One training step is the loop every PyTorch course writes by hand::

    outputs = model(inputs)             # forward
    loss = loss_fn(outputs, labels)     # loss
    loss.backward()                     # backward: fills every parameter's .grad
    optimizer.step()                    # update the parameters with their gradients
    optimizer.zero_grad()               # clear the gradients, or the next backward adds to them

The Runner runs it over the data for some epochs, evaluates on development data as it goes, keeps
the best model, and records the losses and scores for plotting (``chainrule.viz.plots.plot_losses``).
"""
import contextlib
import math
import sys
import warnings

from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import xp
from chainrule.compile import compile as compile_function
from chainrule.serialization import load, save
from chainrule.tensor import Tensor
from chainrule.train.data_parallel import (
    gather_across_processes,
    is_main_process,
    mean_across_processes,
    wait_for_every_process,
)


@contextlib.contextmanager
def evaluation(model):
    """Inside the block: ``model`` in eval mode and no graph recorded; the previous mode after.

    Evaluation needs no gradients (recording a graph would only cost memory), and layers such as
    dropout behave differently in eval mode. A model without ``train``/``eval`` (a plain function)
    only gets ``no_grad``.
    """
    was_training = getattr(model, "training", None)
    if was_training is not None:
        model.eval()
    try:
        with no_grad():
            yield model
    finally:
        if was_training is not None:
            model.train(was_training)


def batches_of(data):
    """The batches of ``data``: a ``DataLoader`` as it is, an ``(X, y)`` pair as one full batch."""
    if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], Tensor):
        return [tuple(data)]
    if not hasattr(data, "__iter__"):
        raise TypeError(
            f"Runner expects an (X, y) pair of tensors or a DataLoader, got {type(data).__name__}"
        )
    return data


class Runner:
    """Trains, evaluates and saves a model.

    Args:
        model: a ``nn.Module`` (anything callable with ``parameters``, ``train``, ``eval`` and
            ``state_dict`` works).
        optimizer: an optimizer over the model's parameters, e.g. ``optim.SGD(model.parameters(), lr=0.1)``.
        loss_fn: ``loss_fn(outputs, labels)`` -> a scalar tensor, e.g. ``nn.CrossEntropyLoss()``.
        metric: a metric from ``chainrule.train.metrics`` (``Accuracy()``...) for the dev score;
            without one, the best model is the one with the lowest dev loss.
        monitors: objects with ``after_backward(step, loss)``, called after every backward pass and
            before the optimizer step (``GradientNormMonitor``, ``NonFiniteWatch``... from
            ``chainrule.train.monitors``).
        on_nonfinite: what a step does when its loss or a gradient is NaN or infinite (checked after
            the monitors, before the optimizer step; PyTorch has no such guard):
            ``"stop"`` (default) raises RuntimeError naming the epoch, the step and the loss or the
            first parameter that went non-finite, before that step changes the model;
            ``"skip"`` warns and skips the step (the gradients are cleared, the model unchanged;
            the steps are listed in ``skipped_steps``); ``"warn"`` warns and takes the step anyway.
            Whatever the choice, an evaluation whose dev loss or score is not finite never counts
            as an improvement, so a diverged model never overwrites the best checkpoint.
        compile: replay forward, loss and backward as the program ``chainrule.compile`` records on
            the first step (same results, less time on small models).

    Histories (losses are Python floats, never tensors: a sum of loss tensors would keep every
    step's graph alive). Steps are counted from 1: step ``s`` is the ``s``-th optimizer step.

    - ``train_step_losses``: ``[(step, loss)]``, one per training step,
    - ``train_epoch_losses``: ``[loss]``, the mean step loss of each epoch,
    - ``dev_scores``: ``[score]``, one per evaluation (when there is a metric),
    - ``dev_losses``: ``[(step, loss)]``, one per evaluation,
    - ``best_score``: the best dev score so far (``None`` before the first finite evaluation),
    - ``skipped_steps``: the steps skipped under ``on_nonfinite="skip"``.
    """

    # What the compiled forward-and-backward (_forward_backward) reads of the runner: a compiled call
    # looks no further into it (a monitor's own history growing each step is no reason to record anew)
    read_by_compiled_steps = ("model", "loss_fn")

    def __init__(self, model, optimizer, loss_fn, metric=None, monitors=(), on_nonfinite="stop", compile=False):  # noqa: A002
        if on_nonfinite not in _NONFINITE_CHOICES:
            raise ValueError(
                f"Runner: on_nonfinite must be one of {', '.join(map(repr, _NONFINITE_CHOICES))}, got {on_nonfinite!r}"
            )
        self.on_nonfinite = on_nonfinite
        self.skipped_steps = []
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.metric = metric
        self.monitors = list(monitors)
        self.train_step_losses = []
        self.train_epoch_losses = []
        self.dev_scores = []
        self.dev_losses = []
        self.best_score = None
        self._best_dev_loss = None
        self.global_step = 0
        self.epoch = 0
        # compile=True: forward, loss and backward are recorded once and replayed (chainrule.compile)
        self._forward_backward_step = compile_function(self._forward_backward) if compile else self._forward_backward

    def train(
        self,
        train_data,
        dev_data=None,
        num_epochs=1,
        log_steps=100,
        eval_steps=None,
        save_path=None,
        custom_print_log=None,
    ):
        """Train for ``num_epochs`` passes over ``train_data``.

        Args:
            train_data, dev_data: a ``DataLoader`` (mini-batches) or an ``(X, y)`` pair of tensors
                (the full batch: one step per epoch).
            log_steps: show progress every ``log_steps`` steps; 0 is silent. On a terminal with
                tqdm installed (``pip install 'chainrule[progress]'``) a progress bar, otherwise
                plain lines.
            eval_steps: ``None`` evaluates on ``dev_data`` at the end of every epoch; ``k``
                evaluates every ``k`` steps and after the last step.
            save_path: where the model is saved (``chainrule.save(model.state_dict(), path)``)
                each time the dev score improves (or stays equal with a lower dev loss); without
                ``dev_data``, where the final model is saved.
            custom_print_log: ``custom_print_log(runner)`` is called after each backward pass,
                before the optimizer step, e.g. to print or record gradients.
        """
        batches = batches_of(train_data)
        try:
            steps_per_epoch = len(batches)
        except TypeError:
            raise TypeError(
                f"Runner.train needs training data with a length (a DataLoader over a map-style "
                f"Dataset, or an (X, y) pair); {type(batches).__name__} has none"
            ) from None
        if eval_steps is not None and eval_steps < 1:
            raise ValueError(f"Runner.train: eval_steps must be None or at least 1, got {eval_steps}")
        if eval_steps is not None and dev_data is None:
            raise ValueError(f"Runner.train: eval_steps={eval_steps} asks for evaluations, but dev_data is None")
        total_steps = num_epochs * steps_per_epoch
        # Under DistributedDataParallel only rank 0 reports; losses and scores are the whole job's.
        progress = TrainingProgress(total_steps, num_epochs, log_steps if is_main_process() else 0, self._score_name())
        self.model.train()
        step = 0
        try:
            for epoch in range(1, num_epochs + 1):
                self.epoch = epoch
                epoch_losses = []
                for batch_index, (inputs, labels) in enumerate(batches, start=1):
                    step += 1
                    loss = self._train_step(inputs, labels, custom_print_log)
                    epoch_losses.append(loss)
                    progress.step(epoch, step, loss)
                    if eval_steps is None:
                        due = batch_index == steps_per_epoch
                    else:
                        due = step % eval_steps == 0 or step == total_steps
                    if dev_data is not None and due:
                        self._evaluate_and_keep_best(dev_data, save_path, progress, step)
                self.train_epoch_losses.append(sum(epoch_losses) / max(len(epoch_losses), 1))
        finally:
            progress.close()
        if save_path is not None and dev_data is None:
            self.save_model(save_path)
        progress.done(self.global_step, self.best_score)

    def _train_step(self, inputs, labels, custom_print_log):
        """Forward, loss, backward, monitors, ``custom_print_log``, step, zero_grad; the loss."""
        self.global_step += 1
        loss_value = mean_across_processes(self._forward_backward_step(inputs, labels).item())
        self.train_step_losses.append((self.global_step, loss_value))
        for monitor in self.monitors:
            monitor.after_backward(self.global_step, loss_value)
        if custom_print_log is not None:
            custom_print_log(self)
        problem = self._first_nonfinite(loss_value)
        if problem is not None:
            where = f"Runner: at epoch {self.epoch}, step {self.global_step}, {problem}"
            if self.on_nonfinite == "stop":
                self.optimizer.zero_grad()
                raise RuntimeError(
                    f"{where}. Training stopped before this step changed the model (a saved best "
                    f"checkpoint is untouched). Lower the learning rate, clip the gradients "
                    f"(nn.utils.clip_grad_norm_), check this batch for NaN or huge values, or pass "
                    f"Runner(..., on_nonfinite='skip') to skip such steps."
                )
            if self.on_nonfinite == "skip":
                warnings.warn(f"{where}; the step was skipped (on_nonfinite='skip')", RuntimeWarning, stacklevel=3)
                self.skipped_steps.append(self.global_step)
                self.optimizer.zero_grad()
                return loss_value
            warnings.warn(f"{where}; the step was taken anyway (on_nonfinite='warn')", RuntimeWarning, stacklevel=3)
        self.optimizer.step()
        self.optimizer.zero_grad()
        return loss_value

    def _first_nonfinite(self, loss_value):
        """What went non-finite first, the loss or a parameter's gradient (in model order); None if nothing."""
        if not math.isfinite(loss_value):
            return f"the loss is {loss_value}"
        named = getattr(self.model, "named_parameters", None)
        if named is not None:
            pairs = named()
        else:
            pairs = (
                (f"param_groups[{group_index}]['params'][{index}]", parameter)
                for group_index, group in enumerate(self.optimizer.param_groups)
                for index, parameter in enumerate(group["params"])
            )
        for name, parameter in pairs:
            grad = parameter.grad
            if grad is not None and not bool(xp.isfinite(grad._array).all()):
                kind = "NaN" if bool(xp.isnan(grad._array).any()) else "an infinity"
                return f"the gradient of parameter '{name}' holds {kind} (the loss was {loss_value:.6g})"
        return None

    def _forward_backward(self, inputs, labels):
        """Forward, loss and backward, the part of a step ``compile=True`` records; the loss tensor."""
        loss = self.loss_fn(self.model(inputs), labels)
        loss.backward()
        return loss

    def _evaluate_and_keep_best(self, dev_data, save_path, progress, step):
        score, loss = self.evaluate(dev_data)
        self.dev_losses.append((self.global_step, loss))
        if self.metric is not None:
            self.dev_scores.append(score)
        improved = self._improves(score, loss)
        if improved:
            self.best_score = score
            self._best_dev_loss = loss
            if save_path is not None:
                self.save_model(save_path)
        progress.evaluated(step, score, loss, improved, save_path)

    def _improves(self, score, loss):
        """A higher dev score, or the same score with a lower dev loss (the loss alone without a metric).

        An evaluation with a non-finite loss or score never improves: a diverged model is never "best".
        """
        if not math.isfinite(loss) or (self.metric is not None and not math.isfinite(score)):
            return False
        if self._best_dev_loss is None:
            return True
        if self.metric is not None and score != self.best_score:
            return score > self.best_score
        return loss < self._best_dev_loss

    def evaluate(self, data):
        """``(score, loss)`` on ``data`` (a DataLoader or an ``(X, y)`` pair), in eval mode, no graph.

        ``loss`` is the mean over samples (each batch's loss weighted by its size); ``score`` the
        metric over all batches, ``None`` without a metric.
        """
        if self.metric is not None:
            self.metric.reset()
        total_loss = 0.0
        total_count = 0
        with evaluation(self.model):
            for inputs, labels in batches_of(data):
                outputs, labels = gather_across_processes(self.model(inputs), labels)
                count = len(labels)
                total_loss += self.loss_fn(outputs, labels).item() * count
                total_count += count
                if self.metric is not None:
                    self.metric.update(outputs, labels)
        if total_count == 0:
            raise ValueError("Runner.evaluate: the data has no samples")
        score = self.metric.accumulate() if self.metric is not None else None
        return score, total_loss / total_count

    def predict(self, inputs):
        """The model's outputs for ``inputs``, in eval mode and without recording a graph."""
        with evaluation(self.model):
            return self.model(inputs)

    def save_model(self, path):
        """Save the model's parameters: ``chainrule.save(model.state_dict(), path)`` (by rank 0 alone)."""
        if is_main_process():
            save(self.model.state_dict(), path)
        wait_for_every_process()

    def load_model(self, path):
        """Load parameters saved by ``save_model`` into the model."""
        self.model.load_state_dict(load(path))

    def _score_name(self):
        return self.metric.name() if self.metric is not None else "score"


_NONFINITE_CHOICES = ("stop", "skip", "warn")


class TrainingProgress:
    """What the Runner shows while it trains, every ``log_steps`` steps (nothing when 0).

    On a terminal, with tqdm installed, one progress bar over all steps, with the epoch, loss and
    dev score beside it; otherwise (no tqdm, output to a file or a notebook) plain lines.
    """

    def __init__(self, total_steps, num_epochs, log_steps, score_name, stream=None):
        self.total_steps = total_steps
        self.num_epochs = num_epochs
        self.log_steps = log_steps
        self.score_name = score_name
        self.stream = stream if stream is not None else sys.stdout
        self.bar = None
        self.details = {}
        if log_steps and _is_terminal(self.stream):
            self.bar = _progress_bar(total_steps, self.stream)

    def step(self, epoch, step, loss):
        if not self.log_steps:
            return
        due = step % self.log_steps == 0 or step == self.total_steps
        if self.bar is not None:
            self.bar.update(1)
            if due:
                self.details.update(epoch=f"{epoch}/{self.num_epochs}", loss=f"{loss:.4f}")
                self.bar.set_postfix(self.details)
        elif due:
            self._line(f"[Train] epoch {epoch}/{self.num_epochs}, step {step}/{self.total_steps}, loss {loss:.5f}")

    def evaluated(self, step, score, loss, improved, save_path):
        if not self.log_steps:
            return
        if self.bar is not None:
            if score is not None:
                self.details[f"dev {self.score_name}"] = f"{score:.4f}"
            self.details["dev loss"] = f"{loss:.4f}"
            self.bar.set_postfix(self.details)
            return
        shown = f"dev {self.score_name} {score:.5f}, " if score is not None else ""
        note = ""
        if improved:
            note = f" (best so far, saved to {save_path})" if save_path is not None else " (best so far)"
        self._line(f"[Evaluate] step {step}: {shown}dev loss {loss:.5f}{note}")

    def done(self, steps, best_score):
        if self.log_steps and best_score is not None:
            self._line(f"[Train] done after {steps} steps; best dev {self.score_name} {best_score:.5f}")

    def close(self):
        if self.bar is not None:
            self.bar.close()

    def _line(self, text):
        print(text, file=self.stream, flush=True)


def _is_terminal(stream):
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _progress_bar(total_steps, stream):
    """A tqdm bar, or None when tqdm is not installed (the Runner then prints plain lines)."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total_steps, desc="train", unit="step", file=stream, dynamic_ncols=True)
