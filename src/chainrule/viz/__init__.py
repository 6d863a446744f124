"""Seeing backprop: the graph, the chain rule step by step, gradient checks, the explorer page, plots.

- ``draw_graph(loss)``: the computation graph as a drawing (SVG drawn by chainrule itself, PNG with
  Graphviz's ``dot``, inline in Jupyter).
- ``trace_backward(loss)``: run backward and get a table of every step of the chain rule.
- ``check_gradients(fn, inputs, manual)``: compare a hand-derived gradient with autograd and with
  finite differences.
- ``explore(loss, "graph.html")``: one HTML page stepping through forward and backward.
- ``explore_network(model, x, target, "network.html")``: the layer view of an ``nn.Sequential``:
  neurons, weights, the delta rule layer by layer and the update, editable in the page.
- ``plot_losses``, ``plot_decision_boundary``, ``plot_activations``, ``plot_gradient_norms``:
  training figures (need matplotlib; loaded on first use).

Everything here needs NumPy only, except PNG drawings (Graphviz's ``dot``) and the plots
(matplotlib). Tensors are named after the caller's variables (``J``, ``u``) unless named otherwise.
"""
from chainrule.viz.check import GradientCheck, check_gradients
from chainrule.viz.explorer import explore
from chainrule.viz.graph import GraphDrawing, draw_graph
from chainrule.viz.network import explore_network
from chainrule.viz.trace import BackwardTrace, trace_backward

_PLOTS = ("plot_losses", "plot_decision_boundary", "plot_activations", "plot_gradient_norms", "plot_gradient_norm_comparison")

__all__ = [
    "BackwardTrace",
    "GradientCheck",
    "GraphDrawing",
    "check_gradients",
    "draw_graph",
    "explore",
    "explore_network",
    "trace_backward",
]  # the plot functions are left out so that ``import *`` needs no matplotlib


def __getattr__(name):
    """The plot functions, imported on first use so that ``import chainrule.viz`` needs no matplotlib."""
    if name in _PLOTS:
        from chainrule.viz import plots

        return getattr(plots, name)
    raise AttributeError(f"module 'chainrule.viz' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_PLOTS])
