"""``chainrule.fx``, as ``torch.fx``: a module's computation captured as a graph of operations.

``symbolic_trace(model)`` runs ``forward`` once on stand-in values (Proxies) and records each
operation as a node: inputs (``placeholder``), parameters (``get_attr``), layers (``call_module``),
functions and operators (``call_function``), methods (``call_method``) and the result (``output``).
The GraphModule it returns runs the code generated from that graph::

    traced = chainrule.fx.symbolic_trace(model)
    print(traced.graph)      # the nodes, one per line
    print(traced.code)       # the same program as Python
    traced(x)                # computes what model(x) computes

A graph can be changed (``graph.inserting_after(node)``, ``node.replace_all_uses_with``,
``graph.erase_node``, ``replace_pattern(gm, pattern, replacement)`` for each place it computes
what ``pattern`` computes) and its module recompiled; ``Interpreter`` runs it node by node and
``passes.shape_prop.ShapeProp`` records each node's shape. Python control flow that depends on a
traced value (``if x.sum() > 0:``) cannot be recorded: TraceError (pass ``concrete_args`` to fix
such inputs). Libraries mark their own functions as single nodes with ``@wrap``.
"""
import sys as _sys

from chainrule.fx import tracer as _symbolic_trace
from chainrule.fx.graph import Graph
from chainrule.fx.graph_module import GraphModule
from chainrule.fx.interpreter import Interpreter, Transformer
from chainrule.fx.node import Node, has_side_effect, map_arg
from chainrule.fx.proxy import Proxy
from chainrule.fx.subgraph_rewriter import replace_pattern
from chainrule.fx.tracer import PH, Tracer, symbolic_trace, wrap, wrapped_functions  # noqa: F401

_sys.modules[f"{__name__}._symbolic_trace"] = _symbolic_trace  # PyTorch's path (generated code calls its wrap)

__all__ = ["Graph", "GraphModule", "Interpreter", "Node", "PH", "Proxy", "Tracer", "Transformer", "has_side_effect", "map_arg", "replace_pattern", "symbolic_trace", "wrap"]
