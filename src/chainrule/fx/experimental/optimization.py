"""``torch.fx.experimental.optimization``: rewrites of a traced model for inference.

``fuse(model)`` folds each batch norm that follows a convolution (or a Linear) into that layer's
weight and bias (``nn.utils.fusion``), so that an evaluation runs one layer where it ran two; the
result computes what the model in eval mode computes. ``remove_dropout(model)`` drops the Dropout
layers (identities in eval mode).
"""
import copy

from chainrule import nn
from chainrule.fx.graph_module import GraphModule
from chainrule.fx.interpreter import Transformer
from chainrule.fx.node import Node
from chainrule.fx.tracer import symbolic_trace
from chainrule.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

#: (layer, batch norm) pairs that fold into one layer.
FUSABLE = [(nn.Conv1d, nn.BatchNorm1d), (nn.Conv2d, nn.BatchNorm2d), (nn.Conv3d, nn.BatchNorm3d), (nn.Linear, nn.BatchNorm1d)]


def matches_module_pattern(pattern, node, modules):
    """Whether ``node`` calls a module of type ``pattern[1]`` on the output of a call of one of type ``pattern[0]``."""
    if not node.args:
        return False
    for expected, current in zip(pattern, (node.args[0], node)):
        if not isinstance(current, Node) or current.op != "call_module" or not isinstance(current.target, str):
            return False
        if type(modules.get(current.target)) is not expected:
            return False
    return True


def replace_node_module(node, modules, new_module):
    """Put ``new_module`` where the module ``node`` calls is (its path ``node.target``)."""
    parent, _, name = node.target.rpartition(".")
    modules[node.target] = new_module
    setattr(modules[parent], name, new_module)


def fuse(model, inplace=False, no_trace=False):
    """``model`` (traced unless it is a GraphModule and ``no_trace``) with each batch norm folded
    into the convolution or Linear before it, where that layer's output goes nowhere else and the
    batch norm keeps running statistics. A copy unless ``inplace``."""
    if not inplace:
        model = copy.deepcopy(model)
    traced = model if no_trace and isinstance(model, GraphModule) else symbolic_trace(model)
    modules = dict(traced.named_modules())
    graph = copy.deepcopy(traced.graph)
    for pattern in FUSABLE:
        for node in graph.nodes:
            if not matches_module_pattern(pattern, node, modules) or len(node.args[0].users) > 1:
                continue
            layer, norm = modules[node.args[0].target], modules[node.target]
            if not norm.track_running_stats:
                continue
            fused = fuse_linear_bn_eval(layer, norm) if pattern[0] is nn.Linear else fuse_conv_bn_eval(layer, norm)
            replace_node_module(node.args[0], modules, fused)
            node.replace_all_uses_with(node.args[0])
            graph.erase_node(node)
    return GraphModule(traced, graph)


def remove_dropout(model):
    """``model`` traced, without its Dropout layers (each call replaced by its input)."""

    class DropoutRemover(Transformer):
        def call_module(self, target, args, kwargs):
            if isinstance(self.submodules[target], nn.Dropout):
                return args[0]
            return super().call_module(target, args, kwargs)

    return DropoutRemover(symbolic_trace(model)).transform()
