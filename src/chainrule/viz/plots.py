"""Plots for the course: training curves, decision boundaries, activation functions, gradient norms.

They need matplotlib (``pip install 'chainrule[plot]'``), imported only when a plot is drawn, so
the rest of chainrule works without it. Each function returns the matplotlib ``Figure`` and, given
``path``, saves it there first (the suffix picks the format: ``.png``, ``.svg``, ``.pdf``). Without a
display (a server, CI) the non-interactive Agg backend is used, so plots can always be saved.
"""
import os
import sys

from chainrule import nn
from chainrule.autograd.grad_mode import enable_grad
from chainrule.backend import to_numpy, xp
from chainrule.creation import linspace, tensor
from chainrule.tensor import Tensor
from chainrule.train.metrics import predict_classes
from chainrule.train.runner import evaluation

MISSING_MATPLOTLIB = "plots need matplotlib: pip install 'chainrule[plot]'"


def _pyplot():
    """matplotlib.pyplot, imported now; the Agg backend when there is no display to show on."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(MISSING_MATPLOTLIB) from None
    no_display = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if no_display and "MPLBACKEND" not in os.environ and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot

    return matplotlib.pyplot


def _finish(figure, path):
    """Lay out ``figure``, save it to ``path`` when given, and return it."""
    figure.tight_layout()
    if path is not None:
        figure.savefig(os.fspath(path), dpi=120)
    return figure


def plot_losses(history, path=None):
    """The training loss over the steps and, when there were evaluations, the dev loss and score.

    ``history`` is a ``Runner`` (its ``train_step_losses``, ``dev_losses``, ``dev_scores``), or a
    plain list of training losses: numbers (one per step) or ``(step, loss)`` pairs. When the
    training loss spans more than three orders of magnitude the loss axis is logarithmic.
    """
    pyplot = _pyplot()
    if isinstance(history, (list, tuple)):
        train_losses, dev_losses, dev_scores, score_name = list(history), [], [], None
    else:
        train_losses, dev_losses, dev_scores = history.train_step_losses, history.dev_losses, history.dev_scores
        score_name = history.metric.name() if history.metric is not None else None
    train_steps, train_values = _steps_and_values(train_losses)
    columns = 2 if dev_scores else 1
    figure, axes = pyplot.subplots(1, columns, figsize=(5.5 * columns, 4), squeeze=False)
    loss_axes = axes[0, 0]
    loss_axes.plot(train_steps, train_values, color="tab:blue", linewidth=1, label="train loss")
    if dev_losses:
        dev_steps, dev_values = _steps_and_values(dev_losses)
        loss_axes.plot(dev_steps, dev_values, "o--", color="tab:red", markersize=3, label="dev loss")
    loss_axes.set(xlabel="step", ylabel="loss", title="Loss")
    if min(train_values) > 0 and max(train_values) > 1000 * min(train_values):
        loss_axes.set_yscale("log")  # a loss falling over orders of magnitude would hug the axis
    loss_axes.legend()
    if dev_scores:
        score_axes = axes[0, 1]
        score_axes.plot(dev_steps, dev_scores, "o-", color="tab:green", markersize=3, label=f"dev {score_name}")
        best = max(range(len(dev_scores)), key=dev_scores.__getitem__)
        score_axes.axhline(dev_scores[best], color="gray", linestyle=":", linewidth=1)
        score_axes.set(xlabel="step", ylabel=score_name, title=f"Dev {score_name} (best {dev_scores[best]:.3f})")
        score_axes.legend()
    return _finish(figure, path)


def _steps_and_values(losses):
    """``(steps, values)`` from ``[(step, loss)]`` pairs or from plain numbers (steps 1, 2, ...)."""
    if losses and isinstance(losses[0], (tuple, list)):
        return [step for step, _ in losses], [value for _, value in losses]
    return list(range(1, len(losses) + 1)), list(losses)


def plot_decision_boundary(model, X, y, path=None, is_logits=True, resolution=200, title="Decision boundary", which_points="points", class_names=None):
    """The regions a 2-D classifier assigns to each class, with the points ``X`` coloured by ``y``.

    The legend says which points are drawn (``which_points``: "test points") and names each class
    (``class_names``, by default "class 0", "class 1", ...); the shaded regions are the predictions.

    ``model`` is called on a grid of ``resolution x resolution`` points covering ``X`` (in eval
    mode, without a graph) and its outputs turned into classes as the metrics do: several columns
    by argmax, one column by a threshold (0 for logits, 0.5 for probabilities with
    ``is_logits=False``). ``X`` is (N, 2), ``y`` (N,) or (N, 1).
    """
    pyplot = _pyplot()
    points = to_numpy(X._array if isinstance(X, Tensor) else xp.asarray(X))
    labels = to_numpy(y._array if isinstance(y, Tensor) else xp.asarray(y)).reshape(-1)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D points X of shape (N, 2), got {tuple(points.shape)}")
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.1 * (high - low) + 1e-3
    grid_x, grid_y = xp.meshgrid(
        xp.linspace(low[0] - margin[0], high[0] + margin[0], resolution),
        xp.linspace(low[1] - margin[1], high[1] + margin[1], resolution),
    )
    grid = xp.stack([grid_x.reshape(-1), grid_y.reshape(-1)], axis=1).astype(points.dtype)
    with evaluation(model):
        outputs = model(tensor(grid))
    regions = to_numpy(predict_classes(outputs, is_logits)).reshape(grid_x.shape)
    figure, axes = pyplot.subplots(figsize=(5.5, 4.5))
    classes = int(max(regions.max(), labels.max())) + 1
    levels = to_numpy(xp.arange(classes + 1) - 0.5)
    axes.contourf(to_numpy(grid_x), to_numpy(grid_y), regions, levels=levels, cmap="coolwarm", alpha=0.3)
    colors = pyplot.get_cmap("coolwarm")
    for index in range(classes):
        chosen = labels == index
        name = class_names[index] if class_names is not None else f"class {index}"
        color = colors(index / max(classes - 1, 1))
        axes.scatter(points[chosen, 0], points[chosen, 1], color=color, s=12, edgecolors="k", linewidths=0.3, label=f"{name} ({int(chosen.sum())})")
    axes.legend(title=f"{which_points}, by true class;\nshading: predicted class", fontsize="small", title_fontsize="small", loc="best")
    axes.set(xlabel="$x_1$", ylabel="$x_2$", title=title)
    return _finish(figure, path)


def plot_activations(names=("sigmoid", "tanh", "relu", "leaky_relu"), path=None, x_range=(-5.0, 5.0)):
    """Activation functions (solid) and their derivatives (dashed), one panel each.

    ``names`` are functions of ``chainrule.nn.functional`` (``'sigmoid'``, ``'relu'``...) or any
    callables. The derivatives are not written out: autograd computes them, as
    ``d sum(f(x)) / d x = f'(x)`` for an elementwise ``f``.
    """
    pyplot = _pyplot()
    functions = [_activation(name) for name in names]
    figure, axes = pyplot.subplots(1, len(functions), figsize=(3.2 * len(functions), 3), squeeze=False)
    for panel, (label, function) in zip(axes[0], functions):
        with enable_grad():
            x = linspace(x_range[0], x_range[1], 401, requires_grad=True)
            y = function(x)
            y.sum().backward()
        panel.plot(to_numpy(x._array), to_numpy(y._array), label=label)
        panel.plot(to_numpy(x._array), to_numpy(x.grad._array), "--", label="derivative")
        panel.axhline(0, color="gray", linewidth=0.5)
        panel.axvline(0, color="gray", linewidth=0.5)
        panel.set(title=label, xlabel="x")
        panel.legend(fontsize="small")
    return _finish(figure, path)


def _activation(name):
    """``(label, function)`` for an activation given by name or as a callable."""
    if callable(name):
        return getattr(name, "__name__", type(name).__name__), name
    function = getattr(nn.functional, name, None)
    if function is None:
        raise ValueError(
            f"plot_activations: chainrule.nn.functional has no activation {name!r}; give a name such "
            f"as 'sigmoid', 'tanh', 'relu', 'leaky_relu', or a function"
        )
    return name, function


def plot_gradient_norms(norms, path=None, title="Gradient norm per layer"):
    """Each layer's gradient norm over the steps (left) and its mean over training (right).

    ``norms`` is a ``GradientNormMonitor`` or a dict ``{layer_name: [norm per step]}``. The scale is
    logarithmic, so a vanishing gradient shows as layers spaced far apart.
    """
    pyplot = _pyplot()
    layers = norms.norms if hasattr(norms, "norms") else norms
    if not layers:
        raise ValueError("plot_gradient_norms: no norms recorded (call monitor.record() after backward)")
    figure, (curves, means) = pyplot.subplots(1, 2, figsize=(11, 4))
    for number, (layer, values) in enumerate(layers.items(), start=1):
        curves.plot(range(1, len(values) + 1), [max(value, 1e-30) for value in values], label=f"{number} ({layer})")
    curves.set(xlabel="step", ylabel="gradient norm", yscale="log", title=title)
    curves.legend(title="layer (module)", fontsize="small")
    averages = [max(sum(values) / len(values), 1e-30) for values in layers.values()]
    numbers = range(1, len(averages) + 1)
    means.bar(numbers, averages, color="tab:purple")
    means.set_xticks(numbers, [str(number) for number in numbers])
    means.set(xlabel="layer, 1 = next to the input", ylabel="mean gradient norm", yscale="log", title="Mean over training")
    return _finish(figure, path)


def plot_gradient_norm_comparison(mean_norms, path=None, title="Mean gradient norm per layer"):
    """Several networks' mean gradient norm per layer on one shared logarithmic axis.

    ``mean_norms`` maps a network's name to ``{layer: mean norm}`` (``GradientNormMonitor.mean_norms()``),
    layers from input to output; they are numbered 1..L, so that networks compare layer by layer.
    """
    pyplot = _pyplot()
    if not mean_norms:
        raise ValueError("plot_gradient_norm_comparison: give at least one network's mean norms")
    figure, axes = pyplot.subplots(figsize=(6.5, 4.2))
    for name, norms in mean_norms.items():
        values = [max(value, 1e-30) for value in norms.values()]
        axes.plot(range(1, len(values) + 1), values, marker="o", label=name)
    count = max(len(norms) for norms in mean_norms.values())
    axes.set_xticks(range(1, count + 1))
    axes.set(xlabel="layer, 1 = next to the input", ylabel="mean gradient norm (log scale)", yscale="log", title=title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    return _finish(figure, path)
