"""Monitors: look inside a network while it trains, for the problems chapter 4 of the course studies.

- ``GradientNormMonitor``: each layer's gradient norm at every step. In a deep sigmoid network the
  norms shrink layer by layer from the output back to the input (vanishing gradients).
- ``dead_relu_fractions``: the fraction of ReLU units that output 0 for every sample of a batch.
  A dead unit passes no gradient back, so it never recovers.
- ``identical_rows`` and ``SymmetryMonitor``: rows of a weight matrix that are (and stay) equal.
  With zero initialization every hidden unit computes the same thing and gets the same gradient,
  so the rows never become different: the layer behaves like a single unit.
- ``NonFiniteWatch``: stops training at the first NaN or Inf in the loss or a gradient, naming the
  step and the parameter, instead of letting it spread silently into every weight.

The monitors are used on their own (call them after ``loss.backward()``) or given to the Runner,
``Runner(..., monitors=[...])``, which calls each one's ``after_backward(step, loss)`` after every
backward pass, before the optimizer step.
"""
from chainrule import nn
from chainrule.autograd.function import read_into_python
from chainrule.backend import xp
from chainrule.train.runner import evaluation


def layer_of(parameter_name):
    """The layer a parameter belongs to: ``'fc1.weight'`` -> ``'fc1'``, ``'0.bias'`` -> ``'0'``."""
    return parameter_name.rpartition(".")[0] or parameter_name


class GradientNormMonitor:
    """Records each layer's gradient norm at every backward pass.

    A layer's norm is the L2 norm of the gradients of all its parameters together:
    ``sqrt(sum over the layer's parameters of sum(grad ** 2))``. Layers are named as
    ``model.named_parameters()`` names them (``'0'``, ``'2'`` in a ``Sequential``; ``'fc1'`` for an
    attribute ``self.fc1``), in the model's order, from input to output::

        monitor = GradientNormMonitor(model)
        loss.backward()
        monitor.record()            # before optimizer.zero_grad()
        monitor.norms               # {'fc1': [0.012], 'fc2': [0.31]}
    """

    def __init__(self, model):
        self.model = model
        self.norms = {}
        self.steps = []

    def record(self, step=None):
        """Append the current gradient norm of each layer; returns ``{layer: norm}``.

        ``step`` labels the record (by default 1, 2, 3... per call). A layer whose parameters have
        no gradient at this step records nan, so that each layer's list stays in step with ``steps``.
        """
        squared_sums = {}
        for name, parameter in self.model.named_parameters():
            layer = layer_of(name)
            if parameter.grad is None:
                squared_sums.setdefault(layer, float("nan"))
                continue
            gradient = parameter.grad._array.astype(xp.float64)
            previous = squared_sums.get(layer, 0.0)
            squared_sums[layer] = (0.0 if previous != previous else previous) + float((gradient * gradient).sum())
        self.steps.append(len(self.steps) + 1 if step is None else step)
        current = {layer: float(xp.sqrt(total)) for layer, total in squared_sums.items()}
        for layer, norm in current.items():
            self.norms.setdefault(layer, []).append(norm)
        return current

    def after_backward(self, step, loss):
        self.record(step)

    def mean_norms(self):
        """``{layer: mean norm over the recorded steps}``, in the model's order."""
        return {layer: sum(values) / len(values) for layer, values in self.norms.items()}


def dead_relu_fractions(model, inputs, activation_types=None):
    """The fraction of dead units in each ReLU layer of ``model`` on the batch ``inputs``.

    A unit (one output feature of the activation) is dead on the batch when its output is 0 (not
    positive) for every sample: its gradient is 0 for all of them, so its incoming weights stop
    changing. The model runs once, in eval mode and without a graph; forward hooks on each
    ``nn.ReLU`` module (or each module of ``activation_types``) read the activations.

    Returns ``{layer_name: fraction}``, names as in ``model.named_modules()``. One activation
    module used after several layers (``self.relu`` applied twice) gives one entry per use:
    ``relu``, ``relu (use 2)``, ...
    """
    types = activation_types if activation_types is not None else (nn.ReLU,)
    fractions = {}

    def hook_for(name):
        uses = [0]

        def record_dead_fraction(module, args, output):
            uses[0] += 1
            read_into_python("dead_relu_fractions")
            values = output._array.reshape(output._array.shape[0], -1)
            fractions[name if uses[0] == 1 else f"{name} (use {uses[0]})"] = float((values <= 0).all(axis=0).mean())

        return record_dead_fraction

    handles = [
        module.register_forward_hook(hook_for(name))
        for name, module in model.named_modules()
        if isinstance(module, types)
    ]
    if not handles:
        names = ", ".join(kind.__name__ for kind in types)
        raise ValueError(
            f"dead_relu_fractions: {type(model).__name__} has no {names} module to watch; use "
            f"nn.ReLU() layers (a functional F.relu call inside forward cannot be hooked)"
        )
    try:
        with evaluation(model):
            model(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return fractions


def identical_rows(weight, rtol=1e-3, atol=1e-4):
    """Groups of row indices of the 2-D ``weight`` whose rows are equal up to float rounding.

    Rows ``i`` and ``j`` are equal when every element satisfies
    ``|w[i] - w[j]| <= atol + rtol * |w[j]|`` (``numpy.isclose``). The tolerance is loose on
    purpose: a matrix product may compute rows in different SIMD lanes, so rows that start equal
    drift apart by float32 rounding (about 1e-5 over a long training), while rows that were never
    alike differ by far more. Only groups of two or more rows
    are returned, each sorted, e.g. ``[[0, 1, 2, 3, 4]]`` for a hidden layer whose five units all
    have the same incoming weights.
    """
    if hasattr(weight, "_array"):
        read_into_python("identical_rows")
    rows = weight._array if hasattr(weight, "_array") else xp.asarray(weight)
    if rows.ndim != 2:
        raise ValueError(f"identical_rows expects a 2-D weight matrix, got shape {tuple(rows.shape)}")
    unassigned = list(range(rows.shape[0]))
    groups = []
    while unassigned:
        first = unassigned[0]
        matches = xp.isclose(rows[unassigned], rows[first], rtol=rtol, atol=atol).all(axis=1)
        group = [row for row, match in zip(unassigned, matches) if match]
        unassigned = [row for row in unassigned if row not in group]
        if len(group) > 1:
            groups.append(group)
    return groups


def symmetric_weights(model, rtol=1e-3, atol=1e-4):
    """``{parameter_name: groups of identical rows}`` for each 2-D weight of ``model`` that has some."""
    found = {}
    for name, parameter in model.named_parameters():
        if parameter.ndim == 2 and parameter.shape[0] > 1:
            groups = identical_rows(parameter, rtol, atol)
            if groups:
                found[name] = groups
    return found


class SymmetryMonitor:
    """Flags the rows of weight matrices that stay identical at every check.

    Each check (``check()``, or the Runner's call after every backward pass) looks for identical
    rows (as ``identical_rows`` compares them) and keeps only the groups that were identical at every earlier check too. After zero
    initialization ``flagged`` still lists every hidden layer at the end of training: the symmetry
    was never broken.
    """

    def __init__(self, model, rtol=1e-3, atol=1e-4):
        self.model = model
        self.rtol = rtol
        self.atol = atol
        self.flagged = None  # {parameter_name: groups}, None before the first check

    def check(self):
        """Check the weights now; returns ``flagged``, the groups identical at every check."""
        current = symmetric_weights(self.model, self.rtol, self.atol)
        if self.flagged is None:
            self.flagged = current
        else:
            self.flagged = {
                name: common
                for name, groups in self.flagged.items()
                if (common := _common_groups(groups, current.get(name, [])))
            }
        return self.flagged

    def after_backward(self, step, loss):
        self.check()


def _common_groups(old_groups, new_groups):
    """The groups of rows that are together in both groupings (two rows or more)."""
    common = []
    for old in old_groups:
        for new in new_groups:
            shared = sorted(set(old) & set(new))
            if len(shared) > 1:
                common.append(shared)
    return common


class NonFiniteError(RuntimeError):
    """Training met a NaN or Inf: ``step`` and ``name`` (``'loss'`` or a parameter) say where."""

    def __init__(self, message, step=None, name=None):
        super().__init__(message)
        self.step = step
        self.name = name


class NonFiniteWatch:
    """Raises ``NonFiniteError`` at the first NaN or Inf in the loss or in a parameter's gradient.

    A NaN spreads: one step later it is in every weight and the loss curve just stops. Stopping at
    once, with the step and the parameter named, shows where it started.
    """

    def __init__(self, model):
        self.model = model

    def check(self, loss, step=None):
        """Check ``loss`` (a number or a tensor) and every gradient of the model."""
        where = f"step {step}: " if step is not None else ""
        advice = (
            "lower the learning rate, clip the gradients (nn.utils.clip_grad_norm_), or look for "
            "NaN/Inf or huge values in the input data"
        )
        loss_value = float(loss.item() if hasattr(loss, "item") else loss)
        if not xp.isfinite(loss_value):
            raise NonFiniteError(f"{where}the loss is {loss_value}; {advice}", step, "loss")
        for name, parameter in self.model.named_parameters():
            if parameter.grad is None:
                continue
            read_into_python("NonFiniteWatch")
            finite = xp.isfinite(parameter.grad._array)
            if not finite.all():
                bad = parameter.grad._array[~finite]
                raise NonFiniteError(
                    f"{where}the gradient of {name} (shape {tuple(parameter.shape)}) has "
                    f"{int(xp.isnan(bad).sum())} NaN and {int(xp.isinf(bad).sum())} Inf values "
                    f"out of {finite.size}; {advice}",
                    step,
                    name,
                )

    def after_backward(self, step, loss):
        self.check(loss, step)
