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
``graph.erase_node``) and its module recompiled; ``Interpreter`` runs it node by node and
``passes.shape_prop.ShapeProp`` records each node's shape. Python control flow that depends on a
traced value (``if x.sum() > 0:``) cannot be recorded: TraceError (pass ``concrete_args`` to fix
such inputs). Libraries mark their own functions as single nodes with ``@wrap``.
"""
from chainrule.fx.graph import Graph
from chainrule.fx.graph_module import GraphModule
from chainrule.fx.interpreter import Interpreter, Transformer
from chainrule.fx.node import Node, map_arg
from chainrule.fx.proxy import Proxy
from chainrule.fx.tracer import Tracer, symbolic_trace, wrap, wrapped_functions  # noqa: F401

__all__ = ["Graph", "GraphModule", "Interpreter", "Node", "Proxy", "Tracer", "Transformer", "map_arg", "symbolic_trace", "wrap"]
